"""Field types of the customers API: timestamps, phones, locales, CSS colors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pycountry
from tinycss2.color4 import parse_color

from flask import current_app

import marshmallow as ma

from app import bounds, identity
from app.values import is_digits, parse_timestamp


class UnixTimestamp(ma.fields.Field):
    """Read as an integer or a digit string; written as a string, as the mimicked API does."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            # Documented as the string form; integers (0..MAX_TIMESTAMP) are accepted too.
            "type": "string",
            "pattern": "^[0-9]{1,12}$",
            "description": "UNIX timestamp as a string of digits (an integer is accepted too).",
            "example": "1603885746",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        try:
            return dt.datetime.fromtimestamp(parse_timestamp(value), dt.UTC)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from exc

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(int(value.timestamp()))


class TimestampString(ma.fields.String):
    """Output-only UNIX timestamp string (documented as a string in the spec)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(int(value.timestamp()))


class Phone(ma.fields.String):
    """Kept as given; must be a *possible* number in ``DEFAULT_PHONE_REGION``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not identity.is_possible_phone(text, current_app.config["DEFAULT_PHONE_REGION"]):
            raise ma.ValidationError("Not a possible phone number.")
        return text


def validate_locale(value: str | None) -> None:
    """ISO 639-1 two-letter language code, checked against pycountry's maintained list."""
    if value is not None and (
        len(value) != 2 or pycountry.languages.get(alpha_2=value.lower()) is None
    ):
        raise ma.ValidationError("Not an ISO 639-1 language code.")


def validate_color(value: str | None) -> None:
    """One CSS color value: hex (3, 4, 6 or 8 digits), a name, rgb()/hsl()..., parsed by
    tinycss2; at most MAX_COLOR_LENGTH characters and no comments. Colors are echoed to every
    dashboard that renders them, so nothing but the color itself may ride along."""
    if value is None:
        return
    if len(value) > bounds.MAX_COLOR_LENGTH:
        raise ma.ValidationError(f"At most {bounds.MAX_COLOR_LENGTH} characters.")
    if "/*" in value or "*/" in value:
        raise ma.ValidationError("A color must not contain CSS comments.")
    parsed = parse_color(value)
    if parsed is None or isinstance(parsed, str):  # a string result is `currentcolor`
        raise ma.ValidationError("Not a CSS color (hex such as #c377e0, or a name).")


class WholeNumber(ma.fields.Integer):
    """An integer or a string of digits; never a fraction or a boolean (ids, limits, offsets)."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid")
        if isinstance(value, str) and not is_digits(value.strip()):
            raise self.make_error("invalid")
        return super()._validated(value)
