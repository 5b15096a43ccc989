"""Where a request's time goes: pyinstrument over in-process partner upserts (scenario 1)
and 10-item batch updates (scenario 2), through the Flask test client on a real PostgreSQL.

    .venv/bin/pip install pyinstrument
    .venv/bin/python -m bench.profile [--upserts 300] [--batches 60]

Writes bench/results/profile-<scenario>.txt. The database (BENCH_PROFILE_DATABASE_URL, default
`contacts_profile` on 127.0.0.1:5432) is dropped and created.
"""

from __future__ import annotations

import argparse
import os
import random
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pyinstrument import Profiler

from app import create_app, db, migrations
from app.services import accounts

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/contacts_profile"
LIMITS = {
    "RATE_LIMIT_PARTNER_API": "1000000 per minute",
    "RATE_LIMIT_CUSTOMERS_API": "1000000 per minute",
}
SEEDED = 300


def fresh_database(url: str) -> None:
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upserts", type=int, default=300)
    parser.add_argument("--batches", type=int, default=60)
    args = parser.parse_args()
    url = os.environ.get("BENCH_PROFILE_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    app = create_app({"DATABASE_URL": url, **LIMITS})
    with app.app_context():
        headers = {
            "x-api-key": db.run_in_transaction(lambda c: accounts.create_account(c, "profile"))[1]
        }
    client = app.test_client()
    ids = [
        client.post(
            "/v1/customers", json={"email": f"seed{i}@example.org"}, headers=headers
        ).get_json()["id"]
        for i in range(SEEDED)
    ]
    rng = random.Random(1)

    def upsert(i: int) -> None:  # half new, half existing
        email = f"seed{rng.randrange(SEEDED)}@example.org" if i % 2 else f"new{i}@example.org"
        body = {"email": email, "name": "Seed Person", "external_id": f"ext-{i}"}
        assert client.post("/api/v1/partner/contacts", json=body, headers=headers).status_code < 300

    def batch(i: int) -> None:
        items = [
            {
                "customer": customer,
                "notes": f"note {i}",
                "tags": [{"name": f"tag{i % 5}"}],
                "customData": [{"property": "planStr", "value": "pro"}],
            }
            for customer in rng.sample(ids, 10)
        ]
        assert client.put("/v1/customers/batch", json=items, headers=headers).status_code == 200

    RESULTS.mkdir(exist_ok=True)
    for name, call, count in (("upsert", upsert, args.upserts), ("batch", batch, args.batches)):
        for i in range(20):  # warm up: pool, caches
            call(i)
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for i in range(count):
            call(1000 + i)
        profiler.stop()
        text = profiler.output_text(unicode=False, color=False)
        (RESULTS / f"profile-{name}.txt").write_text(text)
        print(f"{name}: {profiler.last_session.duration / count * 1000:.2f} ms per request")


if __name__ == "__main__":
    main()
