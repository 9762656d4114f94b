"""The coverage of an organization: every account in scope kept by the rules, also those created tomorrow.

Built by :class:`~cdk_alternate_contacts.OrganizationContacts` when it is given a
:class:`~cdk_alternate_contacts.Coverage`::

    EventBridge (Organizations: CreateAccountResult, AcceptHandshake, MoveAccount;
                 Control Tower: CreateManagedAccount, UpdateManagedAccount)  --+
    EventBridge schedule (reconcile)                                          --+--> SQS queue --> coverage function
    Custom::AlternateContactsCoverage (the deploy that creates or changes it) --+     |  (event source mapping,
                                                                                    DLQ   at most 2 at once)
                                                                                          |
                                                                            DynamoDB run ledger (counts per run)

The rules (defaults, the units' rules, the listed accounts, the scope) are bundled in the coverage function's
deployment package, never in a template, an environment variable or a log. The template holds only their
SHA-256 digest, in an SSM parameter that the function compares with its own (a worker with older rules
writes nothing) and that every listed account's resource depends on (a newly listed account's resource is
written after the coverage stopped keeping it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import (
    Aws,
    CfnRule,
    CfnRuleAssertion,
    CustomResource,
    Duration,
    Fn,
    IStableStringProducer,
    Lazy,
    RemovalPolicy,
    Stack,
    Token,
)
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk.aws_lambda import Runtime
from constructs import Construct

from cdk_alternate_contacts_handler import coverage_events, coverage_index, coverage_ledger, spec
from cdk_alternate_contacts_handler.coverage_rules import RULES_FILE, canonical, digest_of, document
from cdk_alternate_contacts_handler.spec import AlternateContactType

from .bundling import COVERAGE_HANDLER, coverage_code
from .coverage_model import Coverage
from .details import ContactDetails
from .model import OrganizationalUnitContacts, contact_type_of
from .nag import acknowledge_wildcard
from .provider import SERVICE_TIMEOUT, AlternateContactProvider, function_role

#: Organizations delivers its events in us-east-1 only (shared/REFERENCE.md section 6).
EVENTS_REGION = "us-east-1"

#: The coverage function's timeout: one batch of accounts, each a few reads and writes, with room for throttling.
FUNCTION_TIMEOUT = Duration.minutes(2)

#: Accounts (messages) per invocation.
BATCH_SIZE = 5

#: Invocations at once (the event source's MaximumConcurrency, 2 at the least): the Account API's quotas are
#: per account and shared with the stack's CloudFormation resources.
MAX_CONCURRENCY = 2

#: Deliveries of one message before it goes to the dead-letter queue: those that work, then those that only
#: count a message whose last working delivery ended before counting it (coverage_ledger's documentation).
MAX_RECEIVE_COUNT = coverage_ledger.WORKING_DELIVERIES + coverage_ledger.COUNTING_DELIVERIES


@jsii.implements(IStableStringProducer)
class _OwnedAccounts:
    """At synthesis, once every construct has claimed its accounts: the accounts the provider's other contacts
    manage (outside this OrganizationContacts), joined for the parameter (``-`` first: a value is required)."""

    def __init__(self, provider: AlternateContactProvider, organization_path: str, listed: set[str]) -> None:
        self.provider, self.organization_path, self.listed = provider, organization_path, listed

    def produce(self) -> str | None:
        accounts = [
            account
            for account, path in self.provider.managed
            if not path.startswith(self.organization_path) and account not in self.listed
        ]
        joined: str = Fn.join(",", ["-", *accounts])
        return joined


class OrganizationCoverage(Construct):
    """The queue, rules, function and run trigger of one coverage (see the module's documentation).

    Parameters
    ----------
    coverage:
        What is covered, how often it is reconciled, what drift does.
    defaults, organizational_units:
        The rules the coverage applies (an account's own entry needs a listed account).
    listed:
        The accounts the stack's resources own; the coverage never writes them.
    provider:
        The stack's provider: it serves the run trigger and hands accounts the stack stops listing to the queue.
    organization_id, management_account_id:
        Narrow the function's Account API scope to the organization (wildcards when unknown).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        coverage: Coverage,
        defaults: Mapping[AlternateContactType, ContactDetails],
        organizational_units: Sequence[OrganizationalUnitContacts],
        listed: Sequence[str],
        provider: AlternateContactProvider,
        organization_id: str | None,
        management_account_id: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self._check_region(stack)
        rules = document(
            scope=coverage.scope,
            on_drift=coverage.drift.value,
            defaults={t: d.to_properties() for t, d in defaults.items()},
            units={
                u.organizational_unit_id: (
                    {t: d.to_properties() for k, d in u.overrides.items() if (t := contact_type_of(k)) is not None},
                    [t for k in u.opt_out if (t := contact_type_of(k)) is not None],
                )
                for u in organizational_units
            },
            unit_names={u.organizational_unit_id: u.name for u in organizational_units if u.name},
            listed=listed,
        )
        self.digest = digest_of(rules)

        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            retention_period=Duration.days(coverage_ledger.DEAD_LETTER_RETENTION_DAYS),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            # Lambda wants at least the function's timeout; AWS recommends six times it for an event source.
            visibility_timeout=Duration.seconds(FUNCTION_TIMEOUT.to_seconds() * 6),
            retention_period=Duration.days(coverage_ledger.QUEUE_RETENTION_DAYS),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=MAX_RECEIVE_COUNT),
        )
        self.rules_digest = ssm.StringParameter(
            self,
            "RulesDigest",
            string_value=self.digest,
            description="cdk-alternate-contacts: the SHA-256 of the coverage's rules (not the rules)",
        )

        # The accounts the stack's other contacts manage (AlternateContacts of the management account, of an
        # account the stack vends): ids known at deploy time, resolved by CloudFormation into the parameter.
        listed_here = set(listed)
        organization_path = scope.node.path + "/"
        self.owned = ssm.StringParameter(
            self,
            "OwnedAccounts",
            string_value=Lazy.string(_OwnedAccounts(provider, organization_path, listed_here)),
            description="cdk-alternate-contacts: accounts this stack's resources own, which the coverage leaves alone",
        )

        self.log_group, self.role = function_role(
            self, "Keeps the alternate contacts of the accounts the coverage covers"
        )
        self._grant_contacts(coverage, organization_id, management_account_id, rules)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "organizations:DescribeAccount",
                    "organizations:ListParents",
                    "organizations:ListAccountsForParent",
                    "organizations:ListOrganizationalUnitsForParent",
                    "organizations:ListRoots",
                ],
                resources=["*"],
            )
        )
        acknowledge_wildcard(
            self.role,
            "*",
            "Read-only Organizations calls that walk the organization (roots, units, their accounts, an account's "
            "parents): their resources are ids known only at run time, and ListRoots has no resource at all.",
        )
        self._ledger()
        self.rules_digest.grant_read(self.role)
        self.owned.grant_read(self.role)
        self.queue.grant_send_messages(self.role)

        self.function = lambda_.Function(
            self,
            "Function",
            description="cdk-alternate-contacts coverage: keeps every covered account's contacts",
            runtime=Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler=COVERAGE_HANDLER,
            code=coverage_code(RULES_FILE, canonical(rules).decode()),
            timeout=FUNCTION_TIMEOUT,
            memory_size=256,
            role=self.role,
            log_group=self.log_group,
            environment={
                coverage_index.Variable.QUEUE_URL: self.queue.queue_url,
                coverage_index.Variable.DIGEST_PARAMETER: self.rules_digest.parameter_name,
                coverage_index.Variable.OWNED_PARAMETER: self.owned.parameter_name,
                coverage_index.Variable.STACK: Aws.STACK_NAME,
                coverage_index.Variable.LEDGER_TABLE: self.ledger.table_name,
                # A record's last delivery counts its failure in the run before SQS moves it to the DLQ.
                coverage_index.Variable.MAX_RECEIVE_COUNT: str(MAX_RECEIVE_COUNT),
            },
        )
        self.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=MAX_CONCURRENCY,
            )
        )
        self._rules(coverage)

        # The deploy that creates or changes the coverage starts a full run: the provider sends its first message.
        self.queue.grant_send_messages(provider.role)
        provider.function.add_environment(spec.COVERAGE_QUEUE_VARIABLE, self.queue.queue_url)
        self.run = CustomResource(
            self,
            "Run",
            service_token=provider.service_token,
            resource_type=spec.COVERAGE_RESOURCE_TYPE,
            properties={
                spec.COVERAGE_QUEUE_URL: self.queue.queue_url,
                spec.COVERAGE_RULES_DIGEST: self.digest,
                "ServiceTimeout": str(int(SERVICE_TIMEOUT.to_seconds())),
            },
        )
        # The run starts once the function can take its messages, with the rules of this deploy.
        self.run.node.add_dependency(self.function, self.rules_digest, self.owned)
        for mapping in self.function.node.find_all():
            if isinstance(mapping, lambda_.EventSourceMapping):
                self.run.node.add_dependency(mapping)

    def _ledger(self) -> None:
        """The run ledger (``coverage_ledger.py``): counts and markers per run, no personal data, each item
        expiring ``coverage_ledger.TTL_DAYS`` days after it was written (longer than a message lives); on demand
        (a run writes about two small items per account)."""
        self.ledger = dynamodb.Table(
            self,
            "Ledger",
            partition_key=dynamodb.Attribute(name=coverage_ledger.PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=coverage_ledger.SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=coverage_ledger.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Counts that expire anyway: nothing is lost with the stack.
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Only what the ledger calls. TransactWriteItems has no action of its own: IAM authorizes each item as
        # its underlying call, Put as dynamodb:PutItem and Update as dynamodb:UpdateItem
        # (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[self.ledger.table_arn],
            )
        )

    def _check_region(self, stack: Stack) -> None:
        region = stack.region
        if not Token.is_unresolved(region) and region != EVENTS_REGION:
            raise ValueError(
                f"{self.node.path}: a coverage needs the Organizations events, which AWS delivers in {EVENTS_REGION} "
                f"only: deploy this stack in {EVENTS_REGION} (its region is {region})"
            )
        if Token.is_unresolved(region) and stack.node.try_find_child("CoverageRegion") is None:
            CfnRule(
                stack,
                "CoverageRegion",
                assertions=[
                    CfnRuleAssertion(
                        assert_=Fn.condition_equals(Aws.REGION, EVENTS_REGION),
                        assert_description=(
                            f"cdk-alternate-contacts coverage: deploy this stack in {EVENTS_REGION}, where "
                            "Organizations delivers its account events"
                        ),
                    )
                ],
            )

    def _grant_contacts(
        self,
        coverage: Coverage,
        organization_id: str | None,
        management_account_id: str | None,
        rules: dict[str, object],
    ) -> None:
        management = management_account_id or "*"
        organization = organization_id or "o-*"
        members = f"arn:{Aws.PARTITION}:account::{management}:account/{organization}/*"
        statement = iam.PolicyStatement(
            actions=["account:GetAlternateContact", "account:PutAlternateContact"],
            resources=[members]
            if coverage.scope != "all"
            else [members, f"arn:{Aws.PARTITION}:account::{Aws.ACCOUNT_ID}:account"],
        )
        statement.add_condition(
            "ForAllValues:StringEquals", {"account:AlternateContactTypes": list(spec.CONTACT_TYPES)}
        )
        statement.add_condition("Null", {"account:AlternateContactTypes": "false"})
        if coverage.scope != "all":
            # Only accounts under the covered units: the organization's paths end in the unit's id.
            statement.add_condition(
                "ForAnyValue:StringLike",
                {"account:AccountResourceOrgPaths": [f"{organization}/r-*/*{unit}/*" for unit in coverage.scope]},
            )
        self.role.add_to_principal_policy(statement)
        acknowledge_wildcard(
            self.role,
            members,
            "The coverage keeps every account of its scope, including accounts created after this deploy: their "
            "ids are unknown now. Limited to the organization, the contact types and (for units) their paths.",
        )

    def _rules(self, coverage: Coverage) -> None:
        queue_target = targets.SqsQueue(self.queue)
        organizations_names = [name for source, name in coverage_events.EVENTS if source == "aws.organizations"]
        control_tower_names = [name for source, name in coverage_events.EVENTS if source == "aws.controltower"]
        for rule_id, description, pattern in (
            (
                "AccountEvents",
                "accounts created, invited or moved in the organization",
                events.EventPattern(
                    source=["aws.organizations"],
                    detail_type=["AWS Service Event via CloudTrail", "AWS API Call via CloudTrail"],
                    detail={"eventSource": ["organizations.amazonaws.com"], "eventName": organizations_names},
                ),
            ),
            (
                "ControlTowerEvents",
                "accounts Control Tower created or updated",
                events.EventPattern(
                    source=["aws.controltower"],
                    detail_type=["AWS Service Event via CloudTrail"],
                    detail={"eventName": control_tower_names},
                ),
            ),
        ):
            events.Rule(
                self,
                rule_id,
                description=f"cdk-alternate-contacts coverage: {description}",
                event_pattern=pattern,
                targets=[queue_target],
            )
        events.Rule(
            self,
            "Reconcile",
            description="cdk-alternate-contacts coverage: the scheduled full run",
            schedule=events.Schedule.expression(coverage.reconcile),
            targets=[
                targets.SqsQueue(
                    self.queue,
                    message=events.RuleTargetInput.from_object({"action": "start", "reason": "schedule"}),
                )
            ],
        )
