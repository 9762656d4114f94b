"""``lookup``: record which organizational unit holds each account, where the app's synth reads it.

The structure is read top down (ListRoots, then ListOrganizationalUnitsForParent and ListAccountsForParent
for the root and each unit): two paged calls per unit rather than one ListParents per account, so an
organization of 10,000 accounts in 50 units takes about 600 calls. It is written to the app's
``cdk.context.json`` under :data:`~cdk_alternate_contacts.structure.CONTEXT_KEY`, keeping every other key,
atomically (a temporary file renamed over the old one), as the CDK CLI keeps its own lookups there.
Every account is recorded, whatever its state: a listed account that is suspended is still placed. The
units' names come with the same calls and are recorded as labels; ``import --organizational-units`` reads
and records the structure with the same functions.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cdk_alternate_contacts.structure import CONTEXT_KEY, OrganizationStructure
from cdk_alternate_contacts_handler import organizations
from cdk_alternate_contacts_handler.errors import error_code
from cdk_alternate_contacts_handler.retry import without_deadline

from .aws import ORGANIZATIONS_HINT, ORGANIZATIONS_POLICY, AwsError, explain_fatal


def read_structure(client: Any) -> OrganizationStructure:
    """The organization's structure, read with Organizations ``client`` (the calls retried on throttling).

    Raises
    ------
    AwsError
        When the caller is not in an organization, may not read it, or a call fails after its retries.
    """
    deadline, policy = without_deadline(), ORGANIZATIONS_POLICY
    doing = "Organizations DescribeOrganization"
    try:
        organization_id = organizations.describe_organization(client, deadline=deadline, policy=policy).organization_id
        doing = "Organizations ListRoots"
        root_id = organizations.root_id(client, deadline=deadline, policy=policy)
        parents: dict[str, str] = {}
        names: dict[str, str] = {}
        pending = [root_id]
        while pending:
            parent = pending.pop()
            doing = f"Organizations ListOrganizationalUnitsForParent {parent}"
            for unit in organizations.child_units(client, parent, deadline=deadline, policy=policy):
                parents[unit["Id"]] = parent
                names[unit["Id"]] = str(unit.get("Name", ""))
                pending.append(unit["Id"])
            doing = f"Organizations ListAccountsForParent {parent}"
            for account in organizations.accounts_of(client, parent, deadline=deadline, policy=policy):
                parents[str(account["Id"])] = parent
    except ClientError as error:
        code = error_code(error)
        if code == "AWSOrganizationsNotInUseException":
            raise AwsError(
                "the caller's account is not a member of an organization: there is no structure to record"
            ) from None
        if code == "AccessDeniedException":
            raise AwsError(
                f"{doing}: AccessDenied; read the organization from its management account or from a delegated "
                f"administrator for AWS Organizations (organizations:ListRoots, ListOrganizationalUnitsForParent, "
                f"ListAccountsForParent, DescribeOrganization) -- as for `audit`: {ORGANIZATIONS_HINT}"
            ) from None
        raise explain_fatal(error, doing) from None
    except BotoCoreError as error:
        raise explain_fatal(error, doing) from None
    looked_up_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return OrganizationStructure(organization_id, root_id, parents, looked_up_at, names)


def read_context(path: Path) -> dict[str, Any]:
    """The context file's keys (none when it does not exist yet), to be written back with the structure.

    Raises
    ------
    AwsError
        When the file exists but cannot be read or is not a JSON object (it is left as it is).
    """
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AwsError(f"{path}: not valid JSON ({error}); fix or remove it, then run the command again") from None
    except OSError as error:
        raise AwsError(f"cannot read {path}: {error.strerror or error}") from None
    if not isinstance(loaded, dict):
        raise AwsError(f"{path}: must hold a JSON object, as CDK's context file does; it is left unchanged")
    return loaded


def record(path: Path, structure: OrganizationStructure) -> None:
    """Write ``structure`` into the context file at ``path``, keeping its other keys.

    Raises
    ------
    AwsError
        When the file exists but is not a JSON object (it is left as it is).
    """
    context = read_context(path)
    context[CONTEXT_KEY] = structure.to_context()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(context, stream, indent=2)
            stream.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def recorded(structure: OrganizationStructure, path: Path) -> str:
    """What was recorded, in a sentence a person reads (ids and counts only)."""
    units = sum(1 for child in structure.parents if child.startswith("ou-"))
    accounts = len(structure.parents) - units
    return (
        f"Recorded the structure of {structure.organization_id} (root {structure.root_id}): {accounts} accounts in "
        f"{units} organizational units, in {path} under {CONTEXT_KEY}."
    )


def summary(structure: OrganizationStructure, path: Path) -> str:
    """What ``lookup`` says: what was recorded, and what to do next."""
    return (
        recorded(structure, path) + "\n"
        "Synthesize again to apply the organizational units' rules; run this again after accounts move."
    )
