"""One progress line over a sweep: runs done of total, elapsed time and ETA."""

import sys
import time


class Progress:
    """Redraws `sweeper: 12/256 runs [###  ] 5s, ETA 20s` on a terminal, else quiet."""

    def __init__(self, total: int, stream=sys.stderr, width: int = 24):
        self.total, self.done, self.width = total, 0, width
        self.stream = stream
        self.live = hasattr(stream, "isatty") and stream.isatty()
        self.start = time.perf_counter()
        self._draw()

    def update(self, runs: int) -> None:
        """Count `runs` more runs as finished."""
        self.done += runs
        self._draw()
        if self.live and self.done >= self.total:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        if not self.live:
            return
        elapsed = time.perf_counter() - self.start
        filled = self.width * self.done // max(self.total, 1)
        bar = "#" * filled + " " * (self.width - filled)
        eta = ""
        if 0 < self.done < self.total:
            eta = f", ETA {elapsed * (self.total - self.done) / self.done:.0f}s"
        line = f"sweeper: {self.done}/{self.total} runs [{bar}] {elapsed:.0f}s{eta}"
        self.stream.write("\r" + line)
        self.stream.flush()
