"""The Embedder's defaults, each written once and free of torch: the settings (read by
the launcher too), the model, the engine and the batcher all take them from here."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MODEL_ID = "openai/clip-vit-base-patch32"
DEFAULT_MAX_BATCH_SIZE = 32
DEFAULT_MAX_WAIT_MS = 5.0
DEFAULT_MAX_QUEUE_IMAGES = 1024
DEFAULT_MAX_IMAGES_PER_REQUEST = 256
DEFAULT_MAX_TEXTS_PER_REQUEST = 256
# Nice value of the image forward passes (index batches): text queries, embedded on the RPC
# threads at normal priority, get the cores first when both want them (common/priority.py).
DEFAULT_IMAGE_NICE = 10
# Characters per text: CLIP reads only its first 77 tokens (about 350 characters of English),
# and tokenizing is linear in the length (1 MB of text took over 15 s), so longer texts are refused.
MAX_TEXT_CHARS = 2048


@dataclass(frozen=True)
class BatchLimits:
    """The Embedder's batch limits, as one object from its settings through the model (which
    reports them in ModelInfo) to the engine (which enforces them) and its batcher."""

    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE  # images in one forward pass
    max_images_per_request: int = DEFAULT_MAX_IMAGES_PER_REQUEST  # images in one EmbedImages request
    max_texts_per_request: int = DEFAULT_MAX_TEXTS_PER_REQUEST  # texts in one EmbedTexts request
