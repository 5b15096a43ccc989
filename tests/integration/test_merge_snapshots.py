"""Every merge record, its snapshot built in SQL, keeps the merged profile's own pre-merge
snapshot, also when one plan merges several profiles (one with tombstones and history of its
own): on the write path, the manual merge (after its preview) and the sweep. And the
survivor's derived columns (folded copies, name keys) agree with its values when a merge
writes only the fields it changes."""

from __future__ import annotations

import psycopg

from app import text
from app.identity import blocking
from app.repositories import merges as merge_rows
from app.repositories import profiles
from tests.support.identity import URL, add_event, create, history, merge

TAGS = [{"name": n} for n in ("vip", "b2b", "news", "t4", "t5", "t6", "t7", "t8")]


def snapshots(url: str, ids: list[int]) -> dict:
    with psycopg.connect(url) as conn:
        account_id = conn.execute("SELECT account_id FROM profiles LIMIT 1").fetchone()[0]
        return merge_rows.load_snapshots(conn, account_id, ids)


def assert_derived_consistent(url: str, profile_id: int) -> None:
    cols = [*profiles.NAMES, *profiles.FOLD_COLUMNS]
    with psycopg.connect(url) as conn:
        row = conn.execute(
            f"SELECT {', '.join(cols)} FROM profiles WHERE id = %s", (profile_id,)
        ).fetchone()
    values = dict(zip(cols, row, strict=True))
    for name in profiles.FOLDED:
        assert values[f"{name}_fold"] == text.fold_or_none(values[name]), name
    for key, value in blocking.profile_keys(values["name"]).items():
        assert values[key] == value, key


def people(api, phone: str = "4155550177") -> tuple[dict, dict, dict]:
    """A survivor (most complete), ``b`` (which absorbed ``d`` earlier: tombstones and
    history of its own, tags, an event) and ``c`` (an event)."""
    s = create(api, {"name": "Ann Lee", "email": "ann@example.com", "tags": TAGS})
    b = create(api, {"name": "Ann Lee", "userId": "u-b", "company": "Globex",
                     "tags": [{"name": "b-only", "color": "#ff0000"}]})  # fmt: skip
    d = create(api, {"name": "Dee Dee", "email": "d@example.com", "location": {"city": "Oslo"}})
    merge(api, b["id"], [d["id"]])
    c = create(api, {"name": "Ann Lee", "phone": phone, "notes": "c's"})
    add_event(api, b["id"], "b-event")
    add_event(api, c["id"], "c-event")
    return s, b, c


def check(api, url: str, survivor: int, before: dict, merged: list[int]) -> None:
    records = {r["merged"]: r for r in history(api, survivor) if r["rule"] != "unmerge"}
    for pid in merged:
        assert records[pid]["snapshot"] == before[pid], pid
    assert before[merged[0]]["tombstones"] and before[merged[0]]["history"]
    assert_derived_consistent(url, survivor)


def test_write_path_merging_two_at_once(api, clean_db):
    s, b, c = people(api)
    before = snapshots(clean_db, [b["id"], c["id"]])
    body = create(api, {"name": "Ann Lee", "email": "ann@example.com", "userId": "u-b",
                        "phone": "4155550177"})  # fmt: skip
    assert body["id"] == s["id"] and {b["id"], c["id"]} <= set(body["mergedIds"])
    check(api, clean_db, s["id"], before, [b["id"], c["id"]])


def test_manual_merge_of_two_at_once(api, clean_db):
    s, b, c = people(api)
    before = snapshots(clean_db, [b["id"], c["id"]])
    preview = api.post(f"{URL}/{s['id']}/merge?dryRun=true",
                       json={"customers": [b["id"], c["id"]]})  # fmt: skip
    assert preview.status_code == 200, preview.get_json()
    merged = merge(api, s["id"], [b["id"], c["id"]])
    assert merged["company"] == "Globex" and merged["location"]["city"] == "Oslo"
    check(api, clean_db, s["id"], before, [b["id"], c["id"]])


def test_a_merge_that_changes_only_the_name_fills_name_keys(api, clean_db):
    s = create(api, {"email": "ann@example.com", "tags": TAGS})  # nameless, most complete
    o = create(api, {"name": "Ann Lee", "userId": "u-o"})
    merged = merge(api, s["id"], [o["id"]])
    assert merged["name"] == "Ann Lee"
    assert_derived_consistent(clean_db, s["id"])


def test_sweep_group_of_three(api, runner, clean_db):
    phone = "+1 415 555 0199"
    ann = create(api, {"name": "Ann Lee", "email": "a@example.com", "phone": phone,
                       "tags": TAGS})  # fmt: skip
    x = create(api, {"name": "Bob Stone", "email": "x@example.com", "phone": phone,
                     "company": "Globex"})  # fmt: skip
    y = create(api, {"name": "Carl Xu", "email": "y@example.com", "phone": phone})
    d = create(api, {"name": "Dee Dee", "email": "d@example.com"})
    merge(api, x["id"], [d["id"]])
    for other in (x, y):
        renamed = api.request("PATCH", f"{URL}/{other['id']}", json={"name": "Ann Lee"})
        assert renamed.status_code == 200 and renamed.get_json()["id"] == other["id"]
        assert ann["id"] not in renamed.get_json()["mergedIds"]
    add_event(api, y["id"], "y-event")
    before = snapshots(clean_db, [x["id"], y["id"]])
    result = runner.invoke(args=["identity", "sweep"])
    assert result.exit_code == 0, result.output
    assert "2 merges done" in result.stdout, result.stdout
    check(api, clean_db, ann["id"], before, [x["id"], y["id"]])
