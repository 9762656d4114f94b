"""One set of sample contacts for the tests, keyed as the API names the fields (the same people as
examples/contacts.toml): a test that needs another contact derives it from these (``{**SECURITY, ...}``)."""

from __future__ import annotations

from typing import Final

SECURITY: Final = {
    "EmailAddress": "soc@example.com",
    "Name": "Security Operations Center",
    "PhoneNumber": "+1 206 555 0100",
    "Title": "Security team",
}
OPERATIONS: Final = {
    "EmailAddress": "cloud-ops@example.com",
    "Name": "Platform on-call",
    "PhoneNumber": "+1 206 555 0101",
    "Title": "Operations team",
}
BILLING: Final = {
    "EmailAddress": "finance@example.com",
    "Name": "Finance Department",
    "PhoneNumber": "+1 206 555 0102",
    "Title": "Accounts payable",
}
