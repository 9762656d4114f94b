"""The organization's structure (which organizational unit holds each account), as a lookup the user refreshes.

An organizational unit's rule applies to the accounts under it, but a CDK app does not know, at synth time,
where an account sits. As CDK's own context lookups do (``Vpc.from_lookup`` and cdk.context.json), the
structure is looked up once, by ``cdk-alternate-contacts lookup``, and recorded in the app's
``cdk.context.json`` under :data:`CONTEXT_KEY`; every synth reads it from there, so templates stay the same
from one synth to the next until the user refreshes it. An account moved to another unit gets that unit's
rule at the first deploy after the refresh (``plan`` shows the change). This module needs no CDK.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

#: Where the structure is kept in the CDK context (cdk.context.json).
CONTEXT_KEY: Final = "cdk-alternate-contacts:organization-structure"

#: The command that records (and refreshes) the structure.
LOOKUP_COMMAND: Final = "cdk-alternate-contacts lookup"

#: Organizations' id patterns (its API model).
ORGANIZATIONAL_UNIT_ID: Final = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$", re.ASCII)
ROOT_ID: Final = re.compile(r"^r-[0-9a-z]{4,32}$", re.ASCII)
ACCOUNT_ID: Final = re.compile(r"^\d{12}$", re.ASCII)
ORGANIZATION_ID: Final = re.compile(r"^o-[a-z0-9]{10,32}$", re.ASCII)

#: A chain of parents longer than this is a loop (Organizations allows five levels of units under the root).
MAX_DEPTH: Final = 10


class StructureError(ValueError):
    """The recorded structure is malformed; the message names the context key and the entry."""


@dataclass(frozen=True)
class OrganizationStructure:
    """Where each account and organizational unit of one organization sits.

    Attributes
    ----------
    organization_id:
        The organization (``o-...``).
    root_id:
        Its root (``r-...``).
    parents:
        The parent (a unit's id or the root's) of every account and organizational unit.
    looked_up_at:
        When it was looked up (ISO 8601, UTC), for messages.
    unit_names:
        The organizational units' names, by id, as labels for people. Default: none known (a structure
        recorded before names were kept); nothing is placed by name.
    """

    organization_id: str
    root_id: str
    parents: Mapping[str, str] = field(default_factory=dict)
    looked_up_at: str = ""
    unit_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parents", MappingProxyType(dict(self.parents)))
        object.__setattr__(self, "unit_names", MappingProxyType(dict(self.unit_names)))

    def path_of(self, account_id: str) -> tuple[str, ...] | None:
        """The organizational units holding the account, from the root's child down; ``None`` if unknown."""
        if account_id not in self.parents:
            return None
        path: list[str] = []
        parent = self.parents[account_id]
        while parent != self.root_id:
            path.append(parent)
            parent = self.parents[parent]  # checked in from_context: every chain ends at the root
        return tuple(reversed(path))

    def knows_unit(self, unit_id: str) -> bool:
        """Whether the organizational unit was in the organization when the structure was looked up."""
        return ORGANIZATIONAL_UNIT_ID.fullmatch(unit_id) is not None and unit_id in self.parents

    def units_top_down(self) -> list[str]:
        """Every organizational unit, each after its parent: depth first from the root, siblings by id."""
        children: dict[str, list[str]] = {}
        for child, parent in self.parents.items():
            if ORGANIZATIONAL_UNIT_ID.fullmatch(child):
                children.setdefault(parent, []).append(child)
        ordered: list[str] = []
        pending = sorted(children.get(self.root_id, []), reverse=True)
        while pending:
            unit = pending.pop()
            ordered.append(unit)
            pending += sorted(children.get(unit, []), reverse=True)
        return ordered

    def to_context(self) -> dict[str, Any]:
        """The JSON value kept under :data:`CONTEXT_KEY` (``unitNames`` only when names are known)."""
        value: dict[str, Any] = {
            "organizationId": self.organization_id,
            "rootId": self.root_id,
            "lookedUpAt": self.looked_up_at,
            "parents": dict(sorted(self.parents.items())),
        }
        if self.unit_names:
            value["unitNames"] = dict(sorted(self.unit_names.items()))
        return value

    @classmethod
    def from_context(cls, value: object) -> OrganizationStructure:
        """Read the value kept under :data:`CONTEXT_KEY`, checking every entry.

        The value is the JSON object cdk.context.json holds, or that object as a JSON string, as
        ``cdk synth --context cdk-alternate-contacts:organization-structure='{...}'`` passes it.

        Raises
        ------
        StructureError
            Naming the key and what is wrong (run the lookup again to rewrite it).
        """

        def fail(problem: str) -> StructureError:
            return StructureError(f"context {CONTEXT_KEY}: {problem}; run `{LOOKUP_COMMAND}` to record it again")

        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as error:
                raise fail(f"not valid JSON ({error.msg} at character {error.pos})") from None
        if not isinstance(value, Mapping):
            raise fail(f"must be an object (got {type(value).__name__})")
        organization_id, root_id, parents = value.get("organizationId"), value.get("rootId"), value.get("parents")
        if not isinstance(organization_id, str) or not ORGANIZATION_ID.fullmatch(organization_id):
            raise fail("organizationId: must be an organization id (o-...)")
        if not isinstance(root_id, str) or not ROOT_ID.fullmatch(root_id):
            raise fail("rootId: must be a root id (r-...)")
        if not isinstance(parents, Mapping):
            raise fail("parents: must map account and organizational unit ids to their parent's id")
        for child, parent in parents.items():
            if not isinstance(child, str) or not (
                ACCOUNT_ID.fullmatch(child) or ORGANIZATIONAL_UNIT_ID.fullmatch(child)
            ):
                raise fail(f"parents: {str(child)[:40]!r} is neither an account id nor an organizational unit id")
            if not isinstance(parent, str) or not (parent == root_id or ORGANIZATIONAL_UNIT_ID.fullmatch(parent)):
                raise fail(f"parents.{child}: {str(parent)[:40]!r} is neither the root nor an organizational unit id")
            if parent != root_id and parent not in parents:
                raise fail(f"parents.{child}: its parent {parent} is not recorded")
        for child in parents:
            parent, depth = parents[child], 0
            while parent != root_id:
                parent, depth = parents[parent], depth + 1
                if depth > MAX_DEPTH:
                    raise fail(f"parents.{child}: its chain of parents does not reach the root")
        unit_names = value.get("unitNames", {})
        if not isinstance(unit_names, Mapping):
            raise fail("unitNames: must map organizational unit ids to their names")
        for unit, name in unit_names.items():
            if not isinstance(unit, str) or unit not in parents or not ORGANIZATIONAL_UNIT_ID.fullmatch(unit):
                raise fail(f"unitNames: {str(unit)[:40]!r} is not one of the recorded organizational units")
            if not isinstance(name, str):
                raise fail(f"unitNames.{unit}: must be a string (got {type(name).__name__})")
        looked_up_at = value.get("lookedUpAt", "")
        return cls(organization_id, root_id, parents, looked_up_at if isinstance(looked_up_at, str) else "", unit_names)
