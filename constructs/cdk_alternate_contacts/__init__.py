"""AWS CDK constructs for AWS account alternate contacts (BILLING, OPERATIONS, SECURITY).

Example
-------
>>> from cdk_alternate_contacts import AlternateContact, AlternateContactType
>>> AlternateContact(
...     stack, "SecurityContact",
...     contact_type=AlternateContactType.SECURITY,
...     email_address="security@example.com", name="Security team",
...     phone_number="+1 555 0100", title="CISO office",
... )
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cdk_alternate_contacts_handler.spec import AlternateContactType

if TYPE_CHECKING:
    from .contact import AlternateContact
    from .contacts import AlternateContacts
    from .contacts_file import load_contacts_model
    from .coverage_model import Coverage, OnDrift
    from .details import AlternateContactValidationError, ContactDetails
    from .model import AccountContacts, ContactsModel, ContactsModelError, OrganizationalUnitContacts
    from .organization import OrganizationContacts
    from .placement import nested_stack_index, nested_stacks_for
    from .provider import AlternateContactProvider
    from .structure import OrganizationStructure

# Names are imported on first use, so that `python -m cdk_alternate_contacts` (the read-only CLI, which
# never needs the CDK) does not pay for starting aws_cdk and its Node process.
_LAZY = {
    "AccountContacts": ".model",
    "AlternateContact": ".contact",
    "AlternateContactProvider": ".provider",
    "AlternateContactValidationError": ".details",
    "AlternateContacts": ".contacts",
    "ContactDetails": ".details",
    "ContactsModel": ".model",
    "ContactsModelError": ".model",
    "Coverage": ".coverage_model",
    "OnDrift": ".coverage_model",
    "OrganizationContacts": ".organization",
    "OrganizationStructure": ".structure",
    "OrganizationalUnitContacts": ".model",
    "load_contacts_model": ".contacts_file",
    "nested_stack_index": ".placement",
    "nested_stacks_for": ".placement",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "AccountContacts",
    "AlternateContact",
    "AlternateContactProvider",
    "AlternateContactType",
    "AlternateContactValidationError",
    "AlternateContacts",
    "ContactDetails",
    "ContactsModel",
    "ContactsModelError",
    "Coverage",
    "OnDrift",
    "OrganizationContacts",
    "OrganizationStructure",
    "OrganizationalUnitContacts",
    "load_contacts_model",
    "nested_stack_index",
    "nested_stacks_for",
]
