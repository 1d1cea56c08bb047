"""The library bench's cheap files (segments repeated by stream copy) and its resumable store
(bench/index/library_files.py, bench/index/library.py), on a library seconds long."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import av
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path[:0] = [str(BENCH / "index"), str(BENCH)]
import library  # noqa: E402
import library_files  # noqa: E402


@pytest.fixture(scope="module")
def files():
    made, _ = library_files.available()
    return {f.name: f for f in made}


def frame_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(frame.time) for frame in container.decode(video=0)]


@pytest.mark.parametrize("name", ["h264-main-720p-2M-audio", "h264-high-1080p-8M-vfr", "mpeg4-part2-720p-8M-audio"])
def test_a_file_is_its_segment_repeated_with_continuous_timestamps(shared_videos, files, tmp_path, name):
    path = library_files.make(files[name], 5.5, tmp_path, segment_seconds=2.0)  # 3 segments of 1.83 s
    (made,) = (tmp_path / "segments").glob(f"{name}-*s.mp4")
    segment = frame_times(made)
    times = frame_times(path)
    found = library_files.check_streams(path, 5.5)
    # every packet decodes, in presentation order, none twice, the segments one after another
    assert len(times) == found["frames"] and times == sorted(set(times)) and times[0] >= 0
    assert times[: len(segment)] == pytest.approx(segment)
    step = segment[1] - segment[0]
    assert times[len(segment)] == pytest.approx(segment[-1] + step, abs=step)  # no gap, no overlap at the join
    assert found["video_seconds"] == pytest.approx(5.5, abs=0.1)
    if "vfr" in name:  # frames dropped in the encode: irregular steps kept through the copy
        assert found["step_kinds"] >= 2 and len(times) < 0.75 * 5.5 * 30
    if files[name].audio:
        assert found["audio_seconds"] == pytest.approx(found["video_seconds"], abs=0.1)


def test_check_streams_refuses_a_file_of_another_length(shared_videos, files, tmp_path):
    path = library_files.make(files["h264-high-720p-6M"], 3.0, tmp_path, segment_seconds=2.0)
    with pytest.raises(ValueError, match="asked for"):
        library_files.check_streams(path, 6.0)


def test_resume_skips_stored_jobs_and_the_report_reads_the_store(shared_videos, files, tmp_path, capsys):
    """A store holding every job and decode: --resume measures nothing (no services start) and
    the tables come from the stored figures, whichever session stored them."""
    seconds, store = 3.0, library.Results(tmp_path / "results.json")
    for f in library_files.available()[0]:
        record = {
            "file": f.name,
            "codec": f.codec,
            "video_seconds": seconds,
            "utc": "2026-01-01 00:00:00",
            "load": [1.0, 1.0, 1.0],
            "others_cores": 0.5,
            "commit": "abc1234",
        }
        store.put(
            library.decode_key(f, seconds, 0),
            {**record, "wall": 1.0, "cpu": 1.5, "frames": 90, "seconds": seconds, "whole": True},
        )
        store.put(
            library.job_key(f, seconds, "picture"),
            {**record, "run": "picture", "wall": 0.5, "cpu": 2.0, "stages": {"decode": 0.4}, "text_spans": 0},
        )
    assert json.loads((tmp_path / "results.json").read_text())["results"].keys() == store.items.keys()
    library.main(
        [
            "--seconds",
            "3",
            "--runs",
            "picture",
            "--resume",
            "--results",
            str(tmp_path / "results.json"),
            "--library",
            str(tmp_path / "library"),
        ]
    )
    printed = capsys.readouterr().out
    assert "every job asked for is stored" in printed
    assert (
        "picture only: 0.007 h of video in 4 s of jobs (one at a time): 6.0 hours of video per wall-clock hour"
        in printed
    )
    assert "decode alone (whole files): 3.0x realtime" in printed
    assert "0.50x" in printed  # job/decode per second of video: 0.5 s against 1.0 s
    assert "commit abc1234" in printed and "--hours 1: 10 min" in printed


def test_the_report_finds_decodes_stored_for_the_first_minutes(files):
    """A report run without the measuring run's --decode-minutes still finds each file's
    decode-alone figures (it printed "-" and "nan" before), and the one asked for comes first."""
    f = library_files.available()[0][0]
    store = library.Results(Path("/nonexistent/results.json"))
    store.items[library.decode_key(f, 1350, 2)] = {"seconds": 120.0, "whole": False}
    assert library.stored_decode(store, f, 1350, 0) == {"seconds": 120.0, "whole": False}
    assert library.stored_decode(store, f, 900, 0) is None  # another length: another file
    store.items[library.decode_key(f, 1350, 0)] = {"seconds": 1350.0, "whole": True}
    assert library.stored_decode(store, f, 1350, 0)["whole"] is True
