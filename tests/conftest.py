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


def pytest_collection_modifyitems(config, items):
    if config.getoption("--reverse"):
        items.reverse()


@pytest.fixture(scope="session")
def tiny_family_dirs(tmp_path_factory) -> dict[str, Path]:
    """A tiny random model of every supported family, saved offline (see tests/model_families.py)."""
    from tests.model_families import FAMILIES, build_tiny_family

    root = tmp_path_factory.mktemp("families")
    return {family: build_tiny_family(family, root / family) for family in FAMILIES}
