"""Settings of the Embedder service (flags override VIDEOSEARCH_EMBEDDER_* env vars)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from videosearch.common import defaults
from videosearch.common.settings import BaseServiceSettings, load_settings, message_setting, port_setting, setting
from videosearch.embedder.defaults import (
    DEFAULT_IMAGE_NICE,
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_MAX_IMAGES_PER_REQUEST,
    DEFAULT_MAX_QUEUE_IMAGES,
    DEFAULT_MAX_TEXTS_PER_REQUEST,
    DEFAULT_MAX_WAIT_MS,
    DEFAULT_MODEL_ID,
)

ENV_PREFIX = "VIDEOSEARCH_EMBEDDER"


@dataclass
class EmbedderSettings(BaseServiceSettings):
    port: int = port_setting(defaults.EMBEDDER_PORT)
    max_message_mb: int = message_setting(defaults.EMBEDDER_MAX_MESSAGE_MB)
    model: str = setting(DEFAULT_MODEL_ID, "Hugging Face model id or local directory of a supported family "
                                           "(CLIP, SigLIP, SigLIP2, Chinese-CLIP, AltCLIP)")
    device: str = setting("auto", "compute device: auto (CUDA when available), cpu, cuda or cuda:N")
    dtype: str = setting(
        "auto",
        "compute dtype: auto (float16 on CUDA; on CPU bfloat16 where the CPU has native bfloat16 "
        "matmul (amx_bf16, avx512_bf16 or Arm bf16), else float32; decided from the hardware, never "
        "a timing), float32, float16 or bfloat16",
    )
    max_batch_size: int = setting(DEFAULT_MAX_BATCH_SIZE, "largest number of images in one forward pass")
    max_wait_ms: float = setting(DEFAULT_MAX_WAIT_MS, "how long the first queued image waits for a batch to fill")
    max_queue_images: int = setting(DEFAULT_MAX_QUEUE_IMAGES, "images allowed to wait for a forward pass; beyond it RESOURCE_EXHAUSTED")
    max_images_per_request: int = setting(DEFAULT_MAX_IMAGES_PER_REQUEST, "largest number of images in one EmbedImages request")
    max_texts_per_request: int = setting(DEFAULT_MAX_TEXTS_PER_REQUEST, "largest number of texts in one EmbedTexts request")
    forward_workers: int = setting(
        1, "threads running forward passes side by side; with N > 1 and torch-threads 0, each gets cores/N torch threads"
    )
    image_nice: int = setting(
        DEFAULT_IMAGE_NICE, "nice value (0-19) of the image forward passes, so that text queries, embedded at normal "
        "priority, get the cores first on a busy machine; 0 runs them at the process's priority")
    torch_threads: int = setting(0, "torch intra-op threads; 0 keeps torch's default (or cores/forward-workers)")
    share_port: bool = setting(
        False, "let several Embedder processes listen on this one port (SO_REUSEPORT: the kernel spreads "
        "connections between them), e.g. to feed one GPU past what one Python process can serve"
    )
    speech_recognizer: str = setting(
        "pocketsphinx", "speech recognizer for TranscribeAudio (loaded on first use): pocketsphinx (offline, English), "
        "whisper:<Hugging Face id or directory>, or none"
    )
    cuda_graphs: bool = setting(
        True, "on CUDA, replay the image forward pass as CUDA graphs (one per batch-size bucket, captured at start-up); "
        "off runs it eagerly"
    )


def load(argv: Sequence[str] | None = None) -> EmbedderSettings:
    return load_settings(
        EmbedderSettings,
        ENV_PREFIX,
        argv,
        description="videosearch Embedder: hosts a CLIP model and embeds images and texts over gRPC.",
    )
