"""The shared field rules must be the API's: checked against botocore's ``account`` service model.

If AWS changes a limit or a pattern, botocore's model changes with it and this test fails, instead of
the construct and the handler silently enforcing a stale copy.
"""

from __future__ import annotations

import botocore.session
import pytest

from cdk_alternate_contacts_handler import spec

MODEL = botocore.session.get_session().get_service_model("account")
PUT = MODEL.operation_model("PutAlternateContact").input_shape


def _anchored(pattern: str) -> str:
    return pattern if pattern.startswith("^") else f"^{pattern}$"


@pytest.mark.parametrize("field", sorted(spec.FIELD_RULES))
def test_field_rule_equals_botocore_shape(field: str) -> None:
    # GIVEN the API's shape of the field as botocore ships it
    shape = PUT.members[field]
    rule = spec.FIELD_RULES[field]
    # THEN lengths and pattern are the same (AccountId has only a pattern, which fixes its length)
    if "min" in shape.metadata:
        assert (rule.min_length, rule.max_length) == (shape.metadata["min"], shape.metadata["max"])
    expected = shape.metadata.get("pattern")
    assert (rule.pattern.pattern if rule.pattern else None) == (_anchored(expected) if expected else None)


def test_contact_types_equal_botocore_enum() -> None:
    assert list(spec.CONTACT_TYPES) == PUT.members[spec.CONTACT_TYPE].enum


def test_detail_fields_are_exactly_the_sensitive_ones() -> None:
    # The fields the handler never logs are the ones botocore marks sensitive.
    sensitive = {name for name, shape in PUT.members.items() if shape.metadata.get("sensitive")}
    assert sensitive == set(spec.DETAIL_FIELDS)


def test_required_fields_equal_botocore_required_members() -> None:
    assert set(PUT.required_members) == {spec.CONTACT_TYPE, *spec.DETAIL_FIELDS}
    assert spec.ACCOUNT_ID in PUT.members and spec.ACCOUNT_ID not in PUT.required_members


def test_property_keys_are_the_api_member_names() -> None:
    keys = {spec.ACCOUNT_ID, spec.CONTACT_TYPE, *spec.DETAIL_FIELDS}
    assert keys == set(PUT.members)
