"""The coverages a synthesized app holds, and whom each keeps today, decided by the coverage function's own code.

A coverage (``OrganizationContacts(..., coverage=Coverage(...))``) is a Lambda function whose Handler is
:data:`~cdk_alternate_contacts_handler.coverage_rules.FUNCTION_HANDLER`; its rules are the
``coverage-rules.json`` of its code asset (the folder the deploy zips and uploads), found through the one
cloud-assembly reader and read with the function's own parser. Which ACTIVE accounts it keeps, under which
rule and with which contacts, is what the function's :class:`CoverageRules` says (``listed``, ``covers``,
``desired``, ``rule_of``); what it does with each live contact is
:func:`cdk_alternate_contacts_handler.coverage.decide`, called by :func:`.compare.compare`. Nothing here
re-decides either.

An account's path (the units above it) comes from the organization's structure, read top down once
(:func:`.lookup.read_structure`), where the function asks ListParents per account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.coverage_rules import (
    FUNCTION_HANDLER,
    RULES_FILE,
    CoverageRules,
    Details,
    RulesError,
    parse,
)
from cdk_alternate_contacts_handler.organizations import OrgAccount
from cdk_alternate_contacts_handler.spec import AlternateContactType

from .assembly import CoveredBy, Declaration, construct_path
from .cloud_assembly import MAX_NESTING, NESTED_STACK_TYPE, AssemblyError, StackArtifact, read_json

if TYPE_CHECKING:
    # Types only: plan and drift of an app without a coverage never load the construct library.
    from cdk_alternate_contacts.structure import OrganizationStructure

FUNCTION_TYPE: Final = "AWS::Lambda::Function"

#: The children of a coverage's construct: its function (``.../Coverage/Function``) and its run trigger.
_FUNCTION_SUFFIX: Final = "/Coverage/Function"
_RUN_SUFFIX: Final = "/Coverage/Run"


@dataclass(frozen=True)
class CoverageFunction:
    """One coverage of the app: where it is declared and the rules its function carries.

    Attributes
    ----------
    stack:
        The top-level stack (``--stack`` name) whose template, or nested template, holds the function.
    declared_by:
        The construct path of the ``OrganizationContacts`` (``Org/Organization``); the stack's name and the
        function's logical ids when the assembly does not record paths.
    function:
        The function's logical ids from the top-level stack down (``Org/OrganizationCoverageFunction1A2B``).
    rules:
        Its rules, as the function reads them.
    """

    stack: str
    declared_by: str
    function: str
    rules: CoverageRules


def read_coverages(stacks: Sequence[StackArtifact]) -> list[CoverageFunction]:
    """Every coverage of the selected stacks and of their nested stacks, with its rules.

    Raises
    ------
    AssemblyError
        Naming the stack and the function, when a coverage function's code asset, or the rules file in it,
        is missing or unreadable, or when the rules are not those the stack deploys (another digest).
    """
    found: list[CoverageFunction] = []
    for stack in stacks:
        for trail, template in _templates(stack):
            found.extend(_coverages(stack, trail, template))
    return found


def _templates(stack: StackArtifact) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    """The stack's template and its nested stacks' (those in the assembly: a missing one is noted by the
    reader of declarations), with the logical ids leading to each."""
    pending: list[tuple[tuple[str, ...], Mapping[str, Any]]] = [((stack.name,), stack.template())]
    while pending:
        trail, template = pending.pop(0)
        yield trail, template
        if len(trail) > MAX_NESTING:
            continue
        for logical_id, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") != NESTED_STACK_TYPE:
                continue
            path = stack.nested_template_path(resource)
            if path is not None:
                where = "/".join((*trail[1:], logical_id))
                pending.append(((*trail, logical_id), read_json(path, f"template of nested stack {where}")))


def _coverages(stack: StackArtifact, trail: tuple[str, ...], template: Mapping[str, Any]) -> list[CoverageFunction]:
    resources: Mapping[str, Any] = template.get("Resources") or {}
    found = []
    for logical_id, resource in resources.items():
        properties = resource.get("Properties") or {}
        if resource.get("Type") != FUNCTION_TYPE or properties.get("Handler") != FUNCTION_HANDLER:
            continue
        function_path = construct_path(resource, (*trail, logical_id))
        function = "/".join((*trail, logical_id))
        where = f"stack {stack.name}: coverage function {function_path} ({function})"
        rules = _read_rules(stack, properties.get("Code"), where)
        deployed = _deployed_digest(resources, function_path)
        if deployed is not None and deployed != rules.digest:
            raise AssemblyError(
                f"{where}: its {RULES_FILE} (digest {rules.digest[:12]}) is not the rules the template deploys "
                f"(digest {deployed[:12]}): the cloud assembly was changed after `cdk synth`; synthesize again"
            )
        found.append(
            CoverageFunction(
                stack=stack.name,
                declared_by=function_path.removesuffix(_FUNCTION_SUFFIX),
                function=function,
                rules=rules,
            )
        )
    return found


def _read_rules(stack: StackArtifact, code: Any, where: str) -> CoverageRules:
    key = code.get("S3Key") if isinstance(code, Mapping) else None
    if not isinstance(key, str):
        raise AssemblyError(f"{where}: its code is not a file asset of the cloud assembly (no S3Key)")
    try:
        folder = stack.asset_dir(key)
    except AssemblyError as error:
        raise AssemblyError(f"{where}: {error}") from None
    path = folder / RULES_FILE
    try:
        return parse(json.loads(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise AssemblyError(f"{where}: no {RULES_FILE} in its code asset {folder}: synthesize the app again") from None
    except (OSError, ValueError) as error:
        # RulesError is a ValueError, as is a JSON error; neither quotes a contact detail.
        kind = "its rules are not usable" if isinstance(error, RulesError) else "cannot read it"
        raise AssemblyError(f"{where}: {path}: {kind}: {error}") from None


def _deployed_digest(resources: Mapping[str, Any], function_path: str) -> str | None:
    """The RulesDigest of the coverage's run trigger beside the function, when the template writes it plainly."""
    if not function_path.endswith(_FUNCTION_SUFFIX):
        return None
    run_path = function_path.removesuffix(_FUNCTION_SUFFIX) + _RUN_SUFFIX
    for logical_id, resource in resources.items():
        if resource.get("Type") == spec.COVERAGE_RESOURCE_TYPE and construct_path(resource, (logical_id,)) == run_path:
            digest = (resource.get("Properties") or {}).get(spec.COVERAGE_RULES_DIGEST)
            return digest if isinstance(digest, str) else None
    return None


@dataclass
class CoveredAccounts:
    """Whom one coverage keeps among the organization's ACTIVE accounts, as its function would.

    Attributes
    ----------
    coverage:
        The coverage.
    covered:
        Each covered account: its rule (``rule_of``) and what the rules give it, per type (``desired``; a
        type they do not give is left alone).
    listed:
        ACTIVE accounts its ``[[accounts]]`` lists: their CloudFormation resources keep them.
    outside:
        ACTIVE accounts outside its units.
    unplaced:
        ACTIVE accounts the structure did not hold (they joined while it was read): not predicted.
    """

    coverage: CoverageFunction
    covered: dict[str, tuple[str, dict[AlternateContactType, Details]]] = field(default_factory=dict)
    listed: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)

    def rule_label(self, rule: str) -> str:
        """``ou-ab12-34cd56ef [payments]``, or ``defaults``."""
        return self.covered_by(rule).label

    def covered_by(self, rule: str) -> CoveredBy:
        """The marker of the contacts this coverage writes under ``rule``."""
        rules = self.coverage.rules
        return CoveredBy(self.coverage.declared_by, rule, rules.unit_names.get(rule), rules.on_drift)

    def declarations(self) -> list[Declaration]:
        """One declaration per covered account and type the rules give: what the function would write."""
        return [
            Declaration(
                stack=self.coverage.stack,
                declared_by=f"{self.coverage.declared_by} coverage: {self.rule_label(rule)}",
                account=account_id,
                contact_type=contact_type.value,
                details=dict(details),
                covered_by=self.covered_by(rule),
            )
            for account_id, (rule, desired) in self.covered.items()
            for contact_type, details in desired.items()
        ]

    def note(self, *, active: int, inactive: int) -> str:
        """What the coverage keeps, in one line of counts."""
        rules = self.coverage.rules
        parts = [
            f"{self.coverage.declared_by} coverage (on_drift {rules.on_drift}) keeps {len(self.covered)} of the "
            f"{_count(active, 'ACTIVE account')}"
        ]
        if self.listed:
            stay = "stays with its resource" if len(self.listed) == 1 else "stay with their resources"
            parts.append(f"{len(self.listed)} listed in its [[accounts]] {stay}")
        if self.outside:
            parts.append(f"{len(self.outside)} outside its units")
        if inactive:
            parts.append(f"{_count(inactive, 'account')} not ACTIVE, not covered")
        if self.unplaced:
            listed = ", ".join(self.unplaced)
            parts.append(f"{listed} joined while the organization was read, not predicted: run it again")
        return "; ".join(parts)


def covered_accounts(
    coverage: CoverageFunction, active: Sequence[OrgAccount], structure: OrganizationStructure
) -> CoveredAccounts:
    """Whom ``coverage`` keeps among the ``active`` accounts, each placed on its path in ``structure``."""
    rules = coverage.rules
    found = CoveredAccounts(coverage)
    for account in active:
        account_id = account.account_id
        if account_id in rules.listed:
            found.listed.append(account_id)
            continue
        path = structure.path_of(account_id)
        if path is None:
            found.unplaced.append(account_id)
        elif not rules.covers(path):
            found.outside.append(account_id)
        else:
            found.covered[account_id] = (rules.rule_of(path), rules.desired(path))
    return found


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


#: ``audit``'s RULE of an ACTIVE account that no stack lists and no coverage keeps.
NOT_COVERED: Final = "not covered"


def account_rules(
    active: Sequence[OrgAccount],
    listed_by: Mapping[str, Sequence[str]],
    coverages: Sequence[CoverageFunction],
    structure: OrganizationStructure | None,
) -> dict[str, str]:
    """``audit``'s RULE of each ACTIVE account: what keeps it, as the deploy and the coverages would.

    ``listed (<stack>)`` when a stack declares its contacts (``listed_by``: account -> stacks, the
    ``[[accounts]]`` of the coverages included); ``coverage: <unit id [name] | defaults>`` when a coverage
    keeps it, with the coverage's stack when there are several; both, joined by ``; ``, when a coverage
    keeps an account another stack lists (each overwrites the other); else :data:`NOT_COVERED`.
    ``structure`` may be ``None`` only without coverages.
    """
    kept: list[CoveredAccounts] = []
    if coverages:
        if structure is None:
            raise ValueError("the organization's structure is needed to place accounts under a coverage")
        kept = [covered_accounts(coverage, active, structure) for coverage in coverages]
    found = {}
    for account in active:
        account_id = account.account_id
        parts = [f"listed ({', '.join(listed_by[account_id])})"] if listed_by.get(account_id) else []
        for coverage in kept:
            if account_id in coverage.covered:
                rule = coverage.rule_label(coverage.covered[account_id][0])
                parts.append(f"coverage: {rule}" + (f" ({coverage.coverage.stack})" if len(kept) > 1 else ""))
        found[account_id] = "; ".join(parts) or NOT_COVERED
    return found
