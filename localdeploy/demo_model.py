"""What ``make demo`` expects, worked out independently of the constructs, and how it checks it.

The data files say what each listed account must hold (defaults, overrides field by field, opt-outs); the
synthesized template says what app.py declares in code (the management account's contacts, the accounts the
stack vends). :class:`Checks` records each check with its outcome; the step checks shared by DEPLOY, UPDATE
and DESTROY are here, so each step's module states only what is particular to it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from cdk_alternate_contacts_handler import spec

from .assembly import REPO
from .contacts import Details, Slot
from .custom_resources import RequestRecord
from .engine import OperationResult
from .moto import DEPLOYING_ACCOUNT

#: app.py's stack, and the data files of its DEPLOY and UPDATE steps.
STACK = "AlternateContactsExample"
ACCOUNTS_FILE = REPO / "examples" / "accounts.toml"
UPDATED_FILE = REPO / "examples" / "accounts-updated.toml"
UPDATE_CONTEXT = {"accounts_file": str(UPDATED_FILE.relative_to(REPO))}

ORGANIZATIONS_ACCOUNT = "AWS::Organizations::Account"

#: The data file's field names, and the API's.
FILE_FIELDS = {spec.USER_NAMES[api]: api for api in spec.DETAIL_FIELDS}


@dataclass
class Checks:
    """Named checks, each passed or failed with a detail."""

    results: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        """Record one check; returns whether it passed."""
        self.results.append((name, passed, detail))
        return passed

    @property
    def failed(self) -> list[tuple[str, bool, str]]:
        """The checks that did not hold."""
        return [result for result in self.results if not result[1]]


#: One entry of the file: its overrides (type -> details) and its opt-outs.
Rule = tuple[dict[str, Details], frozenset[str]]


@dataclass(frozen=True)
class Model:
    """What a data file says each account gets, worked out independently of the constructs.

    Attributes
    ----------
    contacts:
        Listed account -> type -> details (API keys); an account left with no type maps to an empty dict.
    names:
        Listed account -> its label in the file.
    defaults:
        Type -> details.
    units:
        Organizational unit -> its rule (``[[organizational_units]]``).
    coverage:
        The ``[coverage]`` table; ``None`` when the file has none.
    """

    contacts: dict[str, dict[str, Details]]
    names: dict[str, str]
    defaults: dict[str, Details] = field(default_factory=dict)
    units: dict[str, Rule] = field(default_factory=dict)
    coverage: dict[str, Any] | None = None

    def slots(self) -> dict[Slot, Details]:
        """Every contact the model gives the listed accounts, by slot."""
        return {(account, kind): details for account, types in self.contacts.items() for kind, details in types.items()}

    def covered(self, path: Sequence[str] = ()) -> dict[str, Details]:
        """What the coverage gives an unlisted account under ``path`` (its units, from the root's child down):
        the defaults and the units' rules, the deepest unit that names a type winning."""
        return _cascade([self.units[unit] for unit in reversed(path) if unit in self.units], self.defaults)


def read_model(path: Path, placed: Mapping[str, Sequence[str]] | None = None) -> Model:
    """Each listed account's contacts from a data file: per type, the account's override, else the rule of the
    deepest unit on its path (``placed``: account -> units from the root's child down; default: every account
    at the root), else the default. An override (an account's or a unit's) replaces the default field by field
    (a field left out comes from the default of its type); an opt-out on the way removes the type."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    defaults = {kind.upper(): _api_keys(details) for kind, details in data.get("defaults", {}).items()}
    units = {str(unit["id"]): _rule(unit) for unit in data.get("organizational_units", [])}
    contacts: dict[str, dict[str, Details]] = {}
    names: dict[str, str] = {}
    for account in data.get("accounts", []):
        account_id = str(account["account_id"])
        names[account_id] = str(account.get("name", ""))
        on_path = [units[unit] for unit in reversed((placed or {}).get(account_id, ())) if unit in units]
        contacts[account_id] = _cascade([_rule(account), *on_path], defaults)
    return Model(contacts, names, defaults, units, data.get("coverage"))


def _rule(entry: Mapping[str, Any]) -> Rule:
    overrides = {kind.upper(): _api_keys(details) for kind, details in entry.get("overrides", {}).items()}
    return overrides, frozenset(kind.upper() for kind in entry.get("opt_out", []))


def _cascade(rules: Sequence[Rule], defaults: Mapping[str, Details]) -> dict[str, Details]:
    """Per type, the first rule (most specific first) that names it decides; none does: the default."""
    given: dict[str, Details] = {}
    for kind in spec.CONTACT_TYPES:
        chosen = defaults.get(kind)
        for overrides, opted_out in rules:
            if kind in opted_out:
                chosen = None
                break
            if kind in overrides:
                chosen = {**defaults.get(kind, {}), **overrides[kind]}
                break
        if chosen is not None:
            given[kind] = chosen
    return given


def _api_keys(details: Mapping[str, Any]) -> Details:
    return {FILE_FIELDS[key]: str(value) for key, value in details.items()}


def management_contacts(assembly: CloudAssembly, stack: str) -> dict[str, Details]:
    """The deploying account's contacts as app.py declares them in code: type -> details."""
    for resource in assembly.template(stack)["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == spec.CONTACTS_RESOURCE_TYPE and spec.ACCOUNT_ID not in properties:
            return {kind: dict(details) for kind, details in properties[spec.CONTACTS].items()}
    return {}


@dataclass(frozen=True)
class Vended:
    """An account the stack vends itself, and the contacts the stack declares for it.

    Attributes
    ----------
    logical_id, account_name:
        The ``AWS::Organizations::Account`` resource and its AccountName.
    contacts_id:
        The logical id of the contacts resource whose AccountId is that account's.
    contacts:
        Type -> details.
    """

    logical_id: str
    account_name: str
    contacts_id: str
    contacts: dict[str, Details]


def vended_accounts(assembly: CloudAssembly, stack: str) -> list[Vended]:
    """The accounts the stack creates, each with the contacts declared for it (``account_id`` is the account's
    ``Ref`` or ``Fn::GetAtt ... AccountId``, so the id is known only once CloudFormation has created it)."""
    resources = assembly.template(stack)["Resources"]
    found = []
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] != spec.CONTACTS_RESOURCE_TYPE:
            continue
        account = _account_resource(properties.get(spec.ACCOUNT_ID), resources)
        if account is not None:
            name = str(resources[account]["Properties"]["AccountName"])
            contacts = {kind: dict(details) for kind, details in properties[spec.CONTACTS].items()}
            found.append(Vended(account, name, logical_id, contacts))
    return found


def _account_resource(value: Any, resources: Mapping[str, Any]) -> str | None:
    """The logical id of the ``AWS::Organizations::Account`` whose id ``value`` refers to, if it does."""
    if not isinstance(value, Mapping):
        return None
    target = value.get("Ref")
    attribute = value.get("Fn::GetAtt")
    if isinstance(attribute, list) and len(attribute) == 2 and attribute[1] == "AccountId":
        target = attribute[0]
    if isinstance(target, str) and resources.get(target, {}).get("Type") == ORGANIZATIONS_ACCOUNT:
        return target
    return None


def identity(account: str, types: Mapping[str, Any]) -> str:
    """The physical id the handler answers for one account's resource."""
    return f"{account}/{'+'.join(sorted(types))}"


def check_step(
    checks: Checks, step: str, result: OperationResult, expected_status: str, *, nested_stacks: bool = True
) -> None:
    """What every step must show: the stack (and, with ``nested_stacks``, the nested stacks it touched) at
    ``expected_status``, every request answered SUCCESS once, no problem reported."""
    nested = {name: status for name, status in result.stacks.items() if name != result.stack_name}
    checks.check(f"{step}: stack ends {expected_status}", result.status == expected_status, result.status)
    if nested_stacks:
        checks.check(
            f"{step}: its {len(nested)} nested stacks end {expected_status} too",
            bool(nested) and all(status == expected_status for status in nested.values()),
            ", ".join(f"{n}: {s}" for n, s in nested.items()),
        )
    checks.check(
        f"{step}: every request answered SUCCESS exactly once",
        bool(result.requests) and all(r.succeeded and r.answers == 1 for r in result.requests),
        "; ".join(f"{r.request_type} {r.logical_id}: {r.status} x{r.answers}" for r in result.requests),
    )
    checks.check(f"{step}: no problems reported", not result.problems, "; ".join(result.problems))


def differences(live: Mapping[Slot, Details], expected: Mapping[Slot, Details]) -> str:
    """How the accounts read back differ from ``expected`` (empty when they hold exactly that): the slots
    missing, unexpected and different (never a contact detail)."""
    missing = sorted(set(expected) - set(live))
    extra = sorted(set(live) - set(expected))
    wrong = sorted(slot for slot in set(expected) & set(live) if not spec.same_contact(expected[slot], live[slot]))
    return f"missing {missing}, unexpected {extra}, different {wrong}" if missing or extra or wrong else ""


def check_contacts(
    checks: Checks, step: str, live: Mapping[Slot, Details], expected: Mapping[Slot, Details], *, name: str = ""
) -> bool:
    """The accounts read back hold exactly ``expected``: no contact missing, none more, none different."""
    found = differences(live, expected)
    what = name or "the accounts hold exactly what the model says"
    return checks.check(f"{step}: {what} ({len(expected)} contacts)", not found, found)


def describe_account(organizations: Any, account_id: str) -> dict[str, Any]:
    """An account as Organizations describes it (empty when it does not know it)."""
    try:
        found: dict[str, Any] = organizations.describe_account(AccountId=account_id)["Account"]
    except organizations.exceptions.AccountNotFoundException:
        return {}
    return found


def requests_by_account(result: OperationResult) -> dict[str, list[RequestRecord]]:
    """The operation's requests by the account they name (the deploying account for no AccountId)."""
    requests: dict[str, list[RequestRecord]] = {}
    for record in result.requests:
        properties = record.event.get("ResourceProperties", {})
        requests.setdefault(str(properties.get(spec.ACCOUNT_ID, DEPLOYING_ACCOUNT)), []).append(record)
    return requests
