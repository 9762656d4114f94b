"""A security review of what the repository's app deploys, read from its synthesized templates and asset.

The provider role's statements are evaluated with the project's IAM evaluator (the one the local engine
applies to every call), with the values of one concrete deployment (account 123456789012, us-east-1), for
a matrix of requests built from what the app declares, nested stacks included, and from what it could have
declared before: CloudFormation runs the Delete of a removed contact under the policy of the template that
removed it, so the role's scope must not follow today's declarations (shared/REFERENCE.md section 6).

The role may do the three alternate-contact actions on every type of the deploying account and of the
organization's member accounts (declared or not), read its own stack and the nested stacks below it,
keep restore records under the project's SSM prefix, read member accounts' status and write its own log
group. Everything else is denied: a request without the contact-type condition key or with a type the
API does not have, another account's own contacts, other account actions, other stacks, other parameters,
any other service. Then: nothing may invoke the function but its callers' own rights (no resource policy),
and what ships is what was tested (pinned versions, bundled crhelper).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from app_synth import SynthesizedApp
from iam_eval import IdentityPolicy, role_statements
from packaging.requirements import Requirement

from cdk_alternate_contacts_cli.intrinsics import Scope, resolve

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
PARTITION = "aws"
REGION = "us-east-1"
MANAGEMENT = "999999999999"
ORG_ID = "o-a1b2c3d4e5"
OWN_ARN = f"arn:aws:account::{ACCOUNT}:account"
LOG_GROUP = "AlternateContactsExample-ProviderLogGroup-Qx7Rm2"
CONTACT_TYPES = ("BILLING", "OPERATIONS", "SECURITY")
ACTIONS = ("account:PutAlternateContact", "account:GetAlternateContact", "account:DeleteAlternateContact")

#: Resource types the app may deploy. Nothing here can be invoked or reached from outside.
ALLOWED_TYPES = {
    "Custom::AlternateContact",
    "Custom::AlternateContacts",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::Lambda::Function",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Logs::LogGroup",
    "AWS::CloudFormation::Stack",
    "AWS::CDK::Metadata",
    # A member account the stack vends: CloudFormation creates it with the deployer's credentials; it is no
    # principal of the function and exposes nothing of the stack.
    "AWS::Organizations::Account",
}

#: The id given, for this review, to an account the stack vends (known only once CloudFormation creates it).
VENDED_ACCOUNT = "987654321098"

Request = tuple[str, str, dict[str, list[str]]]


def member_arn(account: str) -> str:
    """A member account's ARN as the Account API authorizes it (management account and organization in it)."""
    return f"arn:aws:account::{MANAGEMENT}:account/{ORG_ID}/{account}"


def arns(account: str) -> list[str]:
    """The ARNs a call on ``account``'s contacts is authorized against: its own, or (member) both forms."""
    return [OWN_ARN] if account == ACCOUNT else [f"arn:aws:account::{account}:account", member_arn(account)]


def types(*names: str) -> dict[str, list[str]]:
    return {"account:AlternateContactTypes": list(names)}


def on(resource: str, *actions: str) -> list[Request]:
    """A request of each of ``actions`` on ``resource``, without condition keys."""
    return [(action, resource, {}) for action in actions]


def vended_by_the_stack(account: object, template: dict[str, Any]) -> bool:
    """Whether ``account`` is the id of an account the same template creates (``Fn::GetAtt <it>.AccountId``)."""
    if not isinstance(account, dict) or list(account) != ["Fn::GetAtt"]:
        return False
    logical_id, attribute = account["Fn::GetAtt"]
    found = template["Resources"].get(logical_id, {})
    return bool(attribute == "AccountId" and found.get("Type") == "AWS::Organizations::Account")


def declared_slots(app: SynthesizedApp) -> set[tuple[str, str]]:
    """Every (account, type) the app's contact resources manage, nested stacks included."""
    slots = set()
    for template in app.templates:
        for resource in template["Resources"].values():
            if not resource["Type"].startswith("Custom::AlternateContact"):
                continue
            properties = resource["Properties"]
            account = properties.get("AccountId", ACCOUNT)
            if vended_by_the_stack(account, template):
                # A new member of the organization: its ARN is a member account's like any other's.
                account = VENDED_ACCOUNT
            assert isinstance(account, str), f"an account only known at deploy time needs a review by hand: {account}"
            kinds = properties.get("AlternateContacts") or {properties["AlternateContactType"]: {}}
            slots.update((account, kind) for kind in kinds)
    return slots


@pytest.fixture(scope="module")
def deployed(example_synth: SynthesizedApp) -> tuple[IdentityPolicy, str, str]:
    """The provider role's policy resolved for one deployment, with that deployment's stack and log ARNs."""
    template = example_synth.template
    (role_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    (log_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::Logs::LogGroup"]
    stack_uuid = "5b0a2f10-1111-4000-8000-000000000001"
    stack_arn = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{example_synth.stack_name}/{stack_uuid}"
    log_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}:*"
    attributes = {(log_id, "Arn"): log_arn}
    deployment = Scope(
        account=ACCOUNT,
        partition=PARTITION,
        region=REGION,
        stack_id=stack_arn,
        stack_name=example_synth.stack_name,
        get_att=lambda logical_id, attribute: attributes[(logical_id, attribute)],
        strict=True,
    )
    statements = resolve(role_statements(template, role_id), deployment)
    return IdentityPolicy(statements), stack_arn, log_arn


def contact_requests(slots: set[tuple[str, str]]) -> tuple[list[Request], list[Request]]:
    """The contact requests that must be allowed and denied, given the declared slots."""
    allowed: list[Request] = []
    denied: list[Request] = []
    accounts = {account for account, _ in slots}
    undeclared = next(f"{n:012d}" for n in range(999_999_999_998, 0, -1) if f"{n:012d}" not in accounts)
    for account in sorted(accounts | {undeclared, ACCOUNT}):
        arn = OWN_ARN if account == ACCOUNT else member_arn(account)
        for kind in CONTACT_TYPES:
            for action in ACTIONS:
                # Declared or not: a slot removed from the template is deleted under the new policy.
                allowed.append((action, arn, types(kind)))
        allowed.append((ACTIONS[0].upper(), arn, types("SECURITY")))  # IAM action names ignore case
        denied.append((ACTIONS[0], arn, {}))  # the condition key missing
        denied.append((ACTIONS[0], arn, types("security")))  # the values are case-sensitive
        denied.append((ACTIONS[0], arn, types("SECURITY", "PRIMARY")))  # a type the API does not have
    for account in sorted(accounts - {ACCOUNT}):
        # Another account's contacts in its standalone form: only that account's own principals may.
        denied.append((ACTIONS[0], f"arn:aws:account::{account}:account", types("BILLING")))
    return allowed, denied


#: Never granted, whatever the app declares.
OTHER_REQUESTS: list[Request] = [
    *on(
        OWN_ARN,
        "account:PutContactInformation",
        "account:GetContactInformation",
        "account:PutAccountName",
        "account:EnableRegion",
        "account:AcceptPrimaryEmailUpdate",
    ),
    ("account:*", OWN_ARN, types("SECURITY")),
    # crhelper's polling mode (unused here) would need these
    *on(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:provider", "lambda:AddPermission"),
    *on(f"arn:aws:events:{REGION}:{ACCOUNT}:rule/poll", "events:PutRule"),
    *on(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/other/secret", "ssm:GetParameter"),
    *on(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/cdk-alternate-contacts-evil/x", "ssm:PutParameter"),
    *on(f"arn:aws:organizations::{MANAGEMENT}:account/{ORG_ID}/{ACCOUNT}", "organizations:CloseAccount"),
    *on(f"arn:aws:iam::{ACCOUNT}:role/Admin", "iam:PassRole"),
    *on(f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole", "sts:AssumeRole"),
    *on(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:provider", "lambda:InvokeFunction"),
    *on(f"arn:aws:s3:::cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/x.zip", "s3:GetObject"),
]


def wrong_decisions(policy: IdentityPolicy, allowed: list[Request], denied: list[Request]) -> list[str]:
    wrong = [f"denied, should be allowed: {a} {r} {c}" for a, r, c in allowed if not policy.allowed(a, r, c)]
    return wrong + [f"allowed, should be denied: {a} {r} {c}" for a, r, c in denied if policy.allowed(a, r, c)]


def test_the_role_may_manage_every_slot_the_stack_could_have_declared_and_nothing_more(
    deployed: tuple[IdentityPolicy, str, str], example_synth: SynthesizedApp
) -> None:
    # GIVEN the contact slots the app declares, and the provider role's statements for one deployment
    slots = declared_slots(example_synth)
    assert len({account for account, _ in slots}) >= 2 and len(slots) >= 3, slots
    policy, _, _ = deployed
    # WHEN IAM evaluates the three actions for every declared account, an undeclared member and the
    # deploying account, every type, and requests without the condition key or with a type the API lacks
    allowed, denied = contact_requests(slots)
    # THEN every type of the deploying account and of the organization's members is allowed, in every phase
    # (the slots a future version removes included), and nothing else
    assert wrong_decisions(policy, allowed, denied) == []


def test_the_role_may_do_nothing_else(deployed: tuple[IdentityPolicy, str, str], example_synth: SynthesizedApp) -> None:
    policy, stack_arn, log_arn = deployed
    stream = log_arn.replace(":*", ":log-stream:2026/11/22/[$LATEST]abc")
    other_stack = stack_arn.replace(f"stack/{example_synth.stack_name}/", "stack/Other/")
    nested = stack_arn.replace(f"stack/{example_synth.stack_name}/", f"stack/{example_synth.stack_name}-Accounts00-X1/")
    record = (
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/cdk-alternate-contacts/{stack_arn.rsplit('/', 1)[-1]}/x/SECURITY"
    )
    reads = ("cloudformation:ListStackResources", "cloudformation:DescribeStacks")
    allowed = [
        *on(stream, "logs:CreateLogStream", "logs:PutLogEvents"),
        *on(stack_arn, *reads),
        *on(nested, *reads),
        # A rolled-back rename with changed values reads the remaining resource's values from the template.
        *on(stack_arn, "cloudformation:GetTemplate"),
        # In every phase, opted in or not: the Delete of an opted-in contact runs after the update that
        # removed the last opted-in contact from the template.
        *on(record, "ssm:GetParameter", "ssm:DeleteParameter"),
        *on(f"arn:aws:organizations::{MANAGEMENT}:account/{ORG_ID}/111111111111", "organizations:DescribeAccount"),
    ]
    denied = [
        *OTHER_REQUESTS,
        *on(f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/other:log-stream:x", "logs:PutLogEvents"),
        *on(log_arn, "logs:CreateLogGroup", "logs:DeleteLogGroup"),
        *on(other_stack, *reads, "cloudformation:GetTemplate"),
        *on(stack_arn, "cloudformation:DeleteStack", "cloudformation:UpdateStack"),
        *on(record, "ssm:GetParametersByPath"),
        *on("*", "organizations:ListAccounts"),
    ]
    assert wrong_decisions(policy, allowed, denied) == []


def test_nothing_but_the_stack_can_reach_the_function(example_synth: SynthesizedApp) -> None:
    # GIVEN the synthesized stack and its nested stacks
    kinds = {r["Type"] for template in example_synth.templates for r in template["Resources"].values()}
    # THEN they hold contacts, one function, its role and policy, its log group and nested stacks only: no
    # AWS::Lambda::Permission (a resource policy), no function URL, no event source or schedule
    assert kinds <= ALLOWED_TYPES, kinds - ALLOWED_TYPES
    resources = example_synth.template["Resources"]
    assert [r["Type"] for r in resources.values()].count("AWS::Lambda::Function") == 1
    # AND the role trusts the Lambda service alone, with no managed policy
    (role,) = [r for r in resources.values() if r["Type"] == "AWS::IAM::Role"]
    assert "ManagedPolicyArns" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    # AND cdk-nag's AwsSolutions rules found nothing unacknowledged
    report = json.loads((example_synth.outdir / "validation-report.json").read_text())
    assert [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])] == []


# -- what ships is what was tested ------------------------------------------------------------------


def pinned(requirement_name: str) -> str:
    """The exact version pyproject.toml pins for a dependency (fails unless it is ``==``)."""
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    (requirement,) = [Requirement(d) for d in dependencies if Requirement(d).name == requirement_name]
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"{requirement_name} must be pinned exactly, not {requirement}"
    return specifier.version


def locked(lock_file: str, name: str) -> str:
    (version,) = re.findall(rf"^{re.escape(name)}==(\S+)$", (REPO / lock_file).read_text(), re.MULTILINE)
    return str(version)


def test_aws_cdk_lib_is_pinned_and_the_pinned_cli_reads_its_assemblies(example_synth: SynthesizedApp) -> None:
    # GIVEN aws-cdk-lib's pin, the lock and the installed copy
    version = pinned("aws-cdk-lib")
    assert locked("requirements-dev.lock", "aws-cdk-lib") == version
    assert importlib.metadata.version("aws-cdk-lib") == version
    # AND the CDK CLI pinned exactly in package.json, locked and installed at that version
    package = json.loads((REPO / "package.json").read_text())
    cli = package["dependencies"]["aws-cdk"]
    assert re.fullmatch(r"2\.\d+\.\d+", cli), f"the CDK CLI must be pinned to an exact 2.x version, not {cli}"
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == cli
    assert lock["packages"]["node_modules/aws-cdk"]["integrity"].startswith("sha512-")
    installed = json.loads((REPO / "node_modules" / "aws-cdk" / "package.json").read_text())
    assert installed["version"] == cli
    # WHEN the cloud assembly schema the CLI bundles is compared with what aws-cdk-lib wrote
    bundle = (REPO / "node_modules" / "aws-cdk" / "lib" / "index.js").read_text()
    (revision,) = set(re.findall(r"cloud-assembly-schema/schema/version\.json[^}]*?revision:\s*(\d+)", bundle, re.S))
    manifest = json.loads((example_synth.outdir / "manifest.json").read_text())
    # THEN the CLI understands the assembly's version (a newer one is refused at deploy time)
    assert int(manifest["version"].split(".")[0]) <= int(revision)


def test_the_bundled_crhelper_is_the_pinned_and_tested_copy(example_synth: SynthesizedApp) -> None:
    # GIVEN crhelper's pin, the lock and the copy installed here (the one every handler test ran against)
    version = pinned("crhelper")
    assert locked("requirements-dev.lock", "crhelper") == version
    assert importlib.metadata.version("crhelper") == version
    found = importlib.util.find_spec("crhelper")
    assert found is not None and found.origin is not None
    installed = Path(found.origin).parent
    # WHEN the synthesized asset is read
    asset = example_synth.asset
    shipped = {p.relative_to(asset / "crhelper"): p.read_bytes() for p in (asset / "crhelper").rglob("*.py")}
    tested = {p.relative_to(installed): p.read_bytes() for p in installed.rglob("*.py")}
    # THEN it ships the handler and crhelper only, crhelper byte for byte as installed, at the pinned version
    assert sorted(p.name for p in asset.iterdir()) == sorted(
        ["cdk_alternate_contacts_handler", "crhelper", f"crhelper-{version}.dist-info"]
    )
    assert shipped == tested
    metadata = (asset / f"crhelper-{version}.dist-info" / "METADATA").read_text()
    assert f"\nVersion: {version}\n" in metadata


def test_the_runtime_boto3_is_the_one_the_handler_was_tested_with() -> None:
    # The Lambda runtime provides boto3; the runtime stand-in pins it, and the handler tests run with it.
    for name in ("boto3", "botocore"):
        assert locked("requirements-lambda.lock", name) == locked("requirements-dev.lock", name)
        assert importlib.metadata.version(name) == locked("requirements-lambda.lock", name)
