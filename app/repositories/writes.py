"""The set-based write of a list of prepared writes: two statements for any number of
profiles (see writes.sql), whatever mix of creates, updates, identifiers and tags."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from app.identity import Identifier
from app.identity.names import HISTORY_LIMIT
from app.repositories import profiles
from app.sql import queries

q = queries("writes")
# Composed once, at import: composing it per execution costs more than the statement.
APPLY_WRITES = sql.SQL(q["apply_writes"]).format(**profiles.write_fragments()).as_string()


@dataclass
class Changes:
    """Everything one round of writes changes, gathered per step."""

    profiles: list[profiles.ProfileWrite] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)  # identifier row ids
    demote: list[int] = field(default_factory=list)
    promote: dict[int, str] = field(default_factory=dict)  # row id -> spelling
    add: list[tuple[int, Identifier, bool]] = field(default_factory=list)  # profile, id, primary
    tag_links: list[tuple[int, str]] = field(default_factory=list)  # profile, tag name_norm
    exact_tags: list[int] = field(default_factory=list)  # profiles whose links are set exactly


def apply(conn: psycopg.Connection, account_id: int, changes: Changes) -> None:
    """Write ``changes``: at most two statements, sent without waiting for their results
    (the transaction runs in pipeline mode; errors surface at the next read or the commit)."""
    if changes.delete or changes.demote:
        conn.execute(
            q["retire_identifiers"],
            {"account_id": account_id, "delete": changes.delete, "demote": changes.demote},
        )
    if not (changes.profiles or changes.promote or changes.add or changes.tag_links
            or changes.exact_tags):  # fmt: skip
        return
    add = changes.add
    params = {
        "account_id": account_id,
        "rows": Jsonb([profiles.row(w) for w in changes.profiles]),
        "promote": list(changes.promote),
        "promote_values": list(changes.promote.values()),
        "add_profiles": [profile_id for profile_id, _, _ in add],
        "add_kinds": [str(ident.kind) for _, ident, _ in add],
        "add_values": [ident.value for _, ident, _ in add],
        "add_norms": [ident.norm for _, ident, _ in add],
        "add_primary": [primary for _, _, primary in add],
        "tag_profiles": [profile_id for profile_id, _ in changes.tag_links],
        "tag_norms": [norm for _, norm in changes.tag_links],
        "exact_tags": changes.exact_tags,
        "names_kept": HISTORY_LIMIT,
    }
    conn.execute(APPLY_WRITES, params)
