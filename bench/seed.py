"""Seed the bench database fast: people generated in Python, COPYed straight into the service's
tables and the floor's ``contacts``, secondary indexes built after the load.

    .venv/bin/python -m bench.seed --profiles 1000000

Several accounts, one of them large (half of everyone); realistic identifiers (emails with
case variants, E.164 phones in several national formats, external ids of several shapes, a
few secondary emails), names with accents, households that share a surname and a phone, tags,
typed custom data, events. Values are normalized the way the app does (``app.identity``,
``app.text.fold``); a sample of every generated kind is checked against the app's own
normalization before the load. The large account also holds pairs of profiles that are one
person split in two, which scenario 6's creates merge.

Speed (a million in about 90 s on two cores): the tables' secondary indexes and the unique
constraints no foreign key needs are dropped first; two transactions (the service's tables,
the floor's) truncate their tables so that ``COPY ... FREEZE`` applies (rows visible to all,
no later vacuum rewrite), with foreign-key triggers off (``session_replication_role =
replica``; superuser only, otherwise they run); this thread generates chunks while two writer
threads stream the previous ones; then the indexes and constraints are built again and each
table gets ``VACUUM ANALYZE``, two tables at a time. BENCH_SEED_VERBOSE=1 times each build.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import queue
import random
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from app import migrations, text
from app.identity import blocking, normalize

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/contacts_bench"
FLOOR_SCHEMA = Path(__file__).resolve().parent / "floor" / "schema.sql"
# Name and share (per cent) of the accounts; the first is the large one.
ACCOUNTS = (("bench-large", 50), ("bench-b", 20), ("bench-c", 12), ("bench-d", 8),
            ("bench-e", 6), ("bench-f", 4))  # fmt: skip
SAMPLE_SIZE = 20_000
CHUNK = 25_000
# Tables that reference profiles and stay empty in the seed: truncated with them.
REFERENCING = ("distinct_profiles",)
TABLES = ("profiles", "profile_identifiers", "profile_tags", "events", "contacts", "bench_sample")

FIRST = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Sandra Mark Ashley Steven Emily Andrew Donna Joshua Michelle Kevin "
    "Carol Brian Amanda George Melissa Timothy Deborah Ryan Stephanie Jacob Rebecca Nicholas "
    "Laura Eric Helen Jonathan Sharon Stephen Cynthia Larry Kathleen Justin Amy Scott Anna "
    "José María Zoë Renée Chloé Jürgen Günther Łukasz Søren François Hélène Inés Björn Oleksandr "
    "Olena Dmytro Iryna Mateusz Zofia Lukas Lena Jonas Mia Hugo Léa Lucas Camille Pablo Lucía "
    "Alejandro Sofía Giulia Marco Francesca Matteo Aoife Seán Niamh Priya Arjun Wei Mei Yuki Hana"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Müller Schmidt "
    "Schneider Fischer Weber Meyer Wagner Becker Schäfer Koch Nowak Kowalski Wiśniewski Wójcik "
    "Kowalczyk Dubois Durand Lefèvre Moreau Laurent Girard Bonnet Dupont García Fernández "
    "González Rodríguez López Martínez Sánchez Pérez Rossi Russo Ferrari Esposito Bianchi "
    "Romano Kovalenko Bondarenko Tkachenko Shevchenko Melnyk O'Brien Murphy Kelly Sullivan "
    "Walsh Jensen Nielsen Hansen Andersen Larsen Svensson Johansson Karlsson Tanaka Suzuki Kim "
    "Park Chen Wang Singh Patel"
).split()
COMPANIES = (
    "Acme Corp", "Globex", "Initech", "Umbrella Ltd", "Stark Industries", "Wayne Enterprises",
    "Hooli", "Pied Piper", "Vandelay Industries", "Soylent", "Tyrell", "Cyberdyne", "Wonka",
    "Aperture Science", "Black Mesa", "Massive Dynamic", "Nakatomi", "Oceanic", "Dunder Mifflin",
    "Bluth Company", "Müller GmbH", "Société Générale de Bâtiment", "Żabka Polska", "Roga i Kopyta",
)  # fmt: skip
CITIES = (
    ("New York", "US", "NY"), ("San Francisco", "US", "CA"), ("Austin", "US", "TX"),
    ("Chicago", "US", "IL"), ("Seattle", "US", "WA"), ("Boston", "US", "MA"),
    ("London", "GB", "ENG"), ("Manchester", "GB", "ENG"), ("Berlin", "DE", "BE"),
    ("München", "DE", "BY"), ("Köln", "DE", "NW"), ("Paris", "FR", "IDF"), ("Lyon", "FR", "ARA"),
    ("Kyiv", "UA", "30"), ("Lviv", "UA", "46"), ("Kraków", "PL", "12"), ("Madrid", "ES", "MD"),
    ("São Paulo", "BR", "SP"), ("Zürich", "CH", "ZH"), ("Dublin", "IE", "D"),
)  # fmt: skip
DOMAINS = (
    ("gmail.com", 30), ("yahoo.com", 8), ("outlook.com", 8), ("hotmail.com", 6),
    ("icloud.com", 5), ("proton.me", 2), ("web.de", 3), ("gmx.de", 3), ("orange.fr", 3),
    ("btinternet.com", 2), ("ukr.net", 2), ("acme.io", 2), ("globex.com", 2), ("initech.co", 2),
)  # fmt: skip
US_AREAS = (201, 212, 213, 305, 312, 404, 415, 425, 503, 512, 617, 646, 702, 713, 718, 773,
            805, 818, 917, 949, 972)  # fmt: skip
TAGS = (
    ("vip", "#ff0000"), ("newsletter", "#00aa00"), ("Lead", "#cccccc"), ("Black Friday", "black"),
    ("trial", "#3366ff"), ("churn-risk", "orange"), ("enterprise", "#660099"), ("beta", "teal"),
    ("partner", "#996633"), ("Kunde", "#0099cc"), ("Événement", "#cc3366"), ("support", "gray"),
    ("onboarding", "#33cc99"), ("upsell", "#ff9900"), ("webinar", "navy"), ("referral", "#999900"),
    ("mobile", "#0066cc"), ("desktop", "#663300"), ("spring-sale", "pink"), ("NPS 9+", "gold"),
    ("late-payer", "maroon"), ("EU", "#003399"), ("US", "#b22234"), ("Ärger", "purple"),
)  # fmt: skip
# name, type, how it was defined (the batch scenario writes the first three)
ATTRIBUTES = (("plan", "string", "explicit"), ("visitsNum", "number", "inferred"),
              ("vipBool", "boolean", "inferred"), ("renewedAt", "date", "inferred"),
              ("siteUrl", "url", "inferred"), ("ltv", "number", "explicit"))  # fmt: skip
TAG_COUNTS = (0, 0, 1, 1, 2, 2, 3, 4)
EVENT_COUNTS = (0, 0, 1, 1, 1, 2, 3)
PLANS = ("free", "starter", "pro", "business", "enterprise")
EVENTS = (("Page View", '{"page": "/pricing"}'), ("Signup", '{"plan": "free"}'),
          ("Button Click", '{"button": "buy"}'), ("Chat Started", "{}"),
          ("Purchase", '{"amount": 49.9, "currency": "EUR"}'),
          ("Email Opened", '{"campaign": "spring"}'))  # fmt: skip
SOURCES = ("widget", "api", "import", "chat", "email")
PAGES = (
    "https://shop.example.org/pricing",
    "https://shop.example.org/",
    "https://shop.example.org/checkout",
)
REFERERS = ("https://www.google.com/", "https://t.co/", "https://news.ycombinator.com/")
LOCALES = ("en", "en", "en", "de", "fr", "es", "uk", "pl", "pt", "it")
NICKNAMES = {"William": "Bill", "Robert": "Bob", "Elizabeth": "Liz", "Richard": "Dick",
             "Michael": "Mike", "Jennifer": "Jenny", "Joseph": "Joe", "Thomas": "Tom"}  # fmt: skip


@dataclass
class AccountInfo:
    name: str
    id: int
    key: str
    profiles: int
    id_lo: int
    id_hi: int


@dataclass
class SeedResult:
    profiles: int
    accounts: list[AccountInfo]
    large: AccountInfo
    pairs_per_variant: int
    sample_file: str
    pairs_files: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)
    planted_file: str | None = None  # planted duplicates: original id, twin id (the sweep's truth)
    planted: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ascii_fold(value: str) -> str:
    """Letters of a name as an email local part would carry them (``Łukasz`` -> ``lukasz``)."""
    value = value.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def pairs_per_variant(profiles: int) -> int:
    return max(300, profiles // 40)


def _admin(url: str, statements: list[str]) -> None:
    """Run ``statements`` (``{}``: the bench database's name) from the server's ``postgres``."""
    name = psycopg.conninfo.conninfo_to_dict(url).get("dbname")
    if not name or name in ("postgres", "template0", "template1"):
        raise SystemExit(f"refusing to drop or create database {name!r}: name a dedicated one")
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in statements:
            conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


def recreate_database(url: str) -> None:
    """Drop and create the bench database named by ``url``, with the C collation that the
    embedded PostgreSQL of ``make run``/``make test`` uses (``initdb --locale=C``): the app
    folds text itself, and text indexes build and compare by bytes."""
    _admin(url, [
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'",
    ])  # fmt: skip


def drop_database(url: str) -> None:
    _admin(url, ["DROP DATABASE IF EXISTS {} WITH (FORCE)"])


class Generator:
    """Rows of people, as COPY text, chunk by chunk."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=730)
        self.times = [
            (start + dt.timedelta(seconds=s)).isoformat(sep=" ")
            for s in sorted(self.rng.randrange(0, 729 * 86400) for _ in range(4096))
        ]
        self.domains = [d for d, w in DOMAINS for _ in range(w)]
        self.fold_cache: dict[str, str] = {}
        self.keys_cache: dict[str, tuple[str, str]] = {}
        self.ascii_cache: dict[str, str] = {}
        self.tag_ids: list[int] = []

    def fold(self, value: str) -> str:
        folded = self.fold_cache.get(value)
        if folded is None:
            folded = self.fold_cache[value] = text.fold(value)
        return folded

    def name_keys(self, name: str | None) -> tuple[str, str]:
        """The name's blocking keys (app/identity/blocking.py) as COPY text: the key, the array."""
        if name is None:
            return "\\N", "\\N"
        found = self.keys_cache.get(name)
        if found is None:
            keys = blocking.profile_keys(name)
            assert all('"' not in k and "\\" not in k for k in keys["name_keys"] or ())
            found = self.keys_cache[name] = (
                _n(keys["name_key"]),
                "\\N" if keys["name_keys"] is None
                else "{" + ",".join(f'"{k}"' for k in keys["name_keys"]) + "}",
            )  # fmt: skip
        return found

    def ascii(self, value: str) -> str:
        folded = self.ascii_cache.get(value)
        if folded is None:
            folded = self.ascii_cache[value] = ascii_fold(value)
        return folded

    def phone(self) -> tuple[str, str]:
        """A phone as a person would type it, and its E.164 form."""
        r = self.rng
        random_ = r.random
        country = random_()
        if country < 0.7:
            area = US_AREAS[int(random_() * len(US_AREAS))]
            exchange, line = 200 + int(random_() * 800), int(random_() * 10000)
            style = int(random_() * 5)
            value = (
                f"+1 {area}-{exchange}-{line:04d}", f"({area}) {exchange}-{line:04d}",
                f"{area}.{exchange}.{line:04d}", f"{area}{exchange}{line:04d}",
                f"+1{area}{exchange}{line:04d}",
            )[style]  # fmt: skip
            return value, f"+1{area}{exchange}{line:04d}"
        if country < 0.8:
            a, b = r.randrange(7000, 8000), r.randrange(100000, 1000000)
            return (f"+44 {a} {b}" if r.random() < 0.5 else f"+44{a}{b}"), f"+44{a}{b}"
        if country < 0.9:
            a, b = r.choice((151, 160, 170, 176)), r.randrange(10_000_000, 100_000_000)
            return (f"+49 {a} {b}" if r.random() < 0.5 else f"+49{a}{b}"), f"+49{a}{b}"
        digits = f"{r.choice((6, 7))}{r.randrange(10_000_000, 100_000_000)}"
        spaced = " ".join([digits[0], *(digits[i : i + 2] for i in range(1, 9, 2))])
        return (f"+33 {spaced}" if r.random() < 0.5 else f"+33{digits}"), f"+33{digits}"

    def email(self, first: str, last: str, n: int) -> tuple[str, str]:
        """An address with the profile's number in it (unique per account), as typed."""
        random_ = self.rng.random
        f, la = self.ascii(first), self.ascii(last)
        shape = int(random_() * 5)
        if shape == 0:
            local = f"{f}.{la}{n}"
        elif shape == 1:
            local = f"{f[0]}{la}{n}"
        elif shape == 2:
            local = f"{f}{n}"
        elif shape == 3:
            local = f"{la}.{f}.{n}"
        else:
            local = f"{f}_{la}_{n}"
        domains = self.domains
        norm = f"{local}@{domains[int(random_() * len(domains))]}"
        case = random_()
        if case < 0.12:
            local_part, domain = norm.split("@")
            value = f"{local_part.capitalize()}@{domain.capitalize()}"
        elif case < 0.15:
            value = norm.upper()
        else:
            value = norm
        return value, norm

    def external_id(self, n: int) -> str:
        r = self.rng
        shape = r.random()
        if shape < 0.35:
            return f"cust_{n:07d}"
        if shape < 0.6:
            return f"user_{1_000_000_000 + n * 7}"
        if shape < 0.8:
            return str(6_000_000_000 + n * 13)
        return "%08x-%04x-4%03x-%04x-%012x" % (  # noqa: UP031  a UUID4 without the uuid module
            r.getrandbits(32), r.getrandbits(16), r.getrandbits(12),
            0x8000 | r.getrandbits(14), r.getrandbits(48),
        )  # fmt: skip


def _n(value: str | None) -> str:
    return "\\N" if value is None else value


def generate_account(
    gen: Generator,
    account: AccountInfo,
    pairs: int,
    out: queue.Queue,
    sample: list[tuple] | None,
    pair_rows: dict[str, list],
    planted: float = 0.0,
    twins: list[tuple[int, int]] | None = None,
) -> dict[str, int]:
    """Every row of one account, put on ``out`` chunk by chunk; ``pairs`` split people per
    merge variant at the end of the large account (0 elsewhere). With ``planted``, that share
    of the ordinary profiles are twins: a second profile of a person already written, on the
    same phone under a variant of the name, that the write path never compared (the sweep's
    planted duplicates, listed in ``twins``)."""
    r = gen.rng
    random_ = r.random

    def pick(seq: Any) -> Any:
        return seq[int(random_() * len(seq))]

    times = gen.times
    ntimes = len(times)
    tag_ids = gen.tag_ids
    tag_json = {tid: json.dumps({"name": n, "color": c}, ensure_ascii=False)
                for tid, (n, c) in zip(tag_ids, TAGS, strict=True)}  # fmt: skip
    counts = {t: 0 for t in TABLES}
    ordinary = account.profiles - 4 * pairs
    keep = min(1.0, SAMPLE_SIZE * 1.2 / max(ordinary, 1)) if sample is not None else 0.0
    acc = str(account.id)
    rows: dict[str, list[str]] = {t: [] for t in TABLES[:5]}
    household_left, household_last, household_phone = 0, "", ("", "")

    def flush() -> None:
        for table, lines in rows.items():
            if lines:
                out.put((table, "".join(lines)))
                counts[table] += len(lines)
                lines.clear()

    def person(n: int, first: str, last: str | None, name: str | None, *, phone: Any = None,
               ext: Any = True, email: Any = True, secondary: bool = False) -> tuple:  # fmt: skip
        """Write one profile with its identifiers, tags, events and floor row."""
        pid = str(n)
        contact_id = _uuid(r)
        a, b = int(random_() * ntimes), int(random_() * ntimes)
        if a > b:
            a, b = b, a
        created, updated = times[a], times[b]
        if random_() < 0.55:
            company = pick(COMPANIES)
            company_fold = gen.fold(company)
        else:
            company = company_fold = None
        if random_() < 0.7:
            city, country, region = pick(CITIES)
            loc = (city, country, region, gen.fold(city), gen.fold(country), gen.fold(region))
        else:
            loc = (None,) * 6
        seen = random_() < 0.85
        notes = "Called back about the invoice" if random_() < 0.08 else None
        custom = []
        if random_() < 0.7:
            custom.append(f'"plan": "{pick(PLANS)}"')
        if random_() < 0.6:
            custom.append(f'"visitsNum": {1 + int(random_() * 499)}')
        if random_() < 0.3:
            custom.append(f'"vipBool": {"true" if random_() < 0.2 else "false"}')
        if random_() < 0.3:
            custom.append(f'"renewedAt": {1_700_000_000 + int(random_() * 40_000_000)}')
        if random_() < 0.1:
            custom.append(f'"siteUrl": "https://www.{gen.ascii(last or first)}{n}.example.org/"')
        custom_data = "{" + ", ".join(custom) + "}"
        rows["profiles"].append("\t".join((
            acc, pid, contact_id, _n(name), "\\N" if random_() > 0.1 else _uuid(r), created,
            updated,
            _n(company), created if seen else "\\N", updated if seen else "\\N",
            _n(loc[2]), _n(loc[1]), _n(loc[0]),
            "t" if random_() < 0.05 else "f", "t" if random_() < 0.01 else "f",
            pick(SOURCES), pick(REFERERS) if random_() < 0.3 else "\\N",
            pick(PAGES) if random_() < 0.4 else "\\N", pick(LOCALES),
            "api" if random_() < 0.5 else "widget", "\\N", _n(notes), custom_data,
            _n(gen.fold(name) if name else None), _n(company_fold), _n(loc[3]), _n(loc[4]),
            _n(loc[5]), *gen.name_keys(name),
        )) + "\n")  # fmt: skip
        ident = rows["profile_identifiers"]
        email_value = email_norm = None
        if email is True:
            email_value, email_norm = gen.email(first, last or first, n)
        elif email:
            email_value, email_norm = email
        if email_value:
            ident.append(f"{acc}\t{pid}\temail\t{email_value}\t{email_norm}\tt\t{created}\n")
        if secondary:
            old = f"{gen.ascii(first)}{n}@aol.com"
            ident.append(f"{acc}\t{pid}\temail\t{old}\t{old}\tf\t{created}\n")
        ext_id = gen.external_id(n) if ext is True else (ext or None)
        if ext_id:
            ident.append(f"{acc}\t{pid}\texternal_id\t{ext_id}\t{ext_id}\tt\t{created}\n")
        if phone:
            ident.append(f"{acc}\t{pid}\tphone\t{phone[0]}\t{phone[1]}\tt\t{created}\n")
        tags = sorted({pick(tag_ids) for _ in range(pick(TAG_COUNTS))})
        for tid in tags:
            rows["profile_tags"].append(f"{acc}\t{pid}\t{tid}\n")
        for _ in range(pick(EVENT_COUNTS)):
            ev_name, ev_data = pick(EVENTS)
            ev_time = times[a + int(random_() * (ntimes - a))]
            ev_id = r.getrandbits(52) + 1  # as random_public_id() draws them
            rows["events"].append(f"{acc}\t{ev_id}\t{pid}\t{ev_name}\t{ev_data}\t{ev_time}\n")
        rows["contacts"].append("\t".join((
            acc, pid, contact_id, _n(email_norm), _n(ext_id), _n(phone[0] if phone else None),
            _n(name),
            _n(company), _n(loc[0]), _n(loc[1]), _n(notes),
            "[" + ", ".join(tag_json[t] for t in tags) + "]", custom_data, created, updated,
        )) + "\n")  # fmt: skip
        return email_value, email_norm, ext_id

    n = account.id_lo
    twin_of: tuple[int, str, str, Any] | None = None
    # Per eligible profile (a phone of its own and a full name: about 0.44 of them).
    twin_chance = planted / 0.44
    for i in range(ordinary):
        if twin_of is not None:
            original, first, last, phone = twin_of
            twin_of = None
            person(n, first, last, name_variant(r, first, last), phone=phone, ext=False)
            if twins is not None:
                twins.append((original, n))
            n += 1
            if (i + 1) % CHUNK == 0:
                flush()
            continue
        if household_left == 0 and random_() < 0.03:
            household_left = 2 + int(random_() * 3)
            household_last, household_phone = pick(LAST), gen.phone()
            household_firsts: set[str] = set()
        first = pick(FIRST)
        if household_left:
            household_left -= 1
            last, phone = household_last, household_phone
            while first in household_firsts:  # one household, different given names
                first = pick(FIRST)
            household_firsts.add(first)
        else:
            last = pick(LAST)
            phone = gen.phone() if random_() < 0.6 else None
        shape = random_()
        name = f"{first} {last}" if shape < 0.9 else (first if shape < 0.95 else None)
        email_value, email_norm, ext_id = person(
            n, first, last, name, phone=phone, ext=random_() < 0.65, secondary=random_() < 0.05
        )
        if random_() < keep:
            sample.append((n, email_value, email_norm, ext_id, name))
        if planted and phone and not household_left and shape < 0.9 and random_() < twin_chance:
            twin_of = (n, first, last, phone)
        n += 1
        if (i + 1) % CHUNK == 0:
            flush()
    # One person split in two, per merge variant: "email" (A's email with B's userId) and
    # "phone" (A's email with B's phone and a similar name).
    for variant in ("email", "phone"):
        for _ in range(pairs):
            first, last = r.choice(FIRST), r.choice(LAST)
            name = f"{first} {last}"
            a_email, _, a_ext = person(n, first, last, name, ext=True)
            if variant == "email":
                _, _, b_ext = person(n + 1, first, last, name, ext=True)
                pair_rows[variant].append((a_email, b_ext, name))
            else:
                b_phone = gen.phone()
                b_name = f"{NICKNAMES.get(first, first)} {last}"
                person(n + 1, first, last, b_name, phone=b_phone, ext=random_() < 0.5)
                pair_rows[variant].append((a_email, b_phone[0], name))
            n += 2
    flush()
    assert n == account.id_hi + 1, (n, account.id_hi)
    return counts


def name_variant(r: random.Random, first: str, last: str) -> str:
    """The same person's name as another system wrote it: a nickname, an initial, swapped
    order, or a typo in the given name (all at or above the threshold of the phone + name
    rule)."""
    shape = r.random()
    if shape < 0.25 and first in NICKNAMES:
        return f"{NICKNAMES[first]} {last}"
    if shape < 0.5:
        return f"{first[0]}. {last}"
    if shape < 0.75 or len(first) < 4:
        return f"{last} {first}"
    k = 1 + int(r.random() * (len(first) - 2))  # two neighbouring letters swapped
    return f"{first[:k]}{first[k + 1]}{first[k]}{first[k + 2 :]} {last}"


def _uuid(r: random.Random) -> str:
    """A random (version 4) UUID's text."""
    h = f"{r.getrandbits(128) | (1 << 127):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


COLUMNS = {
    "profiles": "account_id, id, contact_id, name, professional_id, created_at, updated_at, "
    "company, first_seen, last_seen, region_code, country_code, city, unsubscribed, blocked, "
    "source, referer, last_page, locale, created_from, integration_id, notes, custom_data, "
    "name_fold, company_fold, city_fold, country_code_fold, region_code_fold, name_key, "
    "name_keys",
    "profile_identifiers": "account_id, profile_id, kind, value, value_norm, is_primary, "
    "created_at",
    "profile_tags": "account_id, profile_id, tag_id",
    "events": "account_id, id, profile_id, name, data, created_at",
    "contacts": "account_id, id, contact_id, email_norm, external_id, phone, name, company, city, "
    "country_code, notes, tags, custom_data, created_at, updated_at",
    "bench_sample": "n, profile_id, email, email_norm, external_id, name",
}


def self_check(gen: Generator) -> None:
    """The generated normal forms are the app's: check a sample against app.identity/text."""
    state = gen.rng.getstate()
    for _ in range(3000):
        value, norm = gen.phone()
        assert normalize.normalize_phone(value) == norm, (value, norm)
        first, last = gen.rng.choice(FIRST), gen.rng.choice(LAST)
        value, norm = gen.email(first, last, gen.rng.randrange(1, 10**7))
        assert normalize.normalize_email(value) == norm, (value, norm)
        ext = gen.external_id(gen.rng.randrange(1, 10**7))
        assert normalize.normalize_external_id(ext) == ext
    for value in (*FIRST, *LAST, *COMPANIES, *(c for city in CITIES for c in city)):
        assert gen.fold(value) == text.fold(value)
    gen.rng.setstate(state)


# The floor's table loads on a connection of its own, beside the service's tables.
FLOOR_TABLES = ("contacts", "bench_sample")


def _copy_worker(conn: psycopg.Connection, chunks: queue.Queue, errors: list) -> None:
    try:
        while (item := chunks.get()) is not None:
            table, data = item
            statement = f"COPY {table} ({COLUMNS[table]}) FROM STDIN WITH (FREEZE)"
            with conn.cursor().copy(statement) as copy:
                copy.write(data)
    except BaseException as exc:  # reported by the generating thread
        errors.append(exc)
        while chunks.get() is not None:  # keep the producer from blocking
            pass


def _loader(url: str, tables: tuple[str, ...]) -> psycopg.Connection:
    """A connection in a transaction that has truncated ``tables`` (so COPY may FREEZE)."""
    conn = psycopg.connect(url)
    superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if superuser.fetchone()[0]:
        conn.execute("SET session_replication_role = replica")  # no FK triggers in COPY
    conn.execute(f"TRUNCATE {', '.join(_with_referencing(tables))}")
    return conn


def _with_referencing(tables: tuple[str, ...]) -> tuple[str, ...]:
    """The tables, and those whose foreign keys reference them (left empty by the seed)."""
    return tables + (REFERENCING if "profiles" in tables else ())


def _drop_indexes(conn: psycopg.Connection) -> dict[str, list[str]]:
    """Drop the loaded tables' indexes and the unique constraints no foreign key needs; the
    statements that build them again, by table."""
    rebuild: dict[str, list[str]] = {t: [] for t in TABLES}
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint c"
        " WHERE contype IN ('p', 'u') AND conrelid::regclass::text = ANY(%s) AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)",
        [list(TABLES)],
    ).fetchall()
    indexes = conn.execute(
        "SELECT t.relname, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [list(TABLES)],
    ).fetchall()
    for table, name, definition in constraints:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        rebuild[table].append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for table, name, definition in indexes:
        conn.execute(f"DROP INDEX {name}")
        rebuild[table].append(definition)
    return rebuild


def _build(url: str, rebuild: dict[str, list[str]], rows: dict[str, int]) -> None:
    """Build the indexes and VACUUM ANALYZE each table, two tables at a time (two cores)."""
    jobs: queue.Queue = queue.Queue()
    for table in sorted(rebuild, key=lambda t: -rows.get(t, 0) * (1 + len(rebuild[t]))):
        jobs.put(table)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SET maintenance_work_mem = '1GB'")
                conn.execute("SET max_parallel_maintenance_workers = 0")
                while True:
                    try:
                        table = jobs.get_nowait()
                    except queue.Empty:
                        return
                    for statement in [*rebuild[table], f"VACUUM (ANALYZE) {table}"]:
                        t0 = time.monotonic()
                        conn.execute(statement)
                        if os.environ.get("BENCH_SEED_VERBOSE"):
                            print(f"{time.monotonic() - t0:6.1f}s {statement[:90]}", flush=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def seed(
    url: str, profiles: int, out_dir: Path, seed_value: int = 16, planted: float = 0.0
) -> SeedResult:
    """Migrate the (empty) database named by ``url`` and fill it with ``profiles`` people
    (``planted``: the share of them that are planted duplicates, for the sweep)."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)
        if conn.execute("SELECT to_regclass('contacts')").fetchone()[0] is None:
            conn.execute(FLOOR_SCHEMA.read_text())
        rebuild = _drop_indexes(conn)
    timings["migrate"] = time.monotonic() - started

    gen = Generator(seed_value)
    self_check(gen)
    pairs = pairs_per_variant(profiles)
    accounts = _create_accounts(url, profiles, pairs)
    large = accounts[0]
    sample: list[tuple] = []
    pair_rows: dict[str, list] = {"email": [], "phone": []}
    twins: list[tuple[int, int]] = []
    counts = {t: 0 for t in TABLES}

    load_started = time.monotonic()
    service_tables = tuple(t for t in TABLES if t not in FLOOR_TABLES)
    with _loader(url, service_tables) as service, _loader(url, FLOOR_TABLES) as floor:
        tag_ids = _tags_and_attributes(service, accounts)
        service.commit()  # tags and attributes: before the TRUNCATE that enables FREEZE
        service.execute(f"TRUNCATE {', '.join(_with_referencing(service_tables))}")
        queues = {name: queue.Queue(maxsize=6) for name in ("service", "floor")}
        errors: list[BaseException] = []
        writers = [
            threading.Thread(target=_copy_worker, args=(conn, queues[name], errors), daemon=True)
            for name, conn in (("service", service), ("floor", floor))
        ]
        for writer in writers:
            writer.start()

        class Router:
            def put(self, item: tuple[str, str]) -> None:
                queues["floor" if item[0] in FLOOR_TABLES else "service"].put(item)

        try:
            for account in accounts:
                gen.tag_ids = tag_ids[account.id]
                got = generate_account(
                    gen, account, pairs if account is large else 0, Router(),
                    sample if account is large else None, pair_rows, planted, twins,
                )  # fmt: skip
                for table, count in got.items():
                    counts[table] += count
                if errors:
                    break
            gen.rng.shuffle(sample)
            del sample[SAMPLE_SIZE:]
            Router().put((
                "bench_sample",
                "".join(
                    f"{i}\t{pid}\t{e}\t{en}\t{_n(x)}\t{_n(nm)}\n"
                    for i, (pid, e, en, x, nm) in enumerate(sample, 1)
                ),
            ))  # fmt: skip
            counts["bench_sample"] = len(sample)
        finally:
            for q in queues.values():
                q.put(None)
            for writer in writers:
                writer.join()
        if errors:
            raise errors[0]
        top = accounts[-1].id_hi
        service.execute("SELECT setval('profiles_id_seq', %s)", [top])
        floor.execute("SELECT setval('contacts_id_seq', %s)", [top])
        service.commit()
        floor.commit()
    timings["copy"] = time.monotonic() - load_started
    index_started = time.monotonic()
    _build(url, rebuild, counts)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) tags, custom_attributes, accounts, api_keys")
    timings["indexes_vacuum_analyze"] = time.monotonic() - index_started
    timings["total"] = time.monotonic() - started

    out_dir.mkdir(parents=True, exist_ok=True)
    sample_file = out_dir / "sample.tsv"
    sample_file.write_text(
        "".join(f"{pid}\t{e}\t{x or ''}\t{nm or ''}\n" for pid, e, _, x, nm in sample)
    )
    pairs_files = {}
    for variant, items in pair_rows.items():
        path = out_dir / f"pairs-{variant}.tsv"
        path.write_text("".join("\t".join(item) + "\n" for item in items))
        pairs_files[variant] = str(path)
    planted_file = None
    if planted:
        planted_path = out_dir / "planted.tsv"
        planted_path.write_text("".join(f"{a}\t{b}\n" for a, b in twins))
        planted_file = str(planted_path)
    return SeedResult(
        profiles=profiles, accounts=accounts, large=large, pairs_per_variant=pairs,
        sample_file=str(sample_file), pairs_files=pairs_files, counts=counts, seconds=timings,
        planted_file=planted_file, planted=len(twins),
    )  # fmt: skip


def _create_accounts(url: str, profiles: int, pairs: int) -> list[AccountInfo]:
    """The accounts and their keys, through the app's own service (keys hashed as it does)."""
    from app import create_app
    from app import db as app_db
    from app.services import accounts as account_service

    sizes = [profiles * share // 100 for _, share in ACCOUNTS]
    sizes[0] += profiles - sum(sizes)
    if sizes[0] < 4 * pairs + 100:
        raise SystemExit(f"{profiles} profiles are too few for {pairs} merge pairs per variant")
    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    result, next_id = [], 1
    with app.app_context():
        for (name, _), size in zip(ACCOUNTS, sizes, strict=True):
            account, key = app_db.run_in_transaction(
                lambda conn, name=name: account_service.create_account(conn, name)
            )
            result.append(AccountInfo(name, account.id, key, size, next_id, next_id + size - 1))
            next_id += size
        app_db.get_db().close()
    return result


def _tags_and_attributes(conn: psycopg.Connection, accounts: list[AccountInfo]) -> dict:
    """Each account's tags and custom attributes; the tag ids of each account in TAGS order."""
    ids = {}
    for account in accounts:
        rows = conn.execute(
            "INSERT INTO tags (account_id, name, name_norm, color)"
            " SELECT %s, n, f, c FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(n, f, c)"
            " RETURNING name_norm, id",
            [account.id, [n for n, _ in TAGS], [text.fold(n) for n, _ in TAGS],
             [c for _, c in TAGS]],
        ).fetchall()  # fmt: skip
        by_norm = dict(rows)
        ids[account.id] = [by_norm[text.fold(n)] for n, _ in TAGS]
        conn.execute(
            "INSERT INTO custom_attributes (account_id, name, type, defined)"
            " SELECT %s, n, t, d FROM unnest(%s::text[], %s::text[], %s::text[]) AS a(n, t, d)",
            [account.id, *([a[i] for a in ATTRIBUTES] for i in range(3))],
        )
    return ids


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profiles", type=int, default=int(os.environ.get("BENCH_PROFILES", "1000000"))
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--out", type=Path, default=Path("/tmp/contact-ingest-bench/seed"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    recreate_database(args.database_url)
    try:
        result = seed(args.database_url, args.profiles, args.out)
    finally:
        if not args.keep:
            drop_database(args.database_url)
    print(json.dumps({"profiles": result.profiles, "counts": result.counts,
                      "seconds": {k: round(v, 1) for k, v in result.seconds.items()}}))  # fmt: skip


if __name__ == "__main__":
    main()
