"""Customer schemas (HelpCrunch REST API v1 ``/v1/customers``)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app import bounds
from app.api.schemas.common import BaseSchema, EmailAddress, not_blank
from app.api.schemas.fields import (
    Phone,
    TimestampString,
    UnixTimestamp,
    WholeNumber,
    validate_color,
    validate_locale,
)

# Keys a client echoes back after a read: ignored on input, never refused.
READ_ONLY_KEYS = (
    "id", "device", "createdAt", "updatedAt", "contactId", "emails", "phones", "userIds",
    "mergedIds",
)  # fmt: skip
# Nullable text fields where an empty string means null.
NULLABLE_TEXT = (
    "name", "email", "userId", "company", "phone", "source", "referer", "lastPage", "locale",
    "createdFrom", "integrationId", "notes",
)  # fmt: skip
LOCATION_KEYS = ("regionCode", "countryCode", "city")
MAX_BATCH = 10
TEXT = ma.validate.Length(max=255)
LONG_TEXT = ma.validate.Length(max=2048)
NOTES = ma.validate.Length(max=65_535)


def _text(validate: Any = TEXT, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(allow_none=True, validate=validate, **kwargs)


class LocationSchema(BaseSchema):
    regionCode = _text(attribute="region_code")
    countryCode = _text(attribute="country_code")
    city = _text()


TAG_NAME = [ma.validate.Length(min=1, max=bounds.MAX_TAG_NAME_LENGTH), not_blank]


class LocationOutSchema(BaseSchema):
    regionCode = ma.fields.String(required=True, allow_none=True, attribute="region_code")
    countryCode = ma.fields.String(required=True, allow_none=True, attribute="country_code")
    city = ma.fields.String(required=True, allow_none=True)


class TagInSchema(BaseSchema):
    name = ma.fields.String(
        required=True,
        validate=TAG_NAME,
        metadata={"description": "Trimmed; matched case-insensitively (Unicode case folding)."},
    )
    color = ma.fields.String(
        validate=validate_color,
        metadata={
            "description": f"One CSS color value (hex, name, rgb()...), at most "
            f"{bounds.MAX_COLOR_LENGTH} characters, no comments; default `#c377e0`.",
            "maxLength": bounds.MAX_COLOR_LENGTH,
        },
    )


class TagNameSchema(BaseSchema):
    name = ma.fields.String(required=True, validate=TAG_NAME)


class CustomDataItemSchema(BaseSchema):
    property = ma.fields.String(
        required=True, validate=[ma.validate.Length(min=1, max=255), not_blank]
    )
    value = ma.fields.Raw(
        required=True,
        allow_none=True,
        metadata={"description": "Must fit the attribute's type; `null` removes the property."},
    )


class CustomerWriteSchema(BaseSchema):
    """Writable customer fields: left out keeps, `null` clears, a value replaces."""

    name = _text()
    email = EmailAddress(allow_none=True)
    userId = _text(
        validate=[ma.validate.Length(min=1, max=255), not_blank],
        attribute="user_id",
        metadata={"description": "Your own id for the person (the partner API's external_id)."},
    )
    company = _text()
    phone = Phone(allow_none=True, metadata={"description": "Any format; matched as E.164."})
    firstSeen = UnixTimestamp(allow_none=True, attribute="first_seen")
    lastSeen = UnixTimestamp(allow_none=True, attribute="last_seen")
    unsubscribed = ma.fields.Boolean(allow_none=True)
    blocked = ma.fields.Boolean(allow_none=True)
    source = _text(LONG_TEXT)
    referer = _text(LONG_TEXT)
    lastPage = _text(LONG_TEXT, attribute="last_page")
    locale = _text(validate_locale, metadata={"description": "ISO 639-1 code, e.g. `en`."})
    createdFrom = _text(attribute="created_from")
    integrationId = _text(attribute="integration_id")
    notes = _text(NOTES)
    location = ma.fields.Nested(LocationSchema, allow_none=True)
    tags = ma.fields.List(
        ma.fields.Nested(TagInSchema),
        allow_none=True,
        validate=ma.validate.Length(max=bounds.MAX_TAGS_PER_WRITE),
        metadata={
            "description": "Sets the customer's tags to exactly this list "
            f"(at most {bounds.MAX_TAGS_PER_WRITE})."
        },
    )
    customData = ma.fields.List(
        ma.fields.Nested(CustomDataItemSchema),
        allow_none=True,
        attribute="custom_data",
        validate=ma.validate.Length(max=bounds.MAX_CUSTOM_DATA_PER_WRITE),
        metadata={
            "description": "Merged per property into the customer's data "
            f"(at most {bounds.MAX_CUSTOM_DATA_PER_WRITE} properties per write)."
        },
    )

    @ma.pre_load
    def _tolerate_client_habits(self, data: Any, **kwargs: Any) -> Any:
        """Drop echoed read-only keys, read empty strings as null, accept a flat location."""
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if k not in READ_ONLY_KEYS}
        for key in NULLABLE_TEXT:
            if data.get(key) == "":
                data[key] = None
        flat = {key: data.pop(key) for key in LOCATION_KEYS if key in data}
        if flat:
            nested = data.get("location")
            data["location"] = {**flat, **nested} if isinstance(nested, dict) else flat
        if isinstance(data.get("location"), dict):
            data["location"] = {k: (None if v == "" else v) for k, v in data["location"].items()}
        if isinstance(data.get("customData"), dict):  # the object form a read returns
            data["customData"] = [
                {"property": k, "value": v} for k, v in data["customData"].items()
            ]
        return data

    @ma.post_load
    def _lower_locale(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("locale"):
            data["locale"] = data["locale"].lower()
        return data


class CustomerBatchItemSchema(CustomerWriteSchema):
    """One item of ``PUT /v1/customers/batch``: the customer's id plus any writable field."""

    customer = WholeNumber(
        required=True, metadata={"description": "Integer id of an existing customer."}
    )

    @ma.pre_load(pass_collection=True)
    def _must_be_array(self, data: Any, many: bool, **kwargs: Any) -> Any:
        if many and not isinstance(data, list):
            raise ma.ValidationError("The body must be a JSON array of customers.")
        return data

    @ma.validates_schema(pass_collection=True)
    def _batch_rules(self, data: Any, many: bool, **kwargs: Any) -> None:
        """1..10 items (the mimicked API's limit); a customer may appear more than once."""
        if many and not 1 <= len(data) <= MAX_BATCH:
            raise ma.ValidationError(f"Send between 1 and {MAX_BATCH} customers per request.")


class TagsSchema(BaseSchema):
    tags = ma.fields.List(
        ma.fields.Nested(TagInSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=bounds.MAX_TAGS_PER_WRITE),
    )


class UntagSchema(BaseSchema):
    tags = ma.fields.List(
        ma.fields.Nested(TagNameSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=bounds.MAX_TAGS_PER_WRITE),
    )


class CustomerSchema(BaseSchema):
    """The customer object, keys spelled as the mimicked API spells them."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, allow_none=True)
    email = ma.fields.String(required=True, allow_none=True)
    userId = ma.fields.String(required=True, allow_none=True, attribute="user_id")
    company = ma.fields.String(required=True, allow_none=True)
    phone = ma.fields.String(required=True, allow_none=True)
    firstSeen = TimestampString(
        required=True, allow_none=True, attribute="first_seen", metadata={"example": "1603885746"}
    )
    lastSeen = TimestampString(required=True, allow_none=True, attribute="last_seen")
    location = ma.fields.Nested(
        LocationOutSchema,
        required=True,
        metadata={"description": "Always an object; its values are null when unknown."},
    )
    device = ma.fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "Always null: this service records no devices."},
    )
    unsubscribed = ma.fields.Boolean(required=True)
    blocked = ma.fields.Boolean(required=True)
    source = ma.fields.String(required=True, allow_none=True)
    referer = ma.fields.String(required=True, allow_none=True)
    lastPage = ma.fields.String(required=True, allow_none=True, attribute="last_page")
    locale = ma.fields.String(required=True, allow_none=True)
    createdFrom = ma.fields.String(required=True, allow_none=True, attribute="created_from")
    integrationId = ma.fields.String(required=True, allow_none=True, attribute="integration_id")
    notes = ma.fields.String(required=True, allow_none=True)
    tags = ma.fields.List(ma.fields.Nested(TagInSchema), required=True)
    customData = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Raw(), required=True, attribute="custom_data"
    )
    createdAt = TimestampString(required=True, attribute="created_at")
    updatedAt = TimestampString(required=True, attribute="updated_at")
    contactId = ma.fields.UUID(
        required=True,
        attribute="contact_id",
        metadata={"description": "The same person's id in the partner contacts API."},
    )
    emails = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "Every email that resolves to this person, primary first."},
    )
    phones = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Primary first."}
    )
    userIds = ma.fields.List(
        ma.fields.String(),
        required=True,
        attribute="user_ids",
        metadata={"description": "Primary first."},
    )
    mergedIds = ma.fields.List(
        ma.fields.Integer(),
        required=True,
        attribute="merged_ids",
        metadata={"description": "Ids merged into this person; they keep resolving to it."},
    )
