"""``python -m cdk_alternate_contacts_cli``: the command-line tool, without loading the construct library."""

from cdk_alternate_contacts_cli.cli import main

raise SystemExit(main())
