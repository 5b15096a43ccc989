"""Partner contacts (eEndorsements ``/api/v1/partner/contacts``): upsert and read."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from app import db, exceptions
from app.identity import Kind
from app.repositories import identifiers, profiles
from app.repositories import identity as identity_rows
from app.repositories.profiles import Contact
from app.services import identity as identity_shell

# Request field -> identifier kind it carries.
IDENTIFIER_FIELDS = {"email": Kind.EMAIL, "external_id": Kind.EXTERNAL_ID}


def upsert_contact(account_id: int, data: dict[str, Any]) -> tuple[Contact, bool]:
    """Create or update the contact matched by external_id, then by email.

    Returns the contact and whether it was created. Writers of the same identifiers are
    serialized by advisory locks taken before the lookup, so concurrent first writes of one
    email or external id find each other instead of racing to insert. When the external id and
    the email name two different profiles, they are one person: they are merged first.
    """

    def work(conn: psycopg.Connection) -> tuple[Contact, bool]:
        carried = {
            kind: None if data[field] is None else identity_shell.identifier(kind, data[field])
            for field, kind in IDENTIFIER_FIELDS.items()
            if field in data
        }
        present = [i for i in carried.values() if i is not None]
        identifiers.lock_identifiers(conn, account_id, present)
        found = identity_shell.resolve(conn, account_id, present, name=data.get("name"))
        profile_id = profiles.insert_profile(conn, account_id) if found is None else found
        fields = {k: v for k, v in data.items() if k in ("name", "professional_id")}
        profiles.update_profile(conn, account_id, profile_id, fields)
        for kind, ident in carried.items():
            identity_shell.set_identifier(
                conn, account_id, profile_id, kind, ident, keep_previous=True
            )
        return profiles.get_contact(conn, account_id, profile_id), found is None

    return db.run_in_transaction(work)


def get_contact(account_id: int, contact_id: uuid.UUID) -> Contact:
    """The contact, also when ``contact_id`` is a merged-away profile's (its survivor)."""

    def work(conn: psycopg.Connection) -> Contact | None:
        profile_id = identity_rows.resolve_contact_id(conn, account_id, contact_id)
        return None if profile_id is None else profiles.get_contact(conn, account_id, profile_id)

    contact = db.fetch(work)
    if contact is None:
        raise exceptions.NotFound("Contact not found.")
    return contact
