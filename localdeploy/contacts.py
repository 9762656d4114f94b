"""Alternate contacts as the emulator holds them: read back, saved between runs, shown masked.

Reads go through the Account API itself (boto3 against moto_server), the same calls a user would make.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from cdk_alternate_contacts_cli.masking import MASKS
from cdk_alternate_contacts_handler import spec

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


def _slot_arguments(account_id: str, contact_type: str) -> dict[str, str]:
    # The management account may not name itself on the real API: leave AccountId out for it.
    arguments = {"AlternateContactType": contact_type}
    if account_id != DEPLOYING_ACCOUNT:
        arguments["AccountId"] = account_id
    return arguments


def read_contacts(client: Any, accounts: Iterable[str]) -> dict[Slot, Details]:
    """Every contact the emulator holds for ``accounts``, all three types; absent slots are left out."""
    found: dict[Slot, Details] = {}
    for account_id in sorted(set(accounts)):
        for contact_type in spec.CONTACT_TYPES:
            try:
                response = client.get_alternate_contact(**_slot_arguments(account_id, contact_type))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    continue
                raise
            live = response["AlternateContact"]
            found[(account_id, contact_type)] = {key: str(live.get(key, "")) for key in spec.DETAIL_FIELDS}
    return found


def put_contacts(client: Any, contacts: Mapping[Slot, Mapping[str, str]]) -> None:
    """Write contacts straight into the emulator (a contact that existed before any stack, or a restore)."""
    for (account_id, contact_type), details in contacts.items():
        client.put_alternate_contact(
            **_slot_arguments(account_id, contact_type), **{key: details[key] for key in spec.DETAIL_FIELDS}
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


def mask(field: str, value: str) -> str:
    """Show enough of a contact detail to recognise it, no more: the CLI's masks (one masking for the demo,
    the engine's reports and ``cdk-alternate-contacts``).

    ``security@example.com`` -> ``s***@example.com``; ``+1 206 555 0100`` -> ``+1 *** ***0100``; names and
    titles become initials.
    """
    return MASKS[field](value)


#: Anything shaped like an email address, for masking free text such as a failure reason.
EMAIL_LIKE = re.compile(r"([^\s@<>()\"']+)@([\w.-]+\.\w+)")


def mask_text(text: str) -> str:
    """Mask every email address in free text (reasons and messages shown to the reader)."""
    return EMAIL_LIKE.sub(lambda m: mask(spec.EMAIL_ADDRESS, m.group(0)), text)
