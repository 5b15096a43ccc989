"""Duplicate suggestions of the customers API (ours): likely duplicates the rules did not
merge, for the caller to merge (or not) with ``POST /v1/customers/{id}/merge``."""

from __future__ import annotations

from flask.views import MethodView

from app.api import context as api_context
from app.api.parsing import Blueprint
from app.api.responses import AUTHENTICATED, error_responses
from app.api.schemas.duplicates import DuplicateArgsSchema, DuplicatePageSchema
from app.services import context, suggestions

blp = Blueprint(
    "duplicates",
    __name__,
    url_prefix="/v1/customers",
    description="Duplicate suggestions: customers that are likely the same person.",
)


@blp.route("/<int:customer_id>/duplicates")
class CustomerDuplicates(MethodView):
    @blp.arguments(DuplicateArgsSchema(), location="query")
    @blp.response(200, DuplicatePageSchema)
    @error_responses(blp, *AUTHENTICATED, 404, 422)
    def get(self, args: dict, customer_id: int):
        """List likely duplicates of a customer (ours), best first

        Customers the automatic rules did not merge but that are likely the same person: the
        same phone with a close name (`phone_name_close`) or no name (`phone_no_name`); an
        email one or two edits away with the same name (`email_typo`) or on a known
        misspelling of the domain (`email_domain_typo`, e.g. `gmial.com`); the same name with
        a phone one digit away (`phone_one_digit`), the same company (`name_company`) or city
        (`name_city`); the same name alone (`name`, in any order, nicknames and initials
        allowed), scored lower the more customers share it. `matched` lists the values that
        matched. Nothing is merged: merge with `POST /v1/customers/{id}/merge`. A merged-away
        id shows its survivor's suggestions; merged-away customers are never suggested.
        """
        ctx = api_context.context()
        data, cursor = context.read(
            ctx, suggestions.find_duplicates, customer_id, args["limit"], args.get("after")
        )
        return {"data": data, "nextCursor": cursor}
