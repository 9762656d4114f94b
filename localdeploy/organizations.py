"""``AWS::Organizations::Account``: member accounts vended by a stack, in moto's Organizations backend.

What CloudFormation does is read from the resource type's own handlers and schema
(aws-cloudformation/aws-cloudformation-resource-providers-organizations, ``aws-organizations-account/``):

Create
    ListAccounts first: an account of the organization with the same email fails the resource at once
    (AlreadyExists, "Account with email [...] already exists."). Then CreateAccount, which AWS runs in the
    background for minutes, polled with DescribeCreateAccountStatus until SUCCEEDED or FAILED ("Account
    creation failed with reason [EMAIL_ALREADY_EXISTS] for request id: car-..." when the address belongs to
    an AWS account outside the organization). Then MoveAccount to ``ParentIds`` (one parent at most).
Update
    In place, always: the schema lists no createOnlyProperties, so no change replaces the account and its id
    stays. A changed RoleName fails ("You cannot update IAM role name."), so does a changed AccountName or
    Email, compared without letter case ("To modify the account name or account email attributes, you must
    sign in as the root user ..."); ParentIds moves the account (left out: the root); Tags are untagged and
    tagged. A refused update changes nothing.
Delete
    CloseAccount: the account stays in the organization, SUSPENDED (AWS passes through PENDING_CLOSURE;
    moto goes straight to SUSPENDED). An account that is gone or already closed, or no organization, is
    NotFound, which CloudFormation counts as deleted (aws-cloudformation/cloudformation-cli #456, from the
    CloudFormation team: "CloudFormation itself chooses to ignore this error during stack workflows").
    ``DeletionPolicy: Retain`` leaves the account open: the engine then never calls Delete.

``Ref`` is the AccountId; ``Fn::GetAtt`` gives AccountId, Arn, JoinedMethod, JoinedTimestamp and Status.

Where moto is more lenient than AWS: its CreateAccount always succeeds at once and it checks no email. The
organization's own addresses are checked here, as the handler does; AWS accounts outside the organization
are invisible to moto, so the addresses they hold are named in ``emails_elsewhere``.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.masking import mask

from . import native
from .native import Created, ResourceError, handler_reason

ACCOUNT_TYPE = "AWS::Organizations::Account"

#: The role CreateAccount makes in the new account when RoleName is left out (the schema's default).
DEFAULT_ROLE = "OrganizationAccountAccessRole"

#: The schema's rules, checked by CloudFormation before any handler runs: (minimum, maximum, pattern).
_RULES: dict[str, tuple[int, int, re.Pattern[str]]] = {
    "AccountName": (1, 50, re.compile(r"[\u0020-\u007E]+")),
    "Email": (6, 64, re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")),
    "RoleName": (1, 64, re.compile(r"[\w+=,.@-]{1,64}")),
}
_PARENT_ID = re.compile(r"^(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")

#: Organizations errors and the handler error code the resource's handlers translate them to.
_ERROR_CODES = {
    "AWSOrganizationsNotInUseException": "NotFound",
    "AccountNotFoundException": "NotFound",
    "AccountAlreadyClosedException": "NotFound",
    "ChildNotFoundException": "NotFound",
    "TargetNotFoundException": "NotFound",
    "AccessDeniedException": "AccessDenied",
    "ConcurrentModificationException": "ResourceConflict",
    "ConstraintViolationException": "ServiceLimitExceeded",
    "InvalidInputException": "InvalidRequest",
    "DestinationParentNotFoundException": "InvalidRequest",
    "ParentNotFoundException": "InvalidRequest",
    "TooManyRequestsException": "Throttling",
}

#: The handler's message when AccountName or Email changes (neither can be changed through the API).
CHANGE_REFUSED = (
    "To modify the account name or account email attributes, you must sign in as the root user and modify the "
    "values on the account settings page in the AWS Management Console."
)


def _failure(error: ClientError) -> ResourceError:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    return ResourceError(
        handler_reason(str(details.get("Message", code)), _ERROR_CODES.get(code, "GeneralServiceException"))
    )


def _is_not_found(error: ClientError) -> bool:
    return _ERROR_CODES.get(str(error.response.get("Error", {}).get("Code", ""))) == "NotFound"


def schema_errors(logical_id: str, properties: Mapping[str, Any]) -> str | None:
    """CloudFormation's own check of the properties against the type's schema, as its reason says it (the
    values are never quoted); ``None`` when they are valid."""
    problems = [f"#: required key [{key}] not found" for key in ("AccountName", "Email") if key not in properties]
    for key, (low, high, pattern) in _RULES.items():
        value = properties.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(f"#/{key}: expected type: String")
        elif not low <= len(value) <= high:
            problems.append(f"#/{key}: expected length between {low} and {high}")
        elif not pattern.fullmatch(value):
            problems.append(f"#/{key}: failed validation constraint for keyword [pattern]")
    parents = properties.get("ParentIds")
    if parents is not None and (
        not isinstance(parents, list) or not all(isinstance(p, str) and _PARENT_ID.match(p) for p in parents)
    ):
        problems.append("#/ParentIds: failed validation constraint for keyword [pattern]")
    if not problems:
        return None
    return f"Properties validation failed for resource {logical_id} with message: [{', '.join(problems)}]"


def _parent(properties: Mapping[str, Any]) -> str | None:
    parents = properties.get("ParentIds") or []
    return str(parents[0]) if parents else None


class AccountVending:
    """Creates, moves, tags and closes member accounts as CloudFormation does for ``AWS::Organizations::Account``.

    Parameters
    ----------
    client:
        An Organizations client of the management account (moto's), as CloudFormation calls it: with the
        deployer's credentials, not a function's.
    creation_s:
        How long CreateAccount runs before its outcome is known (AWS takes minutes). Default 0: at once.
    emails_elsewhere:
        Addresses held by AWS accounts outside the organization, which moto cannot know: an account created
        with one fails with EMAIL_ALREADY_EXISTS once its creation time has passed. Read at each create.
    sleep:
        How the creation time is waited out.
    """

    resource_type = ACCOUNT_TYPE

    def __init__(
        self,
        client: Any,
        *,
        creation_s: float = 0.0,
        emails_elsewhere: Collection[str] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.creation_s = creation_s
        self.emails_elsewhere = emails_elsewhere
        self._sleep = sleep
        # CloudFormation creates independent accounts in parallel; the duplicate check and CreateAccount
        # must not interleave, or two resources with one email would both pass it.
        self._creating = threading.Lock()

    # -- create -------------------------------------------------------------------------------------------

    def create(self, logical_id: str, properties: Mapping[str, Any], *, stack_name: str = "") -> Created:
        """ListAccounts, CreateAccount (waited out), MoveAccount; returns the id and attributes."""
        invalid = schema_errors(logical_id, properties)
        if invalid is not None:
            raise ResourceError(invalid)
        if len(properties.get("ParentIds") or []) > 1:
            message = "Can not specify more than one parent id in request."
            raise ResourceError(handler_reason(message, "InvalidRequest"))
        email = str(properties["Email"])
        try:
            with self._creating:
                self._check_email_is_new(email)
                if email.casefold() in {e.casefold() for e in self.emails_elsewhere}:
                    account_id = None
                else:
                    status = self.client.create_account(
                        AccountName=str(properties["AccountName"]),
                        Email=email,
                        RoleName=str(properties.get("RoleName") or DEFAULT_ROLE),
                        Tags=[{"Key": k, "Value": v} for k, v in native.tags(properties).items()],
                    )["CreateAccountStatus"]
                    account_id = str(status["AccountId"])
            self._sleep(self.creation_s)
            if account_id is None:
                # The reason AWS's handler gives: the failure reason and the request's id, no address.
                request_id = f"car-{uuid.uuid4().hex}"
                raise ResourceError(
                    handler_reason(
                        f"Account creation failed with reason [EMAIL_ALREADY_EXISTS] for request id: {request_id}",
                        "AlreadyExists",
                    )
                )
        except ClientError as error:
            raise _failure(error) from None
        try:
            destination = _parent(properties)
            if destination is not None:
                self._move(account_id, self._parent_of(account_id), destination)
            return Created(account_id, self._attributes(account_id))
        except ClientError as error:
            # The account exists: the failed resource carries its id, and the rollback's Delete closes it.
            raise ResourceError(str(_failure(error)), physical_id=account_id) from None

    def _check_email_is_new(self, email: str) -> None:
        """The handler's pre-existence check: any account of the organization, closed ones included."""
        for page in self.client.get_paginator("list_accounts").paginate():
            if any(account.get("Email") == email for account in page["Accounts"]):
                # AWS's message names the address; reasons here are shown and logged, so it is masked.
                message = f"Account with email [{mask(spec.EMAIL_ADDRESS, email)}] already exists."
                raise ResourceError(handler_reason(message, "AlreadyExists"))

    # -- update -------------------------------------------------------------------------------------------

    def update(self, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """Refuse what the API cannot change, then move and retag in place; returns the attributes."""
        invalid = schema_errors(physical_id, new)
        if invalid is not None:
            raise ResourceError(invalid)
        if str(old.get("RoleName") or "").lower() != str(new.get("RoleName") or "").lower():
            raise ResourceError(handler_reason("You cannot update IAM role name.", "InvalidRequest"))
        if any(str(old.get(key, "")).lower() != str(new.get(key, "")).lower() for key in ("AccountName", "Email")):
            raise ResourceError(handler_reason(CHANGE_REFUSED, "InvalidRequest"))
        if len(new.get("ParentIds") or []) > 1:
            message = f"Can not specify more than one parent id in request for account [{physical_id}]."
            raise ResourceError(handler_reason(message, "InvalidRequest"))
        try:
            before, after = _parent(old), _parent(new)
            if before != after:
                root = None if before and after else self.client.list_roots()["Roots"][0]["Id"]
                self._move(physical_id, before or root, after or root)
            removed, changed = native.tag_changes(native.tags(old), native.tags(new))
            if removed:
                self.client.untag_resource(ResourceId=physical_id, TagKeys=removed)
            if changed:
                self.client.tag_resource(
                    ResourceId=physical_id, Tags=[{"Key": k, "Value": v} for k, v in sorted(changed.items())]
                )
            return self._attributes(physical_id)
        except ClientError as error:
            raise _failure(error) from None

    # -- delete -------------------------------------------------------------------------------------------

    def delete(self, physical_id: str, properties: Mapping[str, Any]) -> None:
        """CloseAccount; an account already gone or closed counts as deleted."""
        try:
            self.client.close_account(AccountId=physical_id)
        except ClientError as error:
            if not _is_not_found(error):
                raise _failure(error) from None

    # -- shared -------------------------------------------------------------------------------------------

    def _parent_of(self, account_id: str) -> str:
        return str(self.client.list_parents(ChildId=account_id)["Parents"][0]["Id"])

    def _move(self, account_id: str, source: str | None, destination: str | None) -> None:
        if source == destination or source is None or destination is None:
            return
        try:
            self.client.move_account(AccountId=account_id, SourceParentId=source, DestinationParentId=destination)
        except ClientError as error:
            # Already there: the handler carries on (DuplicateAccountException).
            if error.response.get("Error", {}).get("Code") != "DuplicateAccountException":
                raise

    def _attributes(self, account_id: str) -> dict[str, Any]:
        account = self.client.describe_account(AccountId=account_id)["Account"]
        joined = account.get("JoinedTimestamp")
        if isinstance(joined, datetime):
            joined = joined.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            "AccountId": account_id,
            "Arn": str(account["Arn"]),
            "JoinedMethod": str(account.get("JoinedMethod", "")),
            "JoinedTimestamp": str(joined),
            "Status": str(account.get("Status", "")),
        }
