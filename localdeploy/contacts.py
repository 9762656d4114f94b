"""Alternate contacts as the emulator holds them: read back, saved between runs, shown masked.

Reads go through the Account API itself (boto3 against moto_server), with the product's own Get
(:func:`cdk_alternate_contacts_handler.account_api.get_contact`), and the engine's reports show details with
the product's own masks (:mod:`cdk_alternate_contacts_handler.masking`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import boto3

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.account_api import Target, get_contact
from cdk_alternate_contacts_handler.retry import RetryPolicy, without_deadline

from .moto import DEPLOYING_ACCOUNT

#: A contact slot: (12-digit account, contact type).
Slot = tuple[str, str]

#: Contact details keyed as the API names them (EmailAddress, Name, PhoneNumber, Title).
Details = dict[str, str]

REGION = "us-east-1"


def account_client(endpoint: str) -> Any:
    """A boto3 ``account`` client for the emulator, with moto's fake credentials."""
    return boto3.client(
        "account",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
    )


#: The emulator never throttles: a failing read is reported at once.
_READ_POLICY = RetryPolicy(max_attempts=1)


def _target(account_id: str, contact_type: str) -> Target:
    """The slot, with AccountId left out for the deploying account, which the real API refuses to see named."""
    return Target(account_id, contact_type, own_account=account_id == DEPLOYING_ACCOUNT)


def read_contacts(client: Any, accounts: Iterable[str]) -> dict[Slot, Details]:
    """Every contact the emulator holds for ``accounts``, all three types; absent slots are left out."""
    found: dict[Slot, Details] = {}
    for account_id in sorted(set(accounts)):
        for contact_type in spec.CONTACT_TYPES:
            target = _target(account_id, contact_type)
            live = get_contact(client, target, deadline=without_deadline(), policy=_READ_POLICY)
            if live is not None:
                found[(account_id, contact_type)] = live
    return found


def put_contacts(client: Any, contacts: Mapping[Slot, Mapping[str, str]]) -> None:
    """Write contacts straight into the emulator (a contact that existed before any stack, or a restore)."""
    for (account_id, contact_type), details in contacts.items():
        client.put_alternate_contact(
            **_target(account_id, contact_type).api_arguments(), **{key: details[key] for key in spec.DETAIL_FIELDS}
        )


def save_snapshot(path: Path, contacts: Mapping[Slot, Mapping[str, str]]) -> None:
    """Keep the emulator's contacts on disk: moto_server forgets everything when it stops."""
    rows = [{"AccountId": a, "AlternateContactType": t, **dict(d)} for (a, t), d in sorted(contacts.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def load_snapshot(path: Path) -> dict[Slot, Details]:
    """The contacts saved by :func:`save_snapshot`; none when the file does not exist."""
    if not path.exists():
        return {}
    rows = json.loads(path.read_text(encoding="utf-8"))
    return {
        (row["AccountId"], row["AlternateContactType"]): {key: row[key] for key in spec.DETAIL_FIELDS} for row in rows
    }
