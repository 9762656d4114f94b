"""Field validation shared by the construct (synth time) and the handler (deploy time)."""

from __future__ import annotations

import pytest

from cdk_alternate_contacts_handler import spec

VALID = {
    "AlternateContactType": "SECURITY",
    "EmailAddress": "security@example.com",
    "Name": "Security team",
    "PhoneNumber": "+1 (206) 555-0100",
    "Title": "CISO office",
}


def test_valid_properties_have_no_errors() -> None:
    assert spec.field_errors(VALID) == []
    assert spec.field_errors({**VALID, "AccountId": "111122223333"}) == []


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("EmailAddress", "no-at-sign.example.com", "must be an ASCII email address"),
        ("EmailAddress", "user@localhost", "must be an ASCII email address"),
        # U+0435 (Cyrillic ie) looks like 'e': Python's Unicode \w accepts it, the API's ASCII \w does not.
        ("EmailAddress", "s\u0435curity@example.com", "must be an ASCII email address"),
        ("EmailAddress", "a@" + "b" * 249 + ".com", "1 to 254 characters"),
        ("PhoneNumber", "+1 206 555 O100", "must be digits, spaces and ( ) + - only"),
        ("PhoneNumber", "\u0661\u0662\u0663", "must be digits, spaces and ( ) + - only"),
        ("PhoneNumber", "1" * 26, "1 to 25 characters"),
        ("Name", "n" * 65, "1 to 64 characters"),
        ("Name", "", "1 to 64 characters long (got 0)"),
        ("Title", "t" * 51, "1 to 50 characters"),
        ("AccountId", "12345678901", "exactly 12 digits"),
        ("AccountId", "\u0661" * 12, "exactly 12 digits"),
        ("AlternateContactType", "PRIMARY", "must be one of BILLING, OPERATIONS, SECURITY"),
    ],
)
def test_bad_field_is_named_with_its_rule(field: str, value: str, rule: str) -> None:
    errors = spec.field_errors({**VALID, field: value})
    assert len(errors) >= 1
    assert all(e.startswith(field) for e in errors)
    assert any(rule in e for e in errors)


@pytest.mark.parametrize(("field", "limit"), [("EmailAddress", 254), ("Name", 64), ("PhoneNumber", 25), ("Title", 50)])
def test_longest_allowed_value_passes(field: str, limit: int) -> None:
    value = {"EmailAddress": "a" * (limit - 12) + "@example.com", "PhoneNumber": "1" * limit}.get(field, "x" * limit)
    assert len(value) == limit
    assert spec.field_errors({**VALID, field: value}) == []


def test_every_bad_field_is_reported_and_no_detail_is_echoed() -> None:
    bad = {**VALID, "EmailAddress": "secret-person@nowhere", "PhoneNumber": "call me 555", "Name": "N" * 70}
    errors = spec.field_errors(bad)
    assert {e.split(" ")[0] for e in errors} == {"EmailAddress", "PhoneNumber", "Name"}
    text = " ".join(errors)
    assert "secret-person" not in text and "call me" not in text and "NNNN" not in text


def test_missing_required_fields_are_named() -> None:
    errors = spec.field_errors({"AlternateContactType": "BILLING"})
    assert {e.split(" ")[0] for e in errors} == {"EmailAddress", "Name", "PhoneNumber", "Title"}
    assert all("is required" in e for e in errors)


def test_non_string_values_are_rejected_by_type() -> None:
    errors = spec.field_errors({**VALID, "PhoneNumber": 2065550100, "AlternateContactType": ["SECURITY"]})
    assert any(e.startswith("PhoneNumber must be a string") for e in errors)
    assert any(e.startswith("AlternateContactType must be one of") for e in errors)


def test_skipped_fields_are_not_checked() -> None:
    # Tokens are unknown at synth time; the handler checks them at deploy time.
    assert spec.field_errors({**VALID, "EmailAddress": "${Token[1]}"}, skip=frozenset({"EmailAddress"})) == []


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("123456789012/SECURITY", ("123456789012", ("SECURITY",))),
        ("000000000000/BILLING", ("000000000000", ("BILLING",))),
        ("123456789012/BILLING+OPERATIONS+SECURITY", ("123456789012", ("BILLING", "OPERATIONS", "SECURITY"))),
        ("123456789012/SECURITY+BILLING", None),  # not canonical: never issued
        ("123456789012/BILLING+BILLING", None),
        ("123456789012/", None),
        ("MyStack_SecurityContact_AB12CD34", None),  # crhelper's id after a failed Create
        ("123456789012/PRIMARY", None),
        ("12345678901/SECURITY", None),
        ("123456789012/SECURITY\n", None),
        (None, None),
        (42, None),
    ],
)
def test_parse_physical_id_accepts_only_issued_ids(value: object, parsed: tuple[str, tuple[str, ...]] | None) -> None:
    assert spec.parse_physical_id(value) == parsed


def test_physical_id_sorts_and_deduplicates_types() -> None:
    assert spec.physical_id("123456789012", "SECURITY") == "123456789012/SECURITY"
    assert spec.physical_id("123456789012", ["SECURITY", "BILLING", "SECURITY"]) == "123456789012/BILLING+SECURITY"


def test_contacts_errors_name_type_and_field() -> None:
    details = {k: VALID[k] for k in spec.DETAIL_FIELDS}
    good = {"AccountId": "111122223333", "AlternateContacts": {"BILLING": details, "SECURITY": details}}
    assert spec.contacts_errors(good) == []
    bad = {
        "AccountId": "1111",
        "AlternateContacts": {"BILLING": {**details, "EmailAddress": "nope"}, "PRIMARY": details, "SECURITY": "x"},
    }
    errors = spec.contacts_errors(bad)
    assert errors[0] == "AccountId must be exactly 12 digits (got '1111')"
    assert "AlternateContacts.BILLING.EmailAddress must be an ASCII email address, name@domain.tld" in errors
    assert any("unknown type 'PRIMARY'" in e for e in errors)
    assert any(e.startswith("AlternateContacts.SECURITY must be a map") for e in errors)
    assert all("nope" not in e for e in errors)


@pytest.mark.parametrize("contacts", [None, {}, [], "BILLING"])
def test_contacts_must_declare_at_least_one_type(contacts: object) -> None:
    assert spec.contacts_errors({"AlternateContacts": contacts}) == [
        "AlternateContacts must map at least one of BILLING, OPERATIONS, SECURITY to its details"
    ]


def test_same_contact_ignores_surrounding_whitespace_only() -> None:
    live = {k: VALID[k] for k in spec.DETAIL_FIELDS}
    assert spec.same_contact({**live, "EmailAddress": "  security@example.com "}, live)
    assert not spec.same_contact({**live, "Title": "CISO"}, live)


def test_violations_are_facts_that_every_renderer_words_its_own_way() -> None:
    # GIVEN an AlternateContacts resource with a bad email in SECURITY and no BILLING details map
    from cdk_alternate_contacts_handler.spec import Violation, contacts_violations  # noqa: PLC0415

    bad = {
        "AccountId": "123",
        "AlternateContacts": {
            "SECURITY": {"EmailAddress": "no-at", "Name": "n", "PhoneNumber": "1", "Title": "t"},
            "BILLING": "x",
        },
    }
    # WHEN checked THEN each violation says where (the resource's keys) and which rule, never the value
    assert contacts_violations(bad) == [
        Violation(("AccountId",), "must be exactly 12 digits (got '123')"),
        Violation(("AlternateContacts", "SECURITY", "EmailAddress"), "must be an ASCII email address, name@domain.tld"),
        Violation(("AlternateContacts", "BILLING"), "must be a map of EmailAddress, Name, PhoneNumber, Title", "type"),
    ]
    assert contacts_violations({})[0].kind == "empty"
