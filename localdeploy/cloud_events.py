"""The event side of :class:`~.cloud.LocalCloud`: EventBridge's buses, Lambda's SQS pollers, the functions'
permissions, and the helpers that make accounts join or move and send the events AWS sends for it.

Everything here is asynchronous as on AWS: an event put or emitted is delivered a moment later, a message a
queue receives is polled and processed by the mapping's function later still. :meth:`CloudEvents.settle`
waits until all of it is done (no event undelivered, every mapped queue empty, every invocation finished).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import boto3

from . import account_events
from .event_bus import EventBus
from .iam_requests import call_region
from .lambda_permission import FunctionPolicies
from .moto import DEPLOYING_ACCOUNT
from .sqs_poller import SqsPollers

if TYPE_CHECKING:
    from .cloud import LocalCloud

#: moto's fake credentials, for the calls EventBridge and CloudFormation make (never judged).
_FAKE = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class CloudEvents:
    """EventBridge, the SQS pollers and the account-event helpers of one local cloud.

    Parameters
    ----------
    cloud:
        The started local cloud (its moto endpoint, Lambda service, IAM front and policies).
    delay_s:
        How long after an event is put it is delivered.
    """

    def __init__(self, cloud: LocalCloud, *, delay_s: float = 0.05) -> None:
        self.cloud = cloud
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()
        #: The functions' resource-based policies (``AWS::Lambda::Permission``).
        self.permissions = FunctionPolicies()
        #: Lambda's pollers of every SQS event source mapping.
        self.pollers = SqsPollers(cloud.functions, self._poller_client, lambda region: self.client("sqs", region))
        #: The event buses of every region.
        self.bus = EventBus(
            self.client,
            cloud.functions,
            self.permissions,
            cloud.policies if cloud.enforce_iam else None,
            account_id=DEPLOYING_ACCOUNT,
            delay_s=delay_s,
        )

    def client(self, service: str, region: str) -> Any:
        """A moto client of ``service`` in ``region`` with the deployer's (unjudged) credentials, cached."""
        return self._cached(service, region, "", self.cloud.moto.endpoint, _FAKE)

    def _poller_client(self, region: str, role_arn: str | None) -> Any:
        """The SQS client Lambda's poller uses: signed as the function's role, through the IAM front."""
        iam = self.cloud.iam
        if iam is None or not role_arn:
            return self.client("sqs", region)
        keys = {"aws_access_key_id": iam.register(role_arn), "aws_secret_access_key": "localdeploy-fake-secret"}
        return self._cached("sqs", region, role_arn, iam.endpoint, keys)

    def _cached(self, service: str, region: str, who: str, endpoint: str, keys: Mapping[str, str]) -> Any:
        key = (service, region, who)
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                # boto3's client creation is not thread-safe: one at a time.
                found = boto3.client(service, endpoint_url=endpoint, region_name=region, **keys)
                self._clients[key] = found
            return found

    # -- events ------------------------------------------------------------------------------------------

    def intercept(
        self, service: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes] | None:
        """A function's PutEvents (already allowed by the IAM front) goes to the local buses, not to moto, whose
        own delivery would skip every check EventBridge makes; any other call is forwarded (``None``)."""
        target = {k.lower(): v for k, v in headers.items()}.get("x-amz-target", "")
        if service != "events" or not target.endswith(".PutEvents"):
            return None
        document = json.loads(body or b"{}")
        answer = self.bus.put_events(document.get("Entries") or [], region=call_region(headers, "us-east-1"))
        headers_out = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())}
        return 200, headers_out, json.dumps(answer).encode()

    def settle(self, timeout_s: float = 60.0) -> None:
        """Wait until every event is delivered, every mapped queue is empty and every invocation has ended.

        Raises
        ------
        TimeoutError
            Naming what was still pending after ``timeout_s``.
        RuntimeError
            When the bus met something it does not model (its ``problems``).
        """
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while True:
            pending = self.bus.pending() + self.pollers.pending()
            # Twice in a row: a delivery can put a message on a queue between the two looks.
            quiet = 0 if pending else quiet + 1
            if quiet >= 2:
                # An event the bus could not model (a policy it cannot evaluate, a target it does not know) is
                # a gap in the model, not a delivery AWS would drop: say so rather than let a test pass on it.
                if self.bus.problems:
                    raise RuntimeError(f"event delivery problems: {'; '.join(self.bus.problems[:3])}")
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not settled after {timeout_s:.0f} s: {'; '.join(pending)}")
            time.sleep(0.1)

    def reset(self) -> None:
        """Forget mappings, permissions, deliveries and events (moto was emptied)."""
        self.pollers.stop()
        self.permissions.clear()
        self.bus.clear()

    def stop(self) -> None:
        """Stop the pollers and the bus."""
        self.pollers.stop()
        self.bus.stop()

    # -- accounts joining or moving ---------------------------------------------------------------------

    def _organizations(self) -> Any:
        return self.client("organizations", account_events.ORGANIZATIONS_REGION)

    def _management(self) -> tuple[str, str]:
        organization = self.cloud.organization()
        if organization is None:
            raise RuntimeError("the deploying account manages no organization (LocalCloud(organization=False))")
        return organization.management_account_id, organization.organization_id

    def _parent(self, account_id: str) -> str:
        return str(self._organizations().list_parents(ChildId=account_id)["Parents"][0]["Id"])

    def create_account(self, name: str, email: str, *, parent_id: str | None = None) -> str:
        """CreateAccount in moto's Organizations, then its CreateAccountResult event (us-east-1); with
        ``parent_id``, MoveAccount there and its MoveAccount event too. Returns the new account's id."""
        management, _ = self._management()
        status = self._organizations().create_account(AccountName=name, Email=email)["CreateAccountStatus"]
        account_id = str(status["AccountId"])
        self.bus.emit(account_events.create_account_result(management, account_id, request_id=str(status["Id"])))
        if parent_id is not None:
            self.move_account(account_id, parent_id)
        return account_id

    def move_account(self, account_id: str, destination_parent_id: str) -> None:
        """MoveAccount in moto's Organizations, then its MoveAccount event (us-east-1)."""
        management, _ = self._management()
        source = self._parent(account_id)
        self._organizations().move_account(
            AccountId=account_id, SourceParentId=source, DestinationParentId=destination_parent_id
        )
        self.bus.emit(account_events.move_account(management, account_id, source, destination_parent_id))

    def invite_account(self, name: str, email: str) -> str:
        """An existing AWS account joins by invitation: made in moto (which has no handshakes), then the
        AcceptHandshake event (us-east-1). Returns the account's id."""
        management, organization_id = self._management()
        status = self._organizations().create_account(AccountName=name, Email=email)["CreateAccountStatus"]
        account_id = str(status["AccountId"])
        self.bus.emit(account_events.accept_handshake(management, account_id, organization_id))
        return account_id

    def create_managed_account(self, name: str, email: str, unit_id: str, *, home_region: str) -> str:
        """Control Tower's Account Factory: CreateAccount and MoveAccount to ``unit_id`` (with their
        Organizations events, us-east-1, as Account Factory's own calls make them), then CreateManagedAccount in
        Control Tower's ``home_region``. Returns the account's id."""
        management, _ = self._management()
        account_id = self.create_account(name, email, parent_id=unit_id)
        unit = self._organizations().describe_organizational_unit(OrganizationalUnitId=unit_id)["OrganizationalUnit"]
        self.bus.emit(
            account_events.managed_account(
                "CreateManagedAccount",
                management,
                home_region,
                account_id=account_id,
                account_name=name,
                unit_id=unit_id,
                unit_name=str(unit["Name"]),
            )
        )
        return account_id

    def update_managed_account(self, account_id: str, *, home_region: str) -> None:
        """Control Tower's UpdateManagedAccount for ``account_id`` (in its current unit), in ``home_region``."""
        management, _ = self._management()
        organizations = self._organizations()
        account = organizations.describe_account(AccountId=account_id)["Account"]
        unit_id = self._parent(account_id)
        unit_name = (
            "Root"
            if unit_id.startswith("r-")
            else str(
                organizations.describe_organizational_unit(OrganizationalUnitId=unit_id)["OrganizationalUnit"]["Name"]
            )
        )
        self.bus.emit(
            account_events.managed_account(
                "UpdateManagedAccount",
                management,
                home_region,
                account_id=account_id,
                account_name=str(account["Name"]),
                unit_id=unit_id,
                unit_name=unit_name,
            )
        )

    def put_events(self, entries: Iterable[Mapping[str, Any]], *, region: str) -> dict[str, Any]:
        """PutEvents on a region's bus (custom events; an ``aws.*`` source is refused as EventBridge does)."""
        return self.bus.put_events(entries, region=region)
