"""Fixtures for the Indexer media tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def videos(shared_videos) -> Path:
    """The shared videos, by the name these tests use (skips or fails as ``shared_videos`` does)."""
    return shared_videos
