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

from cdk_alternate_contacts_handler.spec import AlternateContactType

from .contact import AlternateContact, AlternateContactValidationError
from .contacts import AlternateContacts, ContactDetails
from .contacts_file import load_contacts_model
from .model import AccountContacts, ContactsModel, ContactsModelError
from .organization import OrganizationContacts, nested_stack_index
from .provider import AlternateContactProvider

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
    "OrganizationContacts",
    "load_contacts_model",
    "nested_stack_index",
]
