"""Request bodies: read once, bounded in size and in time, never while a connection is held.

``read(request)`` is the only place a body is read (every JSON body goes through the parser's
``_raw_load_json``). More than ``MAX_BODY_BYTES`` is a 413 whether or not the client sent a
``Content-Length``: werkzeug's own limit on a server-terminated (chunked) stream stops reading
at the limit and hands back the first bytes as if they were the whole body.

A client that stops sending gets a 408 after ``BODY_READ_TIMEOUT_SECONDS``: ``init_app`` puts
that read timeout on the request's socket at the start of every request (gunicorn's gthread
workers make the socket blocking again, without a timeout, for each request; the dev server
sets the same timeout in its request handler). gunicorn's worker timeout does not bound a body
read that waits on the socket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Request

from app import errors

# Where the body read for a request is kept, so reading it twice costs nothing.
_CACHE_KEY = "app.body"
# Read size when the body's length is unknown and there is no limit.
_STEP = 64 * 1024
# The sockets WSGI servers put in the environ: gunicorn's and werkzeug's.
_SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")


def read(request: Request) -> bytes:
    """The whole body: 413 above the limit, 408 when the client stalls, 400 when it hangs up."""
    body = request.environ.get(_CACHE_KEY)
    if body is None:
        body = _read(request.environ, request.content_length, request.max_content_length)
        request.environ[_CACHE_KEY] = body
    return body


def _read(environ: dict[str, Any], length: int | None, limit: int | None) -> bytes:
    if length is not None and limit is not None and length > limit:
        raise errors.PayloadTooLarge()
    if length is None and "wsgi.input_terminated" not in environ:
        # No length and a server that does not end the stream: reading would wait for a close
        # that never comes (werkzeug reads nothing in this case too).
        return b""
    # One byte more than the limit tells "exactly at the limit" from "above it".
    wanted = length if length is not None else (limit + 1 if limit is not None else None)
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    try:
        while wanted is None or size < wanted:
            chunk = stream.read(_STEP if wanted is None else wanted - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except TimeoutError as exc:  # the socket's read timeout (socket.timeout)
        raise errors.RequestTimeout() from exc
    except OSError as exc:  # the client hung up, or sent a malformed chunk
        raise errors.BadRequest("The request body ended before it was complete.") from exc
    if length is not None and size < length:
        raise errors.BadRequest("The request body ended before it was complete.")
    if limit is not None and size > limit:
        raise errors.PayloadTooLarge()
    return b"".join(chunks)


class SocketReadTimeout:
    """WSGI middleware: a read timeout on the request's socket before the app runs."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], timeout: float) -> None:
        self.wsgi_app = wsgi_app
        self.timeout = timeout

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        for key in _SOCKET_KEYS:
            sock = environ.get(key)
            if sock is not None:
                sock.settimeout(self.timeout)
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Bound every request's socket reads (and writes) by ``BODY_READ_TIMEOUT_SECONDS``."""
    app.wsgi_app = SocketReadTimeout(app.wsgi_app, app.config["BODY_READ_TIMEOUT_SECONDS"])
