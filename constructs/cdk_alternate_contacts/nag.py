"""cdk-nag acknowledgements with their reasons, in the finding ids cdk-nag 3 writes."""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def render_like_cdk_nag(value: object) -> str:
    """Flatten a resolved CloudFormation value into the text cdk-nag 3 puts in a finding's id.

    A port of cdk-nag's ``flattenCfnReference``: ``Ref`` becomes ``<Id>``, ``Fn::GetAtt`` ``<Id.Attr>``,
    ``Fn::Join`` is joined, ``Fn::Sub`` and ``Fn::ImportValue`` are flattened, ``${X}`` becomes ``<X>``. A
    reference that only becomes an ``Fn::ImportValue`` at synth time (an automatic cross-stack reference)
    renders differently there; pass such an account through a CfnParameter or ``Fn.import_value`` instead.
    """
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if value.get("Fn::Join"):
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(render_like_cdk_nag(item) for item in items)
        inner = value.get("Fn::Sub") or value.get("Fn::ImportValue")
        if inner:
            return render_like_cdk_nag(inner)
        if value.get("Fn::GetAtt"):
            resource, attribute = value["Fn::GetAtt"]
            return f"<{render_like_cdk_nag(resource)}.{render_like_cdk_nag(attribute)}>"
        if value.get("Ref"):
            return f"<{render_like_cdk_nag(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))


def acknowledge_wildcard(role: IConstruct, resource: object, reason: str) -> None:
    """Acknowledge cdk-nag's AwsSolutions-IAM5 finding on ``role`` for exactly ``resource``, with the reason.

    ``resource`` is the statement's resource as written (a string, or a CDK value such as ``Aws.PARTITION`` in
    it): it is resolved and rendered as cdk-nag renders it, so the acknowledgement matches that one finding.
    """
    rendered = render_like_cdk_nag(Stack.of(role).resolve(resource))
    Validations.of(role).acknowledge(Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{rendered}]", reason=reason))
