"""The contacts model and the data-file reader load without the CDK: the command-line tool uses them, and
starting aws_cdk costs seconds (its Node process)."""

from __future__ import annotations

import subprocess
import sys

MODULES = ("cdk_alternate_contacts.model", "cdk_alternate_contacts.contacts_file", "cdk_alternate_contacts.details")


def test_model_and_file_reader_import_without_loading_aws_cdk() -> None:
    # GIVEN a fresh interpreter WHEN the model modules are imported and a literal model is resolved
    script = (
        "import sys\n"
        f"for name in {MODULES!r}: __import__(name)\n"
        "from cdk_alternate_contacts.model import AccountContacts, ContactsModel\n"
        "from cdk_alternate_contacts.details import ContactDetails\n"
        "d = ContactDetails('soc@example.com', 'SOC', '+1 206 555 0100', 'Security')\n"
        "ContactsModel(defaults={'security': d}, accounts=[AccountContacts('111122223333')]).resolve()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', 'constructs')))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    # THEN neither aws_cdk nor jsii (nor the constructs package) was imported
    assert loaded.strip() == "[]"
