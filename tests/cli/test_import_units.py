"""``import --organizational-units``: values an organizational unit's accounts share become the unit's rule.

The rule is pure (``importer.choose`` with the organization's structure) and tested here without AWS, each file
also read back with the construct library's reader and resolved with the structure (``importer.check``, what
the command does before writing). The command itself runs against moto_server, and its file is synthesized
with the real ``OrganizationContacts.from_file`` with the recorded structure as the app's context, then
planned and drift-checked against the same accounts.
"""

from __future__ import annotations

import json
import random
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_support import (
    CALLER,
    Cli,
    FrontedAccountApi,
    Synthesizer,
    assert_deploys_unchanged,
    offline_environment,
    put,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sample_contacts import BILLING, OPERATIONS, SECURITY

from cdk_alternate_contacts.model import ContactsModelError
from cdk_alternate_contacts.structure import CONTEXT_KEY, OrganizationStructure
from cdk_alternate_contacts_cli.importer import ImportCheckError, ImportedContacts, check, choose, render
from cdk_alternate_contacts_handler.organizations import OrgAccount

TYPES = ("BILLING", "OPERATIONS", "SECURITY")

#: The payments unit's operations contact: another address and name than the default's.
PAYMENTS_OPERATIONS = {**OPERATIONS, "EmailAddress": "payments-ops@example.com", "Name": "Payments on-call"}
#: One payments account's own operations contact: the default's but for its address.
PAY_C_OPERATIONS = {**OPERATIONS, "EmailAddress": "pay-c-ops@example.com"}
#: Another operations contact, every field different.
OTHER_OPERATIONS = {
    "EmailAddress": "noc@example.org",
    "Name": "Network operations",
    "PhoneNumber": "+44 20 7946 0958",
    "Title": "NOC",
}

ROOT = "r-ab12"
WORKLOADS, PAYMENTS, SANDBOX, SOLO = "ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb", "ou-ab12-cccccccc", "ou-ab12-dddddddd"


def structure(parents: Mapping[str, str], names: Mapping[str, str] | None = None) -> OrganizationStructure:
    """A structure of the units (workloads > payments, sandbox, solo under the root) and ``parents``."""
    units = {WORKLOADS: ROOT, PAYMENTS: WORKLOADS, SANDBOX: ROOT, SOLO: ROOT}
    return OrganizationStructure("o-abcdefghij", ROOT, {**units, **parents}, "2026-12-02T00:00:00Z", names or {})


def accounts(*ids: str) -> list[OrgAccount]:
    return [OrgAccount(account_id, f"name-{account_id}", "ACTIVE") for account_id in ids]


def live_of(ids: list[str], **by_type: Mapping[str, Mapping[str, str] | None]) -> dict[tuple[str, str], Any]:
    """Every account's contacts: ``by_type`` maps a type to account id -> details (left out: none)."""
    return {(a, t): by_type.get(t, {}).get(a) for a in ids for t in TYPES}


def reproduces(imported: ImportedContacts, live: Mapping[tuple[str, str], Any], org: OrganizationStructure) -> None:
    """Read the file back with the library's reader, resolved with ``org``: every account gets its live
    contacts (``check`` raises otherwise), in TOML and in JSON."""
    ids = [entry.account.account_id for entry in imported.accounts]
    with tempfile.TemporaryDirectory() as folder:
        for suffix in ("toml", "json"):
            path = Path(folder) / f"contacts.{suffix}"
            path.write_text(render(imported, suffix, ["test"]))
            check(path, live, ids, source=str(path), structure=org)


def entries(imported: ImportedContacts) -> dict[str, tuple[dict[str, dict[str, str]], tuple[str, ...]]]:
    """The accounts that depart from what their path gives: id -> (overrides, opt-outs)."""
    return {e.account.account_id: (e.overrides, e.opt_out) for e in imported.accounts if e.overrides or e.opt_out}


def test_a_value_most_of_a_units_accounts_share_becomes_its_rule_and_nested_units_inherit_it() -> None:
    # GIVEN the default OPERATIONS in the root's 4 accounts, and in workloads 3 of 5 accounts (at any depth)
    # sharing PAYMENTS_OPERATIONS: one directly in workloads, two in payments under it
    root_ids = ["100000000001", "100000000002", "100000000003", "100000000004"]
    workloads_ids = ["200000000001", "200000000002"]
    payments_ids = ["300000000001", "300000000002", "300000000003"]
    ids = root_ids + workloads_ids + payments_ids
    org = structure(
        {
            **dict.fromkeys(root_ids, ROOT),
            **dict.fromkeys(workloads_ids, WORKLOADS),
            **dict.fromkeys(payments_ids, PAYMENTS),
        },
        {WORKLOADS: "workloads"},
    )
    operations = {
        **dict.fromkeys(root_ids, OPERATIONS),
        "200000000001": PAYMENTS_OPERATIONS,
        "200000000002": OPERATIONS,
        "300000000001": PAYMENTS_OPERATIONS,
        "300000000002": PAYMENTS_OPERATIONS,
        "300000000003": PAY_C_OPERATIONS,
    }
    live = live_of(ids, OPERATIONS=operations, SECURITY=dict.fromkeys(ids, SECURITY))

    # WHEN the file is chosen with the structure
    imported = choose(accounts(*ids), live, org)

    # THEN the default is the organization's most common value, as without units
    assert imported.types[1].default == OPERATIONS
    # AND workloads (3 of its 5 accounts) overrides operations with the fields that differ from the default;
    # payments, whose most common value is the one it inherits from workloads, gets no rule
    assert [(u.unit_id, u.name, u.accounts, u.overrides, u.opt_out) for u in imported.units] == [
        (
            WORKLOADS,
            "workloads",
            5,
            {"OPERATIONS": {"EmailAddress": "payments-ops@example.com", "Name": "Payments on-call"}},
            (),
        )
    ]
    # AND the accounts that differ from what their path gives override it, relative to the default (the file
    # takes missing fields from the default, not from the unit's rule): the workloads account with the
    # default gives every field (it is the default's value), the payments account with its own address gives
    # only that
    assert entries(imported) == {
        "200000000002": ({"OPERATIONS": OPERATIONS}, ()),
        "300000000003": ({"OPERATIONS": {"EmailAddress": "pay-c-ops@example.com"}}, ()),
    }
    reproduces(imported, live, org)


def test_a_nested_unit_gets_its_own_rule_over_its_parents() -> None:
    # GIVEN workloads' accounts mostly sharing PAYMENTS_OPERATIONS, and payments under it mostly OTHER_OPERATIONS
    workloads_ids = ["200000000001", "200000000002", "200000000003"]
    payments_ids = ["300000000001", "300000000002", "300000000003"]
    ids = ["100000000001", *workloads_ids, *payments_ids]
    org = structure(
        {"100000000001": ROOT, **dict.fromkeys(workloads_ids, WORKLOADS), **dict.fromkeys(payments_ids, PAYMENTS)}
    )
    operations = {
        "100000000001": OPERATIONS,
        **dict.fromkeys(workloads_ids, PAYMENTS_OPERATIONS),
        "300000000001": OTHER_OPERATIONS,
        "300000000002": OTHER_OPERATIONS,
        "300000000003": PAYMENTS_OPERATIONS,
    }
    live = live_of(ids, OPERATIONS=operations)

    imported = choose(accounts(*ids), live, org)

    # THEN the organization's default is PAYMENTS_OPERATIONS (4 of 7); workloads inherits it (4 of 6) and has
    # no rule; payments overrides it with OTHER_OPERATIONS, every field of which differs from the default
    assert imported.types[1].default == PAYMENTS_OPERATIONS
    assert [(u.unit_id, u.overrides) for u in imported.units] == [(PAYMENTS, {"OPERATIONS": OTHER_OPERATIONS})]
    # AND the root account and the payments account with the default's value override
    assert entries(imported) == {
        "100000000001": ({"OPERATIONS": {"EmailAddress": "cloud-ops@example.com", "Name": "Platform on-call"}}, ()),
        "300000000003": ({"OPERATIONS": PAYMENTS_OPERATIONS}, ()),
    }
    reproduces(imported, live, org)


def test_a_tie_in_a_unit_keeps_the_inherited_value() -> None:
    # GIVEN sandbox's 4 accounts: 2 with the default, 2 sharing another value
    sandbox_ids = ["400000000001", "400000000002", "400000000003", "400000000004"]
    ids = ["100000000001", "100000000002", "100000000003", *sandbox_ids]
    org = structure({**dict.fromkeys(ids[:3], ROOT), **dict.fromkeys(sandbox_ids, SANDBOX)})
    operations = {**dict.fromkeys(ids, OPERATIONS), "400000000001": OTHER_OPERATIONS, "400000000002": OTHER_OPERATIONS}
    live = live_of(ids, OPERATIONS=operations)

    imported = choose(accounts(*ids), live, org)

    # THEN sandbox gets no rule (the inherited value wins the tie): its two other accounts override
    assert imported.units == ()
    assert entries(imported) == {
        "400000000001": ({"OPERATIONS": OTHER_OPERATIONS}, ()),
        "400000000002": ({"OPERATIONS": OTHER_OPERATIONS}, ()),
    }
    reproduces(imported, live, org)


def test_a_tie_between_two_values_the_unit_does_not_inherit_goes_to_the_lowest_account_id() -> None:
    # GIVEN sandbox's 4 accounts, none with the default: the two higher ids share OTHER_OPERATIONS and the
    # two lower ids PAYMENTS_OPERATIONS
    sandbox_ids = ["400000000004", "400000000003", "400000000002", "400000000001"]
    ids = ["100000000001", "100000000002", "100000000003", "100000000004", "100000000005", *sandbox_ids]
    org = structure({**dict.fromkeys(ids[:5], ROOT), **dict.fromkeys(sandbox_ids, SANDBOX)})
    operations = {
        **dict.fromkeys(ids[:5], OPERATIONS),
        "400000000004": OTHER_OPERATIONS,
        "400000000003": OTHER_OPERATIONS,
        "400000000002": PAYMENTS_OPERATIONS,
        "400000000001": PAYMENTS_OPERATIONS,
    }
    live = live_of(ids, OPERATIONS=operations)

    # WHEN chosen, whatever the order the accounts are listed in
    imported = choose(accounts(*ids), live, org)
    assert choose(list(reversed(accounts(*ids))), live, org) == imported

    # THEN sandbox's rule is the value of its lowest account id
    assert [(u.unit_id, u.overrides) for u in imported.units] == [
        (SANDBOX, {"OPERATIONS": {"EmailAddress": "payments-ops@example.com", "Name": "Payments on-call"}})
    ]
    assert entries(imported) == {
        "400000000003": ({"OPERATIONS": OTHER_OPERATIONS}, ()),
        "400000000004": ({"OPERATIONS": OTHER_OPERATIONS}, ()),
    }
    reproduces(imported, live, org)


def test_a_unit_of_one_account_gets_no_rule() -> None:
    # GIVEN solo's only account with its own operations contact
    ids = ["100000000001", "100000000002", "500000000001"]
    org = structure({"100000000001": ROOT, "100000000002": ROOT, "500000000001": SOLO})
    live = live_of(ids, OPERATIONS={**dict.fromkeys(ids[:2], OPERATIONS), "500000000001": OTHER_OPERATIONS})

    imported = choose(accounts(*ids), live, org)

    # THEN one account is an override, not a rule
    assert imported.units == ()
    assert entries(imported) == {"500000000001": ({"OPERATIONS": OTHER_OPERATIONS}, ())}
    reproduces(imported, live, org)


def test_no_contact_counts_as_a_value_a_unit_opts_out_of_and_a_deeper_unit_takes_back() -> None:
    # GIVEN SECURITY everywhere but in workloads, where 3 of its 5 accounts have none; in payments under it
    # 2 of 3 have the default again
    root_ids = ["100000000001", "100000000002", "100000000003", "100000000004"]
    workloads_ids = ["200000000001", "200000000002"]
    payments_ids = ["300000000001", "300000000002", "300000000003"]
    ids = root_ids + workloads_ids + payments_ids
    org = structure(
        {
            **dict.fromkeys(root_ids, ROOT),
            **dict.fromkeys(workloads_ids, WORKLOADS),
            **dict.fromkeys(payments_ids, PAYMENTS),
        }
    )
    security = {**dict.fromkeys(root_ids, SECURITY), "300000000001": SECURITY, "300000000002": SECURITY}
    live = live_of(ids, SECURITY=security)

    imported = choose(accounts(*ids), live, org)

    # THEN workloads opts out of security (3 of its 5 accounts have none)
    assert [(u.unit_id, u.overrides, u.opt_out) for u in imported.units] == [
        (WORKLOADS, {}, ("SECURITY",)),
        # AND payments gives the default back: an override equal to the default lists every field
        (PAYMENTS, {"SECURITY": SECURITY}, ()),
    ]
    # AND the payments account without security opts out of it
    assert entries(imported) == {"300000000003": ({}, ("SECURITY",))}
    reproduces(imported, live, org)


def test_no_contact_loses_to_a_value_held_by_more_accounts_of_the_unit() -> None:
    # GIVEN sandbox's 3 accounts: 1 without security, 2 with the default
    ids = ["100000000001", "400000000001", "400000000002", "400000000003"]
    org = structure({"100000000001": ROOT, **dict.fromkeys(ids[1:], SANDBOX)})
    live = live_of(ids, SECURITY={a: SECURITY for a in ids if a != "400000000001"})

    imported = choose(accounts(*ids), live, org)

    # THEN no rule; the one account opts out
    assert imported.units == ()
    assert entries(imported) == {"400000000001": ({}, ("SECURITY",))}


def test_a_type_without_a_default_gets_a_units_rule_with_every_field() -> None:
    # GIVEN BILLING held only by sandbox's 2 accounts, so the organization has no default for it
    ids = ["100000000001", "100000000002", "100000000003", "400000000001", "400000000002"]
    org = structure({**dict.fromkeys(ids[:3], ROOT), "400000000001": SANDBOX, "400000000002": SANDBOX})
    live = live_of(ids, BILLING={"400000000001": BILLING, "400000000002": BILLING})

    imported = choose(accounts(*ids), live, org)

    # THEN sandbox's rule gives all four fields, and no account needs an entry
    assert imported.types[0].default is None
    assert [(u.unit_id, u.overrides) for u in imported.units] == [(SANDBOX, {"BILLING": BILLING})]
    assert entries(imported) == {}
    assert imported.data()["organizational_units"] == [
        {
            "id": SANDBOX,
            "overrides": {
                "billing": {
                    "email_address": "finance@example.com",
                    "name": "Finance Department",
                    "phone_number": "+1 206 555 0102",
                    "title": "Accounts payable",
                }
            },
        }
    ]
    reproduces(imported, live, org)


def test_the_check_resolves_with_the_structure_and_fails_when_it_places_an_account_elsewhere(tmp_path: Path) -> None:
    # GIVEN a file whose sandbox rule opts out of security, chosen with the structure
    ids = ["100000000001", "100000000002", "100000000003", "400000000001", "400000000002"]
    org = structure({**dict.fromkeys(ids[:3], ROOT), "400000000001": SANDBOX, "400000000002": SANDBOX})
    live = live_of(ids, SECURITY=dict.fromkeys(ids[:3], SECURITY))
    imported = choose(accounts(*ids), live, org)
    assert [u.opt_out for u in imported.units] == [("SECURITY",)]
    path = tmp_path / "contacts.toml"
    path.write_text(render(imported, "toml", ["test"]))

    # WHEN checked with the structure THEN it passes
    check(path, live, ids, source="contacts.toml", structure=org)
    # WHEN checked with a structure in which a sandbox account sits in the root THEN the slot is named
    moved = structure({**dict.fromkeys(ids[:4], ROOT), "400000000002": SANDBOX})
    with pytest.raises(ImportCheckError, match="400000000001/SECURITY"):
        check(path, live, ids, source="contacts.toml", structure=moved)
    # AND without a structure the library refuses the units' rules
    with pytest.raises(ContactsModelError, match="cdk-alternate-contacts lookup"):
        check(path, live, ids, source="contacts.toml")


#: The values a generated organization draws from, per slot: no contact, or one of three.
POOL = (None, OPERATIONS, PAYMENTS_OPERATIONS, OTHER_OPERATIONS)


@settings(max_examples=120, deadline=None)
@given(
    placement=st.lists(st.sampled_from([ROOT, WORKLOADS, PAYMENTS, SANDBOX, SOLO]), min_size=1, max_size=9),
    picks=st.lists(st.integers(0, len(POOL) - 1), min_size=27, max_size=27),
    seed=st.integers(0, 2**16),
)
def test_any_organization_is_reproduced_by_its_file_and_chosen_the_same_whatever_the_order(
    placement: list[str], picks: list[int], seed: int
) -> None:
    # GIVEN an organization of up to 9 accounts anywhere in the units, each slot drawing from the pool
    ids = [f"{index + 1:012d}" for index in range(len(placement))]
    org = structure(dict(zip(ids, placement, strict=True)))
    live = {(a, t): POOL[picks[i * 3 + j]] for i, a in enumerate(ids) for j, t in enumerate(TYPES)}
    shuffled = accounts(*ids)
    random.Random(seed).shuffle(shuffled)

    # WHEN chosen
    imported = choose(accounts(*ids), live, org)

    # THEN the file gives every account exactly its live contacts, with the structure
    reproduces(imported, live, org)
    # AND the choice does not depend on the order Organizations lists the accounts in
    assert choose(shuffled, live, org) == imported
    # AND every unit's rule is shared by at least 2 of its accounts
    assert all(unit.accounts >= 2 for unit in imported.units)


@dataclass(frozen=True)
class UnitsOrganization:
    """The arranged organization: its id, root, units and member account ids by name."""

    organization_id: str
    root: str
    units: dict[str, str]
    members: dict[str, str]

    def active(self) -> list[str]:
        """The ACTIVE accounts' ids, the management account included."""
        return sorted([CALLER, *(a for name, a in self.members.items() if name != "closed")])

    def live(self) -> dict[tuple[str, str], dict[str, str]]:
        """Every contact of the ACTIVE accounts, (account, type) -> details."""
        contacts: dict[tuple[str, str], dict[str, str]] = {}
        for account in self.active():
            name = next((n for n, a in self.members.items() if a == account), "master")
            contacts[(account, "BILLING")] = BILLING
            contacts[(account, "OPERATIONS")] = {"pay-a": PAYMENTS_OPERATIONS, "pay-b": PAYMENTS_OPERATIONS}.get(
                name, PAY_C_OPERATIONS if name == "pay-c" else OPERATIONS
            )
            if not name.startswith("sb-"):
                contacts[(account, "SECURITY")] = SECURITY
        return contacts


def arrange_units(aws: Any) -> UnitsOrganization:
    """An organization managed by the caller: workloads (two accounts) holding payments (three), sandbox (two
    ACTIVE and a SUSPENDED one), and tools in the root. Every account has BILLING and the default OPERATIONS
    and SECURITY contacts, except: pay-a and pay-b share PAYMENTS_OPERATIONS, pay-c has its own operations
    address, and sandbox's accounts have no SECURITY contact."""
    client = aws("organizations")
    organization_id = client.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = client.list_roots()["Roots"][0]["Id"]

    def unit(name: str, parent: str) -> str:
        return str(client.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"])

    units = {"workloads": unit("workloads", root)}
    units["payments"] = unit("payments", units["workloads"])
    units["sandbox"] = unit("sandbox", root)
    placement = {
        "tools": root,
        "shared-1": units["workloads"],
        "shared-2": units["workloads"],
        "pay-a": units["payments"],
        "pay-b": units["payments"],
        "pay-c": units["payments"],
        "sb-1": units["sandbox"],
        "sb-2": units["sandbox"],
        "closed": units["sandbox"],
    }
    members = {}
    for name, parent in placement.items():
        account = client.create_account(Email=f"{name}-root@example.net", AccountName=name)["CreateAccountStatus"]
        members[name] = account["AccountId"]
        if parent != root:
            client.move_account(AccountId=members[name], SourceParentId=root, DestinationParentId=parent)
    org = UnitsOrganization(organization_id, root, units, members)
    put(aws, org.live())
    # The closed account had another SECURITY contact: it is neither imported nor counted in sandbox.
    put(aws, {(members["closed"], "SECURITY"): OTHER_OPERATIONS})
    client.close_account(AccountId=members["closed"])
    return org


#: Every clear-text detail of the organization: none may reach the terminal.
DETAILS = sorted(
    {
        value
        for details in (SECURITY, OPERATIONS, BILLING, PAYMENTS_OPERATIONS, PAY_C_OPERATIONS)
        for value in details.values()
    }
)


def file_details(details: Mapping[str, str]) -> dict[str, str]:
    """Details as the file writes them."""
    names = {"EmailAddress": "email_address", "Name": "name", "PhoneNumber": "phone_number", "Title": "title"}
    return {names[api]: value for api, value in details.items()}


def table_after(lines: list[str], heading: str) -> list[list[str]]:
    """The rows of the table whose header starts with ``heading``, cut at the header's columns."""
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    header = lines[start]
    columns = [i for i, char in enumerate(header) if char != " " and (i == 0 or header[i - 2 : i] == "  ")]
    found = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        found.append([line[a:b].strip() for a, b in zip(columns, [*columns[1:], None], strict=True)])
    return found


def test_import_with_organizational_units_writes_the_units_rules_and_records_the_structure(
    cli: Cli, aws: Any, tmp_path: Path
) -> None:
    # GIVEN the organization, and an app's context file that already holds a CDK lookup
    org = arrange_units(aws)
    members, units = org.members, org.units
    out = tmp_path / "contacts.toml"
    context_file = tmp_path / "cdk.context.json"
    context_file.write_text(json.dumps({"availability-zones:account=111111111111:region=us-east-1": ["us-east-1a"]}))

    # WHEN the user imports it with the organizational units
    result = cli("import", "--out", out, "--organizational-units", "--context-file", context_file)

    # THEN it exits 0 and the file holds the defaults, payments' operations (the fields that differ from the
    # default) and sandbox's opt-out of security, parents first and siblings by id; workloads, whose accounts
    # are split 2 to 2 between the default and payments' value, keeps the default (a tie)
    assert result.returncode == 0, result.stdout + result.stderr
    data = tomllib.loads(out.read_text())
    assert data["defaults"] == {
        "billing": file_details(BILLING),
        "operations": file_details(OPERATIONS),
        "security": file_details(SECURITY),
    }
    payments_rule = {
        "id": units["payments"],
        "name": "payments",
        "overrides": {"operations": {"email_address": "payments-ops@example.com", "name": "Payments on-call"}},
    }
    sandbox_rule = {"id": units["sandbox"], "name": "sandbox", "opt_out": ["security"]}
    first_payments = units["workloads"] < units["sandbox"]
    assert data["organizational_units"] == (
        [payments_rule, sandbox_rule] if first_payments else [sandbox_rule, payments_rule]
    )
    # AND every ACTIVE account is listed by id with its name; only pay-c departs from what its units give it,
    # with its own address (the other fields come from the default)
    names = {account: name for name, account in members.items()} | {CALLER: "master"}
    expected = [{"account_id": account, "name": names[account]} for account in org.active()]
    for entry in expected:
        if entry["name"] == "pay-c":
            entry["overrides"] = {"operations": {"email_address": "pay-c-ops@example.com"}}
    assert data["accounts"] == expected
    # AND the file's comment says the units' rules apply by the recorded structure
    assert "# An organizational unit's rule holds what most of its accounts share" in out.read_text()

    # AND the structure was recorded as lookup records it, the other key kept, every account on its path
    context = json.loads(context_file.read_text())
    assert "availability-zones:account=111111111111:region=us-east-1" in context
    recorded = OrganizationStructure.from_context(context[CONTEXT_KEY])
    assert recorded.organization_id == org.organization_id
    assert recorded.path_of(members["pay-c"]) == (units["workloads"], units["payments"])
    assert recorded.path_of(members["closed"]) == (units["sandbox"],)
    assert recorded.path_of(CALLER) == ()
    assert recorded.unit_names == {units[name]: name for name in units}

    # AND the summary lists each unit with a rule: id, name, types, the ACTIVE accounts it covers; no detail
    lines = result.stdout.splitlines()
    unit_rows = [
        [units["payments"], "payments", "3", "OPERATIONS (email_address, name)", ""],
        [units["sandbox"], "sandbox", "2", "", "SECURITY"],
    ]
    assert table_after(lines, "ORGANIZATIONAL UNIT") == (unit_rows if first_payments else unit_rows[::-1])
    assert table_after(lines, "ACCOUNT ") == [[members["pay-c"], "pay-c", "OPERATIONS (email_address)", ""]]
    assert "8 accounts need no override or opt-out: the defaults and the units' rules give them their contacts." in (
        lines
    )
    assert (
        f"Recorded the structure of {org.organization_id} (root {org.root}): 10 accounts in 3 organizational units, "
        f"in {context_file} under {CONTEXT_KEY}."
    ) in lines
    assert "account under the unit the file assumes. Run the lookup again after accounts move." in lines
    leaked = [detail for detail in DETAILS if detail in result.stdout + result.stderr]
    assert leaked == []


def test_a_file_imported_with_units_deployed_with_the_recorded_structure_changes_nothing(
    cli: Cli, aws: Any, tmp_path: Path, synthesizer: Synthesizer
) -> None:
    # GIVEN the organization, imported with its units in an app's folder (cdk.context.json by default)
    org = arrange_units(aws)
    imported = cli("import", "--organizational-units", cwd=tmp_path)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert tomllib.loads((tmp_path / "contacts.toml").read_text())["organizational_units"]

    # WHEN the file is synthesized with OrganizationContacts.from_file, the app's context read from that folder
    cdk_out = synthesizer.from_file(
        tmp_path / "contacts.toml",
        tmp_path / "cdk.out",
        organization_id=org.organization_id,
        management_account_id=CALLER,
        context_file=tmp_path / "cdk.context.json",
    )

    # THEN plan finds nothing to change (exit 0, every live contact declared and NO CHANGE) and drift all in sync
    assert_deploys_unchanged(cli, cdk_out, org.live())


def test_without_the_flag_import_reads_no_structure_and_writes_no_context(cli: Cli, aws: Any, tmp_path: Path) -> None:
    # GIVEN the organization with its units
    arrange_units(aws)

    # WHEN the user imports without --organizational-units
    result = cli("import", cwd=tmp_path)

    # THEN the file has no units' rules (sandbox's accounts opt out of security one by one), and no context
    # file was written
    assert result.returncode == 0, result.stdout + result.stderr
    data = tomllib.loads((tmp_path / "contacts.toml").read_text())
    assert "organizational_units" not in data
    assert sum(1 for entry in data["accounts"] if entry.get("opt_out") == ["security"]) == 2
    assert [path.name for path in tmp_path.iterdir()] == ["contacts.toml"]
    assert "ORGANIZATIONAL UNIT" not in result.stdout
    assert "Recorded the structure" not in result.stdout


def test_a_context_file_that_is_not_json_or_given_without_the_flag_stops_the_import_before_any_aws_call(
    tmp_path: Path,
) -> None:
    # GIVEN no credentials at all: any AWS call would fail with another message
    cli = Cli(offline_environment())
    context_file = tmp_path / "cdk.context.json"
    context_file.write_text("{not json")

    # WHEN the context file is not JSON THEN exit 3, naming it, and nothing is written
    broken = cli(
        "import", "--out", tmp_path / "contacts.toml", "--organizational-units", "--context-file", context_file
    )
    assert broken.returncode == 3
    assert f"{context_file}: not valid JSON" in broken.stderr
    # WHEN --context-file comes without --organizational-units THEN exit 3, saying to pass both
    alone = cli("import", "--out", tmp_path / "contacts.toml", "--context-file", context_file)
    assert alone.returncode == 3
    assert "--context-file is where --organizational-units records the structure: pass both" in alone.stderr
    # AND both times the files are as they were
    assert [path.name for path in tmp_path.iterdir()] == ["cdk.context.json"]
    assert context_file.read_text() == "{not json"


def test_a_structure_that_cannot_be_read_stops_the_import_before_any_contact_is_read(
    cli: Cli, aws: Any, endpoint: str, tmp_path: Path
) -> None:
    # GIVEN the organization, and Organizations denying ListOrganizationalUnitsForParent (the only call with a
    # ParentId; moto never denies: a local front plays IAM's refusal)
    arrange_units(aws)
    organizations = FrontedAccountApi(
        endpoint, answer=lambda body: (403, "AccessDeniedException") if "ParentId" in body else None
    )
    account = FrontedAccountApi(endpoint, answer=lambda body: None)
    try:
        # WHEN the user imports with the organizational units
        result = cli(
            "import",
            "--organizational-units",
            cwd=tmp_path,
            env={
                "AWS_ENDPOINT_URL_ORGANIZATIONS": organizations.endpoint,
                "AWS_ENDPOINT_URL_ACCOUNT": account.endpoint,
            },
        )
    finally:
        organizations.stop()
        account.stop()

    # THEN it exits 3, says who may read the structure, read no contact and wrote nothing
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Organizations ListOrganizationalUnitsForParent r-" in result.stderr
    assert "AccessDenied; read the organization from its management account" in result.stderr
    assert account.bodies == []
    assert list(tmp_path.iterdir()) == []
