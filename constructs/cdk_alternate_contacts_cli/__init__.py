"""``cdk-alternate-contacts``: read-only checks of alternate contacts against a CDK app and an organization.

- ``plan``: what a deploy of a synthesized cloud assembly would create, change or leave alone.
- ``drift``: whether the live contacts still match the declared ones after a deploy.
- ``audit``: which ACTIVE accounts of the organization have no contact of a given type.

This package imports the standard library, boto3 and the shared spec
(:mod:`cdk_alternate_contacts_handler.spec`) only. It is kept apart from ``cdk_alternate_contacts``, whose
import loads aws_cdk and starts a jsii Node process, so the tool starts in a fraction of a second and runs
wherever boto3 does. The entry point is :func:`cdk_alternate_contacts_cli.cli.main`.
"""
