"""The repository's constructs/ folder must never shadow the PyPI package ``constructs`` that aws-cdk-lib uses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

from construct_synth import REPO, toolchain_env

SOURCE_ROOT = REPO / "constructs"


def test_pypi_constructs_wins_when_run_from_the_repository_root() -> None:
    # GIVEN a fresh interpreter started in the repository root, which puts the root first on sys.path
    # (as `python app.py` and `cdk synth` do)
    code = (
        "import json, constructs; "
        "print(json.dumps({'file': constructs.__file__, 'construct': constructs.Construct.__module__}))"
    )
    # WHEN it imports constructs
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=toolchain_env(), capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    # THEN it gets the installed package, with Construct, not a namespace package made of the folder
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert Path(found["file"]).resolve() == site_packages / "constructs" / "__init__.py"
    assert found["construct"].startswith("constructs")


def test_constructs_folder_is_a_source_root_not_a_package() -> None:
    # GIVEN the repository's constructs/ folder
    # WHEN its entries are listed
    entries = sorted(p.name for p in SOURCE_ROOT.iterdir() if p.name != "__pycache__")
    # THEN it has no __init__.py (which would hide the PyPI package) and holds only differently named
    # packages, no loose modules that would be importable as constructs.<module>
    assert not (SOURCE_ROOT / "__init__.py").exists()
    assert entries == ["cdk_alternate_contacts", "cdk_alternate_contacts_cli"]
    for package in entries:
        assert (SOURCE_ROOT / package / "__init__.py").is_file()


def test_nothing_imports_the_source_root_as_constructs_submodules() -> None:
    # GIVEN the project's Python files (the PyPI package's __path__ absorbs the folder, so such an import
    # would work here and fail for anyone who installed the wheel)
    files = [*SOURCE_ROOT.rglob("*.py"), *(REPO / "handler").rglob("*.py"), REPO / "app.py"]
    pattern = re.compile(r"^\s*(from\s+constructs\.\w|import\s+constructs\.\w)", re.MULTILINE)
    # WHEN they are searched for `constructs.<x>` imports
    offenders = [str(f.relative_to(REPO)) for f in files if pattern.search(f.read_text())]
    # THEN there are none
    assert offenders == []
