"""The caller's deadline, passed on to the calls a server makes for it.

The server sets it for the duration of each RPC (videosearch.common.rpc_handlers); a
client that calls another service for that RPC asks :func:`timeout_for` instead of using
its own timeout alone, so a caller who gives up after 0.5 s does not leave the server
waiting 30 s on a dependency (holding a slot that other callers need)."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager

from videosearch.common.errors import DeadlineExceeded

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("videosearch_call_deadline", default=None)


@contextmanager
def caller_deadline(time_remaining: float | None) -> Iterator[None]:
    """Within the block, :func:`timeout_for` is bounded by ``time_remaining`` seconds from now
    (None: the caller set no deadline)."""
    token = _deadline.set(None if time_remaining is None else time.monotonic() + time_remaining)
    try:
        yield
    finally:
        _deadline.reset(token)


def set_for_this_task(time_remaining: float | None) -> None:
    """:func:`caller_deadline` for an asyncio task that serves one RPC: its context ends with it,
    so nothing needs resetting (an async generator may even be closed from another context)."""
    _deadline.set(None if time_remaining is None else time.monotonic() + time_remaining)


def remaining() -> float | None:
    """Seconds left until the current caller's deadline; None without one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def timeout_for(own_timeout: float) -> float:
    """The timeout of a downstream call: ``own_timeout``, or less if the caller's deadline is
    nearer. Raises DeadlineExceeded when it has already passed (no point calling)."""
    left = remaining()
    if left is None:
        return own_timeout
    if left <= 0:
        raise DeadlineExceeded(
            "the caller's deadline passed before the call to another service; retry with a longer deadline"
        )
    return min(own_timeout, left)
