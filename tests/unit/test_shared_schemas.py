"""Request schemas are built once, at import, and shared by every request and thread (webargs
would otherwise build a new instance, deep-copying every field, for each request)."""

from __future__ import annotations

import threading

import pytest

import marshmallow as ma

from app.api import contacts
from app.api.schemas.contacts import ContactUpsertSchema


def test_route_arguments_are_schema_instances():
    (argument,) = contacts.Contacts.post._apidoc["arguments"]["parameters"]
    assert isinstance(argument["schema"], ContactUpsertSchema)


def test_one_schema_instance_loads_concurrently_without_mixing_requests():
    """Eight threads, 300 loads each, good and bad bodies interleaved, on one instance."""
    schema = ContactUpsertSchema()
    barrier = threading.Barrier(8)
    failures: list[str] = []

    def load(worker: int) -> None:
        barrier.wait()
        for n in range(300):
            email = f"w{worker}-{n}@example.com"
            if n % 3 == 0:
                with pytest.raises(ma.ValidationError) as caught:
                    schema.load({"email": email, "name": "x" * 256, "nope": worker})
                if set(caught.value.messages) != {"name", "nope"}:
                    failures.append(f"{worker}/{n}: {caught.value.messages}")
            else:
                loaded = schema.load({"email": email, "name": f"W {worker} {n}"})
                if loaded != {"email": email, "name": f"W {worker} {n}"}:
                    failures.append(f"{worker}/{n}: {loaded}")

    threads = [threading.Thread(target=load, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
