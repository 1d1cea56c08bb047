"""The image forward pass on a CUDA device: uint8 pixels in, float32 features out.

Two things make a GPU Embedder fast that do not matter on a CPU:

- **uint8 over the bus.** Callers send uint8 frames; they cross PCIe as uint8 (a quarter of
  float32's bytes) and are normalized on the device, so no CPU time goes into normalizing.
- **CUDA graphs.** An eager ViT-B/32 forward is about 200 small kernels, and on a fast GPU
  launching them from Python costs more than running them; the launches also hold the GIL
  that the gRPC server needs. The pass (normalization included) is captured once per
  batch-size bucket at start-up and replayed: one launch per batch. A batch is padded up
  to its bucket; images are independent in a ViT, so the padding rows cannot change the
  real rows' results and are dropped.

A model whose capture fails (an op that syncs with the host, say) runs eagerly, with a
warning saying so; results are the same either way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import torch

log = logging.getLogger(__name__)

# Warm-up passes before a capture: kernel selection and allocator caching happen outside it.
CAPTURE_WARMUP_PASSES = 2


def bucket_sizes(max_batch_size: int) -> list[int]:
    """Powers of two below max_batch_size, and max_batch_size: a batch pads to the next one,
    so padding never costs more than the batch itself."""
    sizes, size = [], 1
    while size < max_batch_size:
        sizes.append(size)
        size *= 2
    return [*sizes, max_batch_size]


class DeviceImageForward:
    """Runs ``features(pixel_values)`` on ``device`` for CPU batches of uint8 pixels (normalized
    on the device, through CUDA graphs when ``graphs``) or of already normalized values."""

    def __init__(
        self,
        features: Callable[[torch.Tensor], torch.Tensor],
        *,
        device: torch.device,
        dtype: torch.dtype,
        crop: tuple[int, int],
        rescale_factor: float,
        mean: torch.Tensor,
        std: torch.Tensor,
        max_batch_size: int,
        graphs: bool = True,
    ) -> None:
        self._features = features
        self.device = device
        self.dtype = dtype
        self.crop = crop
        # (x * rescale - mean) / std as one multiply-add per channel, in float32 before the cast.
        self._scale = (rescale_factor / std.float()).view(1, 3, 1, 1).to(device)
        self._bias = (-mean.float() / std.float()).view(1, 3, 1, 1).to(device)
        self.buckets = bucket_sizes(max_batch_size)
        # bucket -> (graph, static uint8 input on the device, static float32 features)
        self._graphs: dict[int, tuple[torch.cuda.CUDAGraph, torch.Tensor, torch.Tensor]] = {}
        # One replay at a time: every replay of a bucket writes the same static buffers.
        self._replay_lock = threading.Lock()
        self.graph_error: str | None = None
        if graphs:
            try:
                self._capture()
            except Exception as exc:  # noqa: BLE001 - any capture failure means: run eagerly
                self._graphs.clear()
                self.graph_error = f"{type(exc).__name__}: {exc}"
                log.warning("CUDA graph capture failed, running the forward pass eagerly: %s", self.graph_error)

    @property
    def graphed(self) -> bool:
        return bool(self._graphs)

    def _normalized(self, pixels: torch.Tensor) -> torch.Tensor:
        return (pixels.float() * self._scale + self._bias).to(self.dtype)

    def _uint8_pass(self, pixels: torch.Tensor) -> torch.Tensor:
        return self._features(self._normalized(pixels)).float()

    def _capture(self) -> None:
        h, w = self.crop
        pool = torch.cuda.graph_pool_handle()
        side = torch.cuda.Stream(self.device)
        with torch.inference_mode():
            # Largest first: the smaller graphs reuse its memory from the shared pool.
            for bucket in sorted(self.buckets, reverse=True):
                static_in = torch.zeros((bucket, 3, h, w), dtype=torch.uint8, device=self.device)
                side.wait_stream(torch.cuda.current_stream(self.device))
                with torch.cuda.stream(side):
                    for _ in range(CAPTURE_WARMUP_PASSES):
                        self._uint8_pass(static_in)
                torch.cuda.current_stream(self.device).wait_stream(side)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph, pool=pool):
                    static_out = self._uint8_pass(static_in)
                self._graphs[bucket] = (graph, static_in, static_out)
        torch.cuda.synchronize(self.device)
        log.info("captured the image forward pass as CUDA graphs for batch sizes %s", self.buckets)

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) pixels on the CPU (pinned for an asynchronous copy) -> (N, dim) float32 on the CPU."""
        count = int(batch.shape[0])
        with torch.inference_mode():
            if batch.dtype == torch.uint8 and self._graphs and count <= self.buckets[-1]:
                bucket = next(size for size in self.buckets if size >= count)
                graph, static_in, static_out = self._graphs[bucket]
                with self._replay_lock:
                    static_in[:count].copy_(batch, non_blocking=True)
                    graph.replay()
                    # Copied out before the lock is let go: the next replay overwrites static_out.
                    return static_out[:count].to("cpu")
            inputs = batch.to(self.device, non_blocking=True)
            inputs = self._normalized(inputs) if inputs.dtype == torch.uint8 else inputs.to(self.dtype)
            return self._features(inputs).to("cpu", dtype=torch.float32)
