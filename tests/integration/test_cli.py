"""`flask accounts ...` and `flask keys ...`: new keys alone on the last line, prefixes listed."""

from __future__ import annotations

import re

import pytest

URL = "/api/v1/partner/contacts"
KEY = re.compile(r"ck_[A-Za-z0-9_-]{43}")
PREFIX_CHARS = len("ck_") + 8


@pytest.fixture
def cli(runner):
    """Invoke a command; returns click's Result."""

    def invoke(*args: str):
        return runner.invoke(args=list(args))

    return invoke


def last_line(output: str) -> str:
    return output.splitlines()[-1]


def new_key(result) -> str:
    assert result.exit_code == 0, result.output
    key = last_line(result.stdout)
    assert KEY.fullmatch(key), result.stdout
    return key


def post_status(app, key: str, email: str = "cli@example.com") -> int:
    response = app.test_client().post(URL, json={"email": email}, headers={"x-api-key": key})
    return response.status_code


def one_line_error(result) -> str:
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert not KEY.search(result.output)  # an error never issues a key
    return lines[0]


def test_accounts_create_prints_a_working_key_alone_on_the_last_line(cli, app):
    result = cli("accounts", "create", "acme")

    key = new_key(result)
    assert "acme" in result.stdout
    assert post_status(app, key) == 201


def test_accounts_create_twice_is_a_one_line_error(cli):
    new_key(cli("accounts", "create", "acme"))

    error = one_line_error(cli("accounts", "create", "acme"))

    assert "acme" in error and "already exists" in error


def test_keys_create_prints_another_working_key(cli, app):
    first = new_key(cli("accounts", "create", "acme"))

    second = new_key(cli("keys", "create", "acme"))

    assert second != first
    assert post_status(app, first) == 201
    assert post_status(app, second) == 200  # same account, so the same contact


def test_keys_list_shows_prefixes_never_keys(cli):
    keys = [new_key(cli("accounts", "create", "acme")), new_key(cli("keys", "create", "acme"))]

    result = cli("keys", "list", "acme")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(keys)
    listed = {line.split()[0] for line in lines}
    assert listed == {key[:PREFIX_CHARS] for key in keys}
    assert all("active" in line for line in lines)
    for key in keys:
        assert key not in result.output
        assert key[PREFIX_CHARS:] not in result.output


def test_keys_list_shows_only_that_accounts_keys(cli):
    mine = new_key(cli("accounts", "create", "acme"))
    theirs = new_key(cli("accounts", "create", "globex"))

    result = cli("keys", "list", "acme")

    assert result.exit_code == 0, result.output
    assert mine[:PREFIX_CHARS] in result.stdout
    assert theirs[:PREFIX_CHARS] not in result.stdout


def test_keys_revoke_by_prefix_stops_only_that_key(cli, app):
    revoked = new_key(cli("accounts", "create", "acme"))
    kept = new_key(cli("keys", "create", "acme"))

    result = cli("keys", "revoke", revoked[:PREFIX_CHARS])

    assert result.exit_code == 0, result.output
    assert revoked[:PREFIX_CHARS] in result.stdout
    assert post_status(app, revoked) == 401
    assert post_status(app, kept) == 201
    listing = cli("keys", "list", "acme").stdout
    states = {line.split()[0]: line for line in listing.splitlines()}
    assert "revoked" in states[revoked[:PREFIX_CHARS]]
    assert "active" in states[kept[:PREFIX_CHARS]]


@pytest.mark.parametrize("command", ["create", "list"])
def test_keys_of_an_unknown_account_is_a_clear_error(cli, command):
    error = one_line_error(cli("keys", command, "nobody"))

    assert "No account named 'nobody'" in error


def test_revoking_an_unknown_prefix_is_a_clear_error(cli, app):
    key = new_key(cli("accounts", "create", "acme"))

    error = one_line_error(cli("keys", "revoke", "ck_unknown"))

    assert "No API key with prefix 'ck_unknown'" in error
    assert post_status(app, key) == 201
