"""Schemas of events, tags and custom attributes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.api.schemas.common import BaseSchema, Object, not_blank
from app.api.schemas.fields import TimestampString, WholeNumber
from app.services.custom_data import EXPLICIT, INFERRED, TYPES

NAME = [ma.validate.Length(min=1, max=255), not_blank]


class PageArgsSchema(BaseSchema):
    """Keyset pagination of our own lists: `limit`, then `after` the returned `nextCursor`."""

    limit = WholeNumber(load_default=20, validate=ma.validate.Range(min=1, max=100))
    after = ma.fields.String(metadata={"description": "The `nextCursor` of the previous page."})


def page_of(item: type[ma.Schema], name: str) -> type[ma.Schema]:
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
    data = Object(
        keys=ma.fields.String(validate=NAME),
        values=ma.fields.Raw(
            allow_none=True,
            metadata={"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]},
        ),
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
    defined = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf((EXPLICIT, INFERRED)),
        metadata={
            "description": "`explicit` (POST /v1/custom-attributes) or `inferred` (defined on "
            "first use in customData, by the name's suffix or the first value's JSON type)."
        },
    )
    createdAt = TimestampString(required=True, attribute="created_at")


class MergeIdentifierSchema(BaseSchema):
    kind = ma.fields.String(
        required=True, metadata={"description": "`email`, `external_id`, `phone`."}
    )
    value = ma.fields.String(required=True)


class MergeSchema(BaseSchema):
    """One merge of the person's history: who absorbed whom, why, and what the merged profile
    was before (a full snapshot)."""

    id = ma.fields.Integer(required=True)
    survivor = ma.fields.Integer(required=True, attribute="survivor_id")
    merged = ma.fields.Integer(required=True, attribute="merged_id")
    rule = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(("external_id", "email", "phone_name", "manual", "unmerge")),
        metadata={"description": "`unmerge`: the record of an unmerge (see `undoes`)."},
    )
    score = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Name similarity, phone_name only."},
    )
    identifier = ma.fields.Nested(MergeIdentifierSchema, required=True, allow_none=True)
    requestId = ma.fields.String(required=True, allow_none=True, attribute="request_id")
    createdAt = TimestampString(required=True, attribute="created_at")
    undoneAt = TimestampString(
        required=True,
        allow_none=True,
        attribute="undone_at",
        metadata={"description": "When an unmerge undid this merge; null while it stands."},
    )
    undoes = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "On an `unmerge` record: the id of the merge it undid."},
    )
    snapshot = ma.fields.Dict(
        required=True,
        metadata={
            "description": "The merged profile before the merge: row, identifiers, tags, "
            "event ids, its own tombstones and merge history. On an `unmerge` record: the "
            "survivor before the unmerge (row, identifiers, tags)."
        },  # fmt: skip
    )


EventPageSchema = page_of(EventSchema, "EventPageSchema")
TagPageSchema = page_of(TagSchema, "TagPageSchema")
CustomAttributePageSchema = page_of(CustomAttributeSchema, "CustomAttributePageSchema")
MergePageSchema = page_of(MergeSchema, "MergePageSchema")
