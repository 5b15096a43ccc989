"""app.api.schemas.dumping: the planned dump gives marshmallow's result, value for value and
key for key, and leaves to marshmallow what it cannot plan (no database)."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import types
import uuid
from typing import Any

import pytest

import marshmallow as ma

from app.api.schemas import dumping
from app.api.schemas.common import BaseSchema, UtcMillis
from app.api.schemas.customers import CustomerSchema
from app.api.schemas.fields import TimestampString


class Inner(BaseSchema):
    city = ma.fields.String(allow_none=True)
    code = ma.fields.String(attribute="country_code", data_key="countryCode")


class Everything(BaseSchema):
    id = ma.fields.Integer()
    label = ma.fields.String(allow_none=True)
    flag = ma.fields.Boolean()
    raw = ma.fields.Raw()
    data = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw())
    plain_dict = ma.fields.Dict()
    names = ma.fields.List(ma.fields.String())
    numbers = ma.fields.List(ma.fields.Integer())
    inner = ma.fields.Nested(Inner, allow_none=True)
    inners = ma.fields.List(ma.fields.Nested(Inner))
    many_inner = ma.fields.Nested(Inner, many=True)
    when = TimestampString(allow_none=True)
    at = UtcMillis(allow_none=True)
    uid = ma.fields.UUID()
    count_text = ma.fields.Integer(as_string=True)
    renamed = ma.fields.String(attribute="source_name", data_key="sourceName")


@dataclasses.dataclass
class Place:
    city: Any
    country_code: Any


@dataclasses.dataclass
class Thing:
    id: Any = 7
    label: Any = "seven"
    flag: Any = True
    raw: Any = dataclasses.field(default_factory=lambda: {"a": [1, 2]})
    data: Any = dataclasses.field(default_factory=lambda: {"plan": "pro", "seats": 3})
    plain_dict: Any = dataclasses.field(default_factory=lambda: {"k": 1})
    names: Any = dataclasses.field(default_factory=lambda: ["a", "b"])
    numbers: Any = dataclasses.field(default_factory=lambda: [1, 2])
    inner: Any = dataclasses.field(default_factory=lambda: Place("Oslo", "NO"))
    inners: Any = dataclasses.field(default_factory=lambda: [Place("A", "AA"), Place(None, "B")])
    many_inner: Any = dataclasses.field(default_factory=lambda: [Place("C", "CC")])
    when: Any = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    at: Any = dt.datetime(2026, 12, 7, 12, 0, 0, 123456, tzinfo=dt.UTC)
    uid: Any = uuid.UUID(int=5)
    count_text: Any = 12
    source_name: Any = "crm"


# Values of other types than the field's output: each goes through the field's own conversion.
ODD_VALUES = [
    {},
    {"id": True, "label": 5, "flag": 1, "names": ["x", 2], "numbers": [True, 3]},
    {"flag": 0, "label": uuid.UUID(int=1), "uid": "not-a-uuid-but-a-string"},
    {"label": None, "inner": None, "when": None, "at": None, "names": None, "data": None},
    {"data": {1: "int key"}, "plain_dict": {2: "two"}, "inners": [], "many_inner": []},
    {"inner": {"city": "Dict City", "country_code": "DC"}},
]


def marshmallow_dump(schema: ma.Schema, obj: Any, many: bool | None = None) -> Any:
    return ma.Schema.dump(schema, obj, many=many)


@pytest.mark.parametrize("changes", ODD_VALUES)
def test_planned_dump_equals_marshmallow_value_for_value_and_key_for_key(changes):
    schema = Everything()
    obj = dataclasses.replace(Thing(), **changes)
    assert dumping.planned_dump(schema) is not None
    planned, theirs = schema.dump(obj), marshmallow_dump(schema, obj)
    assert planned == theirs
    assert list(planned) == list(theirs)


def test_dicts_as_objects_and_missing_keys_are_left_out_as_marshmallow_does():
    schema = Everything()
    obj = {"id": 1, "label": "x", "inner": {"city": "Oslo"}}
    assert (
        schema.dump(obj)
        == marshmallow_dump(schema, obj)
        == {
            "id": 1,
            "label": "x",
            "inner": {"city": "Oslo"},
        }
    )


def test_many_through_the_call_or_the_schema():
    objs = [Thing(id=n) for n in range(3)]
    assert Everything().dump(objs, many=True) == marshmallow_dump(Everything(), objs, many=True)
    assert Everything(many=True).dump(objs) == marshmallow_dump(Everything(many=True), objs)


def test_only_and_exclude_are_kept():
    for schema in (Everything(only=("id", "inner")), Everything(exclude=("raw", "names"))):
        assert schema.dump(Thing()) == marshmallow_dump(schema, Thing())


def test_the_customer_object_is_planned():
    assert dumping.planned_dump(CustomerSchema()) is not None


class WithHook(BaseSchema):
    name = ma.fields.String()

    @ma.post_dump
    def shout(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {"name": data["name"].upper()}


class WithDefault(BaseSchema):
    name = ma.fields.String(dump_default="anonymous")


class Dotted(BaseSchema):
    city = ma.fields.String(attribute="place.city")


@pytest.mark.parametrize(
    ("schema", "obj", "expected"),
    [
        (WithHook(), {"name": "ann"}, {"name": "ANN"}),
        (WithDefault(), {}, {"name": "anonymous"}),
        (Dotted(), {"place": {"city": "Oslo"}}, {"city": "Oslo"}),
    ],
)
def test_what_cannot_be_planned_is_dumped_by_marshmallow(schema, obj, expected):
    assert dumping.planned_dump(schema) is None
    assert schema.dump(obj) == expected


class Computed(BaseSchema):
    name = ma.fields.String()
    shout = ma.fields.Method("make_shout")
    double = ma.fields.Function(lambda obj: obj["n"] * 2)
    kind = ma.fields.Constant("customer")

    def make_shout(self, obj: Any) -> str:
        return obj["name"].upper()


class Upper(ma.fields.String):
    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        return str(super().serialize(attr, obj, accessor, **kwargs)).upper()


class OwnSerialize(BaseSchema):
    name = Upper()


class Tree(BaseSchema):
    name = ma.fields.String()
    children = ma.fields.List(ma.fields.Nested(lambda: Tree()))


@pytest.mark.parametrize(
    ("schema", "obj"),
    [
        (Computed(), {"name": "ann", "n": 2}),
        (OwnSerialize(), {"name": "ann"}),
        (Tree(), {"name": "root", "children": [{"name": "leaf", "children": []}]}),
    ],
)
def test_fields_that_read_their_own_value_and_self_nesting_schemas_stay_with_marshmallow(
    schema, obj
):
    assert dumping.planned_dump(schema) is None
    assert schema.dump(obj) == marshmallow_dump(schema, obj)


@pytest.mark.parametrize(
    "obj",
    [
        collections.OrderedDict(id=3, label="ordered"),
        collections.defaultdict(lambda: "dflt", {"id": 4}),
        types.MappingProxyType({"id": 5, "label": "proxy"}),
    ],
)
def test_mappings_other_than_dict_are_read_as_marshmallow_reads_them(obj):
    schema = Everything(only=("id", "label"))
    assert dumping.planned_dump(schema) is not None
    assert schema.dump(obj) == marshmallow_dump(schema, obj)


def test_none_dumps_as_marshmallow_dumps_it():
    for many in (False, True):
        assert Everything().dump(None, many=many) == marshmallow_dump(Everything(), None, many)
