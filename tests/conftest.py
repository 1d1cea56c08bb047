"""Fixtures shared by every test package: the shared videos and a tiny CLIP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_VIDEOS = REPO_ROOT.parent / "shared" / "videos"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def shared_videos() -> Path:
    """../shared/videos beside the checkout. Absent in a user's clone: skip; in CI: fail."""
    if not SHARED_VIDEOS.is_dir():
        if _in_ci():
            pytest.fail(f"{SHARED_VIDEOS} is missing; CI must provide ../shared beside the checkout")
        pytest.skip(f"{SHARED_VIDEOS} is absent (a user's clone without ../shared); these tests need the shared videos")
    return SHARED_VIDEOS


def golden_cuts(shared_videos: Path, video: str, detector: str = "ContentDetector", setting: str = "default") -> list[int]:
    """Frame numbers of the cuts PySceneDetect's own tests expect."""
    return json.loads((shared_videos / "goldens" / f"{video}.{detector}.{setting}.json").read_text())["cuts"]


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    """A tiny fixed-seed random CLIP saved in the Hugging Face layout (model, tokenizer, preprocessor)."""
    from videosearch.demo.tokenizer import build_tiny_random_clip

    return build_tiny_random_clip(tmp_path_factory.mktemp("tiny-clip"), seed=0, image_size=32)


def pytest_addoption(parser):
    parser.addoption("--reverse", action="store_true",
                     help="run the collected tests in reverse order, to show that none depends on another's order")


# Test tiers (markers registered in pyproject.toml). Each test gets one by where it lives, so a
# new test is tiered without a decorator: tests/system/ is ``system`` (service processes, the
# whole stack, packaging, buf), the web page's Playwright tests are ``browser``, and everything
# else is ``unit`` (in-process, on port 0 at most). ``slow`` marks, besides, the files that take
# seconds each here (real-video decoding, model training and start-up, subprocess CLIs,
# property tests); ``make test-fast`` runs ``unit and not slow``. A test may still carry its
# own ``@pytest.mark.slow``.
BROWSER_FILES = {"web/test_browser.py", "web/test_fused_scores_page.py"}
SLOW_FILES = {
    "bench/test_gpu_decode_bench.py",
    "bench/test_library_bench.py",
    "bench/test_perframe_bench.py",
    "cli/test_cli_process.py",
    "cli/test_cli_interrupts.py",
    "cli/test_cli_libraries.py",
    "common/test_bad_input_properties.py",
    "demo/test_demo_model.py",
    "demo/test_longtakes.py",
    "demo/test_talking_videos.py",
    "demo/test_train.py",
    "embedder/test_families.py",
    "embedder/test_model.py",
    "embedder/test_startup.py",
    "indexer/test_embedder_restart.py",
    "indexer/test_embedding_reuse.py",
    "indexer/test_option_ranges.py",
    "indexer_text/test_demo_speech.py",
    "indexer_text/test_found_by_words.py",
    "indexer_text/test_speech_recognizers.py",
    "indexer_text/test_text_jobs.py",
    "indexer_text/test_video_text.py",
    "indexer_media/test_decoding.py",
    "indexer_media/test_detectors.py",
    "indexer_media/test_import_graph.py",
    "indexer_media/test_preprocess.py",
    "indexer_media/test_pyav_decoder.py",
    "indexer_media/test_scenes.py",
    "searcher/test_backend_contract.py",
}


def tier_of(relative: str) -> tuple[str, bool]:
    """The tier of a test file (a path relative to tests/) and whether it is slow."""
    if relative.startswith("system/"):
        return "system", False
    if relative in BROWSER_FILES:
        return "browser", False
    return "unit", relative in SLOW_FILES


# The order files run in: the longest files first (each over 35 s of a serial run of the whole
# suite on the shared machine, longest first), then the heavy tiers (the service processes, the
# browser, the slow unit files), the quick unit files last. Under ``make test``'s workers
# (pytest-xdist, a file to a worker at a time) the long files start early and the short ones
# fill in at the end, so the workers finish together instead of one running a long file alone.
LONGEST_FILES = [
    "system/test_moment_retrieval.py",
    "indexer_media/test_pyav_decoder.py",
    "embedder/test_startup.py",
    "system/test_retrieval_quality.py",
    "system/test_outside_probe.py",
    "system/test_demo_handover.py",
    "demo/test_talking_videos.py",
    "indexer_media/test_decoding.py",
    "web/test_browser.py",
    "indexer_media/test_import_graph.py",
    "indexer_media/test_scenes.py",
    "searcher/test_backend_contract.py",
    "system/test_embedder_replicas.py",
]
_TIER_ORDER = {("system", False): 0, ("browser", False): 1, ("unit", True): 2, ("unit", False): 3}


def run_rank(relative: str) -> int:
    """Where a test file (a path relative to tests/) runs: lower ranks first."""
    if relative in LONGEST_FILES:
        return LONGEST_FILES.index(relative)
    return len(LONGEST_FILES) + _TIER_ORDER[tier_of(relative)]


def pytest_collection_modifyitems(config, items):
    tests_root = Path(__file__).resolve().parent
    rank = {}
    for item in items:
        relative = Path(item.fspath).resolve().relative_to(tests_root).as_posix()
        tier, slow = tier_of(relative)
        item.add_marker(getattr(pytest.mark, tier))
        if slow:
            item.add_marker(pytest.mark.slow)
        rank[item.nodeid] = run_rank(relative)
    items.sort(key=lambda item: rank[item.nodeid])  # stable: each file keeps its own order
    if config.getoption("--reverse"):
        items.reverse()


@pytest.fixture(scope="session")
def tiny_family_dirs(tmp_path_factory) -> dict[str, Path]:
    """A tiny random model of every supported family, saved offline (see tests/model_families.py)."""
    from tests.model_families import FAMILIES, build_tiny_family

    root = tmp_path_factory.mktemp("families")
    return {family: build_tiny_family(family, root / family) for family in FAMILIES}
