"""The floor: the least a Flask + psycopg app can do for the benchmark's requests.

    gunicorn -c deploy/gunicorn.conf.py 'bench.floor.app:app'

Written the fast way: autocommit connections, a pool as large as the worker's threads, opened
in the worker after fork (on its first request), every statement prepared, and one statement
per request: an ``INSERT ... ON CONFLICT ... RETURNING`` per upsert, one ``unnest`` statement
per batch (items deduplicated and sorted by id, so concurrent batches lock rows in one order and
cannot deadlock). It serves the paths the benchmark's scripts call, with the same bodies, on
the one ``contacts`` table of ``schema.sql``; it validates next to nothing, resolves no
identities and merges nothing: it is the cost of HTTP, Flask, JSON and one round trip, which is
what the service is measured against. pgbench runs the same statements (``STATEMENTS``) with
no HTTP at all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from flask import Flask, abort, jsonify, request

CUSTOMER = (
    "id, contact_id, name, email_norm, external_id, phone, company, city, country_code, notes, "
    "tags, custom_data, created_at, updated_at"
)
STATEMENTS = {
    # Partner upsert: matched on the email (required by that API), created otherwise.
    "upsert_contact": """
INSERT INTO contacts (account_id, email_norm, name, external_id)
VALUES (%(account_id)s, %(email)s, %(name)s, %(external_id)s)
ON CONFLICT (account_id, email_norm) DO UPDATE
SET name = coalesce(EXCLUDED.name, contacts.name),
    external_id = coalesce(contacts.external_id, EXCLUDED.external_id),
    updated_at = now()
RETURNING contact_id, email_norm, name, external_id, created_at, (xmax = 0) AS inserted""",
    # Customer create: the same on the email, with a phone (scenario 6; the floor never merges).
    "create_customer": f"""
INSERT INTO contacts (account_id, email_norm, name, external_id, phone)
VALUES (%(account_id)s, %(email)s, %(name)s, %(external_id)s, %(phone)s)
ON CONFLICT (account_id, email_norm) DO UPDATE
SET name = coalesce(EXCLUDED.name, contacts.name),
    phone = coalesce(EXCLUDED.phone, contacts.phone),
    external_id = coalesce(contacts.external_id, EXCLUDED.external_id),
    updated_at = now()
RETURNING {CUSTOMER}, (xmax = 0) AS inserted""",
    # Batch update: one statement for up to 10 items, ids unique and sorted.
    "update_batch": f"""
UPDATE contacts c
SET company = coalesce(v.company, c.company),
    notes = coalesce(v.notes, c.notes),
    tags = coalesce(v.tags, c.tags),
    custom_data = c.custom_data || v.custom_data,
    updated_at = now()
FROM unnest(%(ids)s::bigint[], %(companies)s::text[], %(notes)s::text[], %(tags)s::jsonb[],
            %(custom_data)s::jsonb[]) AS v(id, company, notes, tags, custom_data)
WHERE c.account_id = %(account_id)s AND c.id = v.id
RETURNING {", ".join("c." + c for c in CUSTOMER.split(", "))}""",
    "get_customer": f"SELECT {CUSTOMER} FROM contacts WHERE account_id = %(account_id)s"
    " AND id = %(id)s",
    "find_by_email": f"SELECT {CUSTOMER} FROM contacts WHERE account_id = %(account_id)s"
    " AND email_norm = %(value)s",
    "find_by_external_id": f"SELECT {CUSTOMER} FROM contacts WHERE account_id = %(account_id)s"
    " AND external_id = %(value)s",
    # A page by id, with the account's total (as the service's list answers carry it).
    "list_customers": f"""
SELECT (SELECT count(*) FROM contacts WHERE account_id = %(account_id)s) AS total, page.*
FROM (SELECT {CUSTOMER} FROM contacts
      WHERE account_id = %(account_id)s AND id > %(after)s
      ORDER BY id LIMIT %(limit)s OFFSET %(offset)s) page""",
}

app = Flask(__name__)
_pool: ConnectionPool | None = None
_pool_lock = threading.Lock()
_keys: dict[bytes, int] = {}


def pool() -> ConnectionPool:
    """The worker's pool, opened on first use (after fork): one connection per thread."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                size = int(os.environ.get("GUNICORN_THREADS", "4"))
                _pool = ConnectionPool(
                    os.environ["DATABASE_URL"], min_size=size, max_size=size, open=True,
                    kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
                )  # fmt: skip
                _pool.wait()
    return _pool


def account_id() -> int:
    """The account of the request's key (keys are read once per worker, then cached)."""
    key = request.headers.get("x-api-key", "")
    digest = hashlib.sha256(key.encode()).digest()
    found = _keys.get(digest)
    if found is None:
        with pool().connection() as conn:
            row = conn.execute(
                "SELECT account_id FROM api_keys WHERE key_hash = %s AND revoked_at IS NULL",
                [digest],
            ).fetchone()
        if row is None:
            abort(401)
        found = _keys[digest] = row["account_id"]
    return found


def run(name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with pool().connection() as conn:
        return conn.execute(STATEMENTS[name], params).fetchall()


def customer(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "name": row["name"], "email": row["email_norm"],
        "userId": row["external_id"], "phone": row["phone"], "company": row["company"],
        "location": {"city": row["city"], "countryCode": row["country_code"]},
        "notes": row["notes"], "tags": row["tags"], "customData": row["custom_data"],
        "createdAt": str(int(row["created_at"].timestamp())),
        "updatedAt": str(int(row["updated_at"].timestamp())),
        "contactId": str(row["contact_id"]),
    }  # fmt: skip


def _email(value: Any) -> str:
    if not isinstance(value, str) or "@" not in value:
        abort(422)
    return value.strip().lower()


@app.post("/api/v1/partner/contacts")
def upsert_contact() -> Any:
    body = request.get_json(force=True)
    row = run("upsert_contact", {
        "account_id": account_id(), "email": _email(body.get("email")),
        "name": body.get("name"), "external_id": body.get("external_id"),
    })[0]  # fmt: skip
    return jsonify({
        "id": str(row["contact_id"]), "email": row["email_norm"], "name": row["name"],
        "external_id": row["external_id"], "created_at": row["created_at"].isoformat(),
    }), 201 if row["inserted"] else 200  # fmt: skip


@app.post("/v1/customers")
def create_customer() -> Any:
    body = request.get_json(force=True)
    row = run("create_customer", {
        "account_id": account_id(), "email": _email(body.get("email")), "name": body.get("name"),
        "external_id": body.get("userId"), "phone": body.get("phone"),
    })[0]  # fmt: skip
    return jsonify(customer(row)), 201 if row["inserted"] else 200


@app.put("/v1/customers/batch")
def update_batch() -> Any:
    items = request.get_json(force=True)
    if not isinstance(items, list) or not 1 <= len(items) <= 10:
        abort(422)
    merged: dict[int, dict[str, Any]] = {}
    for item in items:  # repeated customers: later items win, field by field
        into = merged.setdefault(int(item["customer"]), {"customData": {}})
        for field in ("company", "notes", "tags"):
            if field in item:
                into[field] = item[field]
        for prop in item.get("customData") or ():
            into["customData"][prop["property"]] = prop["value"]
    ids = sorted(merged)
    rows = run("update_batch", {
        "account_id": account_id(), "ids": ids,
        "companies": [merged[i].get("company") for i in ids],
        "notes": [merged[i].get("notes") for i in ids],
        "tags": [json.dumps(merged[i]["tags"]) if "tags" in merged[i] else None for i in ids],
        "custom_data": [json.dumps(merged[i]["customData"]) for i in ids],
    })  # fmt: skip
    if len(rows) != len(ids):
        abort(404)
    by_id = {row["id"]: customer(row) for row in rows}
    return jsonify([by_id[int(item["customer"])] for item in items])


@app.get("/v1/customers/<int:customer_id>")
def get_customer(customer_id: int) -> Any:
    rows = run("get_customer", {"account_id": account_id(), "id": customer_id})
    if not rows:
        abort(404)
    return jsonify(customer(rows[0]))


@app.post("/v1/customers/search")
def search() -> Any:
    body = request.get_json(force=True)
    (condition,) = body["filter"]
    statement = {"customers.email": "find_by_email", "customers.userId": "find_by_external_id"}
    if condition.get("operator") != "=" or condition.get("field") not in statement:
        abort(422)
    value = condition["value"]
    value = _email(value) if condition["field"] == "customers.email" else value.strip()
    rows = run(statement[condition["field"]], {"account_id": account_id(), "value": value})
    return jsonify({"data": [customer(r) for r in rows], "total": len(rows), "nextCursor": None})


@app.get("/v1/customers")
def list_customers() -> Any:
    limit = int(request.args.get("limit", 20))
    offset = int(request.args.get("offset", 0))
    after = 0
    if "after" in request.args:  # the service's cursor: base64url JSON with the last id
        raw = request.args["after"]
        after = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))["id"]
        offset = 0
    rows = run("list_customers", {
        "account_id": account_id(), "after": after, "limit": limit + 1, "offset": offset,
    })  # fmt: skip
    total = rows[0]["total"] if rows else 0
    page = rows[:limit]
    cursor = None
    if len(rows) > limit:
        last = page[-1]["id"]
        position = json.dumps({"c": "id", "d": False, "id": last, "v": last}, separators=(",", ":"))
        cursor = base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")
    return jsonify({"data": [customer(r) for r in page], "total": total, "nextCursor": cursor})
