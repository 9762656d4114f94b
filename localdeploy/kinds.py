"""The resource kinds of the event side, one module each behind :class:`~.native.ResourceEmulator`, built
together for one region: what :meth:`.cloud.LocalCloud.engine` registers (and a test's engine, the same way).

====================================  =========================  ============================================
kind                                  module                     where it lives
====================================  =========================  ============================================
``AWS::SQS::Queue``                   :mod:`.sqs_queue`          moto's SQS
``AWS::SQS::QueuePolicy``             :mod:`.sqs_queue_policy`   moto's SQS (the queues' Policy attribute)
``AWS::Events::Rule``                 :mod:`.events_rule`        moto's EventBridge (delivered by :mod:`.event_bus`)
``AWS::Lambda::Permission``           :mod:`.lambda_permission`  :class:`~.lambda_permission.FunctionPolicies`
``AWS::Lambda::EventSourceMapping``   :mod:`.event_source_mapping`  :class:`~.sqs_poller.SqsPollers`
``AWS::SSM::Parameter``               :mod:`.ssm_parameter`      moto's SSM (String and StringList)
``AWS::DynamoDB::Table``              :mod:`.dynamodb_table`     moto's DynamoDB (TTL, point-in-time recovery)
====================================  =========================  ============================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .dynamodb_table import TABLE_TYPE, TableEmulator
from .event_source_mapping import MAPPING_TYPE, EventSourceMappingEmulator
from .events_rule import RULE_TYPE, RuleEmulator
from .iam import PolicyRegistry
from .lambda_permission import PERMISSION_TYPE, FunctionPolicies, PermissionEmulator
from .lambda_service import FunctionService
from .native import ResourceEmulator
from .sqs_poller import SqsPollers
from .sqs_queue import QUEUE_TYPE, QueueEmulator
from .sqs_queue_policy import QUEUE_POLICY_TYPE, QueuePolicyEmulator
from .ssm_parameter import PARAMETER_TYPE, ParameterEmulator


def event_kinds(
    client: Callable[[str], Any],
    functions: FunctionService,
    pollers: SqsPollers,
    permissions: FunctionPolicies,
    policies: PolicyRegistry | None,
    *,
    region: str,
    account_id: str,
) -> dict[str, ResourceEmulator]:
    """The emulators of queues, queue policies, rules, permissions and event source mappings of ``region``.

    Parameters
    ----------
    client:
        Returns a moto client of ``region`` for a service name (``sqs``, ``events``), with the deployer's
        credentials: CloudFormation calls these services as the deployer, not as a function.
    functions, pollers, permissions:
        The local Lambda service, its SQS pollers and its functions' resource policies.
    policies:
        The roles' policies now (an event source mapping checks its function's role); ``None``: no IAM.
    region, account_id:
        Where the engine deploys.
    """
    sqs = client("sqs")
    return {
        QUEUE_TYPE: QueueEmulator(sqs, region=region, account_id=account_id),
        QUEUE_POLICY_TYPE: QueuePolicyEmulator(sqs),
        PARAMETER_TYPE: ParameterEmulator(client("ssm")),
        TABLE_TYPE: TableEmulator(client("dynamodb")),
        RULE_TYPE: RuleEmulator(client("events"), region=region, account_id=account_id),
        PERMISSION_TYPE: PermissionEmulator(
            permissions, lambda arn: functions.config(arn) is not None, region=region, account_id=account_id
        ),
        MAPPING_TYPE: EventSourceMappingEmulator(
            functions, pollers, sqs, policies, region=region, account_id=account_id
        ),
    }
