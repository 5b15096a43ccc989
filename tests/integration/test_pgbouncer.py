"""The main flows through PgBouncer in transaction mode (Debian's pgbouncer, 1.18).

With ``PGBOUNCER_TRANSACTION_MODE=true`` the service prepares nothing on the server and keeps
nothing in the session (the statement timeout is set per transaction): each transaction may run
on another server connection. PgBouncer here has fewer server connections (3) than the app's
pool has clients (10), so consecutive transactions do move between them. Skipped, with the
reason, where PgBouncer is not installed (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from app import create_app, db, migrations
from tests.support import accounts
from tests.support.servers import DEADLINE, free_port

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
)
pytestmark = pytest.mark.skipif(
    PGBOUNCER is None,
    reason="PgBouncer is not installed (Debian's pgbouncer package; .ci/run installs it)",
)
URL = "/v1/customers"
PARTNER = "/api/v1/partner/contacts"
SERVER_CONNECTIONS = 3


@pytest.fixture
def bouncer(database_url: str) -> Iterator[Any]:
    """``url(database)``: a PgBouncer in transaction mode in front of the test server."""
    server = conninfo_to_dict(database_url)
    port = free_port()
    # PgBouncer refuses to run as root: as root it switches to nobody, who must read this.
    folder = tempfile.mkdtemp(prefix="pgbouncer-")
    os.chmod(folder, 0o755)
    users = os.path.join(folder, "users.txt")
    with open(users, "w") as f:
        f.write(f'"{server.get("user", "postgres")}" ""\n')
    ini = os.path.join(folder, "pgbouncer.ini")
    with open(ini, "w") as f:
        f.write(
            "[databases]\n"
            f"* = host={server.get('host', '127.0.0.1')} port={server.get('port', 5432)}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {users}\npool_mode = transaction\n"
            f"default_pool_size = {SERVER_CONNECTIONS}\nmax_client_conn = 200\n"
            "ignore_startup_parameters = extra_float_digits\n"
        )
    for path in (users, ini):
        os.chmod(path, 0o644)
    args = [PGBOUNCER, *(["-u", "nobody"] if os.geteuid() == 0 else []), ini]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    drain = None
    try:
        for line in proc.stdout:
            if "listening on 127.0.0.1" in line:
                break
        else:
            pytest.fail(f"PgBouncer did not start: exit {proc.wait(timeout=DEADLINE)}")
        drain = threading.Thread(target=proc.stdout.read, daemon=True)  # keep reading its log
        drain.start()

        def url(database: str | None = None) -> str:
            return make_conninfo(
                database_url, host="127.0.0.1", port=str(port),
                dbname=database or server["dbname"],
            )  # fmt: skip

        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=DEADLINE)
        if drain is not None:
            drain.join(timeout=DEADLINE)
        proc.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def bounced_app(bouncer, clean_db) -> Iterator[Any]:
    settings = {"PGBOUNCER_TRANSACTION_MODE": True, "DB_STATEMENT_TIMEOUT_MS": 4321}
    app = create_app({"TESTING": True, "DATABASE_URL": bouncer(), "DB_POOL_MAX_SIZE": 10,
                      **settings})  # fmt: skip
    with app.app_context():
        app.config["TEST_KEY"] = accounts.create_account("acme")[1]
    yield app
    app.extensions["db"].close()


def send(app, method: str, path: str, body: Any = None, **headers: str):
    client = app.test_client()
    return client.open(path, method=method, json=body,
                       headers={"x-api-key": app.config["TEST_KEY"], **headers})  # fmt: skip


def test_main_flows_through_pgbouncer_in_transaction_mode(bounced_app):
    app = bounced_app
    # Upserts, each repeated past psycopg's prepare threshold (5): nothing is prepared.
    for round_ in range(8):
        for i in range(3):
            body = {"email": f"p{i}@example.com", "name": f"Person {i}", "external_id": f"x{i}"}
            response = send(app, "POST", PARTNER, body)
            assert response.status_code == (201 if round_ == 0 else 200), response.get_json()
    ann = send(app, "POST", URL, {"email": "ann@example.com", "name": "Ann Lee"}).get_json()
    bob = send(app, "POST", URL, {"email": "bob@example.com", "name": "Bob Stone"}).get_json()
    carl = send(app, "POST", URL, {"email": "carl@example.com", "name": "Carl"}).get_json()

    # A batch whose item merges two customers (Bob's email given to Ann).
    batch = [{"customer": ann["id"], "email": "bob@example.com", "tags": [{"name": "vip"}]},
             {"customer": carl["id"], "company": "Acme"}]  # fmt: skip
    response = send(app, "PUT", f"{URL}/batch", batch)
    assert response.status_code == 200, response.get_json()
    assert send(app, "GET", f"{URL}/{bob['id']}").get_json()["id"] == ann["id"]

    # A manual merge, its preview, and its undoing.
    preview = send(app, "POST", f"{URL}/{ann['id']}/merge?dryRun=true", {"customers": [carl["id"]]})
    assert preview.status_code == 200, preview.get_json()
    merged = send(app, "POST", f"{URL}/{ann['id']}/merge", {"customers": [carl["id"]]})
    assert merged.status_code == 200, merged.get_json()
    undone = send(app, "POST", f"{URL}/{ann['id']}/unmerge", {"customer": carl["id"]})
    assert undone.status_code == 200, undone.get_json()
    assert send(app, "GET", f"{URL}/{carl['id']}").get_json()["id"] == carl["id"]

    # An idempotent retry, reads, a search.
    first = send(app, "POST", URL, {"name": "Dora"}, **{"Idempotency-Key": "k-1"})
    again = send(app, "POST", URL, {"name": "Dora"}, **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert send(app, "GET", f"{URL}?email=ann@example.com").get_json()["total"] == 1
    found = send(app, "POST", f"{URL}/search",
                 {"filter": [{"field": "customers.email", "operator": "=",
                              "value": "p1@example.com"}]})  # fmt: skip
    assert found.status_code == 200 and found.get_json()["total"] == 1


def test_the_statement_timeout_is_the_transactions_not_the_sessions(bounced_app, bouncer):
    with bounced_app.app_context():
        database = db.get_db()
        shown = {database.transaction(lambda c: c.execute("SHOW statement_timeout").fetchone())
                 for _ in range(12)}  # fmt: skip
        shown |= {database.read(lambda c: c.execute("SHOW statement_timeout").fetchone())
                  for _ in range(12)}  # fmt: skip
    assert shown == {("4321ms",)}
    # Nothing leaked into the server connections other clients of PgBouncer get.
    for _ in range(2 * SERVER_CONNECTIONS):
        with psycopg.connect(bouncer(), autocommit=True, prepare_threshold=None) as other:
            assert other.execute("SHOW statement_timeout").fetchone() != ("4321ms",)


def test_concurrent_identifier_races_through_pgbouncer(bounced_app, clean_db):
    threads, rounds = 6, 15

    def play(thread: int) -> list[int]:
        statuses = []
        for r in range(rounds):
            email = f"shared{r % 4}@example.com"
            body = {"email": email.upper() if thread % 2 else email, "name": f"T{thread} R{r}"}
            statuses.append(send(bounced_app, "POST", PARTNER, body).status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = [
            f.result(timeout=DEADLINE) for f in [pool.submit(play, t) for t in range(threads)]
        ]
    assert {s for statuses in results for s in statuses} <= {200, 201}
    with psycopg.connect(clean_db) as conn:
        holders = conn.execute(
            "SELECT i.value_norm, count(*) FROM profile_identifiers i "
            "JOIN profiles p ON p.account_id = i.account_id AND p.id = i.profile_id "
            "WHERE i.kind = 'email' AND p.merged_into IS NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert holders == [(f"shared{i}@example.com", 1) for i in range(4)]


def test_migrations_apply_once_through_pgbouncer(bouncer, make_database):
    fresh = make_database("bounced_migrations")
    conninfo = conninfo_to_dict(fresh)
    url = bouncer(conninfo["dbname"])
    barrier = threading.Barrier(3, timeout=DEADLINE)

    def upgrade() -> list[str]:
        with db.connect(url) as conn:
            barrier.wait()
            return [m.version for m in migrations.upgrade(conn)]

    with ThreadPoolExecutor(max_workers=3) as pool:
        applied = [f.result(timeout=DEADLINE) for f in [pool.submit(upgrade) for _ in range(3)]]
    assert sorted(v for versions in applied for v in versions) == [
        m.version for m in migrations.available()
    ]
    with db.connect(url) as conn:
        assert migrations.pending(conn) == []
