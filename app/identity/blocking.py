"""Blocking keys for duplicate suggestions: which profiles are worth comparing at all.

Suggestions must be found through indexes, never by comparing a profile with the whole account,
and the embedded PostgreSQL has no ``pg_trgm`` or ``fuzzystrmatch``. So every fuzzy notion is
turned into exact keys here, in Python, in one place:

* names: ``name_key`` (the name's words as ``names.normalize_name`` leaves them, nicknames
  read as their given name, sorted: any order) and ``name_keys`` (that key and its loose
  variants: one word as its initial, a middle name dropped). Stored on the profile by the
  profile write (app/repositories/profiles.py), the 0010 backfill and the bench seeder; two
  names are worth comparing when their ``name_keys`` overlap (a GIN index);
* emails and phones need no stored key: the near misses of a value are few enough to be
  enumerated when asked (``email_probes``, ``phone_probes``) and looked up through the
  identifier index every write uses.

The nickname list (``nicknames.json``, through ``names.canonical``) and the domain typos
(``domain_typos.json``) are data files shipped beside the package, read once: static data,
like a constant. Changing them, or name normalization, changes stored keys: ship such a change
with a migration that backfills them (as 0010's step does).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from itertools import combinations

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from app.identity.names import canonical, normalize_name

# The profile columns these keys fill (derived, like the folded copies).
KEY_COLUMNS = ("name_key", "name_keys")
MAX_TOKENS = 6  # words of a name that count; a longer name is cut
MAX_TOKEN_LENGTH = 40
MAX_VARIANT_TOKENS = 4  # names longer than this get no loose variants
MAX_KEYS = 16


@functools.cache
def _domains() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """(misspelt domain -> real domain, real domain -> its misspellings), from
    ``domain_typos.json``."""
    text = resources.files("app.identity").joinpath("domain_typos.json").read_text("utf-8")
    typos = {real: tuple(wrong) for real, wrong in json.loads(text).items() if real[:1] != "_"}
    return {w: real for real, wrong in typos.items() for w in wrong}, typos


def tokens(name: str | None) -> tuple[str, ...]:
    """The words of a name as ``names.normalize_name`` leaves them: ``"O'Brien, Łucja"`` is
    ``("o", "brien", "lucja")``."""
    norm = normalize_name(name)
    return tuple(t[:MAX_TOKEN_LENGTH] for t in norm.split()[:MAX_TOKENS]) if norm else ()


def _key(parts: list[str] | tuple[str, ...]) -> str | None:
    if all(len(p) == 1 for p in parts):  # initials only ("J. G."): too weak to compare
        return None
    return " ".join(sorted(parts))


def name_key(name: str | None) -> str | None:
    """Sorted nickname-canonical words: "Bob Smith", "smith, ROBERT" and "Róbert Smith" are
    all ``"robert smith"``."""
    toks = tokens(name)
    return _key([canonical(t) for t in toks]) if toks else None


def name_keys(name: str | None) -> list[str] | None:
    """``name_key`` first, then its loose variants, at most ``MAX_KEYS``: each word in turn as
    its initial ("Jamie Gibson" has ``"gibson j"``, the key of "J. Gibson", and ``"g jamie"``;
    a typo in one word leaves the variant with the other word's initial in common), and for
    three words or more each one dropped (a middle name)."""
    full = name_key(name)
    if full is None:
        return None
    toks = tokens(name)
    base = [canonical(t) for t in toks]
    keys: list[str | None] = [full]
    if len(toks) <= MAX_VARIANT_TOKENS:
        for i, token in enumerate(toks):
            if len(toks) > 1 and len(token) > 1:
                for initial in dict.fromkeys((base[i][0], token[0])):
                    keys.append(_key([*base[:i], initial, *base[i + 1 :]]))
        if len(toks) >= 3:
            keys.extend(_key(kept) for kept in combinations(base, len(base) - 1))
    return [k for k in dict.fromkeys(keys) if k is not None][:MAX_KEYS]


def profile_keys(name: str | None) -> dict[str, str | list[str] | None]:
    """The derived key columns of a profile with this name (see ``KEY_COLUMNS``)."""
    return {"name_key": name_key(name), "name_keys": name_keys(name)}


def split_email(norm: str) -> tuple[str, str]:
    local, _, domain = norm.rpartition("@")
    return local, domain


def real_domain(domain: str) -> str:
    """The domain a known misspelling stands for (``gmial.com`` -> ``gmail.com``), else itself."""
    return _domains()[0].get(domain, domain)


def is_domain_typo(a: str, b: str) -> bool:
    """Two addresses with one local part, one of them on a known misspelling of the other's
    domain (or both on misspellings of one domain)."""
    (la, da), (lb, db) = split_email(a), split_email(b)
    return (
        la == lb
        and da != db
        and real_domain(da) == real_domain(db)
        and (da in _domains()[0] or db in _domains()[0])
    )


def email_probes(norm: str) -> list[str]:
    """The addresses that are a known domain typo away from ``norm`` (same local part)."""
    local, domain = split_email(norm)
    if not local:
        return []
    real = real_domain(domain)
    domains = {real, *_domains()[1].get(real, ())} - {domain}
    if real == domain and real not in _domains()[1]:
        return []
    return sorted(f"{local}@{d}" for d in domains)


def country_code(e164: str) -> str:
    """The calling code an E.164 number starts with (codes are prefix-free)."""
    for size in (1, 2, 3):
        code = e164[1 : 1 + size]
        if code.isdigit() and int(code) in COUNTRY_CODE_TO_REGION_CODE:
            return code
    return ""


def phone_probes(e164: str) -> list[str]:
    """Every number one national digit away from ``e164`` (a digit replaced by another)."""
    code = country_code(e164)
    national = e164[1 + len(code) :]
    if not code or not national.isdigit():
        return []
    head = "+" + code
    return [
        f"{head}{national[:i]}{digit}{national[i + 1 :]}"
        for i, current in enumerate(national)
        for digit in "0123456789"
        if digit != current
    ]


def one_digit_apart(a: str, b: str) -> bool:
    """Two E.164 numbers of one length that differ in exactly one national digit."""
    if len(a) != len(b) or country_code(a) != country_code(b):
        return False
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1
