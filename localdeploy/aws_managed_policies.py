"""The AWS managed policies a Lambda execution role commonly carries, with the statements AWS publishes for
them (AWS Managed Policy reference, https://docs.aws.amazon.com/aws-managed-policy/latest/reference/), so that
:class:`~.iam.PolicyRegistry` can evaluate a role that names them in ``ManagedPolicyArns`` (a CDK function's
default role names AWSLambdaBasicExecutionRole). A role naming any other managed policy is still refused
(:class:`~.iam.UnsupportedPolicyError`): its statements are not known here, and guessing them would make the
model more lenient or stricter than AWS.
"""

from __future__ import annotations

from typing import Any

_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]

#: Statements by policy name (the ARN's last part; the ARN is ``arn:<partition>:iam::aws:policy/<path><name>``).
KNOWN: dict[str, list[dict[str, Any]]] = {
    # AWSLambdaBasicExecutionRole.html
    "AWSLambdaBasicExecutionRole": [{"Effect": "Allow", "Action": _LOGS, "Resource": "*"}],
    # AWSLambdaSQSQueueExecutionRole.html
    "AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS],
            "Resource": "*",
        }
    ],
}


def statements_of(arn: str) -> list[dict[str, Any]] | None:
    """The published statements of an AWS managed policy ARN, or ``None`` when it is not known here (or is a
    customer managed policy, whose statements a template declares elsewhere)."""
    if ":iam::aws:policy/" not in arn:
        return None
    found = KNOWN.get(arn.rsplit("/", 1)[-1])
    return [dict(s) for s in found] if found is not None else None
