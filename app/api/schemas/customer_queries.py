"""Schemas of the customer list (``GET /v1/customers``) and search (``POST .../search``)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app import bounds
from app.api.schemas.common import BaseSchema
from app.api.schemas.customers import CustomerSchema
from app.api.schemas.fields import WholeNumber
from app.services.customer_queries import FIELDS, OPERATORS, SORTS, Condition, coerce

ORDER = ma.validate.OneOf(("asc", "desc"))
NON_EMPTY = ma.validate.Length(min=1, max=bounds.MAX_FILTER_VALUE_LENGTH)


class _Paging(BaseSchema):
    sort = ma.fields.String(
        validate=ma.validate.OneOf(tuple(SORTS)),
        metadata={"description": "`customers.firstSeen` or `customers.lastSeen`; default id."},
    )
    order = ma.fields.String(
        load_default="asc",
        metadata={
            "description": "`asc` or `desc`, any case.",
            "pattern": "^(?:[aA][sS][cC]|[dD][eE][sS][cC])$",
        },
    )
    limit = WholeNumber(load_default=20, validate=ma.validate.Range(min=1, max=100))
    offset = WholeNumber(load_default=0, validate=ma.validate.Range(min=0, max=2**63 - 1))
    after = ma.fields.String(
        metadata={
            "description": "Keyset pagination: the `nextCursor` of the previous page "
            "(then `offset` is ignored)."
        }  # fmt: skip
    )

    @ma.validates("order")
    def _order(self, value: str, **kwargs: Any) -> None:
        ORDER(value.lower())

    @ma.post_load
    def _normalize_order(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["order"] = data["order"].lower()
        return data


class CustomerListArgsSchema(_Paging):
    email = ma.fields.String(validate=NON_EMPTY, metadata={"description": "Exact, any case."})
    phone = ma.fields.String(
        validate=NON_EMPTY, metadata={"description": "Any format of the same number."}
    )
    userId = ma.fields.String(validate=NON_EMPTY, attribute="user_id")
    tag = ma.fields.String(validate=NON_EMPTY, metadata={"description": "Having this tag."})


class FilterSchema(BaseSchema):
    field = ma.fields.String(required=True, validate=ma.validate.OneOf(tuple(FIELDS)))
    operator = ma.fields.String(required=True)
    value = ma.fields.Raw(
        required=True,
        metadata={
            "description": f"A string of at most {bounds.MAX_FILTER_VALUE_LENGTH} characters; "
            "an integer or digit string for ids and dates; for `customers.tagsData`, a list "
            f"of 1 to {bounds.MAX_FILTER_TAG_NAMES} `{{name}}` objects."
        },
    )

    @ma.validates_schema
    def _fits(self, data: dict[str, Any], **kwargs: Any) -> None:
        spec = FIELDS[data["field"]]
        if data["operator"] not in OPERATORS[spec.kind]:
            allowed = ", ".join(OPERATORS[spec.kind])
            raise ma.ValidationError(f"Operators for {data['field']}: {allowed}.", "operator")
        try:
            coerce(spec, data["operator"], data["value"])
        except ValueError as exc:
            raise ma.ValidationError(str(exc), "value") from exc

    @ma.post_load
    def _condition(self, data: dict[str, Any], **kwargs: Any) -> Condition:
        spec = FIELDS[data["field"]]
        value = coerce(spec, data["operator"], data["value"])
        return Condition(spec.kind, str(spec.target), data["operator"], value)


class CustomerSearchSchema(_Paging):
    filter = ma.fields.List(
        ma.fields.Nested(FilterSchema),
        load_default=list,
        validate=ma.validate.Length(max=bounds.MAX_FILTERS),
        metadata={"description": f"At most {bounds.MAX_FILTERS} filters."},
    )
    comparison = ma.fields.String(
        load_default="AND",
        metadata={
            "description": "`AND` (default) or `OR`, any case.",
            "pattern": "^(?:[aA][nN][dD]|[oO][rR])$",
        },
    )

    @ma.validates("comparison")
    def _comparison(self, value: str, **kwargs: Any) -> None:
        ma.validate.OneOf(("AND", "OR"))(value.upper())


class CustomerPageSchema(BaseSchema):
    data = ma.fields.List(ma.fields.Nested(CustomerSchema), required=True)
    total = ma.fields.Integer(
        required=True, metadata={"description": "Customers matching, whatever the page."}
    )
    nextCursor = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `after` for the next page; null on the last page."},
    )
