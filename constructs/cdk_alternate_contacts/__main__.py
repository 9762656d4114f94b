"""``python -m cdk_alternate_contacts plan|drift|audit``: the command-line tool.

Python imports this package first, and with it aws_cdk (about a second and a half). The console script
``cdk-alternate-contacts`` and ``python -m cdk_alternate_contacts_cli`` run the same tool without that cost.
"""

from cdk_alternate_contacts_cli.cli import main

raise SystemExit(main())
