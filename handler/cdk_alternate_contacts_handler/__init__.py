"""The alternate-contact provider's Lambda code, shipped in the function's asset next to crhelper.

Imported as ``cdk_alternate_contacts_handler`` (see pyproject.toml); the Lambda handler is
``cdk_alternate_contacts_handler.index.handler``. Only the standard library, boto3 and crhelper may be
imported here: the Lambda runtime provides nothing else.
"""
