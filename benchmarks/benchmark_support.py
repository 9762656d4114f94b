"""What the benchmarks share: the machine and the code they measured, the processes' CPU time and peak
memory (read from ``/proc``), and the printing of figures.

Imported by the benchmarks run as scripts (``python benchmarks/fanout.py``: this folder is on ``sys.path``);
the standard library only, so that it loads before a benchmark sets up the paths and the jsii runtime.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections import Counter
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def python_version() -> str:
    """``python 3.11.7``: the interpreter the figures were measured with."""
    return f"python {platform.python_version()}"


def cores() -> str:
    """``2 cores``: what the machine could run at once."""
    return f"{os.cpu_count()} cores"


def load(minutes: int = 3) -> str:
    """The load averages over 1, 5 and 15 minutes (``minutes=1``: only the first), ``?`` where unknown."""
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg()[:minutes])
    except OSError:
        return "?"


def cdk_version() -> str:
    """The installed aws-cdk-lib's version, ``?`` when it is not installed."""
    try:
        return version("aws-cdk-lib")
    except PackageNotFoundError:
        return "?"


def handler_version() -> str:
    """The commit the handler code comes from, and whether the working tree changes it."""
    commit = subprocess.run(
        ["git", "log", "-1", "--format=%h", "--", "handler"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "handler"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    return f"{commit or 'unknown'}{' + uncommitted changes' if dirty else ''}"


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU seconds of live processes (and of their waited-for children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])
    return total / ticks


def high_water_kib(pid: int) -> int:
    """A live process's peak resident memory (VmHWM), in KiB; 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants_of(pid: int) -> list[int]:
    """The live descendants of ``pid``: for a synthesizing process, jsii's runtime and the Node process it starts."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent]
        found += children
        frontier += children
    return found


def print_outcome(line: str, reasons: Counter[str], most: int) -> None:
    """One run's figures, and under them its ``most`` most common failure reasons, counted."""
    print(line, flush=True)
    for reason, count in reasons.most_common(most):
        print(f"      {count} x {reason}")


def print_table(
    rows: Sequence[Sequence[str]],
    *,
    widths: Sequence[int] | None = None,
    justify: Callable[[str, int], str] = str.rjust,
) -> None:
    """Rows of cells (the header first) in columns two spaces apart.

    Parameters
    ----------
    widths:
        Each column's width. Default: its widest cell.
    justify:
        How a cell fills its width: ``str.rjust`` (numbers, the default) or ``str.ljust``.
    """
    widths = widths or [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
    for row in rows:
        print("  ".join(justify(cell, width) for cell, width in zip(row, widths, strict=True)))
