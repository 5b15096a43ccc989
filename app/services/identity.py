"""The imperative shell around ``app.identity``: load holders, decide, write identifiers."""

from __future__ import annotations

import psycopg

from app.identity import Identifier, Kind
from app.repositories import identifiers as repo


def set_primary(
    conn: psycopg.Connection,
    account_id: int,
    profile_id: int,
    kind: Kind,
    identifier: Identifier | None,
) -> None:
    """Make ``identifier`` the profile's primary of its kind (``None`` clears it).

    The previous primary is replaced: it stops resolving to this profile.
    """
    current = repo.get_primary(conn, account_id, profile_id, kind)
    if identifier is not None and current == (identifier.value, identifier.norm):
        return
    if current is not None:
        repo.delete_primary(conn, account_id, profile_id, kind)
    if identifier is not None:
        repo.insert_identifier(conn, account_id, profile_id, identifier, primary=True)
