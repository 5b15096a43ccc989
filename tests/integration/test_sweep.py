"""`flask identity sweep`: finds and merges the people the write path left split (phone + name
between profiles), takes the write path's locks, and is idempotent."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from flask import Flask

from app import cli_identity, create_app
from app.cli_identity import parse_duration, repeat
from app.services import sweep as sweep_service
from tests.support.identity import URL, create, customer, history, merge, unmerge

PHONE = "+1 415 555 0100"


@pytest.fixture
def app(clean_db: str) -> Iterator[Flask]:
    """The suite's app with the rate limit out of the way: these tests write a lot."""
    app = create_app({"TESTING": True, "DATABASE_URL": clean_db,
                      "RATE_LIMIT_CUSTOMERS_API": "100000 per minute"})  # fmt: skip
    yield app
    app.extensions["db"].close()


def split_pair(api, account: str = "acme", phone: str = PHONE, n: int = 0) -> tuple[dict, dict]:
    """Two profiles of Ann Lee on one phone: the second was someone else until renamed (a
    write that sets only a name matches nobody), so the write path never compared them."""
    ann = create(api, {"name": "Ann Lee", "email": f"ann{n}@example.com", "phone": phone},
                 account=account)  # fmt: skip
    other = create(api, {"name": "Bob Stone", "email": f"bob{n}@example.org", "phone": phone},
                   account=account)  # fmt: skip
    assert other["id"] != ann["id"]
    renamed = api.request("PATCH", f"{URL}/{other['id']}", json={"name": "Ann Lee"},
                          account=account)  # fmt: skip
    assert renamed.status_code == 200 and renamed.get_json()["mergedIds"] == []
    return ann, renamed.get_json()


def sweep(runner, *args: str):
    result = runner.invoke(args=["identity", "sweep", *args])
    assert result.exit_code == 0, result.output
    return result


def test_the_sweep_merges_profiles_the_write_path_left_split(api, runner):
    ann, other = split_pair(api)
    result = sweep(runner, "--account", "acme")
    assert "1 groups found, 1 merges done" in result.stdout
    assert customer(api, other["id"])["id"] == customer(api, ann["id"])["id"]
    [record] = history(api, ann["id"]) or history(api, other["id"])
    assert record["rule"] == "phone_name" and record["score"] == 100.0
    assert record["requestId"].startswith("sweep-")


def test_batches_merged_at_once_merge_every_group_once(api, runner, monkeypatch):
    """Twelve split pairs in batches of two, four transactions at a time."""
    monkeypatch.setattr(sweep_service, "BATCH", 2)
    pairs = [split_pair(api, phone=f"+1 415 555 {n:04d}", n=n) for n in range(12)]
    result = sweep(runner, "--jobs", "4")
    assert "12 groups found, 12 merges done" in result.stdout
    assert result.stderr.count("of 12 groups") == 6  # a line per batch (each a new tenth)
    for ann, other in pairs:
        assert customer(api, other["id"])["id"] == customer(api, ann["id"])["id"]
    assert "0 groups found" in sweep(runner, "--jobs", "4").stdout


def test_jobs_beyond_the_pool_wait_for_nothing(api, make_app, monkeypatch):
    """--jobs 4 from an app whose pool lends one connection: one batch at a time, no batch
    waiting out DB_POOL_TIMEOUT, every group merged."""
    monkeypatch.setattr(sweep_service, "BATCH", 1)
    pairs = [split_pair(api, phone=f"+1 415 555 {n:04d}", n=n) for n in range(6)]
    small = make_app(DB_POOL_MIN_SIZE=1, DB_POOL_MAX_SIZE=1, DB_POOL_TIMEOUT=0.02)
    small.extensions["db"].pool.wait(timeout=30)  # its one connection open before the clock
    result = small.test_cli_runner().invoke(args=["identity", "sweep", "--jobs", "4"])
    assert result.exit_code == 0, result.output
    assert "6 groups found, 6 merges done" in result.stdout
    for ann, other in pairs:
        assert customer(api, other["id"])["id"] == customer(api, ann["id"])["id"]


def test_stopping_cancels_the_batches_not_started(api, runner, monkeypatch):
    """Ctrl-C after the first batch: batches already running finish, the rest never start,
    nothing is half merged, and the next run merges what is left."""
    monkeypatch.setattr(sweep_service, "BATCH", 1)
    pairs = [split_pair(api, phone=f"+1 415 555 {n:04d}", n=n) for n in range(12)]

    def interrupt(name: str):
        def stop(done: int, total: int) -> None:
            raise KeyboardInterrupt

        return stop

    monkeypatch.setattr(cli_identity, "_progress", interrupt)
    stopped = runner.invoke(args=["identity", "sweep", "--jobs", "2"])
    assert stopped.exit_code == 1 and "Aborted!" in stopped.output  # click's Ctrl-C
    merged = [customer(api, o["id"])["id"] == customer(api, a["id"])["id"] for a, o in pairs]
    assert 1 <= sum(merged) < 12, merged
    monkeypatch.undo()
    assert f"{12 - sum(merged)} merges done" in sweep(runner).stdout


def test_each_record_keeps_the_merged_profiles_snapshot_from_before_the_sweep(
    api, runner, clean_db, monkeypatch
):
    """The records of a batch are written with their snapshots built in SQL: each one is the
    merged profile's full snapshot (row, identifiers, tags, events, ...) as it was before."""
    from app.repositories import merges as merge_rows

    monkeypatch.setattr(sweep_service, "BATCH", 3)
    pairs = [split_pair(api, phone=f"+1 415 555 {n:04d}", n=n) for n in range(5)]
    for n, pair in enumerate(pairs):  # tags on both: whichever is merged away has one
        for c in pair:
            tagged = api.request("PUT", f"{URL}/{c['id']}/tags", json={"tags": [{"name": f"t{n}"}]})
            assert tagged.status_code == 200, tagged.get_json()
    ids = [c["id"] for pair in pairs for c in pair]
    with psycopg.connect(clean_db) as conn:
        account_id = conn.execute("SELECT account_id FROM profiles LIMIT 1").fetchone()[0]
        before = merge_rows.load_snapshots(conn, account_id, ids)
    assert "5 merges done" in sweep(runner, "--jobs", "2").stdout
    records = [r for ann, _ in pairs for r in history(api, ann["id"])]
    assert len(records) == 5
    for record in records:
        assert record["snapshot"] == before[record["merged"]]
        assert record["snapshot"]["tags"] and record["snapshot"]["identifiers"]


def test_a_dry_run_lists_and_merges_nothing(api, runner):
    ann, other = split_pair(api)
    result = sweep(runner, "--dry-run")
    low, high = sorted((ann["id"], other["id"]))
    assert f"would merge customers {low}, {high}" in result.stdout
    assert "1 merges to do" in result.stdout
    assert customer(api, ann["id"])["id"] == ann["id"]
    assert customer(api, other["id"])["id"] == other["id"]


def test_a_second_run_merges_nothing(api, runner):
    split_pair(api)
    sweep(runner)
    assert "0 groups found, 0 merges done" in sweep(runner).stdout


def test_a_run_stopped_by_the_pass_cap_says_a_next_run_may_merge_more(api, runner, monkeypatch):
    split_pair(api)
    monkeypatch.setattr(sweep_service, "MAX_PASSES", 1)  # the one pass merges: not known done
    assert "stopped after 1 passes (a next run may merge more)" in sweep(runner).stdout
    assert "passes" not in sweep(runner).stdout  # nothing left: the pass found nothing


def test_the_summary_counts_what_was_scanned(api, runner):
    split_pair(api)
    create(api, {"name": "Carl Berg", "email": "carl@example.net"})
    result = sweep(runner, "--account", "acme")
    assert "account acme: 3 profiles scanned, 2 sharing a phone (1 phones compared" in (
        result.stdout
    )


def test_households_and_shared_lines_are_left_apart(make_app):
    app = make_app(PHONE_SHARED_LIMIT=2)
    client = app.test_client()
    from tests.support import accounts

    with app.app_context():
        _, key = accounts.create_account("acme")
    headers = {"x-api-key": key}
    for name in ("Jane Smith", "John Smith", "Carl Berg"):  # a household, then a front desk
        response = client.post(URL, json={"name": name, "phone": PHONE}, headers=headers)
        assert response.status_code == 201
    result = app.test_cli_runner().invoke(args=["identity", "sweep"])
    assert result.exit_code == 0, result.output
    assert "0 groups found" in result.stdout and "1 shared too widely" in result.stdout


def test_a_pair_known_to_be_two_people_survives_a_sweep(api, runner):
    ann, other = split_pair(api)
    merged = merge(api, ann["id"], [other["id"]])
    assert unmerge(api, merged["id"], other["id"]).status_code == 200
    assert "0 groups found" in sweep(runner).stdout
    assert customer(api, other["id"])["id"] == other["id"]
    # and new writes keep them apart too
    again = create(api, {"name": "Ann Lee", "phone": PHONE})
    assert again["mergedIds"] == []


def test_the_sweep_of_one_account_leaves_the_others(api, runner):
    split_pair(api, "acme")
    g_ann, g_other = split_pair(api, "globex")
    assert "1 merges done" in sweep(runner, "--account", "acme").stdout
    assert customer(api, g_other["id"], account="globex")["id"] == g_other["id"]
    assert "1 merges done" in sweep(runner, "--account", "globex").stdout


def test_an_unknown_account_is_a_one_line_error(runner):
    result = runner.invoke(args=["identity", "sweep", "--account", "nope"])
    assert result.exit_code != 0 and "no account named 'nope'" in result.output


def test_progress_goes_to_stderr_as_plain_lines_off_a_terminal(api, runner):
    split_pair(api)
    result = sweep(runner)
    assert "acme: merged 1 of 1 groups" in result.stderr
    assert "merged 1 of 1" not in result.stdout


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("3h", 10800), ("1d", 86400), ("1h30m", 5400)],  # fmt: skip
)
def test_every_takes_a_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "3", "h", "0s", "3 hours", "-1h"])
def test_a_malformed_duration_is_refused(runner, text):
    result = runner.invoke(args=["identity", "sweep", "--every", text])
    assert result.exit_code != 0 and "--every" not in result.stdout


def test_every_repeats_the_run_after_each_wait():
    runs: list[str] = []
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise KeyboardInterrupt  # how an operator stops it

    with pytest.raises(KeyboardInterrupt):
        repeat(lambda: runs.append("run"), 10800.0, wait)
    assert runs == ["run"] * 3 and waits == [10800.0] * 3


def test_the_sweep_runs_beside_api_writes_keeping_the_invariant(
    api, app, runner, clean_db, monkeypatch
):
    """Rounds of split pairs swept while writers upsert the same people: no 5xx, and every
    normalized email and external id stays on exactly one live profile. One group a batch, so
    the sweep's two transactions at a time (its default) run beside the writers."""
    monkeypatch.setattr(sweep_service, "BATCH", 1)
    client, headers = app.test_client(), {"x-api-key": api.key()}

    def write(i: int, round_: int, statuses: list[int]) -> None:
        for n in range(5):
            body = {
                "email": f"b{round_}-{i}@x.org",
                "userId": f"u{round_}-{i}",
                "name": f"Ann Lee{i}",
                "customData": [{"property": "n", "value": n}],
            }
            statuses.append(client.post(URL, json=body, headers=headers).status_code)

    for round_ in range(8):
        phone = f"+1 415 555 {round_:04d}"
        for i in range(3):
            create(api, {"name": f"Ann Lee{i}", "email": f"a{round_}-{i}@x.org", "phone": phone})
            b = create(api, {"name": "Zed Q", "email": f"b{round_}-{i}@x.org", "phone": phone})
            api.request("PATCH", f"{URL}/{b['id']}", json={"name": f"Ann Lee{i}"})
        statuses: list[int] = []
        threads = [threading.Thread(target=write, args=(i, round_, statuses)) for i in range(3)]
        for t in threads:
            t.start()
        result = runner.invoke(args=["identity", "sweep"])
        for t in threads:
            t.join()
        assert result.exit_code == 0, result.output
        assert all(s < 500 for s in statuses), statuses
    with psycopg.connect(clean_db) as conn:
        doubled = conn.execute(
            "SELECT i.kind, i.value_norm, count(*) FROM profile_identifiers i"
            " JOIN profiles p ON p.account_id = i.account_id AND p.id = i.profile_id"
            " WHERE i.kind IN ('email', 'external_id') AND i.value_norm IS NOT NULL"
            "   AND p.merged_into IS NULL"
            " GROUP BY 1, 2 HAVING count(*) <> 1"
        ).fetchall()
        stranded = conn.execute(
            "SELECT count(*) FROM profile_identifiers i JOIN profiles p"
            " ON p.account_id = i.account_id AND p.id = i.profile_id"
            " WHERE p.merged_into IS NOT NULL"
        ).fetchone()[0]
    assert doubled == [] and stranded == 0
    assert "0 groups found" in sweep(runner).stdout
