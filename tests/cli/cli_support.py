"""Helpers of the command-line tool's tests (fixtures are in conftest.py).

A module with its own name, not ``conftest``: several test folders have a conftest, and importing one by that
name picks whichever comes first on the path.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from localdeploy.net import QuietHandler, ServerThread

#: The repository root.
REPO = Path(__file__).resolve().parents[2]

#: The console script, installed beside the interpreter running the tests (`pip install -e .`).
CONSOLE_SCRIPT = Path(sys.executable).with_name("cdk-alternate-contacts")

#: moto's default account: the caller of every command, the management account of the organization.
CALLER = "123456789012"

#: Accounts the synthesized apps name (tests/cli/apps/cli_apps.py).
MEMBER = "111111111111"
NESTED_MEMBER = "222222222222"
DEEPER_MEMBER = "333333333333"

#: The details the apps declare, keyed as the API names them.
SECURITY = {
    "EmailAddress": "security@example.com",
    "Name": "Jane Doe",
    "PhoneNumber": "+1 206 555 0147",
    "Title": "CISO",
}
OPERATIONS = {
    "EmailAddress": "ops@example.com",
    "Name": "Platform on-call",
    "PhoneNumber": "+1 206 555 0101",
    "Title": "On-call lead",
}
BILLING = {
    "EmailAddress": "billing@example.com",
    "Name": "Finance Department",
    "PhoneNumber": "+1 206 555 0102",
    "Title": "Accounts payable",
}

#: The OPERATIONS contact of unit ``payments`` in the ``coverage`` app's stack ``CoverAll``.
PAYMENTS_OPERATIONS = {
    "EmailAddress": "pay-ops@example.com",
    "Name": "Payments on-call",
    "PhoneNumber": "+1 206 555 0103",
    "Title": "Pager",
}

#: What a deploy of stack ``Contacts`` of the ``basic`` app puts: (account, type) -> details.
CONTACTS_STACK = {
    (CALLER, "SECURITY"): SECURITY,
    (CALLER, "OPERATIONS"): OPERATIONS,
    (MEMBER, "BILLING"): BILLING,
    (MEMBER, "SECURITY"): SECURITY,
}

#: Every clear-text detail the apps declare: none may appear in masked output.
CLEAR_DETAILS = sorted(
    {value for details in (SECURITY, OPERATIONS, BILLING, PAYMENTS_OPERATIONS) for value in details.values()}
)


class Synthesizer:
    """tests/cli/apps/cli_apps.py, started with ``--serve`` as the session starts: the shared apps first,
    then, on request, an app made from a contacts file written during the session (one jsii start-up for all).

    Its output (stdout and stderr together) is read by a thread, so that every wait has a timeout.
    """

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="synth-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for(self, *markers: str, timeout_s: float) -> str:
        """The first of ``markers`` the process prints; ``AssertionError`` with its output if it stops first."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"synthesis printed none of {markers} in {timeout_s:g} s:\n" + "\n".join(self.output)
                ) from None
            if line is None:
                raise AssertionError(
                    f"synthesis stopped ({self.process.wait()}) before {markers}:\n" + "\n".join(self.output)
                )
            if line in markers:
                return line
            self.output.append(line)

    def from_file(
        self,
        contacts: Path,
        out: Path,
        *,
        organization_id: str,
        management_account_id: str,
        context_file: Path | None = None,
    ) -> Path:
        """``out``: the cloud assembly of stack ``Imported``, ``OrganizationContacts.from_file(...)`` of
        ``contacts``; ``context_file`` (a cdk.context.json) is the app's context, as the CDK CLI gives it.
        Default: none."""
        request = {
            "contacts": str(contacts),
            "out": str(out),
            "organization_id": organization_id,
            "management_account_id": management_account_id,
            "context_file": None if context_file is None else str(context_file),
        }
        return self._request(request, out, "the imported file")

    def coverage(self, out: Path, **organization: Any) -> Path:
        """``out``: the cloud assembly of the ``coverage`` app (stacks ``CoverAll`` and ``CoverUnits``) for an
        organization made during the session: its ``structure`` (as ``lookup`` records it),
        ``management_account_id``, units ``workloads`` and ``payments`` and ``listed`` account."""
        return self._request({"app": "coverage", "out": str(out), **organization}, out, "the coverage app")

    def _request(self, request: Mapping[str, Any], out: Path, what: str) -> Path:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        start = len(self.output)
        if self.wait_for("@@done", "@@failed", timeout_s=120) == "@@failed":
            raise AssertionError(f"synthesis of {what} failed:\n" + "\n".join(self.output[start:]))
        return out

    def stop(self) -> None:
        """End of requests: the process exits (killed if it does not within 30 s)."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(frozen=True)
class Assemblies:
    """The cloud assemblies of tests/cli/apps/cli_apps.py, synthesized once per session."""

    basic: Path
    nested: Path
    deploy_time: Path
    vended: Path


#: The parameters of stack ``DeployTime`` (app ``deploy_time``): its accounts, given only at deploy time.
DEPLOY_TIME_PARAMETERS = {"MemberAccount": MEMBER, "NestedMemberAccount": NESTED_MEMBER}

#: What a deploy of stack ``DeployTime`` with :data:`DEPLOY_TIME_PARAMETERS` puts.
DEPLOY_TIME_STACK = {
    (MEMBER, "BILLING"): BILLING,
    (MEMBER, "SECURITY"): SECURITY,
    (NESTED_MEMBER, "SECURITY"): SECURITY,
}


#: The one row plan and drift give stack ``TokenContacts``, whose security email is an SSM parameter read
#: by CloudFormation during the deploy, whatever the live contact holds: it cannot be compared.
TOKEN_CONTACTS_ROWS = {
    (CALLER, "SECURITY", "TokenContacts/Security"): [
        "UNKNOWN",
        "EmailAddress: SSM parameter /contacts/security-email (read at deploy time)",
    ]
}


def put(aws: Callable[[str], Any], contacts: Mapping[tuple[str, str], Mapping[str, str]]) -> None:
    """Contacts set in the accounts, as a deploy or a person would (AccountId left out for the caller)."""
    client = aws("account")
    for (account, contact_type), details in contacts.items():
        target = {} if account == CALLER else {"AccountId": account}
        client.put_alternate_contact(AlternateContactType=contact_type, **target, **details)


def offline_environment(**extra: str) -> dict[str, str]:
    """The environment of a CLI run: no AWS settings from this machine, every route out closed.

    Proxies on a closed local port catch any request that is not for 127.0.0.1; the instance metadata
    service is off, and the configuration files point at nothing, so only what a test sets is used.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        {
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "http_proxy": "http://127.0.0.1:9",
            "https_proxy": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    env.update(extra)
    return env


def moto_environment(endpoint: str, **extra: str) -> dict[str, str]:
    """A CLI run against moto_server with its fake credentials and no region set (the tool picks us-east-1)."""
    return offline_environment(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        **extra,
    )


@dataclass
class Cli:
    """Runs the console script as a user would, in a given environment."""

    env: dict[str, str]

    def __call__(
        self, *args: str | Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CONSOLE_SCRIPT), *map(str, args)],
            env={**self.env, **(env or {})},
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def rows(stdout: str) -> dict[tuple[str, str, str], list[str]]:
    """The table rows of plan or drift output: (account, type, declared by) -> [status, changes lines...].

    Continuation lines (a second changed field) are appended to the row above.
    """
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("ACCOUNT "))
    columns = [
        lines[header].index(name) for name in ("ACCOUNT", "TYPE", lines[header].split()[2], "DECLARED BY", "CHANGES")
    ]
    found: dict[tuple[str, str, str], list[str]] = {}
    last: list[str] = []
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        cells = [line[start:end].strip() for start, end in zip(columns, [*columns[1:], None], strict=True)]
        if cells[0]:
            last = [cells[2], *([cells[4]] if cells[4] else [])]
            found[(cells[0], cells[1], cells[3])] = last
        else:
            last.append(cells[4])
    return found


def write_assembly(directory: Path, stacks: Mapping[str, Mapping[str, Any]], **files: Mapping[str, Any]) -> Path:
    """A minimal hand-written cloud assembly: ``manifest.json`` and one template per stack.

    Parameters
    ----------
    stacks:
        Stack name -> ``{"template": {...}, "environment": "aws://...", "assets": {...}}`` (the last two
        optional; ``assets`` is the stack's assets manifest).
    files:
        Other JSON files to write (nested templates), by file name.
    """
    directory.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {}
    for name, stack in stacks.items():
        (directory / f"{name}.template.json").write_text(json.dumps(stack["template"]))
        artifact: dict[str, Any] = {
            "type": "aws:cloudformation:stack",
            "environment": stack.get("environment", "aws://unknown-account/unknown-region"),
            "properties": {"templateFile": f"{name}.template.json"},
            "displayName": name,
        }
        if "assets" in stack:
            (directory / f"{name}.assets.json").write_text(json.dumps(stack["assets"]))
            artifacts[f"{name}.assets"] = {"type": "cdk:asset-manifest", "properties": {"file": f"{name}.assets.json"}}
            artifact["dependencies"] = [f"{name}.assets"]
        artifacts[name] = artifact
    for file_name, document in files.items():
        (directory / file_name).write_text(json.dumps(document))
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    return directory


def contact_resource(contact_type: str, details: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """A ``Custom::AlternateContact`` as the construct writes it (ServiceToken aside)."""
    return {
        "Type": "Custom::AlternateContact",
        "Properties": {"AlternateContactType": contact_type, **details, **extra},
    }


@dataclass
class FrontedAccountApi:
    """A local endpoint for the Account API (or another JSON API: Organizations) in front of moto_server,
    for what moto cannot do.

    moto never throttles and never denies access to a member account. Each request's JSON body goes to
    ``answer``: a ``(status, error type)`` it returns is sent back as the real API's error (the
    ``x-amzn-ErrorType`` header, or the body's ``__type`` for a JSON-protocol API, makes botocore raise the
    matching exception); ``None`` forwards the request to moto. Request times are recorded, to check the tool's pacing.
    """

    upstream: str
    answer: Callable[[dict[str, Any]], tuple[int, str] | None]
    times: list[float] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw or b"{}")
                front.times.append(time.monotonic())
                front.bodies.append(body)
                verdict = front.answer(body)
                if verdict is not None:
                    status, error_type = verdict
                    # The header for REST-JSON services (Account), __type for JSON ones (Organizations).
                    payload = json.dumps(
                        {"__type": error_type, "message": f"{error_type} from the test's front"}
                    ).encode()
                    headers = {"x-amzn-ErrorType": error_type, "Content-Type": "application/json"}
                else:
                    forwarded = urllib.request.Request(
                        front.upstream + self.path,
                        data=raw,
                        headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                        method="POST",
                    )
                    try:
                        with urllib.request.urlopen(forwarded, timeout=30) as response:
                            status, payload, headers = response.status, response.read(), dict(response.headers)
                    except urllib.error.HTTPError as error:
                        status, payload, headers = error.code, error.read(), dict(error.headers)
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="account-front", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


class _Refuse(QuietHandler):
    """Answers every request with CloudFormation's AccessDenied; counts the requests on its context."""

    def do_POST(self) -> None:
        self.context.requests.append(self.read_body().decode())
        self.send_body(403, ACCESS_DENIED, "text/xml")


#: CloudFormation's answer to a role without ``cloudformation:ListStackResources`` (query protocol).
ACCESS_DENIED = (
    b'<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error>'
    b"<Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: "
    b"cloudformation:ListStackResources</Message></Error><RequestId>1</RequestId></ErrorResponse>"
)


@dataclass
class RefusingCloudFormation:
    """A CloudFormation endpoint that refuses every request with AccessDenied, as IAM does without
    ``cloudformation:ListStackResources``; moto_server never denies anything. Requests are counted."""

    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = ServerThread(_Refuse, name="cloudformation-front", context=self).start()
        self.endpoint = f"http://127.0.0.1:{self._server.port}"

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.stop()


def assert_deploys_unchanged(cli: Cli, cdk_out: Path, live: Iterable[tuple[str, str]]) -> None:
    """The round trip of an imported file: ``plan --detailed-exitcode`` exits 0 with every ``live`` slot
    declared and NO CHANGE (and none more), and ``drift`` finds every contact IN SYNC."""
    plan = cli("plan", "--cdk-out", cdk_out, "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    planned = rows(plan.stdout)
    assert {(account, contact_type) for account, contact_type, _ in planned} == set(live)
    assert {tuple(row) for row in planned.values()} == {("NO CHANGE",)}
    drift = cli("drift", "--cdk-out", cdk_out)
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert {tuple(row) for row in rows(drift.stdout).values()} == {("IN SYNC",)}
