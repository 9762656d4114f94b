"""The contacts a synthesized CDK app declares, read from its cloud assembly without loading aws_cdk.

The assembly's stacks, templates and nested stacks' templates are read with :mod:`.cloud_assembly`. What a
coverage would write is a :class:`Declaration` too (made by :mod:`.coverage`), marked :class:`CoveredBy`.

Contacts are found by the shared spec's resource types: ``Custom::AlternateContact`` (one contact) and
``Custom::AlternateContacts`` (several types of one account). Their values are evaluated with
:mod:`.intrinsics`; what stays unknown until the deploy is reported per contact, never guessed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.coverage_rules import OnDriftValue

from .cloud_assembly import MAX_NESTING, NESTED_STACK_TYPE, StackArtifact, read_json
from .intrinsics import NO_VALUE, Scope, Unresolved, condition, resolve, stringify

CONTACT_RESOURCE_TYPES: Final = (spec.RESOURCE_TYPE, spec.CONTACTS_RESOURCE_TYPE)


@dataclass(frozen=True)
class ResourceLocation:
    """Where the resource that declares a contact lives once deployed: how to find it with CloudFormation.

    Attributes
    ----------
    stack_name:
        The CloudFormation name of the top-level stack.
    region, account:
        The stack's environment when the app fixes it; ``None`` for an environment-agnostic stack.
    logical_ids:
        The logical ids from the top-level stack down: each nested stack's ``AWS::CloudFormation::Stack``
        resource, then the contact's own resource.
    resource_type:
        ``Custom::AlternateContact`` or ``Custom::AlternateContacts``.
    condition:
        The template condition the resource is created under, when only the deploy decides it; ``None`` when
        it has none or the condition is known to hold.
    """

    stack_name: str
    region: str | None
    account: str | None
    logical_ids: tuple[str, ...]
    resource_type: str
    condition: str | None = None


def deploy_time_entry(key: str, value: Unresolved) -> str:
    """How a value only the deploy knows is listed in :attr:`Declaration.unresolved`: ``AccountId: <reason>``."""
    return f"{key}: {value.reason}"


@dataclass(frozen=True)
class CoveredBy:
    """The coverage, and its rule, that gives a covered account a contact (no CloudFormation resource does).

    Attributes
    ----------
    coverage:
        The construct path of the ``OrganizationContacts`` whose coverage it is (``Org/Organization``).
    rule:
        The rule the account is counted under, as the coverage function reports it: the id of the deepest
        organizational unit on its path that has a rule, else ``defaults``.
    unit_name:
        The unit's label in the rules, when it has one.
    on_drift:
        ``restore`` (a differing contact is written back) or ``report`` (it is only counted).
    """

    coverage: str
    rule: str
    unit_name: str | None
    on_drift: OnDriftValue

    @property
    def label(self) -> str:
        """``ou-ab12-34cd56ef [payments]``, or ``defaults``."""
        return f"{self.rule} [{self.unit_name}]" if self.unit_name else self.rule


@dataclass(frozen=True)
class Declaration:
    """One declared contact: an account, a type and its details, as a deploy would put them.

    Attributes
    ----------
    stack:
        The top-level stack (``--stack`` name) that declares it, through nested stacks maybe.
    declared_by:
        The construct path (``Contacts/Security``), or the stack and logical ids when paths were not recorded.
    account:
        The 12-digit account the contact belongs to: the declared AccountId, or the stack's deploying account
        when it has none; an :class:`Unresolved` when only the deploy knows it.
    contact_type:
        BILLING, OPERATIONS or SECURITY; an :class:`Unresolved` when only the deploy knows it.
    details:
        The detail fields known before the deploy (EmailAddress, Name, PhoneNumber, Title).
    unresolved:
        One message per field only the deploy can tell (``EmailAddress: SSM parameter ...``).
    invalid:
        One message per field the Account API would reject (the shared spec's words, no contact details).
    location:
        Where its resource is found in the deployed stack; ``None`` when not read from a cloud assembly, or
        for a coverage's contact.
    covered_by:
        For a contact a coverage would write to a covered account (no resource declares it): the coverage
        and its rule; ``None`` for a contact declared by a resource.
    """

    stack: str
    declared_by: str
    account: str | Unresolved
    contact_type: str | Unresolved
    details: Mapping[str, str] = field(default_factory=dict)
    unresolved: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()
    location: ResourceLocation | None = None
    covered_by: CoveredBy | None = None

    def known_as(self, *, account: str | None = None, contact_type: str | None = None) -> Declaration:
        """This declaration with an account or a type that only the deploy knew, now known (from the deployed
        stack): the value replaces the :class:`Unresolved`, and its entry leaves :attr:`unresolved`."""
        new_account, new_type, dropped = self.account, self.contact_type, set()
        if account is not None and isinstance(self.account, Unresolved):
            new_account = account
            dropped.add(deploy_time_entry(spec.ACCOUNT_ID, self.account))
        if contact_type is not None and isinstance(self.contact_type, Unresolved):
            new_type = contact_type
            dropped.add(deploy_time_entry(spec.CONTACT_TYPE, self.contact_type))
        unresolved = tuple(entry for entry in self.unresolved if entry not in dropped)
        return dataclasses.replace(self, account=new_account, contact_type=new_type, unresolved=unresolved)

    @property
    def plannable(self) -> bool:
        """Whether every value is known and valid, so the live contact can be compared with it."""
        return not self.unresolved and not self.invalid


@dataclass
class Declarations:
    """What the selected stacks declare, and what could not be read (notes for the user)."""

    contacts: list[Declaration] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_declarations(stacks: Sequence[StackArtifact], *, caller_account: str, partition: str | None) -> Declarations:
    """Every contact the selected stacks declare, nested stacks included, with values evaluated.

    Parameters
    ----------
    stacks:
        The stacks to read (:meth:`CloudAssembly.select`).
    caller_account:
        The account of the credentials in use: the deploying account of an environment-agnostic stack.
    partition:
        The credentials' partition (``aws``), for ``AWS::Partition``.

    Raises
    ------
    AssemblyError
        When a template cannot be read.
    """
    found = Declarations()
    for stack in stacks:
        deploying = stack.account or caller_account
        if deploying != caller_account:
            found.notes.append(
                f"stack {stack.name} deploys to account {deploying}; its contacts are read from account "
                f"{caller_account} with AccountId (use --profile for {deploying} to read them as the deploy would)"
            )
        template = stack.template()
        scope = _scope(template, account=deploying, partition=partition, region=stack.region, passed=None)
        _walk(template, scope, stack=stack, trail=(stack.name,), found=found, depth=0)
    return found


def _scope(
    template: Mapping[str, Any],
    *,
    account: str | None,
    partition: str | None,
    region: str | None,
    passed: Mapping[str, Any] | None,
) -> Scope:
    """What a template's values can refer to; ``passed`` holds the parameters a parent gives a nested stack."""
    parameters = template.get("Parameters") or {}
    values = dict(passed or {})
    if passed is not None:
        # A nested stack's parameter that its parent does not pass takes its default: nothing else can set it.
        # A top-level stack's default is not used: the deploy may override it.
        for name, definition in parameters.items():
            if name not in values and isinstance(definition, Mapping) and "Default" in definition:
                values[name] = definition["Default"]
    return Scope(
        account=account,
        partition=partition,
        region=region,
        parameters=parameters,
        parameter_values=values,
        mappings=template.get("Mappings") or {},
        conditions=template.get("Conditions") or {},
    )


def _walk(
    template: Mapping[str, Any],
    scope: Scope,
    *,
    stack: StackArtifact,
    trail: tuple[str, ...],
    found: Declarations,
    depth: int,
) -> None:
    """Collect the contacts of ``template`` and, depth first, of the nested stacks it holds."""
    for logical_id, resource in (template.get("Resources") or {}).items():
        kind = resource.get("Type")
        if kind not in (*CONTACT_RESOURCE_TYPES, NESTED_STACK_TYPE):
            continue
        pending = resource.get("Condition")
        created = condition(str(pending), scope) if pending else True
        if created is False:
            where = construct_path(resource, (*trail, logical_id))
            found.notes.append(f"{where} is not created: its condition {pending} is false")
            continue
        if kind in CONTACT_RESOURCE_TYPES:
            undecided = str(pending) if isinstance(created, Unresolved) else None
            found.contacts.extend(
                _contacts(resource, scope, stack=stack, trail=(*trail, logical_id), condition=undecided)
            )
        else:
            where = construct_path(resource, (*trail, logical_id))
            path = stack.nested_template_path(resource)
            if path is None or depth >= MAX_NESTING:
                why = "its template is not in the cloud assembly" if path is None else "nested too deeply"
                found.notes.append(f"nested stack {where}: {why}; contacts it may declare are not checked")
                continue
            nested = read_json(path, f"template of nested stack {where}")
            passed = {
                name: _passed_parameter(name, value, scope)
                for name, value in ((resource.get("Properties") or {}).get("Parameters") or {}).items()
            }
            nested_scope = _scope(
                nested, account=scope.account, partition=scope.partition, region=scope.region, passed=passed
            )
            _walk(nested, nested_scope, stack=stack, trail=(*trail, logical_id), found=found, depth=depth + 1)


def _passed_parameter(name: str, value: Any, scope: Scope) -> Any:
    resolved = resolve(value, scope)
    if isinstance(resolved, Unresolved):
        return Unresolved(f"parameter {name} from the parent stack: {resolved.reason}")
    return resolved


def construct_path(resource: Mapping[str, Any], trail: tuple[str, ...]) -> str:
    """The construct path of a resource (its ``aws:cdk:path``) without the inner ``Resource/Default`` of a
    CustomResource or the ``Resource`` of an L2 construct; else the stack's name and the logical ids."""
    path = (resource.get("Metadata") or {}).get("aws:cdk:path")
    if not isinstance(path, str) or not path:
        return "/".join(trail)
    for suffix in ("/Resource/Default", "/Default", "/Resource"):
        if path.endswith(suffix):
            return path.removesuffix(suffix)
    return path


def _contacts(
    resource: Mapping[str, Any],
    scope: Scope,
    *,
    stack: StackArtifact,
    trail: tuple[str, ...],
    condition: str | None,
) -> list[Declaration]:
    """The contacts of one resource: one for ``Custom::AlternateContact``, one per type for the other.

    ``condition`` is the resource's Condition when only the deploy decides it (``None``: it is created).
    """
    declared_by = construct_path(resource, trail)
    properties = resource.get("Properties") or {}
    location = ResourceLocation(
        stack_name=stack.stack_name,
        region=stack.region,
        account=stack.account,
        logical_ids=trail[1:],
        resource_type=str(resource.get("Type")),
        condition=condition,
    )
    always = (f"created only if condition {condition} holds (decided at deploy time)",) if condition else ()

    account_value = _field(properties.get(spec.ACCOUNT_ID), scope)
    account: str | Unresolved
    if isinstance(account_value, Unresolved):
        account = account_value
    elif account_value is None:
        account = scope.account or Unresolved("the deploying account")
    else:
        account = str(account_value)
    declaring = _Declaring(stack.name, declared_by, account, location, always)

    if resource.get("Type") == spec.RESOURCE_TYPE:
        entries: list[tuple[Any, Any]] = [(_field(properties.get(spec.CONTACT_TYPE), scope), properties)]
    else:
        contacts = resolve(properties.get(spec.CONTACTS), scope)
        if isinstance(contacts, Unresolved):
            return [declaring.contact(contacts, unresolved=(*always, f"{spec.CONTACTS}: {contacts.reason}"))]
        if not isinstance(contacts, Mapping) or not contacts:
            errors = spec.contacts_errors({spec.CONTACTS: contacts}, skip=frozenset({spec.ACCOUNT_ID}))
            return [declaring.contact("?", invalid=tuple(errors))]
        entries = list(contacts.items())
    return [_declaration(declaring, contact_type, source, scope) for contact_type, source in entries]


@dataclass(frozen=True)
class _Declaring:
    """What every contact of one resource shares: its stack, construct path, account and location, and the
    entries that each of its evaluated contacts carries first (the resource's condition)."""

    stack: str
    declared_by: str
    account: str | Unresolved
    location: ResourceLocation
    always: tuple[str, ...]

    def contact(
        self,
        contact_type: str | Unresolved,
        details: Mapping[str, str] | None = None,
        *,
        unresolved: tuple[str, ...] = (),
        invalid: tuple[str, ...] = (),
    ) -> Declaration:
        """One contact of the resource."""
        return Declaration(
            self.stack, self.declared_by, self.account, contact_type, details or {}, unresolved, invalid, self.location
        )


def _field(value: Any, scope: Scope) -> Any:
    """A property value as the handler would receive it (scalars as strings); ``None`` when absent."""
    if value is None:
        return None
    resolved = resolve(value, scope)
    if resolved is NO_VALUE:
        return None
    return resolved if isinstance(resolved, Unresolved) else stringify(resolved)


def _declaration(declaring: _Declaring, contact_type: Any, source: Any, scope: Scope) -> Declaration:
    """One contact of a resource, its values evaluated and checked with the shared spec's rules."""
    account = declaring.account
    unresolved = list(declaring.always)
    properties: dict[str, Any] = {}
    skip: set[str] = set()
    for key, value in ((spec.ACCOUNT_ID, account), (spec.CONTACT_TYPE, contact_type)):
        if isinstance(value, Unresolved):
            unresolved.append(deploy_time_entry(key, value))
            skip.add(key)
        else:
            properties[key] = value
    shown_type = contact_type if isinstance(contact_type, Unresolved) else str(contact_type)
    if not isinstance(source, Mapping):
        invalid = f"{spec.CONTACTS}.{contact_type} must be a map of {', '.join(spec.DETAIL_FIELDS)}"
        return declaring.contact(shown_type, unresolved=tuple(unresolved), invalid=(invalid,))
    details: dict[str, str] = {}
    for key in spec.DETAIL_FIELDS:
        value = _field(source.get(key), scope)
        if isinstance(value, Unresolved):
            unresolved.append(deploy_time_entry(key, value))
            skip.add(key)
        elif value is not None:
            properties[key] = value
            if isinstance(value, str):
                details[key] = value
    errors = spec.field_errors(properties, skip=frozenset(skip))
    return declaring.contact(shown_type, details, unresolved=tuple(unresolved), invalid=tuple(errors))
