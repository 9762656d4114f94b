"""A contact type is accepted in the same forms everywhere: any letter case, ASCII only.

The construct is synthesized in this process (jsii); the handler's rule is checked on its own: events carry
what the template holds, so the handler keeps requiring the exact upper-case value.
"""

from __future__ import annotations

import aws_cdk as cdk
import construct_synth  # noqa: F401 - first: points jsii at the pinned Node before aws_cdk loads
import pytest
from aws_cdk.assertions import Template
from cfn_events import DETAILS

from cdk_alternate_contacts import AlternateContact, AlternateContactType
from cdk_alternate_contacts.details import AlternateContactValidationError
from cdk_alternate_contacts_handler import spec

KWARGS = {
    "email_address": DETAILS["EmailAddress"],
    "name": DETAILS["Name"],
    "phone_number": DETAILS["PhoneNumber"],
    "title": DETAILS["Title"],
}


@pytest.mark.parametrize("value", ["security", "Security", "SECURITY", AlternateContactType.SECURITY])
def test_any_letter_case_names_the_type(value: object) -> None:
    assert spec.normalized_type(value) is AlternateContactType.SECURITY


@pytest.mark.parametrize("value", ["secur\u0131ty", "\u017fecurity", " security", "security\u200b", "ALL", "", None, 3])
def test_look_alikes_and_other_values_name_no_type(value: object) -> None:
    # (the dotless i and the long s upper-case to ASCII letters in Python: only ASCII input may be normalized)
    assert spec.normalized_type(value) is None


def test_handler_still_requires_the_exact_value_in_events() -> None:
    assert spec.type_error("security") is not None
    assert spec.type_error("SECURITY") is None


def test_construct_accepts_a_lower_case_type_and_writes_the_api_value() -> None:
    # GIVEN AlternateContact(contact_type="security"), as a contacts file would spell it
    stack = cdk.Stack(cdk.App(), "Case")
    contact = AlternateContact(stack, "Security", contact_type="security", **KWARGS)
    # WHEN synthesized THEN the template holds SECURITY, and so does the construct
    Template.from_stack(stack).has_resource_properties("Custom::AlternateContact", {"AlternateContactType": "SECURITY"})
    assert contact.contact_type == "SECURITY"


def test_construct_refuses_a_look_alike_type_naming_the_field() -> None:
    stack = cdk.Stack(cdk.App(), "LookAlike")
    with pytest.raises(AlternateContactValidationError, match="contact_type"):
        AlternateContact(stack, "Security", contact_type="secur\u0131ty", **KWARGS)
