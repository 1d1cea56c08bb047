"""`make demo` hands over (issue 24 part 1): a small showcase run with its ports moved shows
progress while it makes videos, keeps ffmpeg/OpenCV chatter off the terminal, writes H.264
that browsers play, and ends with the command and exports that bring its index back; that
command, run as printed, serves the demo's index to the CLI. `videosearch-up` shows its
defaults in --help, reads its ports from the environment, prints the CLI's exports for
non-default ports and removes its temporary port-file folder."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.timeout(600)
DEMO_MODEL = REPO_ROOT / "models" / "demo-clip"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env_with_repo() -> dict[str, str]:
    paths = [str(REPO_ROOT / "services"), str(REPO_ROOT / "clients"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p), "VIDEOSEARCH_EMBEDDER_DEVICE": "cpu",
            "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    ports = {name: free_port() for name in ("searcher", "indexer", "web")}
    result = subprocess.run(
        [sys.executable, "-m", "videosearch.demo.showcase", "--out", str(out), "--videos", "1", "--scenes-per-video", "2",
         "--no-long-take", "--no-talking", "--no-serve", "--query", "a red circle", "--model", str(DEMO_MODEL),
         "--searcher-port", str(ports["searcher"]), "--indexer-port", str(ports["indexer"]), "--web-port", str(ports["web"])],
        capture_output=True, text=True, timeout=500, env=env_with_repo(), cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, ports, result


def test_the_demo_shows_progress_and_no_codec_chatter(demo_run):
    _, _, result = demo_run
    assert re.search(r"^  1/1 demo_000\.mp4: \d+ frames, 2 scenes \(", result.stdout, re.M), result.stdout
    for noise in ("OpenCV", "FFMPEG", "ffmpeg version", "x264 ["):
        assert noise not in result.stdout + result.stderr


def test_demo_videos_are_h264_that_browsers_play(demo_run):
    out, _, _ = demo_run
    video = out / "videos" / "demo_000.mp4"
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
    head = video.read_bytes()[:1 << 16]
    assert 0 <= head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head, "+faststart: the index comes first"


def test_the_last_lines_bring_the_demo_index_back(demo_run):
    out, ports, result = demo_run
    lines = result.stdout.strip().splitlines()
    tail = lines[max(i for i, line in enumerate(lines) if line.startswith("done;")):]
    assert f"http://127.0.0.1:{ports['web']}/" in tail[0] and f"open http://127.0.0.1:{ports['web']}/" in "".join(tail)
    command = next(line.strip() for line in tail if "videosearch-up" in line)
    assert f"--searcher-port {ports['searcher']}" in command and f"--web-port {ports['web']}" in command
    assert f"--data-dir {shlex.quote(str(out / 'data'))}" in command or "--data-dir " in command
    exports = dict(line.strip().removeprefix("export ").split("=", 1) for line in tail if "export " in line)
    assert exports == {"VIDEOSEARCH_INDEXER_ADDRESS": f"127.0.0.1:{ports['indexer']}",
                       "VIDEOSEARCH_SEARCHER_ADDRESS": f"127.0.0.1:{ports['searcher']}"}

    # Run the printed command as printed (the embedder on a free port: the default may be taken here).
    argv = [*shlex.split(command), "--embedder-port", str(free_port())]
    argv[0] = str(Path(argv[0]).resolve()) if Path(argv[0]).exists() else argv[0]
    if not Path(argv[0]).exists():
        argv[:1] = [sys.executable, "-m", "videosearch.launcher"]
    launcher = subprocess.Popen(argv, cwd=REPO_ROOT, env=env_with_repo(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    try:
        printed = []
        for line in launcher.stdout:
            printed.append(line)
            if line.startswith("ready"):
                break
        assert any(line.strip() == f"export VIDEOSEARCH_SEARCHER_ADDRESS=127.0.0.1:{ports['searcher']}"
                   for line in printed), "videosearch-up prints the CLI's exports for non-default ports"
        stats = subprocess.run([sys.executable, "-m", "videosearch_cli.main", "stats", "--json"], capture_output=True,
                               text=True, timeout=60, env={**env_with_repo(), **exports})
        assert stats.returncode == 0, stats.stderr
        assert '"video_count": 1' in stats.stdout, "the demo's index is back"
    finally:
        launcher.terminate()
        launcher.wait(timeout=60)


def test_videosearch_up_help_shows_defaults_and_environment_variables():
    shown = subprocess.run([sys.executable, "-m", "videosearch.launcher", "--help"], capture_output=True, text=True,
                           timeout=60, env={**env_with_repo(), "COLUMNS": "200"}).stdout
    for expected in ("(default: 50051)", "(default: 8080)", "VIDEOSEARCH_SEARCHER_PORT", "VIDEOSEARCH_WEB_PORT",
                     "(default: data)"):
        assert expected in shown, shown


def test_videosearch_up_reads_ports_from_the_environment_and_cleans_up(tiny_clip_dir, tmp_path):
    searcher, indexer = free_port(), free_port()
    env = {**env_with_repo(), "VIDEOSEARCH_SEARCHER_PORT": str(searcher), "VIDEOSEARCH_INDEXER_PORT": str(indexer),
           "VIDEOSEARCH_EMBEDDER_PORT": "0", "VIDEOSEARCH_WEB_PORT": "-1"}
    launcher = subprocess.Popen(
        [sys.executable, "-m", "videosearch.launcher", "--model", str(tiny_clip_dir), "--data-dir", str(tmp_path / "d"),
         "--log-dir", str(tmp_path / "logs"), "--allowed-roots", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        printed = []
        for line in launcher.stdout:
            printed.append(line)
            if line.startswith("ready"):
                break
        text = "".join(printed)
        assert f"searcher  127.0.0.1:{searcher}  SERVING" in text and f"indexer   127.0.0.1:{indexer}  SERVING" in text, text
        assert f"export VIDEOSEARCH_SEARCHER_ADDRESS=127.0.0.1:{searcher}" in text
        assert f"export VIDEOSEARCH_INDEXER_ADDRESS=127.0.0.1:{indexer}" in text
        assert "web page" not in text
        # Where the children's port files are: from a child's own command line.
        pid = int(re.search(r"searcher .* \(pid (\d+)\)", text)[1])
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        port_files = Path(argv[argv.index("--port-file") + 1]).parent
        assert port_files.is_dir() and Path(tempfile.gettempdir()) in port_files.parents
    finally:
        launcher.terminate()
        code = launcher.wait(timeout=60)
    assert code == 0, launcher.stderr.read()
    assert not port_files.exists(), "the temporary port-file folder is gone after it stops"


def test_the_long_take_reports_its_progress(tmp_path, capsys):
    from videosearch.demo.longtakes import generate_long_take
    from videosearch.demo.showcase import _take_progress

    seen = []
    take = generate_long_take(tmp_path / "take.mp4", ["a red circle", "a blue square"], transitions=["dissolve"],
                              subject_seconds=1.0, transition_seconds=0.5, size=(96, 64),
                              progress=lambda done, total: seen.append((done, total)))
    total = seen[-1][1]
    assert [done for done, _ in seen] == list(range(1, total + 1)) and total == take["frame_count"]
    for done in range(1, total + 1):
        _take_progress(done, total)
    lines = capsys.readouterr().out.splitlines()
    assert 4 <= len(lines) <= 5 and lines[-1] == f"  long take: {total}/{total} frames (100%)"
