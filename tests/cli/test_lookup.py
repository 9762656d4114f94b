"""``lookup``: the organization's structure recorded in cdk.context.json, read from moto_server's Organizations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_support import Cli

from cdk_alternate_contacts.structure import CONTEXT_KEY, OrganizationStructure


def test_lookup_records_every_account_and_unit_and_keeps_the_other_context_keys(
    cli: Cli, aws: Any, tmp_path: Path
) -> None:
    # GIVEN an organization with a unit nested in another, an account in each and one in the root, and an
    # app's context file that already holds a CDK lookup
    organizations = aws("organizations")
    organization_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = organizations.list_roots()["Roots"][0]["Id"]
    workloads = organizations.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    payments = organizations.create_organizational_unit(ParentId=workloads, Name="payments")["OrganizationalUnit"]["Id"]
    accounts = {}
    for name, parent in (("prod", payments), ("tools", workloads), ("loose", root)):
        account = organizations.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        accounts[name] = account["AccountId"]
        if parent != root:
            organizations.move_account(AccountId=account["AccountId"], SourceParentId=root, DestinationParentId=parent)
    context_file = tmp_path / "cdk.context.json"
    context_file.write_text(json.dumps({"availability-zones:account=111111111111:region=us-east-1": ["us-east-1a"]}))

    # WHEN the user records the structure
    result = cli("lookup", "--context-file", context_file)

    # THEN it exits 0 and says what it recorded, in ids and counts only
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Recorded the structure of {organization_id} (root {root}): 4 accounts in 2 organizational units" in (
        result.stdout
    )
    # AND the file keeps the other key and holds a structure the constructs read, each account on its path
    context = json.loads(context_file.read_text())
    assert "availability-zones:account=111111111111:region=us-east-1" in context
    structure = OrganizationStructure.from_context(context[CONTEXT_KEY])
    assert structure.organization_id == organization_id
    assert structure.path_of(accounts["prod"]) == (workloads, payments)
    assert structure.path_of(accounts["tools"]) == (workloads,)
    assert structure.path_of(accounts["loose"]) == ()
    assert len([c for c in structure.parents if not c.startswith("ou-")]) == 4  # with the management account
    # AND the units' names are recorded as labels
    assert structure.unit_names == {workloads: "workloads", payments: "payments"}

    # WHEN an account moves and the user looks up again THEN the new unit is recorded
    organizations.move_account(AccountId=accounts["loose"], SourceParentId=root, DestinationParentId=payments)
    assert cli("lookup", "--context-file", context_file).returncode == 0
    again = OrganizationStructure.from_context(json.loads(context_file.read_text())[CONTEXT_KEY])
    assert again.path_of(accounts["loose"]) == (workloads, payments)


def test_lookup_outside_an_organization_exits_3_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    context_file = tmp_path / "cdk.context.json"
    result = cli("lookup", "--context-file", context_file)
    assert result.returncode == 3
    assert "not a member of an organization" in result.stderr
    assert not context_file.exists()


def test_lookup_leaves_a_context_file_that_is_not_json_as_it_is(cli: Cli, aws: Any, tmp_path: Path) -> None:
    aws("organizations").create_organization(FeatureSet="ALL")
    context_file = tmp_path / "cdk.context.json"
    context_file.write_text("{not json")
    result = cli("lookup", "--context-file", context_file)
    assert result.returncode == 3
    assert f"{context_file}: not valid JSON" in result.stderr
    assert context_file.read_text() == "{not json"
