"""HTTP layer: blueprints register here, after ``Api.init_app`` (flask-smorest requires it)."""

from __future__ import annotations

from flask import Flask

import flask_smorest

from app.api import (
    contacts,
    customers,
    docs,
    duplicates,
    extras,
    health,
    identity_stats,
    identity_tools,
)
from app.api.schemas.identity_tools import MergePreviewSchema

# The authenticated APIs. A blueprint listed here is registered, requires an API key, and
# shares its group's rate limit (setting ``RATE_LIMIT_<GROUP>_API``, scope = group name).
API_GROUPS: dict[str, list[flask_smorest.Blueprint]] = {
    "partner": [contacts.blp],
    "customers": [
        customers.blp,
        extras.blp,
        identity_tools.blp,
        duplicates.blp,
        identity_stats.blp,
    ],
}


def register_blueprints(app: Flask, api: flask_smorest.Api) -> None:
    api.register_blueprint(health.blp)
    # Answered (with ?dryRun=true) outside the route's declared schema: documented here.
    api.spec.components.schema("MergePreview", schema=MergePreviewSchema)
    for blueprints in API_GROUPS.values():
        for blueprint in blueprints:
            api.register_blueprint(blueprint)
    docs.init_app(app, api)
