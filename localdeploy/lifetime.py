"""Things made of parts that start one after another and stop in reverse order (a local cloud, a test
harness): the one start, stop and ``with`` of them."""

from __future__ import annotations

import contextlib
from typing import Self


class Assembled:
    """Starts its parts in :meth:`_start_parts`, each registering how it stops on ``self._stack``; a part
    that fails to start stops the ones before it."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> Self:
        """Start every part; on any failure, stop what had started and re-raise."""
        try:
            self._start_parts()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_parts(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Stop every part that started, the last one first."""
        self._stack.close()
