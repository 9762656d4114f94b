"""``python -m cdk_alternate_contacts plan|drift|audit``: the command-line tool.

Python imports this package first; its names load lazily, so aws_cdk is not started for the CLI. The
console script ``cdk-alternate-contacts`` and ``python -m cdk_alternate_contacts_cli`` run the same tool.
"""

from cdk_alternate_contacts_cli.cli import main

raise SystemExit(main())
