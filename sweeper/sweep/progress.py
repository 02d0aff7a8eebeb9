"""One progress line over a sweep's training: groups and runs done, elapsed, ETA.

A group's runs finish together, at the end of one compiled program, so the line counts
groups as well as runs, and says which groups are compiling or training. The ETA comes
from the planner's estimate of each group's seconds (`plan.seconds`), scaled by how
long the finished groups took against their estimates: groups differ too much in cost
for runs done to predict the rest. Until the first group ends there is no ETA.
"""

import sys
import threading
import time


class Progress:
    """Redraws `sweeper: 2 of 4 groups compiling or training, 1 done; 64/256 runs
    [##  ] 5s, ETA ~20s` on a terminal, on a line of its own; says nothing elsewhere."""

    def __init__(
        self, costs: list[float], sizes: list[int], done: int = 0, stream=None
    ):
        self.costs, self.sizes = costs, sizes  # per group: estimated seconds, runs
        self.total = done + sum(sizes)  # runs, those done by an earlier sweep included
        self.done, self.running, self.finished = done, set(), set()
        self.stream = sys.stderr if stream is None else stream
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.width = 24
        self._lock = threading.Lock()  # the ticker and the sweep's events both draw
        self._closed = not self.live
        self._draw()
        if not self._closed and sizes:  # the seconds tick on while programs compile
            threading.Thread(target=self._tick, daemon=True).start()

    def started(self, group: int) -> None:
        """Group `group` is handed to a worker (it compiles, then trains)."""
        self.running.add(group)
        self._draw()

    def finished_group(self, group: int) -> None:
        """Group `group` ended, its runs' files written."""
        self.running.discard(group)
        self.finished.add(group)
        self.done += self.sizes[group]
        self._draw()
        if len(self.finished) == len(self.sizes):
            with self._lock:
                if not self._closed:
                    self.stream.write("\n")  # what follows starts below the line
                    self.stream.flush()
                self._closed = True

    def eta(self) -> float | None:
        """Seconds left, or None before any group has finished."""
        if not self.finished:
            return None
        spent = time.perf_counter() - self.start
        estimated = sum(self.costs[g] for g in self.finished)
        left = sum(c for g, c in enumerate(self.costs) if g not in self.finished)
        return spent * left / estimated if estimated > 0 else None

    def _tick(self) -> None:
        while not self._closed:
            time.sleep(1.0)
            self._draw()

    def _draw(self) -> None:
        with self._lock:
            if self._closed:
                return
            elapsed = time.perf_counter() - self.start
            filled = self.width * self.done // max(self.total, 1)
            bar = "#" * filled + " " * (self.width - filled)
            eta = self.eta()
            eta = "" if eta is None or not self.running else f", ETA ~{eta:.0f}s"
            running, groups = len(self.running), len(self.sizes)
            line = (
                f"sweeper: {running} of {groups} groups compiling or training, "
                f"{len(self.finished)} done; {self.done}/{self.total} runs [{bar}] "
                f"{elapsed:.0f}s{eta}"
            )
            self.stream.write("\r\x1b[2K" + line)  # clear first: it may be shorter
            self.stream.flush()
