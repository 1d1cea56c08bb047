"""No input may make the request decoders and validators fail with anything but a
typed, caller-facing error: hypothesis drives the tensor codec, the Searcher's
video conversion and upsert checks, and the Indexer's path check with hostile values
(shapes that overflow int64, timestamps past year 9999, NaN, NUL bytes, long names).
A plain ValueError, OverflowError or OSError escaping here is what became INTERNAL."""

from __future__ import annotations

import math
import os
import socket

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from videosearch.common.errors import InvalidArgument, NotFound, PermissionDenied
from videosearch.common.tensors import FLOATS, from_tensor
from videosearch.indexer.paths import AllowedRoots
from videosearch.searcher import wire
from videosearch.searcher.types import SceneRecord
from videosearch.searcher.validation import validate_upsert
from videosearch.v1 import tensor_pb2, video_pb2

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FLOAT = st.floats(allow_nan=True, allow_infinity=True)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("shape", [[2**32, 2**32], [2**62, 4, 1, 1], [2**63 - 1, 2], [2**31] * 8, [1] * 9, []])
def test_shapes_that_overflow_or_are_absurd_are_invalid_arguments(shape):
    tensor = tensor_pb2.Tensor(dtype=tensor_pb2.DATA_TYPE_FLOAT32, shape=shape, data=b"")
    with pytest.raises(InvalidArgument, match="shape"):
        from_tensor(tensor, name="pixel_values")


def test_uint8_where_floats_are_documented_is_refused_with_the_dtypes_to_send():
    tensor = tensor_pb2.Tensor(dtype=tensor_pb2.DATA_TYPE_UINT8, shape=[2], data=b"\x01\x02")
    assert from_tensor(tensor).tolist() == [1, 2]  # allowed where uint8 is documented (pixels)
    with pytest.raises(InvalidArgument, match="DATA_TYPE_FLOAT32 or DATA_TYPE_FLOAT16"):
        from_tensor(tensor, name="embedding.vector", allowed=FLOATS)


@SETTINGS
@given(dtype=st.integers(min_value=-5, max_value=10), shape=st.lists(INT64, max_size=10), data=st.binary(max_size=64))
def test_tensor_decoding_returns_the_declared_array_or_an_invalid_argument(dtype, shape, data):
    tensor = tensor_pb2.Tensor(dtype=dtype, shape=shape, data=data)
    try:
        array = from_tensor(tensor)
    except InvalidArgument:
        return
    assert list(array.shape) == shape
    assert array.nbytes == len(data)


def _video(**fields) -> video_pb2.Video:
    message = video_pb2.Video(video_id="v", model_id="m", embedding_dim=2, fps_numerator=25, fps_denominator=1)
    stamp = fields.pop("indexed_at", None)
    for name, value in fields.items():
        setattr(message, name, value)
    if stamp is not None:
        message.indexed_at.seconds, message.indexed_at.nanos = stamp
    return message


@SETTINGS
@given(
    seconds=INT64,
    nanos=st.integers(min_value=-(2**31), max_value=2**31 - 1),
    fps=st.tuples(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**31), 2**31 - 1)),
)
def test_video_conversion_never_raises_an_untyped_error(seconds, nanos, fps):
    message = _video(indexed_at=(seconds, nanos), fps_numerator=fps[0], fps_denominator=fps[1])
    try:
        wire.video_from_proto(message)
    except InvalidArgument:
        pass


def test_a_timestamp_past_year_9999_is_an_invalid_argument_that_says_what_to_send():
    with pytest.raises(InvalidArgument, match="indexed_at .* not a valid timestamp"):
        wire.video_from_proto(_video(indexed_at=(2**62, 0)))


@SETTINGS
@given(
    duration=FLOAT,
    frame_count=INT64,
    width=INT64,
    height=INT64,
    bounds=st.lists(st.tuples(INT64, INT64, FLOAT, FLOAT), min_size=0, max_size=4),
    rows=st.integers(0, 5),
)
def test_upsert_validation_never_raises_an_untyped_error(duration, frame_count, width, height, bounds, rows):
    video = wire.video_from_proto(_video(duration_seconds=duration))
    video = type(video)(**{**video.__dict__, "frame_count": frame_count, "width": width, "height": height})
    scenes = [SceneRecord(i, s, e, a, b, 1) for i, (s, e, a, b) in enumerate(bounds)]
    embeddings = np.full((rows, 2), 1 / math.sqrt(2), np.float32)
    try:
        validate_upsert(video, scenes, embeddings)
    except InvalidArgument:
        return
    assert math.isfinite(video.duration_seconds) and frame_count >= 0
    assert not frame_count or scenes[-1].end_frame <= frame_count


@pytest.mark.parametrize("field, value, message", [
    ("duration_seconds", float("nan"), "duration_seconds"),
    ("duration_seconds", -1.0, "duration_seconds"),
    ("frame_count", 10, "past the video's frame_count 10"),
])
def test_specific_upserts_that_used_to_pass_or_crash_are_refused(field, value, message):
    video = wire.video_from_proto(_video(duration_seconds=1.0, frame_count=60))
    video = type(video)(**{**video.__dict__, field: value})
    scenes = [SceneRecord(0, 0, 30, 0.0, 1.2, 1), SceneRecord(1, 30, 60, 1.2, 2.4, 1)]
    with pytest.raises(InvalidArgument, match=message):
        validate_upsert(video, scenes, np.full((2, 2), 1 / math.sqrt(2), np.float32))


@pytest.fixture(scope="module")
def allowed(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    (root / "video.mp4").write_bytes(b"x")
    return root, AllowedRoots([str(root)])


@SETTINGS
@given(name=st.text(max_size=300))
def test_any_path_text_is_resolved_or_refused_with_a_typed_error(allowed, name):
    root, roots = allowed
    try:
        roots.resolve(f"{root}/{name}")
    except (InvalidArgument, NotFound, PermissionDenied):
        pass


@pytest.mark.parametrize("suffix, message", [
    ("a" * 256 + ".mp4", "too long"),
    ("a\x00b.mp4", "NUL byte"),
    ("/".join(["d" * 200] * 25), "too long"),
])
def test_overlong_names_and_nul_bytes_are_invalid_arguments(allowed, suffix, message):
    root, roots = allowed
    with pytest.raises(InvalidArgument, match=message):
        roots.resolve(f"{root}/{suffix}")


def test_fifos_and_sockets_are_refused_at_submit(tmp_path):
    root = tmp_path
    fifo = root / "pipe.mp4"
    os.mkfifo(fifo)
    sock_path = root / "s.mp4"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        roots = AllowedRoots([str(root)])
        for path in (fifo, sock_path):
            with pytest.raises(InvalidArgument, match="not a regular file"):
                roots.resolve(str(path))
    finally:
        server.close()

