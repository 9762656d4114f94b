"""The provider's asset, built without Docker: by the pinned CDK CLI from the repository, and from a wheel."""

from __future__ import annotations

import email.parser
import importlib.metadata
import importlib.util
import json
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

from app_synth import function_asset
from construct_synth import REPO, CliSynth, WheelApp, modules_under
from packaging.requirements import Requirement

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly


def crhelper_pin() -> str:
    """The crhelper version pyproject.toml pins for the Lambda asset."""
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [Requirement(d) for d in dependencies if Requirement(d).name == "crhelper"]
    (spec,) = pin.specifier
    assert spec.operator == "==", f"crhelper must be pinned exactly, not {pin}"
    return spec.version


def installed_modules(package: str) -> dict[str, bytes]:
    """The Python modules of an installed package, relative to its folder."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None, package
    return modules_under(Path(spec.origin).parent)


def asset_package_files(asset: Path, package: str) -> dict[str, bytes]:
    """The files of ``package`` inside an asset, relative to the package folder."""
    root = asset / package
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def byte_code_in(asset: Path) -> list[str]:
    """Anything compiled in the asset: it would be stale on another Python, and it changes the asset hash."""
    return [str(p.relative_to(asset)) for p in asset.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]


# --- cdk synth through the pinned CLI ---------------------------------------------------------------------


def cli_asset(cli_synth: CliSynth) -> Path:
    """The provider function's asset folder in the CLI's cloud assembly."""
    return function_asset(cli_synth.outdir, "AlternateContactsExample")


def test_cdk_cli_synthesizes_the_example_app_offline(cli_synth: CliSynth) -> None:
    # GIVEN `cdk synth` run with the pinned CLI and every network route closed (the fixture fails otherwise)
    # WHEN its cloud assembly is read
    stacks = CloudAssembly(cli_synth.outdir).stacks
    # THEN the example stack is in it, environment-agnostic, and cdk-nag (run by app.py) found nothing
    assert [(stack.artifact_id, stack.account, stack.region) for stack in stacks] == [
        ("AlternateContactsExample", None, None)
    ]
    report = json.loads((cli_synth.outdir / "validation-report.json").read_text())
    assert report["pluginReports"] == []


def test_cli_asset_holds_the_handler_and_the_pinned_crhelper(cli_synth: CliSynth) -> None:
    # GIVEN the asset folder `cdk synth` built for the provider function
    asset = cli_asset(cli_synth)
    # WHEN its top level and its packages are compared with what the tests ran against
    top_level = {path.name for path in asset.iterdir()}
    version = importlib.metadata.version("crhelper")
    # THEN it holds the handler package, crhelper and crhelper's metadata at the pinned version, and
    # crhelper's modules are byte for byte the copy installed (and tested) here, without its type stubs
    assert (asset / "cdk_alternate_contacts_handler" / "index.py").is_file()
    assert version == crhelper_pin()
    assert top_level == {"cdk_alternate_contacts_handler", "crhelper", f"crhelper-{version}.dist-info"}
    metadata = (asset / f"crhelper-{version}.dist-info" / "METADATA").read_text()
    assert f"\nVersion: {version}\n" in metadata
    assert asset_package_files(asset, "crhelper") == installed_modules("crhelper")


def test_cli_asset_handler_is_the_repositorys_handler(cli_synth: CliSynth) -> None:
    # GIVEN the asset folder `cdk synth` built
    asset = cli_asset(cli_synth)
    # WHEN its handler package is compared with handler/ in the repository, as it was during the synth
    shipped = asset_package_files(asset, "cdk_alternate_contacts_handler")
    # THEN every module ships unchanged, and nothing but modules ships (no type stubs, no py.typed)
    assert shipped == cli_synth.handler_modules
    assert "index.py" in shipped


def test_cli_asset_holds_no_byte_code(cli_synth: CliSynth) -> None:
    # GIVEN the asset folder `cdk synth` built
    # WHEN it is searched for compiled files
    # THEN there are none
    assert byte_code_in(cli_asset(cli_synth)) == []


# --- a pip-installed wheel, used from outside the repository ----------------------------------------------


def test_wheel_app_imports_both_packages_from_the_installed_wheel(wheel_app: WheelApp) -> None:
    # GIVEN a tiny app run outside the repository with only the installed wheel on PYTHONPATH
    # WHEN it reports where it imported the library and the handler from
    imported = {name: Path(path) for name, path in wheel_app.imported_from.items()}
    # THEN both came from the wheel's installation, not from the checkout
    assert imported == {
        "cdk_alternate_contacts": wheel_app.site / "cdk_alternate_contacts" / "__init__.py",
        "cdk_alternate_contacts_handler": wheel_app.site / "cdk_alternate_contacts_handler" / "__init__.py",
    }
    assert not any(path.is_relative_to(REPO) for path in imported.values())


def test_wheel_app_asset_holds_the_installed_handler_and_crhelper(wheel_app: WheelApp) -> None:
    # GIVEN the asset the wheel-installed library built
    asset = function_asset(wheel_app.outdir, "FromWheel")
    # WHEN its contents are compared with the installation (which pip compiled to byte code)
    installed_handler = modules_under(wheel_app.site / "cdk_alternate_contacts_handler")
    # THEN the handler, crhelper and its metadata are there, and the byte code is not
    assert asset_package_files(asset, "cdk_alternate_contacts_handler") == installed_handler
    assert "index.py" in installed_handler
    assert asset_package_files(asset, "crhelper") == installed_modules("crhelper")
    assert (asset / f"crhelper-{crhelper_pin()}.dist-info").is_dir()
    assert list((wheel_app.site / "cdk_alternate_contacts_handler").glob("__pycache__"))
    assert byte_code_in(asset) == []


def test_wheel_ships_both_packages_and_their_type_markers(wheel_app: WheelApp) -> None:
    # GIVEN the built wheel, installed
    # WHEN the installed packages are listed
    # THEN the library, the handler and the CLI are there with their py.typed markers (plus the CLI's console
    # script in bin/), and no tests or tooling
    top_level = {p.name for p in wheel_app.site.iterdir() if not p.name.endswith(".dist-info")}
    packages = {"cdk_alternate_contacts", "cdk_alternate_contacts_handler", "cdk_alternate_contacts_cli"}
    assert top_level == {*packages, "bin"}
    assert [p.name for p in (wheel_app.site / "bin").iterdir()] == ["cdk-alternate-contacts"]
    for package in packages:
        assert (wheel_app.site / package / "py.typed").is_file()


# --- the distribution: what `python -m build` makes, as PyPI would receive it --------------------------------


def test_the_sdist_and_wheel_pass_twine_check(wheel_app: WheelApp) -> None:
    # GIVEN the sdist and the wheel `python -m build` made  WHEN twine checks them strictly (as PyPI renders)
    twine = Path(sys.executable).with_name("twine")
    checked = subprocess.run(
        [str(twine), "check", "--strict", str(wheel_app.sdist), str(wheel_app.wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    # THEN both pass
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2, checked.stdout


def test_the_wheel_carries_complete_metadata_and_its_license(wheel_app: WheelApp) -> None:
    # GIVEN the built wheel's METADATA
    with zipfile.ZipFile(wheel_app.wheel) as wheel:
        names = wheel.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(wheel.read(metadata_name).decode())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    # WHEN its fields are read  THEN the version is pyproject's (its one place), the license and the Python
    # versions are declared, the package says it is typed, and the README is its description, as Markdown
    assert metadata["Version"] == project["version"]
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Requires-Python"] == ">=3.11"
    classifiers = metadata.get_all("Classifier") or []
    assert {"Typing :: Typed", "Framework :: AWS CDK :: 2", "Programming Language :: Python :: 3.14"} <= set(
        classifiers
    )
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "cdk-alternate-contacts" in metadata.get_payload()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    for package in ("cdk_alternate_contacts", "cdk_alternate_contacts_handler", "cdk_alternate_contacts_cli"):
        assert f"{package}/py.typed" in names, package


def test_the_sdist_holds_what_a_rebuild_and_a_reader_need(wheel_app: WheelApp) -> None:
    # GIVEN the source distribution  WHEN its files are listed
    with tarfile.open(wheel_app.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    # THEN it has the license, the changelog, the README and every package's sources
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= names
    assert "handler/cdk_alternate_contacts_handler/spec.py" in names
    assert "constructs/cdk_alternate_contacts/organization.py" in names
    assert "constructs/cdk_alternate_contacts_cli/cli.py" in names
