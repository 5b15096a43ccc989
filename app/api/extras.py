"""Events, tags and custom attributes of the customers API (``/v1``)."""

from __future__ import annotations

from flask.views import MethodView

from app.api import context as api_context
from app.api.parsing import Blueprint
from app.api.responses import AUTHENTICATED, WITH_BODY, error_responses
from app.api.schemas.extras import (
    CustomAttributeCreateSchema,
    CustomAttributePageSchema,
    CustomAttributeSchema,
    EventCreateSchema,
    EventPageSchema,
    EventSchema,
    MergePageSchema,
    PageArgsSchema,
    TagPageSchema,
)
from app.services import context, extras

blp = Blueprint(
    "customer-extras",
    __name__,
    url_prefix="/v1",
    description="Events, tags and custom attributes around customers.",
)


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(
        EventCreateSchema(),
        example={"name": "Button Click", "data": {"button": "buy"}, "customer": 542335},
    )
    @blp.response(200, EventSchema)
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY, 404)
    def post(self, data: dict):
        """Add a customer event

        Events belong to the person and are listed newest first under the customer.
        """
        ctx = api_context.context()
        return context.write(ctx, extras.add_event, data["customer"], data["name"], data["data"])


@blp.route("/customers/<int:customer_id>/events")
class CustomerEvents(MethodView):
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, EventPageSchema)
    @error_responses(blp, *AUTHENTICATED, 404, 422)
    def get(self, args: dict, customer_id: int):
        """List a customer's events (ours), newest first"""
        ctx = api_context.context()
        rows, cursor = context.read(
            ctx, extras.list_events, customer_id, args.get("after"), args["limit"]
        )
        return {"data": rows, "nextCursor": cursor}


@blp.route("/customers/<int:customer_id>/merges")
class CustomerMerges(MethodView):
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, MergePageSchema)
    @error_responses(blp, *AUTHENTICATED, 404, 422)
    def get(self, args: dict, customer_id: int):
        """List a customer's merge history (ours), newest first

        Each merge names the survivor, the merged profile, the rule that fired (`external_id`,
        `email`, `phone_name`, `manual`), the similarity score where one applies, the
        identifier that matched, the request that caused it, and a snapshot of the merged
        profile as it was. A merged-away id shows its survivor's history.
        """
        ctx = api_context.context()
        rows, cursor = context.read(
            ctx, extras.list_merges, customer_id, args.get("after"), args["limit"]
        )
        return {"data": rows, "nextCursor": cursor}


@blp.route("/tags")
class Tags(MethodView):
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, TagPageSchema)
    @error_responses(blp, *AUTHENTICATED, 422)
    def get(self, args: dict):
        """List the account's tags with their colors (ours)"""
        ctx = api_context.context()
        rows, cursor = context.read(ctx, extras.list_tags, args.get("after"), args["limit"])
        return {"data": rows, "nextCursor": cursor}


@blp.route("/custom-attributes")
class CustomAttributes(MethodView):
    @blp.arguments(CustomAttributeCreateSchema(), example={"name": "plan", "type": "string"})
    @blp.response(201, CustomAttributeSchema)
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY, 409)
    def post(self, data: dict):
        """Define a custom attribute (ours)

        Types: `string` and `text` (at most 1,024 characters), `number`, `boolean`, `date`
        (returned as an integer UNIX timestamp), `url`. 409 `already_exists` for a taken name.
        """
        ctx = api_context.context()
        return context.write(ctx, extras.define_attribute, data["name"], data["type"]), 201

    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, CustomAttributePageSchema)
    @error_responses(blp, *AUTHENTICATED, 422)
    def get(self, args: dict):
        """List custom attributes (ours)"""
        ctx = api_context.context()
        rows, cursor = context.read(ctx, extras.list_attributes, args.get("after"), args["limit"])
        return {"data": rows, "nextCursor": cursor}
