"""A one-line progress display on a terminal (rows, rate, ETA); nothing at all in a pipe."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _thousands(number: float) -> str:
    return f"{int(number):,}".replace(",", "\u202f")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


class TerminalProgress:
    """Call with (rows, bytes read, total bytes); redraws at most five times a second."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.interval = interval
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, rows: int, done: int, total: int) -> None:
        current = time.monotonic()
        finished = total > 0 and done >= total
        if not self.enabled or (current - self.last < self.interval and not finished):
            return
        self.last = current
        elapsed = max(current - self.started, 1e-6)
        fraction = min(done / total, 1.0) if total else 0.0
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else 0.0
        width = 24
        filled = int(width * fraction)
        bar = "█" * filled + "·" * (width - filled)
        line = (
            f"\r{bar} {round(fraction * 100):3d} %  {_thousands(rows)} lignes  "
            f"{_thousands(rows / elapsed)} lignes/s  reste {_duration(eta)}   "
        )
        self.stream.write(line)
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
