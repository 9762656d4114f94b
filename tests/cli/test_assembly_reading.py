"""Reading declared contacts from hand-written cloud assemblies: the shapes a small synthesized app lacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import CALLER, SECURITY, contact_resource, write_assembly

from cdk_alternate_contacts_cli.assembly import Declaration, read_declarations
from cdk_alternate_contacts_cli.cloud_assembly import AssemblyError, CloudAssembly
from cdk_alternate_contacts_cli.intrinsics import Unresolved


def declarations(directory: Path, *stacks: str, caller: str = CALLER) -> tuple[list[Declaration], list[str]]:
    assembly = CloudAssembly(directory)
    found = read_declarations(assembly.select(list(stacks)), caller_account=caller, partition="aws")
    return found.contacts, found.notes


def nested_stack(template_file: str, object_key: str, **properties: Any) -> dict[str, Any]:
    """An AWS::CloudFormation::Stack resource as CDK writes it: the TemplateURL ends with the asset's key."""
    url = {
        "Fn::Join": [
            "",
            ["https://s3.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}, f"/bucket/{object_key}"],
        ]
    }
    return {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": url, **properties},
        "Metadata": {"aws:asset:path": template_file},
    }


def assets(*entries: tuple[str, str]) -> dict[str, Any]:
    """An assets manifest listing nested templates: (file, object key)."""
    return {
        "version": "55.0.0",
        "files": {
            key: {"source": {"path": path, "packaging": "file"}, "destinations": {"d": {"objectKey": key}}}
            for path, key in entries
        },
    }


def test_parameters_passed_to_a_nested_stack_and_pseudo_parameters_are_evaluated(tmp_path: Path) -> None:
    # GIVEN a nested stack whose AccountId comes from its parent, and whose email embeds the deploying account
    nested = {
        "Parameters": {"Member": {"Type": "String"}, "Team": {"Type": "String", "Default": "sec"}},
        "Resources": {
            "Contact": contact_resource(
                "SECURITY",
                {**SECURITY, "EmailAddress": {"Fn::Sub": "${Team}+${AWS::AccountId}@example.com"}},
                AccountId={"Ref": "Member"},
            )
        },
    }
    parent = {"Resources": {"Nested": nested_stack("Nested.json", "abc.json", Parameters={"Member": "444444444444"})}}
    write_assembly(
        tmp_path,
        {"Parent": {"template": parent, "assets": assets(("Nested.json", "abc.json"))}},
        **{"Nested.json": nested},
    )

    # WHEN the declarations are read
    contacts, notes = declarations(tmp_path)

    # THEN the parameter's value and default, and the deploying account, are filled in
    assert notes == []
    assert [(c.account, c.contact_type, c.details["EmailAddress"], c.plannable) for c in contacts] == [
        ("444444444444", "SECURITY", f"sec+{CALLER}@example.com", True)
    ]
    assert contacts[0].declared_by == "Parent/Nested/Contact"


def test_a_nested_template_outside_the_assembly_is_noted_not_guessed(tmp_path: Path) -> None:
    parent = {
        "Resources": {
            "External": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {"TemplateURL": "https://example.com/t.json"},
            }
        }
    }
    write_assembly(tmp_path, {"Parent": {"template": parent}})

    contacts, notes = declarations(tmp_path)

    assert contacts == []
    assert notes == [
        "nested stack Parent/External: its template is not in the cloud assembly; "
        "contacts it may declare are not checked"
    ]


def test_stacks_of_a_stage_are_named_like_the_cdk_cli_names_them(tmp_path: Path) -> None:
    # GIVEN an app with a Stage: its stacks sit in an assembly of their own
    stage = write_assembly(
        tmp_path / "assembly-Prod",
        {"Contacts": {"template": {"Resources": {"S": contact_resource("SECURITY", SECURITY)}}}},
    )
    manifest = {
        "version": "55.0.0",
        "artifacts": {
            "Prod": {"type": "cdk:cloud-assembly", "properties": {"directoryName": stage.name, "displayName": "Prod"}}
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))

    # WHEN the user selects it with a pattern
    contacts, _ = declarations(tmp_path, "Prod/*")

    # THEN it is found, under the Stage's name
    assert [(c.stack, c.account) for c in contacts] == [("Prod/Contacts", CALLER)]


def test_a_stage_stack_is_found_by_its_cloudformation_name_with_its_templates_and_code(tmp_path: Path) -> None:
    # GIVEN a Stage whose stack has a nested stack and a function, both file assets of the stack
    stage = tmp_path / "assembly-Prod"
    (stage / "asset.code").mkdir(parents=True)
    nested = {"Resources": {"S": contact_resource("SECURITY", SECURITY)}}
    code_asset = {"source": {"path": "asset.code", "packaging": "zip"}, "destinations": {"d": {"objectKey": "c.zip"}}}
    manifest = assets(("Nested.json", "n.json"))
    manifest["files"]["c.zip"] = code_asset
    parent = {"Resources": {"Nested": nested_stack("Nested.json", "n.json")}}
    write_assembly(stage, {"Contacts": {"template": parent, "assets": manifest}}, **{"Nested.json": nested})
    stage_manifest = json.loads((stage / "manifest.json").read_text())
    stage_manifest["artifacts"]["Contacts"]["properties"]["stackName"] = "Prod-Contacts"
    (stage / "manifest.json").write_text(json.dumps(stage_manifest))
    top = {"Prod": {"type": "cdk:cloud-assembly", "properties": {"directoryName": stage.name, "displayName": "Prod"}}}
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": top}))

    # WHEN the assembly is read as localdeploy reads it: by CloudFormation stack name
    assembly = CloudAssembly(tmp_path)
    stack = assembly.stack("Prod-Contacts")

    # THEN the stack, its nested template (by TemplateURL, as the CDK writes it) and its code are found
    assert (stack.name, stack.stack_name) == ("Prod/Contacts", "Prod-Contacts")
    url = parent["Resources"]["Nested"]["Properties"]["TemplateURL"]
    assert assembly.nested_template("Prod-Contacts", url) == nested
    assert stack.nested_templates() == {"Nested": nested}
    assert assembly.asset_dir("Prod-Contacts", "c.zip") == (stage / "asset.code").resolve()
    with pytest.raises(AssemblyError, match="no stack Contacts-Prod"):
        assembly.stack("Contacts-Prod")


def test_a_stack_bound_to_another_account_is_read_with_that_account_and_noted(tmp_path: Path) -> None:
    template = {"Resources": {"S": contact_resource("SECURITY", SECURITY)}}
    write_assembly(tmp_path, {"Workload": {"template": template, "environment": "aws://555555555555/eu-west-1"}})

    contacts, notes = declarations(tmp_path)

    assert [c.account for c in contacts] == ["555555555555"]
    assert notes == [
        f"stack Workload deploys to account 555555555555; its contacts are read from account {CALLER} with AccountId "
        "(use --profile for 555555555555 to read them as the deploy would)"
    ]


def test_values_known_only_at_deploy_time_are_named_per_field(tmp_path: Path) -> None:
    # GIVEN an account from another resource's attribute, a name from an import, a conditional resource
    template = {
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
        "Resources": {
            "S": {
                **contact_resource(
                    "SECURITY",
                    {**SECURITY, "Name": {"Fn::ImportValue": "SecurityLead"}, "Title": {"Ref": "Env"}},
                    AccountId={"Fn::GetAtt": ["Account", "AccountId"]},
                ),
                "Condition": "IsProd",
            }
        },
    }
    write_assembly(tmp_path, {"Stack": {"template": template}})

    contacts, _ = declarations(tmp_path)

    assert isinstance(contacts[0].account, Unresolved)
    assert contacts[0].unresolved == (
        "created only if condition IsProd holds (decided at deploy time)",
        "AccountId: Fn::GetAtt Account.AccountId (known after deploy)",
        "Name: Fn::ImportValue (known after deploy)",
        "Title: parameter Env (given at deploy time)",
    )
    assert contacts[0].invalid == ()


def test_a_decidable_fn_if_is_evaluated_as_cloudformation_will(tmp_path: Path) -> None:
    # GIVEN a contact whose title depends on a condition over the deploying account (known before the deploy)
    # and whose name depends on a condition over a top-level parameter (given only at deploy time)
    template = {
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
        "Conditions": {
            "InOwnAccount": {"Fn::Equals": [{"Ref": "AWS::AccountId"}, CALLER]},
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        },
        "Resources": {
            "S": contact_resource(
                "SECURITY",
                {
                    **SECURITY,
                    "Title": {"Fn::If": ["InOwnAccount", "Own CISO", "Member CISO"]},
                    "Name": {"Fn::If": ["IsProd", "Prod lead", "Dev lead"]},
                },
            )
        },
    }
    write_assembly(tmp_path, {"Stack": {"template": template}})

    # WHEN the declarations are read
    contacts, _ = declarations(tmp_path)

    # THEN the first is decided, as the local engine and CloudFormation decide it; the second names its parameter
    assert contacts[0].details["Title"] == "Own CISO"
    assert contacts[0].unresolved == ("Name: parameter Env (given at deploy time)",)


def test_a_resource_condition_known_before_the_deploy_is_decided(tmp_path: Path) -> None:
    # GIVEN contacts created under conditions over the deploying account, which the tool knows
    template = {
        "Conditions": {
            "InOwnAccount": {"Fn::Equals": [{"Ref": "AWS::AccountId"}, CALLER]},
            "Elsewhere": {"Fn::Not": [{"Condition": "InOwnAccount"}]},
        },
        "Resources": {
            "Own": {**contact_resource("SECURITY", SECURITY), "Condition": "InOwnAccount"},
            "Other": {**contact_resource("BILLING", SECURITY), "Condition": "Elsewhere"},
        },
    }
    write_assembly(tmp_path, {"Stack": {"template": template}})

    # WHEN the declarations are read
    contacts, notes = declarations(tmp_path)

    # THEN the one whose condition holds is declared like any other, the other is not created (and said so)
    assert [(c.declared_by, c.plannable, c.location and c.location.condition) for c in contacts] == [
        ("Stack/Own", True, None)
    ]
    assert notes == ["Stack/Other is not created: its condition Elsewhere is false"]


def test_values_the_api_would_reject_are_named_with_the_shared_rules_without_quoting_them(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "One": contact_resource("SECURITY", {**SECURITY, "EmailAddress": "not-an-email"}, AccountId="12345"),
            "Many": {
                "Type": "Custom::AlternateContacts",
                "Properties": {
                    "AlternateContacts": {"LEGAL": SECURITY, "BILLING": {**SECURITY, "PhoneNumber": "call me"}}
                },
            },
        }
    }
    write_assembly(tmp_path, {"Stack": {"template": template}})

    contacts, _ = declarations(tmp_path)

    invalid = {(c.declared_by, str(c.contact_type)): c.invalid for c in contacts}
    assert invalid == {
        ("Stack/One", "SECURITY"): (
            "AccountId must be exactly 12 digits (got '12345')",
            "EmailAddress must be an ASCII email address, name@domain.tld",
        ),
        ("Stack/Many", "LEGAL"): ("AlternateContactType must be one of BILLING, OPERATIONS, SECURITY (got 'LEGAL')",),
        ("Stack/Many", "BILLING"): ("PhoneNumber must be digits, spaces and ( ) + - only",),
    }
    assert "not-an-email" not in repr(invalid) and "call me" not in repr(invalid)


def test_a_folder_without_manifest_is_not_an_assembly(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match="run `cdk synth` first"):
        CloudAssembly(tmp_path)
