"""Fixtures for the Indexer media tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import SHARED_VIDEOS


@pytest.fixture(scope="session")
def videos() -> Path:
    if not SHARED_VIDEOS.is_dir():
        pytest.skip(f"the shared test videos are not at {SHARED_VIDEOS.resolve()} (../shared beside the repo root)")
    return SHARED_VIDEOS.resolve()
