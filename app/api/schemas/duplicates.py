"""Schemas of duplicate suggestions (``GET /v1/customers/{id}/duplicates``)."""

from __future__ import annotations

import marshmallow as ma

from app.api.schemas.common import BaseSchema
from app.api.schemas.customers import CustomerSchema
from app.api.schemas.fields import WholeNumber
from app.identity.suggestions import Reason
from app.services.suggestions import DEFAULT_LIMIT, MAX_LIMIT, MAX_SUGGESTIONS

REASONS = tuple(str(r) for r in Reason)


class DuplicateArgsSchema(BaseSchema):
    limit = WholeNumber(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Suggestions per page, 1 to {MAX_LIMIT}."},
    )
    after = ma.fields.String(
        metadata={"description": "The `nextCursor` of the previous page."},
    )


class DuplicateMatchSchema(BaseSchema):
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(("email", "phone", "name", "company", "city")),
        metadata={"description": "`email`, `phone` (normalized forms), `name`, `company`, `city`."},
    )
    value = ma.fields.String(required=True, metadata={"description": "The suggested customer's."})
    near = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "This customer's value where it differs (the typo, the number one "
            "digit away, the other spelling); null when the two are equal."
        },
    )


class DuplicateSchema(BaseSchema):
    customer = ma.fields.Nested(CustomerSchema, required=True)
    score = ma.fields.Float(
        required=True, metadata={"description": "0 to 99: how likely the two are one person."}
    )
    reasons = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(REASONS)),
        required=True,
        metadata={"description": "Why, strongest first: " + ", ".join(f"`{r}`" for r in REASONS)},
    )
    matched = ma.fields.List(ma.fields.Nested(DuplicateMatchSchema), required=True)


class DuplicatePageSchema(BaseSchema):
    data = ma.fields.List(
        ma.fields.Nested(DuplicateSchema),
        required=True,
        metadata={"description": f"Best first; at most {MAX_SUGGESTIONS} over all pages."},
    )
    nextCursor = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `after` for the next page; null on the last."},
    )
