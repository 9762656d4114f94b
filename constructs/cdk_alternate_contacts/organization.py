"""``OrganizationContacts``: default contacts for every account of an organization, with per-account
overrides and opt-outs, spread over nested stacks so that thousands of accounts fit CloudFormation's limits.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_cdk import Annotations, Aws, NestedStack, RemovalPolicy, Stack
from constructs import Construct

from cdk_alternate_contacts_handler.spec import AlternateContactType

from .contacts import AlternateContacts
from .contacts_file import load_contacts_model
from .coverage_model import Coverage
from .details import ContactDetails, is_unresolved
from .model import (
    AccountContacts,
    ContactsModel,
    ContactTypeLike,
    OrganizationalUnitContacts,
    contact_type_of,
)
from .placement import nested_stack_index, nested_stacks_for
from .provider import AlternateContactProvider, service_timeout_for
from .structure import CONTEXT_KEY, LOOKUP_COMMAND, OrganizationStructure

#: The most accounts a nested stack can hold: CloudFormation allows 500 resources per template, each account
#: is one resource in its nested stack, and ``cdk synth`` adds an ``AWS::CDK::Metadata`` resource to each.
MAX_ACCOUNTS_PER_STACK = 499

#: How many nested stacks the parent stack may hold, leaving room for the provider's few resources.
MAX_NESTED_STACKS = 400

#: CloudFormation's limit on a stack name; a nested stack is named ``<parent>-<logical id>-<suffix>``.
MAX_STACK_NAME = 128

#: The length of the random suffix CloudFormation appends to a nested stack's name, with its hyphen.
NESTED_NAME_SUFFIX = 14

#: The most accounts a nested stack holds by default; synthesis fails rather than write a larger one.
DEFAULT_ACCOUNTS_PER_STACK = 400

#: How many invocations of the provider run at once by default (Lambda reserved concurrency); the rest wait
#: in Lambda's queue. Measured with ``benchmarks/fanout.py``: without a limit, 300 Deletes at the API's
#: 1 a second lose invocations to the function's 5-minute timeout; at 5 none does.
DEFAULT_MAX_CONCURRENCY = 5


if TYPE_CHECKING:
    from .coverage import OrganizationCoverage


def _logical_id_prefix(construct: Construct) -> str:
    """A logical id prefix from the construct's path within its stack, as the CDK builds logical ids."""
    stack = Stack.of(construct)
    components = [c.node.id for c in construct.node.scopes[len(stack.node.scopes) :]]
    human = re.sub(r"[^A-Za-z0-9]", "", "".join(components))
    if len(components) == 1:
        return human
    return human + hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()[:8].upper()


class OrganizationContacts(Construct):
    """The alternate contacts of many accounts: organization-wide defaults, per-account overrides and opt-outs.

    Each account gets exactly what the model says (see :meth:`ContactsModel.resolve`): the defaults,
    replaced type by type by its overrides, minus the types it opts out of, all in ONE
    :class:`~cdk_alternate_contacts.AlternateContacts` resource (none when nothing is left). The accounts
    are spread over nested stacks, so 1,000 accounts of three contacts stay far below CloudFormation's
    500 resources and 1 MB per template, and share the ONE provider function of this construct's stack.
    An account may be the deploying (management) account itself: the handler then leaves out AccountId,
    as the API requires.

    Example
    -------
    >>> OrganizationContacts(
    ...     stack, "Organization",
    ...     defaults={"security": soc, "operations": on_call, "billing": finance},
    ...     accounts=[
    ...         AccountContacts("222222222222", name="log-archive"),
    ...         AccountContacts("333333333333", overrides={"security": payments_soc}, opt_out=["billing"]),
    ...     ],
    ...     organization_id="o-a1b2c3d4e5", management_account_id="111111111111",
    ... )

    or, from a data file: ``OrganizationContacts.from_file(stack, "Organization", "contacts.toml")``.

    Placement
        An account's nested stack is chosen from its id (:func:`nested_stack_index`: jump consistent hash of
        the id over the number of nested stacks), never from its position, and the number of nested stacks
        grows with the organization by itself: one for every 250 accounts (:func:`nested_stacks_for`).
        Adding, removing, changing or reordering accounts leaves every other account's resource untouched:
        CloudFormation updates one nested stack and creates, updates or deletes that account's one resource.
        When the organization crosses a multiple of 250 accounts, a nested stack is added and about one
        account in n + 1 moves into it (the least any placement can move), once. A move is safe: the
        resource is created in its new nested stack first, and its old resource's Delete, in the clean-up
        phase, sees the new claim and leaves the contacts in place (tests/e2e/test_moves.py). Removing an
        account deletes its resource (its contacts are deleted, restored with ``restore_on_delete``, or kept
        with ``RemovalPolicy.RETAIN``); a nested stack left with no account is deleted.

    Order
        The nested stacks are deployed one after another (each depends on the one before it, across every
        OrganizationContacts of the provider), and deleted in the reverse order. Every contact of a nested
        stack waits in Lambda's queue for, at most, its own nested stack's fan-out: a nested stack of 400
        accounts is 1,200 Deletes at the API's 1 a second, within the resources' ServiceTimeout, which is
        derived from ``accounts_per_stack`` and so never changes as accounts come and go. Removing 10,000
        accounts then takes the API's 8 h 20 min without any resource timing out (``benchmarks/fanout.py
        --organization`` runs a scale model of it).

    Parameters
    ----------
    scope, construct_id:
        Where the construct sits. It must be in a top-level stack (nested stacks are named after their
        parent, and names of nested stacks of nested stacks exceed CloudFormation's limit). Its children
        are the nested stacks ``Accounts00``, ``Accounts01``, ..., each holding ``Account<id>`` constructs.
    defaults:
        The contact details every account gets, per type (:class:`AlternateContactType` or its name in
        any case). A type left out has no default: only the accounts that override it get one. May be empty.
    accounts:
        The accounts (:class:`AccountContacts`), in any order; each account once.
    organizational_units:
        Rules of organizational units (:class:`OrganizationalUnitContacts`). Default: none. Per type, an
        account's own entry wins, then the rule of the deepest unit on its path that names the type, then
        the defaults. Which unit holds each account is read from ``organization_structure``.
    organization_structure:
        Which organizational unit holds each account (:class:`OrganizationStructure`). Default: the lookup
        recorded in the CDK context under ``cdk-alternate-contacts:organization-structure`` (cdk.context.json),
        which ``cdk-alternate-contacts lookup`` writes and refreshes; needed only with units' rules, and then
        synthesis fails, saying so, while it is missing or does not hold a listed account.
    nested_stacks:
        Default ``None``: grows with the organization (see Placement). A number pins it: the accounts are
        spread over exactly that many nested stacks, and changing it later moves the accounts whose nested
        stack changes (safely, as above).
    accounts_per_stack:
        The most accounts one nested stack may hold; synthesis fails rather than write a larger one.
        Default 400, below CloudFormation's 500 resources per stack (one is the CDK's metadata resource).
        The resources' ServiceTimeout is sized for a full nested stack of this many accounts.
    max_concurrency:
        How many invocations of the provider's function may run at once (Lambda reserved concurrency, see
        :meth:`AlternateContactProvider.limit_concurrency`); the rest wait in Lambda's queue. Default 5,
        what a large fan-out needs at the API's quotas. ``None`` reserves nothing: for an account whose
        Lambda concurrency quota leaves no room for a reservation (Lambda keeps 10 unreserved), at the
        cost of function timeouts when hundreds of accounts are deleted at once. A limit the provider was
        given already is kept.
    organization_id, management_account_id:
        The organization (``o-...``) and its management account. Default: unknown, and the provider's
        role names member accounts with wildcards in those two places (still limited to the declared
        accounts and types). Given, member-account ARNs are exact. Past a few accounts per type, the role
        names every member account of the organization rather than each one: see
        :class:`AlternateContactProvider`.
    removal_policy, restore_on_delete, skip_inactive_account:
        As for :class:`~cdk_alternate_contacts.AlternateContacts`, for every account. Default: contacts are
        deleted when their account leaves the model, inactive accounts fail the deployment.
    provider:
        The provider whose function manages the contacts. Default: the one of this construct's stack. One
        in another stack works too (its function's ARN is exported); its role is then allowed to list this
        stack's nested stacks by this stack's name.

    Raises
    ------
    ContactsModelError
        One error naming every problem of the model, with the account and field of each: a malformed
        account id, a detail that breaks the API's rules, a type that is both overridden and opted out,
        an unknown type, an account declared twice.
    ValueError
        When the construct is inside a nested stack, a setting is out of range, the stack's name leaves no
        room for the nested stacks' names, or a nested stack would hold more than ``accounts_per_stack``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        defaults: Mapping[ContactTypeLike, ContactDetails],
        accounts: Sequence[AccountContacts],
        organizational_units: Sequence[OrganizationalUnitContacts] = (),
        organization_structure: OrganizationStructure | None = None,
        coverage: Coverage | None = None,
        nested_stacks: int | None = None,
        accounts_per_stack: int = DEFAULT_ACCOUNTS_PER_STACK,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        organization_id: str | None = None,
        management_account_id: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        restore_on_delete: bool = False,
        skip_inactive_account: bool = False,
        provider: AlternateContactProvider | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.model = ContactsModel(
            defaults=defaults, accounts=accounts, organizational_units=organizational_units, coverage=coverage
        )
        self.organization_structure = self._structure(organization_structure, organization_id)
        self.resolved = self.model.resolve(self.node.path, self.organization_structure)
        stack = Stack.of(self)
        if stack.nested:
            raise ValueError(
                f"{self.node.path}: put OrganizationContacts in a top-level stack, not a nested one: its own nested "
                "stacks are named after their parent, and two levels of names exceed CloudFormation's limit"
            )
        if nested_stacks is not None and not 1 <= nested_stacks <= MAX_NESTED_STACKS:
            raise ValueError(f"nested_stacks must be 1 to {MAX_NESTED_STACKS} (got {nested_stacks})")
        if not 1 <= accounts_per_stack <= MAX_ACCOUNTS_PER_STACK:
            raise ValueError(f"accounts_per_stack must be 1 to {MAX_ACCOUNTS_PER_STACK} (got {accounts_per_stack})")

        placed = sorted(account_id for account_id, contacts in self.resolved.items() if contacts)
        if not placed and coverage is None:
            Annotations.of(self).add_warning_v2(
                "cdk-alternate-contacts:manages-nothing",
                f"{self.node.path} manages no contact: "
                + ("the model lists no account" if not accounts else "every account opts out of every type")
                + "; add [[accounts]] entries (or accounts=[...]) to vend their contacts",
            )
        self.nested_stack_count = nested_stacks or nested_stacks_for(len(placed))
        if self.nested_stack_count > MAX_NESTED_STACKS:
            raise ValueError(
                f"{len(placed)} accounts need {self.nested_stack_count} nested stacks, more than the "
                f"{MAX_NESTED_STACKS} a stack can hold: put the rest in a second OrganizationContacts in another stack"
            )
        placement: dict[int, list[str]] = {}
        for account_id in placed:
            placement.setdefault(nested_stack_index(account_id, self.nested_stack_count), []).append(account_id)
        prefix = _logical_id_prefix(self) + "Accounts"
        self._check_capacity(placement, prefix, accounts_per_stack)
        self._check_stack_name(stack, f"{prefix}{self.nested_stack_count - 1:02d}")

        self.provider = provider or AlternateContactProvider.of(self)
        self.stacks: dict[int, NestedStack] = {}
        self.contacts: dict[str, AlternateContacts] = {}
        self._stack_of: dict[str, NestedStack] = {}
        if organization_id is not None or management_account_id is not None:
            self.provider.use_organization(organization_id=organization_id, management_account_id=management_account_id)
        if max_concurrency is not None:
            self.provider.limit_concurrency(max_concurrency, keep_existing=True)
        if Stack.of(self.provider).node.path != stack.node.path:
            self._allow_reading(stack)
        # One nested stack's fan-out at a time (they are chained): size the wait for a full one, a figure
        # that no account's arrival or departure changes.
        service_timeout = service_timeout_for(len(AlternateContactType) * accounts_per_stack)
        for index in sorted(placement):
            nested = NestedStack(
                self,
                f"Accounts{index:02d}",
                description=f"cdk-alternate-contacts: accounts placed in this nested stack by their id ({index})",
            )
            # A short, stable logical id: the nested stack's name, and so the role's permission to list it,
            # derive from it.
            resource = nested.nested_stack_resource
            assert resource is not None  # a NestedStack always has its resource in the parent
            resource.override_logical_id(f"{prefix}{index:02d}")
            self.provider.share_with(nested)
            self.provider.chain(resource)
            self.stacks[index] = nested
            for account_id in placement[index]:
                contacts = self.resolved[account_id]
                self.contacts[account_id] = AlternateContacts(
                    nested,
                    f"Account{account_id}",
                    account_id=account_id,
                    billing=contacts.get(AlternateContactType.BILLING),
                    operations=contacts.get(AlternateContactType.OPERATIONS),
                    security=contacts.get(AlternateContactType.SECURITY),
                    removal_policy=removal_policy,
                    restore_on_delete=restore_on_delete,
                    skip_inactive_account=skip_inactive_account,
                    service_timeout=service_timeout,
                )
                self._stack_of[account_id] = nested

        self.coverage: OrganizationCoverage | None = None
        if coverage is not None:
            self.coverage = self._cover(coverage, organization_id, management_account_id)

    @classmethod
    def from_file(
        cls, scope: Construct, construct_id: str, path: str | os.PathLike[str], **kwargs: Any
    ) -> OrganizationContacts:
        """The same construct, its defaults and accounts read from a TOML or JSON contacts file.

        ``kwargs`` are this construct's other parameters (``nested_stacks``, ``organization_id``, ...).
        See :func:`~cdk_alternate_contacts.load_contacts_model` for the file's format and its errors.
        """
        return cls.from_model(scope, construct_id, load_contacts_model(path), source=str(path), **kwargs)

    @classmethod
    def from_model(
        cls, scope: Construct, construct_id: str, model: ContactsModel, *, source: str = "the model", **kwargs: Any
    ) -> OrganizationContacts:
        """The same construct, declaring ``model``: its defaults, accounts, units' rules and coverage.

        For a model the app also reads (``load_contacts_model``), for instance to give the management
        account the organization's defaults. ``kwargs`` are this construct's other parameters; ``source``
        names the model in an error (default: "the model").

        Raises
        ------
        ValueError
            When the model has a coverage and ``coverage`` is given too.
        """
        if model.coverage is not None and kwargs.get("coverage") is not None:
            raise ValueError(f"{source} has a [coverage] table and coverage= is given too: keep one of the two")
        if model.coverage is not None:
            kwargs["coverage"] = model.coverage
        return cls(
            scope,
            construct_id,
            defaults=model.defaults,
            accounts=model.accounts,
            organizational_units=model.organizational_units,
            **kwargs,
        )

    def _cover(
        self, coverage: Coverage, organization_id: str | None, management_account_id: str | None
    ) -> OrganizationCoverage:
        """The coverage's resources; every listed account's nested stack waits for the coverage's rules."""
        from .coverage import OrganizationCoverage  # noqa: PLC0415 - only a coverage needs events, SQS and SSM

        if self.provider.covered_by is not None:
            raise ValueError(
                f"{self.node.path}: the provider already serves the coverage of {self.provider.covered_by}: one "
                "coverage per provider (put the other OrganizationContacts with a coverage in another stack)"
            )
        self.provider.covered_by = self.node.path
        covered = OrganizationCoverage(
            self,
            "Coverage",
            coverage=coverage,
            defaults={t: d for k, d in self.model.defaults.items() if (t := contact_type_of(k)) is not None},
            organizational_units=self.model.organizational_units,
            listed=[a.account_id for a in self.model.accounts],
            provider=self.provider,
            organization_id=organization_id,
            management_account_id=management_account_id,
        )
        for nested in self.stacks.values():
            nested.node.add_dependency(covered.rules_digest)
        if self.organization_structure is not None and not isinstance(coverage.scope, str):
            for unit_id in coverage.scope:
                if not self.organization_structure.knows_unit(unit_id):
                    Annotations.of(self).add_warning_v2(
                        "cdk-alternate-contacts:unknown-organizational-unit",
                        f"{self.node.path}: the coverage's unit {unit_id} was not in the organization when its "
                        f"structure was looked up: the coverage keeps nothing under it until it exists",
                    )
        return covered

    def _structure(
        self, given: OrganizationStructure | None, organization_id: str | None
    ) -> OrganizationStructure | None:
        """The organization's structure: the one given, else the lookup recorded in the CDK context; checked
        against the organization and the units' rules (a rule for a unit the lookup does not know warns)."""
        structure = given
        if structure is None and self.model.organizational_units:
            recorded = self.node.try_get_context(CONTEXT_KEY)
            structure = None if recorded is None else OrganizationStructure.from_context(recorded)
        if structure is None:
            return None
        if (
            organization_id is not None
            and not is_unresolved(organization_id)
            and organization_id != structure.organization_id
        ):
            raise ValueError(
                f"{self.node.path}: organization_id is {organization_id} but the organization's structure was looked "
                f"up in {structure.organization_id}: run `{LOOKUP_COMMAND}` with the credentials of {organization_id}"
            )
        for unit_id in self.model.unknown_units(structure):
            Annotations.of(self).add_warning_v2(
                "cdk-alternate-contacts:unknown-organizational-unit",
                f"{self.node.path}: organizational unit {unit_id} has a rule but was not in the organization when its "
                f"structure was looked up ({structure.looked_up_at or 'time unknown'}): no listed account is under it; "
                f"run `{LOOKUP_COMMAND}` again if it was created since, or check the id",
            )
        return structure

    def nested_stack_of(self, account_id: str) -> NestedStack | None:
        """The nested stack that holds the account's contacts; ``None`` for an account without any."""
        return self._stack_of.get(account_id)

    @staticmethod
    def _check_capacity(placement: Mapping[int, Sequence[str]], prefix: str, accounts_per_stack: int) -> None:
        full = {index: len(ids) for index, ids in placement.items() if len(ids) > accounts_per_stack}
        if full:
            listed = ", ".join(f"{prefix}{index:02d} would hold {count}" for index, count in sorted(full.items()))
            raise ValueError(
                f"too many accounts for one nested stack ({listed}; accounts_per_stack={accounts_per_stack}): raise "
                f"accounts_per_stack, up to {MAX_ACCOUNTS_PER_STACK}, which moves no account, or leave nested_stacks "
                "to grow with the organization (None)"
            )

    @staticmethod
    def _check_stack_name(stack: Stack, longest_logical_id: str) -> None:
        name = stack.stack_name
        if is_unresolved(name):
            return
        longest = len(name) + 1 + len(longest_logical_id) + NESTED_NAME_SUFFIX
        if longest > MAX_STACK_NAME:
            raise ValueError(
                f"stack name {name!r} is too long for nested stacks named {name}-{longest_logical_id}-<suffix> "
                f"({longest} characters, CloudFormation allows {MAX_STACK_NAME}): shorten the stack name or this "
                "construct's id"
            )

    def _allow_reading(self, stack: Stack) -> None:
        """Let a provider of another stack read this stack and its nested stacks, which every Delete here reads
        (a provider reads its own stack's tree already).

        By name: the stacks' ids would make the provider's role depend on this stack, which depends on the
        function, which depends on the role. One pattern covers every nested stack this stack has or had: a
        nested stack an update removes is deleted in the cleanup phase, and its Deletes must still read.
        """
        for pattern in (
            f"arn:{Aws.PARTITION}:cloudformation:{Aws.REGION}:{Aws.ACCOUNT_ID}:stack/{stack.stack_name}/*",
            f"arn:{Aws.PARTITION}:cloudformation:{Aws.REGION}:{Aws.ACCOUNT_ID}:stack/{stack.stack_name}-*/*",
        ):
            self.provider.allow_listing(pattern)
            self.provider.acknowledge_wildcard(
                pattern,
                "Stack ids and nested stack names end in values CloudFormation generates at deploy time; the "
                "pattern names only the stacks this organization's contacts live in, which each Delete reads.",
            )
