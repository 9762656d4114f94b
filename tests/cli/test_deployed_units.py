"""Finding a deploy-time account in the deployed stack, in-process: a fake ListStackResources, no AWS.

The listings below have the shapes CloudFormation shows: a nested stack's resource carries the nested
stack's StackId as its physical id, a stack whose creation rolled back still lists its resources as
DELETE_COMPLETE, a Create that failed holds the id crhelper invents. The cases end to end (moto's
CloudFormation before a deploy, the local engine's after one) are in test_deploy_time.py and
test_after_deploy.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cli_support import contact_resource, write_assembly

from cdk_alternate_contacts_cli.assembly import Declaration, read_declarations
from cdk_alternate_contacts_cli.aws import Reading, StackReadError, StackResource
from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from cdk_alternate_contacts_cli.compare import PLAN_WORDS, Outcome, compare
from cdk_alternate_contacts_cli.contact_report import ContactReport
from cdk_alternate_contacts_cli.deployed import Found, Resolution, resolve_deployed
from cdk_alternate_contacts_cli.intrinsics import Unresolved

CALLER = "123456789012"
MEMBER = "111111111111"
SECURITY = {"EmailAddress": "s@example.com", "Name": "Sam Poe", "PhoneNumber": "+1 206 555 0100", "Title": "CISO"}
NESTED_ARN = f"arn:aws:cloudformation:us-east-1:{CALLER}:stack/Stack-Nested-1ABC/0f0e1d2c"


class FakeStacks:
    """ListStackResources over fixed listings, by (region, stack name or StackId); the calls are recorded."""

    def __init__(
        self, listings: dict[tuple[str, str], list[StackResource]] | None = None, error: StackReadError | None = None
    ) -> None:
        self.listings = listings or {}
        self.error = error
        self.calls: list[tuple[str, str]] = []

    def __call__(self, stack: str, region: str) -> list[StackResource] | None:
        self.calls.append((stack, region))
        if self.error is not None:
            raise self.error
        return self.listings.get((region, stack))


def custom(logical_id: str, physical_id: str | None, status: str = "CREATE_COMPLETE") -> StackResource:
    """A ``Custom::AlternateContact`` row of ListStackResources."""
    return StackResource(logical_id, physical_id, "Custom::AlternateContact", status)


def resolved(
    directory: Path,
    resources: dict[str, Any],
    stacks: FakeStacks,
    *,
    template: dict[str, Any] | None = None,
    environment: str | None = None,
    files: dict[str, Any] | None = None,
) -> list[tuple[Declaration, Resolution | None]]:
    """The declarations of one stack ``Stack`` (parameter ``Member`` declared), resolved against ``stacks``."""
    document = {"Parameters": {"Member": {"Type": "String"}}, "Resources": resources, **(template or {})}
    stack: dict[str, Any] = {"template": document}
    if environment is not None:
        stack["environment"] = environment
    write_assembly(directory, {"Stack": stack}, **(files or {}))
    contacts = read_declarations(CloudAssembly(directory).select([]), caller_account=CALLER, partition="aws").contacts
    return resolve_deployed(contacts, stacks, caller_account=CALLER, region="us-east-1")


def one(found: list[tuple[Declaration, Resolution | None]]) -> tuple[Declaration, Resolution]:
    assert len(found) == 1
    declaration, resolution = found[0]
    assert resolution is not None
    return declaration, resolution


#: A contact whose account is parameter ``Member``.
BY_PARAMETER = contact_resource("SECURITY", SECURITY, AccountId={"Ref": "Member"})


def plan_lines(declaration: Declaration, resolution: Resolution) -> tuple[str, list[str]]:
    """The ACTION word and the CHANGES lines ``plan`` shows for one contact with no live contact read."""
    [comparison] = compare([declaration], {}, [resolution])
    report = ContactReport("plan", PLAN_WORDS, "cdk.out", ["Stack"], CALLER, [comparison])
    return PLAN_WORDS[comparison.outcome], report.changes(comparison)


def test_the_physical_id_names_the_account_which_is_then_compared_like_any_other(tmp_path: Path) -> None:
    # GIVEN a contact whose account is a parameter, deployed: its resource answered <account>/SECURITY
    stacks = FakeStacks({("us-east-1", "Stack"): [custom("Security", f"{MEMBER}/SECURITY")]})

    # WHEN its account is looked for in the deployed stack
    declaration, resolution = one(resolved(tmp_path, {"Security": BY_PARAMETER}, stacks))

    # THEN the account is the one the physical id names and nothing is left unresolved
    assert resolution.found is Found.ACCOUNT
    assert (declaration.account, declaration.contact_type, declaration.unresolved) == (MEMBER, "SECURITY", ())
    assert stacks.calls == [("Stack", "us-east-1")]
    # AND it is compared with the live contact of that account
    [comparison] = compare([declaration], {(MEMBER, "SECURITY"): Reading(dict(SECURITY))}, [resolution])
    assert comparison.outcome is Outcome.SAME


def test_a_contact_of_a_nested_stack_is_found_through_the_stack_id_its_parent_lists(tmp_path: Path) -> None:
    # GIVEN a nested stack declaring a contact whose account the parent passes down from its parameter
    nested = {
        "Parameters": {"Passed": {"Type": "String"}},
        "Resources": {"Security": contact_resource("SECURITY", SECURITY, AccountId={"Ref": "Passed"})},
    }
    parent = {
        "Nested": {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {"TemplateURL": "https://s3/b/nested.json", "Parameters": {"Passed": {"Ref": "Member"}}},
            "Metadata": {"aws:asset:path": "nested.json"},
        }
    }
    stacks = FakeStacks(
        {
            ("us-east-1", "Stack"): [
                StackResource("Nested", NESTED_ARN, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE")
            ],
            ("us-east-1", NESTED_ARN): [custom("Security", f"{MEMBER}/SECURITY", "UPDATE_COMPLETE")],
        }
    )

    # WHEN its account is looked for
    declaration, resolution = one(resolved(tmp_path, parent, stacks, files={"nested.json": nested}))

    # THEN the nested stack is read by its StackId, and the account is known
    assert stacks.calls == [("Stack", "us-east-1"), (NESTED_ARN, "us-east-1")]
    assert (declaration.account, resolution.resource) == (MEMBER, "Nested/Security")


def test_before_the_deploy_the_contact_is_new_and_the_plan_says_why(tmp_path: Path) -> None:
    # GIVEN no stack deployed
    # WHEN a contact whose account is a parameter is planned
    declaration, resolution = one(resolved(tmp_path, {"Security": BY_PARAMETER}, FakeStacks()))

    # THEN it is NEW: a deploy creates it; the account stays unknown and the line says why
    assert resolution.found is Found.NO_STACK
    assert isinstance(declaration.account, Unresolved)
    assert plan_lines(declaration, resolution) == (
        "NEW",
        [
            "AccountId: parameter Member (given at deploy time)",
            f"stack Stack is not deployed (none in account {CALLER}, us-east-1): a deploy creates it "
            "(counted as a change)",
        ],
    )


def test_a_resource_added_to_a_deployed_stack_or_whose_create_failed_is_new(tmp_path: Path) -> None:
    # GIVEN a deployed stack that lists: nothing under the contact's logical id; a rolled-back creation
    # (DELETE_COMPLETE, with the id it had); a Create that failed with crhelper's invented id
    listings = [
        [custom("Other", f"{MEMBER}/BILLING")],
        [custom("Security", f"{MEMBER}/SECURITY", "DELETE_COMPLETE")],
        [custom("Security", "Stack_Security_AB12CD34", "CREATE_FAILED")],
    ]
    for index, listing in enumerate(listings):
        stacks = FakeStacks({("us-east-1", "Stack"): listing})

        # WHEN the contact is looked for
        declaration, resolution = one(resolved(tmp_path / str(index), {"Security": BY_PARAMETER}, stacks))

        # THEN nothing of it is deployed: a deploy creates it
        assert resolution.found is Found.NO_RESOURCE, listing
        action, lines = plan_lines(declaration, resolution)
        assert action == "NEW"
        assert lines[-1].startswith("stack Stack has no resource Security")


def test_an_id_the_handler_did_not_issue_leaves_the_account_unknown(tmp_path: Path) -> None:
    # GIVEN a deployed resource whose physical id is not <account>/<TYPE> (not a create in progress)
    stacks = FakeStacks({("us-east-1", "Stack"): [custom("Security", "something-else", "UPDATE_COMPLETE")]})

    # WHEN it is looked for
    declaration, resolution = one(resolved(tmp_path, {"Security": BY_PARAMETER}, stacks))

    # THEN the account stays unknown, and the line names the id found
    assert resolution.found is Found.FOREIGN_ID
    action, lines = plan_lines(declaration, resolution)
    assert action == "UNKNOWN"
    assert "has physical id something-else, not one the handler issues" in lines[-1]


def test_a_conditional_resource_not_deployed_is_unknown_not_new(tmp_path: Path) -> None:
    # GIVEN a contact created only under a condition, and no stack deployed
    resources = {"Security": {**BY_PARAMETER, "Condition": "IsProd"}}
    conditions = {"Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Member"}, "x"]}}}

    # WHEN it is planned
    declaration, resolution = one(resolved(tmp_path, resources, FakeStacks(), template=conditions))

    # THEN a deploy may or may not create it: UNKNOWN, saying so
    action, lines = plan_lines(declaration, resolution)
    assert action == "UNKNOWN"
    assert lines[-1].endswith("a deploy creates it if condition IsProd holds")


def test_a_stack_of_another_account_is_not_read_with_the_callers_credentials(tmp_path: Path) -> None:
    # GIVEN a stack whose environment fixes another account
    stacks = FakeStacks()

    # WHEN its deploy-time account is looked for
    declaration, resolution = one(
        resolved(tmp_path, {"Security": BY_PARAMETER}, stacks, environment="aws://999999999999/eu-west-1")
    )

    # THEN no stack is read (the caller's account has no such stack), and the line says what to do
    assert stacks.calls == []
    assert (resolution.found, resolution.account) == (Found.OTHER_ACCOUNT, "999999999999")
    action, lines = plan_lines(declaration, resolution)
    assert action == "UNKNOWN"
    assert "stack Stack deploys to account 999999999999" in lines[-1]


def test_a_stack_whose_region_is_fixed_is_read_in_that_region(tmp_path: Path) -> None:
    stacks = FakeStacks({("eu-west-1", "Stack"): [custom("Security", f"{MEMBER}/SECURITY")]})

    declaration, _ = one(
        resolved(tmp_path, {"Security": BY_PARAMETER}, stacks, environment=f"aws://{CALLER}/eu-west-1")
    )

    assert stacks.calls == [("Stack", "eu-west-1")]
    assert declaration.account == MEMBER


def test_a_stack_that_cannot_be_read_is_an_error_naming_the_permission(tmp_path: Path) -> None:
    # GIVEN CloudFormation refusing the read
    denied = StackReadError("AccessDenied", "the credentials need cloudformation:ListStackResources on stack Stack")

    # WHEN the contact is looked for
    declaration, resolution = one(resolved(tmp_path, {"Security": BY_PARAMETER}, FakeStacks(error=denied)))

    # THEN it is an ERROR, carrying the code and the message
    [comparison] = compare([declaration], {}, [resolution])
    assert comparison.outcome is Outcome.ERROR
    assert comparison.reading == Reading(None, "AccessDenied", str(denied))


def test_the_type_of_a_single_contact_known_only_at_deploy_time_comes_from_the_physical_id(tmp_path: Path) -> None:
    # GIVEN a Custom::AlternateContact whose type is a parameter, deployed as <account>/OPERATIONS
    resource = contact_resource({"Ref": "Kind"}, SECURITY)
    stacks = FakeStacks({("us-east-1", "Stack"): [custom("Contact", f"{CALLER}/OPERATIONS")]})
    template = {"Parameters": {"Kind": {"Type": "String"}}}

    # WHEN it is looked for
    declaration, _ = one(resolved(tmp_path, {"Contact": resource}, stacks, template=template))

    # THEN the type is known, and nothing else is unresolved
    assert (declaration.account, declaration.contact_type, declaration.unresolved) == (CALLER, "OPERATIONS", ())


def test_no_stack_is_read_when_the_template_tells_every_account(tmp_path: Path) -> None:
    stacks = FakeStacks()

    found = resolved(tmp_path, {"Security": contact_resource("SECURITY", SECURITY, AccountId=MEMBER)}, stacks)

    assert [resolution for _, resolution in found] == [None]
    assert stacks.calls == []
