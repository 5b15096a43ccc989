"""Named SQL blocks loaded from the ``.sql`` files beside this module (procrastinate-style).

A file holds blocks of the form::

    -- lock_identifiers --
    -- One line saying what the statement is for.
    SELECT ...

Repositories then run ``queries("identifiers")["lock_identifiers"]`` with ``%(name)s`` parameters.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

_BLOCK = re.compile(r"^-- ([a-z_][a-z0-9_]*) --$", re.MULTILINE)


@functools.cache
def queries(name: str) -> dict[str, str]:
    """Every named statement of ``<name>.sql``, keyed by its block name."""
    text = resources.files(__package__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
    parts = _BLOCK.split(text)
    blocks: dict[str, str] = {}
    for block_name, body in zip(parts[1::2], parts[2::2], strict=True):
        if block_name in blocks:
            raise ValueError(f"{name}.sql: block {block_name!r} defined twice")
        blocks[block_name] = _compact(block_name, body.strip())
    return blocks


def _compact(name: str, statement: str) -> str:
    """The statement as sent: named in a first comment line (as ``pg_stat_activity`` shows
    it), without its comment lines and indentation, so that psycopg's cache of parsed
    queries (statements up to 4,096 characters) holds it."""
    lines = [line.strip() for line in statement.splitlines()]
    return "\n".join(
        [f"-- {name}"] + [line for line in lines if line and not line.startswith("--")]
    )
