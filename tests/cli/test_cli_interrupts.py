"""Ctrl-C between the CLI's calls, with real signals: none may be lost.

The CLI holds a Ctrl-C while a submission is in flight (so an accepted job's id is never lost) and
looks at it after each one. A Ctrl-C after the last look, before the handler was restored, used to
be swallowed: the CLI then went on watching the jobs as if none came (a CI run on a loaded machine
caught it through test_cli_process.py's Ctrl-C test)."""

from __future__ import annotations

import os
import signal
import threading

import pytest
from videosearch_cli.indexing import interrupt_between_calls


def test_a_ctrl_c_after_the_last_look_is_raised_when_the_calls_end():
    previous = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with interrupt_between_calls() as interrupted:
            assert not interrupted()  # the body's last look: nothing yet
            os.kill(os.getpid(), signal.SIGINT)  # ...then Ctrl-C, before the handler is restored
            assert interrupted()  # held, not raised, while the calls run
    assert signal.getsignal(signal.SIGINT) is previous


def test_a_ctrl_c_the_body_handled_is_not_raised_again():
    class Handled(Exception):
        pass

    with pytest.raises(Handled):
        with interrupt_between_calls() as interrupted:
            os.kill(os.getpid(), signal.SIGINT)
            assert interrupted()
            raise Handled  # as index_files raises Interrupted(jobs)


def test_no_ctrl_c_no_interrupt():
    with interrupt_between_calls() as interrupted:
        assert not interrupted()


def test_off_the_main_thread_signals_are_not_touched():
    seen = []

    def body():
        with interrupt_between_calls() as interrupted:
            seen.append(interrupted())

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [False]
