"""Synth-time validation: a contact the Account API would refuse fails ``cdk synth``, not the deployment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from construct_synth import CONTACT, MEMBER_BILLING_ACCOUNT, new_app

# isort: split
import aws_cdk as cdk
from aws_cdk.assertions import Template

from cdk_alternate_contacts import AlternateContact, AlternateContactType, AlternateContactValidationError

# The Account API's own patterns (botocore's `account` model), without Python's re.ASCII: the tests below use
# them to prove each look-alike value is one that a Unicode-aware copy of the rule would wrongly accept.
API_EMAIL = r"^[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*$"
API_PHONE = r"^[\s0-9()+-]+$"
API_ACCOUNT = r"^\d{12}$"

KEYWORDS = ("contact_type", "email_address", "name", "phone_number", "title", "account_id")
API_KEYS = {
    "contact_type": "AlternateContactType",
    "email_address": "EmailAddress",
    "name": "Name",
    "phone_number": "PhoneNumber",
    "title": "Title",
    "account_id": "AccountId",
}


@pytest.fixture
def stack(tmp_path: Path) -> cdk.Stack:
    """A fresh stack; the provider's asset is not built, since these tests do not deploy anything."""
    return cdk.Stack(new_app(tmp_path, bundle=False), "Validation")


def declare(stack: cdk.Stack, construct_id: str = "Contact", **overrides: Any) -> AlternateContact:
    """Declare a contact that is valid except for ``overrides``."""
    return AlternateContact(stack, construct_id, **{**CONTACT, **overrides})


def named_fields(message: str) -> set[str]:
    """The construct keywords an error message names, in its ``keyword (ApiKey ...)`` form."""
    return {keyword for keyword in KEYWORDS if f"{keyword} ({API_KEYS[keyword]}" in message}


def rejected(stack: cdk.Stack, **overrides: Any) -> str:
    """Declare the contact, expect AlternateContactValidationError, return its message."""
    with pytest.raises(AlternateContactValidationError) as raised:
        declare(stack, **overrides)
    return str(raised.value)


# --- email ------------------------------------------------------------------------------------------------

UNICODE_LOOKALIKE_EMAILS = {
    "latin-1 letters": "sécurité@example.com",
    "cyrillic a in the domain": "security@ex\u0430mple.com",
    "cyrillic dze for s": "\u0455ecurity@example.com",
    "cyrillic o in the tld": "security@example.c\u043em",
    "fullwidth s": "\uff53ecurity@example.com",
    "arabic-indic digit": "security\u0663@example.com",
    "no-break space around": "\u00a0security@example.com\u00a0",
}


@pytest.mark.parametrize("email", UNICODE_LOOKALIKE_EMAILS.values(), ids=UNICODE_LOOKALIKE_EMAILS.keys())
def test_email_with_unicode_lookalikes_is_rejected(stack: cdk.Stack, email: str) -> None:
    # GIVEN an address that Python's Unicode-aware \w and \s accept, but the API's ASCII ones do not
    assert re.fullmatch(API_EMAIL, email)
    assert not re.fullmatch(API_EMAIL, email, re.ASCII)
    # WHEN it is declared
    message = rejected(stack, email_address=email)
    # THEN synthesis stops and names the field
    assert named_fields(message) == {"email_address"}


@pytest.mark.parametrize(
    "email",
    ["security@example.com", "first.last+tag@mail.example.co.uk", "a|b!c&d#e=f_g@example-1.com", " pad@example.com "],
)
def test_email_the_api_accepts_is_accepted(stack: cdk.Stack, email: str) -> None:
    # GIVEN an address the API's pattern accepts (surrounding white space included)
    assert re.fullmatch(API_EMAIL, email, re.ASCII)
    # WHEN it is declared
    contact = declare(stack, email_address=email)
    # THEN the contact exists
    assert contact.node.path == "Validation/Contact"


@pytest.mark.parametrize("email", ["security.example.com", "security@example", "@example.com", "a b@example.com"])
def test_email_that_is_not_an_address_is_rejected(stack: cdk.Stack, email: str) -> None:
    # GIVEN a value that is not an address by the API's pattern
    # WHEN it is declared
    message = rejected(stack, email_address=email)
    # THEN synthesis stops and names the field
    assert named_fields(message) == {"email_address"}


# --- lengths ----------------------------------------------------------------------------------------------

MAX_LENGTHS = {"email_address": 254, "name": 64, "phone_number": 25, "title": 50}


def value_of_length(keyword: str, length: int) -> str:
    """A value of the field that is valid apart, possibly, from its length."""
    if keyword == "email_address":
        domain = "@example.com"
        return "a" * (length - len(domain)) + domain
    if keyword == "phone_number":
        return "1" * length
    return "x" * length


@pytest.mark.parametrize("keyword", MAX_LENGTHS)
def test_field_at_its_maximum_length_is_accepted(stack: cdk.Stack, keyword: str) -> None:
    # GIVEN a value exactly as long as the API allows
    value = value_of_length(keyword, MAX_LENGTHS[keyword])
    assert len(value) == MAX_LENGTHS[keyword]
    # WHEN it is declared
    contact = declare(stack, **{keyword: value})
    # THEN the contact exists
    assert contact.node.path == "Validation/Contact"


@pytest.mark.parametrize("keyword", MAX_LENGTHS)
def test_field_one_character_over_its_maximum_is_rejected(stack: cdk.Stack, keyword: str) -> None:
    # GIVEN a value one character longer than the API allows
    value = value_of_length(keyword, MAX_LENGTHS[keyword] + 1)
    # WHEN it is declared
    message = rejected(stack, **{keyword: value})
    # THEN synthesis stops and names that field only
    assert named_fields(message) == {keyword}


@pytest.mark.parametrize("keyword", [*MAX_LENGTHS, "account_id"])
def test_empty_field_is_rejected(stack: cdk.Stack, keyword: str) -> None:
    # GIVEN an empty value
    # WHEN it is declared
    message = rejected(stack, **{keyword: ""})
    # THEN synthesis stops and names that field only
    assert named_fields(message) == {keyword}


# --- phone ------------------------------------------------------------------------------------------------

BAD_PHONES = {
    "letters": "+1 206 555 O1OO",
    "dots": "+1.206.555.0100",
    "extension": "+1 206 555 0100 ext 7",
    "no-break space": "+1\u00a0206\u00a0555\u00a00100",
    "arabic-indic digits": "+\u0661 \u0662\u0660\u0666 \u0665\u0665\u0665 \u0660\u0661\u0660\u0660",
}


def test_phone_with_digits_spaces_and_brackets_is_accepted(stack: cdk.Stack) -> None:
    # GIVEN a phone number in the usual international form
    # WHEN it is declared
    contact = declare(stack, phone_number="+1 (206) 555-0100")
    # THEN the contact exists
    assert contact.node.path == "Validation/Contact"


# --- account and type -------------------------------------------------------------------------------------

BAD_ACCOUNTS = {
    "11 digits": "11111111111",
    "13 digits": "1111111111111",
    "a letter": "11111111111a",
    "arabic-indic digits": "\u0661" * 12,
    "trailing newline": "111111111111\n",
    "leading space": " 111111111111",
}


#: Phone numbers with a character the API's pattern does not allow, and account ids that are not exactly
#: twelve ASCII digits (some of which a Unicode \d, or a `$` that matches before a final newline, would let
#: through): each with its field and the API's pattern for it.
OUTSIDE_THE_PATTERN = [
    *(pytest.param("phone_number", API_PHONE, value, id=f"phone {case}") for case, value in BAD_PHONES.items()),
    *(pytest.param("account_id", API_ACCOUNT, value, id=f"account {case}") for case, value in BAD_ACCOUNTS.items()),
]


@pytest.mark.parametrize(("keyword", "pattern", "value"), OUTSIDE_THE_PATTERN)
def test_phone_or_account_id_outside_the_api_pattern_is_rejected(
    stack: cdk.Stack, keyword: str, pattern: str, value: str
) -> None:
    # GIVEN a phone number or an account id that the API's pattern for its field does not allow
    assert not re.fullmatch(pattern, value, re.ASCII)
    # WHEN it is declared
    message = rejected(stack, **{keyword: value})
    # THEN synthesis stops and names the field
    assert named_fields(message) == {keyword}


@pytest.mark.parametrize("contact_type", ["PRIMARY", "secur\u0131ty", "BILLING ", ""])
def test_unknown_contact_type_is_rejected(stack: cdk.Stack, contact_type: str) -> None:
    # GIVEN a type that is not BILLING, OPERATIONS or SECURITY in some letter case (a dotless i, which
    # str.upper() would turn into an I, is not one)
    # WHEN it is declared
    message = rejected(stack, contact_type=contact_type)
    # THEN synthesis stops and names the field
    assert named_fields(message) == {"contact_type"}


@pytest.mark.parametrize("contact_type", [*AlternateContactType, *(t.value for t in AlternateContactType)])
def test_contact_type_accepts_the_enum_and_its_string_value(
    stack: cdk.Stack, contact_type: AlternateContactType | str
) -> None:
    # GIVEN a type as an AlternateContactType member or as its plain string
    # WHEN it is declared
    contact = declare(stack, contact_type=contact_type)
    # THEN the contact records the API's string
    assert contact.contact_type == AlternateContactType(contact_type).value
    assert type(contact.contact_type) is str


# --- several errors, and what the message shows -----------------------------------------------------------

PRIVATE = {
    "email_address": "jane.private@ex\u0430mple.com",  # Cyrillic a
    "name": "Jane Quincy Private-Person " * 3,
    "phone_number": "+1 555 JANE PRIVATE",
    "title": "Head of Jane Private's Very Long Personal Office Title",
}


def test_every_bad_field_is_named_in_one_error(stack: cdk.Stack) -> None:
    # GIVEN a contact with every field wrong
    # WHEN it is declared
    message = rejected(stack, contact_type="PRIMARY", account_id="12345", **PRIVATE)
    # THEN one error names every field by the construct's keyword (and the API key it becomes)
    assert named_fields(message) == set(KEYWORDS)
    assert "Validation/Contact" in message


def test_only_the_bad_fields_are_named(stack: cdk.Stack) -> None:
    # GIVEN a contact whose email and phone are wrong and whose other fields are fine
    # WHEN it is declared
    message = rejected(stack, email_address=PRIVATE["email_address"], phone_number=PRIVATE["phone_number"])
    # THEN the error names those two and no other
    assert named_fields(message) == {"email_address", "phone_number"}


def test_error_never_repeats_the_contact_details(stack: cdk.Stack) -> None:
    # GIVEN bad contact details that are personal data (synth output ends up in CI logs)
    # WHEN they are declared
    with pytest.raises(AlternateContactValidationError) as raised:
        declare(stack, **PRIVATE)
    # THEN neither the message nor anything chained to it contains them, whole or in part
    shown = " ".join(str(error) for error in (raised.value, raised.value.__cause__, raised.value.__context__))
    for keyword, value in PRIVATE.items():
        assert value.strip() not in shown, keyword
    assert "jane" not in shown.lower()


# --- tokens -----------------------------------------------------------------------------------------------


def test_tokens_are_left_for_the_handler_to_check(stack: cdk.Stack) -> None:
    # GIVEN an account id and an email address that are only known at deploy time
    account = cdk.CfnParameter(stack, "MemberAccount", type="String").value_as_string
    email = cdk.CfnParameter(stack, "Email", type="String").value_as_string
    # WHEN they are declared
    declare(stack, account_id=account, email_address=email)
    # THEN synthesis accepts them and passes them through as references
    Template.from_stack(stack).has_resource_properties(
        "Custom::AlternateContact", {"AccountId": {"Ref": "MemberAccount"}, "EmailAddress": {"Ref": "Email"}}
    )


# --- one declaration per account and type -----------------------------------------------------------------


def test_two_contacts_for_the_deploying_account_and_same_type_raise(stack: cdk.Stack) -> None:
    # GIVEN a SECURITY contact of the deploying account
    declare(stack, "First")
    # WHEN a second SECURITY contact of the deploying account is declared
    with pytest.raises(ValueError, match="duplicate") as raised:
        declare(stack, "Second")
    # THEN the error names both declarations
    assert "Validation/First" in str(raised.value)
    assert "Validation/Second" in str(raised.value)


def test_two_contacts_for_the_same_literal_account_and_type_raise(stack: cdk.Stack) -> None:
    # GIVEN a BILLING contact of a member account
    declare(stack, "First", contact_type="BILLING", account_id=MEMBER_BILLING_ACCOUNT)
    # WHEN a second BILLING contact of that account is declared, with the type in its other form
    # THEN it raises, naming the account
    with pytest.raises(ValueError, match=MEMBER_BILLING_ACCOUNT):
        declare(stack, "Second", contact_type=AlternateContactType.BILLING, account_id=MEMBER_BILLING_ACCOUNT)


def test_the_stack_account_named_and_left_implicit_is_one_account(tmp_path: Path) -> None:
    # GIVEN a stack deployed to a known account, with a SECURITY contact that leaves the account implicit
    env = cdk.Environment(account="123456789012", region="us-east-1")
    stack = cdk.Stack(new_app(tmp_path, bundle=False), "Pinned", env=env)
    declare(stack, "Implicit")
    # WHEN a SECURITY contact naming that same account is declared
    # THEN it raises: both would manage the same contact
    with pytest.raises(ValueError, match="duplicate"):
        declare(stack, "Explicit", account_id="123456789012")


def test_same_type_for_different_accounts_is_allowed(stack: cdk.Stack) -> None:
    # GIVEN SECURITY contacts for the deploying account and two member accounts
    # WHEN they are declared
    contacts = [
        declare(stack, "Own"),
        declare(stack, "MemberA", account_id="111111111111"),
        declare(stack, "MemberB", account_id="222222222222"),
    ]
    # THEN all three exist, sharing one provider
    assert [c.node.id for c in contacts] == ["Own", "MemberA", "MemberB"]
    providers = [c for c in stack.node.children if c.node.id == "CdkAlternateContactsProvider"]
    assert len(providers) == 1


def test_same_account_in_two_stacks_is_allowed(tmp_path: Path) -> None:
    # GIVEN two stacks of one app
    app = new_app(tmp_path, bundle=False)
    first, second = cdk.Stack(app, "First"), cdk.Stack(app, "Second")
    # WHEN each declares the SECURITY contact of the same member account
    a = declare(first, account_id=MEMBER_BILLING_ACCOUNT)
    b = declare(second, account_id=MEMBER_BILLING_ACCOUNT)
    # THEN both are accepted (the check is per stack: each stack has its own provider)
    assert (a.node.path, b.node.path) == ("First/Contact", "Second/Contact")
