"""A request id on every request: taken from the gateway's ``X-Request-Id`` or generated.

It is echoed in the response and attached to log lines, so a client's report of a failed
call can be found in the logs.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

HEADER = "X-Request-Id"
PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"  # a gateway's id is kept when it matches (and in the spec)
_ACCEPTABLE = re.compile(PATTERN)


def _assign() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if _ACCEPTABLE.match(given) else uuid.uuid4().hex


def _echo(response: Response) -> Response:
    if "request_id" in g:
        response.headers[HEADER] = g.request_id
    return response


def init_app(app: Flask) -> None:
    app.before_request(_assign)
    app.after_request(_echo)
