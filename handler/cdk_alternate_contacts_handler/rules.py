"""Which contacts an account gets when several rules could apply: the one decision of precedence.

The layers, from the most specific: the account's own entry, then each organizational unit on its path
from the deepest up, then the organization's defaults. For each contact type the first layer that names the
type decides: a layer that gives the type a contact sets it, a layer that opts out of it leaves the account
without one, and a layer that says nothing about the type passes the decision on. The synthesizing
construct and the coverage functions (which resolve an account's path at run time) call the same function,
so the two can never disagree about an account.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .spec import AlternateContactType

Details = TypeVar("Details")


@dataclass(frozen=True)
class Layer(Generic[Details]):
    """What one level of the organization says, per contact type.

    Attributes
    ----------
    contacts:
        The contact of each type this level sets (details of any shape: the construct's ContactDetails, or
        the API's keys in the functions).
    opt_out:
        The types this level takes away. A type may not be in both (the model refuses that).
    """

    contacts: Mapping[AlternateContactType, Details] = field(default_factory=dict)
    opt_out: Collection[AlternateContactType] = ()


def cascade(layers: Sequence[Layer[Details]]) -> dict[AlternateContactType, Details]:
    """The contacts an account gets from its layers, given from the most specific to the least.

    Returns
    -------
    dict
        Contact type -> details, in the types' order; a type no layer sets (or the first layer naming it
        opts out of) is absent.
    """
    chosen: dict[AlternateContactType, Details] = {}
    for contact_type in AlternateContactType:
        for layer in layers:
            if contact_type in layer.opt_out:
                break
            if contact_type in layer.contacts:
                chosen[contact_type] = layer.contacts[contact_type]
                break
    return chosen


def layers_for(
    account: Layer[Details] | None,
    path: Sequence[str],
    units: Mapping[str, Layer[Details]],
    defaults: Layer[Details],
) -> list[Layer[Details]]:
    """The layers of one account, most specific first.

    Parameters
    ----------
    account:
        The account's own entry, if it has one.
    path:
        The ids of the organizational units the account is in, from the root's child down to its parent.
    units:
        The rule of each organizational unit that has one.
    defaults:
        The organization's defaults.
    """
    layers = [] if account is None else [account]
    layers += [units[unit] for unit in reversed(path) if unit in units]
    layers.append(defaults)
    return layers
