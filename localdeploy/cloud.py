"""All the local stand-ins started together and stopped together, even when something fails midway.

with LocalCloud(workdir) as cloud:
    engine = cloud.engine(state_dir)
    engine.deploy(assembly, "MyStack")
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from .assembly import REPO
from .cfn_api import CloudFormationApi
from .cloud_events import CloudEvents
from .custom_resources import CustomResourceClient
from .engine import Engine, EngineSettings
from .functions import HostSettings
from .iam import IamFront, Organization, PolicyRegistry, RequestMapper
from .kinds import event_kinds
from .lambda_service import DEFAULT_ACCOUNT_CONCURRENCY, DEFAULT_CONCURRENCY, DEFAULT_RETRY_DELAYS_S, FunctionService
from .lifetime import Assembled
from .moto import DEPLOYING_ACCOUNT, MotoServer
from .native import ResourceEmulator
from .organizations import ACCOUNT_TYPE, AccountVending
from .quotas import AccountApiQuotas, Quota
from .registry import StackRegistry
from .responses import ResponseListener
from .state import StateStore

#: The SSM parameter CDK templates read to check the bootstrap stack (CheckBootstrapVersion rule).
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"

#: The value `cdk bootstrap` writes there; the templates require 6 or more.
BOOTSTRAP_VERSION = "30"

#: The interpreter of the Lambda-like environment (boto3 and awslambdaric only).
LAMBDA_PYTHON = REPO / ".venv-lambda" / "bin" / "python"

REGION = "us-east-1"


class LocalCloud(Assembled):
    """moto_server, the response listener, the CloudFormation API and the Lambda service, on 127.0.0.1, with
    EventBridge's delivery and Lambda's SQS pollers (:attr:`events`, :mod:`.cloud_events`).

    Event helpers, all asynchronous as on AWS (wait with :meth:`settle`): :meth:`put_events`, :meth:`emit`,
    :meth:`fire_schedule`, :meth:`create_account`, :meth:`move_account`, :meth:`invite_account`,
    :meth:`create_managed_account`, :meth:`update_managed_account`.

    Parameters
    ----------
    workdir:
        Holds the CA certificate, moto's output and the function logs (``logs/<group>/<stream>.log``).
    concurrency:
        Execution environments per function.
    retry_delays:
        Delays before Lambda's retries of a failed asynchronous invocation.
    answer_timeout_cap_s:
        Caps the wait for each answer below the resource's ServiceTimeout (``None``: no cap).
    lambda_python:
        The interpreter that runs functions.
    account_quotas:
        Enforce these request quotas (per operation name, see :mod:`.quotas`) on the functions' Account
        API calls, as the real API does. Default: none (moto never throttles).
    enforce_iam:
        Authorize every call a function makes against its role's policy as CloudFormation has it at
        that moment (:mod:`.iam`), answering AccessDenied as AWS does. On by default: a model of AWS
        more lenient than AWS lets tests pass where AWS would fail.
    iam_propagation_s:
        How long a policy change takes to be seen by IAM's evaluation (IAM is eventually consistent).
    account_concurrency:
        The account's Lambda concurrency quota (default 1,000); a function whose ReservedConcurrentExecutions
        would leave less than ``min(100, quota)`` unreserved fails to create, as on AWS.
    organization:
        Default True: the deploying account is the management account of an organization with all
        features, as app.py expects (created in moto at start and after each :meth:`reset`), so stacks
        can vend member accounts (``AWS::Organizations::Account``). False: a standalone account, whose
        account creations then fail as AWS's do.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS_S,
        answer_timeout_cap_s: float | None = None,
        lambda_python: Path = LAMBDA_PYTHON,
        account_quotas: Mapping[str, Quota] | None = None,
        enforce_iam: bool = True,
        iam_propagation_s: float = 0.0,
        account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
        organization: bool = True,
    ) -> None:
        super().__init__()
        self.workdir = workdir.resolve()
        self.concurrency = concurrency
        self.account_concurrency = account_concurrency
        self.retry_delays = tuple(retry_delays)
        self.answer_timeout_cap_s = answer_timeout_cap_s
        self.lambda_python = lambda_python
        self.account_quotas = dict(account_quotas) if account_quotas is not None else None
        #: The quota front the functions' Account API calls go through, when quotas are enforced.
        self.quotas: AccountApiQuotas | None = None
        self.registry = StackRegistry()
        self.enforce_iam = enforce_iam
        #: The roles' policies as CloudFormation has them now, published by the engines.
        self.policies = PolicyRegistry(DEPLOYING_ACCOUNT, propagation_s=iam_propagation_s)
        #: The IAM front every function call goes through (when IAM is enforced).
        self.iam: IamFront | None = None
        self.with_organization = organization
        #: Email addresses of AWS accounts outside the organization, which moto cannot know: a stack that
        #: vends an account with one fails as AWS fails it (EMAIL_ALREADY_EXISTS). Emptied by reset().
        self.emails_elsewhere: set[str] = set()
        self._organizations: Any = None
        self._bootstrap: threading.Thread | None = None
        self._bootstrap_error: BaseException | None = None
        self.moto: MotoServer
        self.responses: ResponseListener
        self.cfn_api: CloudFormationApi
        self.functions: FunctionService
        #: EventBridge's buses, Lambda's SQS pollers and the functions' permissions (:mod:`.cloud_events`).
        self.events: CloudEvents

    def _start_parts(self) -> None:
        """moto first, then the fronts, the listener, the APIs and the Lambda service (stopped the other
        way round: runtime processes first, moto last)."""
        if not self.lambda_python.exists():
            raise FileNotFoundError(f"{self.lambda_python} not found: run `make setup`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.moto = MotoServer(self.workdir / "moto_server.log").start()
        self._stack.callback(self.moto.stop)
        account_endpoint = self.moto.endpoint
        if self.account_quotas is not None:
            self.quotas = AccountApiQuotas(self.moto.endpoint, self.account_quotas).start()
            self._stack.callback(self.quotas.stop)
            account_endpoint = self.quotas.endpoint
        self.responses = ResponseListener(self.workdir).start()
        self._stack.callback(self.responses.stop)
        self.cfn_api = CloudFormationApi(self.registry).start()
        self._stack.callback(self.cfn_api.stop)
        endpoints = {"account": account_endpoint, "cloudformation": self.cfn_api.endpoint, "*": self.moto.endpoint}
        credentials = None
        if self.enforce_iam:
            mapper = RequestMapper(
                region=REGION,
                account_id=DEPLOYING_ACCOUNT,
                organization=self.organization,
                stack_arn=lambda stack: view.stack_id if (view := self.registry.find(stack)) else None,
                org_path=self.org_path,
            )
            self.iam = IamFront(endpoints, self.policies, mapper).start()
            self._stack.callback(self.iam.stop)
            endpoints = {name: self.iam.endpoint for name in endpoints}
            credentials = self.iam.register
        host = HostSettings(
            python=self.lambda_python,
            account_endpoint=endpoints["account"],
            cloudformation_endpoint=endpoints["cloudformation"],
            fallback_endpoint=endpoints["*"],
            ca_file=self.responses.ca_file,
            log_root=self.workdir / "logs",
            region=REGION,
            account_id=DEPLOYING_ACCOUNT,
            credentials=credentials,
        )
        self.functions = FunctionService(
            host,
            max_concurrency=self.concurrency,
            retry_delays=self.retry_delays,
            account_concurrency=self.account_concurrency,
        )
        self._stack.callback(self.functions.stop)
        self.events = CloudEvents(self)
        self._stack.callback(self.events.stop)
        if self.iam is not None:
            self.iam.intercept = self.events.intercept
        # moto loads its SSM backend on first use (about 1.5 s): let that overlap whatever comes next
        # (synthesis, usually); the first SSM lookup waits for it.
        self._bootstrap = threading.Thread(target=self._bootstrap_in_background, name="bootstrap", daemon=True)
        self._bootstrap.start()
        self._stack.callback(self._bootstrap.join)

    def bootstrap(self) -> None:
        """What `cdk bootstrap` leaves in an account that templates read (the bootstrap version), and the
        organization the account manages (unless the cloud models a standalone account)."""
        self.client("ssm").put_parameter(
            Name=BOOTSTRAP_VERSION_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True
        )
        if self.with_organization and self.organization() is None:
            self.client("organizations").create_organization(FeatureSet="ALL")

    def _bootstrap_in_background(self) -> None:
        try:
            self.bootstrap()
        except Exception as error:  # re-raised by the first caller that needs it
            self._bootstrap_error = error

    def wait_bootstrapped(self) -> None:
        """Wait for the bootstrap started with the cloud; raise what it raised."""
        if self._bootstrap is not None:
            self._bootstrap.join()
        if self._bootstrap_error is not None:
            raise self._bootstrap_error

    def reset(self) -> None:
        """Empty every account in moto (and bootstrap again): a clean slate between tests."""
        self.wait_bootstrapped()
        self.events.reset()
        self.moto.reset()
        self.policies.clear()
        self.emails_elsewhere.clear()
        self.bootstrap()

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` in moto, with fake credentials."""
        return boto3.client(
            service,
            endpoint_url=self.moto.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
        )

    def organization(self) -> Organization | None:
        """The organization of the deploying account in moto, if it has one."""
        if self._organizations is None:
            self._organizations = self.client("organizations")
        try:
            found = self._organizations.describe_organization()["Organization"]
        except Exception:  # AWSOrganizationsNotInUseException: no organization
            return None
        return Organization(str(found["Id"]), str(found["MasterAccountId"]))

    def org_path(self, account_id: str) -> str | None:
        """The account's path in the organization, ``o-.../r-.../ou-.../`` (``None`` outside it), read from moto's
        Organizations as the Account API reads it for ``account:AccountResourceOrgPaths``."""
        organization = self.organization()  # creates the one Organizations client the front's threads share
        if organization is None or self._organizations is None:
            return None
        client = self._organizations
        parts: list[str] = []
        child = account_id
        try:
            for _ in range(10):
                parent = client.list_parents(ChildId=child)["Parents"][0]
                parts.append(str(parent["Id"]))
                if parent["Type"] == "ROOT":
                    break
                child = str(parent["Id"])
        except ClientError:
            return None
        return "/".join([organization.organization_id, *reversed(parts)]) + "/"

    def ssm_lookup(self, name: str) -> str:
        """Read an SSM parameter (for SSM-typed template parameters)."""
        self.wait_bootstrapped()
        value: str = self.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
        return value

    def engine(self, state_dir: Path, *, settings: EngineSettings | None = None) -> Engine:
        """An engine whose stack states live in ``state_dir``; it vends accounts in moto's Organizations."""
        settings = settings or EngineSettings()
        # CloudFormation calls Organizations with the deployer's credentials: straight to moto, not judged.
        vending = AccountVending(
            self.client("organizations"),
            creation_s=settings.account_creation_s,
            emails_elsewhere=self.emails_elsewhere,
        )
        # The organization is made in the background at start: it must exist before the first account.
        self.wait_bootstrapped()
        region = settings.region
        emulators: dict[str, ResourceEmulator] = {
            ACCOUNT_TYPE: vending,
            **event_kinds(
                lambda service: self.events.client(service, region),
                self.functions,
                self.events.pollers,
                self.events.permissions,
                self.policies if self.enforce_iam else None,
                region=region,
                account_id=settings.account_id,
            ),
        }
        return Engine(
            functions=self.functions,
            requests=CustomResourceClient(
                self.functions, self.responses, answer_timeout_cap_s=self.answer_timeout_cap_s
            ),
            registry=self.registry,
            store=StateStore(state_dir),
            ssm_lookup=self.ssm_lookup,
            settings=settings,
            policies=self.policies if self.enforce_iam else None,
            emulators=emulators,
        )

    # -- events (see :mod:`.cloud_events`) -------------------------------------------------------------------

    def put_events(self, entries: Iterable[Mapping[str, Any]], *, region: str = REGION) -> dict[str, Any]:
        """PutEvents on ``region``'s default bus, answered as EventBridge answers; delivered asynchronously."""
        return self.events.put_events(entries, region=region)

    def emit(self, event: Mapping[str, Any]) -> str:
        """Send an AWS service's event (an EventBridge envelope; its ``region`` picks the bus); returns its id."""
        return self.events.bus.emit(event)

    def fire_schedule(self, rule: str, *, region: str = REGION) -> str | None:
        """Deliver now the "Scheduled Event" of the scheduled rule ``rule`` (name or ARN) to its targets;
        ``None`` when the rule is DISABLED."""
        return self.events.bus.fire_schedule(rule, region=region)

    def create_account(self, name: str, email: str, *, parent_id: str | None = None) -> str:
        """A new member account (moto's CreateAccount), with Organizations' CreateAccountResult event in
        us-east-1 (and MoveAccount's, moved to ``parent_id``); returns its id."""
        return self.events.create_account(name, email, parent_id=parent_id)

    def move_account(self, account_id: str, destination_parent_id: str) -> None:
        """MoveAccount, with its "AWS API Call via CloudTrail" event in us-east-1."""
        self.events.move_account(account_id, destination_parent_id)

    def invite_account(self, name: str, email: str) -> str:
        """An account that joins by invitation, with its AcceptHandshake event in us-east-1; returns its id."""
        return self.events.invite_account(name, email)

    def create_managed_account(self, name: str, email: str, unit_id: str, *, home_region: str = REGION) -> str:
        """Control Tower's Account Factory: the Organizations events in us-east-1, then CreateManagedAccount in
        ``home_region``; returns the account's id."""
        return self.events.create_managed_account(name, email, unit_id, home_region=home_region)

    def update_managed_account(self, account_id: str, *, home_region: str = REGION) -> None:
        """Control Tower's UpdateManagedAccount event for ``account_id``, in ``home_region``."""
        self.events.update_managed_account(account_id, home_region=home_region)

    def settle(self, timeout_s: float = 60.0) -> None:
        """Wait until every event is delivered, every mapped queue drained and every invocation ended.

        Raises
        ------
        TimeoutError
            Naming what is still pending.
        """
        self.events.settle(timeout_s)

    def log_text(self) -> str:
        """Every function log stream written so far, concatenated (the local CloudWatch Logs)."""
        return "".join(path.read_text(encoding="utf-8", errors="replace") for path in self.functions.log_files())
