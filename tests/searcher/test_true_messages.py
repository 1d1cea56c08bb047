"""Messages that are true and free of object reprs: a huge but finite query vector is a
direction like any other (3e38 values once overflowed float32 and were told "the query
terms cancel out"), and a broken image is described without Pillow's
``<_io.BytesIO object at 0x…>``."""

from __future__ import annotations

import re

import numpy as np
import pytest
from videosearch.common.errors import InvalidArgument
from videosearch.searcher.image_query import decode_image
from videosearch.searcher.validation import query_vector

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"


@pytest.mark.parametrize("value", [3e38, -3e38, 1e-38, 1e-45, 1.0])
def test_a_finite_vector_of_any_size_is_a_unit_direction(value):
    vector = np.full(512, value, dtype=np.float32)
    unit = query_vector(vector, 512)
    assert np.isfinite(unit).all() and abs(float(np.linalg.norm(unit)) - 1.0) < 1e-4
    assert np.allclose(unit, np.sign(value) / np.sqrt(512), atol=1e-4)


@pytest.mark.parametrize("data", [
    PNG + b"\x00" * 40, PNG + b"garbage" * 10, JPEG + b"\x00" * 40, JPEG + b"\xe0" + b"\xff" * 30,
    PNG + b"\x00\x00\x00\x0dIHDR" + b"\x00" * 30,
])
def test_a_broken_image_is_described_without_object_reprs(data):
    with pytest.raises(InvalidArgument) as refused:
        decode_image(data)
    message = str(refused.value)
    assert not re.search(r"object at 0x|<_io\.", message), message
    assert "could not be decoded" in message or "declares" in message
