"""Partner contacts (eEndorsements ``/api/v1/partner/contacts``): upsert and read."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from app import db, errors, identity
from app.identity import Kind
from app.repositories import identifiers, profiles
from app.repositories.profiles import Contact
from app.services import identity as identity_shell

# Request field -> identifier kind it carries.
IDENTIFIER_FIELDS = {"email": Kind.EMAIL, "external_id": Kind.EXTERNAL_ID}


def upsert_contact(account_id: int, data: dict[str, Any]) -> tuple[Contact, bool]:
    """Create or update the contact matched by external_id, then by email.

    Returns the contact and whether it was created. Writers of the same identifiers are
    serialized by advisory locks taken before the lookup, so concurrent first writes of one
    email or external id find each other instead of racing to insert.
    """
    carried = {
        kind: identity.identifier(kind, data[field]) if data[field] is not None else None
        for field, kind in IDENTIFIER_FIELDS.items()
        if field in data
    }
    present = [i for i in carried.values() if i is not None]

    def work(conn: psycopg.Connection) -> tuple[Contact, bool]:
        identifiers.lock_identifiers(conn, account_id, present)
        holders = identifiers.find_holders(conn, account_id, present)
        match = identity.match_contact(present, holders)
        if match.conflict:
            raise errors.IdentityConflict(
                "external_id and email belong to two different contacts; "
                "send the email of the contact that has this external_id, or omit one of them.",
            )
        created = match.profile_id is None
        profile_id = match.profile_id
        if profile_id is None:
            profile_id = profiles.insert_profile(conn, account_id)
        fields = {k: v for k, v in data.items() if k in ("name", "professional_id")}
        profiles.update_profile(conn, account_id, profile_id, fields)
        for kind, ident in carried.items():
            identity_shell.set_primary(conn, account_id, profile_id, kind, ident)
        return profiles.get_contact(conn, account_id, profile_id=profile_id), created

    return db.run_in_transaction(work)


def get_contact(account_id: int, contact_id: uuid.UUID) -> Contact:
    contact = db.fetch(lambda conn: profiles.get_contact(conn, account_id, contact_id=contact_id))
    if contact is None:
        raise errors.NotFound("Contact not found.")
    return contact
