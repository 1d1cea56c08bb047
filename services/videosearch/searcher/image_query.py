"""Query images: JPEG or PNG bytes from a caller, decoded defensively and turned into the
pixels the Embedder expects, exactly as the Indexer prepares a video frame.

The bytes come from anyone who can call Search, so: the byte size is checked first, the
format by its signature, and the pixel count from the header *before* any pixel is decoded
(a 100 KB PNG can declare 50,000 x 50,000 pixels: a decompression bomb). Every failure is
INVALID_ARGUMENT saying what to send. The decoded image goes through the shared
preprocessing (videosearch.embedder.preprocessing) by the same path as an indexed frame:
``FramePreprocessor.candidate`` then ``finish``.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from videosearch.common.errors import InvalidArgument
from videosearch.embedder.preprocessing import FramePreprocessor
from videosearch.embedder.types import Preprocessing

DEFAULT_MAX_IMAGE_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000  # a 40-megapixel photo; RGB decode needs 120 MB
_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
_ADVICE = "send the bytes of a JPEG or PNG file"


# Pillow names its input in some messages ("cannot identify image file <_io.BytesIO object at
# 0x7f…>"): an address of this process, and nothing the caller can act on.
_OBJECT_REPR = re.compile(r"<[^<>]*\bobject at 0x[0-9a-fA-F]+>")


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS


def decode_image(data: bytes, limits: ImageLimits = ImageLimits(), *, name: str = "image") -> np.ndarray:
    """(H, W, 3) RGB uint8 from JPEG or PNG bytes, upright (EXIF orientation applied)."""
    if not data:
        raise InvalidArgument(f"{name} is empty; {_ADVICE}")
    if len(data) > limits.max_bytes:
        raise InvalidArgument(
            f"{name} is {len(data)} bytes, over the limit of {limits.max_bytes}; "
            "send a smaller JPEG or PNG (about 1000 pixels across is plenty for search)"
        )
    expected = next((fmt for magic, fmt in _SIGNATURES.items() if data.startswith(magic)), None)
    if expected is None:
        raise InvalidArgument(f"{name} is neither JPEG nor PNG (its first bytes are {data[:8].hex()}); {_ADVICE}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # Pillow's own bomb check fails too
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                width, height = image.size  # from the header; nothing is decoded yet
                if width <= 0 or height <= 0 or width * height > limits.max_pixels:
                    raise InvalidArgument(
                        f"{name} declares {width} x {height} pixels, over the limit of {limits.max_pixels}; "
                        "send a smaller image"
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
                rgb = np.asarray(upright.convert("RGB"))
    except InvalidArgument:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever Pillow raises on hostile bytes, the image is bad, not the server
        reason = _OBJECT_REPR.sub("the bytes sent", str(exc)) or type(exc).__name__
        raise InvalidArgument(
            f"{name} could not be decoded as {expected} ({reason}); {_ADVICE} that opens in an image viewer"
        ) from None
    return rgb


def image_pixels(rgb: np.ndarray, preprocessing: Preprocessing) -> np.ndarray:
    """(3, crop_h, crop_w) uint8: the image as the Embedder gets an indexed frame."""
    preprocess = FramePreprocessor(preprocessing)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # the preprocessor takes OpenCV's BGR frames
    return preprocess.finish(preprocess.candidate(bgr))
