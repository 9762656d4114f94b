"""The coverage's rules as the coverage function reads them: a document the construct writes at synth.

The document is bundled, as ``coverage-rules.json``, in the coverage function's deployment package: never in a
template, an environment variable or a log. It holds the organization's defaults and the organizational
units' rules (their contact details), the scope, what to do on drift, and the accounts the stack's own
resources own (listed in ``[[accounts]]``), which the coverage never touches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from . import spec
from .rules import Layer, cascade, layers_for
from .spec import AlternateContactType

#: The file's name in the function's package.
RULES_FILE: Final = "coverage-rules.json"

#: The coverage function's handler, as the Lambda runtime imports it (the function that reads the file): how
#: the command-line tool tells a coverage function in a template.
FUNCTION_HANDLER: Final = "cdk_alternate_contacts_handler.coverage_index.handler"

#: The document's format; a function refuses a document of another version.
VERSION: Final = 1

#: ``scope`` of a coverage of every ACTIVE account of the organization.
ALL: Final = "all"

OnDriftValue = Literal["restore", "report"]
ON_DRIFT_VALUES: Final = ("restore", "report")

Details = Mapping[str, str]


class RulesError(ValueError):
    """The bundled document is not one this function can use (it never quotes a value)."""


@dataclass(frozen=True)
class CoverageRules:
    """What the coverage keeps, read from the bundled document.

    Attributes
    ----------
    scope:
        ``"all"`` or the ids of the organizational units whose accounts (at any depth) are covered.
    on_drift:
        ``"restore"`` puts a contact that differs from the rules back; ``"report"`` only counts it.
    defaults, units:
        The defaults and each unit's rule, with the API's keys (``EmailAddress``...).
    unit_names:
        Labels of the units, for reports.
    listed:
        Accounts owned by the stack's CloudFormation resources: never written by the coverage.
    digest:
        The SHA-256 of the document's canonical form: the rules' version, without their content.
    """

    scope: str | tuple[str, ...]
    on_drift: OnDriftValue
    defaults: Layer[Details]
    units: Mapping[str, Layer[Details]] = field(default_factory=dict)
    unit_names: Mapping[str, str] = field(default_factory=dict)
    listed: frozenset[str] = frozenset()
    digest: str = ""

    def covers(self, path: Sequence[str]) -> bool:
        """Whether an account on ``path`` (unit ids from the root's child down) is in the scope."""
        return self.scope == ALL or any(unit in self.scope for unit in path)

    def desired(self, path: Sequence[str]) -> dict[AlternateContactType, Details]:
        """What an account on ``path`` gets: the deepest unit's rule naming each type, then the defaults."""
        return cascade(layers_for(None, path, self.units, self.defaults))

    def rule_of(self, path: Sequence[str]) -> str:
        """The rule reports count an account under: its deepest unit with a rule, else ``defaults``."""
        for unit in reversed(path):
            if unit in self.units:
                return unit
        return "defaults"


def document(
    *,
    scope: str | Sequence[str],
    on_drift: OnDriftValue,
    defaults: Mapping[AlternateContactType, Details],
    units: Mapping[str, tuple[Mapping[AlternateContactType, Details], Collection[AlternateContactType]]],
    unit_names: Mapping[str, str],
    listed: Collection[str],
) -> dict[str, Any]:
    """The document the construct bundles (see :func:`parse`); ``units`` maps id -> (overrides, opt-outs)."""
    return {
        "version": VERSION,
        "scope": scope if isinstance(scope, str) else sorted(scope),
        "onDrift": on_drift,
        "defaults": {t.value: dict(d) for t, d in sorted(defaults.items())},
        "units": {
            unit: {
                "contacts": {t.value: dict(d) for t, d in sorted(overrides.items())},
                "optOut": sorted(t.value for t in opt_out),
            }
            for unit, (overrides, opt_out) in sorted(units.items())
        },
        "unitNames": dict(sorted(unit_names.items())),
        "listed": sorted(listed),
    }


def canonical(value: Mapping[str, Any]) -> bytes:
    """The document's bytes, the same for the same rules."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def digest_of(value: Mapping[str, Any]) -> str:
    """The SHA-256 of the canonical document (a version that tells nothing of the contents)."""
    return hashlib.sha256(canonical(value)).hexdigest()


def _layer(where: str, contacts: object, opt_out: object) -> Layer[Details]:
    if not isinstance(contacts, Mapping):
        raise RulesError(f"{where}: contacts must be an object")
    parsed: dict[AlternateContactType, Details] = {}
    for key, details in contacts.items():
        contact_type = spec.normalized_type(key)
        if contact_type is None or not isinstance(details, Mapping):
            raise RulesError(f"{where}: {str(key)[:20]!r} is not a contact type with details")
        if set(details) != set(spec.DETAIL_FIELDS) or not all(isinstance(v, str) for v in details.values()):
            raise RulesError(f"{where}.{contact_type.value}: must hold exactly {', '.join(spec.DETAIL_FIELDS)}")
        parsed[contact_type] = {k: str(v) for k, v in details.items()}
    if not isinstance(opt_out, list) or any(spec.normalized_type(t) is None for t in opt_out):
        raise RulesError(f"{where}: optOut must list contact types")
    return Layer(contacts=parsed, opt_out=frozenset(t for t in map(spec.normalized_type, opt_out) if t is not None))


def parse(value: object) -> CoverageRules:
    """Read a document made by :func:`document`.

    Raises
    ------
    RulesError
        Naming the part that is wrong.
    """
    if not isinstance(value, Mapping) or value.get("version") != VERSION:
        raise RulesError(f"{RULES_FILE}: not a version {VERSION} coverage document")
    scope = value.get("scope")
    if not (scope == ALL or (isinstance(scope, list) and scope and all(isinstance(u, str) for u in scope))):
        raise RulesError(f"{RULES_FILE}: scope must be {ALL!r} or a list of organizational unit ids")
    on_drift = value.get("onDrift")
    if on_drift not in ON_DRIFT_VALUES:
        raise RulesError(f"{RULES_FILE}: onDrift must be one of {', '.join(ON_DRIFT_VALUES)}")
    units_value = value.get("units", {})
    if not isinstance(units_value, Mapping):
        raise RulesError(f"{RULES_FILE}: units must be an object")
    units = {
        str(unit): _layer(f"units.{unit}", rule.get("contacts", {}), rule.get("optOut", []))
        for unit, rule in units_value.items()
        if isinstance(rule, Mapping)
    }
    if len(units) != len(units_value):
        raise RulesError(f"{RULES_FILE}: every unit's rule must be an object")
    listed = value.get("listed", [])
    names = value.get("unitNames", {})
    if not isinstance(listed, list) or not isinstance(names, Mapping):
        raise RulesError(f"{RULES_FILE}: listed must be a list and unitNames an object")
    return CoverageRules(
        scope=ALL if scope == ALL else tuple(scope),
        on_drift=on_drift,
        defaults=_layer("defaults", value.get("defaults", {}), []),
        units=units,
        unit_names={str(k): str(v) for k, v in names.items()},
        listed=frozenset(str(a) for a in listed),
        digest=digest_of(value),
    )
