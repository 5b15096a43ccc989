"""Partner contacts (eEndorsements ``/api/v1/partner/contacts``): upsert and read."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from app import exceptions
from app.identity import Kind
from app.repositories import merges, profiles
from app.repositories.profiles import Contact
from app.services import resolution, writes
from app.services.context import Context, Settings

# Request field -> identifier kind it carries.
IDENTIFIER_FIELDS = {"email": Kind.EMAIL, "external_id": Kind.EXTERNAL_ID}
COLUMNS = ("name", "professional_id")


def prepare_contact(settings: Settings, data: dict[str, Any]) -> writes.Write:
    """The write of a validated upsert: it finds its person by external id, then email, and
    sets what it sends (``null`` clears); a replaced email stays as a secondary."""
    return writes.Write(
        columns={k: data[k] for k in COLUMNS if k in data},
        identifiers={
            kind: None if data[key] is None else resolution.identifier(settings, kind, data[key])
            for key, kind in IDENTIFIER_FIELDS.items()
            if key in data
        },
        keep_previous=True,
        name=data.get("name"),
    )


def upsert_contact(
    conn: psycopg.Connection, ctx: Context, write: writes.Write
) -> tuple[Contact, bool]:
    """Create or update the contact matched by external_id, then by email.

    Returns the contact and whether it was created. Writers of the same identifiers are
    serialized by advisory locks taken before the lookup, so concurrent first writes of one
    email or external id find each other instead of racing to insert. When the external id and
    the email name two different profiles, they are one person: they are merged first.
    """
    applied = writes.apply(conn, ctx, [write])
    [contact] = profiles.get_contacts(conn, ctx.account_id, applied.targets)
    return contact, applied.created[0]


def get_contact(conn: psycopg.Connection, ctx: Context, contact_id: uuid.UUID) -> Contact:
    """The contact, also when ``contact_id`` is a merged-away profile's (its survivor)."""
    profile_id = merges.resolve_contact_id(conn, ctx.account_id, contact_id)
    contact = None if profile_id is None else profiles.get_contact(conn, ctx.account_id, profile_id)
    if contact is None:
        raise exceptions.NotFound("Contact not found.")
    return contact
