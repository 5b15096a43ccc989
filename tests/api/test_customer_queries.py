"""GET /v1/customers (list) and POST /v1/customers/search, as HelpCrunch v1 clients use them."""

from __future__ import annotations

import base64
import json
from typing import Any

import psycopg
import pytest

URL = "/v1/customers"
SEARCH = "/v1/customers/search"
GENERIC = {"code": "invalid_request", "message": "Invalid request"}
BASE = 1_600_000_000  # a UNIX timestamp; the data below is relative to it

# Search data set: every searchable field, SQL metacharacters, and a customer with nothing.
PEOPLE: dict[str, dict[str, Any]] = {
    "alice": {
        "name": "Alice Smith",
        "email": "alice@gmail.com",
        "company": "Acme",
        "phone": "+1 415 555 0100",
        "userId": "crm-001",
        "location": {"countryCode": "US", "regionCode": "CA", "city": "San Francisco"},
        "firstSeen": str(BASE),
        "lastSeen": str(BASE + 1000),
        "tags": [{"name": "vip"}, {"name": "lead"}],
    },
    "bob": {
        "name": "Bob Jones",
        "email": "bob@yahoo.com",
        "company": "Globex",
        "phone": "+44 20 7946 0958",
        "userId": "crm-002",
        "location": {"countryCode": "GB", "regionCode": "ENG", "city": "London"},
        "firstSeen": BASE + 100,
        "lastSeen": BASE + 1100,
        "tags": [{"name": "lead"}],
    },
    "carol": {
        "name": "Carol White",
        "email": "carol@gmail.com",
        "company": "Initech",
        "userId": "ext-003",
        "location": {"countryCode": "DE", "city": "Berlin"},
        "firstSeen": BASE + 200,
        "tags": [{"name": "vip"}],
    },
    "dan": {"name": "Dan 100% Brown", "email": "dan@example.com", "lastSeen": BASE + 1200},
    "eve": {"name": "eve_adams", "email": "eve@example.com"},
    "drop": {"name": "'; DROP TABLE profiles; --"},
    "nobody": {},
}
EVERYONE = set(PEOPLE)


# --- helpers --------------------------------------------------------------------------------


def create(api, account: str = "acme", **fields: Any) -> dict[str, Any]:
    response = api.post(URL, json=fields, account=account)
    assert response.status_code == 201, response.data
    return response.get_json()


def listing(api, account: str = "acme", **query: Any) -> dict[str, Any]:
    response = api.get(URL, query_string=query, account=account)
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert set(body) == {"data", "total", "nextCursor"}
    return body


def ids(body: dict[str, Any]) -> list[int]:
    return [customer["id"] for customer in body["data"]]


def search(api, *filters: dict[str, Any], account: str = "acme", **body: Any):
    return api.post(SEARCH, json={"filter": list(filters), **body}, account=account)


def found(api, *filters: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = search(api, *filters, **body)
    assert response.status_code == 200, response.data
    result = response.get_json()
    assert set(result) == {"data", "total", "nextCursor"}
    return result


def f(field: str, operator: str, value: Any) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def error_fields(response) -> list[str | None]:
    """The response is a 422 in the error envelope; returns the fields it names."""
    assert response.status_code == 422, response.data
    errors = response.get_json()["errors"]
    assert errors[0] == GENERIC
    assert len(errors) >= 2
    return [entry.get("field") for entry in errors[1:]]


@pytest.fixture
def people(api) -> dict[str, int]:
    """The search data set, created in order: name -> customer id."""
    return {key: create(api, **fields)["id"] for key, fields in PEOPLE.items()}


def names(people: dict[str, int], result: dict[str, Any]) -> set[str]:
    by_id = {v: k for k, v in people.items()}
    return {by_id[i] for i in ids(result)}


# Sorting data set: (firstSeen, lastSeen) offsets from BASE; None = not sent. Ties on purpose.
SEEN = [(300, None), (None, 100), (100, 300), (200, None), (None, 200), (100, 200), (100, 100)]


@pytest.fixture
def seen(api) -> list[dict[str, Any]]:
    made = []
    for first, last in SEEN:
        fields = {}
        if first is not None:
            fields["firstSeen"] = str(BASE + first)
        if last is not None:
            fields["lastSeen"] = BASE + last
        made.append(create(api, **fields))
    return made


def sort_values(body: dict[str, Any], key: str) -> list[int | None]:
    return [None if c[key] is None else int(c[key]) for c in body["data"]]


def expected_values(key: str, descending: bool) -> list[int | None]:
    index = 0 if key == "firstSeen" else 1
    present = sorted((BASE + s[index] for s in SEEN if s[index] is not None), reverse=descending)
    return present + [None] * sum(1 for s in SEEN if s[index] is None)


def walk_by_cursor(api, limit: int, **query: Any) -> tuple[list[int], list[str | None]]:
    """Every page from the first, following nextCursor; returns the ids and the cursors."""
    collected: list[int] = []
    cursors: list[str | None] = []
    body = listing(api, limit=limit, **query)
    while True:
        collected += ids(body)
        cursors.append(body["nextCursor"])
        if body["nextCursor"] is None:
            return collected, cursors
        assert len(cursors) <= 50, "the cursor walk does not end"
        body = listing(api, limit=limit, after=body["nextCursor"], **query)


# --- list: envelope, defaults, limit and offset ---------------------------------------------


def test_list_answers_the_envelope_with_data_total_and_next_cursor(api):
    made = [create(api, name=f"Customer {i}") for i in range(3)]
    body = listing(api)
    assert body["total"] == 3
    assert body["nextCursor"] is None
    assert body["data"] == made


def test_list_with_no_query_at_all_gives_20_customers_by_id_ascending(api):
    made = [create(api)["id"] for _ in range(21)]
    response = api.get(URL)
    assert response.status_code == 200
    body = response.get_json()
    assert ids(body) == made[:20]
    assert body["total"] == 21
    assert body["nextCursor"] is not None


@pytest.mark.parametrize("limit", [1, 100])
def test_list_limit_accepts_1_to_100(api, limit):
    made = [create(api)["id"] for _ in range(3)]
    assert ids(listing(api, limit=limit)) == made[:limit]


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_list_limit_outside_1_to_100_is_422_naming_limit(api, limit):
    assert error_fields(api.get(URL, query_string={"limit": limit})) == ["limit"]


def test_list_negative_offset_is_422_naming_offset(api):
    assert error_fields(api.get(URL, query_string={"offset": -1})) == ["offset"]


def test_list_offset_skips_customers(api):
    made = [create(api)["id"] for _ in range(5)]
    assert ids(listing(api, offset=0, limit=2)) == made[:2]
    assert ids(listing(api, offset=2, limit=2)) == made[2:4]
    assert ids(listing(api, offset=4, limit=2)) == made[4:]
    assert ids(listing(api, offset=5)) == []


# --- list: sort and order -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("customers.firstSeen", "firstSeen"),
        ("customers.lastSeen", "lastSeen"),
        ("customer.firstSeen", "firstSeen"),
        ("customer.lastSeen", "lastSeen"),
    ],
)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_list_sorts_by_first_or_last_seen_with_nulls_last(api, seen, sort, key, order):
    body = listing(api, sort=sort, order=order, limit=100)
    assert sort_values(body, key) == expected_values(key, order == "desc")
    assert body["total"] == len(SEEN)


@pytest.mark.parametrize("order", ["DESC", "Desc", "desc", "ASC", "Asc"])
def test_list_order_is_accepted_in_any_case(api, seen, order):
    body = listing(api, sort="customers.firstSeen", order=order, limit=100)
    assert sort_values(body, "firstSeen") == expected_values("firstSeen", order.lower() == "desc")


def test_list_order_other_than_asc_or_desc_is_422_naming_order(api):
    assert error_fields(api.get(URL, query_string={"order": "sideways"})) == ["order"]


def test_list_sort_other_than_first_or_last_seen_is_422_naming_sort(api):
    assert error_fields(api.get(URL, query_string={"sort": "customers.name"})) == ["sort"]


def test_list_sort_ties_are_broken_by_id(api, seen):
    tied = [c["id"] for c, s in zip(seen, SEEN, strict=True) if s[0] == 100]
    body = listing(api, sort="customers.firstSeen", order="asc", limit=100)
    assert ids(body)[:3] == tied  # the three customers first seen at BASE + 100, by id
    descending = ids(listing(api, sort="customers.firstSeen", order="desc", limit=100))
    in_tie = [i for i in descending if i in tied]
    assert in_tie in (tied, tied[::-1])


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_list_pages_with_tied_sort_values_are_stable_by_offset_and_by_cursor(api, order):
    made = [create(api, firstSeen=BASE)["id"] for _ in range(5)]
    made += [create(api)["id"] for _ in range(2)]  # nulls tie too
    query = {"sort": "customers.firstSeen", "order": order}
    by_offset = [
        i for offset in range(len(made)) for i in ids(listing(api, limit=1, offset=offset, **query))
    ]
    by_cursor, _ = walk_by_cursor(api, 1, **query)
    assert sorted(by_offset) == sorted(made)  # each exactly once
    assert by_cursor == by_offset  # in one consistent order
    assert by_offset == ids(listing(api, limit=100, **query))


# --- list: total --------------------------------------------------------------------------


def test_list_total_counts_every_match_whatever_limit_offset_or_after(api):
    for i in range(6):
        create(api, email=f"p{i}@example.com", tags=[{"name": "even" if i % 2 == 0 else "odd"}])
    first = listing(api, limit=1)
    assert first["total"] == 6
    assert listing(api, limit=2, offset=5)["total"] == 6
    assert listing(api, offset=10)["total"] == 6
    assert listing(api, limit=1, after=first["nextCursor"])["total"] == 6
    filtered = listing(api, tag="even", limit=1, offset=1)
    assert filtered["total"] == 3
    assert len(filtered["data"]) == 1


# --- list: exact filters --------------------------------------------------------------------


def test_list_filter_email_is_exact_and_case_insensitive(api):
    alex = create(api, email="Alex.Johnson@Example.com")
    create(api, email="alex.johnson@example.org")
    create(api, email="xalex.johnson@example.com")
    body = listing(api, email="ALEX.JOHNSON@example.COM")
    assert ids(body) == [alex["id"]]
    assert body["total"] == 1
    assert ids(listing(api, email="alex.johnson")) == []


@pytest.mark.parametrize("query", ["+1 415 555 0100", "(415) 555-0100", "4155550100"])
def test_list_filter_phone_matches_any_format_of_the_same_number(api, query):
    stored = create(api, phone="+1 (415) 555-0100")
    create(api, phone="+1 415 555 0199")
    create(api, phone="+44 20 7946 0958")
    body = listing(api, phone=query)
    assert ids(body) == [stored["id"]]
    assert body["data"][0]["phone"] == "+1 (415) 555-0100"  # kept as given


def test_list_filter_user_id_is_exact(api):
    wanted = create(api, userId="crm-42")
    create(api, userId="crm-420")
    create(api, userId="x-crm-42")
    assert ids(listing(api, userId="crm-42")) == [wanted["id"]]
    assert ids(listing(api, userId="crm-4")) == []


def test_list_filter_tag_is_case_insensitive(api):
    vip = create(api, tags=[{"name": "VIP"}])
    both = create(api, tags=[{"name": "lead"}, {"name": "vip"}])
    create(api, tags=[{"name": "lead"}])
    create(api)
    assert ids(listing(api, tag="vip")) == [vip["id"], both["id"]]
    assert ids(listing(api, tag="Vip")) == [vip["id"], both["id"]]
    assert listing(api, tag="nope")["total"] == 0


@pytest.mark.parametrize("key", ["email", "phone", "userId", "tag"])
def test_list_empty_exact_filter_matches_nobody_or_is_422_naming_it(api, key):
    create(api, email="a@example.com", phone="+1 415 555 0100", userId="u-1", tags=[{"name": "x"}])
    response = api.get(URL, query_string={key: ""})
    if response.status_code == 422:
        assert error_fields(response) == [key]
    else:
        assert response.status_code == 200, response.data
        assert response.get_json()["total"] == 0


def test_list_filters_combine_with_and(api):
    wanted = create(api, email="a@example.com", userId="u-1", tags=[{"name": "vip"}])
    create(api, email="b@example.com", userId="u-2", tags=[{"name": "vip"}])
    assert ids(listing(api, tag="vip", userId="u-1")) == [wanted["id"]]
    assert ids(listing(api, tag="vip", email="b@example.com", userId="u-1")) == []


# --- list: keyset pagination ----------------------------------------------------------------


def test_list_next_cursor_is_present_while_rows_remain_and_null_on_the_last_page(api):
    for _ in range(5):
        create(api)
    _, cursors = walk_by_cursor(api, 2)
    assert len(cursors) == 3
    assert all(c is not None for c in cursors[:-1])
    assert cursors[-1] is None


def test_list_next_cursor_is_null_when_the_last_page_is_exactly_full(api):
    for _ in range(4):
        create(api)
    first = listing(api, limit=2)
    assert first["nextCursor"] is not None
    second = listing(api, limit=2, after=first["nextCursor"])
    assert len(second["data"]) == 2
    assert second["nextCursor"] is None
    assert listing(api, limit=4)["nextCursor"] is None


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        (None, None),
        (None, "desc"),
        ("customers.firstSeen", "asc"),
        ("customers.firstSeen", "desc"),
        ("customers.lastSeen", "asc"),
        ("customers.lastSeen", "desc"),
        ("customer.firstSeen", "DESC"),
        ("customer.lastSeen", "Asc"),
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_list_following_after_walks_every_row_exactly_once(api, seen, sort, order, limit):
    query = {k: v for k, v in (("sort", sort), ("order", order)) if v is not None}
    walked, cursors = walk_by_cursor(api, limit, **query)
    assert walked == ids(listing(api, limit=100, **query))
    assert sorted(walked) == sorted(c["id"] for c in seen)
    assert len(cursors) == -(-len(SEEN) // limit)


def test_list_after_ignores_offset_and_continues_from_the_cursor(api):
    made = [create(api)["id"] for _ in range(4)]
    first = listing(api, limit=2)
    assert ids(listing(api, limit=2, offset=1, after=first["nextCursor"])) == made[2:]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


GARBAGE_CURSORS = {
    "not-base64": "garbage!!",
    "percent-signs": "%%%",
    "not-json": b64(b"not json"),
    "json-list": b64(b"[1, 2]"),
    "id-a-string": b64(b'{"c": "id", "d": false, "v": null, "id": "seven"}'),
    "value-not-a-date": b64(b'{"c": "first_seen", "d": false, "v": "yesterday", "id": 1}'),
    "id-a-boolean": b64(b'{"c": "first_seen", "d": false, "v": null, "id": true}'),
    "value-a-list": b64(b'{"c": "first_seen", "d": false, "v": [2020], "id": 1}'),
}


@pytest.mark.parametrize("cursor", GARBAGE_CURSORS.values(), ids=GARBAGE_CURSORS.keys())
def test_list_garbage_cursor_is_422_naming_after(api, cursor):
    create(api, firstSeen=BASE)
    query = {"after": cursor, "sort": "customers.firstSeen"}
    assert error_fields(api.get(URL, query_string=query)) == ["after"]


def test_list_cursor_from_another_sort_is_422_naming_after(api, seen):
    by_first_seen = listing(api, limit=2, sort="customers.firstSeen")["nextCursor"]
    by_id = listing(api, limit=2)["nextCursor"]
    query = {"after": by_first_seen, "sort": "customers.lastSeen"}
    assert error_fields(api.get(URL, query_string=query)) == ["after"]
    assert error_fields(api.get(URL, query_string={"after": by_first_seen})) == ["after"]
    query = {"after": by_id, "sort": "customers.firstSeen"}
    assert error_fields(api.get(URL, query_string=query)) == ["after"]


def test_list_cursor_from_another_order_is_422_naming_after(api, seen):
    ascending = listing(api, limit=2, sort="customers.firstSeen", order="asc")["nextCursor"]
    query = {"after": ascending, "sort": "customers.firstSeen", "order": "desc"}
    assert error_fields(api.get(URL, query_string=query)) == ["after"]


# --- accounts -------------------------------------------------------------------------------


def test_another_accounts_customers_never_appear_in_list_or_search(api):
    mine = create(api, email="me@example.com", tags=[{"name": "vip"}])
    theirs = create(api, account="globex", email="them@example.com", tags=[{"name": "vip"}])
    create(api, account="globex", email="me@example.com", phone="+1 415 555 0100")
    assert ids(listing(api)) == [mine["id"]]
    assert listing(api)["total"] == 1
    assert ids(listing(api, tag="vip")) == [mine["id"]]
    assert ids(listing(api, email="them@example.com")) == []
    assert ids(listing(api, phone="4155550100")) == []
    assert ids(found(api)) == [mine["id"]]
    assert ids(found(api, f("customers.id", "=", theirs["id"]))) == []
    assert ids(found(api, f("customers.email", "~", "example"))) == [mine["id"]]
    assert listing(api, account="globex")["total"] == 2


# --- search: envelope and comparison --------------------------------------------------------


def test_search_answers_the_envelope_with_total(api, people):
    result = found(api, f("customers.email", "~", "gmail"), limit=1)
    assert result["total"] == 2
    assert ids(result) == [people["alice"]]
    assert result["nextCursor"] is not None
    customer = result["data"][0]
    assert customer["email"] == "alice@gmail.com"
    assert {t["name"] for t in customer["tags"]} == {"vip", "lead"}


def test_search_without_filters_finds_everyone(api, people):
    result = found(api)
    assert ids(result) == list(people.values())
    assert result["total"] == len(PEOPLE)


def test_search_comparison_defaults_to_and(api, people):
    filters = (f("customers.email", "~", "gmail"), f("customers.city", "=", "Berlin"))
    assert names(people, found(api, *filters)) == {"carol"}
    assert names(people, found(api, *filters, comparison="AND")) == {"carol"}
    disjoint = (f("customers.email", "~", "yahoo"), f("customers.city", "=", "Berlin"))
    assert found(api, *disjoint)["total"] == 0


@pytest.mark.parametrize("comparison", ["OR", "or"])
def test_search_comparison_or_matches_any_filter(api, people, comparison):
    filters = (f("customers.email", "~", "yahoo"), f("customers.city", "=", "Berlin"))
    result = found(api, *filters, comparison=comparison)
    assert names(people, result) == {"bob", "carol"}
    assert result["total"] == 2


def test_search_comparison_other_than_and_or_is_422_naming_comparison(api):
    assert error_fields(search(api, comparison="XOR")) == ["comparison"]


# --- search: every field with every operator it allows -------------------------------------

TEXT_CASES = [
    # name
    ("customers.name", "=", "Bob Jones", {"bob"}),
    ("customers.name", "!=", "Bob Jones", EVERYONE - {"bob"}),
    ("customers.name", "~", "SMITH", {"alice"}),
    ("customers.name", "!~", "smith", EVERYONE - {"alice"}),
    # company
    ("customers.company", "=", "Globex", {"bob"}),
    ("customers.company", "!=", "Globex", EVERYONE - {"bob"}),
    ("customers.company", "~", "INI", {"carol"}),
    ("customers.company", "!~", "ac", EVERYONE - {"alice"}),
    # countryCode
    ("customers.countryCode", "=", "GB", {"bob"}),
    ("customers.countryCode", "!=", "GB", EVERYONE - {"bob"}),
    ("customers.countryCode", "~", "u", {"alice"}),
    ("customers.countryCode", "!~", "u", EVERYONE - {"alice"}),
    # city
    ("customers.city", "=", "London", {"bob"}),
    ("customers.city", "!=", "London", EVERYONE - {"bob"}),
    ("customers.city", "~", "LIN", {"carol"}),
    ("customers.city", "!~", "lin", EVERYONE - {"carol"}),
    # regionCode
    ("customers.regionCode", "=", "ENG", {"bob"}),
    ("customers.regionCode", "!=", "CA", EVERYONE - {"alice"}),
    ("customers.regionCode", "~", "c", {"alice"}),
    ("customers.regionCode", "!~", "en", EVERYONE - {"bob"}),
    # email: = and != compare the normalized (lower-cased) address
    ("customers.email", "=", "BOB@YAHOO.COM", {"bob"}),
    ("customers.email", "!=", "bob@yahoo.com", EVERYONE - {"bob"}),
    ("customers.email", "~", "GMAIL", {"alice", "carol"}),
    ("customers.email", "!~", "gmail", EVERYONE - {"alice", "carol"}),
    # phone: = and != compare E.164, ~ and !~ the number as given
    ("customers.phone", "=", "(415) 555-0100", {"alice"}),
    ("customers.phone", "=", "4155550100", {"alice"}),
    ("customers.phone", "!=", "+1 415 555 0100", EVERYONE - {"alice"}),
    ("customers.phone", "~", "7946", {"bob"}),
    ("customers.phone", "!~", "555", EVERYONE - {"alice"}),
    # userId
    ("customers.userId", "=", "crm-002", {"bob"}),
    ("customers.userId", "!=", "crm-002", EVERYONE - {"bob"}),
    ("customers.userId", "~", "CRM", {"alice", "bob"}),
    ("customers.userId", "!~", "crm", EVERYONE - {"alice", "bob"}),
]


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    TEXT_CASES,
    ids=[f"{c[0]}{c[1]}{c[2]}" for c in TEXT_CASES],
)
def test_search_text_fields_support_equals_not_equals_contains_and_not_contains(
    api, people, field, operator, value, expected
):
    result = found(api, f(field, operator, value))
    assert names(people, result) == expected
    assert result["total"] == len(expected)


def test_search_contains_is_case_insensitive(api, people):
    for value in ("alice smith", "ALICE SMITH", "aLiCe"):
        assert names(people, found(api, f("customers.name", "~", value))) == {"alice"}


ID_CASES = [
    ("=", "bob", {"bob"}),
    ("!=", "bob", EVERYONE - {"bob"}),
    (">", "bob", EVERYONE - {"alice", "bob"}),
    ("<", "bob", {"alice"}),
    (">=", "bob", EVERYONE - {"alice"}),
    ("<=", "bob", {"alice", "bob"}),
]


@pytest.mark.parametrize(("operator", "whom", "expected"), ID_CASES)
def test_search_customer_id_supports_every_comparison(api, people, operator, whom, expected):
    result = found(api, f("customers.id", operator, people[whom]))
    assert names(people, result) == expected
    assert result["total"] == len(expected)


# firstSeen: alice BASE, bob BASE+100, carol BASE+200; lastSeen: alice BASE+1000, bob
# BASE+1100, dan BASE+1200. Negations include customers without the date.
DATE_CASES = [
    ("customers.firstSeen", "=", BASE + 100, {"bob"}),
    ("customers.firstSeen", "!=", BASE + 100, EVERYONE - {"bob"}),
    ("customers.firstSeen", ">", BASE + 100, {"carol"}),
    ("customers.firstSeen", "<", BASE + 100, {"alice"}),
    ("customers.firstSeen", ">=", BASE + 100, {"bob", "carol"}),
    ("customers.firstSeen", "<=", BASE + 100, {"alice", "bob"}),
    ("customers.lastSeen", "=", BASE + 1200, {"dan"}),
    ("customers.lastSeen", "!=", BASE + 1200, EVERYONE - {"dan"}),
    ("customers.lastSeen", ">", BASE + 1000, {"bob", "dan"}),
    ("customers.lastSeen", "<", BASE + 1100, {"alice"}),
    ("customers.lastSeen", ">=", BASE + 1100, {"bob", "dan"}),
    ("customers.lastSeen", "<=", BASE + 1100, {"alice", "bob"}),
]


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    DATE_CASES,
    ids=[f"{c[0]}{c[1]}" for c in DATE_CASES],
)
@pytest.mark.parametrize("as_string", [False, True], ids=["integer", "string"])
def test_search_first_and_last_seen_support_every_comparison_as_strings_or_integers(
    api, people, field, operator, value, expected, as_string
):
    result = found(api, f(field, operator, str(value) if as_string else value))
    assert names(people, result) == expected
    assert result["total"] == len(expected)


@pytest.mark.parametrize("as_string", [False, True], ids=["integer", "string"])
def test_search_created_at_supports_every_comparison(api, as_string):
    first = create(api, name="first")
    later = create(api, name="later")
    created = int(first["createdAt"])
    assert int(later["createdAt"]) >= created

    def search_created(operator: str, value: int) -> set[int]:
        sent = str(value) if as_string else value
        return set(ids(found(api, f("customers.createdAt", operator, sent))))

    both = {first["id"], later["id"]}
    assert first["id"] in search_created("=", created)
    assert first["id"] not in search_created("!=", created)
    assert search_created(">=", created) == both
    assert first["id"] in search_created("<=", created)
    assert first["id"] not in search_created(">", created)
    assert search_created(">", created - 1) == both
    assert search_created("<", created) == set()
    assert search_created("<", created + 100_000) == both
    assert search_created(">", created + 100_000) == set()


def test_search_tags_data_requires_every_listed_tag(api, people):
    vip = [{"name": "vip"}]
    both = [{"name": "vip"}, {"name": "lead"}]
    assert names(people, found(api, f("customers.tagsData", "=", vip))) == {"alice", "carol"}
    assert names(people, found(api, f("customers.tagsData", "=", both))) == {"alice"}
    missing = [{"name": "vip"}, {"name": "nope"}]
    assert found(api, f("customers.tagsData", "=", missing))["total"] == 0


def test_search_tags_data_matches_tag_names_case_insensitively(api, people):
    result = found(api, f("customers.tagsData", "=", [{"name": "VIP"}, {"name": "Lead"}]))
    assert names(people, result) == {"alice"}


def test_search_one_filter_per_tag_with_or_gives_either_tag(api, people):
    vip = f("customers.tagsData", "=", [{"name": "vip"}])
    lead = f("customers.tagsData", "=", [{"name": "lead"}])
    assert names(people, found(api, vip, lead, comparison="OR")) == {"alice", "bob", "carol"}
    assert names(people, found(api, vip, lead)) == {"alice"}


# --- search: validation ---------------------------------------------------------------------


@pytest.mark.parametrize("field", ["customers.password", "customers.telegramId", "name", ""])
def test_search_unknown_field_is_422_naming_filter_field(api, field):
    filters = [f("customers.name", "=", "x"), f(field, "=", "x")]
    assert error_fields(search(api, *filters)) == ["filter[1].field"]


@pytest.mark.parametrize(
    ("field", "operator", "value"),
    [
        ("customers.id", "~", 1),
        ("customers.id", "!~", 1),
        ("customers.name", ">", "a"),
        ("customers.email", "<=", "a@example.com"),
        ("customers.firstSeen", "~", "1600000000"),
        ("customers.tagsData", "!=", [{"name": "vip"}]),
        ("customers.tagsData", "~", [{"name": "vip"}]),
        ("customers.name", "LIKE", "a"),
        ("customers.name", "==", "a"),
    ],
)
def test_search_operator_not_allowed_for_the_field_is_422_naming_filter_operator(
    api, field, operator, value
):
    assert error_fields(search(api, f(field, operator, value))) == ["filter[0].operator"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("customers.id", "not-a-number"),
        ("customers.id", 1.5),
        ("customers.id", True),
        ("customers.id", None),
        ("customers.firstSeen", "18 Jun 2020"),
        ("customers.lastSeen", "2020-06-18T00:00:00Z"),
        ("customers.createdAt", -1),
        ("customers.tagsData", "vip"),
        ("customers.tagsData", ["vip"]),
        ("customers.tagsData", []),
        ("customers.name", 5),
        ("customers.email", ["a@example.com"]),
    ],
)
def test_search_value_of_the_wrong_type_is_422_naming_filter_value(api, field, value):
    assert error_fields(search(api, f(field, "=", value))) == ["filter[0].value"]


def test_search_validation_names_the_filter_index(api):
    filters = [
        f("customers.name", "=", "ok"),
        f("customers.email", "~", "ok"),
        f("customers.firstSeen", ">", "18 Jun 2020"),
    ]
    assert error_fields(search(api, *filters)) == ["filter[2].value"]


# --- search: paging -------------------------------------------------------------------------


def test_search_supports_limit_offset_sort_and_order(api, people):
    everyone_with_email = f("customers.email", "~", "@")
    result = found(
        api, everyone_with_email, sort="customers.firstSeen", order="DESC", limit=2, offset=1
    )
    # firstSeen descending: carol, bob, alice, then the two without one (dan, eve).
    assert ids(result) == [people["bob"], people["alice"]]
    assert result["total"] == 5
    assert result["nextCursor"] is not None
    ascending = found(api, everyone_with_email, sort="customers.firstSeen", order="asc")
    assert ids(ascending)[:3] == [people["alice"], people["bob"], people["carol"]]
    assert set(ids(ascending)[3:]) == {people["dan"], people["eve"]}
    by_last_seen = found(api, everyone_with_email, sort="customer.lastSeen", order="Desc")
    assert ids(by_last_seen)[:3] == [people["dan"], people["bob"], people["alice"]]


def test_search_pages_by_cursor_walk_every_match_once(api, people):
    query = {"sort": "customers.lastSeen", "order": "desc", "limit": 2}
    walked: list[int] = []
    result = found(api, **query)
    while True:
        walked += ids(result)
        assert result["total"] == len(PEOPLE)
        if result["nextCursor"] is None:
            break
        result = found(api, after=result["nextCursor"], **query)
    assert walked == ids(found(api, sort="customers.lastSeen", order="desc", limit=100))
    assert sorted(walked) == sorted(people.values())


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("limit", 0),
        ("limit", 101),
        ("limit", 1.5),
        ("offset", -1),
        ("offset", 0.5),
        ("order", "up"),
        ("sort", "customers.id"),
    ],
)
def test_search_paging_out_of_range_is_422_naming_it(api, key, value):
    assert error_fields(search(api, **{key: value})) == [key]


def test_search_garbage_cursor_is_422_naming_after(api):
    create(api)
    assert error_fields(search(api, after="garbage!!")) == ["after"]


# --- search: values are data, never SQL -----------------------------------------------------


def test_search_value_with_sql_metacharacters_is_treated_as_data(api, people, database_url):
    injection = "'; DROP TABLE profiles; --"
    assert names(people, found(api, f("customers.name", "=", injection))) == {"drop"}
    assert names(people, found(api, f("customers.name", "~", "'; drop"))) == {"drop"}
    assert found(api, f("customers.email", "=", "' OR '1'='1"))["total"] == 0
    assert found(api, f("customers.city", "~", "' OR 1=1 --"))["total"] == 0
    assert found(api)["total"] == len(PEOPLE)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM profiles").fetchone()[0] == len(PEOPLE)


def test_search_contains_percent_matches_only_a_literal_percent(api, people):
    assert names(people, found(api, f("customers.name", "~", "%"))) == {"dan"}
    assert names(people, found(api, f("customers.name", "!~", "%"))) == EVERYONE - {"dan"}
    assert names(people, found(api, f("customers.name", "~", "0%"))) == {"dan"}


def test_search_contains_underscore_matches_only_a_literal_underscore(api, people):
    assert names(people, found(api, f("customers.name", "~", "_"))) == {"eve"}
    assert names(people, found(api, f("customers.name", "~", "e_a"))) == {"eve"}
    assert names(people, found(api, f("customers.email", "~", "_"))) == set()


def test_search_contains_backslash_is_a_literal_backslash(api, people):
    odd = create(api, name="back\\slash")["id"]
    assert ids(found(api, f("customers.name", "~", "\\"))) == [odd]
    assert ids(found(api, f("customers.name", "~", "k\\s"))) == [odd]


def test_list_filter_values_with_sql_metacharacters_are_treated_as_data(api, people):
    assert listing(api, email="%")["total"] == 0
    assert listing(api, userId="crm-00_")["total"] == 0
    assert listing(api, tag="' OR '1'='1")["total"] == 0
    assert listing(api)["total"] == len(PEOPLE)


def test_search_body_must_be_an_object_with_a_list_of_filters(api):
    assert error_fields(api.post(SEARCH, json={"filter": {"field": "customers.id"}})) == ["filter"]
    response = api.post(SEARCH, json={"filter": [{"field": "customers.id", "operator": "="}]})
    assert error_fields(response) == ["filter[0].value"]


def test_search_body_without_content_type_is_parsed_as_json(api, people):
    body = json.dumps({"filter": [f("customers.email", "~", "yahoo")]})
    response = api.post(SEARCH, data=body)
    assert response.status_code == 200, response.data
    assert "Content-Type" not in response.request.headers
    assert ids(response.get_json()) == [people["bob"]]
