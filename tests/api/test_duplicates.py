"""GET /v1/customers/{id}/duplicates: likely duplicates the rules did not merge, best first,
with reasons and the values that matched; never the customer itself, never a merged-away one,
never merged by asking."""

from __future__ import annotations

import pytest

from app.identity import name_similarity
from app.identity.suggestions import CLOSE

URL = "/v1/customers"


def create(api, body: dict, account: str = "acme") -> dict:
    response = api.post(URL, json=body, account=account)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def duplicates(api, customer_id: int, query: str = "", account: str = "acme") -> dict:
    response = api.get(f"{URL}/{customer_id}/duplicates{query}", account=account)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def suggested(api, customer_id: int) -> dict[int, dict]:
    """Suggested customer id -> the suggestion."""
    return {d["customer"]["id"]: d for d in duplicates(api, customer_id, "?limit=50")["data"]}


def test_an_email_on_a_known_domain_typo_is_suggested(api):
    ann = create(api, {"name": "Ann Lee", "email": "ann.lee@gmail.com"})
    typo = create(api, {"name": "Ann Lee", "email": "Ann.Lee@gmial.com"})
    found = suggested(api, ann["id"])[typo["id"]]
    assert found["reasons"] == ["email_domain_typo"]
    assert {"kind": "email", "value": "ann.lee@gmial.com", "near": "ann.lee@gmail.com"} in found[
        "matched"
    ]
    assert suggested(api, typo["id"])[ann["id"]]["reasons"] == ["email_domain_typo"]


def test_an_email_one_edit_away_with_the_same_name_is_suggested(api):
    ann = create(api, {"name": "Ann Lee", "email": "ann.lee@example.com"})
    typo = create(api, {"name": "Lee, Ann", "email": "ann.lea@example.com"})
    found = suggested(api, ann["id"])[typo["id"]]
    assert found["reasons"] == ["email_typo"]
    assert {"kind": "email", "value": "ann.lea@example.com", "near": "ann.lee@example.com"} in (
        found["matched"]
    )


def test_an_email_one_edit_away_with_another_name_is_not_suggested(api):
    ann = create(api, {"name": "Ann Lee", "email": "ann.lee@example.com"})
    other = create(api, {"name": "Ann Lee", "email": "bob@example.org"})
    stranger = create(api, {"name": "Zoe Park", "email": "ann.lea@example.com"})
    found = suggested(api, ann["id"])
    assert other["id"] in found and stranger["id"] not in found


def test_the_same_phone_with_a_close_name_is_suggested(api):
    assert CLOSE <= name_similarity("Jane", "Jane Smith") < 80  # too far apart to merge
    jane = create(api, {"name": "Jane", "phone": "+1 415 555 0100"})
    smith = create(api, {"name": "Jane Smith", "phone": "(415) 555-0100"})
    assert smith["id"] != jane["id"]
    found = suggested(api, jane["id"])[smith["id"]]
    assert found["reasons"] == ["phone_name_close"]
    assert {"kind": "phone", "value": "+14155550100", "near": None} in found["matched"]


def test_the_same_phone_with_a_dissimilar_name_is_not_suggested(api):
    jane = create(api, {"name": "Jane Smith", "phone": "+1 415 555 0100"})
    john = create(api, {"name": "Oscar Wilde", "phone": "+1 415 555 0100"})
    assert john["id"] not in suggested(api, jane["id"])


def test_the_same_phone_without_a_name_is_suggested(api):
    nameless = create(api, {"phone": "+1 415 555 0100", "email": "x1@example.com"})
    bob = create(api, {"name": "Bob Stone", "phone": "+1 415 555 0100"})
    assert suggested(api, bob["id"])[nameless["id"]]["reasons"] == ["phone_no_name"]


def test_the_same_name_with_a_phone_one_digit_away_is_suggested(api):
    ann = create(api, {"name": "Ann Lee", "phone": "+1 415 555 0100"})
    near = create(api, {"name": "Ann Lee", "phone": "+1 415 555 0109"})
    found = suggested(api, ann["id"])[near["id"]]
    assert found["reasons"] == ["phone_one_digit"]
    assert {"kind": "phone", "value": "+14155550109", "near": "+14155550100"} in found["matched"]


def test_the_same_name_and_company_is_suggested(api):
    ann = create(api, {"name": "Ann Lee", "company": "Acme Ltd"})
    same = create(api, {"name": "ANN LEE", "company": "ACME LTD"})
    found = suggested(api, ann["id"])[same["id"]]
    assert found["reasons"] == ["name_company"]
    assert {"kind": "company", "value": "ACME LTD", "near": "Acme Ltd"} in found["matched"]


def test_the_same_name_and_city_is_suggested(api):
    ann = create(api, {"name": "Ann Lee", "location": {"city": "Kraków"}})
    same = create(api, {"name": "Lee Ann", "location": {"city": "KRAKÓW"}})
    assert suggested(api, ann["id"])[same["id"]]["reasons"] == ["name_city"]


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [
        pytest.param("Ann Lee", "ann lee", id="folded"),
        pytest.param("Ann Lee", "Lee, Ann", id="any-order"),
        pytest.param("Robert Stone", "Bob Stone", id="nickname"),
        pytest.param("J. Gibson", "Jamie Gibson", id="initial"),
        pytest.param("Jamie Gibson", "J. Gibson", id="initial-the-other-way"),
        pytest.param("José Álvarez", "Jose Alvarez", id="accents"),
    ],
)
def test_the_same_name_alone_is_suggested(api, mine, theirs):
    me = create(api, {"name": mine})
    them = create(api, {"name": theirs})
    assert suggested(api, me["id"])[them["id"]]["reasons"] == ["name"]


def test_a_different_given_name_is_not_the_same_name(api):
    jane = create(api, {"name": "Jane Smith"})
    john = create(api, {"name": "John Smith"})
    assert john["id"] not in suggested(api, jane["id"])


def test_a_rarer_name_scores_higher(api):
    rare = [create(api, {"name": "Zbigniew Quist"}) for _ in range(2)]
    common = [create(api, {"name": "Ann Lee"}) for _ in range(5)]
    rare_score = suggested(api, rare[0]["id"])[rare[1]["id"]]["score"]
    common_score = suggested(api, common[0]["id"])[common[1]["id"]]["score"]
    assert rare_score > common_score


def test_suggestions_come_best_first_in_the_order_of_their_reasons(api):
    me = create(api, {"name": "Ann Lee", "email": "ann.lee@gmail.com", "company": "Acme",
                      "location": {"city": "Oslo"}, "phone": "+1 415 555 0100"})  # fmt: skip
    by_name = create(api, {"name": "Ann Lee"})
    by_city = create(api, {"name": "Ann Lee", "location": {"city": "Oslo"}})
    by_company = create(api, {"name": "Ann Lee", "company": "ACME"})
    by_digit = create(api, {"name": "Ann Lee", "phone": "+1 415 555 0101"})
    by_phone = create(api, {"name": "Ann", "phone": "+1 415 555 0100"})
    by_domain = create(api, {"name": "Ann Lee", "email": "ann.lee@gmial.com"})
    data = duplicates(api, me["id"])["data"]
    order = [d["customer"]["id"] for d in data]
    assert order == [by_domain["id"], by_digit["id"], by_company["id"], by_phone["id"],
                     by_city["id"], by_name["id"]]  # fmt: skip
    scores = [d["score"] for d in data]
    assert scores == sorted(scores, reverse=True)


def test_the_customer_itself_and_merged_away_customers_are_never_suggested(api):
    me = create(api, {"name": "Ann Lee", "email": "a@example.com"})
    survivor = create(api, {"name": "Ann Lee", "email": "b@example.com"})
    gone = create(api, {"name": "Ann Lee", "email": "c@example.com"})
    merged = api.post(f"{URL}/{survivor['id']}/merge", json={"customers": [gone["id"]]})
    assert merged.status_code == 200, merged.get_json()
    assert set(suggested(api, me["id"])) == {survivor["id"]}
    assert set(suggested(api, survivor["id"])) == {me["id"]}


def test_customers_known_to_be_two_people_are_never_suggested(api):
    me = create(api, {"name": "Ann Lee", "email": "a@example.com"})
    other = create(api, {"name": "Ann Lee", "email": "b@example.com"})
    third = create(api, {"name": "Ann Lee", "email": "c@example.com"})
    merged = api.post(f"{URL}/{me['id']}/merge", json={"customers": [other["id"]]})
    assert merged.status_code == 200, merged.get_json()
    undone = api.post(f"{URL}/{me['id']}/unmerge", json={"customer": other["id"]})
    assert undone.status_code == 200, undone.get_json()
    assert set(suggested(api, me["id"])) == {third["id"]}
    assert set(suggested(api, other["id"])) == {third["id"]}


def test_a_merged_away_id_shows_its_survivors_suggestions(api):
    me = create(api, {"name": "Ann Lee", "email": "a@example.com"})
    survivor = create(api, {"name": "Ann Lee", "email": "b@example.com"})
    gone = create(api, {"name": "Ann Lee", "email": "c@example.com"})
    api.post(f"{URL}/{survivor['id']}/merge", json={"customers": [gone["id"]]})
    assert duplicates(api, gone["id"]) == duplicates(api, survivor["id"])
    assert set(suggested(api, gone["id"])) == {me["id"]}


def test_another_accounts_customer_or_an_unknown_id_is_a_404(api):
    theirs = create(api, {"name": "Ann Lee"}, account="other")
    create(api, {"name": "Ann Lee"})
    for customer_id in (theirs["id"], 999_999, 0, 2**63):
        response = api.get(f"{URL}/{customer_id}/duplicates")
        assert response.status_code == 404, (customer_id, response.get_json())


def test_another_accounts_customers_are_never_suggested(api):
    mine = create(api, {"name": "Ann Lee", "email": "ann.lee@gmail.com"})
    create(api, {"name": "Ann Lee", "email": "ann.lee@gmial.com"}, account="other")
    assert duplicates(api, mine["id"])["data"] == []


def test_pages_walk_the_suggestions_with_next_cursor(api):
    me = create(api, {"name": "Ann Lee"})
    others = {create(api, {"name": "Ann Lee"})["id"] for _ in range(5)}
    first = duplicates(api, me["id"], "?limit=2")
    assert len(first["data"]) == 2 and first["nextCursor"]
    second = duplicates(api, me["id"], f"?limit=2&after={first['nextCursor']}")
    third = duplicates(api, me["id"], f"?limit=2&after={second['nextCursor']}")
    assert len(third["data"]) == 1 and third["nextCursor"] is None
    seen = [d["customer"]["id"] for page in (first, second, third) for d in page["data"]]
    assert sorted(seen) == sorted(others)
    assert [d["customer"]["id"] for d in duplicates(api, me["id"])["data"]] == seen


@pytest.mark.parametrize(
    "query",
    ["?limit=0", "?limit=51", "?limit=x", "?after=not-a-cursor", "?after=e30", "?other=1"],
)
def test_bounds_and_bad_cursors_are_422(api, query):
    me = create(api, {"name": "Ann Lee"})
    response = api.get(f"{URL}/{me['id']}/duplicates{query}")
    assert response.status_code == 422, response.get_json()


def test_the_default_page_is_10_and_50_is_the_most(api):
    me = create(api, {"name": "Ann Lee"})
    for _ in range(11):
        create(api, {"name": "Ann Lee"})
    assert len(duplicates(api, me["id"])["data"]) == 10
    assert len(duplicates(api, me["id"], "?limit=50")["data"]) == 11


def test_asking_for_suggestions_merges_nothing(api):
    ann = create(api, {"name": "Ann Lee", "email": "ann.lee@gmail.com"})
    typo = create(api, {"name": "Ann Lee", "email": "ann.lee@gmial.com"})
    before = [api.get(f"{URL}/{c['id']}").get_json() for c in (ann, typo)]
    assert suggested(api, ann["id"])
    assert [api.get(f"{URL}/{c['id']}").get_json() for c in (ann, typo)] == before
    assert api.get(f"{URL}/{ann['id']}/merges").get_json()["data"] == []


def test_a_suggested_customer_is_the_full_customer_object(api):
    ann = create(api, {"name": "Ann Lee"})
    other = create(api, {"name": "Ann Lee", "company": "Globex"})
    [found] = duplicates(api, ann["id"])["data"]
    assert found["customer"] == api.get(f"{URL}/{other['id']}").get_json()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="nothing-at-all"),
        pytest.param({"name": "J. G."}, id="initials-only"),
        pytest.param({"email": "noemail@example.com"}, id="a-placeholder"),
    ],
)
def test_a_customer_with_nothing_to_compare_has_no_suggestions(api, body):
    create(api, {"name": "J. G.", "email": "jg@example.com"})
    create(api, {"email": "noemail@example.com"})
    me = create(api, body)
    assert duplicates(api, me["id"]) == {"data": [], "nextCursor": None}
