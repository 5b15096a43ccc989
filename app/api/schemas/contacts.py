"""Partner contact schemas (eEndorsements ``/api/v1/partner/contacts``)."""

from __future__ import annotations

import marshmallow as ma

from app.api.schemas.common import BaseSchema, EmailAddress, UtcMillis, not_blank

EXAMPLE_REQUEST = {
    "email": "alex.johnson@example.com",
    "name": "Alex Johnson",
    "professional_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "external_id": "cust_001",
}
EXAMPLE_CONTACT = {
    "id": "7c3e1a2b-4d5f-6789-bcde-f01234567890",
    **EXAMPLE_REQUEST,
    "created_at": "2026-04-27T14:30:00.000Z",
}


class ContactUpsertSchema(BaseSchema):
    """A contact to create or update; fields left out keep their stored value."""

    email = EmailAddress(
        required=True,
        metadata={"description": "Email address; the fallback upsert key (case-insensitive)."},
    )
    name = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=255),
        metadata={"description": "Full name; `null` clears it."},
    )
    professional_id = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "The professional this contact worked with; `null` clears it."},
    )
    external_id = ma.fields.String(
        allow_none=True,
        validate=[ma.validate.Length(min=1, max=255), not_blank],
        metadata={
            "description": "Your stable id for the record (e.g. a CRM id), 1..255 characters; "
            "matched first, exactly after trimming. `null` clears it."
        },
    )


class ContactSchema(BaseSchema):
    """A contact as the partner API shows it."""

    id = ma.fields.UUID(
        attribute="contact_id", required=True, metadata={"description": "Contact id."}
    )
    email = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Primary email; null for a profile created without one."},
    )
    name = ma.fields.String(required=True, allow_none=True)
    professional_id = ma.fields.UUID(required=True, allow_none=True)
    external_id = ma.fields.String(required=True, allow_none=True)
    created_at = UtcMillis(
        required=True,
        metadata={"description": "First creation, UTC with milliseconds; never changes."},
    )
