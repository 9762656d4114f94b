"""AlternateContacts (several types of one account in one resource): template, validation and IAM."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from construct_synth import Synthesized, as_list, new_app, render
from organization_synth import BILLING, OPERATIONS, SECURITY, role_policy_statements

# isort: split
import aws_cdk as cdk
from aws_cdk.assertions import Template

from cdk_alternate_contacts import AlternateContact, AlternateContacts, AlternateContactValidationError

MEMBER = "121212121212"


def api(details: object) -> dict[str, str]:
    return {
        "EmailAddress": details.email_address,  # type: ignore[attr-defined]
        "Name": details.name,  # type: ignore[attr-defined]
        "PhoneNumber": details.phone_number,  # type: ignore[attr-defined]
        "Title": details.title,  # type: ignore[attr-defined]
    }


def contacts_resources(app: Synthesized) -> dict[str, dict[str, object]]:
    """Custom::AlternateContacts resources of stack "Contacts", by construct id."""
    template = app.template_json("Contacts")
    return {
        r["Metadata"]["aws:cdk:path"].split("/")[1]: r
        for r in template["Resources"].values()
        if r["Type"] == "Custom::AlternateContacts"
    }


def test_all_declared_types_of_one_account_are_one_resource_keyed_as_the_api(organization_app: Synthesized) -> None:
    # GIVEN security and billing of a member account, and operations of the deploying account
    resources = contacts_resources(organization_app)
    # WHEN their properties are read
    member = resources["Member"]["Properties"]
    own = resources["Own"]["Properties"]
    # THEN each account is one resource; the types left out are absent (not managed); AccountId only where given
    assert set(resources) == {"Member", "Own"}
    assert member["AlternateContacts"] == {"SECURITY": api(SECURITY), "BILLING": api(BILLING)}  # type: ignore[index]
    assert member["AccountId"] == MEMBER  # type: ignore[index]
    assert own["AlternateContacts"] == {"OPERATIONS": api(OPERATIONS)}  # type: ignore[index]
    assert "AccountId" not in own  # type: ignore[operator]
    assert set(member) == {"ServiceToken", "ServiceTimeout", "AlternateContacts", "AccountId"}  # type: ignore[arg-type]


def test_alternate_contacts_shares_the_stacks_one_provider(organization_app: Synthesized) -> None:
    # GIVEN two AlternateContacts in one stack
    template = organization_app.template_json("Contacts")
    # WHEN functions and service tokens are read
    functions = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::Lambda::Function"]
    tokens = {str(r["Properties"]["ServiceToken"]) for r in contacts_resources(organization_app).values()}
    # THEN one function serves both
    assert len(functions) == 1
    assert tokens == {str({"Fn::GetAtt": [functions[0], "Arn"]})}


def test_the_role_may_manage_every_type_of_the_own_and_member_accounts(organization_app: Synthesized) -> None:
    # GIVEN security and billing of a member account, operations of the deploying account
    statements = role_policy_statements(organization_app.template_json("Contacts"))
    # WHEN the contact statements are read
    contact = [s for s in statements if "Condition" in s]
    # THEN one statement names the deploying account and the organization's members for the three types: a
    # type or account dropped from the template is still deleted under the new policy
    assert [sorted(render(r) for r in as_list(s["Resource"])) for s in contact] == [
        ["arn:${AWS::Partition}:account::${AWS::AccountId}:account", "arn:${AWS::Partition}:account::*:account/o-*/*"]
    ]
    assert contact[0]["Condition"]["ForAllValues:StringEquals"] == {
        "account:AlternateContactTypes": ["BILLING", "OPERATIONS", "SECURITY"]
    }


def new_stack(outdir: Path) -> cdk.Stack:
    return cdk.Stack(new_app(outdir, bundle=False), "Validation")


def test_at_least_one_type_is_required(tmp_path: Path) -> None:
    # GIVEN no type at all
    # WHEN AlternateContacts is declared
    # THEN the error says which keywords to give
    with pytest.raises(AlternateContactValidationError, match=r"billing, operations, security: give at least one"):
        AlternateContacts(new_stack(tmp_path), "Empty", account_id=MEMBER)


def test_every_bad_field_is_named_by_type_and_keyword_without_its_value(tmp_path: Path) -> None:
    # GIVEN a security email without a domain and a billing title that is too long
    secret = "nobody-at-example"
    # WHEN AlternateContacts is declared
    with pytest.raises(AlternateContactValidationError) as error:
        AlternateContacts(
            new_stack(tmp_path),
            "Bad",
            account_id="12345",
            security=dataclasses.replace(SECURITY, email_address=secret),
            billing=dataclasses.replace(BILLING, title="t" * 51),
        )
    # THEN one error names the construct, the account id rule, and each field in the user's terms; never the email
    message = str(error.value)
    assert message.startswith("invalid alternate contacts Validation/Bad: ")
    assert "account_id (AccountId must be exactly 12 digits (got '12345'))" in message
    assert "security.email_address (AlternateContacts.SECURITY.EmailAddress must be" in message
    assert "billing.title (AlternateContacts.BILLING.Title must be 1 to 50 characters long (got 51))" in message
    assert secret not in message


def test_a_type_already_managed_by_another_construct_of_the_stack_is_refused(tmp_path: Path) -> None:
    # GIVEN an AlternateContact managing the member account's security contact
    stack = new_stack(tmp_path)
    AlternateContact(
        stack,
        "Single",
        account_id=MEMBER,
        contact_type="SECURITY",
        email_address=SECURITY.email_address,
        name=SECURITY.name,
        phone_number=SECURITY.phone_number,
        title=SECURITY.title,
    )
    # WHEN AlternateContacts declares the same account's security and billing contacts
    # THEN it is refused, naming both constructs
    with pytest.raises(ValueError, match=r"Validation/Many and Validation/Single both manage the SECURITY contact"):
        AlternateContacts(stack, "Many", account_id=MEMBER, security=SECURITY, billing=BILLING)


def test_details_that_are_tokens_are_left_to_the_handler(tmp_path: Path) -> None:
    # GIVEN a security email that is a CloudFormation parameter
    stack = new_stack(tmp_path)
    email = cdk.CfnParameter(stack, "Email").value_as_string
    # WHEN AlternateContacts is declared
    AlternateContacts(stack, "Token", security=dataclasses.replace(SECURITY, email_address=email))
    # THEN it is accepted (checked at deploy time) and the resource holds the reference
    (resource,) = Template.from_stack(stack).find_resources("Custom::AlternateContacts").values()
    assert resource["Properties"]["AlternateContacts"]["SECURITY"]["EmailAddress"] == {"Ref": "Email"}
