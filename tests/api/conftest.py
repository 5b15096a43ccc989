"""Every response dumped in these tests is dumped twice: through the plan the service uses
(``app/api/schemas/dumping.py``) and through marshmallow's own ``Schema.dump``; they must be
equal, so the whole API suite checks the plan against marshmallow on the objects it really
answers with."""

from __future__ import annotations

from typing import Any

import pytest

import marshmallow as ma

from app.api.schemas.common import BaseSchema


class PlanDiffers(AssertionError):
    pass


@pytest.fixture(autouse=True)
def planned_dumps_equal_marshmallow(monkeypatch) -> None:
    planned_dump = BaseSchema.dump

    def both(self: BaseSchema, obj: Any, *, many: bool | None = None) -> Any:
        planned = planned_dump(self, obj, many=many)
        theirs = ma.Schema.dump(self, obj, many=many)
        if planned != theirs or list(_keys(planned)) != list(_keys(theirs)):
            raise PlanDiffers(f"{type(self).__name__}: planned {planned!r} != {theirs!r}")
        return planned

    monkeypatch.setattr(BaseSchema, "dump", both)


def _keys(value: Any) -> Any:
    """Every key path in order: equal dicts may still differ in key order, which JSON keeps."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)
