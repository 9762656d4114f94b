"""Deploy, update and destroy a synthesized CDK app on this machine, with no AWS account.

The real handler code of the synthesized Lambda asset runs under awslambdaric, the real Lambda runtime
client, fed by a local stand-in for the Lambda Runtime API. Its AWS calls go to ``moto_server``; its
answers to CloudFormation go to a real HTTPS listener; a small CloudFormation engine drives the custom
resources through Create, Update, Delete, replacement, cleanup and rollback as CloudFormation does.

Run ``python -m localdeploy --help``. Modules, one job each:

``net``            free ports and readiness of local servers
``moto``           the moto_server process (the Account API and SSM)
``quotas``         the Account API's request quotas, enforced in front of moto_server (HTTP 429)
``iam``            the one IAM evaluator, the role policies in force at each step, the AccessDenied front
``contacts``       reading, saving and masking alternate contacts in the emulator
``responses``      the HTTPS listener for CloudFormation's pre-signed ResponseURLs
``runtime_api``    the Lambda Runtime API of one execution environment
``sandbox``        one execution environment: an awslambdaric process, its deadline and its log stream
``lambda_service`` functions, their pools of execution environments and asynchronous invocations
``registry``       the live resource list of each stack, as CloudFormation reports it
``cfn_api``        the CloudFormation query API (ListStackResources, DescribeStacks, GetTemplate) over the registry
``assembly``       synthesizing with the pinned CDK CLI (the assembly is read with the shared reader,
                   ``cdk_alternate_contacts_cli.cloud_assembly``)
``template``       parameters, conditions, rules, outputs and dependencies of a template (values: the
                   shared resolver, ``cdk_alternate_contacts_cli.intrinsics``)
``native``         synthetic ids and attributes of resource types that are recorded, not emulated
``organizations``  AWS::Organizations::Account, vended in moto's Organizations as CloudFormation does it
``state``          persisted stack state in ``.local/``
``engine``         the CloudFormation engine: deploy, update, cleanup, rollback and destroy
``cloud``          all of the above started together, stopped together
``report``         readable accounts of an operation, contact details masked
``demo``           the main job: deploy, update and destroy app.py, with checks
``cli``            the command line
"""
