"""The CLI as a separate process: a closed pipe and Ctrl-C end it quietly, with what the
user needs to know."""

from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np

from videosearch.client.indexer import IndexerClient
from videosearch.indexer.types import JobState
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings

from tests.cli.conftest import make_video
from tests.searcher.searcher_testlib import make_scenes as fake_scenes
from tests.searcher.searcher_testlib import make_video as fake_video
from tests.searcher.searcher_testlib import random_unit


# A test runner started in the background by a shell without job control (`cmd &`, nohup, some
# CI runners) inherits SIGINT ignored, and so would the CLI: Python keeps an inherited "ignore",
# as Unix programs should. The CLI under test runs as from a terminal, where Ctrl-C is delivered:
# Python's own KeyboardInterrupt handler is put back before `python -m videosearch_cli.main` runs.
# Not with preexec_fn: that forks this process, whose gRPC servers are live, and runs Python in
# the child before exec, where grpcio (1.80+) may restart its poller on an epoll fd that
# close_fds has closed and abort (SIGABRT, "epoll_wait error: Bad file descriptor";
# grpc/grpc#43055). Without preexec_fn, Popen execs straight from vfork.
AS_FROM_A_TERMINAL = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                      "runpy.run_module('videosearch_cli.main', run_name='__main__', alter_sys=True)")


def start_cli(services, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", AS_FROM_A_TERMINAL, *services.addresses, *args],
                            stderr=subprocess.PIPE, text=True, **popen)


def test_a_reader_that_stops_early_gets_no_traceback(services):
    make_video(services.videos / "pipe" / "one.mp4", seed=11)
    assert start_cli(services, "index", str(services.videos / "pipe"), stdout=subprocess.DEVNULL).wait(120) == 0
    for args in (["videos", "list"], ["search", "a red circle", "--json"], ["jobs", "list", "--json"]):
        # As `videosearch ... | head -0` does: the reader is gone before the first line.
        process = start_cli(services, *args, stdout=subprocess.PIPE)
        process.stdout.close()
        err = process.stderr.read()
        assert process.wait(60) == 1, err  # as rich's Console exits on a closed pipe
        assert "Traceback" not in err and "Exception ignored" not in err and "BrokenPipe" not in err, err


def test_a_reader_through_head_gets_the_first_line_and_no_traceback(tmp_path):
    # Far more output than a pipe holds, so the CLI is still writing when head leaves.
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path / "searcher"), ann="none"))
    try:
        rng = np.random.default_rng(0)
        with SearcherClient(searcher.address) as client:
            for i in range(400):
                client.upsert_video(fake_video(f"{i:016x}", 1), fake_scenes(1), random_unit(rng, 1))
        shell = f"{sys.executable} -m videosearch_cli.main --searcher-address {searcher.address} videos list --all --json"
        result = subprocess.run(["sh", "-c", shell + " | head -1"], capture_output=True, text=True, timeout=120)
    finally:
        searcher.stop(0)
    assert result.stdout == "{\n" and result.stderr == "", result.stderr


def test_ctrl_c_while_indexing_names_the_running_jobs_and_how_to_cancel_them(services):
    path = make_video(services.videos / "interrupt" / "held.mp4", seed=13)
    services.clip.entered.clear()
    services.clip.gate.clear()  # the job stays in its embedding stage until the test opens the gate
    try:
        process = start_cli(services, "index", str(path), stdout=subprocess.PIPE)
        assert services.clip.entered.wait(120), "the job reached embedding"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130, err
        assert "Traceback" not in err, err
        assert "interrupted: 1 job still run" in err and str(path) in err
        job_id = err.split("videosearch jobs cancel ")[1].split()[0]
        with IndexerClient(services.indexer) as indexer:
            assert indexer.get(job_id).state is JobState.RUNNING, "Ctrl-C leaves the job running"
            assert indexer.get(job_id).path == str(path)
            cancel = start_cli(services, "jobs", "cancel", job_id, stdout=subprocess.PIPE)
            assert cancel.wait(60) == 0
            assert f"{job_id}: running (stopping)" in cancel.stdout.read()
            services.clip.gate.set()
            *_, last = indexer.watch(job_id)
            assert last.state is JobState.CANCELLED
    finally:
        services.clip.gate.set()
