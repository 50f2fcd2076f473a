"""A batch's progress on stderr: rows decided, the rate and the time left.

One implementation for ``covkb batch`` run here and on Spark (covkb.spark
feeds it from an accumulator its driver polls).  Shown on a terminal only
(a pipe or a log file gets the summary line alone); the bar goes when the
run ends.
"""

from __future__ import annotations

import sys
import threading
from typing import Any


def input_lines(path: str, csv_header: bool) -> int | None:
    """The lines of a local input file (its records: a CSV header not
    counted), for the time left; None for stdin or anything not a file."""
    import os

    if path == "-" or "://" in path or not os.path.isfile(path):
        return None
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            n += block.count(b"\n")
            last = block[-1:]
    n += last != b"\n"
    return max(0, n - csv_header)


class Progress:
    """Call it with the number of rows just decided; ``close()`` at the end."""

    def __init__(self, total: int | None = None) -> None:
        self.total, self.done = total, 0
        self._bar: Any = None
        self._task: Any = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, ProgressColumn, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)
        from rich.progress import Progress as Bar
        from rich.text import Text

        class Rate(ProgressColumn):
            def render(self, task: Any) -> Text:
                return Text(f"{task.speed or 0:,.0f} lines/s")

        self._bar = Bar(TextColumn("deciding"), BarColumn(), MofNCompleteColumn(), Rate(), TimeElapsedColumn(),
                        TextColumn("left"), TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task("lines", total=self.total)

    def __call__(self, rows: int) -> None:
        with self._lock:
            if self._bar is None:
                self._start()
            self.done += rows
            self._bar.update(self._task, completed=min(self.done, self.total or self.done))

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.stop()
                self._bar = None


def batch_progress(input_path: str, csv_header: bool) -> Progress | None:
    """The progress of a batch run from input_path, or None when stderr is no terminal."""
    if not sys.stderr.isatty():
        return None
    return Progress(input_lines(input_path, csv_header))
