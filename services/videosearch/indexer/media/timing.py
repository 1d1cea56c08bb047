"""Busy time per indexing stage, for the job's report and the indexing benchmark."""

from __future__ import annotations

import contextlib
import threading
import time


class StageClock:
    """Busy seconds per stage, summed over the threads doing the work: stages that
    overlap in time (decoding runs beside detection) can add up to more than the wall time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @contextlib.contextmanager
    def timing(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - started)
