"""What CloudFormation and CloudWatch Logs receive from the function: one answer per request, no secrets."""

from __future__ import annotations

import pytest
from e2e_support import EXAMPLE, EXAMPLE_STACK, EXAMPLE_UPDATED, STACK, Assemblies, explain

from localdeploy.cloud import LocalCloud
from localdeploy.engine import Engine, OperationResult

pytestmark = pytest.mark.e2e


def _lifecycle(engine: Engine, assemblies: Assemblies) -> list[OperationResult]:
    """Deploy, update (in place and with replacement) and destroy the three-contact example, then a failed create."""
    results = [
        engine.deploy(assemblies.lifecycle, EXAMPLE_STACK, artifact=EXAMPLE),
        engine.deploy(assemblies.lifecycle, EXAMPLE_STACK, artifact=EXAMPLE_UPDATED),
        engine.destroy(EXAMPLE_STACK),
        engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBadCreate"),
    ]
    assert [r.status for r in results] == [
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "DELETE_COMPLETE",
        "ROLLBACK_COMPLETE",
    ], explain(*results)
    return results


def test_every_request_is_answered_exactly_once(engine: Engine, assemblies: Assemblies, cloud: LocalCloud) -> None:
    # GIVEN the URLs issued before this test
    issued_before = {issued.request_id for issued in cloud.responses.issued()}

    # WHEN a whole lifecycle runs: creates, an in-place update, a replacement with its cleanup Delete,
    # a destroy, and a failed create with its rollback
    results = _lifecycle(engine, assemblies)

    # THEN every ResponseURL issued during it received exactly one PUT, and each was the request's answer
    issued = [i for i in cloud.responses.issued() if i.request_id not in issued_before]
    requests = {r.request_id: r for result in results for r in result.requests}
    assert sorted(i.request_id for i in issued) == sorted(requests)
    assert len(requests) == 13
    counts = cloud.responses.answer_counts(list(requests))
    assert {rid: n for rid, n in counts.items() if n != 1} == {}
    for request_id, record in requests.items():
        [answer] = cloud.responses.answers(request_id)
        assert answer.document is not None
        assert answer.document["RequestId"] == request_id
        assert answer.document["LogicalResourceId"] == record.logical_id
    # AND nothing was PUT to a URL that was not issued, or with a wrong signature
    assert cloud.responses.rejected == []
    # AND no operation reported a problem beyond the intended failed create
    assert [r.problems for r in results[:3]] == [[], [], []]


def test_function_log_has_no_contact_details_or_response_url_signatures(
    engine: Engine, assemblies: Assemblies, cloud: LocalCloud
) -> None:
    # GIVEN every contact detail the apps declare, valid or rejected
    detail_keys = ("EmailAddress", "Name", "PhoneNumber", "Title")
    secrets: set[str] = set()
    for assembly, artifacts in ((assemblies.lifecycle, [EXAMPLE, EXAMPLE_UPDATED, "E2eBase", "E2eBadUpdate"]),):
        for artifact in artifacts:
            for resource in assembly.template(artifact)["Resources"].values():
                if resource["Type"] == "Custom::AlternateContact":
                    properties = resource["Properties"]
                    secrets.update(v for k, v in properties.items() if k in detail_keys and isinstance(v, str))
    secrets.add("not-an-email-address")  # the rejected email, a parameter's default
    assert len(secrets) >= 12

    # WHEN a whole lifecycle runs, failures included
    results = _lifecycle(engine, assemblies)

    # THEN the function's log streams record every invocation of it...
    log = cloud.log_text()
    for result in results:
        for record in result.requests:
            assert record.invocation is not None
            assert f"START RequestId: {record.invocation.request_id}" in log
            assert f"{record.request_type} {record.logical_id}" in log
    # ...but no email address, phone number, name or title, and no ResponseURL signature
    assert sorted(secret for secret in secrets if secret in log) == []
    signatures = [issued.signature for issued in cloud.responses.issued()]
    assert [s for s in signatures if s in log] == []
    assert "X-Amz-Signature" not in log
