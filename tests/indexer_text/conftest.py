"""Servers the text tests run against: an Embedder with the tiny CLIP and pocketsphinx as its
speech recognizer, and a Searcher of its own per test."""

from __future__ import annotations

import pytest

from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings


@pytest.fixture(scope="module")
def embedder(tiny_clip_dir):
    server = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32",
                                             speech_recognizer="pocketsphinx"))
    yield server
    server.stop(0)


@pytest.fixture()
def searcher(tmp_path, embedder):
    server = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path / "searcher"),
                                             embedder_address=embedder.address, ann="none"))
    yield server
    server.stop(0)
