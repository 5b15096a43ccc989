"""Schemas of events, tags and custom attributes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.api.schemas.common import BaseSchema, not_blank
from app.api.schemas.fields import TimestampString, WholeNumber
from app.services.custom_data import TYPES

NAME = [ma.validate.Length(min=1, max=255), not_blank]


class PageArgsSchema(BaseSchema):
    """Keyset pagination of our own lists: `limit`, then `after` the returned `nextCursor`."""

    limit = WholeNumber(load_default=20, validate=ma.validate.Range(min=1, max=100))
    after = ma.fields.String(metadata={"description": "The `nextCursor` of the previous page."})


def _page_of(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    return type(
        name,
        (BaseSchema,),
        {
            "data": ma.fields.List(ma.fields.Nested(item), required=True),
            "nextCursor": ma.fields.String(
                required=True,
                allow_none=True,
                metadata={"description": "Pass as `after` for the next page; null on the last."},
            ),
        },
    )


def _scalars_only(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ma.ValidationError({key: ["Event data values must be scalars."]})


class EventCreateSchema(BaseSchema):
    name = ma.fields.String(required=True, validate=NAME)
    data = ma.fields.Dict(
        keys=ma.fields.String(validate=NAME),
        values=ma.fields.Raw(allow_none=True),
        load_default=dict,
        validate=_scalars_only,
        metadata={"description": "Flat key/values; values are strings, numbers or booleans."},
    )
    customer = WholeNumber(required=True)


class EventSchema(BaseSchema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    data = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), required=True)
    customer = ma.fields.Integer(required=True)
    createdAt = TimestampString(required=True, attribute="created_at")


class TagSchema(BaseSchema):
    name = ma.fields.String(required=True)
    color = ma.fields.String(required=True)


class CustomAttributeCreateSchema(BaseSchema):
    name = ma.fields.String(required=True, validate=NAME)
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(TYPES))


class CustomAttributeSchema(BaseSchema):
    name = ma.fields.String(required=True)
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(TYPES))
    createdAt = TimestampString(required=True, attribute="created_at")


EventPageSchema = _page_of(EventSchema, "EventPageSchema")
TagPageSchema = _page_of(TagSchema, "TagPageSchema")
CustomAttributePageSchema = _page_of(CustomAttributeSchema, "CustomAttributePageSchema")
