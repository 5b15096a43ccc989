"""Contact ingestion service.

``create_app`` is imported lazily so that importing a sub-package (``app.identity``, the pure
identity core) does not drag Flask or psycopg in with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory (``flask --app app``, ``gunicorn 'app:create_app()'``)."""
    from app.factory import create_app as factory

    return factory(test_config)
