"""Command line: ``python -m localdeploy {demo,deploy,destroy}`` from the repository root."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cdk_alternate_contacts_cli.cloud_assembly import AssemblyError
from cdk_alternate_contacts_handler import spec

from . import demo
from .assembly import REPO, synth
from .cloud import LocalCloud
from .contacts import account_client, load_snapshot, put_contacts, read_contacts, save_snapshot
from .engine import OperationResult
from .lambda_service import DEFAULT_CONCURRENCY
from .moto import DEPLOYING_ACCOUNT, MotoServerError
from .report import Progress, render_contacts, render_operation
from .state import StateStore


def _pairs(values: Sequence[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, separator, rest = value.partition("=")
        if not separator or not key:
            raise SystemExit(f"{flag} expects key=value, got {value!r}")
        pairs[key] = rest
    return pairs


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and --help)."""
    parser = argparse.ArgumentParser(
        prog="python -m localdeploy",
        description="Deploy, update and destroy a synthesized CDK app on this machine, with no AWS: the real "
        "handler in the synthesized asset runs under awslambdaric against moto_server.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo_parser = commands.add_parser("demo", help="deploy, update and destroy app.py, with checks (make demo)")
    demo_parser.add_argument("--workdir", default=str(REPO / ".local" / "demo"), help="scratch folder (emptied first)")
    demo_parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="execution environments")

    for name, text in (("deploy", "create or update the app's stacks"), ("destroy", "delete the app's stacks")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument(
            "--app",
            help="as for the CDK CLI: a command, or a synthesized cloud assembly folder; default: cdk.json's app",
        )
        sub.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE", help="CDK context")
        sub.add_argument("--state-dir", default=str(REPO / ".local"), help="stack states, contacts, logs")
        sub.add_argument("--stack", action="append", default=[], help="only this stack (repeatable)")
        sub.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="execution environments")
        if name == "deploy":
            sub.add_argument("--parameters", action="append", default=[], metavar="KEY=VALUE", help="stack parameters")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            return demo.run(Path(args.workdir).resolve(), concurrency=args.concurrency)
        return _deploy_or_destroy(args)
    except (AssemblyError, MotoServerError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _deploy_or_destroy(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir).resolve()
    snapshot = state_dir / "account-api.json"
    results: list[OperationResult] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Synthesis (seconds of jsii start-up) runs while the emulators start.
        synthesis = pool.submit(synth, state_dir / "cdk.out", app=args.app, context=_pairs(args.context, "-c"))
        with LocalCloud(state_dir / "cloud", concurrency=args.concurrency) as cloud:
            assembly = synthesis.result()
            names = args.stack or [artifact.stack_name for artifact in assembly.stacks]
            if args.command == "destroy":
                names = list(reversed(names))
            client = account_client(cloud.moto.endpoint)
            saved = load_snapshot(snapshot)
            # moto_server forgets everything when it stops: give it back the accounts as the last run left them.
            put_contacts(client, saved)
            if saved:
                print(f"restored {len(saved)} contacts into the Account API emulator from {snapshot}")
            engine = cloud.engine(state_dir)
            for name in names:
                engine.on_event = Progress(name)  # a line every 10 s while the operation runs
                if args.command == "deploy":
                    result = engine.deploy(assembly, name, parameters=_pairs(args.parameters, "--parameters"))
                else:
                    result = engine.destroy(name, assembly=assembly)
                results.append(result)
                for line in render_operation(result):
                    print(line)
                for path in result.code_dirs:
                    print(f"  function code run: {path}")
            accounts = (
                {DEPLOYING_ACCOUNT} | {account for account, _ in saved} | _accounts_in(results, StateStore(state_dir))
            )
            live = read_contacts(client, accounts)
            save_snapshot(snapshot, live)
            print("contacts read back from the Account API emulator (masked):")
            for line in render_contacts(live, _slots_in(results)):
                print(line)
            print(f"function logs: {cloud.workdir / 'logs'}")
    return 0 if all(result.ok for result in results) else 1


def _slots_in(results: Sequence[OperationResult]) -> set[tuple[str, str]]:
    """The contact slots the requests of ``results`` were about."""
    slots = set()
    for result in results:
        for record in result.requests:
            properties = record.event.get("ResourceProperties", {})
            account = str(properties.get(spec.ACCOUNT_ID) or DEPLOYING_ACCOUNT)
            contact_type = properties.get(spec.CONTACT_TYPE)
            if isinstance(contact_type, str):
                slots.add((account, contact_type))
            several = properties.get(spec.CONTACTS)
            if isinstance(several, dict):
                slots.update((account, str(kind)) for kind in several)
    return slots


def _accounts_in(results: Sequence[OperationResult], store: StateStore) -> set[str]:
    """Every account a request or a stack's state names, so the saved snapshot misses none."""
    accounts: set[str] = set()
    for result in results:
        for record in result.requests:
            for key in ("ResourceProperties", "OldResourceProperties"):
                account = record.event.get(key, {}).get(spec.ACCOUNT_ID)
                if isinstance(account, str):
                    accounts.add(account)
    for name in store.stack_names():
        stack = store.load(name)
        for resource in stack.resources.values() if stack is not None else []:
            account = resource.properties.get(spec.ACCOUNT_ID)
            if isinstance(account, str):
                accounts.add(account)
    return accounts
