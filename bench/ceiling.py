"""The service with its use cases answered from memory: the most any database design could give.

``python -m bench.run --targets service,ceiling,floor`` serves this beside the service and the
floor, under the same gunicorn settings. Every request goes through everything the service
does over HTTP — the WSGI middlewares, authentication (its key cache), rate limiting,
webargs and marshmallow validation, preparing the write (identifiers normalized), the response
dump, the log line and the metrics — but ``app.services.context.write`` and ``read`` run each
use case for real only the first time it is called in a worker and answer every later call
with that first result. No write path, no lookup and no read-back, in Python or in
PostgreSQL: what the service would serve if they cost nothing. A measuring instrument for
`make bench`, never deployed: its answers are not the database's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import app.api.contacts as contact_routes
from app import create_app
from app.services import context as use_cases


def _remembered(run: Callable[..., Any]) -> Callable[..., Any]:
    answers: dict[Callable[..., Any], Any] = {}

    def call(ctx: use_cases.Context, use_case: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        if use_case not in answers:
            answers[use_case] = run(ctx, use_case, *args, **kw)
        return answers[use_case]

    return call


# The routes look these up at call time: ``context.write`` in most, ``write`` imported by name
# in the partner contacts' module.
use_cases.write = contact_routes.write = _remembered(use_cases.write)
use_cases.read = contact_routes.read = _remembered(use_cases.read)

app = create_app()
