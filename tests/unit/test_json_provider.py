"""app.json_provider writes the same bytes as Flask's stdlib provider (no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import uuid

import pytest

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from app.json_provider import OrjsonProvider


@dataclasses.dataclass
class Point:
    x: int
    when: dt.date


VALUES = {
    "customer-like": {
        "id": 7, "name": "Zoë Ñúñez", "email": None, "tags": [{"name": "vip", "color": "#f00"}],
        "customData": {"plan": "pro", "seats": 12, "ratio": 0.25, "trial": False},
        "contactId": "7c3e1a2b-4d5f-6789-bcde-f01234567890", "unsubscribed": False,
    },  # fmt: skip
    "key-order-kept": {"z": 1, "a": 2, "m": {"y": 1, "b": 2}},
    "non-ascii-and-astral": ["é", "日本", "😀", "\u2028\u2029", "\x7f", "mixed é 😀 end"],
    "control-and-quotes": ['"quoted" \\ back', "\x00\x01\x1f\n\t\b\f\r", "</script>&<>"],
    "datetimes-as-http-dates": [dt.datetime(2026, 4, 27, 14, 30, tzinfo=dt.UTC),
                                dt.date(2026, 1, 2)],
    "uuid-decimal-dataclass": [uuid.UUID(int=5), decimal.Decimal("1.10"),
                               Point(1, dt.date(2026, 1, 1))],
    "numbers": [0, -1, 2**63 - 1, 2**64 - 1, 1.5, -0.0, 1e300, 123456789.125],
    "beyond-64-bits-falls-back": [2**70, -(2**80)],
    "non-string-keys-fall-back": {1: "a", 2: "b"},
    "lone-surrogate-falls-back": ["a\udc00b"],
    "scalars": "Ok",
    "empty": [{}, [], None, True],
}  # fmt: skip


@pytest.fixture
def app() -> Flask:
    return Flask(__name__)


@pytest.mark.parametrize("sort_keys", [False, True], ids=["as-given", "sorted"])
@pytest.mark.parametrize("name", list(VALUES))
def test_responses_are_byte_identical_to_flasks_provider(app, name, sort_keys):
    if name == "non-string-keys-fall-back":
        sort_keys = False  # json cannot sort int keys either
    stdlib, fast = DefaultJSONProvider(app), OrjsonProvider(app)
    stdlib.sort_keys = fast.sort_keys = sort_keys
    with app.app_context():
        expected, got = stdlib.response(VALUES[name]), fast.response(VALUES[name])
    assert got.data == expected.data
    assert got.mimetype == expected.mimetype == "application/json"


def test_floats_with_small_exponents_differ_in_spelling_only(app):
    with app.app_context():
        data = OrjsonProvider(app).response([1e-7]).data
    assert data == b"[1e-7]\n"  # json writes 1e-07: the same number
    assert DefaultJSONProvider(app).loads(data) == [1e-07]


def test_what_neither_can_encode_fails_the_same_way(app):
    with app.app_context(), pytest.raises(TypeError, match="not JSON serializable"):
        OrjsonProvider(app).response({"x": object()})


def test_debug_output_is_json_indented_as_before(app):
    app.debug = True
    with app.app_context():
        value = VALUES["customer-like"]
        assert (
            OrjsonProvider(app).response(value).data
            == DefaultJSONProvider(app).response(value).data
        )
