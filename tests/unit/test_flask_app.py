"""app.flask_app.App: ensure_sync answers as Flask's does, remembering it per function."""

from __future__ import annotations

import dataclasses
import gc

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
    assert dict(app._coroutine) == {plain: False, View.dispatch: False}


def test_coroutine_functions_go_through_async_to_sync(monkeypatch):
    app = App(__name__)
    wrapped = []
    monkeypatch.setattr(app, "async_to_sync", lambda func: wrapped.append(func) or "wrapped")
    assert app.ensure_sync(coroutine) == "wrapped"
    assert app.ensure_sync(coroutine) == "wrapped"
    assert wrapped == [coroutine, coroutine]


def test_functions_made_per_request_leave_the_memo_with_them():
    app = App(__name__)
    unchanged = []
    for n in range(100):

        def made(n: int = n) -> int:
            return n

        unchanged.append(app.ensure_sync(made) is made)
    del made
    gc.collect()
    assert all(unchanged) and len(unchanged) == 100
    assert list(app._coroutine.keys()) == []


@dataclasses.dataclass
class Unhashable:
    """A callable dataclass: eq without frozen makes it unhashable."""

    n: int

    def __call__(self) -> int:
        return self.n


class Slotted:
    """A callable without ``__weakref__``: no weak reference can be made to it."""

    __slots__ = ()

    def __call__(self) -> int:
        return 1


def test_callables_that_cannot_be_remembered_are_asked_each_time():
    app = App(__name__)
    for func in (Unhashable(1), Slotted()):
        assert app.ensure_sync(func) is func
        assert app.ensure_sync(func) is func
    assert len(app._coroutine) == 0
