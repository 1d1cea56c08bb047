"""Settings of the Embedder service (flags override VIDEOSEARCH_EMBEDDER_* env vars)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from videosearch.common import defaults
from videosearch.common.settings import BaseServiceSettings, load_settings, port_setting, setting

ENV_PREFIX = "VIDEOSEARCH_EMBEDDER"
DEFAULT_MODEL_ID = "openai/clip-vit-base-patch32"


@dataclass
class EmbedderSettings(BaseServiceSettings):
    port: int = port_setting(defaults.EMBEDDER_PORT)
    model: str = setting(DEFAULT_MODEL_ID, "Hugging Face CLIP model id or local directory")
    device: str = setting("auto", "compute device: auto (CUDA when available), cpu, cuda or cuda:N")
    dtype: str = setting(
        "auto",
        "compute dtype: auto (float16 on CUDA; on CPU bfloat16 only where it measures faster "
        "and close to float32, else float32), float32, float16 or bfloat16",
    )
    max_batch_size: int = setting(32, "largest number of images in one forward pass")
    max_wait_ms: float = setting(5.0, "how long the first queued image waits for a batch to fill")
    max_queue_images: int = setting(1024, "images allowed to wait for a forward pass; beyond it RESOURCE_EXHAUSTED")
    max_images_per_request: int = setting(256, "largest number of images in one EmbedImages request")
    max_texts_per_request: int = setting(256, "largest number of texts in one EmbedTexts request")
    forward_workers: int = setting(
        1, "threads running forward passes side by side; with N > 1 and torch-threads 0, each gets cores/N torch threads"
    )
    torch_threads: int = setting(0, "torch intra-op threads; 0 keeps torch's default (or cores/forward-workers)")


def load(argv: Sequence[str] | None = None) -> EmbedderSettings:
    return load_settings(
        EmbedderSettings,
        ENV_PREFIX,
        argv,
        description="videosearch Embedder: hosts a CLIP model and embeds images and texts over gRPC.",
    )
