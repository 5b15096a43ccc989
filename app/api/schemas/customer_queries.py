"""Schemas of the customer list (``GET /v1/customers``) and search (``POST .../search``).

The HelpCrunch field and sort names live here, in the HTTP layer: each schema loads into the
keyword arguments of ``services.customer_queries.find`` (``conditions``, ``any_of``,
``sort_by``, paging), so the service sees only kinds, targets and operators.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import marshmallow as ma

from app import bounds, text
from app.api.schemas.common import BaseSchema
from app.api.schemas.customers import CustomerSchema
from app.api.schemas.fields import WholeNumber
from app.identity import Kind
from app.services.customer_queries import OPERATORS, Condition, coerce


class SearchField(NamedTuple):
    kind: str  # a key of services.customer_queries.OPERATORS
    target: str  # a profiles column, or an identifier kind


FIELDS = {
    "customers.id": SearchField("id", "id"),
    "customers.name": SearchField("text", "name"),
    "customers.company": SearchField("text", "company"),
    "customers.countryCode": SearchField("text", "country_code"),
    "customers.city": SearchField("text", "city"),
    "customers.regionCode": SearchField("text", "region_code"),
    "customers.email": SearchField("identifier", Kind.EMAIL),
    "customers.phone": SearchField("identifier", Kind.PHONE),
    "customers.userId": SearchField("identifier", Kind.EXTERNAL_ID),
    "customers.tagsData": SearchField("tags", "tags"),
    "customers.firstSeen": SearchField("date", "first_seen"),
    "customers.lastSeen": SearchField("date", "last_seen"),
    "customers.createdAt": SearchField("date", "created_at"),
}
# `customer.` (singular) is what one published client sends.
SORTS = {
    f"{prefix}.{name}": column
    for prefix in ("customers", "customer")
    for name, column in (("firstSeen", "first_seen"), ("lastSeen", "last_seen"))
}
# The list endpoint's exact identifier filters: loaded argument -> identifier kind.
EXACT = {"email": Kind.EMAIL, "phone": Kind.PHONE, "user_id": Kind.EXTERNAL_ID}

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
    def _paging(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["order"] = data["order"].lower()
        if "sort" in data:
            data["sort_by"] = SORTS[data.pop("sort")]
        return data


class CustomerListArgsSchema(_Paging):
    email = ma.fields.String(validate=NON_EMPTY, metadata={"description": "Exact, any case."})
    phone = ma.fields.String(
        validate=NON_EMPTY, metadata={"description": "Any format of the same number."}
    )
    userId = ma.fields.String(validate=NON_EMPTY, attribute="user_id")
    tag = ma.fields.String(validate=NON_EMPTY, metadata={"description": "Having this tag."})

    @ma.post_load
    def _conditions(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        conditions = [
            Condition("identifier", str(kind), "=", data.pop(key))
            for key, kind in EXACT.items()
            if key in data
        ]
        if "tag" in data:
            conditions.append(Condition("tags", "tags", "=", [text.fold(data.pop("tag"))]))
        return {**data, "conditions": conditions}


class FilterSchema(BaseSchema):
    field = ma.fields.String(required=True, validate=ma.validate.OneOf(tuple(FIELDS)))
    operator = ma.fields.String(
        required=True,
        metadata={
            # Every operator some field takes; which ones a field takes is checked with it.
            "enum": sorted({op for ops in OPERATORS.values() for op in ops}),
            "description": "`=`, `!=`, `>`, `<`, `>=`, `<=` for ids and dates; `=`, `!=`, "
            "`~` (contains), `!~` for text and identifiers; `=` for `customers.tagsData`.",
        },
    )
    value = ma.fields.Raw(
        required=True,
        metadata={
            "description": f"A string of at most {bounds.MAX_FILTER_VALUE_LENGTH} characters; "
            "an integer or digit string for ids and dates; for `customers.tagsData`, a list "
            f"of 1 to {bounds.MAX_FILTER_TAG_NAMES} `{{name}}` objects.",
            "oneOf": [
                {"type": "string", "maxLength": bounds.MAX_FILTER_VALUE_LENGTH},
                {"type": "integer"},
                {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": bounds.MAX_FILTER_TAG_NAMES,
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {
                                "type": "string",
                                "maxLength": bounds.MAX_FILTER_VALUE_LENGTH,
                            }
                        },
                        "required": ["name"],
                    },
                },
            ],
        },
    )

    @ma.validates_schema
    def _fits(self, data: dict[str, Any], **kwargs: Any) -> None:
        spec = FIELDS[data["field"]]
        if data["operator"] not in OPERATORS[spec.kind]:
            allowed = ", ".join(OPERATORS[spec.kind])
            raise ma.ValidationError(f"Operators for {data['field']}: {allowed}.", "operator")
        try:
            coerce(spec.kind, data["operator"], data["value"])
        except ValueError as exc:
            raise ma.ValidationError(str(exc), "value") from exc

    @ma.post_load
    def _condition(self, data: dict[str, Any], **kwargs: Any) -> Condition:
        spec = FIELDS[data["field"]]
        value = coerce(spec.kind, data["operator"], data["value"])
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

    @ma.post_load
    def _conditions(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["conditions"] = data.pop("filter")
        data["any_of"] = data.pop("comparison").upper() == "OR"
        return data


class CustomerPageSchema(BaseSchema):
    data = ma.fields.List(ma.fields.Nested(CustomerSchema), required=True)
    total = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Customers matching, whatever the page: counted on the first page "
            "of a walk; pages fetched with `after` repeat that count."
        },
    )
    nextCursor = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `after` for the next page; null on the last page."},
    )
