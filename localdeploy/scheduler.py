"""The graph scheduler: work on the nodes of a dependency graph, each once its prerequisites are done,
independent ones in parallel, as CloudFormation provisions a template's resources."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait


def run_graph(
    nodes: Collection[str],
    prerequisites: Mapping[str, set[str]],
    work: Callable[[str], bool],
    *,
    max_parallel: int,
    on_error: Callable[[str, Exception], None],
) -> bool:
    """Run ``work`` on every node once its prerequisites (among ``nodes``) are done, independent ones in parallel.

    After a failure nothing new starts, but the work in flight finishes (as in CloudFormation). ``work``
    returns whether the node succeeded; one that raises has failed, and ``on_error`` hears of it. Nodes start
    in the order given when several are ready. Returns True when every node succeeded.
    """
    ordered = list(nodes)
    known = set(ordered)
    done: set[str] = set()
    started: set[str] = set()
    failed = False
    with ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="cfn") as pool:
        running: dict[Future[bool], str] = {}
        while True:
            if not failed:
                for node in ordered:
                    if node not in started and (prerequisites.get(node, set()) & known) <= done:
                        started.add(node)
                        running[pool.submit(work, node)] = node
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                node = running.pop(future)
                try:
                    succeeded = future.result()
                except Exception as error:
                    on_error(node, error)
                    succeeded = False
                if succeeded:
                    done.add(node)
                else:
                    failed = True
    return not failed and len(done) == len(ordered)


def dependents(states: Mapping[str, list[str]]) -> dict[str, set[str]]:
    """For deleting in reverse dependency order: each node's prerequisites are the nodes that depend on it
    (``states``: each node's direct dependencies)."""
    return {node: {other for other, deps in states.items() if node in deps} for node in states}
