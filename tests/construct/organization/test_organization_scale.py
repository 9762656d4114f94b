"""1,000 accounts x 3 contacts: nested stacks under CloudFormation's limits, one function, a policy IAM accepts."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

from construct_synth import acknowledgements, as_list, cfn_lint, render, validation_violations
from organization_synth import (
    MEASURED,
    THOUSAND,
    TimedSynthesis,
    iam_pattern_matches,
    inline_policy_characters,
    organization_templates,
    role_policy_statements,
)

from cdk_alternate_contacts import nested_stack_index, nested_stacks_for
from cdk_alternate_contacts.organization import DEFAULT_ACCOUNTS_PER_STACK

#: CloudFormation's limits on one template (the nested ones are read from S3: 1 MB).
MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_000_000

#: IAM's limit on the inline policies of one role, all of them together, white space excluded.
MAX_ROLE_POLICY_CHARACTERS = 10_240

STACK = "Organization"


def test_every_account_is_one_resource_in_exactly_one_nested_stack(thousand_accounts: TimedSynthesis) -> None:
    # GIVEN 1,000 accounts of three contacts (some overriding security, some opting out of billing)
    templates = organization_templates(thousand_accounts.synthesized.outdir, STACK)
    # WHEN each nested template's contacts are collected
    placed = templates.placed()
    # THEN every account has one resource, in the nested stack its id chooses among the 4 that 1,000 accounts
    # grow to (one per 250), and the parent holds only the nested stacks and the provider
    assert len(placed) == THOUSAND
    assert nested_stacks_for(THOUSAND) == 4
    for account, where in placed.items():
        assert where.nested_stack == f"ContactsAccounts{nested_stack_index(account, 4):02d}", account
    parent_types = Counter(r["Type"] for r in templates.parent["Resources"].values())
    assert parent_types == {
        "AWS::CloudFormation::Stack": 4,
        "AWS::Lambda::Function": 1,
        "AWS::Lambda::EventInvokeConfig": 1,
        "AWS::IAM::Role": 1,
        "AWS::IAM::Policy": 1,
        "AWS::Logs::LogGroup": 1,
    }


def test_every_template_stays_under_500_resources_and_1_mb(thousand_accounts: TimedSynthesis) -> None:
    # GIVEN the parent template and its four nested templates
    templates = organization_templates(thousand_accounts.synthesized.outdir, STACK)
    # WHEN their resources and bytes are counted
    sizes = {name: (len(t["Resources"]), templates.files[name].stat().st_size) for name, t in templates.nested.items()}
    sizes[STACK] = (len(templates.parent["Resources"]), templates.files[STACK].stat().st_size)
    # THEN each is far below CloudFormation's limits
    largest = max(sizes.values())
    MEASURED["1,000 accounts: templates; largest (resources, bytes)"] = f"{len(sizes)}; {largest}"
    assert len(sizes) == 5
    for name, (resources, size) in sizes.items():
        assert resources < MAX_RESOURCES, name
        assert size < MAX_TEMPLATE_BYTES, name


def test_one_provider_function_serves_the_whole_app(thousand_accounts: TimedSynthesis) -> None:
    # GIVEN the parent and nested templates
    templates = organization_templates(thousand_accounts.synthesized.outdir, STACK)
    (function_id,) = [k for k, v in templates.parent["Resources"].items() if v["Type"] == "AWS::Lambda::Function"]
    # WHEN the nested stacks' functions and service tokens are read
    nested_functions = [
        k for t in templates.nested.values() for k, v in t["Resources"].items() if v["Type"] == "AWS::Lambda::Function"
    ]
    # THEN no nested stack has a function: each passes the parent function's ARN as its one parameter, and
    # every contact's service token is that parameter
    assert nested_functions == []
    for logical_id, template in templates.nested.items():
        (parameter,) = template["Parameters"]
        passed = templates.parent["Resources"][logical_id]["Properties"]["Parameters"][parameter]
        assert passed == {"Fn::GetAtt": [function_id, "Arn"]}, logical_id
        tokens = {str(r["Properties"]["ServiceToken"]) for r in template["Resources"].values()}
        assert tokens == {str({"Ref": parameter})}, logical_id


def test_the_role_may_list_each_nested_stack_and_no_other_stack(thousand_accounts: TimedSynthesis) -> None:
    # GIVEN the provider role's statements, and the names CloudFormation gives nested stacks:
    # <parent>-<logical id>-<random suffix>
    templates = organization_templates(thousand_accounts.synthesized.outdir, STACK)
    (listing,) = [
        s for s in role_policy_statements(templates.parent) if "cloudformation:ListStackResources" in s["Action"]
    ]
    assert sorted(listing["Action"]) == [
        "cloudformation:DescribeStacks",
        "cloudformation:GetTemplate",
        "cloudformation:ListStackResources",
    ]
    patterns = [
        render(r)
        .replace("${AWS::StackName}", STACK)
        .replace("${AWS::Partition}", "aws")
        .replace("${AWS::Region}", "us-east-1")
        for r in as_list(listing["Resource"])
    ]
    patterns = [p.replace("${AWS::AccountId}", "123456789012") for p in patterns]

    def arn(name: str) -> str:
        return f"arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/0b6e5a30-2f2b-11ef-9c3e-0a1b2c3d4e5f"

    def allowed(name: str) -> bool:
        return any(iam_pattern_matches(p, arn(name)) for p in patterns if p != "${AWS::StackId}")

    # WHEN each nested stack's ARN, and other stacks' ARNs, are matched against the patterns
    # THEN the role may read every nested stack below its stack (its Deletes need it, also of a nested stack
    # an update removes) and its own stack, no other stack
    assert "${AWS::StackId}" in patterns
    for logical_id in templates.nested:
        assert allowed(f"{STACK}-{logical_id}-1A2B3C4D5E6F7"), logical_id
    assert allowed(f"{STACK}-ContactsAccounts99-1A2B3C4D5E6F7")
    assert not allowed(f"Other-{next(iter(templates.nested))}-1A2B3C4D5E6F7")
    assert not allowed(f"{STACK}Other")


def test_the_role_policy_fits_iams_limit_with_organization_wide_member_arns(thousand_accounts: TimedSynthesis) -> None:
    # GIVEN 1,000 accounts of three types
    template = organization_templates(thousand_accounts.synthesized.outdir, STACK).parent
    # WHEN the role's inline policies are measured as IAM counts them (GovCloud's longer partition and region)
    characters = inline_policy_characters(template, STACK)
    MEASURED["1,000 accounts: provider role's inline policy"] = (
        f"{characters} of {MAX_ROLE_POLICY_CHARACTERS} characters"
    )
    # THEN it is far below the limit: one statement names the deploying account and the organization's
    # members, limited by the contact-type condition (with its Null guard) to the API's three types
    assert characters < MAX_ROLE_POLICY_CHARACTERS / 4
    contact_statements = [s for s in role_policy_statements(template) if "Condition" in s]
    assert len(contact_statements) == 1
    (statement,) = contact_statements
    assert [render(r) for r in statement["Resource"]] == [
        "arn:${AWS::Partition}:account::${AWS::AccountId}:account",
        "arn:${AWS::Partition}:account::*:account/o-*/*",
    ]
    assert statement["Condition"]["Null"] == {"account:AlternateContactTypes": "false"}


def test_the_thousand_account_app_passes_aws_solutions_checks(thousand_accounts: TimedSynthesis) -> None:
    # GIVEN the app synthesized under AwsSolutionsChecks
    synthesized = thousand_accounts.synthesized
    # WHEN its validation report is read
    # THEN nothing failed; the wildcards (the organization's members, the nested stacks' names, the restore
    # records, member accounts' status) are acknowledged on the role with their reasons
    assert synthesized.error is None, f"cdk-nag failed: {synthesized.error}"
    assert validation_violations(synthesized.outdir) == []
    role = thousand_accounts.organization.provider.role
    role_rules = acknowledgements(role)[role.node.path]
    assert "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:account::*:account/o-*/*]" in role_rules
    assert (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/"
        "<AWS::StackName>-*/*]" in role_rules
    )


def test_every_template_of_the_thousand_account_app_passes_cfn_lint(thousand_accounts: TimedSynthesis) -> None:
    # GIVEN the parent template and the ten nested templates
    templates = organization_templates(thousand_accounts.synthesized.outdir, STACK)
    files: list[Path] = list(templates.files.values())
    # WHEN cfn-lint checks them all in one run, informational checks included
    findings = cfn_lint(*files)
    # THEN nothing is found but the DependsOn of the function on its role that aws-cdk-lib always writes
    # (also accepted in tests/construct/test_policy_checks.py)
    left = [
        f
        for f in findings
        if not (
            f["Rule"]["Id"] == "W3005"
            and f["Location"]["Path"][2] == "DependsOn"
            and Path(f["Filename"]).name == f"{STACK}.template.json"
        )
    ]
    assert left == []


def test_service_timeout_covers_a_full_nested_stack_at_the_slowest_quota(thousand_accounts: TimedSynthesis) -> None:
    # GIVEN 1,000 accounts of up to three contacts, all served by one function, in nested stacks deployed one
    # after another (so only one nested stack's contacts wait in the function's queue at a time)
    templates = organization_templates(thousand_accounts.synthesized.outdir, STACK)
    resources = [
        resource
        for template in templates.nested.values()
        for resource in template["Resources"].values()
        if resource["Type"] == "Custom::AlternateContacts"
    ]
    # WHEN their ServiceTimeout is read
    timeouts = {int(resource["Properties"]["ServiceTimeout"]) for resource in resources}
    # THEN it is one value, long enough for a nested stack as full as allowed (400 accounts, 1,200 Deletes at
    # 1 a second, queue time counted) plus 2 minutes, and independent of how many accounts there are: an
    # account's arrival changes no other account's properties
    full_stack = 3 * DEFAULT_ACCOUNTS_PER_STACK
    assert timeouts == {120 + -(-12 * full_stack // 10)}
    assert 3 * max(len(t["Resources"]) for t in templates.nested.values()) < next(iter(timeouts)) <= 3600


def test_nested_stacks_are_chained_so_they_deploy_one_after_another(thousand_accounts: TimedSynthesis) -> None:
    # GIVEN the parent template of 1,000 accounts in 4 nested stacks
    templates = organization_templates(thousand_accounts.synthesized.outdir, STACK)
    nested = sorted(templates.nested)
    # WHEN each nested stack's DependsOn is read
    depends = {name: templates.parent["Resources"][name].get("DependsOn", []) for name in nested}
    # THEN each waits for the one before it (CloudFormation deletes them in the reverse order), and the
    # first waits for nothing but the provider
    assert depends[nested[0]] == [] or all(not d.startswith("ContactsAccounts") for d in depends[nested[0]])
    for before, after in itertools.pairwise(nested):
        assert before in depends[after], (after, depends[after])
        assert [d for d in depends[after] if d.startswith("ContactsAccounts")] == [before]
