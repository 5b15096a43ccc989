"""The request's ``Context`` for the use cases: the caller's account, the request id, the
app's settings and database. Built here, in the HTTP layer, so services never read Flask."""

from __future__ import annotations

from flask import current_app, g

from app.db import get_db
from app.services.context import Context, Settings


def settings() -> Settings:
    """The app's settings, parsed once per app."""
    extensions = current_app.extensions
    if "settings" not in extensions:
        extensions["settings"] = Settings.from_config(current_app.config)
    return extensions["settings"]


def context() -> Context:
    """The context of the authenticated request being served."""
    return Context(
        account_id=g.account.id,
        settings=settings(),
        request_id=g.get("request_id"),
        database=get_db(),
    )
