"""Generated CloudFormation custom resource events, valid and hostile, each with what must come of it.

One generator serves two drivers: hypothesis (tests/robustness, which shrinks a failure to its smallest
event) and a seeded ``random.Random`` (benchmarks/stress_handler.py, which needs ten thousand events fast
and reproducibly). The generator draws through the small :class:`Draw` interface that both implement.

Every :class:`Case` carries its oracle, known by construction: whether the handler must answer at all,
the status it must answer, words the reason must contain, whether the accounts' contacts may change, and
the contact details the event holds (which must appear in no log line and no answer).
"""

from __future__ import annotations

import os
import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from cdk_alternate_contacts_handler import spec

T = TypeVar("T")

OWN_ACCOUNT = "123456789012"
MEMBER_ACCOUNTS = ("210987654321", "111111111111", "222222222222")
REGION = "us-east-1"
SERVICE_TOKEN = f"arn:aws:lambda:{REGION}:{OWN_ACCOUNT}:function:provider"

#: Envelope keys the handler needs as strings before it can answer (index._ENVELOPE_KEYS).
ENVELOPE_KEYS = ("RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId")

#: Placeholder the harness replaces with a fresh URL of its listener.
RESPONSE_URL = "https://127.0.0.1:1/placeholder?X-Amz-Signature=placeholder"

# -- hypothesis profiles ---------------------------------------------------------------------------

#: ``ROBUSTNESS_PROFILE=deep`` runs many more examples (minutes); the default keeps CI near a minute.
PROFILE = os.environ.get("ROBUSTNESS_PROFILE", "ci")

settings.register_profile(
    "robustness-ci",
    max_examples=50,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("robustness-deep", parent=settings.get_profile("robustness-ci"), max_examples=1500)


def fuzz_settings(ci_examples: int | None = None) -> settings:
    """The settings of a robustness property test: the profile chosen by ROBUSTNESS_PROFILE."""
    base = settings.get_profile(f"robustness-{PROFILE}")
    if ci_examples is not None and PROFILE == "ci":
        return settings(base, max_examples=ci_examples)
    return base


# -- drawing ---------------------------------------------------------------------------------------


class Draw(Protocol):
    """Where the generator's choices come from."""

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``."""

    def integer(self, low: int, high: int) -> int:
        """An integer in ``[low, high]``."""

    def chance(self, percent: int) -> bool:
        """True about ``percent`` times in a hundred."""

    def text(self, alphabet: str | None, min_size: int, max_size: int) -> str:
        """A string of ``alphabet``'s characters (any Unicode text when ``None``)."""


class RandomDraw:
    """Draws from a seeded ``random.Random`` (the stress benchmark)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(list(options))

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def chance(self, percent: int) -> bool:
        return self.rng.randrange(100) < percent

    def text(self, alphabet: str | None, min_size: int, max_size: int) -> str:
        size = self.rng.randint(min_size, max_size)
        if alphabet is not None:
            return "".join(self.rng.choice(alphabet) for _ in range(size))
        return "".join(_random_character(self.rng) for _ in range(size))


def _random_character(rng: random.Random) -> str:
    while True:
        # Mostly the planes where look-alikes live; no lone surrogates (JSON events cannot carry them).
        point = rng.choice((rng.randint(0x20, 0x7E), rng.randint(0xA0, 0x2FFF), rng.randint(0xFF00, 0xFFEF)))
        if not 0xD800 <= point <= 0xDFFF:
            return chr(point)


class HypothesisDraw:
    """Draws through hypothesis (a composite strategy's ``draw``), so that a failing event shrinks."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]) -> None:
        self.draw = draw

    def choice(self, options: Sequence[T]) -> T:
        result: T = self.draw(st.sampled_from(list(options)))
        return result

    def integer(self, low: int, high: int) -> int:
        return int(self.draw(st.integers(low, high)))

    def chance(self, percent: int) -> bool:
        return bool(self.draw(st.integers(0, 99)) < percent)

    def text(self, alphabet: str | None, min_size: int, max_size: int) -> str:
        characters = st.characters(codec="utf-8") if alphabet is None else st.sampled_from(alphabet)
        return str(self.draw(st.text(characters, min_size=min_size, max_size=max_size)))


# -- the oracle ------------------------------------------------------------------------------------


@dataclass
class Case:
    """One generated event and what must come of it.

    Attributes
    ----------
    kind:
        What was generated, for grouping (``valid-create``, ``invalid-field``, ``unknown-request-type``...).
    event:
        What the handler receives. A string ``ResponseURL`` is replaced by the harness with a fresh
        URL of its listener.
    answers:
        True when the event has the envelope CloudFormation always sends: exactly one answer must come.
        False: no answer at all, and nothing raised.
    status:
        ``SUCCESS`` or ``FAILED`` when known by construction, ``None`` when either is right.
    reason_mentions:
        A FAILED reason must contain at least one of these (it must name the problem).
    contacts_may_change:
        False when the event is invalid (or answered FAILED): no contact may change.
    expected_contacts:
        For a valid Create or Update: ``(account, type) -> details`` that must be live afterwards.
    deleted_slots:
        For a valid Delete: ``(account, type) -> details`` the resource wrote. A slot that still holds them
        must be empty afterwards; one that holds another writer's contact must keep it.
    secrets:
        Every contact detail in the event: none may appear in a log line or an answer.
    forged:
        True for an event CloudFormation did not send (sent straight to the function): the driver must
        not show its resource as being deleted, and shows the stack as ``listed`` instead.
    listed:
        For a forged event, the stack's resources (logical id, physical id, status) while it runs.
    """

    kind: str
    event: Any
    answers: bool = True
    status: str | None = None
    reason_mentions: tuple[str, ...] = ()
    contacts_may_change: bool = False
    expected_contacts: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    deleted_slots: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    forged: bool = False
    listed: tuple[tuple[str, str, str], ...] = ()


# -- values ----------------------------------------------------------------------------------------

HEX = "0123456789abcdef"
DIGITS = "0123456789"

#: Look-alikes of characters that matter to the API's patterns.
LOOK_ALIKES = {
    "a": ("\u0430", "\u0251", "\uff41"),  # Cyrillic a, Latin alpha, fullwidth a
    "e": ("\u0435", "\u212e"),  # Cyrillic ie, estimated sign
    "o": ("\u043e", "\u03bf", "\u2134"),  # Cyrillic o, Greek omicron, script o
    "@": ("\uff20", "\ufe6b"),  # fullwidth and small commercial at
    ".": ("\u2024", "\uff0e", "\u3002"),  # one-dot leader, fullwidth full stop, ideographic full stop
    "-": ("\u2010", "\u2013", "\u2212"),  # hyphen, en dash, minus sign
    "+": ("\uff0b", "\u2795"),  # fullwidth plus, heavy plus
    " ": ("\u00a0", "\u2009", "\u3000"),  # no-break, thin and ideographic spaces: not ASCII \s
}
INVISIBLES = ("\u200b", "\u200d", "\u2060", "\ufeff", "\u202e")  # zero-width, joiner, word joiner, BOM, RTL override
DIGIT_SETS = (
    "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19",  # fullwidth
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",  # Arabic-Indic
    "\u0966\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f",  # Devanagari
    "\U0001d7ce\U0001d7cf\U0001d7d0\U0001d7d1\U0001d7d2\U0001d7d3\U0001d7d4\U0001d7d5\U0001d7d6\U0001d7d7",  # math bold
)

NAMES = ("Grace Hopper", "Zoë Ødegård", "李小龙", "O'Brien, Seán", "Ada Lovelace", "Đặng Thị Ngọc")
TITLES = ("Rear Admiral of Security", "CISO", "Responsable sécurité", "運用チーム", "Billing lead")
LOCAL_PARTS = ("grace.hopper", "sec-team", "ops+alerts", "a_b", "x=y", "billing#1", "it|sec")
DOMAINS = ("example.com", "corp.example.org", "mail.example.net", "sub.domain.example")
PHONES = ("+1 206 555 {}", "(020) 7946 {}", "+44-20-7946-{}", "+81 3-1234-{}", "0049 30 {}")


def _token(draw: Draw) -> str:
    return draw.text(HEX, 6, 6)


def valid_details(draw: Draw) -> dict[str, str]:
    """A contact the API accepts, each value distinctive enough to be searched for in logs."""
    token = _token(draw)
    email = f"{draw.choice(LOCAL_PARTS)}.{token}@{draw.choice(DOMAINS)}"
    if draw.chance(10):
        email = f" {email} "  # the API's pattern admits surrounding white space
    return {
        spec.EMAIL_ADDRESS: email,
        spec.NAME: f"{draw.choice(NAMES)} {token}",
        spec.PHONE_NUMBER: draw.choice(PHONES).format(draw.text(DIGITS, 4, 4)),
        spec.TITLE: f"{draw.choice(TITLES)} {token}"[:50],
    }


def _swap_look_alike(draw: Draw, value: str, characters: str) -> str | None:
    """``value`` with one of ``characters`` replaced by a look-alike, or None if it holds none of them."""
    positions = [i for i, c in enumerate(value) if c in characters]
    if not positions:
        return None
    i = draw.choice(positions)
    return value[:i] + draw.choice(LOOK_ALIKES[value[i]]) + value[i + 1 :]


def invalid_value(draw: Draw, field_name: str, valid: str) -> Any:
    """A value the API rejects for ``field_name``: a look-alike, a bad length or a wrong JSON type."""
    kind = draw.integer(0, 9)
    if kind == 0:
        return draw.choice((None, 0, 12.5, True, [], {}, [valid], {"value": valid}))
    if kind == 1:
        return ""
    if kind == 2:
        limit = spec.FIELD_RULES[field_name].max_length
        return (valid * (limit // max(len(valid), 1) + 2))[: draw.choice((limit + 1, limit + 7, 5000, 100_000))]
    if field_name in (spec.NAME, spec.TITLE):
        # Any text of a valid length is a valid name or title: only length and type can break them.
        return draw.choice(("", None, 7, valid * 40))
    if field_name == spec.EMAIL_ADDRESS:
        swapped = _swap_look_alike(draw, valid.strip(), "ao@.-e")
        options = [
            swapped,
            valid.replace("@", ""),
            valid.replace("@", "@@"),
            valid.strip() + draw.choice(INVISIBLES),
            valid.strip().replace("@", draw.choice(INVISIBLES) + "@"),
            valid.strip().replace("@", " @"),
            valid.strip().replace("@", "\n@"),
            valid.strip().split("@")[0] + "@localhost",  # no top-level domain
            "<script>@example.com",
            "'; DROP TABLE contacts;--@x.io",
        ]
        return draw.choice([o for o in options if o is not None])
    if field_name == spec.PHONE_NUMBER:
        digits = draw.choice(DIGIT_SETS)
        options = [
            "".join(digits[int(c)] if c.isdigit() else c for c in valid),
            _swap_look_alike(draw, valid, "+- "),
            valid + draw.choice(INVISIBLES),
            valid + " ext. 12",
            "call " + valid,
            "+1 (206) 555-0147; rm -rf /",
        ]
        return draw.choice([o for o in options if o is not None])
    raise AssertionError(field_name)


def invalid_account(draw: Draw) -> Any:
    """An AccountId the API rejects."""
    account = draw.choice(MEMBER_ACCOUNTS)
    digits = draw.choice(DIGIT_SETS)
    return draw.choice(
        (
            "".join(digits[int(c)] for c in account),  # look-alike digits everywhere
            account[:-1] + digits[int(account[-1])],  # one look-alike digit
            account[:-1],
            account + "0",
            account[:6] + "O" + account[7:],  # letter O
            f" {account}",
            account + "\n",
            account + draw.choice(INVISIBLES),
            int(account),
            [account],
            "",
            "*",
            "../../../etc/passwd",
        )
    )


def invalid_type(draw: Draw) -> Any:
    """An AlternateContactType the API rejects (a look-alike or a wrong case of a real one, or worse)."""
    real = draw.choice(spec.CONTACT_TYPES)
    return draw.choice(
        (
            real.lower(),
            real.title(),
            real.replace("I", "\u0130"),  # Turkish dotted capital I
            real.replace("S", "\u0405").replace("B", "\u0412").replace("O", "\u041e"),  # Cyrillic capitals
            f" {real}",
            real + draw.choice(INVISIBLES),
            real + "S",
            "ALL",
            "PRIMARY",
            "",
            None,
            0,
            [real],
            {real: real},
        )
    )


def garbage(draw: Draw, depth: int = 3) -> Any:
    """A JSON value of any shape, nested up to ``depth``."""
    kind = draw.integer(0, 7 if depth > 0 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return draw.choice((True, False))
    if kind == 2:
        return draw.integer(-(2**63), 2**63)
    if kind == 3:
        return draw.choice((0.0, -1.5, 1e308, 3.14))
    if kind == 4:
        return draw.text(None, 0, 30)
    if kind == 5:
        return draw.text(None, 1000, 3000)
    if kind == 6:
        return [garbage(draw, depth - 1) for _ in range(draw.integer(0, 4))]
    return {draw.text(None, 0, 12): garbage(draw, depth - 1) for _ in range(draw.integer(0, 4))}


# -- events ----------------------------------------------------------------------------------------


def envelope(draw: Draw, request_type: str, stack_id: str) -> dict[str, Any]:
    """The keys CloudFormation always sends, with values a fuzzer may make odd but never unusable."""
    logical = draw.choice(
        (
            "SecurityContact",
            "Contacts" + _token(draw),
            draw.text(string.ascii_letters + string.digits, 1, 255),
            draw.text(None, 1, 64) or "x",  # not a valid logical id, but a string: it must still be answered
        )
    )
    request_id = draw.choice(
        (
            f"{_token(draw)}-0000-4000-8000-000000000000",
            draw.text(None, 1, 36) or "r",
        )
    )
    return {
        "RequestType": request_type,
        "ServiceToken": SERVICE_TOKEN,
        "ResponseURL": RESPONSE_URL,
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": logical,
        "ResourceType": spec.RESOURCE_TYPE,
    }


def _single(draw: Draw, account: str | None, contact_type: str, details: dict[str, str]) -> dict[str, Any]:
    props: dict[str, Any] = {"ServiceToken": SERVICE_TOKEN, "ServiceTimeout": "420", spec.CONTACT_TYPE: contact_type}
    props.update(details)
    if account is not None:
        props[spec.ACCOUNT_ID] = account
    if draw.chance(15):
        props[spec.RESTORE_ON_DELETE] = draw.choice(("false", "False", "true"))
    if draw.chance(15):
        # Keys an older (or newer) construct might send: unknown keys are ignored, not rejected.
        props[draw.choice(("Version", "ContactVersion", "Region", "Comment"))] = draw.choice(("1", "0.0.1", "x"))
    return props


def _multi(draw: Draw, account: str | None, contacts: dict[str, dict[str, str]]) -> dict[str, Any]:
    props: dict[str, Any] = {"ServiceToken": SERVICE_TOKEN, "ServiceTimeout": "420", spec.CONTACTS: contacts}
    if account is not None:
        props[spec.ACCOUNT_ID] = account
    return props


@dataclass
class Declared:
    """A valid declaration: its properties, resource type, account and contacts."""

    properties: dict[str, Any]
    resource_type: str
    account: str
    contacts: dict[str, dict[str, str]]

    @property
    def physical_id(self) -> str:
        return spec.physical_id(self.account, self.contacts)

    def secrets(self) -> set[str]:
        return {value for details in self.contacts.values() for value in details.values()}


def declared(draw: Draw) -> Declared:
    """A valid Custom::AlternateContact or Custom::AlternateContacts declaration."""
    account = draw.choice((None, None, OWN_ACCOUNT, *MEMBER_ACCOUNTS))
    live_account = account or OWN_ACCOUNT
    if draw.chance(70):
        contact_type = draw.choice(spec.CONTACT_TYPES)
        details = valid_details(draw)
        return Declared(
            _single(draw, account, contact_type, details), spec.RESOURCE_TYPE, live_account, {contact_type: details}
        )
    types = [t for t in spec.CONTACT_TYPES if draw.chance(60)] or [draw.choice(spec.CONTACT_TYPES)]
    contacts = {t: valid_details(draw) for t in types}
    return Declared(_multi(draw, account, contacts), spec.CONTACTS_RESOURCE_TYPE, live_account, contacts)


def _event(draw: Draw, request_type: str, stack_id: str, decl: Declared) -> dict[str, Any]:
    event = envelope(draw, request_type, stack_id)
    event["ResourceType"] = decl.resource_type
    event["ResourceProperties"] = decl.properties
    return event


def valid_create(draw: Draw, stack_id: str) -> Case:
    decl = declared(draw)
    expected = {(decl.account, t): d for t, d in decl.contacts.items()}
    return Case(
        "valid-create",
        _event(draw, "Create", stack_id, decl),
        status="SUCCESS",
        contacts_may_change=True,
        expected_contacts=expected,
        secrets=decl.secrets(),
    )


def valid_update(draw: Draw, stack_id: str) -> Case:
    decl = declared(draw)
    event = _event(draw, "Update", stack_id, decl)
    old_kind = draw.integer(0, 3)
    secrets = decl.secrets()
    old: Declared | None = None
    if old_kind == 0:  # the same resource before some values changed (or a replacement)
        old = declared(draw)
        secrets |= old.secrets()
    elif old_kind == 1:  # nothing changed
        old = decl
    if old is not None:
        event["OldResourceProperties"] = old.properties
        event["PhysicalResourceId"] = old.physical_id
    elif old_kind == 2:  # from an older version of the construct, or garbage: everything is put
        event["OldResourceProperties"] = draw.choice(
            ({"Email": "old@example.com", "Type": "SECURITY"}, garbage(draw, 2), None, "v0")
        )
        event["PhysicalResourceId"] = draw.choice((decl.physical_id, "Stack_Logical_ABCDEFGH", 17, ""))
    else:  # a physical id of any shape: the answer is the declared identity either way
        event["OldResourceProperties"] = {}
        event["PhysicalResourceId"] = garbage(draw, 1)
    # What the handler leaves alone: a contact of the same slot whose details did not change.
    unchanged = {
        t
        for t, details in decl.contacts.items()
        if old is not None
        and old.account == decl.account
        and t in old.contacts
        and spec.same_contact(details, old.contacts[t])
    }
    expected = {(decl.account, t): d for t, d in decl.contacts.items() if t not in unchanged}
    return Case(
        "valid-update",
        event,
        status="SUCCESS",
        contacts_may_change=True,
        expected_contacts=expected,
        secrets=secrets,
    )


def is_logical_id(value: object) -> bool:
    """Whether ``value`` is a logical id CloudFormation accepts: 1 to 255 ASCII letters and digits."""
    return isinstance(value, str) and 0 < len(value) <= 255 and value.isascii() and value.isalnum()


def valid_delete(draw: Draw, stack_id: str) -> Case:
    decl = declared(draw)
    if spec.RESTORE_ON_DELETE in decl.properties:
        # With restore on, the slot would get back what an earlier generated Create recorded: not empty.
        decl.properties[spec.RESTORE_ON_DELETE] = "false"
    event = _event(draw, "Delete", stack_id, decl)
    event["PhysicalResourceId"] = decl.physical_id
    if not is_logical_id(event["LogicalResourceId"]):
        # CloudFormation only sends logical ids it can list (the Delete checks that its stack lists it).
        event["LogicalResourceId"] = "SecurityContact"
    return Case(
        "valid-delete",
        event,
        status="SUCCESS",
        contacts_may_change=True,
        deleted_slots={(decl.account, t): d for t, d in decl.contacts.items()},
        secrets=decl.secrets(),
    )


def delete_of_a_foreign_id(draw: Draw, stack_id: str) -> Case:
    """A Delete whose id this handler never issued (a failed Create's invented id, or a look-alike)."""
    decl = declared(draw)
    event = _event(draw, "Delete", stack_id, decl)
    digits = draw.choice(DIGIT_SETS)
    event["PhysicalResourceId"] = draw.choice(
        (
            "Robustness_SecurityContact_QG4SHFSA",
            "".join(digits[int(c)] for c in OWN_ACCOUNT) + "/SECURITY",
            f"{OWN_ACCOUNT}/security",
            f"{OWN_ACCOUNT}/SECURITY+BILLING",  # unsorted: not an id this handler writes
            f"{OWN_ACCOUNT}/SECURITY+SECURITY",
            f"{OWN_ACCOUNT}/SECURITY ",
            f"{OWN_ACCOUNT}/SECURITY\n",
            f"{OWN_ACCOUNT[:-1]}/SECURITY",
            None,
            7,
            ["x"],
            draw.text(None, 1, 60) or "z",
        )
    )
    return Case("delete-foreign-id", event, status="SUCCESS", secrets=decl.secrets())


def delete_on_an_unknown_stack(draw: Draw) -> Case:
    """A Delete of a managed id whose stack cannot be listed: it must fail, not delete blind."""
    decl = declared(draw)
    stack = draw.choice(
        (
            f"arn:aws:cloudformation:{REGION}:{OWN_ACCOUNT}:stack/Other/00000000-0000-4000-8000-000000000000",
            "arn:aws:cloudformation:us-east-1:" + "\uff11" * 12 + ":stack/Robustness/x",
        )
    )
    event = _event(draw, "Delete", stack, decl)
    event["PhysicalResourceId"] = decl.physical_id
    return Case(
        "delete-unknown-stack",
        event,
        status="FAILED",
        reason_mentions=("ListStackResources", "stack's resources", "DescribeStacks"),
        secrets=decl.secrets(),
    )


def forged_delete(draw: Draw, stack_id: str) -> Case:
    """A Delete CloudFormation did not send: it must delete nothing and answer SUCCESS saying why.

    Each names a managed id (``<account>/<TYPE>``) and is refuted by the event itself or by its stack: a
    logical id the stack does not list, properties naming another type or account (or the type in lower
    case), the id of a contact that another live resource owns, or its owner's own logical id while the
    stack shows it live.
    """
    decl = declared(draw)
    event = _event(draw, "Delete", stack_id, decl)
    event["PhysicalResourceId"] = decl.physical_id
    kind = draw.integer(0, 4)
    listed: tuple[tuple[str, str, str], ...] = ()
    secrets = decl.secrets()
    if kind == 0:  # a forged logical id
        event["LogicalResourceId"] = "Forged" + _token(draw)
        listed = (("Owner", decl.physical_id, "CREATE_COMPLETE"),)
    elif kind == 1:  # properties of another contact: another account
        other = draw.choice([a for a in (OWN_ACCOUNT, *MEMBER_ACCOUNTS) if a != decl.account])
        event["ResourceProperties"] = {**decl.properties, spec.ACCOUNT_ID: other}
    elif kind == 2:  # properties of another contact: other types, or a lower-case type
        props = dict(decl.properties)
        if decl.resource_type == spec.RESOURCE_TYPE:
            current = props[spec.CONTACT_TYPE]
            props[spec.CONTACT_TYPE] = draw.choice([current.lower(), *[t for t in spec.CONTACT_TYPES if t != current]])
        else:
            contacts = dict(props[spec.CONTACTS])
            first = sorted(contacts)[0]
            contacts[first.lower()] = contacts.pop(first)
            props[spec.CONTACTS] = contacts
        event["ResourceProperties"] = props
    elif kind == 3:  # the id of a contact another live resource owns
        event["LogicalResourceId"] = "Victim"
        listed = (("Owner", decl.physical_id, "CREATE_COMPLETE"), ("Victim", "other-id", "DELETE_IN_PROGRESS"))
    else:  # the owner's own logical id, while the stack shows it live with that id
        # (a logical id CloudFormation could list: alphanumeric, unlike the fuzzed envelope's)
        event["LogicalResourceId"] = "Owner"
        listed = (("Owner", decl.physical_id, "UPDATE_COMPLETE"),)
    return Case("forged-delete", event, status="SUCCESS", secrets=secrets, forged=True, listed=listed)


def invalid_properties(draw: Draw, stack_id: str) -> Case:
    """A Create or Update whose properties break the API's rules in one to three fields."""
    decl = declared(draw)
    request_type = draw.choice(("Create", "Update"))
    event = _event(draw, request_type, stack_id, decl)
    if request_type == "Update":
        event["PhysicalResourceId"] = decl.physical_id
        event["OldResourceProperties"] = decl.properties
    props = decl.properties = {**decl.properties}
    event["ResourceProperties"] = props
    mentions: list[str] = []
    secrets = decl.secrets()
    for _ in range(draw.integer(1, 3)):
        target = draw.integer(0, 5)
        if target == 0:
            props[spec.ACCOUNT_ID] = invalid_account(draw)
            mentions.append(spec.ACCOUNT_ID)
        elif target == 1 and decl.resource_type == spec.RESOURCE_TYPE:
            props[spec.CONTACT_TYPE] = invalid_type(draw)
            mentions.append(spec.CONTACT_TYPE)
        elif target == 1:
            contacts = dict(props[spec.CONTACTS])
            bad_type = invalid_type(draw)
            key = bad_type if isinstance(bad_type, str) else "security"
            contacts[key] = valid_details(draw)
            secrets |= set(contacts[key].values())
            props[spec.CONTACTS] = contacts
            mentions.append(spec.CONTACTS)
        elif target == 2:
            flag = draw.choice(spec.FLAGS)
            props[flag] = draw.choice(("yes", "1", "", "TRUE ", "on", 1))
            mentions.append(flag)
        else:
            field_name = draw.choice(spec.DETAIL_FIELDS)
            contact_type = draw.choice(sorted(decl.contacts))
            bad = invalid_value(draw, field_name, decl.contacts[contact_type][field_name])
            if isinstance(bad, str) and len(bad) >= 6:
                secrets.add(bad)
            if decl.resource_type == spec.RESOURCE_TYPE:
                props[field_name] = bad
            else:
                contacts = {t: dict(d) for t, d in props[spec.CONTACTS].items()}
                contacts[contact_type][field_name] = bad
                props[spec.CONTACTS] = contacts
            mentions.append(field_name)
    return Case(
        "invalid-properties",
        event,
        status="FAILED",
        reason_mentions=tuple(mentions),
        secrets=secrets,
    )


def mismatched_shape(draw: Draw, stack_id: str) -> Case:
    """Properties of one resource type sent under the other, or of an older construct, or not a map at all."""
    decl = declared(draw)
    event = _event(draw, draw.choice(("Create", "Update")), stack_id, decl)
    if event["RequestType"] == "Update":
        event["PhysicalResourceId"] = decl.physical_id
    shape = draw.integer(0, 2)
    if shape == 0:  # the other resource type's properties
        event["ResourceType"] = (
            spec.CONTACTS_RESOURCE_TYPE if decl.resource_type == spec.RESOURCE_TYPE else spec.RESOURCE_TYPE
        )
        mentions: tuple[str, ...] = (spec.CONTACTS, spec.CONTACT_TYPE, "required")
    elif shape == 1:  # an older construct's keys
        details = next(iter(decl.contacts.values()))
        event["ResourceType"] = spec.RESOURCE_TYPE
        event["ResourceProperties"] = {
            "ServiceToken": SERVICE_TOKEN,
            "Type": next(iter(decl.contacts)),
            "Email": details[spec.EMAIL_ADDRESS],
            "Phone": details[spec.PHONE_NUMBER],
            "ContactName": details[spec.NAME],
            "ContactTitle": details[spec.TITLE],
        }
        mentions = ("required",)
    else:  # not a map
        event["ResourceProperties"] = draw.choice((None, [], "properties", 42, [decl.properties]))
        mentions = ("required", spec.CONTACTS)
    return Case("mismatched-shape", event, status="FAILED", reason_mentions=mentions, secrets=decl.secrets())


def unknown_request_type(draw: Draw, stack_id: str) -> Case:
    """A RequestType crhelper would misroute or crash on: it must be refused, once."""
    decl = declared(draw)
    request_type = draw.choice(
        (
            "create",
            "CREATE",
            "delete",
            "Update ",
            " Create",
            "Cr\u0435ate",  # Cyrillic ie
            "\uff23reate",  # fullwidth C
            "Create\u200b",
            "Delete\x00",
            "Replace",
            "Poll",
            "",
            draw.text(None, 1, 300) or "?",
        )
    )
    event = _event(draw, request_type, stack_id, decl)
    event["PhysicalResourceId"] = decl.physical_id
    return Case(
        "unknown-request-type",
        event,
        status="FAILED",
        reason_mentions=("Unsupported RequestType",),
        secrets=decl.secrets(),
    )


def no_envelope(draw: Draw, stack_id: str) -> Case:
    """Something without the envelope CloudFormation always sends: nothing can be answered, nothing raised."""
    decl = declared(draw)
    kind = draw.integer(0, 2)
    if kind == 0:
        event: Any = draw.choice((None, [], "Create", 0, garbage(draw, 2), [_event(draw, "Create", stack_id, decl)]))
        if isinstance(event, dict) and all(isinstance(event.get(k), str) for k in ENVELOPE_KEYS):
            event = [event]
    else:
        event = _event(draw, draw.choice(("Create", "Update", "Delete")), stack_id, decl)
        key = draw.choice(ENVELOPE_KEYS)
        if kind == 1:
            del event[key]
        else:
            event[key] = draw.choice((None, 1, [event[key]], {"value": event[key]}, True))
    return Case("no-envelope", event, answers=False, secrets=decl.secrets())


def crhelper_internal_keys(draw: Draw, stack_id: str) -> Case:
    """An event carrying keys crhelper adds to its own polling events (CloudFormation never sends them):
    they must change nothing about the outcome (CrHelperPoll once skipped all work and answered SUCCESS)."""
    case = draw.choice((invalid_properties, valid_delete))(draw, stack_id)
    key = draw.choice(("CrHelperPoll", "CrHelperData", "CrHelperRule", "CrHelperPermission"))
    case.event[key] = draw.choice((True, {"x": "y" * 5000}, "arn:aws:events:us-east-1:123456789012:rule/x"))
    case.kind = f"{case.kind}+crhelper-key"
    return case


def stack_id_without_slash(draw: Draw) -> Case:
    """A failed Create whose StackId is not an ARN (crhelper once split it on '/' to invent an id, and
    answered 'list index out of range' with an empty id)."""
    case = invalid_properties(draw, draw.choice(("not-an-arn", "", "arn:aws:cloudformation:us-east-1:1:stack")))
    case.event["RequestType"] = "Create"
    case.event.pop("PhysicalResourceId", None)
    case.event.pop("OldResourceProperties", None)
    case.kind = "invalid-properties+stack-id-not-an-arn"
    return case


GENERATORS: dict[str, Callable[..., Case]] = {
    "valid-create": valid_create,
    "valid-update": valid_update,
    "valid-delete": valid_delete,
    "delete-foreign-id": delete_of_a_foreign_id,
    "forged-delete": forged_delete,
    "invalid-properties": invalid_properties,
    "mismatched-shape": mismatched_shape,
    "unknown-request-type": unknown_request_type,
    "no-envelope": no_envelope,
}

#: Relative frequency of each kind in a mix (the stress benchmark's and the main property test's).
WEIGHTS = {
    "valid-create": 14,
    "valid-update": 10,
    "valid-delete": 8,
    "delete-foreign-id": 6,
    "forged-delete": 6,
    "delete-unknown-stack": 4,
    "invalid-properties": 30,
    "mismatched-shape": 8,
    "unknown-request-type": 10,
    "no-envelope": 10,
    "crhelper-keys": 3,
    "stack-id-not-an-arn": 2,
}


def generate(kind: str, draw: Draw, stack_id: str) -> Case:
    """One event of ``kind`` (a key of :data:`WEIGHTS`)."""
    if kind == "delete-unknown-stack":
        return delete_on_an_unknown_stack(draw)
    if kind == "stack-id-not-an-arn":
        return stack_id_without_slash(draw)
    if kind == "crhelper-keys":
        return crhelper_internal_keys(draw, stack_id)
    return GENERATORS[kind](draw, stack_id)


def case(draw: Draw, stack_id: str) -> Case:
    """One event of any kind, drawn with the :data:`WEIGHTS` mix."""
    return generate(draw.choice([kind for kind, weight in WEIGHTS.items() for _ in range(weight)]), draw, stack_id)


def cases(stack_id: str, *, kinds: Sequence[str] | None = None) -> st.SearchStrategy[Case]:
    """A hypothesis strategy of :class:`Case`: the whole mix, or only ``kinds``."""

    @st.composite
    def build(draw_fn: Any) -> Case:
        draw = HypothesisDraw(draw_fn)
        if kinds is None:
            return case(draw, stack_id)
        return generate(draw.choice(list(kinds)), draw, stack_id)

    return build()
