"""Retry with backoff within a bound, and the circuit breaker, on a fake clock."""

from __future__ import annotations

import pytest
from videosearch.common.errors import InvalidArgument, Unavailable
from videosearch.common.resilience import CircuitBreaker, RetryPolicy


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def flaky(failures: int, error=Unavailable):
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= failures:
            raise error("down")
        return "ok"

    return call, calls


def test_retry_goes_on_when_the_dependency_is_back_within_the_bound():
    clock = FakeClock()
    call, calls = flaky(5)
    retries = []
    result = RetryPolicy(total_s=60, first_delay_s=0.2, max_delay_s=5).call(
        call, clock=clock, sleep=clock.sleep, on_retry=lambda exc, pause: retries.append(pause))
    assert result == "ok" and len(calls) == 6 and len(retries) == 5
    assert all(0 <= pause <= 5 for pause in clock.sleeps)


def test_retry_gives_up_after_the_bound_and_never_retries_other_errors():
    clock = FakeClock()
    call, calls = flaky(10_000)
    with pytest.raises(Unavailable):
        RetryPolicy(total_s=60, first_delay_s=1, max_delay_s=5).call(call, clock=clock, sleep=clock.sleep)
    assert clock.now == pytest.approx(60.0) and len(calls) > 10
    bad, bad_calls = flaky(1, InvalidArgument)
    with pytest.raises(InvalidArgument):
        RetryPolicy().call(bad, clock=clock, sleep=clock.sleep)
    assert len(bad_calls) == 1


def test_retry_stops_when_the_job_is_cancelled():
    clock = FakeClock()
    call, calls = flaky(100)
    with pytest.raises(Unavailable):
        RetryPolicy().call(call, clock=clock, sleep=clock.sleep, should_stop=lambda: len(calls) >= 3)
    assert len(calls) == 3


def test_breaker_opens_fails_fast_then_one_trial_closes_it():
    clock = FakeClock()
    breaker = CircuitBreaker("embedder at x", failures_to_open=3, open_s=5.0, clock=clock)
    down, down_calls = flaky(10_000)
    for _ in range(3):
        with pytest.raises(Unavailable, match="down"):
            breaker.call(down)
    assert breaker.is_open and len(down_calls) == 3
    with pytest.raises(Unavailable, match="circuit breaker open"):
        breaker.call(down)
    assert len(down_calls) == 3, "an open breaker does not call the dependency"
    clock.now += 5.0
    with pytest.raises(Unavailable, match="down"):
        breaker.call(down)  # the trial fails: open again at once
    assert len(down_calls) == 4 and breaker.is_open
    with pytest.raises(Unavailable, match="circuit breaker open"):
        breaker.call(down)
    clock.now += 5.0
    assert breaker.call(lambda: "back") == "back" and not breaker.is_open


def test_an_answer_with_an_error_about_the_request_counts_as_up():
    breaker = CircuitBreaker("searcher", failures_to_open=2, open_s=5.0, clock=FakeClock())
    down, _ = flaky(1)
    with pytest.raises(Unavailable):
        breaker.call(down)
    bad, _ = flaky(1, InvalidArgument)
    with pytest.raises(InvalidArgument):
        breaker.call(bad)
    with pytest.raises(Unavailable):
        breaker.call(flaky(1)[0])
    assert not breaker.is_open, "failures must be in a row"


def test_a_call_begun_before_the_breaker_opened_cannot_close_it():
    """A quick call in flight while slow ones fail (a model-info call beside stalled text
    queries) comes back well after the breaker opened: the breaker stays open."""
    import threading

    clock = FakeClock()
    breaker = CircuitBreaker("embedder at x", failures_to_open=3, open_s=60.0, clock=clock)
    started, release = threading.Event(), threading.Event()

    def quick_but_late():
        started.set()
        release.wait(10)
        return "info"

    results = []
    thread = threading.Thread(target=lambda: results.append(breaker.call(quick_but_late)))
    thread.start()
    assert started.wait(10)
    down, _ = flaky(10_000)
    for _ in range(3):
        with pytest.raises(Unavailable, match="down"):
            breaker.call(down)
    assert breaker.is_open
    release.set()
    thread.join(10)
    assert results == ["info"]
    assert breaker.is_open, "the late answer of a call begun while closed must not close the breaker"
    with pytest.raises(Unavailable, match="circuit breaker open"):
        breaker.call(down)
    clock.now += 60.0
    assert breaker.call(lambda: "back") == "back" and not breaker.is_open, "a trial begun while open still closes it"
