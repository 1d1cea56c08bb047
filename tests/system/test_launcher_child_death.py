"""`videosearch-up` notices a service that dies (issue 7, part 8): a real launcher process
starts the three services; one of them is killed; the launcher says which one, how it
ended and the end of its log, stops the other two, waits on all three (no zombies) and
exits with 1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(300)


def _gone(pid: int) -> bool:
    """No such process any more (a zombie still has /proc/<pid>)."""
    return not Path(f"/proc/{pid}").exists()


def test_a_dead_service_stops_the_launcher_with_a_reason(tiny_clip_dir, tmp_path):
    launcher = subprocess.Popen(
        [sys.executable, "-m", "videosearch.launcher", "--model", str(tiny_clip_dir), "--data-dir", str(tmp_path / "data"),
         "--log-dir", str(tmp_path / "logs"), "--allowed-roots", str(tmp_path), "--embedder-port", "0",
         "--indexer-port", "0", "--searcher-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "VIDEOSEARCH_EMBEDDER_DEVICE": "cpu"})
    try:
        pids = {}
        for line in launcher.stdout:
            if match := re.match(r"\s+(embedder|searcher|indexer)\s+\S+\s+SERVING\s+\(pid (\d+)\)", line):
                pids[match.group(1)] = int(match.group(2))
            if line.startswith("ready"):
                break
        assert set(pids) == {"embedder", "searcher", "indexer"}, f"the launcher did not get ready: {launcher.stderr.read()}"

        killed_at = time.monotonic()
        os.kill(pids["searcher"], signal.SIGKILL)
        code = launcher.wait(timeout=60)
        took = time.monotonic() - killed_at
        err = launcher.stderr.read()
        assert code == 1
        assert f"searcher (pid {pids['searcher']}) was killed by SIGKILL" in err
        assert "searcher.log" in err and "searcher ready on" in err, "the end of the dead service's log"
        assert "stopped the other services" in err
        assert took < 30, f"the launcher took {took:.1f} s to notice"
        for name in ("embedder", "indexer", "searcher"):
            assert _gone(pids[name]), f"{name} (pid {pids[name]}) is still there after the launcher ended"
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
