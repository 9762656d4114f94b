"""The coverage's settings: which accounts beyond the listed ones are kept, how often, what drift does.

Free of the CDK, like the rest of the model; :class:`~cdk_alternate_contacts.OrganizationContacts` deploys it
(:mod:`.coverage`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from enum import StrEnum

from .structure import ORGANIZATIONAL_UNIT_ID


class OnDrift(StrEnum):
    """What a reconciliation does with a covered account whose contact differs from the rules."""

    #: Put the rules' contact back.
    RESTORE = "restore"
    #: Count and log it; change nothing.
    REPORT = "report"


#: Every ACTIVE account of the organization.
ALL_ACCOUNTS = "all"

#: EventBridge's schedule expressions (``rate(1 day)``, ``cron(0 3 * * ? *)``).
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$", re.ASCII)
_CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$", re.ASCII)

#: A full run reads every covered account's three contacts: 10,000 accounts take about 50 minutes at the Get
#: quota (10 a second), so runs more often than hourly would overlap.
MIN_RECONCILE_HOURS = 1


@dataclass(frozen=True)
class Coverage:
    """Which accounts the coverage keeps, beyond the listed ones, and how.

    Parameters
    ----------
    accounts:
        ``"all"`` (default): every ACTIVE account of the organization; or a list of organizational unit ids:
        the accounts under them, at any depth. Accounts listed in ``accounts=[...]`` stay with their
        CloudFormation resources; every other account in the scope is kept by the coverage, with the
        defaults and the units' rules (an account's own overrides need a listed entry).
    reconcile:
        An EventBridge schedule expression (default ``rate(1 day)``, at most hourly): each time, every covered
        account is read and, with ``on_drift`` RESTORE, put back to what the rules say.
    on_drift:
        :class:`OnDrift` RESTORE (default) or REPORT (only counted and logged), or its value in any case.
    """

    accounts: str | Sequence[str] = ALL_ACCOUNTS
    _: KW_ONLY
    reconcile: str = "rate(1 day)"
    on_drift: OnDrift | str = OnDrift.RESTORE

    def __post_init__(self) -> None:
        if not isinstance(self.accounts, str) and isinstance(self.accounts, Sequence):
            object.__setattr__(self, "accounts", tuple(self.accounts))

    @property
    def scope(self) -> str | tuple[str, ...]:
        """``"all"`` or the units' ids, as the coverage function reads them."""
        return self.accounts if isinstance(self.accounts, str) else tuple(self.accounts)

    @property
    def drift(self) -> OnDrift:
        """``on_drift`` as an :class:`OnDrift` (valid coverage only)."""
        return OnDrift(str(self.on_drift).lower())


def schedule_problem(expression: object) -> str | None:
    """What is wrong with an EventBridge schedule expression, as EventBridge would say it; None if nothing."""
    if not isinstance(expression, str):
        return f"must be a schedule expression such as rate(1 day) (got {type(expression).__name__})"
    rate = _RATE.fullmatch(expression)
    if rate is None:
        return (
            None
            if _CRON.fullmatch(expression)
            else (
                f"{expression[:60]!r} is not a schedule expression: use rate(<n> <minutes|hours|days>) or "
                "cron(<6 fields>), as EventBridge does"
            )
        )
    value, unit = int(rate.group(1)), rate.group(2)
    problem = None
    if value < 1:
        problem = "a rate must be 1 or more"
    elif (value == 1) != (not unit.endswith("s")):
        right = unit.rstrip("s") if value == 1 else unit + "s"
        problem = f"EventBridge wants rate({value} {right}): the unit is singular for 1 and plural above"
    elif unit.startswith("minute"):
        problem = (
            f"{expression} is more often than once an hour: a full run reads every covered account "
            "(10,000 accounts: about 50 minutes at the API's quota), so runs would overlap"
        )
    return problem


def coverage_problems(coverage: object) -> list[str]:
    """What is wrong with the coverage, each ``coverage.<field>: ...``."""
    if not isinstance(coverage, Coverage):
        return [f"coverage: must be a Coverage (got {type(coverage).__name__})"]
    problems = []
    accounts = coverage.accounts
    if isinstance(accounts, str):
        if accounts != ALL_ACCOUNTS:
            problems.append(
                f'coverage.accounts: must be "all" or a list of organizational unit ids (got {accounts[:40]!r})'
            )
    elif not accounts:
        problems.append('coverage.accounts: the list of organizational units is empty; use "all" for every account')
    else:
        for position, unit in enumerate(accounts):
            if not isinstance(unit, str) or not ORGANIZATIONAL_UNIT_ID.fullmatch(unit):
                shown = unit[:40] if isinstance(unit, str) else type(unit).__name__
                problems.append(
                    f"coverage.accounts[{position}]: must be an organizational unit id, ou-... (got {shown!r})"
                )
        duplicates = sorted({u for u in accounts if isinstance(u, str) and list(accounts).count(u) > 1})
        if duplicates:
            problems.append(f"coverage.accounts: {', '.join(duplicates)} listed more than once")
    problem = schedule_problem(coverage.reconcile)
    if problem:
        problems.append(f"coverage.reconcile: {problem}")
    if str(coverage.on_drift).lower() not in {d.value for d in OnDrift}:
        problems.append(f"coverage.on_drift: must be restore or report (got {str(coverage.on_drift)[:20]!r})")
    return problems
