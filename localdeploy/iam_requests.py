"""What IAM is asked for each call a function makes (:class:`RequestMapper`), and how each service says no.

The Account API, CloudFormation and STS are mapped by :class:`RequestMapper` itself. For every service
below, the action, the resource ARN and the condition keys are those of the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/), per service:

SQS (``list_amazonsqs.html``)
    ``sqs:<Operation>`` on ``arn:aws:sqs:<region>:<account>:<queue>`` (the queue of QueueUrl, or QueueName);
    batch calls are authorized as their single form (SendMessageBatch as ``sqs:SendMessage``: SQS developer
    guide, "Amazon SQS batch actions"); ListQueues on ``*``.
EventBridge (``list_amazoneventbridge.html``)
    PutEvents on each entry's bus (``arn:aws:events:<region>:<account>:event-bus/<name>``) with
    ``events:source`` and ``events:detail-type``; rule calls on ``.../rule/[<bus>/]<name>``; ListRules on
    ``*``.
SSM (``list_awssystemsmanager.html``)
    parameter calls on ``arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>``, every
    name of GetParameters / DeleteParameters, GetParametersByPath on the path itself (a grant of
    ``parameter/a/*`` does not cover the path ``/a``: a known trap, kept).
CloudWatch (``list_amazoncloudwatch.html``)
    ``cloudwatch:<Operation>`` on ``*``; PutMetricData with ``cloudwatch:namespace``.
DynamoDB (``list_amazondynamodb.html``; JSON protocol, ``X-Amz-Target: DynamoDB_20120810.<Operation>``)
    ``dynamodb:<Operation>`` on ``arn:aws:dynamodb:<region>:<account>:table/<name>`` (TableName, or the ARN
    given in its place); BatchGetItem and BatchWriteItem on every table of RequestItems; a transaction has no
    action of its own: each of its items is authorized as its underlying call (Put as ``dynamodb:PutItem``,
    Update as ``dynamodb:UpdateItem``, Delete as ``dynamodb:DeleteItem``, ConditionCheck as
    ``dynamodb:ConditionCheckItem``, Get as ``dynamodb:GetItem``) on its table, with
    ``dynamodb:EnclosingOperation`` (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html);
    ListTables on ``*``.
Organizations (``list_awsorganizations.html``)
    DescribeAccount and ListParents of an account on ``arn:aws:organizations::<management>:account/<org>/<id>``;
    a unit (``ou-``) on ``...:ou/<org>/<id>``, a root (``r-``) on ``...:root/<org>/<id>`` (ListParents,
    ListChildren, ListAccountsForParent, ListOrganizationalUnitsForParent, DescribeOrganizationalUnit,
    ListTagsForResource); ListAccounts, ListRoots, DescribeOrganization on ``*``.

The region of a call is its SigV4 credential scope's, as AWS takes it.

Denials, as boto3 reads the real ones: SQS and CloudWatch (JSON protocols compatible with their old query
protocol) answer 403 with ``x-amzn-query-error: AccessDenied;Sender``, so ``ClientError`` has the code
``AccessDenied``, and SQS writes the action in lower case ("is not authorized to perform: sqs:receivemessage
on resource: ...", as RaiderIO/keystone.guru #3901 records it); EventBridge and SSM answer
AccessDeniedException with IAM's sentence; Organizations answers AccessDeniedException "You don't have
permissions to access this resource." (aws-samples/aws-iam-access-key-auto-rotation #10).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

#: Services whose calls this module maps (SigV4 signing names).
SERVICES = frozenset({"sqs", "events", "ssm", "monitoring", "organizations", "dynamodb"})

_REGION = re.compile(r"Credential=[A-Z0-9]+/\d{8}/([a-z0-9-]+)/")

#: Batch calls, authorized as their single form.
_SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}

#: Organizations calls on everything (no resource type).
_ORGANIZATIONS_GLOBAL = {"ListAccounts", "ListRoots", "DescribeOrganization"}


#: The items of a DynamoDB transaction, each authorized as its underlying call.
_TRANSACTION_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


@dataclass(frozen=True)
class Request:
    """What IAM is asked for one call: the action, every resource it touches (all must be allowed), the keys,
    and (``more``) further actions on their resources the same call needs, each of which must be allowed too."""

    action: str
    resources: tuple[str, ...]
    context: Mapping[str, list[str]] = field(default_factory=dict)
    more: tuple[tuple[str, str], ...] = ()


def call_region(headers: Mapping[str, str], default: str) -> str:
    """The region of a SigV4-signed call (its credential scope)."""
    authorization = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
    found = _REGION.search(authorization)
    return found.group(1) if found else default


def _queue_arn(url_or_name: str, region: str, account_id: str) -> str:
    if url_or_name.startswith("arn:"):
        return url_or_name
    parts = url_or_name.rstrip("/").split("/")
    account = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else account_id
    return f"arn:aws:sqs:{region}:{account}:{parts[-1]}"


def _parameter_arn(name: str, region: str, account_id: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:ssm:{region}:{account_id}:parameter/{name.removeprefix('/')}"


def _bus(name: str, region: str, account_id: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:events:{region}:{account_id}:event-bus/{name or 'default'}"


def _rule(name: str, bus: str, region: str, account_id: str) -> str:
    if name.startswith("arn:"):
        return name
    bus_name = (bus or "default").rsplit("/", 1)[-1]
    path = name if bus_name == "default" else f"{bus_name}/{name}"
    return f"arn:aws:events:{region}:{account_id}:rule/{path}"


def request_for(
    service: str,
    operation: str,
    document: Mapping[str, Any],
    *,
    region: str,
    account_id: str,
    organization: Callable[[], tuple[str, str] | None],
) -> Request:
    """The :class:`Request` of one call of a service in :data:`SERVICES`.

    ``organization`` returns (management account, organization id) of the caller's organization, or ``None``.
    """
    if service == "sqs":
        action = _SQS_BATCH.get(operation, operation)
        target = document.get("QueueUrl") or document.get("QueueName")
        resource = _queue_arn(str(target), region, account_id) if target else "*"
        return Request(f"sqs:{action}", (resource,))
    if service == "events":
        return _events(operation, document, region, account_id)
    if service == "ssm":
        names = [str(n) for n in document.get("Names") or []]
        if document.get("Name"):
            names = [str(document["Name"])]
        elif document.get("Path"):
            names = [str(document["Path"])]
        resources = tuple(_parameter_arn(n, region, account_id) for n in names) or ("*",)
        return Request(f"ssm:{operation}", resources)
    if service == "monitoring":
        context = {"cloudwatch:namespace": [str(document["Namespace"])]} if document.get("Namespace") else {}
        return Request(f"cloudwatch:{operation}", ("*",), context)
    if service == "organizations":
        return _organizations(operation, document, organization)
    if service == "dynamodb":
        return _dynamodb(operation, document, region, account_id)
    raise ValueError(f"service {service} is not mapped here")


def _events(operation: str, document: Mapping[str, Any], region: str, account_id: str) -> Request:
    if operation == "PutEvents":
        entries = [e for e in document.get("Entries") or [] if isinstance(e, Mapping)]
        buses = tuple(dict.fromkeys(_bus(str(e.get("EventBusName") or ""), region, account_id) for e in entries))
        context = {
            "events:source": sorted({str(e.get("Source", "")) for e in entries}),
            "events:detail-type": sorted({str(e.get("DetailType", "")) for e in entries}),
        }
        return Request("events:PutEvents", buses or (_bus("", region, account_id),), context)
    rule = document.get("Rule") or (document.get("Name") if "Rule" in operation else None)
    if rule:
        return Request(
            f"events:{operation}", (_rule(str(rule), str(document.get("EventBusName") or ""), region, account_id),)
        )
    if operation in ("DescribeEventBus",) and document.get("Name"):
        return Request(f"events:{operation}", (_bus(str(document["Name"]), region, account_id),))
    return Request(f"events:{operation}", ("*",))


def _table(name: str, region: str, account_id: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:dynamodb:{region}:{account_id}:table/{name}"


def _dynamodb(operation: str, document: Mapping[str, Any], region: str, account_id: str) -> Request:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        pairs = [
            (f"dynamodb:{action}", _table(str(item[kind].get("TableName", "")), region, account_id))
            for item in document.get("TransactItems") or []
            for kind, action in _TRANSACTION_ITEMS.items()
            if isinstance(item, Mapping) and isinstance(item.get(kind), Mapping)
        ]
        if not pairs:
            return Request(f"dynamodb:{operation}", ("*",))
        (action, resource), *more = pairs
        return Request(action, (resource,), {"dynamodb:EnclosingOperation": [operation]}, tuple(more))
    if operation in ("BatchGetItem", "BatchWriteItem"):
        tables = tuple(_table(str(name), region, account_id) for name in document.get("RequestItems") or {})
        return Request(f"dynamodb:{operation}", tables or ("*",))
    table = document.get("TableName") or document.get("ResourceArn")
    return Request(f"dynamodb:{operation}", (_table(str(table), region, account_id),) if table else ("*",))


def _organizations(
    operation: str, document: Mapping[str, Any], organization: Callable[[], tuple[str, str] | None]
) -> Request:
    action = f"organizations:{operation}"
    if operation in _ORGANIZATIONS_GLOBAL:
        return Request(action, ("*",))
    target = next(
        (
            str(document[key])
            for key in ("AccountId", "ChildId", "ParentId", "OrganizationalUnitId", "ResourceId")
            if document.get(key)
        ),
        "",
    )
    if not target:
        return Request(action, ("*",))
    found = organization()
    management, organization_id = found if found else ("000000000000", "o-none")
    if target.startswith("ou-"):
        kind = "ou"
    elif target.startswith("r-"):
        kind = "root"
    else:
        kind = "account"
    return Request(action, (f"arn:aws:organizations::{management}:{kind}/{organization_id}/{target}",))


# -- what each call asks IAM ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    """What IAM is asked for one API call: the action, the resource ARN and the request's condition keys
    (``more_resources``: further resources the same call touches, each of which must be allowed too)."""

    action: str
    resource: str
    context: Mapping[str, list[str]] = field(default_factory=dict)
    more_resources: tuple[str, ...] = ()
    #: Further (action, resource) pairs of the same call (a DynamoDB transaction's other items).
    more_actions: tuple[tuple[str, str], ...] = ()

    def checks(self) -> tuple[tuple[str, str], ...]:
        """Every (action, resource) IAM must allow for the call."""
        own = tuple((self.action, resource) for resource in (self.resource, *self.more_resources))
        return own + self.more_actions


@dataclass(frozen=True)
class Organization:
    """The organization the deploying account manages (for member-account ARNs)."""

    organization_id: str
    management_account_id: str


@dataclass(kw_only=True)
class RequestMapper:
    """Turns a signed HTTP request into the :class:`Authorization` the real service would ask IAM for."""

    #: Where the calls are made.
    region: str
    #: The calling account.
    account_id: str
    #: Returns the caller's organization (``None`` when there is none), asked lazily: member-account ARNs of
    #: the Account API and of Organizations embed its id and its management account.
    organization: Callable[[], Organization | None]
    #: Returns a stack's ARN from its name or ARN (``None`` when there is no such stack).
    stack_arn: Callable[[str], str | None]
    #: Returns an account's path in its organization (``o-.../r-.../ou-.../``), or ``None``: the Account API's
    #: ``account:AccountResourceOrgPaths`` condition key for the account a call targets. Default: the key is
    #: never given (a policy conditioned on it then denies, as AWS would for an account outside).
    org_path: Callable[[str], str | None] = lambda account: None

    def map(self, service: str, path: str, headers: Mapping[str, str], body: bytes) -> Authorization | None:
        """The authorization of one call, or ``None`` for one IAM does not authorize (sts:GetCallerIdentity)."""
        if service == "account":
            return self._account(path, body)
        if service in ("cloudformation", "sts"):
            return self._query(service, body)
        target = {k.lower(): v for k, v in headers.items()}.get("x-amz-target", "")
        operation = target.rsplit(".", 1)[-1] or "Unknown"
        if service in SERVICES:
            request = request_for(
                service,
                operation,
                json_body(body),
                region=call_region(headers, self.region),
                account_id=self.account_id,
                organization=self._organization_ids,
            )
            return Authorization(
                request.action, request.resources[0], request.context, request.resources[1:], request.more
            )
        return Authorization(f"{service}:{operation}", "*")

    def _organization_ids(self) -> tuple[str, str] | None:
        organization = self.organization()
        return (organization.management_account_id, organization.organization_id) if organization else None

    def _account(self, path: str, body: bytes) -> Authorization:
        operation = urlsplit(path).path.strip("/")
        action = f"account:{operation[:1].upper()}{operation[1:]}"
        document = json_body(body)
        context: dict[str, list[str]] = {}
        contact_type = document.get("AlternateContactType")
        if isinstance(contact_type, str):
            context["account:AlternateContactTypes"] = [contact_type]
        account = document.get("AccountId")
        # The target account's organization path (https://docs.aws.amazon.com/accounts/latest/reference/security_iam_service-with-iam.html).
        org_path = self.org_path(str(account) if account else self.account_id)
        if org_path:
            context["account:AccountResourceOrgPaths"] = [org_path]
        if not account:
            return Authorization(action, f"arn:aws:account::{self.account_id}:account", context)
        return Authorization(action, self._member_arn("account", str(account)), context)

    def _member_arn(self, service: str, account: str) -> str:
        """A member account's ARN in ``service`` (account, organizations): under its management account and
        organization, as both services authorize them."""
        organization = self.organization()
        management = organization.management_account_id if organization else self.account_id
        organization_id = organization.organization_id if organization else "o-none"
        return f"arn:aws:{service}::{management}:account/{organization_id}/{account}"

    def _query(self, service: str, body: bytes) -> Authorization | None:
        form = _form(body)
        action = form.get("Action", "")
        if service == "sts":
            # No permission is needed for GetCallerIdentity (STS documentation).
            return None if action == "GetCallerIdentity" else Authorization(f"sts:{action}", "*")
        stack = form.get("StackName", "")
        if not stack:
            return Authorization(f"cloudformation:{action}", "*")
        arn = self.stack_arn(stack)
        if arn is None:
            # IAM authorizes a stack named by name against the stack/<name>/* form.
            name = stack.split(":stack/", 1)[-1].split("/", 1)[0]
            arn = f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{name}/*"
        return Authorization(f"cloudformation:{action}", arn)


def json_body(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _form(body: bytes) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}


_CREDENTIAL = re.compile(r"Credential=([A-Z0-9]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


def signer(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """The access key id and service of a SigV4-signed request (``None`` when it is not signed)."""
    authorization = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
    found = _CREDENTIAL.search(authorization)
    return (found.group(1), found.group(3)) if found else None


def denial(service: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """The service's own AccessDenied answer, in its protocol (status, headers, body)."""
    request_id = str(uuid.uuid4())
    if service == "account":
        # restJson: botocore reads the error code from this header.
        headers = {"x-amzn-ErrorType": "AccessDeniedException", "x-amzn-RequestId": request_id}
        return 403, {"Content-Type": "application/json", **headers}, json.dumps({"message": message}).encode()
    if service in ("cloudformation", "sts"):
        body = (
            f'<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>'
            f"<Code>AccessDenied</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return 403, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode()
    if service in ("sqs", "monitoring"):
        # JSON compatible with the old query protocol: botocore takes the code from x-amzn-query-error.
        payload = {"__type": "com.amazon.coral.service#AccessDeniedException", "message": message}
        headers = {"x-amzn-RequestId": request_id, "x-amzn-query-error": "AccessDenied;Sender"}
        return 403, {"Content-Type": "application/x-amz-json-1.0", **headers}, json.dumps(payload).encode()
    # json 1.1 (SSM, Organizations, EventBridge...): the error code travels in __type.
    payload = {"__type": "AccessDeniedException", "message": message}
    return (
        400,
        {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id},
        json.dumps(payload).encode(),
    )


def denied_message(service: str, session_arn: str, action: str, resource: str) -> str:
    """The message the service's AccessDenied carries."""
    if service == "organizations":
        return "You don't have permissions to access this resource."
    shown = action.lower() if service == "sqs" else action
    where = "" if resource == "*" else f" on resource: {resource}"
    return (
        f"User: {session_arn} is not authorized to perform: {shown}{where} "
        f"because no identity-based policy allows the {shown} action"
    )
