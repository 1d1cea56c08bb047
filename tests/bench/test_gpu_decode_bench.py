"""The GPU decode bench (bench/index/gpu_decode.py) on the CPU: its smoke run through the real
services on a 3-second file, the report's rows computed from what the run measured, an Indexer
that refuses its decoder reported (not a crash), and the GPU sampler's parsing of nvidia-smi.
The GPU run itself needs a lent device (bench/device/gpu_decode.sh)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import av
from av.video.frame import PictureType
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path[:0] = [str(BENCH / "index"), str(BENCH)]
import gpu_decode  # noqa: E402
import gpu_decode_files  # noqa: E402
import library_files  # noqa: E402
from videosearch.common.errors import InvalidArgument  # noqa: E402
from videosearch.indexer.media.decoding import DecoderSettings  # noqa: E402

SECONDS = 3.0
FILE = "h264-high-720p-6M"


def pyav_takes(decoder: str) -> bool:
    """Whether this checkout's Indexer decodes with PyAV under ``--decoder-hw-acceleration decoder``."""
    try:
        DecoderSettings(hw_acceleration=decoder)
    except InvalidArgument:
        return False
    return True


@pytest.fixture(scope="module")
def run(shared_videos, tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-decode")
    argv = [
        "--devices",
        "cpu",
        "--decoders",
        "none,any,cuda",
        "--seconds",
        f"{SECONDS:g}",
        "--files",
        FILE,
        "--library",
        str(out / "files"),
        "--results",
        str(out / "results.json"),
        "--report-out",
        str(out / "report.txt"),
    ]
    assert gpu_decode.main(argv) == 0
    return json.loads((out / "results.json").read_text()), (out / "report.txt").read_text(), out


def test_a_file_made_with_pyav_is_the_codec_asked_for_and_its_length(run):
    _, _, out = run
    path = out / "files" / f"{FILE}-{SECONDS:g}s.mp4"
    found = library_files.check_streams(path, SECONDS)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 1280, 720)
        assert stream.codec_context.profile == "High"
        assert any(frame.pict_type == PictureType.B for frame in container.decode(stream))  # B-frames asked
    assert found["frames"] == round(SECONDS * 30000 / 1001)


def test_the_smoke_run_measures_software_decoding_through_the_services(run):
    data, _, _ = run
    assert data["devices"] == "cpu" and data["models"] == ["demo"] and data["dtype"] == "float32"
    (job,) = [j for j in data["jobs"] if j["decoder"] == "none"]
    assert job["video_seconds"] == pytest.approx(SECONDS, abs=0.05)
    assert job["wall"] > 0 and job["cpu"]["indexer"] > 0 and job["gpu"] is None
    (alone,) = [d for d in data["decodes"] if d["decoder"] == "none"]
    assert alone["frames"] == round(SECONDS * 30000 / 1001) and alone["cpu"] > 0


def test_any_falls_back_to_software_and_cuda_is_refused_without_a_device(run):
    data, report, _ = run
    if pyav_takes("any"):  # NVDEC where a device opens, else software: here software
        (job,) = [j for j in data["jobs"] if j["decoder"] == "any"]
        assert job["video_seconds"] == pytest.approx(SECONDS, abs=0.05) and job["gpu"] is None
        assert job["nvdec"] is False and "decode_hardware" not in job["stages"]
        (alone,) = [d for d in data["decodes"] if d["decoder"] == "any"]
        assert alone["nvdec"] is False and alone["software_reason"]
        assert f"{FILE}, any: decoded in software: {alone['software_reason']}" in report
    else:
        assert "any" in data["refused"]
    assert "cuda" in data["refused"] and data["refused"]["cuda"]  # the Indexer's own reason, not a crash
    assert f"the Indexer refused --decoder-hw-acceleration cuda: {data['refused']['cuda']}" in report


def test_the_report_rows_are_computed_from_the_measurements(run):
    data, report, _ = run
    (job,) = [j for j in data["jobs"] if j["decoder"] == "none"]
    (alone,) = [d for d in data["decodes"] if d["decoder"] == "none"]
    rows = [line.split() for line in report.splitlines() if line.startswith(FILE)]
    decode_row = next(r for r in rows if r[2] == "none" and len(r) == 12)
    job_row = next(r for r in rows if r[1] == "none" and r[2] != "h264")
    assert decode_row[3:8] == [
        str(alone["frames"]),
        f"{alone['frames'] / alone['wall']:.0f}",
        f"{alone['seconds'] / alone['wall']:.1f}",
        f"{alone['cpu']:.2f}",
        f"{60 * alone['cpu'] / alone['seconds']:.2f}",
    ]
    minutes = job["video_seconds"] / 60
    ratio = (job["wall"] / job["video_seconds"]) / (alone["wall"] / alone["seconds"])
    assert job_row[2:10] == [
        f"{job['video_seconds']:.1f}",
        f"{job['wall']:.1f}",
        f"{job['video_seconds'] / job['wall']:.1f}",
        f"{ratio:.2f}x",
        f"{job['cpu']['indexer'] / minutes:.2f}",
        f"{job['cpu']['embedder'] / minutes:.2f}",
        f"{job['cpu']['searcher'] / minutes:.2f}",
        "no",  # NVDEC: the job's stage seconds have no decode_hardware
    ]
    assert job_row[-3:] == ["-", "-", "-"] and decode_row[-4:] == ["no", "-", "-", "-"]
    assert "no GPU columns: the run used no CUDA device (--devices cpu)" in report
    assert f"commit {job['commit']}" in report


def test_nvidia_smi_lines_and_their_summary():
    assert gpu_decode.parse_smi_line("37, 12, 5120\n") == (37.0, 12.0, 5120.0)
    assert gpu_decode.parse_smi_line("[N/A], 0, 5120") is None
    summary = gpu_decode.summarize([(10.0, 0.0, 100.0), (30.0, 40.0, 300.0)])
    assert summary == {
        "samples": 2,
        "gpu_mean": 20.0,
        "gpu_max": 30.0,
        "decoder_mean": 20.0,
        "decoder_max": 40.0,
        "memory_max_mib": 300.0,
    }
    assert gpu_decode.summarize([]) is None
    assert gpu_decode.GpuSampler.choose("cpu").kind == ""


def test_every_bench_file_is_a_codec_pyav_can_encode():
    encoders = {f.encoder for f in gpu_decode_files.FILES}
    assert encoders <= av.codecs_available, encoders - av.codecs_available
    assert [f.nvdec for f in gpu_decode_files.FILES].count(False) == 1  # MPEG-4 Part 2: the fallback
