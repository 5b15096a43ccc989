"""Response dumping, planned once per schema instead of walked per object.

marshmallow's ``Schema.dump`` looks every field up, reads every value through ``get_value`` and
``Field.serialize`` and re-derives all of it for every object: about 45 µs for one customer
and 380 µs for a batch's ten (``bench/overhead.py``), for objects whose fields are plain
strings, numbers, booleans, lists and nested objects. ``plan(schema)`` reads the schema's dump
fields once and builds, per field, the cheapest step that gives marshmallow's own result:

- a value already of the field's output type (a ``str`` for ``String``, an ``int`` for
  ``Integer``, a ``bool`` for ``Boolean``) or ``None`` is taken as it is — what those fields'
  ``_serialize`` return for such values;
- ``Raw`` values as they are; ``Dict`` of string keys and raw values, copied;
- ``List`` and ``Nested`` through the plan of their inner field or schema;
- every other value or field through the field's own ``_serialize``, as marshmallow calls it.

A schema with dump hooks, fields with a ``dump_default``, dotted attributes, fields that read
their value their own way (``Method``, ``Function``, ``Constant``, an overridden ``serialize``
or ``get_value``), an overridden ``get_attribute``, or that nests itself is not planned: it
dumps through marshmallow. Objects are read as marshmallow reads them (``obj[key]`` for
mappings, attributes otherwise). ``tests/api/conftest.py`` checks the plan against
marshmallow's ``dump`` on every response of the API suite, ``tests/unit/test_dumping.py`` on
odd values and what is not planned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow.decorators import POST_DUMP, PRE_DUMP

Step = Callable[[Any, str, Any], Any]  # (value, attribute, object) -> dumped value
Plan = Callable[[Any], dict[str, Any]]
MISSING = ma.missing


def plan(schema: ma.Schema, active: frozenset[type] = frozenset()) -> Plan | None:
    """The planned dump of one object for ``schema``, or ``None`` where marshmallow must do it.

    ``active``: the schema classes being planned around this one (a schema nesting itself is
    left to marshmallow, which recurses only as deep as the data)."""
    if type(schema) in active or schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        return None
    if type(schema).get_attribute is not ma.Schema.get_attribute:
        return None
    active = active | {type(schema)}
    fields: list[tuple[str, str, Step]] = []
    for name, field in schema.dump_fields.items():
        attribute = field.attribute or name
        if "." in attribute or field.dump_default is not MISSING:
            return None
        step = _step(field, active)
        if step is None:
            return None
        fields.append((field.data_key or name, attribute, step))

    def dump(obj: Any) -> dict[str, Any]:
        if type(obj) is dict:
            get: Callable[[str], Any] = lambda attribute: obj.get(attribute, MISSING)  # noqa: E731
        elif hasattr(obj, "__getitem__"):  # a mapping or a sequence: marshmallow's lookup
            get = lambda attribute: ma.utils.get_value(obj, attribute, MISSING)  # noqa: E731
        else:
            get = lambda attribute: getattr(obj, attribute, MISSING)  # noqa: E731
        out: dict[str, Any] = {}
        for key, attribute, step in fields:
            value = get(attribute)
            if value is not MISSING:
                out[key] = step(value, attribute, obj)
        return out

    return dump


def _reads_itself(field: ma.fields.Field) -> bool:
    """Fields whose value is not the object's attribute (``Method``, ``Function``,
    ``Constant``), or that read or serialize it their own way."""
    cls = type(field)
    return (
        not field._CHECK_ATTRIBUTE
        or cls.serialize is not ma.fields.Field.serialize
        or cls.get_value is not ma.fields.Field.get_value
    )


def _overrides_serialize(field: ma.fields.Field, base: type) -> bool:
    return type(field)._serialize is not base._serialize


def _same_type(field: ma.fields.Field, python_type: type) -> Step:
    """``None`` and values of ``python_type`` as they are; anything else as the field dumps it."""
    serialize = field._serialize

    def step(value: Any, attribute: str, obj: Any) -> Any:
        if value is None or type(value) is python_type:
            return value
        return serialize(value, attribute, obj)

    return step


def _step(field: ma.fields.Field, active: frozenset[type]) -> Step | None:
    if _reads_itself(field):
        return None
    if type(field) is ma.fields.Raw:
        return lambda value, attribute, obj: value
    if isinstance(field, ma.fields.String) and not _overrides_serialize(field, ma.fields.String):
        return _same_type(field, str)
    if (
        isinstance(field, ma.fields.Integer)
        and not field.as_string
        and not _overrides_serialize(field, ma.fields.Integer)
    ):
        return _same_type(field, int)
    if isinstance(field, ma.fields.Boolean) and not _overrides_serialize(field, ma.fields.Boolean):
        return _same_type(field, bool)
    if type(field) is ma.fields.Dict:
        return _dict_step(field)
    if type(field) is ma.fields.List:
        return _list_step(field, active)
    if type(field) is ma.fields.Nested:
        return _nested_step(field, active)
    serialize = field._serialize  # its own conversion, called as Field.serialize calls it
    return lambda value, attribute, obj: serialize(value, attribute, obj)


def _dict_step(field: ma.fields.Dict) -> Step | None:
    keys, values = field.key_field, field.value_field
    plain_keys = keys is None or (
        type(keys) is ma.fields.String and not _overrides_serialize(keys, ma.fields.String)
    )
    if not plain_keys or not (values is None or type(values) is ma.fields.Raw):
        return None
    serialize = field._serialize

    def step(value: Any, attribute: str, obj: Any) -> Any:
        if value is None:
            return None
        if type(value) is dict and all(type(key) is str for key in value):
            return dict(value)
        return serialize(value, attribute, obj)

    return step


def _list_step(field: ma.fields.List, active: frozenset[type]) -> Step | None:
    inner_step = _step(field.inner, active)
    if inner_step is None:
        return None

    def step(value: Any, attribute: str, obj: Any) -> Any:
        if value is None:
            return None
        return [inner_step(each, attribute, obj) for each in value]

    return step


def _nested_step(field: ma.fields.Nested, active: frozenset[type]) -> Step | None:
    schema = field.schema
    many = schema.many or field.many
    planned = planned_dump(schema, active)
    if planned is None:
        return None

    def step(value: Any, attribute: str, obj: Any) -> Any:
        if value is None:
            return None
        return [planned(each) for each in value] if many else planned(value)

    return step


def planned_dump(schema: ma.Schema, active: frozenset[type] = frozenset()) -> Plan | None:
    """``plan(schema)``, made once per schema instance (two threads making it at once make the
    same plan)."""
    try:
        return schema.__dict__["_planned_dump"]
    except KeyError:
        made = schema.__dict__["_planned_dump"] = plan(schema, active)
        return made
