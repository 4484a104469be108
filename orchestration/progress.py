"""Progress of the long commands (generate, land, build, erase) on stderr, so stdout keeps results.

On a terminal, one bar redrawn in place; anywhere else (a log file, CI, a pipe), a plain line at
most every `every` seconds, so a long run shows it is alive without flooding its log. Both end
with one line saying how far it got and how long it took.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 30
# dbt's own counter, on every node it finishes: "12 of 617 OK created sql table model ...".
DBT_RESULT = re.compile(r"\b(\d+) of (\d+) (?:OK|PASS|WARN|ERROR|FAIL|SKIP|NO-OP)\b")


class Progress:
    def __init__(
        self,
        label: str,
        total: int,
        unit: str = "steps",
        stream: TextIO | None = None,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label, self.total, self.unit = label, total, unit
        self.done, self.note = 0, ""
        self.stream = stream or sys.stderr
        self.every, self.clock = every, clock
        self.started = self.shown = clock()
        self.on_terminal = self.stream.isatty()

    def _line(self) -> str:
        share = self.done / self.total if self.total else 1.0
        counts = f"{self.done:,}/{self.total:,} {self.unit} ({share:.0%})"
        note = f"  {self.note}" if self.note else ""
        if self.on_terminal:
            filled = round(BAR_WIDTH * min(share, 1.0))
            return f"{self.label} [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {counts}{note}"
        return f"{self.label}: {counts}, {self.clock() - self.started:.0f} s{note}"

    def update(self, done: int | None = None, note: str | None = None, advance: int = 0) -> None:
        self.done = min((self.done if done is None else done) + advance, self.total)
        if note is not None:
            self.note = note
        if self.on_terminal:
            self.stream.write("\r\033[K" + self._line())
            self.stream.flush()
        elif self.clock() - self.shown >= self.every:
            self.shown = self.clock()
            self.stream.write(self._line() + "\n")
            self.stream.flush()

    def close(self) -> None:
        elapsed = self.clock() - self.started
        end = f"{self.label}: {self.done:,}/{self.total:,} {self.unit} in {elapsed:.1f} s"
        self.stream.write(("\r\033[K" if self.on_terminal else "") + end + "\n")
        self.stream.flush()


def dbt_counts(text: str) -> tuple[int, int] | None:
    """(nodes finished, nodes in the build) when `text` is a line of dbt's log reporting a result."""
    match = DBT_RESULT.search(text)
    return (int(match[1]), int(match[2])) if match else None


def dbt_nodes_as_note(progress: Progress) -> Callable[[str], None]:
    """A handler of dbt's log lines that shows its node count beside `progress`'s own count."""

    def on_line(text: str) -> None:
        if counts := dbt_counts(text):
            progress.update(note=f"dbt {counts[0]:,}/{counts[1]:,} nodes")

    return on_line
