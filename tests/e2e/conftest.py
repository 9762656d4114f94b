"""End-to-end set-up shared by the tests: synthesized apps, one local cloud, a fresh engine per test.

Everything real runs here: the CDK CLI synthesizes the apps (once per session, in parallel), the Lambda
asset it writes runs under awslambdaric in ``.venv-lambda`` (boto3 and awslambdaric only), its Account API
calls reach moto_server, its answers reach a real HTTPS listener, and its ListStackResources calls reach
the local CloudFormation API. The session shares one moto_server and one set of runtime processes; moto
is reset before each test.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

# e2e_support sits here (localdeploy is a development package installed by scripts/setup.sh).
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from e2e_steps import E2e, Stack  # noqa: E402
from e2e_support import ACCOUNTS, EXAMPLE_STACK, REPO, STACK, Assemblies  # noqa: E402

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly  # noqa: E402
from localdeploy.assembly import synth  # noqa: E402
from localdeploy.cloud import LocalCloud  # noqa: E402
from localdeploy.contacts import Details, Slot, account_client, put_contacts, read_contacts  # noqa: E402
from localdeploy.demo_model import UPDATE_CONTEXT  # noqa: E402
from localdeploy.engine import Engine  # noqa: E402


@pytest.fixture(scope="session")
def synthesis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Future[CloudAssembly]]]:
    """Start synthesizing app.py (its data file, and the demo's update) and the apps of tests/e2e/apps.

    Started before the local cloud (see ``cloud``) so its start-up overlaps the CDK CLI's; jsii start-up
    dominates synthesis, and several at once on two cores beat them in a row.
    """
    out = tmp_path_factory.mktemp("assemblies")
    apps = Path(__file__).parent.relative_to(REPO) / "apps"
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield [
            pool.submit(synth, out / "app"),
            pool.submit(synth, out / "app-updated", context=UPDATE_CONTEXT),
            pool.submit(synth, out / "lifecycle", app=f"{sys.executable} {apps / 'lifecycle_app.py'}"),
            pool.submit(synth, out / "contacts", app=f"{sys.executable} {apps / 'contacts_app.py'}"),
        ]


@pytest.fixture(scope="session")
def assemblies(synthesis: list[Future[CloudAssembly]]) -> Assemblies:
    """The synthesized apps, once per session."""
    app, app_updated, lifecycle, contacts = (future.result() for future in synthesis)
    return Assemblies(app, app_updated, lifecycle, contacts)


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory, synthesis: list[Future[CloudAssembly]]) -> Iterator[LocalCloud]:
    """moto_server, the HTTPS listener, the CloudFormation API and the Lambda service, for the session.

    Retries come after half a second and a second (Lambda waits minutes); an answer is awaited at most
    60 s, so a lost answer fails a test quickly instead of after the 7-minute ServiceTimeout. It asks for
    ``synthesis`` only so that synthesis starts first and runs while this starts.
    """
    with LocalCloud(
        tmp_path_factory.mktemp("cloud"), concurrency=4, retry_delays=(0.5, 1.0), answer_timeout_cap_s=60
    ) as local:
        yield local


@pytest.fixture
def engine(cloud: LocalCloud, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A CloudFormation engine with no stacks, over accounts with no contacts.

    Every call the functions make is authorized against their role's policy as CloudFormation has it at
    that moment (the cloud enforces IAM). After the test, no call may have been denied, in any phase of
    any operation: a denied call is a contact that AWS would strand, whatever the test itself checked.
    A test that provokes denials on purpose says so with ``@pytest.mark.denials_expected``.
    """
    cloud.reset()
    assert cloud.iam is not None, "the e2e cloud must enforce IAM"
    judged = len(cloud.iam.decisions)
    yield cloud.engine(tmp_path / "state")
    if request.node.get_closest_marker("denials_expected") is None:
        denied = [d.authorization for d in cloud.iam.decisions[judged:] if not d.allowed]
        assert not denied, f"IAM denied calls a function made: {denied[:5]}"


@pytest.fixture
def contacts(cloud: LocalCloud) -> Callable[[], dict[Slot, Details]]:
    """Reads back every contact of every account the apps name, through the Account API."""
    client = account_client(cloud.moto.endpoint)
    return lambda: read_contacts(client, ACCOUNTS)


@pytest.fixture
def seed_contacts(cloud: LocalCloud) -> Callable[[dict[Slot, Details]], None]:
    """Writes contacts straight into moto: contacts that existed before any stack."""
    client = account_client(cloud.moto.endpoint)
    return lambda wanted: put_contacts(client, wanted)


@pytest.fixture
def e2e(
    engine: Engine,
    cloud: LocalCloud,
    assemblies: Assemblies,
    contacts: Callable[[], dict[Slot, Details]],
    seed_contacts: Callable[[dict[Slot, Details]], None],
) -> Iterator[E2e]:
    """The test's engine, cloud, apps and contacts in one, with the steps a scenario is written in.

    After the test, every request of every operation it ran must have had exactly one answer, and nothing
    else may have reached the listener: a second answer or a stray PUT is a bug whatever the test checked.
    """
    e2e = E2e(engine, cloud, assemblies, contacts, seed_contacts)
    yield e2e
    if e2e.results:
        e2e.assert_answered_exactly_once()


@pytest.fixture
def lifecycle_stack(e2e: E2e) -> Stack:
    """Stack ``E2eContacts``, its versions (E2eBase, E2eRenamed, ...) in lifecycle_app.py."""
    return e2e.stack(STACK, e2e.assemblies.lifecycle)


@pytest.fixture
def example_stack(e2e: E2e) -> Stack:
    """The three-contact example's stack, its two versions in lifecycle_app.py."""
    return e2e.stack(EXAMPLE_STACK, e2e.assemblies.lifecycle)
