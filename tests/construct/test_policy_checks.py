"""cdk-nag's AwsSolutions pack and cfn-lint over what the construct synthesizes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from construct_synth import (
    CliSynth,
    Synthesized,
    acknowledgements,
    cfn_lint,
    only_resource,
    validation_violations,
)

MEMBER_WILDCARD_FINDING = "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:account::*:account/o-*/*]"
STACKS_WILDCARD_FINDING = (
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/"
    "<AWS::StackName>-*/*]"
)
RECORDS_WILDCARD_FINDING = (
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/"
    "cdk-alternate-contacts/*]"
)


# --- cdk-nag ----------------------------------------------------------------------------------------------


def test_example_app_passes_aws_solutions_checks(example_app: Synthesized) -> None:
    # GIVEN app.py, which adds AwsSolutionsChecks to the app
    # WHEN it is synthesized (a failed check raises)
    assert example_app.error is None, f"app.py failed cdk-nag: {example_app.error}"
    # THEN the validation report records no violation at all, warnings included
    assert validation_violations(example_app.outdir) == []


def test_every_acknowledgement_in_the_example_app_gives_a_reason(example_app: Synthesized) -> None:
    # GIVEN the synthesized example app
    assert example_app.error is None, example_app.error
    # WHEN every acknowledged cdk-nag finding is collected
    found = acknowledgements(example_app.app)
    # THEN there are the role's wildcards (member accounts, nested stacks, restore records), each with a real
    # reason, and none is a blanket acknowledgement of a whole rule
    rules = {rule for per_construct in found.values() for rule in per_construct}
    assert {MEMBER_WILDCARD_FINDING, STACKS_WILDCARD_FINDING, RECORDS_WILDCARD_FINDING} <= rules, rules
    for path, per_construct in found.items():
        for rule, reason in per_construct.items():
            assert "[" in rule, f"{path}: {rule} acknowledges every finding of the rule"
            assert isinstance(reason, str), f"{path}: {rule}"
            assert len(reason.split()) >= 8, f"{path}: {rule} has no real reason: {reason!r}"


def test_wildcards_fail_aws_solutions_checks_unless_acknowledged(unacknowledged_app: Synthesized) -> None:
    # GIVEN a provider whose constructor's acknowledgements were dropped (the nested stacks' and the restore
    # records' wildcards), and a provider given "Resource: *"
    # WHEN the app is synthesized under AwsSolutionsChecks
    # THEN synthesis fails, and the report names each unacknowledged wildcard at the provider's policy
    assert unacknowledged_app.error is not None
    assert "ValidationFailed" in str(unacknowledged_app.error)
    violations = {v["ruleName"]: v for v in validation_violations(unacknowledged_app.outdir)}
    assert set(violations) == {STACKS_WILDCARD_FINDING, RECORDS_WILDCARD_FINDING, "AwsSolutions-IAM5[Resource::*]"}
    paths = {rule: [c["constructPath"] for c in v["violatingConstructs"]] for rule, v in violations.items()}
    dropped = ["MemberWithoutAcknowledgement/CdkAlternateContactsProvider/Role/DefaultPolicy/Resource"]
    assert paths == {
        STACKS_WILDCARD_FINDING: dropped,
        RECORDS_WILDCARD_FINDING: dropped,
        "AwsSolutions-IAM5[Resource::*]": ["ExtraWildcard/CdkAlternateContactsProvider/Role/DefaultPolicy/Resource"],
    }


def test_token_accounts_pass_aws_solutions_checks(token_app: Synthesized) -> None:
    # GIVEN member-account contacts whose accounts are a CloudFormation parameter and an imported value
    # (the construct documents tokens as accepted)
    # WHEN the app is synthesized under AwsSolutionsChecks
    # THEN nothing fails: the role's scope names no account, so a token account adds no finding
    assert token_app.error is None, f"cdk-nag failed: {token_app.error}"
    assert validation_violations(token_app.outdir) == []
    rules = {rule for per_construct in acknowledgements(token_app.app).values() for rule in per_construct}
    assert MEMBER_WILDCARD_FINDING in rules
    assert not [rule for rule in rules if "MemberAccount" in rule or "OperationsAccountId" in rule], rules


# --- cfn-lint ---------------------------------------------------------------------------------------------


def only_redundant_role_dependency(
    findings: list[dict[str, Any]], templates: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Findings other than W3005 on the function's DependsOn its role.

    aws-cdk-lib's Function depends on its whole role construct so that the role's default policy exists
    before the function; the Role half of that DependsOn repeats the Fn::GetAtt of the role's ARN, which
    cfn-lint reports as W3005. It is harmless and not the construct's to change; anything else is kept.
    """
    left = []
    for finding in findings:
        path = finding["Location"]["Path"]
        template = templates[Path(finding["Filename"]).name]
        function_id, _ = only_resource(template, "AWS::Lambda::Function")
        role_id, _ = only_resource(template, "AWS::IAM::Role")
        is_role_dependency = (
            finding["Rule"]["Id"] == "W3005"
            and path[:3] == ["Resources", function_id, "DependsOn"]
            and template["Resources"][function_id]["DependsOn"][path[3]] == role_id
        )
        if not is_role_dependency:
            left.append(finding)
    return left


def test_example_app_templates_pass_cfn_lint(cli_synth: CliSynth) -> None:
    # GIVEN the templates `cdk synth` writes for app.py: the stack and the nested stacks of its member accounts
    templates = sorted(cli_synth.outdir.glob("*.template.json"))
    names = [t.name for t in templates]
    assert "AlternateContactsExample.template.json" in names
    nested = [name for name in names if name.endswith(".nested.template.json")]
    assert nested and len(nested) == len(names) - 1
    # WHEN cfn-lint checks them, informational checks included
    findings = cfn_lint(*templates)
    # THEN it finds nothing but the DependsOn that aws-cdk-lib always writes
    by_name = {t.name: json.loads(t.read_text()) for t in templates}
    assert only_redundant_role_dependency(findings, by_name) == []


def test_construct_templates_pass_cfn_lint(contacts_app: Synthesized, token_app: Synthesized, tmp_path: Path) -> None:
    # GIVEN templates with member accounts, a retained contact, several stacks and parameter tokens, and
    # a copy of one whose function asks for a runtime that does not exist (proof that the linter checks)
    templates = [
        contacts_app.outdir / "Contacts.template.json",
        contacts_app.outdir / "SecondStack.template.json",
        token_app.outdir / "Tokens.template.json",
    ]
    broken = json.loads(templates[0].read_text())
    function_id, _ = only_resource(broken, "AWS::Lambda::Function")
    broken["Resources"][function_id]["Properties"]["Runtime"] = "python2.99"
    (tmp_path / "Broken.template.json").write_text(json.dumps(broken))
    # WHEN cfn-lint checks them all in one run
    findings = cfn_lint(*templates, tmp_path / "Broken.template.json")
    # THEN the broken copy's runtime is an error, and the real templates hold nothing but the DependsOn
    # that aws-cdk-lib always writes
    by_name = {t.name: json.loads(t.read_text()) for t in [*templates, tmp_path / "Broken.template.json"]}
    left = only_redundant_role_dependency(findings, by_name)
    assert {Path(f["Filename"]).name for f in left} == {"Broken.template.json"}
    assert [f["Location"]["Path"][:4] for f in left if f["Level"] == "Error"] == [
        ["Resources", function_id, "Properties", "Runtime"]
    ]
