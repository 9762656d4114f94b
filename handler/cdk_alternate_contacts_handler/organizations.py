"""AWS Organizations, read: an account's state and place, the organization's units and accounts.

The listings the coverage function walks one page at a time (:func:`accounts_page`, :func:`child_units`) are
the ones the command-line tool's ``lookup``, ``import`` and ``audit`` read whole (:func:`accounts_of`,
:func:`list_accounts`). Every call is retried by :func:`~.retry.call_with_retry`; errors are raised as
botocore's, for each caller to explain in its own terms, except in :func:`inactive_state`, whose reason
goes to CloudFormation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from botocore.exceptions import ClientError

from .errors import ContactError, error_code, fit_reason, iam_hint
from .retry import Deadline, RetryPolicy, call_with_retry

#: Organizations states in which an account's contacts can be managed.
ACTIVE_STATES: Final = frozenset({"ACTIVE"})

#: The largest page ListAccounts and ListAccountsForParent return.
PAGE_SIZE: Final = 20


@dataclass(frozen=True)
class OrgAccount:
    """An account of the organization, as ListAccounts returns it (no contact details, no root email)."""

    account_id: str
    name: str
    state: str


@dataclass(frozen=True)
class Organization:
    """The organization of the caller's account (Organizations DescribeOrganization)."""

    organization_id: str
    management_account_id: str


def state_of(account: dict[str, Any]) -> str:
    """An account's ``State`` (current API) or ``Status`` (older; PENDING_CLOSURE becomes CLOSED after a while)."""
    return str(account.get("State") or account.get("Status") or "UNKNOWN")


def inactive_state(organizations: Any, account_id: str, *, deadline: Deadline, policy: RetryPolicy) -> str | None:
    """Return the account's state when it is not active (SUSPENDED, PENDING_CLOSURE, CLOSED, NOT_FOUND), else None.

    Reads Organizations DescribeAccount; an account the organization no longer knows (closed for good, or
    removed) counts as NOT_FOUND.

    Raises
    ------
    ContactError
        When the account cannot be described, naming the permission it takes.
    """
    try:
        response = call_with_retry(
            lambda: organizations.describe_account(AccountId=account_id),
            what=f"DescribeAccount {account_id}",
            deadline=deadline,
            policy=policy,
        )
    except ClientError as error:
        if error_code(error) == "AccountNotFoundException":
            return "NOT_FOUND"
        raise ContactError(
            fit_reason(
                f"DescribeAccount {account_id}: {error_code(error)}; skipping inactive accounts needs "
                "organizations:DescribeAccount, from the management account or a delegated administrator"
                + iam_hint(error)
            )
        ) from None
    state = state_of(response.get("Account", {}))
    return None if state in ACTIVE_STATES else state


def path_of(organizations: Any, child_id: str, *, deadline: Deadline, policy: RetryPolicy) -> tuple[str, ...]:
    """The organizational units above an account or unit, from the root's child down (ListParents)."""
    path: list[str] = []
    current = child_id
    for _ in range(10):  # Organizations nests at most five levels of units under the root
        response: dict[str, Any] = call_with_retry(
            partial(organizations.list_parents, ChildId=current),
            what=f"ListParents {current}",
            deadline=deadline,
            policy=policy,
        )
        parents = response.get("Parents", [])
        if not parents or parents[0]["Type"] == "ROOT":
            return tuple(reversed(path))
        current = parents[0]["Id"]
        path.append(current)
    raise ContactError(f"ListParents {child_id}: no root found above it")


def describe_organization(organizations: Any, *, deadline: Deadline, policy: RetryPolicy) -> Organization:
    """The caller's organization: its id (``o-...``) and its management account."""
    found = call_with_retry(
        lambda: organizations.describe_organization()["Organization"],
        what="DescribeOrganization",
        deadline=deadline,
        policy=policy,
    )
    return Organization(str(found["Id"]), str(found["MasterAccountId"]))


def root_id(organizations: Any, *, deadline: Deadline, policy: RetryPolicy) -> str:
    """The id (``r-...``) of the organization's root."""
    roots = call_with_retry(
        lambda: organizations.list_roots()["Roots"], what="ListRoots", deadline=deadline, policy=policy
    )
    return str(roots[0]["Id"])


def _pages(
    call: Any, what: str, *, deadline: Deadline, policy: RetryPolicy, **arguments: Any
) -> Iterator[dict[str, Any]]:
    """Every page of a paged Organizations call, each retried on its own."""
    token: str | None = None
    while True:
        more = {"NextToken": token} if token else {}
        page: dict[str, Any] = call_with_retry(
            partial(call, **arguments, **more), what=what, deadline=deadline, policy=policy
        )
        yield page
        token = page.get("NextToken")
        if not token:
            return


def child_units(organizations: Any, parent: str, *, deadline: Deadline, policy: RetryPolicy) -> list[dict[str, Any]]:
    """Every organizational unit directly under ``parent`` (a root or a unit), all pages: their Id and Name."""
    pages = _pages(
        organizations.list_organizational_units_for_parent,
        f"ListOrganizationalUnitsForParent {parent}",
        deadline=deadline,
        policy=policy,
        ParentId=parent,
    )
    return [unit for page in pages for unit in page.get("OrganizationalUnits", [])]


def accounts_page(
    organizations: Any, parent: str, token: str | None, *, deadline: Deadline, policy: RetryPolicy
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the accounts directly under ``parent`` (ListAccountsForParent), and the next page's token."""
    arguments: dict[str, Any] = {"ParentId": parent, "MaxResults": PAGE_SIZE, **({"NextToken": token} if token else {})}
    page = call_with_retry(
        lambda: organizations.list_accounts_for_parent(**arguments),
        what=f"ListAccountsForParent {parent}",
        deadline=deadline,
        policy=policy,
    )
    return list(page.get("Accounts", [])), page.get("NextToken") or None


def accounts_of(organizations: Any, parent: str, *, deadline: Deadline, policy: RetryPolicy) -> list[dict[str, Any]]:
    """Every account directly under ``parent``, all pages."""
    found, token = accounts_page(organizations, parent, None, deadline=deadline, policy=policy)
    while token is not None:
        more, token = accounts_page(organizations, parent, token, deadline=deadline, policy=policy)
        found.extend(more)
    return found


def list_accounts(organizations: Any, *, deadline: Deadline, policy: RetryPolicy) -> list[OrgAccount]:
    """Every account of the organization (ListAccounts, all pages), in the order Organizations gives them."""
    pages = _pages(organizations.list_accounts, "ListAccounts", deadline=deadline, policy=policy, MaxResults=PAGE_SIZE)
    return [
        OrgAccount(str(account["Id"]), str(account.get("Name", "")), state_of(account))
        for page in pages
        for account in page.get("Accounts", [])
    ]
