"""The per-frame A/B harness (bench/index/perframe.py): a side's child processes run that side's
code (an exported commit's services/, not this checkout's) on a real video, and report its
decode-alone and decode-pass figures; paired ratios pair each round's two measurements."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import golden_cuts

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path[:0] = [str(BENCH / "index"), str(BENCH)]
import perframe  # noqa: E402
from videosearch.embedder.types import Preprocessing  # noqa: E402

DEMO_INPUT = Preprocessing(40, 40, 40, 1 / 255, (0.48, 0.46, 0.41), (0.27, 0.26, 0.28), "bicubic")


def test_a_sides_children_run_its_own_code_and_find_the_goldens(shared_videos):
    _, services = perframe.export("HEAD")  # as the harness exports a baseline
    assert services.resolve() != (perframe.benchlib.REPO / "services").resolve()
    video = shared_videos / "testvideo.mp4"
    decoded = perframe.child(services, "decode", video, DEMO_INPUT)
    passed = perframe.child(services, "pass", video, DEMO_INPUT)
    assert Path(decoded["code"]).is_relative_to(services) and Path(passed["code"]).is_relative_to(services)
    assert decoded["cpu"] > 0 and passed["cpu"] > 0
    assert decoded["seconds"] == pytest.approx(passed["seconds"], abs=0.05)
    assert 20 < passed["seconds"] < 30  # testvideo.mp4 lasts about 24 s
    assert passed["cuts"] == golden_cuts(shared_videos, "testvideo.mp4")
    assert passed["stages"]["detect"] > 0


def test_a_child_refuses_to_measure_other_code_than_its_sides(tmp_path, shared_videos):
    """A side without the package would import another checkout's (the venv's): it fails instead."""
    empty = tmp_path / "services"
    empty.mkdir()
    with pytest.raises(RuntimeError, match="decode testvideo.mp4 failed"):
        perframe.child(empty, "decode", shared_videos / "testvideo.mp4", DEMO_INPUT)


def test_paired_ratios_pair_each_rounds_measurements():
    def record(cpu: float, detect: float) -> dict:
        return {
            "decode": {"cpu": cpu},
            "pass": {"cpu": cpu * 2, "stages": {"detect": detect}},
            "job": {"cpu": {"indexer": cpu * 3, "embedder": 0.0, "searcher": 0.0}, "wall": cpu},
        }

    # A loaded round makes both sides slow; the pair's ratio stays 0.5 in every round.
    base = [record(1.0, 2.0), record(4.0, 8.0), record(2.0, 4.0)]
    new = [record(0.5, 1.0), record(2.0, 4.0), record(1.0, 2.0)]
    paired = perframe.paired_ratios(base, new)
    assert paired == {key: pytest.approx(0.5) for key in ("decode", "pass", "detect", "job", "indexer", "job_wall")}
