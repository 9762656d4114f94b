"""A CloudFormation query-API endpoint on 127.0.0.1 that answers ``ListStackResources``, ``DescribeStacks`` and
``GetTemplate``.

The shape follows botocore's ``cloudformation`` model (protocol ``query``, result wrapper
``ListStackResourcesResult``, list members named ``member``, pages of 100 with an opaque NextToken),
so the handler's unmodified boto3 client parses it. Other actions answer CloudFormation's error for an
unknown action.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from .net import LocalServer, QuietHandler
from .registry import ResourceSummary, StackRegistry, StackView

NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"

#: The actions served.
ACTIONS = ("ListStackResources", "DescribeStacks", "GetTemplate")

#: ListStackResources returns at most this many summaries per page.
PAGE_SIZE = 100


@dataclass(frozen=True)
class ApiCall:
    """One request served: the action, the stack asked for, and the stack as it was shown."""

    action: str
    stack: str
    view: StackView | None


class CloudFormationApi(LocalServer):
    """Serves :class:`StackRegistry` over the query protocol.

    Parameters
    ----------
    registry:
        The stacks to report.
    """

    def __init__(self, registry: StackRegistry) -> None:
        self.registry = registry
        #: Every request served, with what it showed: tests assert on what the handler saw mid-operation.
        self.calls: list[ApiCall] = []
        super().__init__(_QueryHandler, name="cloudformation-api")

    def handle(self, form: dict[str, str]) -> tuple[int, bytes]:
        """Answer one query-API request; returns the HTTP status and the XML body."""
        action = form.get("Action", "")
        stack = form.get("StackName", "")
        view = self.registry.find(stack) if action in ACTIONS else None
        self.calls.append(ApiCall(action, stack, view))
        if action not in ACTIONS:
            return _error(400, "InvalidAction", f"The action {action or '(none)'} is not valid for this web service.")
        if view is None:
            return _error(400, "ValidationError", f"Stack with id {stack} does not exist")
        if action == "DescribeStacks":
            return 200, self._describe(view).encode("utf-8")
        if action == "GetTemplate":
            return 200, _template(view).encode("utf-8")
        start = 0
        if form.get("NextToken"):
            try:
                token = json.loads(base64.b64decode(form["NextToken"]))
                start = int(token["offset"]) if token.get("stack") == view.stack_id else -1
            except (ValueError, KeyError, TypeError):
                start = -1
            if start < 0:
                return _error(400, "ValidationError", "Invalid NextToken")
        page = view.resources[start : start + PAGE_SIZE]
        members = "".join(_member(summary) for summary in page)
        next_token = ""
        if start + PAGE_SIZE < len(view.resources):
            raw = json.dumps({"stack": view.stack_id, "offset": start + PAGE_SIZE}).encode()
            next_token = f"<NextToken>{base64.b64encode(raw).decode()}</NextToken>"
        body = (
            f'<ListStackResourcesResponse xmlns="{NAMESPACE}">'
            f"<ListStackResourcesResult><StackResourceSummaries>{members}</StackResourceSummaries>{next_token}"
            f"</ListStackResourcesResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</ListStackResourcesResponse>"
        )
        return 200, body.encode("utf-8")

    def _describe(self, view: StackView) -> str:
        """DescribeStacks of one stack: a nested stack names its parent (ParentId) and its tree's top (RootId)."""
        lineage = ""
        if view.parent_id:
            lineage = (
                f"<ParentId>{escape(view.parent_id)}</ParentId><RootId>{escape(self.registry.root_of(view))}</RootId>"
            )
        member = (
            f"<member><StackId>{escape(view.stack_id)}</StackId><StackName>{escape(view.stack_name)}</StackName>"
            f"<CreationTime>2026-01-01T00:00:00.000Z</CreationTime><StackStatus>{escape(view.status)}</StackStatus>"
            f"{lineage}</member>"
        )
        return (
            f'<DescribeStacksResponse xmlns="{NAMESPACE}"><DescribeStacksResult><Stacks>{member}</Stacks>'
            f"</DescribeStacksResult><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</DescribeStacksResponse>"
        )


def _template(view: StackView) -> str:
    """GetTemplate: the stack's template as JSON (both stages are the same: no transforms here)."""
    body = escape(json.dumps(view.template))
    return (
        f'<GetTemplateResponse xmlns="{NAMESPACE}"><GetTemplateResult><TemplateBody>{body}</TemplateBody>'
        "<StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>"
        f"</GetTemplateResult><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</GetTemplateResponse>"
    )


def _member(summary: ResourceSummary) -> str:
    physical = f"<PhysicalResourceId>{escape(summary.physical_id)}</PhysicalResourceId>" if summary.physical_id else ""
    reason = f"<ResourceStatusReason>{escape(summary.reason)}</ResourceStatusReason>" if summary.reason else ""
    stamp = summary.updated_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{summary.updated_at.microsecond // 1000:03d}Z"
    return (
        "<member>"
        f"<LogicalResourceId>{escape(summary.logical_id)}</LogicalResourceId>{physical}"
        f"<ResourceType>{escape(summary.resource_type)}</ResourceType>"
        f"<LastUpdatedTimestamp>{stamp}</LastUpdatedTimestamp>"
        f"<ResourceStatus>{escape(summary.status)}</ResourceStatus>{reason}"
        "<DriftInformation><StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus></DriftInformation>"
        "</member>"
    )


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return status, body.encode("utf-8")


class _QueryHandler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        api: CloudFormationApi = self.context
        form = {key: values[0] for key, values in parse_qs(self.read_body().decode("utf-8")).items()}
        status, body = api.handle(form)
        self.send_body(status, body, "text/xml")
