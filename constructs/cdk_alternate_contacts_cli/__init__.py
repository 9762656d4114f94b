"""``cdk-alternate-contacts``: checks of alternate contacts against a CDK app and an organization, and an
import of an organization's contacts into a data file; nothing is ever written to AWS.

- ``plan``: what a deploy of a synthesized cloud assembly would create, change or leave alone.
- ``drift``: whether the live contacts still match the declared ones after a deploy.
- ``audit``: which ACTIVE accounts of the organization have no contact of a given type.
- ``import``: the organization's live contacts as a contacts file that, deployed, changes nothing.

This package imports the standard library, boto3 and the shared spec
(:mod:`cdk_alternate_contacts_handler.spec`) only. It is kept apart from ``cdk_alternate_contacts``, whose
import loads aws_cdk and starts a jsii Node process, so the tool starts in a fraction of a second and runs
wherever boto3 does. ``import`` (:mod:`.importer`) also checks the file it writes with the construct
library's data-file reader and model, which load without aws_cdk (and tomli-w writes TOML). The entry
point is :func:`cdk_alternate_contacts_cli.cli.main`.
"""
