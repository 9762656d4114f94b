"""Session-scoped synthesis shared by the construct tests.

jsii starts one Node process per Python process and each synthesis costs seconds on this machine, so
every app below is built once per session and read by all the tests that need it. The subprocess
fixtures (the pinned CDK CLI, the wheel) run only when a selected test asks for them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from typing import Any

import pytest
from construct_synth import (  # sets up jsii: import it before aws_cdk
    CONTACT,
    MEMBER_BILLING_ACCOUNT,
    MEMBER_SECURITY_ACCOUNT,
    NODE_BIN,
    OFFLINE_ENV,
    REPO,
    TINY_APP,
    CliSynth,
    Synthesized,
    WheelApp,
    modules_under,
    new_app,
    run,
    synthesize,
    toolchain_env,
)

# isort: split
import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

import cdk_alternate_contacts.nag as nag_module
from cdk_alternate_contacts import AlternateContact, AlternateContactProvider, AlternateContactType


@pytest.fixture(scope="session")
def contacts_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Two stacks. "Contacts": SECURITY of the own account and of a member account, BILLING of another
    member account and (retained) of the own account. "SecondStack": one OPERATIONS contact."""
    outdir = tmp_path_factory.mktemp("contacts-app")
    app = new_app(outdir)
    stack = cdk.Stack(app, "Contacts")
    security = AlternateContact(stack, "Security", **CONTACT)
    AlternateContact(
        stack,
        "MemberBilling",
        # The type as a plain string: the construct accepts both forms.
        **{**CONTACT, "contact_type": "BILLING", "email_address": "billing@example.com"},
        account_id=MEMBER_BILLING_ACCOUNT,
    )
    AlternateContact(stack, "MemberSecurity", **CONTACT, account_id=MEMBER_SECURITY_ACCOUNT)
    AlternateContact(
        stack,
        "RetainedBilling",
        **{**CONTACT, "contact_type": AlternateContactType.BILLING},
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    second = cdk.Stack(app, "SecondStack")
    AlternateContact(second, "Operations", **{**CONTACT, "contact_type": AlternateContactType.OPERATIONS})
    return synthesize(app, outdir, security=security, stack=stack)


@pytest.fixture(scope="session")
def token_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Contacts whose accounts are known only at deploy time, under cdk-nag's AwsSolutionsChecks: a BILLING
    contact whose account and email are CloudFormation parameters, an OPERATIONS contact whose account is
    another stack's export."""
    outdir = tmp_path_factory.mktemp("token-app")
    app = new_app(outdir)
    stack = cdk.Stack(app, "Tokens")
    account = cdk.CfnParameter(stack, "MemberAccount", type="String")
    email = cdk.CfnParameter(stack, "BillingEmail", type="String")
    AlternateContact(
        stack,
        "MemberBilling",
        **{**CONTACT, "contact_type": AlternateContactType.BILLING, "email_address": email.value_as_string},
        account_id=account.value_as_string,
    )
    AlternateContact(
        stack,
        "ImportedOperations",
        **{**CONTACT, "contact_type": AlternateContactType.OPERATIONS},
        account_id=cdk.Fn.import_value("OperationsAccountId"),
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return synthesize(app, outdir)


class _DropAcknowledgements:
    """Stands in for aws_cdk.Validations inside the cdk-nag helper module: every acknowledgement is dropped."""

    @staticmethod
    def of(_scope: Any) -> _DropAcknowledgements:
        return _DropAcknowledgements()

    def acknowledge(self, *_rules: Any) -> None:
        return None


@pytest.fixture(scope="session")
def unacknowledged_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """cdk-nag over two stacks that must fail it: one whose member-account wildcard lost the construct's
    acknowledgement, one whose provider role was given an extra ``Resource: *`` statement."""
    outdir = tmp_path_factory.mktemp("unacknowledged-app")
    app = new_app(outdir)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nag_module, "Validations", _DropAcknowledgements)
        member = cdk.Stack(app, "MemberWithoutAcknowledgement")
        AlternateContact(member, "MemberBilling", **CONTACT, account_id=MEMBER_BILLING_ACCOUNT)
    wildcard = cdk.Stack(app, "ExtraWildcard")
    AlternateContact(wildcard, "Security", **CONTACT)
    AlternateContactProvider.of(wildcard).role.add_to_principal_policy(
        iam.PolicyStatement(actions=["account:GetAlternateContact"], resources=["*"])
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return synthesize(app, outdir)


@pytest.fixture(scope="session")
def cli_synth(tmp_path_factory: pytest.TempPathFactory) -> CliSynth:
    """``cdk synth`` of the repository's app through the pinned CDK CLI, with every network route closed."""
    outdir = tmp_path_factory.mktemp("cli") / "cdk.out"
    cdk_cli = NODE_BIN / "cdk"
    if not cdk_cli.exists():
        pytest.fail(f"{cdk_cli} is missing: run `make setup`", pytrace=False)
    # Read the handler as the synth sees it: the checkout may change while the rest of the session runs.
    handler_modules = modules_under(REPO / "handler" / "cdk_alternate_contacts_handler")
    run([str(cdk_cli), "synth", "--quiet", "--output", str(outdir)], cwd=REPO, env=toolchain_env(**OFFLINE_ENV))
    return CliSynth(outdir, handler_modules)


@pytest.fixture(scope="session")
def wheel_app(tmp_path_factory: pytest.TempPathFactory) -> WheelApp:
    """Build the project's wheel, install it into a bare folder, synthesize a tiny app that imports it."""
    work = tmp_path_factory.mktemp("wheel")
    # Build from a copy of the checkout (tracked and untracked files, ignored ones left out) so that
    # setuptools' build/ and egg-info never land in the repository while other work runs there.
    source = work / "source"
    listed = run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, env=dict(os.environ))
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    dist = work / "dist"
    # `python -m build` makes the sdist, then the wheel from the unpacked sdist: a file the sdist leaves out
    # is missing from the wheel too. Build isolation fetches the backend pyproject asks for from pip's index.
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], cwd=work, env=toolchain_env())
    (wheel,) = dist.glob("cdk_alternate_contacts-*.whl")
    (sdist,) = dist.glob("cdk_alternate_contacts-*.tar.gz")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    site = work / "site"
    run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], cwd=work, env=toolchain_env())
    app_dir = work / "app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(TINY_APP)
    outdir = app_dir / "cdk.out"
    stdout = run([sys.executable, "app.py", str(outdir)], cwd=app_dir, env=toolchain_env(PYTHONPATH=str(site)))
    return WheelApp(wheel, site, outdir, json.loads(stdout.strip().splitlines()[-1]), sdist)
