"""Liveness and readiness probes; no authentication."""

from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView

import marshmallow as ma

from app import errors
from app.api.parsing import Blueprint
from app.api.responses import error_responses
from app.db import get_db
from app.services import health

blp = Blueprint("health", __name__, description="Probes for load balancers and orchestrators.")


class StatusSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})


@blp.route("/healthz")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, StatusSchema)
    def get(self):
        """Liveness: the process is up (does not touch the database)"""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.doc(security=[])
    @blp.response(200, StatusSchema)
    @error_responses(blp, 503)
    def get(self):
        """Readiness: the database answers and every migration is applied"""
        pending = health.readiness(get_db(), g.get("request_id"))
        if pending:
            raise errors.ServiceUnavailable(
                f"{len(pending)} migration(s) not applied yet.",
                headers={"Retry-After": str(current_app.config["RETRY_AFTER_SECONDS"])},
            )
        return {"status": "ready"}
