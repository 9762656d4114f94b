"""Reading a CloudFormation template: parameters, rules, conditions, intrinsic functions, dependencies.

The functions CDK templates use are supported (Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Sub,
Fn::If, the condition functions, Fn::FindInMap, Fn::Base64, Fn::GetAZs); any other raises
:class:`TemplateError` naming it rather than passing a wrong value on.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: Pseudo parameters a Ref may name.
PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class TemplateError(ValueError):
    """The template uses something this engine cannot evaluate, or is invalid."""


class _NoValue:
    """``Ref: AWS::NoValue``: the property is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


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
        found: set[str] = set()
        _collect_references(resource.get("Properties", {}), found)
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


def _collect_references(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
                return
            if key == "Fn::GetAtt":
                target = argument.split(".", 1)[0] if isinstance(argument, str) else argument[0]
                found.add(str(target))
                return
            if key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                variables = {} if isinstance(argument, str) else argument[1]
                for name in _SUB_VARIABLE.findall(text):
                    if not name.startswith("!") and name not in variables:
                        found.add(name.split(".", 1)[0])
                _collect_references(variables, found)
                return
        for item in value.values():
            _collect_references(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_references(item, found)


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
    """Evaluates intrinsic functions and conditions against a stack's current values.

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
        self.pseudo = {**pseudo, "AWS::NoValue": NO_VALUE}
        self.parameters = parameters
        self._ref = ref
        self._get_att = get_att
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        """The value of the named condition."""
        if name not in self._conditions:
            if name not in self.template.conditions:
                raise TemplateError(f"Unresolved condition dependency {name}")
            self._conditions[name] = self._truth(self.template.conditions[name])
        return self._conditions[name]

    def included(self, logical_id: str) -> bool:
        """Whether the resource's Condition (if any) holds."""
        name = self.template.resources[logical_id].get("Condition")
        return True if name is None else self.condition(str(name))

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated and ``AWS::NoValue`` removed."""
        resolved = self._evaluate(value)
        return None if resolved is NO_VALUE else resolved

    def outputs(self) -> dict[str, str]:
        """The template's Outputs whose Condition holds, evaluated; as CloudFormation reports them, strings
        (a list is joined with commas)."""
        values = {}
        for name, output in self.template.outputs.items():
            if "Condition" in output and not self.condition(str(output["Condition"])):
                continue
            value = self.resolve(output.get("Value"))
            values[name] = ",".join(_text(v) for v in value) if isinstance(value, list) else _text(value)
        return values

    def rule_failures(self) -> list[str]:
        """The AssertDescription of every rule assertion that does not hold."""
        failures = []
        for name, rule in self.template.rules.items():
            if "RuleCondition" in rule and not self._truth(rule["RuleCondition"]):
                continue
            for assertion in rule.get("Assertions", []):
                if not self._truth(assertion["Assert"]):
                    failures.append(str(assertion.get("AssertDescription") or f"Rule {name} failed"))
        return failures

    def _evaluate(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self._evaluate(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            function = _FUNCTIONS.get(key)
            if function is not None:
                return function(self, argument)
            if key.startswith("Fn::"):
                raise TemplateError(f"{key} is not supported by localdeploy")
        resolved = {k: self._evaluate(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    # -- functions --------------------------------------------------------------------------------------

    def _fn_ref(self, name: Any) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.template.resources:
            if not self.included(name):
                raise TemplateError(f"Ref {name}: the resource's condition is false")
            return self._ref(name)
        raise TemplateError(f"Unresolved resource dependencies [{name}] in the Resources block of the template")

    def _fn_get_att(self, argument: Any) -> Any:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        attribute = self._evaluate(attribute)
        if logical_id not in self.template.resources:
            raise TemplateError(f"Fn::GetAtt: no resource {logical_id}")
        return self._get_att(str(logical_id), str(attribute))

    def _fn_join(self, argument: Any) -> str:
        delimiter, items = argument
        values = self._evaluate(items)
        return str(delimiter).join(_text(v) for v in values)

    def _fn_select(self, argument: Any) -> Any:
        index, items = self._evaluate(argument[0]), self._evaluate(argument[1])
        try:
            return items[int(index)]
        except (IndexError, ValueError, TypeError) as error:
            raise TemplateError(f"Fn::Select index {index} out of range") from error

    def _fn_split(self, argument: Any) -> list[str]:
        delimiter, text = argument
        return _text(self._evaluate(text)).split(str(delimiter))

    def _fn_sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self._evaluate(v) for name, v in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return _text(values[name])
            if "." in name and not name.startswith("AWS::"):
                return _text(self._fn_get_att(name))
            return _text(self._fn_ref(name))

        return _SUB_VARIABLE.sub(substitute, str(text))

    def _fn_if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self._evaluate(when_true if self.condition(str(name)) else when_false)

    def _fn_equals(self, argument: Any) -> bool:
        left, right = (self._evaluate(v) for v in argument)
        return _text(left) == _text(right)

    def _truth(self, value: Any) -> bool:
        # ``{"Condition": name}`` is a function only where a condition is expected; elsewhere (an IAM
        # statement's Condition block, say) it is plain data.
        if isinstance(value, dict) and len(value) == 1 and "Condition" in value:
            return self.condition(str(value["Condition"]))
        result = self._evaluate(value)
        return _text(result).lower() == "true" if isinstance(result, str) else bool(result)

    def _fn_not(self, argument: Any) -> bool:
        return not self._truth(argument[0])

    def _fn_and(self, argument: Any) -> bool:
        return all(self._truth(v) for v in argument)

    def _fn_or(self, argument: Any) -> bool:
        return any(self._truth(v) for v in argument)

    def _fn_contains(self, argument: Any) -> bool:
        items, value = self._evaluate(argument[0]), self._evaluate(argument[1])
        return _text(value) in [_text(v) for v in items]

    def _fn_each_member_equals(self, argument: Any) -> bool:
        items, value = self._evaluate(argument[0]), self._evaluate(argument[1])
        return all(_text(v) == _text(value) for v in items)

    def _fn_each_member_in(self, argument: Any) -> bool:
        items, allowed = self._evaluate(argument[0]), self._evaluate(argument[1])
        return all(_text(v) in [_text(a) for a in allowed] for v in items)

    def _fn_find_in_map(self, argument: Any) -> Any:
        name, top, second = (self._evaluate(v) for v in argument)
        try:
            return self.template.mappings[name][top][second]
        except KeyError as error:
            raise TemplateError(f"Fn::FindInMap: no {name}/{top}/{second}") from error

    def _fn_base64(self, argument: Any) -> str:
        return base64.b64encode(_text(self._evaluate(argument)).encode()).decode()

    def _fn_get_azs(self, argument: Any) -> list[str]:
        region = _text(self._evaluate(argument)) or _text(self.pseudo["AWS::Region"])
        return [f"{region}{zone}" for zone in "abc"]


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": Resolver._fn_ref,
    "Fn::GetAtt": Resolver._fn_get_att,
    "Fn::Join": Resolver._fn_join,
    "Fn::Select": Resolver._fn_select,
    "Fn::Split": Resolver._fn_split,
    "Fn::Sub": Resolver._fn_sub,
    "Fn::If": Resolver._fn_if,
    "Fn::Equals": Resolver._fn_equals,
    "Fn::Not": Resolver._fn_not,
    "Fn::And": Resolver._fn_and,
    "Fn::Or": Resolver._fn_or,
    "Fn::Contains": Resolver._fn_contains,
    "Fn::EachMemberEquals": Resolver._fn_each_member_equals,
    "Fn::EachMemberIn": Resolver._fn_each_member_in,
    "Fn::FindInMap": Resolver._fn_find_in_map,
    "Fn::Base64": Resolver._fn_base64,
    "Fn::GetAZs": Resolver._fn_get_azs,
}


def _text(value: Any) -> str:
    """A scalar as CloudFormation writes it into a string (booleans lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stringify(value: Any) -> Any:
    """Properties as a custom resource receives them: every scalar a string, structure kept."""
    if isinstance(value, dict):
        return {k: stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify(v) for v in value]
    return _text(value) if value is not None else ""
