"""The Embedder on a CUDA device: uint8 pixels normalized on the device, CUDA graphs per
batch-size bucket, mixed uint8/float batches, and a real gRPC server. Skipped where there
is no CUDA device (CI); run on a GPU machine with `pytest tests/embedder/test_cuda.py`."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from videosearch.client.embedder import EmbedderClient
from videosearch.embedder.cuda_forward import bucket_sizes
from videosearch.embedder.defaults import BatchLimits
from videosearch.embedder.model import ClipEmbedder
from videosearch.embedder.server import serve
from videosearch.embedder.settings import EmbedderSettings

from .helpers import normalize_like_processor, random_uint8

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none here)")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_bucket_sizes_pad_a_batch_to_at_most_twice_its_size():
    assert bucket_sizes(32) == [1, 2, 4, 8, 16, 32]
    assert bucket_sizes(48) == [1, 2, 4, 8, 16, 32, 48]
    assert bucket_sizes(1) == [1]
    for size in range(1, 49):
        bucket = next(b for b in bucket_sizes(48) if b >= size)
        assert bucket < 2 * size


@pytest.fixture(scope="module")
def cuda_embedders(tiny_clip_dir):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device (none here)")
    graphed = ClipEmbedder(str(tiny_clip_dir), device="cuda", dtype="float16", limits=BatchLimits(max_batch_size=8))
    eager = ClipEmbedder(
        str(tiny_clip_dir), device="cuda", dtype="float16", limits=BatchLimits(max_batch_size=8), cuda_graphs=False
    )
    return graphed, eager


@cuda
def test_the_forward_pass_is_captured_as_cuda_graphs(cuda_embedders):
    graphed, eager = cuda_embedders
    assert graphed.cuda_graphs, graphed._device_forward.graph_error
    assert not eager.cuda_graphs


@cuda
@pytest.mark.parametrize("count", [1, 3, 8, 13])
def test_graphs_give_the_eager_pass_results(cuda_embedders, count):
    """3 pads to the bucket of 4; 13 is split into 8 + 5 (a bucket of 8)."""
    graphed, eager = cuda_embedders
    pixels = random_uint8(count, seed=count)
    assert cosines(graphed(pixels), eager(pixels)).min() > 0.999


@cuda
def test_uint8_normalized_on_the_device_matches_float32_on_the_cpu(cuda_embedders, tiny_embedder):
    graphed, _ = cuda_embedders
    pixels = random_uint8(8, seed=7)
    assert cosines(graphed(pixels), tiny_embedder(pixels)).min() > 0.99
    # Normalized floats sent by a caller take the float path and agree too.
    normalized = normalize_like_processor(pixels, tiny_embedder)
    assert cosines(graphed(normalized), tiny_embedder(pixels)).min() > 0.99


@cuda
def test_uint8_and_float_callers_share_a_batch(tiny_clip_dir, tiny_embedder):
    settings = EmbedderSettings(port=0, model=str(tiny_clip_dir), device="cuda", dtype="float16",
                                max_batch_size=8, max_wait_ms=200.0)
    server = serve(settings)
    try:
        pixels = random_uint8(6, seed=11)
        normalized = normalize_like_processor(pixels, tiny_embedder)
        results: dict[int, np.ndarray] = {}

        def call(index: int) -> None:
            with EmbedderClient(server.address, timeout=30) as client:
                sent = pixels[index : index + 1] if index % 2 else normalized[index : index + 1]
                results[index] = client.embed_images(sent)

        server.engine.batcher.reset_stats()
        threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert max(server.engine.stats().batch_sizes) > 1  # floats and uint8s went through one pass
        got = np.concatenate([results[i] for i in range(6)])
        assert cosines(got, tiny_embedder(pixels)).min() > 0.99
        assert server.engine.model_info().compute_dtype == "float16"
    finally:
        server.stop(0)


@cuda
@pytest.mark.parametrize("family", ["clip", "siglip", "siglip2", "siglip2-naflex", "chinese-clip", "altclip"])
def test_every_family_on_cuda_embeds_as_on_the_cpu(tiny_family_dirs, family):
    """float16 on the device (NaFlex patched on the CPU, the others normalized on the device)
    against float32 on the CPU, for texts in English and Chinese and for images."""
    from videosearch.embedder.preprocessing import FramePreprocessor

    on_cpu = ClipEmbedder(str(tiny_family_dirs[family]), device="cpu", dtype="float32")
    on_gpu = ClipEmbedder(str(tiny_family_dirs[family]), device="cuda", dtype="auto", limits=BatchLimits(max_batch_size=8))
    assert on_gpu.model_info().compute_dtype == "float16"
    texts = ["a red circle", "一个红色的圆"]
    assert cosines(on_gpu.embed_texts(texts), on_cpu.embed_texts(texts)).min() > 0.99
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (90, 160, 3), dtype=np.uint8) for _ in range(3)]
    pixels = np.stack([FramePreprocessor(on_cpu.preprocessing)(f) for f in frames])
    assert cosines(on_gpu(pixels), on_cpu(pixels)).min() > 0.99
