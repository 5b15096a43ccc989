"""Placeholder values ("noemail@...", "0000000000", "undefined") are never identifiers: their
normalized form is None, so they never match. The built-in list is a data file, extendable by a
deployment's own file."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from app.identity import Kind, Placeholders, identifier, is_possible_phone, normalize_phone
from app.identity.placeholders import NONE, is_trivial_digits


def builtin_mapping() -> dict:
    """The shipped data file, read the way the service shell reads it."""
    text = resources.files("app.identity").joinpath("placeholders.json").read_text("utf-8")
    return json.loads(text)


BUILTIN = Placeholders.from_mappings([builtin_mapping()])


def norm(kind: Kind, value: str, placeholders: Placeholders = BUILTIN, region: str = "US"):
    return identifier(kind, value, region=region, placeholders=placeholders).norm


# --- emails --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("noemail@shop.com", id="noemail-local-part"),
        pytest.param("NoEmail@Shop.com", id="noemail-any-case"),
        pytest.param("  none@example.org ", id="none-local-part-trimmed"),
        pytest.param("no-email@gmail.com", id="no-email-local-part"),
        pytest.param("test@test.com", id="test-at-test"),
        pytest.param("anyone@noemail.com", id="noemail-domain"),
        pytest.param("null", id="null"),
        pytest.param("n/a", id="n/a"),
    ],
)
def test_placeholder_emails_have_no_normalized_form(value):
    assert norm(Kind.EMAIL, value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Ann@Example.com", "ann@example.com", id="ordinary"),
        pytest.param("noemailplease@shop.com", "noemailplease@shop.com", id="longer-local-part"),
        pytest.param("tester@test.company", "tester@test.company", id="near-miss"),
    ],
)
def test_real_emails_keep_their_normalized_form(value, expected):
    assert norm(Kind.EMAIL, value) == expected


# --- phones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "region"),
    [
        pytest.param("0000000000", "US", id="all-zeros-US"),
        pytest.param("2222222222", "US", id="all-twos-US"),
        pytest.param("1234567890", "US", id="ascending-US"),
        pytest.param("9876543210", "US", id="descending-US"),
        pytest.param("0123456789", "GB", id="ascending-from-0-GB"),
        pytest.param("0123456789", "DE", id="ascending-from-0-DE"),
        pytest.param("+1 800 555 1212", "US", id="listed-directory-assistance"),
        pytest.param("(555) 555-5555", "US", id="listed-all-fives"),
    ],
)
def test_placeholder_phones_have_no_normalized_form(value, region):
    assert is_possible_phone(value, region)  # a phone number by its shape...
    assert norm(Kind.PHONE, value, region=region) is None  # ...but not an identifier


def test_listed_placeholder_phones_come_from_the_data_file():
    # +1 800 555 1212 is neither one digit nor a run: only the list makes it a placeholder.
    assert normalize_phone("+1 800 555 1212", "US", NONE) == "+18005551212"
    assert normalize_phone("+1 800 555 1212", "US", BUILTIN) is None


@pytest.mark.parametrize(
    ("digits", "trivial"),
    [
        pytest.param("0000000000", True, id="all-one-digit"),
        pytest.param("1234567890", True, id="ascending-run"),
        pytest.param("0123456789", True, id="ascending-run-from-0"),
        pytest.param("9876543210", True, id="descending-run"),
        pytest.param("4155550100", False, id="real-number"),
        pytest.param("2079460958", False, id="real-uk-number"),
    ],
)
def test_phones_of_one_digit_or_one_run_are_trivial(digits, trivial):
    assert is_trivial_digits(digits) is trivial


@pytest.mark.parametrize(
    ("value", "region", "e164"),
    [
        pytest.param("(415) 555-0100", "US", "+14155550100", id="US"),
        pytest.param("020 7946 0958", "GB", "+442079460958", id="GB"),
    ],
)
def test_real_phones_keep_their_normalized_form(value, region, e164):
    assert norm(Kind.PHONE, value, region=region) == e164


# --- external ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("0", id="zero"),
        pytest.param("-1", id="minus-one"),
        pytest.param("null", id="null"),
        pytest.param("NULL", id="null-upper"),
        pytest.param("undefined", id="undefined"),
        pytest.param(" Undefined ", id="undefined-trimmed-any-case"),
        pytest.param("anonymous", id="anonymous"),
        pytest.param("n/a", id="n/a"),
        pytest.param("N/A", id="n/a-upper"),
    ],
)
def test_placeholder_external_ids_have_no_normalized_form(value):
    assert norm(Kind.EXTERNAL_ID, value) is None


@pytest.mark.parametrize("value", ["crm-0", "10", "user_1", "Anonymous42"])
def test_real_external_ids_keep_their_normalized_form(value):
    assert norm(Kind.EXTERNAL_ID, value) == value


# --- the value as given is kept ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        pytest.param(Kind.EMAIL, "NoEmail@Shop.com", id="email"),
        pytest.param(Kind.PHONE, "000-000-0000", id="phone"),
        pytest.param(Kind.EXTERNAL_ID, "undefined", id="external-id"),
    ],
)
def test_a_placeholder_is_kept_as_given_beside_its_empty_normalized_form(kind, value):
    ident = identifier(kind, value, placeholders=BUILTIN)
    assert (ident.kind, ident.value, ident.norm) == (kind, value, None)


# --- a deployment's own file ---------------------------------------------------------------


DEPLOYMENT = {
    "email_addresses": ["Front.Desk@Shop.example"],
    "email_local_parts": ["walkin"],
    "email_domains": ["pos.shop.example"],
    "phones": ["+14155550100"],
    "external_ids": ["GUEST-CHECKOUT"],
    "_doc": "ignored: not a list name",
}


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        pytest.param(Kind.EMAIL, "front.desk@shop.example", id="email-address"),
        pytest.param(Kind.EMAIL, "walkin@gmail.com", id="email-local-part"),
        pytest.param(Kind.EMAIL, "till-3@pos.shop.example", id="email-domain"),
        pytest.param(Kind.PHONE, "(415) 555-0100", id="phone"),
        pytest.param(Kind.EXTERNAL_ID, "guest-checkout", id="external-id-any-case"),
    ],
)
def test_a_deployment_file_adds_its_entries_to_the_builtin_ones(kind, value):
    extended = Placeholders.from_mappings([builtin_mapping(), DEPLOYMENT])
    assert norm(kind, value, placeholders=BUILTIN) is not None  # real with the built-in list
    assert norm(kind, value, placeholders=extended) is None  # a placeholder in this deployment


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        pytest.param(Kind.EMAIL, "noemail@shop.com", id="email"),
        pytest.param(Kind.PHONE, "+1 800 555 1212", id="phone"),
        pytest.param(Kind.EXTERNAL_ID, "undefined", id="external-id"),
    ],
)
def test_a_deployment_file_keeps_the_builtin_entries(kind, value):
    extended = Placeholders.from_mappings([builtin_mapping(), DEPLOYMENT])
    assert norm(kind, value, placeholders=extended) is None


def test_the_builtin_file_documents_itself_and_lists_every_kind():
    mapping = builtin_mapping()
    assert mapping["_doc"]
    for name in ("email_addresses", "email_local_parts", "email_domains", "phones"):
        assert mapping[name], name
    assert {"0", "-1", "null", "undefined", "anonymous", "n/a"} <= set(mapping["external_ids"])
