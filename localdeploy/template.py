"""Reading a CloudFormation template for a deploy: parameters, rules, conditions, outputs, dependencies.

Values are evaluated by the project's one resolver, :mod:`cdk_alternate_contacts_cli.intrinsics`, with a
strict scope: a function it does not evaluate, or a value that does not exist, raises :class:`TemplateError`
naming it rather than passing a wrong value on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cdk_alternate_contacts_cli import intrinsics
from cdk_alternate_contacts_cli.intrinsics import Scope, TemplateError, Unresolved, stringify

__all__ = ["Resolver", "Template", "TemplateError", "parameter_values", "stringify"]


class Template:
    """A template's sections, and the dependencies between its resources.

    Parameters
    ----------
    document:
        The parsed template.
    """

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.resources: dict[str, dict[str, Any]] = dict(document.get("Resources", {}))
        self.parameters: dict[str, dict[str, Any]] = dict(document.get("Parameters", {}))
        self.conditions: dict[str, Any] = dict(document.get("Conditions", {}))
        self.rules: dict[str, Any] = dict(document.get("Rules", {}))
        self.mappings: dict[str, Any] = dict(document.get("Mappings", {}))
        self.outputs: dict[str, dict[str, Any]] = dict(document.get("Outputs", {}))

    def dependencies(self, logical_id: str) -> set[str]:
        """The resources ``logical_id`` refers to (Ref, Fn::GetAtt, Fn::Sub) or names in DependsOn."""
        resource = self.resources[logical_id]
        found = intrinsics.references(resource.get("Properties", {}))
        depends_on = resource.get("DependsOn", [])
        found.update([depends_on] if isinstance(depends_on, str) else depends_on)
        return {name for name in found if name in self.resources and name != logical_id}

    def order(self, logical_ids: Iterable[str]) -> list[str]:
        """``logical_ids`` sorted so that every resource comes after those it depends on.

        Raises
        ------
        TemplateError
            On a circular dependency.
        """
        wanted = list(logical_ids)
        remaining = {lid: self.dependencies(lid) & set(wanted) for lid in wanted}
        ordered: list[str] = []
        while remaining:
            ready = [lid for lid in wanted if lid in remaining and not remaining[lid]]
            if not ready:
                raise TemplateError(f"Circular dependency between resources: {sorted(remaining)}")
            for lid in ready:
                ordered.append(lid)
                del remaining[lid]
            for deps in remaining.values():
                deps.difference_update(ready)
        return ordered


def parameter_values(
    template: Template, overrides: Mapping[str, str], ssm_lookup: Callable[[str], str] | None
) -> dict[str, Any]:
    """Each parameter's value: the override, else the Default; SSM-typed ones read from Parameter Store.

    Raises
    ------
    TemplateError
        For a parameter with no value, an unknown override, or a value that breaks AllowedValues,
        AllowedPattern, MinLength or MaxLength (CloudFormation's validation, before any resource).
    """
    unknown = sorted(set(overrides) - set(template.parameters))
    if unknown:
        raise TemplateError(f"Parameters: {unknown} do not exist in the template")
    values: dict[str, Any] = {}
    missing = []
    for name, declaration in template.parameters.items():
        raw = overrides.get(name, declaration.get("Default"))
        if raw is None:
            missing.append(name)
            continue
        text = str(raw)
        kind = str(declaration.get("Type", "String"))
        if kind.startswith("AWS::SSM::Parameter::Value<"):
            if ssm_lookup is None:
                raise TemplateError(f"Parameter {name} reads SSM parameter {text}, but no SSM is available")
            text = ssm_lookup(text)
        _validate_parameter(name, declaration, text)
        is_list = kind.startswith("List<") or kind == "CommaDelimitedList" or "<List<" in kind
        values[name] = [item.strip() for item in text.split(",")] if is_list else text
    if missing:
        raise TemplateError(f"Parameters: {missing} must have values")
    return values


def _validate_parameter(name: str, declaration: Mapping[str, Any], value: str) -> None:
    hint = declaration.get("ConstraintDescription")
    allowed = declaration.get("AllowedValues")
    problem = ""
    if allowed is not None and value not in [str(v) for v in allowed]:
        problem = f"Parameter '{name}' must be one of AllowedValues"
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), value) is None:
        problem = f"Parameter '{name}' must match pattern {pattern}"
    if "MinLength" in declaration and len(value) < int(declaration["MinLength"]):
        problem = f"Parameter '{name}' must contain at least {declaration['MinLength']} characters"
    if "MaxLength" in declaration and len(value) > int(declaration["MaxLength"]):
        problem = f"Parameter '{name}' must contain at most {declaration['MaxLength']} characters"
    if problem:
        raise TemplateError(f"{problem}{f' ({hint})' if hint else ''}")


class Resolver:
    """The shared resolver bound to one stack of a deploy: its template, parameters and resources so far.

    Parameters
    ----------
    template:
        The template being deployed.
    pseudo:
        Values of the pseudo parameters (AWS::AccountId, AWS::StackId, ...).
    parameters:
        Parameter values from :func:`parameter_values`.
    ref, get_att:
        A resource's Ref value and attributes; called only for resources already created.
    """

    def __init__(
        self,
        template: Template,
        *,
        pseudo: Mapping[str, Any],
        parameters: Mapping[str, Any],
        ref: Callable[[str], str],
        get_att: Callable[[str, str], Any],
    ) -> None:
        self.template = template
        self.scope = Scope(
            account=pseudo.get("AWS::AccountId"),
            partition=pseudo.get("AWS::Partition"),
            region=pseudo.get("AWS::Region"),
            url_suffix=pseudo.get("AWS::URLSuffix"),
            stack_name=pseudo.get("AWS::StackName"),
            stack_id=pseudo.get("AWS::StackId"),
            notification_arns=pseudo.get("AWS::NotificationARNs"),
            parameters=template.parameters,
            parameter_values=parameters,
            mappings=template.mappings,
            conditions=template.conditions,
            resources=template.resources,
            ref=ref,
            get_att=get_att,
            # Zones are not emulated: every region has three, a to c.
            availability_zones=lambda region: [f"{region}{zone}" for zone in "abc"],
            strict=True,
        )

    def condition(self, name: str) -> bool:
        """The value of the named condition."""
        return _decided(intrinsics.condition(name, self.scope))

    def included(self, logical_id: str) -> bool:
        """Whether the resource's Condition (if any) holds."""
        return _decided(intrinsics.included(logical_id, self.scope))

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated and ``AWS::NoValue`` removed."""
        resolved = intrinsics.resolve(value, self.scope)
        return None if resolved is intrinsics.NO_VALUE else resolved

    def outputs(self) -> dict[str, str]:
        """The template's Outputs whose Condition holds, evaluated; as CloudFormation reports them, strings
        (a list is joined with commas)."""
        values = {}
        for name, output in self.template.outputs.items():
            if "Condition" in output and not self.condition(str(output["Condition"])):
                continue
            value = self.resolve(output.get("Value"))
            values[name] = (
                ",".join(map(intrinsics.scalar_text, value))
                if isinstance(value, list)
                else intrinsics.scalar_text(value)
            )
        return values

    def rule_failures(self) -> list[str]:
        """The AssertDescription of every rule assertion that does not hold."""
        failures = []
        for name, rule in self.template.rules.items():
            if "RuleCondition" in rule and not _decided(intrinsics.holds(rule["RuleCondition"], self.scope)):
                continue
            for assertion in rule.get("Assertions", []):
                if not _decided(intrinsics.holds(assertion["Assert"], self.scope)):
                    failures.append(str(assertion.get("AssertDescription") or f"Rule {name} failed"))
        return failures


def _decided(value: bool | Unresolved) -> bool:
    """A strict scope raises rather than return an :class:`Unresolved`; this says so to the type checker."""
    if isinstance(value, Unresolved):
        raise TemplateError(value.reason)
    return value
