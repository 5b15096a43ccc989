"""Identity tools of the customers API (ours): merge customers (with a preview), unmerge them,
and the pairs known to be two people."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView

from app.api import context as api_context
from app.api.parsing import Blueprint
from app.api.responses import AUTHENTICATED, WITH_BODY, error_responses
from app.api.schemas.customers import CustomerSchema
from app.api.schemas.extras import PageArgsSchema
from app.api.schemas.identity_tools import (
    API_NAMES,
    DistinctPageSchema,
    MergeArgsSchema,
    MergePreviewSchema,
    MergeRequestSchema,
    UnmergedSchema,
    UnmergeRequestSchema,
)
from app.services import context, distinct, identity_tools, unmerges

blp = Blueprint(
    "identity-tools",
    __name__,
    url_prefix="/v1/customers",
    description="Identity tools: merge customers the rules did not merge (with a preview), "
    "undo merges, and the customers known to be two people.",
)

_PREVIEW = MergePreviewSchema()
# The answer is one of two schemas (declared with oneOf below): each dumped here.
_CUSTOMER = CustomerSchema()
MERGED = (
    "The survivor after the merge (a `Customer`). With `dryRun=true`, a `MergePreview` "
    "instead: nothing is written."
)


def _preview_body(preview: identity_tools.MergePreview) -> dict:
    """The preview in the API's names: fields by their customer-object keys."""
    return _PREVIEW.dump(
        {
            "customer": preview.customer,
            "survivor": preview.survivor,
            "merged": preview.merged,
            "field_sources": {
                API_NAMES.get(name, name): source for name, source in preview.field_sources.items()
            },
            "custom_data_sources": preview.custom_data_sources,
            "moves": preview.moves,
            "rules": [
                {
                    "customer": pid,
                    "rule": None if why.rule is None else str(why.rule),
                    "score": why.score,
                    "reason": why.reason,
                }
                for pid, why in preview.explanations.items()
            ],
        }
    )


@blp.route("/<int:customer_id>/merge")
class CustomerMerge(MethodView):
    @blp.arguments(MergeArgsSchema(), location="query")
    @blp.arguments(MergeRequestSchema(), example={"customers": [542336, 542337]})
    @blp.response(200, description=MERGED)
    @blp.doc(responses={"200": {"description": MERGED, "content": {"application/json": {
        "schema": {"oneOf": [{"$ref": "#/components/schemas/Customer"},
                             {"$ref": "#/components/schemas/MergePreview"}]}}}}})  # fmt: skip
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY, 404, 409)
    def post(self, args: dict, data: dict, customer_id: int):
        """Merge customers into this one (ours)

        The listed customers become this one, which you pick as the survivor: their
        identifiers, tags, custom data and events move to it, its non-empty values win and
        empty ones are filled from the others (as in automatic merges), and the merge is
        recorded with rule `manual`. Synchronous. 404 for ids your account does not have,
        422 for an empty list, more than 10 ids, or a customer that already is this one.
        With `dryRun=true` nothing is written and the answer is a `MergePreview`: the
        customer the merge would leave, which customer each field and customData property
        comes from, what moves from each merged customer, and what the automatic rules say
        about each pair (the rule and score that would have merged them, or why not).
        """
        ctx = api_context.context()
        if args["dry_run"]:
            preview = context.write(
                ctx, identity_tools.preview_merge, customer_id, data["customers"]
            )
            return jsonify(_preview_body(preview))
        merged = context.write(ctx, identity_tools.merge_customers, customer_id, data["customers"])
        return _CUSTOMER.dump(merged)


@blp.route("/<int:customer_id>/unmerge")
class CustomerUnmerge(MethodView):
    @blp.arguments(UnmergeRequestSchema(), example={"customer": 542337})
    @blp.response(200, UnmergedSchema)
    @error_responses(blp, *AUTHENTICATED, *WITH_BODY, 404, 409)
    def post(self, data: dict, customer_id: int):
        """Undo a merge (ours)

        `customer` (merged into this one, automatically or by hand) lives again as its
        snapshot shows it: its own id and contact UUID, identifiers, tags, custom data and
        events. This customer gives back the values it received from it that nothing changed
        since. The pair is remembered as two people: the automatic rules never merge them
        again, and a write that would give one an email or external id of the other is a
        `409 distinct_profiles` (see `GET /v1/customers/{id}/distinct`). Merges are undone
        last first: `409 unmerge_blocked` names a later merge involving this customer that
        must be undone before. 422 when `customer` is not merged into this one.
        """
        ctx = api_context.context()
        return context.write(ctx, unmerges.unmerge_customer, customer_id, data["customer"])


@blp.route("/<int:customer_id>/distinct")
class CustomerDistinct(MethodView):
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, DistinctPageSchema)
    @error_responses(blp, *AUTHENTICATED, 404, 422)
    def get(self, args: dict, customer_id: int):
        """List the customers known to be other people than this one (ours)

        Pairs an unmerge separated, newest first. The automatic rules never merge them; a
        manual merge still can.
        """
        ctx = api_context.context()
        rows, cursor = context.read(
            ctx, distinct.list_distinct, customer_id, args.get("after"), args["limit"]
        )
        return {"data": rows, "nextCursor": cursor}


@blp.route("/<int:customer_id>/distinct/<int:other_id>")
class CustomerDistinctPair(MethodView):
    @blp.response(204)
    @error_responses(blp, *AUTHENTICATED, 404)
    def delete(self, customer_id: int, other_id: int):
        """Forget that two customers are two people (ours)

        The automatic rules may merge them again from the next write on. 404 when the pair is
        not known.
        """
        ctx = api_context.context()
        context.write(ctx, distinct.forget_distinct, customer_id, other_id)
        return None
