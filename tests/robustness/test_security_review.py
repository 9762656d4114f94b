"""A security review of what the repository's app deploys, read from its synthesized template and asset.

The provider role's statements are evaluated as IAM would for a matrix of requests, with the values of one
concrete deployment (account 123456789012, us-east-1): the role may do the three alternate-contact actions
on the declared accounts and contact types only, write its own log group, and list its own stack's
resources; everything else is denied, including a declared action on an undeclared account or type and a
request that lacks the contact-type condition key. Then: nothing may invoke the function but its callers'
own rights (no resource policy), and what ships is what was tested (pinned versions, bundled crhelper).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import tomllib
from pathlib import Path

import pytest
from app_synth import SynthesizedApp
from iam_eval import IdentityPolicy, resolve, role_statements
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
PARTITION = "aws"
REGION = "us-east-1"
MEMBER = "111111111111"  # app.py's member account (BILLING)
UNDECLARED = "222222222222"
MANAGEMENT = "999999999999"
ORG_ID = "o-a1b2c3d4e5"
OWN_ARN = f"arn:aws:account::{ACCOUNT}:account"
LOG_GROUP = "AlternateContactsExample-ProviderLogGroup-Qx7Rm2"

PUT, GET, DELETE = "account:PutAlternateContact", "account:GetAlternateContact", "account:DeleteAlternateContact"


def member_arn(account: str) -> str:
    """A member account's ARN as the Account API authorizes it (management account and organization in it)."""
    return f"arn:aws:account::{MANAGEMENT}:account/{ORG_ID}/{account}"


def types(*names: str) -> dict[str, list[str]]:
    return {"account:AlternateContactTypes": list(names)}


@pytest.fixture(scope="module")
def deployed(example_synth: SynthesizedApp) -> tuple[IdentityPolicy, str, str]:
    """The provider role's policy resolved for one deployment, with that deployment's stack and log ARNs."""
    template = example_synth.template
    (role_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    (log_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::Logs::LogGroup"]
    stack_uuid = "5b0a2f10-1111-4000-8000-000000000001"
    stack_arn = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{example_synth.stack_name}/{stack_uuid}"
    refs = {"AWS::Partition": PARTITION, "AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::StackId": stack_arn}
    log_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}:*"
    statements = resolve(role_statements(template, role_id), refs, {(log_id, "Arn"): log_arn})
    return IdentityPolicy(statements), stack_arn, log_arn


ALLOWED = [
    # The declared contacts: SECURITY and OPERATIONS of the deploying account, BILLING of the member account
    (PUT, OWN_ARN, types("SECURITY")),
    (GET, OWN_ARN, types("SECURITY")),
    (DELETE, OWN_ARN, types("SECURITY")),
    (PUT, OWN_ARN, types("OPERATIONS")),
    (DELETE, OWN_ARN, types("OPERATIONS")),
    (PUT, f"arn:aws:account::{MEMBER}:account", types("BILLING")),  # the member named explicitly, standalone
    (PUT, member_arn(MEMBER), types("BILLING")),  # the member through its organization
    (DELETE, member_arn(MEMBER), types("BILLING")),
    ("Account:putalternatecontact", OWN_ARN, types("SECURITY")),  # IAM action names ignore case
]

DENIED = [
    # a declared action, but a type not declared for that account
    (PUT, OWN_ARN, types("BILLING")),
    (PUT, member_arn(MEMBER), types("SECURITY")),
    (DELETE, member_arn(MEMBER), types("OPERATIONS")),
    # a declared type, but an account not declared
    (PUT, f"arn:aws:account::{UNDECLARED}:account", types("BILLING")),
    (PUT, member_arn(UNDECLARED), types("BILLING")),
    (DELETE, member_arn(UNDECLARED), types("SECURITY")),
    (PUT, f"arn:aws:account::{MEMBER}1:account", types("BILLING")),
    # the condition key missing, mixed with an undeclared type, or in another case
    (PUT, OWN_ARN, {}),
    (DELETE, member_arn(MEMBER), {}),
    (PUT, OWN_ARN, types("SECURITY", "BILLING")),
    (PUT, OWN_ARN, types("security")),
    # other actions of the account service
    ("account:PutContactInformation", OWN_ARN, {}),
    ("account:GetContactInformation", OWN_ARN, {}),
    ("account:PutAccountName", OWN_ARN, {}),
    ("account:EnableRegion", OWN_ARN, {}),
    ("account:AcceptPrimaryEmailUpdate", OWN_ARN, {}),
    ("account:*", OWN_ARN, types("SECURITY")),
    # what crhelper's polling mode would need, and what the opt-ins would (app.py opts in to neither)
    ("lambda:AddPermission", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:provider", {}),
    ("events:PutRule", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/poll", {}),
    ("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/cdk-alternate-contacts/x/{ACCOUNT}/SECURITY", {}),
    ("organizations:DescribeAccount", f"arn:aws:organizations::{MANAGEMENT}:account/{ORG_ID}/{MEMBER}", {}),
    # anything else
    ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/Admin", {}),
    ("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole", {}),
    ("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:provider", {}),
    ("s3:GetObject", "arn:aws:s3:::cdk-hnb659fds-assets-123456789012-us-east-1/x.zip", {}),
]


@pytest.mark.parametrize(("action", "resource", "context"), ALLOWED)
def test_the_role_may_manage_the_declared_contacts(
    deployed: tuple[IdentityPolicy, str, str], action: str, resource: str, context: dict[str, list[str]]
) -> None:
    # GIVEN the provider role's statements, resolved for one deployment
    policy, _, _ = deployed
    # WHEN IAM evaluates a request for a declared account and type
    # THEN it is allowed
    assert policy.allowed(action, resource, context)


@pytest.mark.parametrize(("action", "resource", "context"), DENIED)
def test_the_role_may_do_nothing_else(
    deployed: tuple[IdentityPolicy, str, str], action: str, resource: str, context: dict[str, list[str]]
) -> None:
    # GIVEN the provider role's statements, resolved for one deployment
    policy, _, _ = deployed
    # WHEN IAM evaluates a request for an undeclared account or type, without the condition key, or for
    # any other action
    # THEN it is denied
    assert not policy.allowed(action, resource, context)


def test_the_role_writes_only_its_own_log_group_and_lists_only_its_own_stack(
    deployed: tuple[IdentityPolicy, str, str],
) -> None:
    policy, stack_arn, log_arn = deployed
    stream = log_arn.replace(":*", ":log-stream:2026/11/22/[$LATEST]abc")
    other_stream = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/other:log-stream:x"
    # The log group's own streams, and this stack's resources: allowed
    assert policy.allowed("logs:CreateLogStream", stream)
    assert policy.allowed("logs:PutLogEvents", stream)
    assert policy.allowed("cloudformation:ListStackResources", stack_arn)
    # Another log group, creating or deleting groups, another stack, other CloudFormation actions: denied
    assert not policy.allowed("logs:PutLogEvents", other_stream)
    assert not policy.allowed("logs:CreateLogGroup", log_arn)
    assert not policy.allowed("logs:DeleteLogGroup", log_arn)
    other_stack = stack_arn.replace("AlternateContactsExample", "Other")
    assert not policy.allowed("cloudformation:ListStackResources", other_stack)
    assert not policy.allowed("cloudformation:DescribeStacks", stack_arn)
    assert not policy.allowed("cloudformation:DeleteStack", stack_arn)


def test_nothing_but_the_stack_can_reach_the_function(example_synth: SynthesizedApp) -> None:
    # GIVEN the synthesized stack
    resources = example_synth.template["Resources"]
    kinds = sorted({r["Type"] for r in resources.values()})
    # THEN it holds only the contacts, the function, its role and policy, and its log group: no
    # AWS::Lambda::Permission (a resource policy), no function URL, no event source or schedule
    assert kinds == sorted(
        {
            "Custom::AlternateContact",
            "AWS::IAM::Policy",
            "AWS::IAM::Role",
            "AWS::Lambda::Function",
            "AWS::Logs::LogGroup",
        }
    )
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
