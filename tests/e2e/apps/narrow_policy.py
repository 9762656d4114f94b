"""An escape hatch for the test apps: a provider role narrowed to some contact types, as a policy derived from
what the template declares would be (the trap of aws/aws-cdk #9840), or a denial in the middle of a request."""

from __future__ import annotations

import aws_cdk as cdk

from cdk_alternate_contacts import AlternateContactProvider


def narrow_to_types(stack: cdk.Stack, types: list[str]) -> None:
    """Allow the provider role's contact actions for ``types`` only."""
    policy = AlternateContactProvider.of(stack).role.node.find_child("DefaultPolicy").node.default_child
    assert isinstance(policy, cdk.CfnResource)
    # The contact statement comes second, after the log group's (the tests check the template).
    policy.add_property_override(
        "PolicyDocument.Statement.1.Condition.ForAllValues:StringEquals.account:AlternateContactTypes", types
    )
