"""A labelled, seeded, reproducible set of people and the records they leave behind.

Each generated person (Faker, five locales, so names carry accents) produces 1-3 records, the
way one customer reaches a business through a web signup, a shop till, a CRM sync and a partner
integration: email in another case, phone in another format, name with accents stripped, token
order swapped, a nickname, a one-letter typo, or no name at all; some records carry a
placeholder ("noemail@...", "0000000000", user id "0"). Some records of a person share only an
email with the others, some only a phone with a similar name, and some nothing but the name
(another address and number: no rule can see that they are the person). Two people of one
household share a phone and a last name, never a first name. Records arrive interleaved, in a
random order, as they would over time.

The ground truth is the person of every record. Same seed, same Faker version: same data.
Run ``python -m tests.quality.generate 20`` to look at a sample.
"""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from dataclasses import dataclass, field

import phonenumbers
from faker import Faker

LOCALES = ("en_US", "de_DE", "es_ES", "fr_FR", "pl_PL")
LOCALE_WEIGHTS = (4, 1.5, 1.5, 1.5, 1.5)
DEFAULT_SEED = 11

# Shares of people and records; the rest of each record's shape is drawn per record.
RECORDS_PER_PERSON = {1: 0.45, 2: 0.35, 3: 0.20}
HAS_EMAIL = 0.95
HAS_PHONE = 0.80
HAS_USER_ID = 0.35
HOUSEHOLD = 0.06  # a person who shares a household phone and last name with an earlier one
# What a record carries: all of it, the email only, the phone only, the CRM id with one more,
# or an address and number of its own (it shares nothing but the name with the person's other
# records).
CHANNELS = {"full": 0.35, "email": 0.25, "phone": 0.20, "crm": 0.10, "elsewhere": 0.10}
PARTNER_SHARE = 0.5  # of the records that carry an email and no phone
PLACEHOLDER_EMAIL = 0.03
PLACEHOLDER_PHONE = 0.03
PLACEHOLDER_USER_ID = 0.03
NAME_VARIANTS = {
    "kept": 0.44,
    "accents_stripped": 0.10,
    "swapped": 0.10,
    "nickname": 0.08,
    "typo": 0.10,
    "case": 0.06,
    "initial": 0.04,
    "missing": 0.08,
}
EMAIL_SPELLINGS = {"lower": 0.55, "capitalized": 0.20, "upper": 0.10, "padded": 0.10, "mixed": 0.05}
PHONE_FORMATS = (
    "+1 {a} {e} {l}",
    "({a}) {e}-{l}",
    "{a}{e}{l}",
    "{a}.{e}.{l}",
    "{a}-{e}-{l}",
    "+1{a}{e}{l}",
    "1-{a}-{e}-{l}",
    "+1 ({a}) {e}-{l}",
)
AREA_CODES = (
    "201", "202", "206", "212", "213", "214", "305", "310", "312", "404", "415", "503", "512",
    "602", "617", "646", "702", "713", "718", "773", "805", "818", "858", "917", "925", "971",
)  # fmt: skip
PLACEHOLDER_EMAILS = (
    "noemail@noemail.com", "none@none.com", "test@test.com", "noemail@{domain}",
    "no-reply@{domain}", "unknown@{domain}",
)  # fmt: skip
PLACEHOLDER_PHONES = ("0000000000", "1234567890", "(555) 555-5555", "999-999-9999")
PLACEHOLDER_USER_IDS = ("0", "-1", "null", "n/a", "undefined")
# Common nicknames (both directions are realistic; records use the nickname).
NICKNAMES = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"),
    "Katherine": ("Kate", "Kathy"), "Catherine": ("Cathy", "Kate"),
    "Elizabeth": ("Liz", "Beth", "Lizzie"), "Margaret": ("Maggie", "Peggy"),
    "Richard": ("Rick", "Dick"), "James": ("Jim", "Jimmy"), "Joseph": ("Joe",),
    "Michael": ("Mike",), "Thomas": ("Tom", "Tommy"), "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"), "Jennifer": ("Jen", "Jenny"), "Patricia": ("Pat", "Patty"),
    "Alexander": ("Alex",), "Nicholas": ("Nick",), "Matthew": ("Matt",), "Anthony": ("Tony",),
    "Samantha": ("Sam",), "Victoria": ("Vicky",), "Christine": ("Chris",),
    "Rebecca": ("Becky",), "Susan": ("Sue",), "Jonathan": ("Jon",), "Benjamin": ("Ben",),
    "Andrew": ("Andy",), "Timothy": ("Tim",), "Steven": ("Steve",), "Stephen": ("Steve",),
    "Edward": ("Ed", "Eddie"), "Charles": ("Charlie", "Chuck"), "Deborah": ("Debbie",),
    "Jessica": ("Jess",), "Kimberly": ("Kim",), "Gregory": ("Greg",), "Jeffrey": ("Jeff",),
    "Zachary": ("Zach",), "Nathaniel": ("Nate",), "Theodore": ("Ted",), "Kenneth": ("Ken",),
    "Ronald": ("Ron",), "Donald": ("Don",), "Raymond": ("Ray",), "Lawrence": ("Larry",),
    "Katarzyna": ("Kasia",), "Małgorzata": ("Gosia",), "Aleksandra": ("Ola",),
    "Aleksander": ("Olek",), "Agnieszka": ("Aga",), "Wojciech": ("Wojtek",),
    "Francisco": ("Paco",), "José": ("Pepe",), "Dolores": ("Lola",), "Ignacio": ("Nacho",),
    "Guadalupe": ("Lupe",), "Johannes": ("Hans",), "Friedrich": ("Fritz",),
    "Wolfgang": ("Wolf",), "Elisabeth": ("Lisa", "Sabine"), "Stefanie": ("Steffi",),
    "Nathalie": ("Nath",), "Frédéric": ("Fred",), "Guillaume": ("Guille",),
}  # fmt: skip
# Letters Unicode decomposition leaves alone, as people type them on a US keyboard.
FOLD = str.maketrans({"ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "Ø": "O", "đ": "d", "æ": "ae"})
_NOT_EMAIL = re.compile(r"[^a-z0-9]")


@dataclass(frozen=True)
class Person:
    id: int
    locale: str
    first: str
    last: str
    email: str | None
    phone: tuple[str, str, str] | None  # area code, exchange, line
    user_id: str | None
    household: int | None = None  # the person whose phone and last name this one shares

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class Record:
    """One write, as a client would send it, and the person it truly is."""

    id: int
    person: int
    api: str  # "customers" or "partner"
    channel: str
    name: str | None
    email: str | None
    phone: str | None
    user_id: str | None
    variants: list[str] = field(default_factory=list)

    def customer_body(self) -> dict[str, str]:
        """``POST /v1/customers``."""
        body = {"name": self.name, "email": self.email, "phone": self.phone}
        body["userId"] = self.user_id
        return {k: v for k, v in body.items() if v is not None}

    def partner_body(self) -> dict[str, str]:
        """``POST /api/v1/partner/contacts`` (email required; a left-out field is kept)."""
        body = {"email": self.email, "name": self.name, "external_id": self.user_id}
        return {k: v for k, v in body.items() if v is not None}

    def describe(self) -> str:
        shown = [f"{k}={v!r}" for k, v in self.customer_body().items()]
        return f"#{self.id} person {self.person} via {self.api}/{self.channel}: " + ", ".join(shown)


@dataclass
class Dataset:
    seed: int
    people: list[Person]
    records: list[Record]  # in arrival order


def fold(text: str) -> str:
    """Accents stripped as a US keyboard user types them (``Łódź`` -> ``Lodz``)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers = {}
        for index, locale in enumerate(LOCALES):
            fake = Faker(locale)
            fake.seed_instance(seed * 100 + index)
            self.fakers[locale] = fake
        self.emails: set[str] = set()
        self.phones: set[tuple[str, str, str]] = set()

    # -- people ---------------------------------------------------------------------------

    def person(self, pid: int, people: list[Person]) -> Person:
        rng = self.rng
        candidates = [p for p in people[-50:] if p.phone and p.household is None]
        if candidates and rng.random() < HOUSEHOLD:
            partner = rng.choice(candidates)
            fake = self.fakers[partner.locale]
            first = self.first_name(fake, avoid=partner.first)
            return self.new_person(pid, partner.locale, first, partner.last, partner)
        locale = rng.choices(LOCALES, weights=LOCALE_WEIGHTS)[0]
        fake = self.fakers[locale]
        return self.new_person(pid, locale, self.first_name(fake), self.last_name(fake), None)

    def first_name(self, fake: Faker, avoid: str | None = None) -> str:
        while True:
            first = fake.first_name()
            if avoid is None or fold(first).lower() != fold(avoid).lower():
                return first

    def last_name(self, fake: Faker) -> str:
        last = fake.last_name()
        return last[5:] if last.startswith("auch ") else last  # de_DE "auch Schmidt"

    def new_person(
        self, pid: int, locale: str, first: str, last: str, household: Person | None
    ) -> Person:
        rng = self.rng
        email = self.email(first, last, locale) if rng.random() < HAS_EMAIL else None
        if household is not None:
            phone = household.phone
        else:
            phone = self.phone() if rng.random() < HAS_PHONE else None
        user_id = f"crm-{pid:06d}" if rng.random() < HAS_USER_ID else None
        return Person(
            id=pid,
            locale=locale,
            first=first,
            last=last,
            email=email,
            phone=phone,
            user_id=user_id,
            household=household.id if household else None,
        )

    def email(self, first: str, last: str, locale: str, *, work: bool = False) -> str:
        rng = self.rng
        fake = self.fakers[locale]
        f = _NOT_EMAIL.sub("", fold(first).lower()) or "x"
        la = _NOT_EMAIL.sub("", fold(last).lower()) or "y"
        local = rng.choice((f"{f}.{la}", f"{f}{la}", f"{f[0]}{la}", f"{f}_{la}", f"{la}.{f}"))
        if not work and rng.random() < 0.5:
            local += str(rng.choice((rng.randint(1, 99), rng.randint(1950, 2005))))
        domain = fake.domain_name() if work else fake.free_email_domain()
        address = f"{local}@{domain}"
        while address in self.emails or local in ("test", "none", "null", "unknown"):
            local = f"{local}{rng.randint(100, 9999)}"
            address = f"{local}@{domain}"
        self.emails.add(address)
        return address

    def phone(self) -> tuple[str, str, str]:
        rng = self.rng
        while True:
            number = (
                rng.choice(AREA_CODES),
                str(rng.randint(201, 989)),
                f"{rng.randint(0, 9999):04d}",
            )
            if number in self.phones or len(set("".join(number[1:]))) < 3:
                continue
            parsed = phonenumbers.parse("".join(number), "US")
            if phonenumbers.is_possible_number(parsed):
                self.phones.add(number)
                return number

    # -- records --------------------------------------------------------------------------

    def records(self, person: Person) -> list[Record]:
        rng = self.rng
        count = int(pick(rng, {str(k): v for k, v in RECORDS_PER_PERSON.items()}))
        records = []
        for _ in range(count):
            channel = pick(rng, CHANNELS) if count > 1 else rng.choice(("full", "full", "email"))
            records.append(self.record(person, channel))
        return records

    def record(self, person: Person, channel: str) -> Record:
        rng = self.rng
        if channel == "crm" and person.user_id is None:
            channel = "full"
        if channel == "phone" and person.phone is None:
            channel = "email"
        if channel == "email" and person.email is None:
            channel = "phone" if person.phone is not None else "elsewhere"
        variants: list[str] = []
        email = phone = user_id = None
        phone_digits = None
        if channel == "full":
            email, phone_digits = person.email, person.phone
            user_id = person.user_id if rng.random() < 0.5 else None
        elif channel == "email":
            email = person.email
        elif channel == "phone":
            phone_digits = person.phone
        elif channel == "crm":  # the CRM id and one more identifier
            user_id = person.user_id
            if rng.random() < 0.5 and person.email:
                email = person.email
            else:
                phone_digits = person.phone
        else:  # elsewhere: a work address, sometimes a work number: only the name in common
            email = self.email(person.first, person.last, person.locale, work=True)
            phone_digits = self.phone() if rng.random() < 0.5 else None
            variants.append("elsewhere")
        if email is not None:
            email = self.spell_email(email, variants)
        if rng.random() < PLACEHOLDER_EMAIL:
            domain = self.fakers[person.locale].free_email_domain()
            email = rng.choice(PLACEHOLDER_EMAILS).format(domain=domain)
            variants.append("email:placeholder")
        phone = self.format_phone(phone_digits) if phone_digits else None
        if rng.random() < PLACEHOLDER_PHONE:
            phone = rng.choice(PLACEHOLDER_PHONES)
            variants.append("phone:placeholder")
        if user_id is None and rng.random() < PLACEHOLDER_USER_ID:
            user_id = rng.choice(PLACEHOLDER_USER_IDS)
            variants.append("user_id:placeholder")
        if email is None and phone is None and user_id is None:
            email = self.spell_email(person.email, variants) if person.email else None
            phone = self.format_phone(person.phone) if person.phone else None
            if email is None and phone is None:  # neither: a record of its own address
                email = self.email(person.first, person.last, person.locale, work=True)
                variants.append("elsewhere")
        name = self.vary_name(person, variants)
        api = "customers"
        if email is not None and phone is None and rng.random() < PARTNER_SHARE:
            api = "partner"
        return Record(
            id=-1,
            person=person.id,
            api=api,
            channel=channel,
            name=name,
            email=email,
            phone=phone,
            user_id=user_id,
            variants=variants,
        )

    def spell_email(self, email: str, variants: list[str]) -> str:
        rng = self.rng
        spelling = pick(rng, EMAIL_SPELLINGS)
        local, _, domain = email.partition("@")
        if spelling == "capitalized":
            email = ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()
        elif spelling == "upper":
            email = email.upper()
        elif spelling == "padded":
            email = f"  {email} "
        elif spelling == "mixed":
            email = "".join(c.upper() if rng.random() < 0.3 else c for c in email)
        if spelling != "lower":
            variants.append(f"email:{spelling}")
        return email

    def format_phone(self, number: tuple[str, str, str]) -> str:
        template = self.rng.choice(PHONE_FORMATS)
        area, exchange, line = number
        return template.format(a=area, e=exchange, l=line)

    def vary_name(self, person: Person, variants: list[str]) -> str | None:
        rng = self.rng
        first, last = person.first, person.last
        variant = pick(rng, NAME_VARIANTS)
        name: str | None = person.name
        if variant == "accents_stripped":
            name = fold(person.name)
            variant = "kept" if name == person.name else variant
        elif variant == "swapped":
            name = rng.choice((f"{last} {first}", f"{last}, {first}"))
        elif variant == "nickname":
            if first in NICKNAMES:
                name = f"{rng.choice(NICKNAMES[first])} {last}"
            else:
                variant = "kept"
        elif variant == "typo":
            if rng.random() < 0.5 and len(first) >= 4:
                name = f"{typo(rng, first)} {last}"
            else:
                name = f"{first} {typo(rng, last)}"
        elif variant == "case":
            name = rng.choice((person.name.upper(), person.name.lower()))
        elif variant == "initial":
            name = f"{first[0]}. {last}"
        elif variant == "missing":
            name = None
        if variant != "kept":
            variants.append(f"name:{variant}")
        return name


def typo(rng: random.Random, word: str) -> str:
    """One slip of the finger: a letter replaced, dropped, doubled, or two swapped."""
    if len(word) < 3:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("replace", "drop", "double", "swap"))
    if kind == "replace":
        letter = rng.choice([c for c in "aeioulnrst" if c != word[i].lower()])
        return word[:i] + letter + word[i + 1 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def generate(people: int, seed: int = DEFAULT_SEED) -> Dataset:
    """``people`` people and their records, in a random arrival order."""
    gen = Generator(seed)
    persons: list[Person] = []
    records: list[Record] = []
    for pid in range(people):
        person = gen.person(pid, persons)
        persons.append(person)
        records.extend(gen.records(person))
    gen.rng.shuffle(records)
    for index, record in enumerate(records):
        record.id = index
    return Dataset(seed=seed, people=persons, records=records)


if __name__ == "__main__":
    sample = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
    for person in sample.people:
        print(person)
    for record in sorted(sample.records, key=lambda r: r.person):
        print(" ", record.describe(), record.variants)
