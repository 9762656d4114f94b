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
``iam_requests``   what IAM is asked for each call (action, resource ARN, keys) and each service's AccessDenied
``aws_managed_policies`` the published statements of the AWS managed policies a Lambda role commonly carries
``contacts``       reading (with the product's Get) and saving alternate contacts in the emulator
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
``native``         synthetic ids and attributes of recorded types; the emulators' interface, ``ResourceEmulator``
``organizations``  AWS::Organizations::Account, vended in moto's Organizations as CloudFormation does it
``kinds``          the event side's resource kinds, built together for one region:
``sqs_queue``      AWS::SQS::Queue in moto's SQS
``sqs_queue_policy`` AWS::SQS::QueuePolicy (the queues' resource policy)
``events_rule``    AWS::Events::Rule and its targets in moto's EventBridge
``lambda_permission`` AWS::Lambda::Permission: the functions' resource-based policies
``event_source_mapping`` AWS::Lambda::EventSourceMapping from SQS, checked as Lambda checks it
``resource_policy`` resource-based policies evaluated for a service principal (events.amazonaws.com)
``event_pattern``  EventBridge's event patterns, checked and matched
``schedule_expression`` EventBridge's rate() and cron() expressions, checked
``target_input``   a target's Input, InputPath or InputTransformer applied to an event
``sqs_poller``     Lambda's SQS pollers: batches, synchronous invocations, partial batch responses, throttling
``event_bus``      EventBridge's delivery: rules matched per region and bus, targets, FailedInvocations, DLQs
``account_events`` the events of accounts joining or moving (Organizations, Control Tower), as AWS documents them
``cloud_events``   the buses, pollers and permissions of a cloud, the helpers that cause account events, settle
``state``          persisted stack state in ``.local/``
``phases``         the phases of an operation (deploy, cleanup, rollback, ...) and the kinds of journalled step
``scheduler``      the graph scheduler: dependency order, independent resources in parallel
``journal``        the rollback journal: what an operation did and must undo, in which order
``results``        what an operation reports (its result, its stack events) and the engine's settings
``operation``      the working state of one operation on one stack, published on every change
``resource_kind``  the one create/update/delete interface of every kind; emulated and recorded kinds
``custom_resource`` custom resources: requests to their function, answers awaited
``nested_stack``   AWS::CloudFormation::Stack: a stack of its own, deployed, rolled back and deleted by the engine
``lambda_function`` AWS::Lambda::Function and AWS::Lambda::EventInvokeConfig on the local Lambda service
``cleanup``        deleting in reverse dependency order: an update's cleanup phase, a destroy
``rollback``       the rollback of a failed create or update, from the journal
``engine``         the CloudFormation engine: deploy, update, cleanup, rollback and destroy, kind by kind
``cloud``          all of the above started together, stopped together
``report``         readable accounts of an operation, contact details masked
``demo``           the main job: deploy, update and destroy app.py, with checks
``cli``            the command line
"""
