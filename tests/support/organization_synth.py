"""Models, readers and checks for the organization tests (tests/construct/organization).

The models are declared three ways (code, TOML, JSON) so that tests can hold them equal; the readers
follow a parent template to its nested templates; the checks measure what CloudFormation and IAM limit
(cdk-nag's acknowledgements and cfn-lint are tests/support/construct_synth.py's, shared with tests/construct).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from construct_synth import REPO, Synthesized  # sets up jsii: import it before aws_cdk

# isort: split

from cdk_alternate_contacts import AccountContacts, ContactDetails, load_contacts_model
from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly, read_json
from cdk_alternate_contacts_cli.intrinsics import Scope, resolve

#: Figures measured during the session, printed at its end by tests/construct/organization/conftest.py.
MEASURED: dict[str, str] = {}

#: The example data file, whose people every scenario declares: its defaults, and payments-prod's security
#: override, which leaves out the phone number and so inherits the default's.
EXAMPLE = load_contacts_model(REPO / "examples" / "contacts.toml")
SECURITY, OPERATIONS, BILLING = (EXAMPLE.defaults[t] for t in ("SECURITY", "OPERATIONS", "BILLING"))
DEFAULTS = {"security": SECURITY, "operations": OPERATIONS, "billing": BILLING}
(PAYMENTS_SECURITY,) = [a.overrides["SECURITY"] for a in EXAMPLE.accounts if a.name == "payments-prod"]

#: The model the code, TOML and JSON scenarios declare, each in its own way.
PLAIN, OVERRIDES_AND_OPTS_OUT, ALL_OPTED_OUT, PARTIAL_OVERRIDE = (
    "111122223333",
    "222233334444",
    "333344445555",
    "444455556666",
)

MODEL_TOML = f"""
[defaults.security]
email_address = "{SECURITY.email_address}"
name = "{SECURITY.name}"
phone_number = "{SECURITY.phone_number}"
title = "{SECURITY.title}"

[defaults.operations]
email_address = "{OPERATIONS.email_address}"
name = "{OPERATIONS.name}"
phone_number = "{OPERATIONS.phone_number}"
title = "{OPERATIONS.title}"

[defaults.BILLING]  # types in any case
email_address = "{BILLING.email_address}"
name = "{BILLING.name}"
phone_number = "{BILLING.phone_number}"
title = "{BILLING.title}"

[[accounts]]
account_id = "{PLAIN}"

[[accounts]]
account_id = "{OVERRIDES_AND_OPTS_OUT}"
name = "payments-prod"
opt_out = ["billing"]
[accounts.overrides.security]
email_address = "{PAYMENTS_SECURITY.email_address}"
name = "{PAYMENTS_SECURITY.name}"
title = "{PAYMENTS_SECURITY.title}"

[[accounts]]
account_id = "{ALL_OPTED_OUT}"
opt_out = ["billing", "operations", "security"]

[[accounts]]
account_id = "{PARTIAL_OVERRIDE}"
[accounts.overrides.operations]
email_address = "sandbox-ops@example.com"
"""

MODEL_JSON: dict[str, Any] = {
    "defaults": {
        "security": dataclasses.asdict(SECURITY),
        "operations": dataclasses.asdict(OPERATIONS),
        "billing": dataclasses.asdict(BILLING),
    },
    "accounts": [
        {"account_id": PLAIN},
        {
            "account_id": OVERRIDES_AND_OPTS_OUT,
            "name": "payments-prod",
            "overrides": {
                "security": {k: v for k, v in dataclasses.asdict(PAYMENTS_SECURITY).items() if k != "phone_number"}
            },
            "opt_out": ["billing"],
        },
        {"account_id": ALL_OPTED_OUT, "opt_out": ["billing", "operations", "security"]},
        {"account_id": PARTIAL_OVERRIDE, "overrides": {"operations": {"email_address": "sandbox-ops@example.com"}}},
    ],
}

MODEL_IN_CODE = [
    AccountContacts(PLAIN),
    AccountContacts(
        OVERRIDES_AND_OPTS_OUT, name="payments-prod", overrides={"security": PAYMENTS_SECURITY}, opt_out=["billing"]
    ),
    AccountContacts(ALL_OPTED_OUT, opt_out=("BILLING", "OPERATIONS", "SECURITY")),
    AccountContacts(
        PARTIAL_OVERRIDE,
        overrides={"operations": dataclasses.replace(OPERATIONS, email_address="sandbox-ops@example.com")},
    ),
]


def api(details: ContactDetails) -> dict[str, str]:
    """Details keyed as a resource's properties hold them, spelled out here rather than asked of the construct."""
    return {
        "EmailAddress": details.email_address,
        "Name": details.name,
        "PhoneNumber": details.phone_number,
        "Title": details.title,
    }


def account_ids(count: int, salt: str = "") -> list[str]:
    """``count`` distinct, realistic-looking 12-digit account ids (leading zeros included), always the same."""
    ids = [f"{int(hashlib.sha256(f'{salt}{i}'.encode()).hexdigest(), 16) % 10**12:012d}" for i in range(count)]
    assert len(set(ids)) == count
    return ids


# --- reading synthesized templates ------------------------------------------------------------------------


@dataclass
class Placed:
    """Where one account's contacts are: the nested stack's logical id in the parent, the resource's own."""

    nested_stack: str
    logical_id: str
    properties: dict[str, Any]


@dataclass
class OrganizationTemplates:
    """A parent stack's template and its nested stacks' templates (by the nested stack's logical id)."""

    parent: dict[str, Any]
    nested: dict[str, dict[str, Any]]
    files: dict[str, Path] = field(default_factory=dict)

    def placed(self) -> dict[str, Placed]:
        """Every account's contacts resource, by account id."""
        found: dict[str, Placed] = {}
        for stack_id, template in self.nested.items():
            for logical_id, resource in template["Resources"].items():
                if resource["Type"] == "Custom::AlternateContacts":
                    account = resource["Properties"]["AccountId"]
                    assert account not in found, f"{account} appears twice"
                    found[account] = Placed(stack_id, logical_id, resource["Properties"])
        return found


def organization_templates(outdir: Path, stack_name: str) -> OrganizationTemplates:
    """The parent template of ``stack_name`` and every nested template below it, as the CLI finds them."""
    stack = CloudAssembly(outdir).stack(stack_name)
    paths = stack.nested_template_paths()
    nested = {where: read_json(path, f"nested template {where}") for where, path in paths.items()}
    return OrganizationTemplates(stack.template(), nested, {stack_name: stack.template_path, **paths})


def role_policy_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of the provider role's inline policies (its default policy)."""
    (role_id,) = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Role"]
    statements = []
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
    return statements


def iam_pattern_matches(pattern: str, arn: str) -> bool:
    """Whether an IAM resource pattern (``*`` any characters, ``?`` one) matches ``arn``."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, arn) is not None


# --- the policy's size as IAM counts it -------------------------------------------------------------------

#: Deploy-time values at their longest plausible: GovCloud's partition and region.
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws-us-gov",
    "AWS::Region": "us-gov-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
}


def deployed(value: Any, stack_name: str, template: dict[str, Any]) -> Any:
    """``value`` as CloudFormation would hand it to IAM: references replaced by realistic longest values."""

    def log_group_arn(logical_id: str, attribute: str) -> str:
        assert template["Resources"][logical_id]["Type"] == "AWS::Logs::LogGroup", (logical_id, attribute)
        return f"arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:{stack_name}-{logical_id}-ABCDEFGHIJKL:*"

    scope = Scope(
        account=PSEUDO_PARAMETERS["AWS::AccountId"],
        partition=PSEUDO_PARAMETERS["AWS::Partition"],
        region=PSEUDO_PARAMETERS["AWS::Region"],
        url_suffix=PSEUDO_PARAMETERS["AWS::URLSuffix"],
        stack_name=stack_name,
        stack_id=f"arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/{stack_name}/{'0' * 36}",
        get_att=log_group_arn,
        strict=True,
    )
    return resolve(value, scope)


def inline_policy_characters(template: dict[str, Any], stack_name: str) -> int:
    """The characters of the provider role's inline policies, white space excluded, as IAM counts them."""
    (role_id,) = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Role"]
    documents = [p["PolicyDocument"] for p in template["Resources"][role_id]["Properties"].get("Policies", [])]
    documents += [
        r["Properties"]["PolicyDocument"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]
    ]
    text = "".join(json.dumps(deployed(d, stack_name, template), separators=(",", ":")) for d in documents)
    return len(re.sub(r"\s", "", text))


# --- the 1,000-account scenario ---------------------------------------------------------------------------


@dataclass
class TimedSynthesis:
    """A synthesized app, how long building and synthesizing it took, and the construct it is about."""

    synthesized: Synthesized
    seconds: float
    organization: Any


THOUSAND = 1_000
