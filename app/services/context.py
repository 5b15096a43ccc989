"""What a use case knows besides its connection: whose data, which request, which settings.

Every use case takes ``(conn, ctx, ...)``: the API builds the context from the request, the CLI
and background jobs from their arguments, tests directly. Nothing here reads Flask.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from app.identity import Placeholders

if TYPE_CHECKING:  # the runner is optional: a caller holding a connection needs none
    from app.db import Database

T = TypeVar("T")


@functools.cache
def _placeholders(extra_file: str | None) -> Placeholders:
    """The built-in placeholder list plus the deployment's own file, read once per process."""
    builtin = resources.files("app.identity").joinpath("placeholders.json").read_text("utf-8")
    mappings = [json.loads(builtin)]
    if extra_file:
        mappings.append(json.loads(Path(extra_file).read_text("utf-8")))
    return Placeholders.from_mappings(mappings)


@dataclass(frozen=True)
class Settings:
    """The deployment's identity and data rules, read once from the configuration."""

    threshold: float = 80.0
    shared_limit: int = 5
    region: str = "US"
    placeholders: Placeholders = field(default_factory=lambda: _placeholders(None))
    infer_attributes: bool = True  # CUSTOM_ATTRIBUTES=infer

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            threshold=float(config["NAME_MATCH_THRESHOLD"]),
            shared_limit=int(config["PHONE_SHARED_LIMIT"]),
            region=config["DEFAULT_PHONE_REGION"],
            placeholders=_placeholders(config.get("PLACEHOLDERS_FILE")),
            infer_attributes=config["CUSTOM_ATTRIBUTES"] == "infer",
        )


@dataclass(frozen=True)
class Context:
    """One caller's view: the account every statement is scoped to, the request id recorded
    with merges, the settings, and (optionally) the database that runs its transactions."""

    account_id: int
    settings: Settings = field(default_factory=Settings)
    request_id: str | None = None
    database: Database | None = None


def write(ctx: Context, use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``use_case(conn, ctx, ...)`` in a transaction of ``ctx.database``, with its retries."""
    return _database(ctx).transaction(
        lambda conn: use_case(conn, ctx, *args, **kwargs), ctx.request_id
    )


def read(ctx: Context, use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``use_case(conn, ctx, ...)`` on a short autocommit checkout of ``ctx.database``."""
    return _database(ctx).read(lambda conn: use_case(conn, ctx, *args, **kwargs), ctx.request_id)


def _database(ctx: Context) -> Database:
    if ctx.database is None:
        raise RuntimeError("this context has no database: call the use case with a connection")
    return ctx.database
