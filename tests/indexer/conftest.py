"""Servers the Indexer's tests run against: an Embedder whose forward passes a test can
hold (``gated_clip.gate``), and a Searcher of its own per test."""

from __future__ import annotations

import pytest

from tests.indexer.indexer_testlib import GatedClip
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings


@pytest.fixture(scope="module")
def gated_clip(tiny_clip_dir):
    return GatedClip(str(tiny_clip_dir), device="cpu", dtype="float32")


@pytest.fixture(scope="module")
def embedder(tiny_clip_dir, gated_clip):
    server = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"), gated_clip)
    yield server
    gated_clip.gate.set()
    server.stop(0)


@pytest.fixture()
def searcher(tmp_path, embedder):
    """A Searcher of its own per test (some tests put other models' videos in it)."""
    server = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path / "searcher"),
                                             embedder_address=embedder.address, ann="none"))
    yield server
    server.stop(0)
