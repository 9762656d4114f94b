"""The steps the end-to-end tests are written in: deploy a version, expect a status, check what the requests did.

tests/e2e/conftest.py hands a test one :class:`E2e` (``e2e``): the engine, the cloud, the accounts' contacts,
and every operation the test ran. A test then reads as its scenario, and the checks every scenario makes
have one home: the status of each operation (:meth:`Stack.deploy`) and one answer per request (the fixture,
after the test). The request checks follow CloudFormation's protocol: a replacement is an Update answered
with a new physical id and, in the cleanup phase, a Delete of the old one; a rolled back replacement is an
Update back, answered with the old id, and a Delete of the new one in the rollback's cleanup; a failed
Create is answered with an id crhelper invents, which the rollback deletes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from e2e_support import Assemblies, assert_answered_exactly_once, declared, declared_contacts, explain, without_token

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from localdeploy.cloud import LocalCloud
from localdeploy.contacts import Details, Slot
from localdeploy.custom_resources import RequestRecord
from localdeploy.engine import Engine, OperationResult

#: A SECURITY contact an account had before any stack: a failed stack must leave it as it was.
EXISTING_SECURITY: Details = {
    "EmailAddress": "soc.before@example.com",
    "Name": "Grace Hopper",
    "PhoneNumber": "+1 206 555 0199",
    "Title": "Security operations",
}

#: The email address the apps pass as a parameter (synth cannot check it) and the Account API rejects.
REJECTED_EMAIL = "not-an-email-address"


@dataclass
class E2e:
    """One test's local cloud: deploy and destroy stacks, read and seed contacts, check the answers."""

    engine: Engine
    cloud: LocalCloud
    assemblies: Assemblies
    contacts: Callable[[], dict[Slot, Details]]
    seed: Callable[[dict[Slot, Details]], None]
    #: Every operation the test ran, in order: the e2e fixture checks their answers after the test.
    results: list[OperationResult] = field(default_factory=list)

    def stack(self, name: str, assembly: CloudAssembly, engine: Engine | None = None) -> Stack:
        """Stack ``name`` of the synthesized ``assembly``, deployed by ``engine`` (default: the test's engine)."""
        return Stack(self, name, assembly, engine or self.engine)

    def assert_answered_exactly_once(self) -> None:
        """Every request of every operation the test ran got one answer, and nothing else reached the listener."""
        assert_answered_exactly_once(self.cloud, *self.results)

    def judged(self) -> int:
        """How many calls IAM has judged so far: where a test's own calls start."""
        assert self.cloud.iam is not None, "the e2e cloud must enforce IAM"
        return len(self.cloud.iam.decisions)

    def restore_records(self) -> list[dict[str, Any]]:
        """The restore records (SSM parameters) the functions keep."""
        ssm = self.cloud.client("ssm")
        records: list[dict[str, Any]] = ssm.get_parameters_by_path(Path="/cdk-alternate-contacts", Recursive=True)[
            "Parameters"
        ]
        return records


@dataclass
class Stack:
    """One stack's versions (artifacts of one assembly), deployed one after another."""

    e2e: E2e
    name: str
    assembly: CloudAssembly
    engine: Engine

    def deploy(self, artifact: str, expect: str = "") -> OperationResult:
        """Deploy ``artifact`` and check the stack ended in ``expect``
        (default: CREATE_COMPLETE for a new stack, UPDATE_COMPLETE for an existing one)."""
        expect = expect or ("UPDATE_COMPLETE" if self.engine.store.load(self.name) else "CREATE_COMPLETE")
        result = self.engine.deploy(self.assembly, self.name, artifact=artifact)
        return self._checked(result, expect)

    def destroy(self) -> OperationResult:
        """Destroy the stack and check it was deleted."""
        return self._checked(self.engine.destroy(self.name), "DELETE_COMPLETE")

    def declared(self, artifact: str, construct_id: str) -> tuple[str, dict[str, Any]]:
        """The logical id and properties of AlternateContact ``construct_id`` in version ``artifact``."""
        return declared(self.assembly, artifact, construct_id)

    def declared_contacts(self, artifact: str, construct_id: str) -> tuple[str, dict[str, Any]]:
        """The logical id and properties of AlternateContacts ``construct_id`` (of the stack or of a nested
        stack) in version ``artifact``."""
        return declared_contacts(self.assembly, artifact, construct_id)

    def state_is_gone(self) -> bool:
        """Whether the engine forgot the stack (a destroyed stack, or a new one that failed)."""
        return self.engine.store.load(self.name) is None

    def _checked(self, result: OperationResult, expect: str) -> OperationResult:
        self.e2e.results.append(result)
        assert result.status == expect, explain(result)
        return result


def steps(requests: list[RequestRecord]) -> list[tuple[str, str, str | None, str | None]]:
    """What each request asked and was answered: phase, request type, physical id, answered physical id."""
    return [(r.phase, r.request_type, r.physical_id, r.answered_physical_id) for r in requests]


def assert_replaced(requests: list[RequestRecord], old: str, new: str, old_properties: dict[str, Any]) -> None:
    """One resource's replacement: an Update of ``old`` answered with ``new``, then the cleanup phase's
    Delete of ``old``, carrying the old properties, which succeeded."""
    assert steps(requests) == [("deploy", "Update", old, new), ("cleanup", "Delete", old, old)]
    delete = requests[1]
    assert delete.status == "SUCCESS", delete.reason
    assert without_token(delete.event["ResourceProperties"]) == old_properties


def assert_replacement_rolled_back(requests: list[RequestRecord], old: str, new: str) -> None:
    """One resource's replacement that a failure elsewhere rolled back: the Update of ``old`` answered with
    ``new``, the rollback's Update of ``new`` answered with ``old``, and the rollback cleanup's Delete of ``new``."""
    assert steps(requests) == [
        ("deploy", "Update", old, new),
        ("rollback", "Update", new, old),
        ("rollback cleanup", "Delete", new, new),
    ]
    assert [r.status for r in requests] == ["SUCCESS"] * 3


def assert_failed_create_deleted_nothing(
    requests: list[RequestRecord], stack: str, logical_id: str, *, naming: str
) -> RequestRecord:
    """One resource's failed Create and the rollback's Delete: the Create was answered FAILED with a reason
    ``naming`` the field but not showing the value the API rejected, and with crhelper's invented id
    (``<stack>_<logical id>_<8 characters>``), whose Delete succeeded without touching a contact.
    Returns the Create."""
    create, delete = requests
    assert (create.request_type, create.status) == ("Create", "FAILED")
    assert naming in create.reason
    assert REJECTED_EMAIL not in create.reason
    assert re.fullmatch(rf"{stack}_{logical_id}_[A-Z0-9]{{8}}", str(create.answered_physical_id))
    assert (delete.phase, delete.request_type, delete.physical_id, delete.status) == (
        "rollback",
        "Delete",
        create.answered_physical_id,
        "SUCCESS",
    )
    return create
