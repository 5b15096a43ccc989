"""Customers API: ``/v1/customers`` (mimics HelpCrunch REST API v1)."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView

from app.api import context as api_context
from app.api.parsing import Blueprint
from app.api.responses import AUTHENTICATED, WITH_BODY, error_responses
from app.api.schemas.customer_queries import (
    CustomerListArgsSchema,
    CustomerPageSchema,
    CustomerSearchSchema,
)
from app.api.schemas.customers import (
    CustomerBatchItemSchema,
    CustomerSchema,
    CustomerWriteSchema,
    TagsSchema,
    UntagSchema,
)
from app.api.schemas.examples import BATCH_EXAMPLE, CREATE_EXAMPLE, CUSTOMER_EXAMPLE
from app.services import context, customer_queries, customers

RESOLVED = (
    "The userId or email already belonged to a customer: the request resolved to that person, "
    "who was updated (only added to)."
)

blp = Blueprint(
    "customers",
    __name__,
    url_prefix="/v1/customers",
    description="HelpCrunch-compatible customers: one profile per person, shared with the "
    "partner contacts API.",
)


def _update_one(data: dict, customer_id: int):
    prepared = customers.prepare_customer(api_context.settings(), data, named=customer_id)
    return context.write(api_context.context(), customers.update_customers, [prepared])[0]


def _page(found: tuple) -> dict:
    data, total, next_cursor = found
    return {"data": data, "total": total, "nextCursor": next_cursor}


@blp.route("")
class Customers(MethodView):
    @blp.arguments(CustomerListArgsSchema(), location="query")
    @blp.response(200, CustomerPageSchema)
    @error_responses(blp, *AUTHENTICATED, 422)
    def get(self, args: dict):
        """List customers

        `sort` by `customers.firstSeen` or `customers.lastSeen` (nulls last; default: id),
        `order` `asc`/`desc`, `limit` 1..100 (default 20), `offset`. Ours in addition: exact
        filters `email`, `phone`, `userId`, `tag`, and keyset pagination with `after` (the
        `nextCursor` of the previous page) for walking large accounts.
        """
        return _page(context.read(api_context.context(), customer_queries.find, **args))

    @blp.arguments(CustomerWriteSchema(), example=CREATE_EXAMPLE, required=False)
    @blp.response(201, CustomerSchema, description="A new customer was created.",
                  example=CUSTOMER_EXAMPLE)  # fmt: skip
    @blp.alt_response(200, schema=CustomerSchema, success=True, description=RESOLVED)
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY, 409)
    def post(self, data: dict):
        """Create a customer

        No field is required. If `userId`, `email`, or `phone` with a similar `name` already
        belongs to a customer, the request resolves to that person (200): values are set, tags
        are added, but nothing is cleared and `unsubscribed`/`blocked` are never turned off.
        When the identifiers name several customers, they are merged first.
        """
        prepared = customers.prepare_customer(api_context.settings(), data)
        customer, created = context.write(
            api_context.context(), customers.create_customer, prepared
        )
        return (customer, 201) if created else (customer, 200)


@blp.route("/search")
class CustomersSearch(MethodView):
    @blp.arguments(
        CustomerSearchSchema(),
        required=False,
        example={
            "filter": [{"field": "customers.email", "operator": "~", "value": "gmail"}],
            "comparison": "AND",
            "limit": 10,
            "offset": 0,
            "sort": "customers.lastSeen",
            "order": "desc",
        },
    )
    @blp.response(200, CustomerPageSchema)
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY)
    def post(self, body: dict):
        """Search customers

        `filter` is a list of `{field, operator, value}` combined with `comparison` (`AND`
        default, or `OR`). Operators: `=`, `!=`, `>`, `<`, `>=`, `<=` (ids and dates), `~`
        (contains, case-insensitive), `!~` (does not contain). `customers.tagsData` takes a list
        of `{name}`, all of which must be present.
        """
        return _page(context.read(api_context.context(), customer_queries.find, **body))


@blp.route("/batch")
class CustomersBatch(MethodView):
    @blp.arguments(CustomerBatchItemSchema(many=True), example=BATCH_EXAMPLE)
    @blp.response(200, CustomerSchema(many=True), example=[CUSTOMER_EXAMPLE])
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY, 404, 409)
    def put(self, items: list[dict]):
        """Update up to 10 customers at once

        A JSON array of 1 to 10 items, each with `customer` (the id) and any writable field.
        Fields left out stay the same, `null` clears. All or nothing: any invalid item is a 422
        naming it (`[i].field`), any unknown id a 404 naming it, and nothing is written. The
        answer is the updated customers, in request order.
        """
        prepared = [
            customers.prepare_customer(
                api_context.settings(), item, named=item["customer"], prefix=f"[{i}]."
            )
            for i, item in enumerate(items)
        ]
        return context.write(api_context.context(), customers.update_customers, prepared)


@blp.route("/<int:customer_id>")
class CustomerById(MethodView):
    @blp.response(200, CustomerSchema, example=CUSTOMER_EXAMPLE)
    @error_responses(blp, *AUTHENTICATED, 404)
    def get(self, customer_id: int):
        """Get a customer"""
        return context.read(api_context.context(), customers.get_customer, customer_id)

    @blp.arguments(CustomerWriteSchema(), example=CREATE_EXAMPLE, required=False)
    @blp.response(200, CustomerSchema, example=CUSTOMER_EXAMPLE)
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY, 404, 409)
    def put(self, data: dict, customer_id: int):
        """Update a customer

        Same as PATCH: fields left out keep their value, `null` clears, a value replaces (real
        clients send partial PUT bodies).
        """
        return _update_one(data, customer_id)

    @blp.arguments(CustomerWriteSchema(), example=CREATE_EXAMPLE, required=False)
    @blp.response(200, CustomerSchema, example=CUSTOMER_EXAMPLE)
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY, 404, 409)
    def patch(self, data: dict, customer_id: int):
        """Update a customer (partial)

        Fields left out keep their value, `null` clears, a value replaces.
        """
        return _update_one(data, customer_id)

    @blp.response(200, description='The JSON string `"Ok"`.', example="Ok")
    @error_responses(blp, *AUTHENTICATED, 404)
    def delete(self, customer_id: int):
        """Erase a customer

        Deletes the person's data, identifiers, tags and events in one transaction (right to
        erasure). The id then answers 404; a later write with the same email creates a new
        customer. Answers `"Ok"`, as the mimicked API does.
        """
        context.write(api_context.context(), customers.delete_customer, customer_id)
        return jsonify("Ok")


@blp.route("/<int:customer_id>/tags")
class CustomerTags(MethodView):
    @blp.arguments(
        TagsSchema(), example={"tags": [{"name": "Lead", "color": "#ccc"}, {"name": "vip"}]}
    )
    @blp.response(200, CustomerSchema, example=CUSTOMER_EXAMPLE)
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY, 404)
    def put(self, data: dict, customer_id: int):
        """Tag a customer

        Adds the tags and keeps the others. Unknown tags are created (default color
        `#c377e0`); a color sent for an existing tag recolors it.
        """
        return context.write(
            api_context.context(), customers.tag_customer, customer_id, data["tags"]
        )

    @blp.arguments(UntagSchema(), example={"tags": [{"name": "Lead"}]})
    @blp.response(200, CustomerSchema, example=CUSTOMER_EXAMPLE)
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY, 404)
    def delete(self, data: dict, customer_id: int):
        """Untag a customer

        A DELETE with a JSON body naming the tags to remove (case-insensitive).
        """
        names = [tag["name"] for tag in data["tags"]]
        return context.write(api_context.context(), customers.untag_customer, customer_id, names)
