"""Normalized identifier forms: what two values must share to be the same identifier."""

from __future__ import annotations

import pytest

from app.identity import Kind, identifier, normalize_email, normalize_external_id


@pytest.mark.parametrize(
    "given",
    ["alex@example.com", "Alex@Example.COM", "  ALEX@EXAMPLE.COM\t", "alex@example.com\n"],
)
def test_email_is_trimmed_and_lower_cased(given):
    assert normalize_email(given) == "alex@example.com"


@pytest.mark.parametrize("given", [None, "", "   "])
def test_empty_email_has_no_normalized_form(given):
    assert normalize_email(given) is None


def test_external_id_is_trimmed_but_otherwise_exact():
    assert normalize_external_id("  CRM-001 ") == "CRM-001"
    assert normalize_external_id("crm-001") != normalize_external_id("CRM-001")


@pytest.mark.parametrize("given", [None, "", " \t "])
def test_blank_external_id_has_no_normalized_form(given):
    assert normalize_external_id(given) is None


def test_identifier_keeps_the_value_as_given_beside_the_normalized_one():
    ident = identifier(Kind.EMAIL, " Alex@Example.com")
    assert (ident.kind, ident.value, ident.norm) == (
        Kind.EMAIL,
        " Alex@Example.com",
        "alex@example.com",
    )
