"""Identity tools of the customers API (ours): merge customers, with a preview."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView

from app.api import context as api_context
from app.api.parsing import Blueprint
from app.api.responses import AUTHENTICATED, WITH_BODY, error_responses
from app.api.schemas.customers import CustomerSchema
from app.api.schemas.identity_tools import (
    API_NAMES,
    MergeArgsSchema,
    MergePreviewSchema,
    MergeRequestSchema,
)
from app.services import context, identity_tools

blp = Blueprint(
    "identity-tools",
    __name__,
    url_prefix="/v1/customers",
    description="Identity tools: merge customers the rules did not merge, with a preview.",
)

_PREVIEW = MergePreviewSchema()


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
    @blp.arguments(MergeArgsSchema, location="query")
    @blp.arguments(MergeRequestSchema, example={"customers": [542336, 542337]})
    @blp.response(
        200,
        CustomerSchema,
        description="The survivor after the merge. With `dryRun=true`, a preview instead "
        "(schema `MergePreview`): nothing is written.",
    )
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
        return context.write(ctx, identity_tools.merge_customers, customer_id, data["customers"])
