"""The account's identity health (ours): ``GET /v1/identity/stats``."""

from __future__ import annotations

from flask.views import MethodView

from app.api import context as api_context
from app.api.parsing import Blueprint
from app.api.responses import AUTHENTICATED, error_responses
from app.api.schemas.identity_tools import IdentityStatsSchema, StatsArgsSchema
from app.services import context, identity_report

blp = Blueprint(
    "identity-stats",
    __name__,
    url_prefix="/v1/identity",
    description="The account's identity health: people, merges by rule, what the rules left.",
)


@blp.route("/stats")
class IdentityStats(MethodView):
    @blp.arguments(StatsArgsSchema(), location="query")
    @blp.response(200, IdentityStatsSchema)
    @error_responses(blp, *AUTHENTICATED, 422)
    def get(self, args: dict):
        """The account's identity figures (ours)

        Live profiles and merged-away ids; merges by rule, all time and per day (UTC) over the
        last `days` days, with how many were undone; phones several live profiles hold (the
        rules left those apart: the strongest duplicate suggestions) and those held by more
        than `PHONE_SHARED_LIMIT`; placeholder values stored; pairs known to be two people.
        The same figures as `flask identity report`.
        """
        ctx = api_context.context()
        return context.read(ctx, identity_report.identity_stats, args["days"])
