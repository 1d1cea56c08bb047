"""CPU priority of background work on a machine that also answers searches.

Indexing (decoding, hashing, CLIP over sampled frames) can take every core for minutes;
a search needs a few milliseconds of them. Linux lets a thread raise its own nice value
(``setpriority`` on its thread id), never lower it without privileges, and threads it
starts later (FFmpeg's decoder threads, for one) inherit it. So background work lowers the
thread it runs on, once, and the scheduler gives searches the cores first while indexing
still uses whatever is idle."""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)
_this_thread = threading.local()  # .lowered: this thread is at its background niceness already


def run_in_background(nice: int) -> None:
    """Raises this thread's nice value to ``nice`` (0: leave it), once per thread."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    if getattr(_this_thread, "lowered", False):
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, max(nice, os.getpriority(os.PRIO_PROCESS, thread)))
    except OSError as exc:  # a container that forbids it: work goes on at normal priority
        log.warning("could not lower the priority of background thread %s: %s", thread, exc)
    _this_thread.lowered = True
