"""Calls to another service that is briefly away: retry with backoff within a bound, or
stop calling it for a while (a circuit breaker) so that callers fail fast instead of
piling up behind a dependency that does not answer.

* The Indexer retries its Embedder and Searcher calls: a job goes on when the dependency
  is back within ``RetryPolicy.total_s`` (a minute by default) instead of failing at once.
* The Searcher puts a breaker in front of the Embedder: when text queries keep failing,
  the next ones are refused at once with UNAVAILABLE for ``open_s`` seconds, so they
  neither wait for their deadline nor hold server threads that vector search and health
  need; one trial call then decides whether to close the breaker again.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from videosearch.common.errors import DeadlineExceeded, Unavailable

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in total time."""

    total_s: float = 60.0
    first_delay_s: float = 0.2
    max_delay_s: float = 5.0

    def call(
        self,
        fn: Callable[[], T],
        *,
        should_stop: Callable[[], bool] = lambda: False,
        on_retry: Callable[[Exception, float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> T:
        """Calls ``fn`` until it returns, raises something other than Unavailable, or
        ``total_s`` has passed (then the last Unavailable is raised). ``should_stop`` is
        asked between tries (a cancelled job stops retrying)."""
        deadline = clock() + self.total_s
        delay = self.first_delay_s
        while True:
            try:
                return fn()
            except Unavailable as exc:
                remaining = deadline - clock()
                if remaining <= 0 or should_stop():
                    raise
                pause = min(random.uniform(0, delay), remaining)
                if on_retry is not None:
                    on_retry(exc, pause)
                sleep(pause)
                delay = min(delay * 2, self.max_delay_s)


class CircuitBreaker:
    """Closed: calls go through. After ``failures_to_open`` Unavailable failures in a row it
    opens: calls fail at once for ``open_s``. Then one trial call goes through (half-open):
    success closes it, failure opens it again. Only a call begun since the breaker last opened
    can close it: one begun before (a quick model-info call that was in flight while text
    queries timed out) reports on the dependency as it was, not as it is."""

    def __init__(
        self, name: str, *, failures_to_open: int = 3, open_s: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self._failures_to_open = failures_to_open
        self._open_s = open_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self._times_opened = 0

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None

    def call(self, fn: Callable[[], T]) -> T:
        opened_before = self._before_call()
        try:
            result = fn()
        except DeadlineExceeded:
            self._record(failed=None, opened_before=opened_before)  # the caller gave up first: says nothing
            raise
        except Unavailable:
            self._record(failed=True, opened_before=opened_before)
            raise
        except Exception:
            # It answered (with an error about the request): it is up.
            self._record(failed=False, opened_before=opened_before)
            raise
        self._record(failed=False, opened_before=opened_before)
        return result

    def _before_call(self) -> int:
        """How many times the breaker had opened when this call began (see _record)."""
        with self._lock:
            if self._opened_at is None:
                return self._times_opened
            waited = self._clock() - self._opened_at
            if waited >= self._open_s and not self._trial_running:
                self._trial_running = True  # half-open: this call is the trial
                return self._times_opened
            retry_in = max(0.0, self._open_s - waited)
            raise Unavailable(
                f"{self.name} failed {self._failures} times in a row; not calling it for {retry_in:.1f} s more "
                "(circuit breaker open); retry then, or check that it is running"
            )

    def _record(self, *, failed: bool | None, opened_before: int) -> None:
        with self._lock:
            was_trial, self._trial_running = self._trial_running, False
            if failed is None:
                return
            if failed:
                self._failures += 1
                if was_trial or self._failures >= self._failures_to_open:
                    if self._opened_at is None:
                        self._times_opened += 1
                    self._opened_at = self._clock()
            elif opened_before == self._times_opened:
                self._failures = 0
                self._opened_at = None
            # else: a call that began before the breaker last opened came back well (a cheap call
            # answered while the expensive ones stall): stale news, which must not close it.
