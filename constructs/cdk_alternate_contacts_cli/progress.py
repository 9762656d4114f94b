"""Progress of a long run on stderr (``checked 120/1000 accounts``), kept out of the report on stdout.

On a terminal the line is rewritten in place and only appears once a run has lasted a moment, so quick runs
stay quiet; it is erased at the end. Elsewhere (a CI log) nothing is shown unless ``--progress`` asks for it;
then a line is written every few seconds, and once at the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """Counts finished items and shows ``<verb> <done>/<total> <noun>``.

    Parameters
    ----------
    stream:
        Where to write (stderr).
    total, verb, noun:
        ``checked``, ``accounts``: what the line says.
    enabled:
        Whether to show anything.
    interactive:
        Rewrite one line in place (a terminal) rather than append lines (a log).
    delay_s:
        On a terminal, how long a run lasts before the line appears.
    interval_s:
        The least time between two writes: a tenth of a second on a terminal, seconds in a log.
    """

    def __init__(
        self,
        stream: TextIO,
        total: int,
        *,
        verb: str,
        noun: str,
        enabled: bool,
        interactive: bool,
        delay_s: float = 0.5,
        interval_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.total = total
        self.verb = verb
        self.noun = noun
        self.enabled = enabled and total > 0
        self.interactive = interactive
        self.interval_s = interval_s if interval_s is not None else (0.1 if interactive else 5.0)
        self.done = 0
        self._clock = clock
        self._started = clock()
        self._quiet_until = self._started + (delay_s if interactive else 0.0)
        self._last_write: float | None = None
        self._shown = False
        self._lock = threading.Lock()

    def text(self) -> str:
        """The current line: ``checked 120/1000 accounts``."""
        return f"{self.verb} {self.done}/{self.total} {self.noun}"

    def advance(self, count: int = 1) -> None:
        """Record ``count`` more finished items; write the line if it is time to."""
        with self._lock:
            self.done += count
            if not self.enabled:
                return
            now = self._clock()
            due = self._last_write is None or now - self._last_write >= self.interval_s
            if now >= self._quiet_until and due and self.done < self.total:
                self._write()
                self._last_write = now

    def close(self) -> None:
        """End the progress display: erase the terminal line, or write the final count to the log."""
        with self._lock:
            if not self.enabled:
                return
            if self.interactive:
                if self._shown:
                    self.stream.write("\r\x1b[K")
                    self.stream.flush()
            else:
                self._write()

    def _write(self) -> None:
        if self.interactive:
            self.stream.write(f"\r\x1b[K{self.text()}")
        else:
            self.stream.write(self.text() + "\n")
        self.stream.flush()
        self._shown = True
