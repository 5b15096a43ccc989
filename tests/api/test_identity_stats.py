"""The identity report: GET /v1/identity/stats and `flask identity report` give the same
figures — people, merges by rule over time, shared phones, placeholders, distinct pairs."""

from __future__ import annotations

import datetime as dt
import json

from tests.support import accounts
from tests.support.identity import create, merge, unmerge

STATS = "/v1/identity/stats"
PHONE = "+1 415 555 0100"


def seed(api) -> None:
    """Five people: two merged by email, one merged by hand then unmerged, a shared phone with
    dissimilar names, a placeholder email."""
    create(api, {"name": "Ann Lee", "email": "ann@example.com"})
    create(api, {"name": "A. Lee", "userId": "ann-1"})
    create(api, {"email": "ann@example.com", "userId": "ann-1"})  # merges them
    bob = create(api, {"name": "Bob Stone", "email": "bob@example.org", "phone": PHONE})
    carl = create(api, {"name": "Carl Berg", "email": "carl@example.net", "phone": PHONE})
    merge(api, bob["id"], [carl["id"]])
    assert unmerge(api, bob["id"], carl["id"]).status_code == 200
    create(api, {"name": "Nobody", "email": "noemail@example.com"})


def stats(api, **kwargs) -> dict:
    response = api.get(STATS, **kwargs)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_stats_count_live_and_merged_profiles(api):
    seed(api)
    assert stats(api)["profiles"] == {"live": 4, "merged": 1}


def test_stats_count_merges_by_rule_all_time_and_per_day(api):
    seed(api)
    merges = stats(api)["merges"]
    assert merges["byRule"]["external_id"] == {"count": 1, "undone": 0}
    assert merges["byRule"]["manual"] == {"count": 1, "undone": 1}
    assert merges["byRule"]["unmerge"] == {"count": 1, "undone": 0}
    today = dt.datetime.now(dt.UTC).date().isoformat()
    [day] = merges["daily"]
    assert day == {"day": today, "byRule": {"external_id": 1, "manual": 1, "unmerge": 1}}
    assert merges["days"] == 30


def test_stats_count_shared_phones_placeholders_and_distinct_pairs(api):
    seed(api)
    body = stats(api)
    assert body["sharedPhones"] == {"phones": 1, "profiles": 2, "overLimit": 0, "limit": 5}
    assert body["placeholders"] == {"email": 1}
    assert body["distinctPairs"] == 1


def test_phones_over_the_shared_limit_are_counted(make_app):
    app = make_app(PHONE_SHARED_LIMIT=2)
    with app.app_context():
        _, key = accounts.create_account("acme")
    client, headers = app.test_client(), {"x-api-key": key}
    for name in ("Ann Lee", "Bob Stone", "Carl Berg"):
        client.post("/v1/customers", json={"name": name, "phone": PHONE}, headers=headers)
    body = client.get(STATS, headers=headers).get_json()
    assert body["sharedPhones"] == {"phones": 1, "profiles": 3, "overLimit": 1, "limit": 2}


def test_stats_are_per_account(api):
    seed(api)
    assert stats(api, account="globex")["profiles"] == {"live": 0, "merged": 0}


def test_days_is_bounded(api):
    for days in ("0", "367", "x"):
        assert api.get(f"{STATS}?days={days}").status_code == 422
    assert stats(api, query_string={"days": 366})["merges"]["days"] == 366


def test_the_cli_report_prints_the_same_figures(api, runner):
    seed(api)
    result = runner.invoke(args=["identity", "report", "--account", "acme", "--json"])
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.stdout)["accounts"]
    assert report.pop("account") == "acme"
    assert report == stats(api)


def test_the_cli_report_reads_as_text_for_every_account(api, runner):
    seed(api)
    api.key("globex")
    result = runner.invoke(args=["identity", "report"])
    assert result.exit_code == 0, result.output
    assert "account acme" in result.stdout and "account globex" in result.stdout
    assert "profiles: 4 live, 1 merged away" in result.stdout
    assert "external_id 1, manual 1 (1 undone by unmerge)" in result.stdout


def test_the_cli_report_of_an_unknown_account_is_a_one_line_error(runner):
    result = runner.invoke(args=["identity", "report", "--account", "nope"])
    assert result.exit_code != 0 and "no account named 'nope'" in result.output
