"""app.flask_app.App: ensure_sync answers as Flask's does, remembering it per function."""

from __future__ import annotations

from app import flask_app
from app.flask_app import App


def plain() -> str:
    return "ok"


async def coroutine() -> str:
    return "ok"


class View:
    def dispatch(self) -> str:
        return "ok"


def test_sync_functions_come_back_unchanged_and_are_remembered_once():
    app = App(__name__)
    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(plain) is plain
    # A bound method is remembered by its function: one entry for every instance's method.
    for view in (View(), View()):
        method = view.dispatch
        assert app.ensure_sync(method) is method
    assert app._coroutine == {plain: False, View.dispatch: False}


def test_coroutine_functions_go_through_async_to_sync(monkeypatch):
    app = App(__name__)
    wrapped = []
    monkeypatch.setattr(app, "async_to_sync", lambda func: wrapped.append(func) or "wrapped")
    assert app.ensure_sync(coroutine) == "wrapped"
    assert app.ensure_sync(coroutine) == "wrapped"
    assert wrapped == [coroutine, coroutine]


def test_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(flask_app, "MAX_REMEMBERED", 2)
    app = App(__name__)
    functions = [lambda n=n: n for n in range(5)]
    for function in functions:
        assert app.ensure_sync(function) is function
    assert len(app._coroutine) == 2
