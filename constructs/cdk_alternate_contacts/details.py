"""The plain values every construct and the contacts model share, importable without the CDK.

:class:`ContactDetails`, the validation error and the token test live here so that the model
(:mod:`.model`), the data-file reader (:mod:`.contacts_file`) and the command-line tool can use them without
starting aws_cdk and its Node process; the CDK is loaded only when a value might be a token.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdk_alternate_contacts_handler import spec


class AlternateContactValidationError(ValueError):
    """A declared contact breaks the Account API's rules; the message names every bad field."""


@dataclass(frozen=True)
class ContactDetails:
    """Who to reach for one type of contact: reusable across accounts and types.

    Attributes
    ----------
    email_address, name, phone_number, title:
        Checked with the Account API's exact rules wherever the details are used (email up to 254
        characters, name up to 64, phone up to 25 of digits, spaces and ``()+-``, title up to 50).
    """

    email_address: str
    name: str
    phone_number: str
    title: str

    def to_properties(self) -> dict[str, str]:
        """The details keyed as the API names them (``EmailAddress``, ``Name``, ...)."""
        return {api: getattr(self, spec.USER_NAMES[api]) for api in spec.DETAIL_FIELDS}


def is_unresolved(value: object) -> bool:
    """``Token.is_unresolved``, without loading the CDK (or a round trip to its Node process) for plain values.

    Every encoded token contains ``{Token[`` (``${Token[...]}`` for strings, ``#{Token[...]}`` in lists), so a
    string without it is known to be literal, and so are ``None``, booleans and integers (a number token is a
    float); anything else is asked. An organization of 1,000 accounts declares tens of thousands of values,
    and each round trip costs about half a millisecond.
    """
    if value is None or isinstance(value, bool | int) or (isinstance(value, str) and "{Token[" not in value):
        return False
    from aws_cdk import Token  # noqa: PLC0415 - only a value that may be a token needs the CDK

    return bool(Token.is_unresolved(value))
