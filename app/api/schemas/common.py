"""Schema base class and fields shared by every resource."""

from __future__ import annotations

import datetime as dt
from typing import Any

from email_validator import EmailNotValidError, validate_email

import marshmallow as ma

from app.api.schemas import dumping


def empty_list_as_object(value: Any) -> Any:
    """PHP's ``json_encode`` writes every empty array as ``[]``, an empty object included."""
    return {} if isinstance(value, list) and not value else value


class BaseSchema(ma.Schema):
    """Unknown keys are refused (set here: ``unknown`` does not propagate to nested schemas).

    Where an object is expected (a body, a nested object, a batch item), an empty JSON list
    reads as an empty object; a non-empty list stays a 422.
    """

    class Meta:
        unknown = ma.RAISE

    def load(self, data: Any, *, many: bool | None = None, **kwargs: Any) -> Any:
        many = self.many if many is None else bool(many)
        if many:
            if isinstance(data, list):
                data = [empty_list_as_object(item) for item in data]
        else:
            data = empty_list_as_object(data)
        return super().load(data, many=many, **kwargs)

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """marshmallow's result, through a plan made once per schema (``dumping.py``)."""
        planned = dumping.planned_dump(self)
        if planned is None or obj is None:
            return super().dump(obj, many=many)
        if self.many if many is None else many:
            return [planned(each) for each in obj]
        return planned(obj)


class Object(ma.fields.Dict):
    """A JSON object field (``Dict``) that reads an empty list as an empty object."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(empty_list_as_object(value), attr, data, **kwargs)


class EmailAddress(ma.fields.String):
    """An email address checked for syntax only (no DNS look-ups); kept as given, trimmed."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            validate_email(text, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ma.ValidationError(f"Not a valid email address: {exc}") from exc
        return text


class UtcMillis(ma.fields.DateTime):
    """ISO 8601 in UTC with milliseconds and ``Z``: ``2026-04-27T14:30:00.000Z``."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def not_blank(value: str | None) -> None:
    """Refuse strings made only of whitespace (they normalize to nothing)."""
    if value is not None and not value.strip():
        raise ma.ValidationError("Must not be blank.")
