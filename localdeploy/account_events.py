"""The EventBridge events of accounts joining or moving, with the shapes AWS documents, and the actions that
cause them (in moto's Organizations), for :class:`~.cloud.LocalCloud`'s helpers.

Shapes (recorded examples in tests/engine/events/, whose README names each source):

- Organizations, "AWS Service Event via CloudTrail": ``CreateAccountResult`` (detail.serviceEventDetails.
  createAccountStatus: id, state SUCCEEDED or FAILED, accountName masked as ``****``, accountId,
  failureReason when FAILED);
- Organizations, "AWS API Call via CloudTrail": ``MoveAccount`` (requestParameters accountId, sourceParentId,
  destinationParentId) and ``AcceptHandshake`` (requestParameters handshakeId, the handshake in
  responseElements);
- Control Tower, "AWS Service Event via CloudTrail": ``CreateManagedAccount`` and ``UpdateManagedAccount``
  (serviceEventDetails.<name>Status: organizationalUnit, account, state, message).

Regions: Organizations is a global service whose events are delivered in us-east-1 only (Organizations user
guide, orgs_cloudtrail-integration: "You can view all CloudTrail information for AWS Organizations only in the
US East (N. Virginia) Region"); Control Tower's lifecycle events come in its home region. A stack deployed in
another region receives neither unless a rule in that region forwards them.

Where moto falls short: it has no handshakes, so an invited account is made with CreateAccount (its
JoinedMethod says CREATED) before its AcceptHandshake event is sent; the event is delivered on the
management account's bus, as the Security Reference Architecture's sample expects it
(aws-samples/aws-security-reference-architecture-examples, account_alternate_contacts).
"""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import UTC, datetime
from typing import Any

#: Where Organizations delivers its events.
ORGANIZATIONS_REGION = "us-east-1"


def _trail_time(moment: datetime) -> str:
    """A timestamp as Organizations writes it in serviceEventDetails ("Sep 16, 2020 9:20:50 PM")."""
    hour = moment.strftime("%I").lstrip("0") or "12"
    return f"{moment.strftime('%b')} {moment.day}, {moment.year} {hour}:{moment.strftime('%M:%S %p')}"


def _random_id(length: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(length))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(
    detail_type: str, source: str, account: str, region: str, *, detail: dict[str, Any], moment: datetime
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": _iso(moment),
        "region": region,
        "resources": [],
        "detail": detail,
    }


def _service_event(
    source: str, event_name: str, account: str, region: str, *, details: dict[str, Any], moment: datetime
) -> dict[str, Any]:
    service = source.removeprefix("aws.")
    detail: dict[str, Any] = {
        "eventVersion": "1.08" if service == "organizations" else "1.05",
        "userIdentity": {"accountId": account, "invokedBy": "AWS Internal"},
        "eventTime": _iso(moment),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "AWS Internal",
        "userAgent": "AWS Internal",
    }
    if service == "organizations":
        detail.update(requestParameters=None, responseElements=None)
    detail.update(eventID=str(uuid.uuid4()), readOnly=False, eventType="AwsServiceEvent")
    if service == "organizations":
        detail.update(managementEvent=True, recipientAccountId=account)
    detail["serviceEventDetails"] = details
    if service == "organizations":
        detail["eventCategory"] = "Management"
    return _envelope("AWS Service Event via CloudTrail", source, account, region, detail=detail, moment=moment)


def _api_call(
    event_name: str,
    management_account: str,
    caller_account: str,
    *,
    request: dict[str, Any],
    response: dict[str, Any] | None,
    moment: datetime,
) -> dict[str, Any]:
    detail = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROALOCALDEPLOYEXAMPLE:localdeploy",
            "arn": f"arn:aws:sts::{caller_account}:assumed-role/Admin/localdeploy",
            "accountId": caller_account,
            "accessKeyId": "ASIALOCALDEPLOY00001",
        },
        "eventTime": _iso(moment),
        "eventSource": "organizations.amazonaws.com",
        "eventName": event_name,
        "awsRegion": ORGANIZATIONS_REGION,
        "sourceIPAddress": "192.0.2.0",
        "userAgent": "localdeploy",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": management_account,
        "eventCategory": "Management",
    }
    return _envelope(
        "AWS API Call via CloudTrail",
        "aws.organizations",
        management_account,
        ORGANIZATIONS_REGION,
        detail=detail,
        moment=moment,
    )


def create_account_result(
    management_account: str,
    account_id: str | None,
    *,
    request_id: str | None = None,
    failure_reason: str | None = None,
    requested: datetime | None = None,
) -> dict[str, Any]:
    """Organizations' CreateAccountResult: SUCCEEDED with the new ``account_id``, or FAILED with
    ``failure_reason`` (``EMAIL_ALREADY_EXISTS``...) and no account id."""
    moment = datetime.now(UTC)
    status: dict[str, Any] = {
        "id": request_id or "car-" + _random_id(32),
        "state": "FAILED" if failure_reason else "SUCCEEDED",
        "accountName": "****",
    }
    if failure_reason:
        status["failureReason"] = failure_reason
    else:
        status["accountId"] = account_id
    status["requestedTimestamp"] = _trail_time(requested or moment)
    status["completedTimestamp"] = _trail_time(moment)
    return _service_event(
        "aws.organizations",
        "CreateAccountResult",
        management_account,
        ORGANIZATIONS_REGION,
        details={"createAccountStatus": status},
        moment=moment,
    )


def move_account(
    management_account: str, account_id: str, source_parent: str, destination_parent: str
) -> dict[str, Any]:
    """Organizations' MoveAccount, an API call of the management account."""
    request = {"accountId": account_id, "sourceParentId": source_parent, "destinationParentId": destination_parent}
    return _api_call(
        "MoveAccount", management_account, management_account, request=request, response=None, moment=datetime.now(UTC)
    )


def accept_handshake(
    management_account: str, account_id: str, organization_id: str, *, handshake_id: str | None = None
) -> dict[str, Any]:
    """Organizations' AcceptHandshake: the invited ``account_id`` accepted the organization's invitation."""
    moment = datetime.now(UTC)
    handshake = handshake_id or "h-" + "".join(
        secrets.choice(string.ascii_lowercase + string.digits) for _ in range(32)
    )
    response = {
        "handshake": {
            "id": handshake,
            "arn": f"arn:aws:organizations::{management_account}:handshake/{organization_id}/invite/{handshake}",
            "parties": [{"type": "ORGANIZATION", "id": organization_id}, {"type": "ACCOUNT", "id": account_id}],
            "state": "ACCEPTED",
            "requestedTimestamp": _trail_time(moment),
            "expirationTimestamp": _trail_time(moment),
            "action": "INVITE",
            "resources": [{"type": "ORGANIZATION", "value": organization_id}, {"type": "ACCOUNT", "value": account_id}],
        }
    }
    request = {"handshakeId": handshake}
    return _api_call(
        "AcceptHandshake", management_account, account_id, request=request, response=response, moment=moment
    )


def managed_account(
    event_name: str,
    management_account: str,
    home_region: str,
    *,
    account_id: str,
    account_name: str,
    unit_id: str,
    unit_name: str,
    state: str = "SUCCEEDED",
) -> dict[str, Any]:
    """Control Tower's CreateManagedAccount or UpdateManagedAccount lifecycle event, in its home region."""
    if event_name not in ("CreateManagedAccount", "UpdateManagedAccount"):
        raise ValueError(f"not a managed-account lifecycle event: {event_name}")
    moment = datetime.now(UTC)
    verb = "created" if event_name == "CreateManagedAccount" else "updated"
    status = {
        "organizationalUnit": {"organizationalUnitName": unit_name, "organizationalUnitId": unit_id},
        "account": {"accountName": account_name, "accountId": account_id},
        "state": state,
        "message": f"AWS Control Tower successfully {verb} a managed account."
        if state == "SUCCEEDED"
        else f"AWS Control Tower failed to {verb.removesuffix('d')} a managed account.",
        "requestedTimestamp": moment.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "completedTimestamp": moment.strftime("%Y-%m-%dT%H:%M:%S+0000"),
    }
    key = event_name[0].lower() + event_name[1:] + "Status"
    return _service_event(
        "aws.controltower", event_name, management_account, home_region, details={key: status}, moment=moment
    )
