"""The local engine's IAM: the one evaluator's operators, the policies in force as resources change, the
mapping of each call to what IAM is asked, and the AccessDenied a denied call gets, as boto3 sees it.

Fast: no synthesis, no Lambda runtime. The front is exercised with a real HTTP server and boto3 clients
pointed at it; moto_server stands behind it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localdeploy.iam import (
    IamFront,
    IdentityPolicy,
    Organization,
    PolicyRegistry,
    PolicyResource,
    RequestMapper,
    UnsupportedPolicyError,
    access_key_for,
    condition_holds,
    glob_match,
)
from localdeploy.moto import MotoServer
from tests.engine.conftest import signed_client

ACCOUNT = "123456789012"
ROLE = "Stack-ProviderRole-ABC"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
OWN = f"arn:aws:account::{ACCOUNT}:account"
TYPES = "account:AlternateContactTypes"


def contact_statement(resources: list[str], types: list[str]) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Action": ["account:PutAlternateContact", "account:GetAlternateContact", "account:DeleteAlternateContact"],
        "Resource": resources,
        "Condition": {"ForAllValues:StringEquals": {TYPES: types}, "Null": {TYPES: "false"}},
    }


# -- operators ------------------------------------------------------------------------------------------


def test_for_all_values_is_true_without_the_key_and_null_guard_closes_it() -> None:
    # GIVEN IAM's documented trap: ForAllValues over an absent key holds
    assert condition_holds("ForAllValues:StringEquals", TYPES, ["SECURITY"], {})
    # THEN the Null guard ("false": the key must be present) refuses that request
    assert not condition_holds("Null", TYPES, ["false"], {})
    assert condition_holds("Null", TYPES, ["false"], {TYPES: ["SECURITY"]})
    # AND a value outside the set fails ForAllValues, one inside passes
    assert not condition_holds("ForAllValues:StringEquals", TYPES, ["SECURITY"], {TYPES: ["SECURITY", "BILLING"]})
    assert condition_holds("ForAllValues:StringEquals", TYPES, ["SECURITY", "BILLING"], {TYPES: ["BILLING"]})


def test_for_any_value_needs_one_match_and_is_false_without_the_key() -> None:
    paths = "account:AccountResourceOrgPaths"
    assert condition_holds("ForAnyValue:StringLike", paths, ["o-abc/r-1/ou-x/*"], {paths: ["o-abc/r-1/ou-x/ou-y/"]})
    assert not condition_holds("ForAnyValue:StringLike", paths, ["o-abc/r-1/ou-x/*"], {paths: ["o-abc/r-1/"]})
    assert not condition_holds("ForAnyValue:StringLike", paths, ["*"], {})


def test_plain_and_negated_operators_on_an_absent_key() -> None:
    assert not condition_holds("StringEquals", "aws:RequestedRegion", ["us-east-1"], {})
    assert condition_holds("StringNotEquals", "aws:RequestedRegion", ["us-east-1"], {})
    assert condition_holds("StringEquals", "aws:RequestedRegion", ["us-east-1"], {"aws:RequestedRegion": ["us-east-1"]})


def test_string_like_knows_only_star_and_question_mark() -> None:
    # GIVEN a pattern with brackets, which fnmatch would read as a character class
    assert glob_match("a[bc]*", "a[bc]d")
    assert not glob_match("a[bc]*", "ab")
    assert glob_match("arn:aws:account::*:account/o-*/1111?1111111", "arn:aws:account::9:account/o-x/111121111111")
    # AND actions match case-insensitively, resources case-sensitively
    assert glob_match("account:get*", "account:GetAlternateContact", ignore_case=True)
    assert not glob_match("ARN:*", "arn:aws")


def test_unknown_operator_raises_instead_of_guessing() -> None:
    with pytest.raises(UnsupportedPolicyError):
        condition_holds("NumericLessThan", "aws:MultiFactorAuthAge", ["3600"], {})


def test_explicit_deny_wins_over_allow() -> None:
    policy = IdentityPolicy(
        [
            contact_statement([OWN], ["SECURITY"]),
            {"Effect": "Deny", "Action": "account:DeleteAlternateContact", "Resource": "*"},
        ]
    )
    assert policy.allowed("account:PutAlternateContact", OWN, {TYPES: ["SECURITY"]})
    assert not policy.allowed("account:DeleteAlternateContact", OWN, {TYPES: ["SECURITY"]})
    assert not policy.allowed("account:PutAlternateContact", OWN, {TYPES: ["BILLING"]})


# -- the policies in force ------------------------------------------------------------------------------


def role(status: str = "CREATE_COMPLETE") -> PolicyResource:
    return PolicyResource("AWS::IAM::Role", ROLE, status, {"AssumeRolePolicyDocument": {}})


def policy(status: str, statements: list[dict[str, Any]], *, roles: tuple[str, ...] = (ROLE,)) -> PolicyResource:
    properties = {"PolicyDocument": {"Version": "2012-10-17", "Statement": statements}, "Roles": list(roles)}
    return PolicyResource("AWS::IAM::Policy", "Stack-Policy-1", status, properties)


def test_policy_takes_effect_once_created_and_stops_when_deleted() -> None:
    registry = PolicyRegistry(ACCOUNT)
    allow_security = [contact_statement([OWN], ["SECURITY"])]
    context = {TYPES: ["SECURITY"]}
    # GIVEN the role and its policy while CloudFormation is still creating the policy
    registry.publish("stack-1", [role(), policy("CREATE_IN_PROGRESS", allow_security)])
    found = registry.policy(ROLE_ARN)
    assert found is not None and not found.allowed("account:GetAlternateContact", OWN, context)
    # WHEN it is created THEN it allows; an update in progress keeps it in force
    for status in ("CREATE_COMPLETE", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", "DELETE_IN_PROGRESS"):
        registry.publish("stack-1", [role(), policy(status, allow_security)])
        found = registry.policy(ROLE_ARN)
        assert found is not None and found.allowed("account:GetAlternateContact", OWN, context), status
    # WHEN it is deleted THEN nothing allows the call any more
    registry.publish("stack-1", [role(), policy("DELETE_COMPLETE", allow_security)])
    found = registry.policy(ROLE_ARN)
    assert found is not None and not found.allowed("account:GetAlternateContact", OWN, context)


def test_a_policy_of_another_stack_attached_by_role_name_counts() -> None:
    registry = PolicyRegistry(ACCOUNT)
    registry.publish("parent", [role()])
    registry.publish("nested", [policy("CREATE_COMPLETE", [contact_statement([OWN], ["BILLING"])])])
    found = registry.policy(ROLE_ARN)
    assert found is not None and found.allowed("account:PutAlternateContact", OWN, {TYPES: ["BILLING"]})
    # AND a deleted role has no policy at all
    registry.forget("parent")
    assert registry.policy(ROLE_ARN) is None


def test_managed_policy_arns_are_not_guessed() -> None:
    registry = PolicyRegistry(ACCOUNT)
    managed = PolicyResource("AWS::IAM::Role", ROLE, "CREATE_COMPLETE", {"ManagedPolicyArns": ["arn:aws:iam::aws:x"]})
    registry.publish("stack", [managed])
    with pytest.raises(UnsupportedPolicyError):
        registry.policy(ROLE_ARN)


# -- what each call asks IAM ----------------------------------------------------------------------------


def mapper(organization: Organization | None = None) -> RequestMapper:
    return RequestMapper(
        region="us-east-1",
        account_id=ACCOUNT,
        organization=lambda: organization,
        stack_arn=lambda stack: (
            f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{stack}/u-1" if "/" not in stack else stack
        ),
    )


def test_account_calls_map_to_the_own_or_the_member_arn_with_the_type_key() -> None:
    organization = Organization("o-abcdefghij", "999999999999")
    own = mapper(organization).map("account", "/getAlternateContact", {}, b'{"AlternateContactType":"SECURITY"}')
    assert own is not None
    assert (own.action, own.resource, own.context) == ("account:GetAlternateContact", OWN, {TYPES: ["SECURITY"]})
    body = json.dumps({"AccountId": "111111111111", "AlternateContactType": "BILLING"}).encode()
    member = mapper(organization).map("account", "/deleteAlternateContact", {}, body)
    assert member is not None
    assert member.action == "account:DeleteAlternateContact"
    assert member.resource == "arn:aws:account::999999999999:account/o-abcdefghij/111111111111"


def test_ssm_organizations_and_cloudformation_calls_map_to_their_resources() -> None:
    ssm = mapper().map("ssm", "/", {"X-Amz-Target": "AmazonSSM.GetParameter"}, b'{"Name":"/cdk-alternate-contacts/x"}')
    assert ssm is not None
    assert (ssm.action, ssm.resource) == (
        "ssm:GetParameter",
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/cdk-alternate-contacts/x",
    )
    target = {"X-Amz-Target": "AWSOrganizationsV20161128.DescribeAccount"}
    organizations = mapper(Organization("o-abcdefghij", ACCOUNT)).map(
        "organizations", "/", target, b'{"AccountId":"111111111111"}'
    )
    assert organizations is not None
    assert organizations.resource == f"arn:aws:organizations::{ACCOUNT}:account/o-abcdefghij/111111111111"
    listing = mapper().map("cloudformation", "/", {}, b"Action=ListStackResources&StackName=Stack")
    assert listing is not None
    assert (listing.action, listing.resource) == (
        "cloudformation:ListStackResources",
        f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/Stack/u-1",
    )
    assert mapper().map("sts", "/", {}, b"Action=GetCallerIdentity&Version=2011-06-15") is None


# -- the front, as boto3 sees it ------------------------------------------------------------------------


def test_front_answers_a_denied_call_with_the_services_own_access_denied(moto: MotoServer) -> None:
    # GIVEN a role allowed the SECURITY contact of its own account only, behind the front
    registry = PolicyRegistry(ACCOUNT)
    registry.publish("stack", [role(), policy("CREATE_COMPLETE", [contact_statement([OWN], ["SECURITY"])])])
    front = IamFront({"*": moto.endpoint}, registry, mapper()).start()
    try:
        key = front.register(ROLE_ARN)
        assert key == access_key_for(ROLE_ARN)
        account = signed_client("account", front.endpoint, key)
        details = {"EmailAddress": "a@example.com", "Name": "N", "PhoneNumber": "+1 555", "Title": "T"}
        # WHEN it puts the allowed type THEN moto gets the call
        account.put_alternate_contact(AlternateContactType="SECURITY", **details)
        # WHEN it puts another type THEN boto3 raises the Account API's AccessDeniedException
        with pytest.raises(ClientError) as denied:
            account.put_alternate_contact(AlternateContactType="BILLING", **details)
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "account:PutAlternateContact" in denied.value.response["Error"]["Message"]
        # AND SSM answers its own AccessDeniedException (json protocol), CloudFormation its AccessDenied (query)
        with pytest.raises(ClientError) as ssm_denied:
            signed_client("ssm", front.endpoint, key).get_parameter(Name="/cdk-alternate-contacts/x")
        assert ssm_denied.value.response["Error"]["Code"] == "AccessDeniedException"
        with pytest.raises(ClientError) as cfn_denied:
            signed_client("cloudformation", front.endpoint, key).list_stack_resources(StackName="Stack")
        assert cfn_denied.value.response["Error"]["Code"] == "AccessDenied"
        # AND a key that belongs to no function (a test's own client) is not judged at all
        signed_client("account", front.endpoint, "testing").put_alternate_contact(
            AlternateContactType="BILLING", **details
        )
        assert front.denied()[0].authorization.context == {TYPES: ["BILLING"]}
        assert len(front.denied()) == 3
    finally:
        front.stop()


def test_a_policy_change_reaches_evaluation_only_after_it_propagated() -> None:
    # GIVEN IAM that takes 5 s to see a change, and a role allowed SECURITY
    now = [100.0]
    registry = PolicyRegistry(ACCOUNT, propagation_s=5.0, clock=lambda: now[0])
    registry.publish("stack", [role(), policy("CREATE_COMPLETE", [contact_statement([OWN], ["SECURITY"])])])
    # WHEN the update phase changes the policy to BILLING
    registry.publish("stack", [role(), policy("UPDATE_COMPLETE", [contact_statement([OWN], ["BILLING"])])])
    found = registry.policy(ROLE_ARN)
    # THEN for the next seconds the old statement still decides
    assert found is not None and found.allowed("account:GetAlternateContact", OWN, {TYPES: ["SECURITY"]})
    assert not found.allowed("account:GetAlternateContact", OWN, {TYPES: ["BILLING"]})
    # AND once it propagated, the new one
    now[0] += 5.0
    found = registry.policy(ROLE_ARN)
    assert found is not None and found.allowed("account:GetAlternateContact", OWN, {TYPES: ["BILLING"]})
    assert not found.allowed("account:GetAlternateContact", OWN, {TYPES: ["SECURITY"]})


def test_a_role_belongs_to_the_stack_that_published_it_last() -> None:
    # GIVEN a stack of an earlier run that was never destroyed, holding a role with a broad policy
    registry = PolicyRegistry(ACCOUNT)
    broad = [contact_statement([OWN], ["SECURITY", "OPERATIONS"])]
    registry.publish("earlier-run", [role(), policy("CREATE_COMPLETE", broad)])
    # WHEN a new stack of the same name creates the role (the same name: role names are unique per account)
    registry.publish("this-run", [role(), policy("CREATE_COMPLETE", [contact_statement([OWN], ["SECURITY"])])])
    # THEN only the new stack's policy counts
    found = registry.policy(ROLE_ARN)
    assert found is not None and not found.allowed("account:GetAlternateContact", OWN, {TYPES: ["OPERATIONS"]})


def test_front_refuses_the_callers_own_account_id_as_the_account_api_does(moto: MotoServer) -> None:
    # GIVEN a role allowed every contact of its own account and of members (moto itself would accept it)
    registry = PolicyRegistry(ACCOUNT)
    member = "arn:aws:account::*:account/o-*/*"
    registry.publish("stack", [role(), policy("CREATE_COMPLETE", [contact_statement([OWN, member], ["SECURITY"])])])
    front = IamFront({"*": moto.endpoint}, registry, mapper()).start()
    try:
        account = signed_client("account", front.endpoint, front.register(ROLE_ARN))
        # WHEN the management account names itself in AccountId THEN the Account API's AccessDenied comes back
        with pytest.raises(ClientError) as refused:
            account.get_alternate_contact(AccountId=ACCOUNT, AlternateContactType="SECURITY")
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "own AccountId" in refused.value.response["Error"]["Message"]
    finally:
        front.stop()
