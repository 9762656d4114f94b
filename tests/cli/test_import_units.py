"""``import --organizational-units``: values an organizational unit's accounts share become the unit's rule.

The rule is pure (``importer.choose`` with the organization's structure) and tested here without AWS, each file
also read back with the construct library's reader and resolved with the structure (``importer.check``, what
the command does before writing). The command itself runs against moto_server, and its file is synthesized
with the real ``OrganizationContacts.from_file`` with the recorded structure as the app's context, then
planned and drift-checked against the same accounts.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdk_alternate_contacts.model import ContactsModelError
from cdk_alternate_contacts.structure import OrganizationStructure
from cdk_alternate_contacts_cli.aws import OrgAccount
from cdk_alternate_contacts_cli.importer import ImportCheckError, ImportedContacts, check, choose, render

TYPES = ("BILLING", "OPERATIONS", "SECURITY")

SECURITY = {
    "EmailAddress": "soc@example.com",
    "Name": "Security Operations Center",
    "PhoneNumber": "+1 206 555 0100",
    "Title": "Security team",
}
OPERATIONS = {
    "EmailAddress": "cloud-ops@example.com",
    "Name": "Platform on-call",
    "PhoneNumber": "+1 206 555 0101",
    "Title": "Operations team",
}
BILLING = {
    "EmailAddress": "finance@example.com",
    "Name": "Finance Department",
    "PhoneNumber": "+1 206 555 0102",
    "Title": "Accounts payable",
}
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
