"""Embedder fixtures: one tiny CLIP (tiny_clip_dir comes from tests/conftest.py)
loaded once per session, and a real Embedder gRPC server on port 0."""

from __future__ import annotations

import pytest
from videosearch.embedder.defaults import BatchLimits
from videosearch.embedder.model import ClipEmbedder
from videosearch.embedder.server import serve
from videosearch.embedder.settings import EmbedderSettings


@pytest.fixture(scope="session")
def tiny_embedder(tiny_clip_dir) -> ClipEmbedder:
    # float32 explicitly: the equality tests need deterministic full precision.
    return ClipEmbedder(str(tiny_clip_dir), device="cpu", dtype="float32", limits=BatchLimits(max_batch_size=8))


@pytest.fixture(scope="module")
def embedder_server(tiny_clip_dir, tiny_embedder):
    """A SERVING Embedder on a free port with small limits, so that limits are easy to hit."""
    settings = EmbedderSettings(
        port=0,
        model=str(tiny_clip_dir),
        device="cpu",
        dtype="float32",
        max_batch_size=8,
        max_wait_ms=2.0,
        max_images_per_request=16,
        max_texts_per_request=4,
    )
    server = serve(settings, tiny_embedder)
    yield server
    server.stop(0)
