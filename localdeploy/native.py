"""Resources that are recorded, not emulated (roles, policies, log groups, the function itself):
the physical ids and attributes CloudFormation would report for them; and the one interface of the resource
types that ARE emulated, against a moto backend (:class:`ResourceEmulator`, one module per type:
:mod:`.organizations`, and the event side's listed in :mod:`.kinds`). An emulator may say which property
changes replace its resource (``replaces(old, new)``, the schema's create-only properties); the engine then
creates the new one and deletes the old one in cleanup, as CloudFormation does.

Generated names follow CloudFormation's pattern ``<stack>-<logical id>-<12 characters>``. The suffix is
derived from the stack and logical id instead of being random, so the same stack gets the same function
name on every run and its warm execution environments can be reused.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .template import TemplateError

#: Properties that, when set, are the resource's name (and Ref value).
NAME_PROPERTIES = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
}

_ALPHABET = string.ascii_letters + string.digits


def generated_name(stack_name: str, logical_id: str, max_length: int = 64) -> str:
    """A name as CloudFormation generates one, cut to ``max_length`` the way it does (both parts shortened)."""
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).digest()
    suffix = "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:12])
    room = max_length - len(suffix) - 2
    stack_part = stack_name[: max(room // 2, room - len(logical_id))]
    logical_part = logical_id[: room - len(stack_part)]
    return f"{stack_part}-{logical_part}-{suffix}"


def unique_name(stack_name: str, logical_id: str, max_length: int = 64, *, suffix: str = "") -> str:
    """A name as CloudFormation generates one for a resource it may replace (a queue, a rule, a statement id):
    ``<stack>-<logical id>-<12 random characters>``, cut as :func:`generated_name` cuts it, then ``suffix``
    (``.fifo``). Random, unlike :func:`generated_name`: a replacement must not take its predecessor's name."""
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    room = max_length - len(random_part) - 2 - len(suffix)
    stack_part = stack_name[: max(room // 2, room - len(logical_id))]
    logical_part = logical_id[: room - len(stack_part)]
    return f"{stack_part}-{logical_part}-{random_part}{suffix}"


#: CloudFormation's limit on a stack name.
MAX_STACK_NAME = 128

#: The random part CloudFormation appends to a nested stack's name (13 upper-case letters and digits).
NESTED_SUFFIX_LENGTH = 13


def nested_stack_name(parent_name: str, logical_id: str, salt: str) -> str:
    """A nested stack's name as CloudFormation makes it: ``<parent>-<logical id>-<13 characters>``.

    The suffix is derived from ``salt`` (the parent's StackId) and the logical id rather than random: a
    parent keeps the same nested stack names for its whole life, a new parent stack gets new ones. A name
    that would pass CloudFormation's 128 characters is shortened in its logical id part, as CloudFormation does.
    """
    digest = hashlib.sha256(f"{salt}/{logical_id}".encode()).digest()
    alphabet = string.ascii_uppercase + string.digits
    suffix = "".join(alphabet[b % len(alphabet)] for b in digest[:NESTED_SUFFIX_LENGTH])
    room = MAX_STACK_NAME - len(parent_name) - len(suffix) - 2
    return f"{parent_name}-{logical_id[: max(room, 1)]}-{suffix}"


def physical_id(resource_type: str, stack_name: str, logical_id: str, properties: dict[str, object]) -> str:
    """The physical id of a recorded resource: its declared name, else a generated one."""
    declared = properties.get(NAME_PROPERTIES.get(resource_type, ""))
    if isinstance(declared, str) and declared:
        return declared
    return generated_name(stack_name, logical_id)


def attribute(resource_type: str, physical: str, name: str, *, region: str, account_id: str) -> str:
    """``Fn::GetAtt`` of a recorded resource.

    Raises
    ------
    TemplateError
        For an attribute this module does not know: better to stop than to invent a value.
    """
    if name == "Arn":
        if resource_type == "AWS::Lambda::Function":
            return f"arn:aws:lambda:{region}:{account_id}:function:{physical}"
        if resource_type == "AWS::IAM::Role":
            return f"arn:aws:iam::{account_id}:role/{physical}"
        if resource_type == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{region}:{account_id}:log-group:{physical}:*"
        service = resource_type.split("::")[1].lower() if resource_type.count("::") == 2 else "unknown"
        return f"arn:aws:{service}:{region}:{account_id}:{physical}"
    if resource_type == "AWS::IAM::Role" and name == "RoleId":
        return "AROA" + hashlib.sha256(physical.encode()).hexdigest()[:17].upper()
    raise TemplateError(f"Fn::GetAtt {name} of {resource_type} is not emulated by localdeploy")


# -- resource types emulated against moto -------------------------------------------------------------------


class ResourceError(Exception):
    """A create, update or delete that CloudFormation would report as failed; the message is the event's reason.

    ``physical_id``: set when a create failed after the resource came to exist, so the rollback deletes it.
    """

    def __init__(self, reason: str, *, physical_id: str | None = None) -> None:
        super().__init__(reason)
        self.physical_id = physical_id


def handler_reason(message: str, error_code: str) -> str:
    """A failure reason as CloudFormation shows it for a registry resource type (the form its events carry):
    ``Resource handler returned message: "..." (RequestToken: <uuid>, HandlerErrorCode: <code>)``."""
    token = uuid.uuid4()
    return f'Resource handler returned message: "{message}" (RequestToken: {token}, HandlerErrorCode: {error_code})'


def service_reason(message: str, service: str, error_code: str, *, status: int = 400) -> str:
    """A failure reason as CloudFormation shows a service error met by a registry type's handler, e.g.
    ``Resource handler returned message: "Invalid request provided: ... (Service: Lambda, Status Code: 400,
    Request ID: <uuid>)" (RequestToken: <uuid>, HandlerErrorCode: InvalidRequest)`` (mongodb/docs-worker-pool
    #878; aws/aws-cdk #32753 for EventBridge's)."""
    return handler_reason(
        f"{message} (Service: {service}, Status Code: {status}, Request ID: {uuid.uuid4()})", error_code
    )


@dataclass(frozen=True)
class Created:
    """What an emulated create leaves: the physical id (the ``Ref`` value) and the ``Fn::GetAtt`` values."""

    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


class ResourceEmulator(Protocol):
    """One resource type that the engine creates, updates and deletes for real, in a moto backend, the way
    CloudFormation's own handler for that type does. Each method raises :class:`ResourceError` with the
    reason CloudFormation would give, having changed nothing it did not report."""

    #: The CloudFormation type it emulates (``AWS::Organizations::Account``).
    resource_type: str

    def create(self, logical_id: str, properties: Mapping[str, Any], *, stack_name: str = "") -> Created:
        """Create the resource from its resolved properties (``stack_name``: for the names CloudFormation
        generates, ``<stack>-<logical id>-<suffix>``)."""
        ...

    def update(self, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """Bring the resource from ``old`` to ``new`` properties in place; returns its attributes."""
        ...

    def delete(self, physical_id: str, properties: Mapping[str, Any]) -> None:
        """Delete the resource; one that is already gone counts as deleted, as in CloudFormation."""
        ...


def requires_replacement(emulator: ResourceEmulator, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a change of properties replaces the resource (the schema's ``createOnlyProperties``) rather than
    updating it in place: asked of an emulator that has a ``replaces(old, new)`` method; in place otherwise."""
    replaces = getattr(emulator, "replaces", None)
    return bool(replaces(old, new)) if callable(replaces) else False


def create_only_changed(keys: tuple[str, ...], old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether any of the create-only ``keys`` differs between ``old`` and ``new`` (absent and unset are one)."""
    return any(old.get(key) != new.get(key) for key in keys)


class ClientEmulator:
    """The shape most emulators share: one moto client of the stack's region, with the deployer's
    credentials, where the stack is deployed (for ARNs), and the type's create-only properties."""

    #: The CloudFormation type it emulates.
    resource_type: str
    #: The schema's ``createOnlyProperties``: a change of one replaces the resource (none: always in place).
    create_only: tuple[str, ...] = ()

    def __init__(self, client: Any, *, region: str = "", account_id: str = "") -> None:
        self.client = client
        self.region = region
        self.account_id = account_id

    def replaces(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        """Whether a create-only property changed."""
        return create_only_changed(self.create_only, old, new)


def tags(properties: Mapping[str, Any]) -> dict[str, str]:
    """A resource's ``Tags`` (a list of Key and Value) as a mapping."""
    return {str(tag["Key"]): str(tag["Value"]) for tag in properties.get("Tags") or []}


def tag_changes(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """What an update does to a resource's tags: the keys to untag (sorted), and the tags to set."""
    return sorted(set(old) - set(new)), {k: v for k, v in new.items() if old.get(k) != v}
