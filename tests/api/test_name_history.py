"""The names a profile has been written with (``profiles.names``): the phone + name rule
compares a write with every one of them, not only the current name. The history is normalized,
distinct, newest first and bounded (10); merges union it; erasure removes it with the row;
snapshots keep it; customer objects do not show it. Households stay apart through the API."""

from __future__ import annotations

import psycopg
import pytest

from app.identity import Kind
from app.identity.names import HISTORY_LIMIT
from app.repositories.resolution import Found, Lookup, PhoneHolder
from app.services import resolution
from app.services.context import Settings

URL = "/v1/customers"
PARTNER = "/api/v1/partner/contacts"
PHONE = "+1 415 555 0170"


def create(api, body: dict, *, status: int = 201) -> dict:
    response = api.post(URL, json=body)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def patch(api, customer_id: int, body: dict) -> dict:
    response = api.request("PATCH", f"{URL}/{customer_id}", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def history(url: str, profile_id: int) -> list[str]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT names FROM profiles WHERE id = %s", [profile_id]).fetchone()
    assert row is not None, f"no profile {profile_id}"
    return row[0]


def test_name_history_a_renamed_profile_still_matches_a_phone_write_of_its_old_name(
    api, database_url
):
    jamie = create(api, {"name": "Jamie Gibson", "phone": PHONE, "email": "jamie@example.com"})
    patch(api, jamie["id"], {"name": "Jamie Carter"})  # married, say: 50 against the old name
    again = create(api, {"name": "Jamie Gibson", "phone": "(415) 555-0170"}, status=200)
    assert again["id"] == jamie["id"]
    assert again["name"] == "Jamie Gibson"  # the write's name is the current one again
    assert history(database_url, jamie["id"]) == ["jamie gibson", "jamie carter"]


def test_name_history_a_later_initial_does_not_hide_the_full_name(api, database_url):
    jamie = create(api, {"name": "Jamie Gibson", "phone": PHONE})
    initial = create(api, {"name": "J. Gibson", "phone": "4155550170"}, status=200)
    assert initial["id"] == jamie["id"] and initial["name"] == "J. Gibson"
    assert history(database_url, jamie["id"]) == ["j gibson", "jamie gibson"]
    # A write of the full name compares it with "Jamie Gibson" too: 100, not 90.
    create(api, {"name": "Jamie Gibson", "phone": PHONE, "email": "j@example.com"}, status=200)
    [entry] = [m for m in api.get(f"{URL}/{jamie['id']}/merges").get_json()["data"]] or [None]
    assert entry is None  # one profile all along: nothing was merged
    # ... and the initial does not make the person match another given name with that letter.
    john = create(api, {"name": "John Gibson", "phone": PHONE})
    assert john["id"] != jamie["id"]


def test_name_history_the_phone_rule_uses_the_score_of_the_best_past_name(api):
    jamie = create(api, {"name": "Jamie Gibson", "email": "jamie@example.com"})
    patch(api, jamie["id"], {"name": "Jay Carter"})
    other = create(api, {"name": "Jamie Gibson", "phone": PHONE})
    moved = patch(api, jamie["id"], {"phone": PHONE})  # the phone now joins the two
    assert moved["id"] == jamie["id"] and moved["mergedIds"] == [other["id"]]
    [entry] = api.get(f"{URL}/{jamie['id']}/merges").get_json()["data"]
    assert (entry["rule"], entry["score"]) == ("phone_name", 100.0)


def test_name_history_a_write_without_a_name_or_clearing_it_keeps_the_history(api, database_url):
    jamie = create(api, {"name": "Jamie Gibson", "email": "jamie@example.com"})
    patch(api, jamie["id"], {"company": "Acme"})
    patch(api, jamie["id"], {"name": None})
    assert history(database_url, jamie["id"]) == ["jamie gibson"]
    # Nameless now, but written as Jamie Gibson: a phone write of that name finds it.
    patch(api, jamie["id"], {"phone": PHONE})
    again = create(api, {"name": "Jamie Gibson", "phone": PHONE}, status=200)
    assert again["id"] == jamie["id"]


def test_name_history_is_bounded_to_the_latest_10_distinct_names(api, database_url):
    assert HISTORY_LIMIT == 10
    person = create(api, {"name": "Name Zero", "phone": PHONE})
    spelled = ["One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"]
    for word in spelled:
        patch(api, person["id"], {"name": f"Name {word}"})
    patch(api, person["id"], {"name": "NAME TEN"})  # the same name again: not a new entry
    kept = history(database_url, person["id"])
    assert kept == [f"name {w.lower()}" for w in reversed(spelled)]  # "name zero" went
    # The oldest no longer matches by phone; the oldest kept still does.
    assert create(api, {"name": "Name One", "phone": PHONE}, status=200)["id"] == person["id"]
    assert create(api, {"name": "Name Zero", "phone": PHONE})["id"] != person["id"]


def test_name_history_is_unioned_on_merge(api, database_url):
    jamie = create(api, {"name": "Jamie Gibson", "email": "jamie@example.com"})
    jay = create(api, {"name": "Jay Carter", "email": "jay@example.com"})
    patch(api, jay["id"], {"name": "Jay Gibbs"})
    response = api.post(f"{URL}/{jamie['id']}/merge", json={"customers": [jay["id"]]})
    assert response.status_code == 200, response.get_json()
    assert history(database_url, jamie["id"]) == ["jamie gibson", "jay gibbs", "jay carter"]
    # Any of the merged person's names now finds it by phone.
    patch(api, jamie["id"], {"phone": PHONE})
    found = create(api, {"name": "Jay Carter", "phone": PHONE}, status=200)
    assert found["id"] == jamie["id"]


def test_name_history_an_automatic_merge_unions_it_too(api, database_url):
    jamie = create(api, {"name": "Jamie Gibson", "email": "jamie@example.com"})
    other = create(api, {"name": "Jimmy Gibbs", "userId": "crm-1"})
    merged = create(api, {"email": "jamie@example.com", "userId": "crm-1"}, status=200)
    assert merged["id"] == jamie["id"] and merged["mergedIds"] == [other["id"]]
    assert sorted(history(database_url, jamie["id"])) == ["jamie gibson", "jimmy gibbs"]


def test_name_history_is_kept_in_snapshots_but_never_shown_in_answers(api):
    jamie = create(api, {"name": "Jamie Gibson", "email": "jamie@example.com"})
    jay = create(api, {"name": "Jay Carter", "email": "jay@example.com"})
    patch(api, jay["id"], {"name": "Jay Gibbs"})
    merged = api.post(f"{URL}/{jamie['id']}/merge", json={"customers": [jay["id"]]}).get_json()
    assert "names" not in merged
    [record] = api.get(f"{URL}/{jamie['id']}/merges").get_json()["data"]
    assert record["snapshot"]["profile"]["names"] == ["jay gibbs", "jay carter"]
    contact = api.post(PARTNER, json={"email": "jamie@example.com"}).get_json()
    assert "names" not in contact


def test_name_history_goes_with_erasure(api, database_url):
    jamie = create(api, {"name": "Jamie Gibson", "email": "jamie@example.com"})
    patch(api, jamie["id"], {"name": "Jamie Carter"})
    assert api.request("DELETE", f"{URL}/{jamie['id']}").status_code in (200, 204)
    with psycopg.connect(database_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM profiles WHERE 'jamie gibson' = ANY(names)"
        ).fetchone()[0]
    assert left == 0


def test_name_history_the_partner_api_writes_it_too(api, database_url):
    contact = api.post(PARTNER, json={"email": "jamie@example.com", "name": "Jamie Gibson"})
    assert contact.status_code == 201
    renamed = api.post(PARTNER, json={"email": "jamie@example.com", "name": "J. Gibson"})
    assert renamed.status_code == 200
    [customer] = api.get(URL, query_string={"email": "jamie@example.com"}).get_json()["data"]
    assert history(database_url, customer["id"]) == ["j gibson", "jamie gibson"]


def test_name_history_the_write_path_weighs_each_phone_holder_by_its_own_names():
    # The evidence the write path locks: holders whose names (current or past) match the
    # write's, never a holder whose names only resemble another holder's.
    settings = Settings()
    phone = resolution.identifier(settings, Kind.PHONE, PHONE)
    holders = [
        PhoneHolder(1, "J. Smith", ("j smith", "jane smith")),
        PhoneHolder(2, "John Smith", ("john smith",)),
        PhoneHolder(3, None, ("jamie carter", "jamie gibson")),
    ]
    look = Lookup(named={}, profiles={}, phones={phone.norm: holders})
    for name, expected in (("Jane Smith", {1}), ("John Smith", {2}), ("Jamie Gibson", {3})):
        found = resolution.evidence(look, 1, settings, [phone], name, None)
        assert found.candidates == expected, name
    # A write naming a profile without sending a name brings the profile's names along.
    look.named[9] = 9
    look.profiles[9] = Found(9, True, "Jay Gibbs", True, names=("jay gibbs", "jamie gibson"))
    found = resolution.evidence(look, 1, settings, [phone], None, 9)
    assert found.candidates == {3, 9}


# --- households through the API ------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("Jane Smith", "John Smith", id="jane-john"),
        pytest.param("Jane Smith", "Smith, John", id="swapped"),
    ],
)
def test_households_sharing_a_phone_stay_two_people(api, first, second):
    jane = create(api, {"name": first, "phone": PHONE})
    john = create(api, {"name": second, "phone": "4155550170"})
    assert john["id"] != jane["id"]
    assert api.get(f"{URL}/{jane['id']}").get_json()["mergedIds"] == []


def test_households_the_merge_preview_says_the_given_names_differ(api):
    jane = create(api, {"name": "Jane Smith", "phone": PHONE})
    john = create(api, {"name": "John Smith", "phone": PHONE})
    response = api.post(f"{URL}/{jane['id']}/merge?dryRun=true", json={"customers": [john["id"]]})
    assert response.status_code == 200, response.get_json()
    [verdict] = response.get_json()["rules"]
    assert verdict["rule"] is None and verdict["score"] == 50.0
    assert "different given names: jane / john" in verdict["reason"]


def test_households_given_name_typos_on_a_shared_phone_are_one_person(api):
    kia = create(api, {"name": "Kia Smith", "phone": PHONE})
    kai = create(api, {"name": "Kai Smith", "phone": PHONE}, status=200)
    assert kai["id"] == kia["id"]


def test_name_history_a_merge_never_pulls_in_people_through_the_joined_history(api):
    """A write naming a profile without a name compares that profile's names as they were
    before the write merged anyone: the history a merge joins must not chain on."""
    roe = create(api, {"name": "John Roe", "phone": PHONE})
    renamed = create(api, {"name": "Jane Doe", "email": "x@example.org"})
    patch(api, renamed["id"], {"phone": PHONE})  # Jane Doe: John Roe is not her
    patch(api, renamed["id"], {"name": "John Roe"})  # history: john roe, jane doe
    named = create(api, {"name": "Jane Doe", "email": "n@example.org"})
    merged = patch(api, named["id"], {"phone": PHONE})  # matches the renamed one (jane doe)
    assert renamed["id"] in merged["mergedIds"] or named["id"] in merged["mergedIds"]
    assert roe["id"] not in [merged["id"], *merged["mergedIds"]]
    assert api.get(f"{URL}/{roe['id']}").get_json()["id"] == roe["id"]
