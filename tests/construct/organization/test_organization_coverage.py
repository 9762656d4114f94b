"""OrganizationContacts with a coverage: the queue, rules, function and run trigger, and where the rules are
(the function's package, never the template, its environment or the nested stacks)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from construct_synth import Synthesized, cfn_lint, new_app, synthesize, validation_violations
from organization_synth import DEFAULTS, OPERATIONS, SECURITY

# isort: split
import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from cdk_alternate_contacts import (
    AccountContacts,
    AlternateContacts,
    ContactDetails,
    ContactsModelError,
    Coverage,
    OnDrift,
    OrganizationalUnitContacts,
    OrganizationContacts,
    OrganizationStructure,
    load_contacts_model,
)
from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.coverage_rules import RULES_FILE, parse

PAYMENTS, SANDBOX = "ou-ab12-bbbbbbbb", "ou-ab12-cccccccc"
PAYMENTS_OPS = ContactDetails("payments-ops@example.com", "Payments on-call", "+1 206 555 0120", "Operations")
LISTED = "111122223333"


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


@pytest.fixture(scope="module")
def covered(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Stack "Covered": every account, a units' rule, one listed account; stack "Units": a scope of two units,
    drift reported. Bundled (the rules are in the asset), under cdk-nag's AwsSolutionsChecks."""
    outdir = tmp_path_factory.mktemp("covered")
    app = new_app(outdir)
    units = [OrganizationalUnitContacts(PAYMENTS, overrides={"operations": PAYMENTS_OPS}, name="payments")]
    covered_stack = cdk.Stack(app, "Covered", env=cdk.Environment(region="us-east-1"))
    AlternateContacts(covered_stack, "Management", security=SECURITY)
    OrganizationContacts(
        covered_stack,
        "Organization",
        defaults=DEFAULTS,
        accounts=[AccountContacts(LISTED)],
        organizational_units=units,
        organization_structure=OrganizationStructure("o-abcdefghij", "r-ab12", {PAYMENTS: "r-ab12", LISTED: PAYMENTS}),
        coverage=Coverage(),
        organization_id="o-abcdefghij",
        management_account_id="999999999999",
    )
    OrganizationContacts(
        cdk.Stack(app, "Units"),
        "Organization",
        defaults={"security": SECURITY},
        accounts=[],
        coverage=Coverage([PAYMENTS, SANDBOX], reconcile="rate(12 hours)", on_drift=OnDrift.REPORT),
        organization_id="o-abcdefghij",
        management_account_id="999999999999",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return synthesize(app, outdir)


def function_of(template: dict[str, Any], handler: str) -> dict[str, Any]:
    (function,) = [
        r for r in resources_of(template, "AWS::Lambda::Function").values() if r["Properties"]["Handler"] == handler
    ]
    return function


def test_no_contact_detail_is_in_a_template_but_the_listed_accounts_own(covered: Synthesized) -> None:
    # GIVEN the parent template without the stack's own contacts resources (which hold what they declare)
    template = covered.template_json("Covered")
    parent = json.dumps(
        {k: r for k, r in template["Resources"].items() if not r["Type"].startswith("Custom::Alternate")}
    )
    # WHEN searched for the rules' details THEN none is there: not in a property, not in an environment
    for details in (SECURITY, OPERATIONS, PAYMENTS_OPS):
        for value in (details.email_address, details.phone_number):
            assert value not in parent


def test_the_rules_are_bundled_in_the_function_and_the_template_holds_only_their_digest(covered: Synthesized) -> None:
    template = covered.template_json("Covered")
    function = function_of(template, "cdk_alternate_contacts_handler.coverage_index.handler")
    rules = parse(json.loads((covered.outdir / function["Metadata"]["aws:asset:path"] / RULES_FILE).read_text()))
    # the rules: the defaults, payments' operations, the listed account excluded, every account in scope
    assert rules.scope == "all" and rules.on_drift == "restore"
    assert rules.listed == frozenset({LISTED})
    assert rules.desired([PAYMENTS])[spec.AlternateContactType.OPERATIONS]["EmailAddress"] == PAYMENTS_OPS.email_address
    parameters = resources_of(template, "AWS::SSM::Parameter")
    (parameter,) = [p for k, p in parameters.items() if "RulesDigest" in k]
    (run,) = resources_of(template, spec.COVERAGE_RESOURCE_TYPE).values()
    assert parameter["Properties"]["Value"] == run["Properties"]["RulesDigest"] == rules.digest
    # AND the listed account's nested stack waits for the digest (written after the coverage let it go)
    (nested,) = resources_of(template, "AWS::CloudFormation::Stack").values()
    assert next(k for k in parameters if "RulesDigest" in k) in nested["DependsOn"]


def test_accounts_the_stacks_other_resources_own_are_left_to_them(covered: Synthesized) -> None:
    # GIVEN stack "Covered" also declares the deploying account's contacts with AlternateContacts
    template = covered.template_json("Covered")
    (owned,) = [p for k, p in resources_of(template, "AWS::SSM::Parameter").items() if "OwnedAccounts" in k]
    # THEN the coverage's owned parameter names that account (resolved at deploy), not the listed one
    assert owned["Properties"]["Value"] == {"Fn::Join": [",", ["-", {"Ref": "AWS::AccountId"}]]}
    (run,) = resources_of(template, spec.COVERAGE_RESOURCE_TYPE).values()
    assert next(k for k in resources_of(template, "AWS::SSM::Parameter") if "OwnedAccounts" in k) in run["DependsOn"]


def test_events_the_schedule_and_the_deploy_feed_one_queue_read_two_at_a_time(covered: Synthesized) -> None:
    template = covered.template_json("Covered")
    rules = resources_of(template, "AWS::Events::Rule")
    patterns = [r["Properties"].get("EventPattern") for r in rules.values()]
    assert {
        "source": ["aws.organizations"],
        "detail-type": ["AWS Service Event via CloudTrail", "AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["organizations.amazonaws.com"],
            "eventName": ["CreateAccountResult", "AcceptHandshake", "MoveAccount"],
        },
    } in patterns
    assert any(p and p["source"] == ["aws.controltower"] for p in patterns)
    (schedule,) = [r for r in rules.values() if "ScheduleExpression" in r["Properties"]]
    assert schedule["Properties"]["ScheduleExpression"] == "rate(1 day)"
    assert json.loads(schedule["Properties"]["Targets"][0]["Input"]) == {"action": "start", "reason": "schedule"}
    (mapping,) = resources_of(template, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 2}
    queue = next(r for k, r in resources_of(template, "AWS::SQS::Queue").items() if "RedrivePolicy" in r["Properties"])
    assert queue["Properties"]["VisibilityTimeout"] == 720
    # (five deliveries that work, as AWS advises for a Lambda event source, and two that only count)
    assert queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 7
    # AND the provider, which serves the run trigger, may send to the queue and knows it (for hand-overs)
    provider = function_of(template, "cdk_alternate_contacts_handler.index.handler")
    assert spec.COVERAGE_QUEUE_VARIABLE in provider["Properties"]["Environment"]["Variables"]


def test_the_run_ledger_is_an_on_demand_encrypted_expiring_table_the_function_may_only_get_put_and_update(
    covered: Synthesized,
) -> None:
    template = covered.template_json("Covered")
    ((logical_id, table),) = resources_of(template, "AWS::DynamoDB::Table").items()
    assert table["DeletionPolicy"] == "Delete"
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["KeySchema"] == [
        {"AttributeName": "run", "KeyType": "HASH"},
        {"AttributeName": "item", "KeyType": "RANGE"},
    ]
    # AND the coverage function's role may get, put and update items of that table, and nothing else of DynamoDB
    statements = [
        s
        for p in resources_of(template, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "dynamodb" in json.dumps(s["Action"])
    ]
    assert statements == [
        {
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [logical_id, "Arn"]},
        }
    ]
    # AND the function knows the table and the queue's maxReceiveCount (a failure counts on the last working
    # delivery, two before it)
    variables = function_of(template, "cdk_alternate_contacts_handler.coverage_index.handler")["Properties"][
        "Environment"
    ]["Variables"]
    assert variables["COVERAGE_LEDGER_TABLE"] == {"Ref": logical_id}
    assert variables["COVERAGE_MAX_RECEIVE_COUNT"] == "7"


def test_a_scope_of_units_limits_the_function_to_their_accounts(covered: Synthesized) -> None:
    template = covered.template_json("Units")
    policies = resources_of(template, "AWS::IAM::Policy").values()
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (writes,) = [
        s
        for s in statements
        if "account:PutAlternateContact" in s["Action"] and "DeleteAlternateContact" not in str(s["Action"])
    ]
    assert writes["Condition"]["ForAnyValue:StringLike"]["account:AccountResourceOrgPaths"] == [
        f"o-abcdefghij/r-*/*{PAYMENTS}/*",
        f"o-abcdefghij/r-*/*{SANDBOX}/*",
    ]
    # AND an environment-agnostic stack carries a rule that refuses any region but us-east-1
    assert template["Rules"]["CoverageRegion"]["Assertions"][0]["Assert"] == {
        "Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]
    }


def test_cdk_nag_and_cfn_lint_find_nothing(covered: Synthesized) -> None:
    assert covered.error is None
    assert validation_violations(covered.outdir) == []
    findings = cfn_lint(covered.outdir / "Covered.template.json", covered.outdir / "Units.template.json")
    assert [f for f in findings if f["Rule"]["Id"] != "W3005"] == []


def test_a_coverage_outside_us_east_1_fails_at_synth_saying_where_to_deploy(tmp_path: Path) -> None:
    stack = cdk.Stack(new_app(tmp_path, bundle=False), "Elsewhere", env=cdk.Environment(region="eu-west-1"))
    with pytest.raises(
        ValueError, match=r"deliver.*us-east-1 only: deploy this stack in us-east-1 \(its region is eu-west-1\)"
    ):
        OrganizationContacts(stack, "Organization", defaults=DEFAULTS, accounts=[], coverage=Coverage())


def test_bad_coverage_settings_name_the_field_and_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "contacts.toml"
    path.write_text('[coverage]\naccounts = ["ou-bad"]\nreconcile = "rate(1 days)"\non_drift = "fix"\nevery = 1\n')
    with pytest.raises(ContactsModelError) as raised:
        OrganizationContacts.from_file(cdk.Stack(new_app(tmp_path / "out", bundle=False), "S"), "Organization", path)
    assert raised.value.problems == (
        "coverage.every: unknown key; use accounts, reconcile, on_drift",
        "coverage.accounts[0]: must be an organizational unit id, ou-... (got 'ou-bad')",
        "coverage.reconcile: EventBridge wants rate(1 day): the unit is singular for 1 and plural above",
        "coverage.on_drift: must be restore or report (got 'fix')",
    )


@pytest.mark.parametrize("declare", ["from_file", "from_model"])
def test_a_coverage_in_the_model_and_in_code_is_refused_naming_the_file(tmp_path: Path, declare: str) -> None:
    # GIVEN a contacts file with a [coverage] table
    path = tmp_path / "contacts.toml"
    path.write_text('[coverage]\naccounts = "all"\n')
    stack = cdk.Stack(new_app(tmp_path / "out", bundle=False), "S")
    # WHEN it is declared, read by the construct or by the app first, with coverage= besides
    refused = rf"^{re.escape(str(path))} has a \[coverage\] table and coverage= is given too: keep one of the two$"
    with pytest.raises(ValueError, match=refused):
        if declare == "from_file":
            OrganizationContacts.from_file(stack, "Organization", path, coverage=Coverage())
        else:
            model = load_contacts_model(path)
            OrganizationContacts.from_model(stack, "Organization", model, source=str(path), coverage=Coverage())
    # THEN nothing is declared
    assert stack.node.try_find_child("Organization") is None
