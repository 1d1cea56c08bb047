"""The status-code catalogue (issue 7, part 9): bad requests to every RPC of the three
services, each with the code it must get and a message that says what to do, through real
servers; after each service's cases it still answers health and nothing was stored.

One table; a case is (service, label, call, expected code). A new RPC or a new validation
adds rows here."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from videosearch.common.page_tokens import PageTokens
from videosearch.common.tensors import to_tensor
from videosearch.v1 import embedder_pb2, indexer_pb2, searcher_pb2, tensor_pb2, video_pb2

pytestmark = pytest.mark.timeout(600)
INVALID, NOT_FOUND, DENIED, PRECONDITION = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                                            grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.FAILED_PRECONDITION)
# A message says what to do: it names a fix, a valid range or the next step.
_ADVICE = re.compile(r"\b(use|give|send|set|check|retry|must|need|needs|start|add|move|submit|describe|list|leave|"
                     r"wait|raise|fix|ask|search|name|re-?index|between|at most|at least|expected|should)\b|;", re.I)


@dataclass(frozen=True)
class Case:
    service: str
    label: str
    call: Callable[[], object]
    code: grpc.StatusCode


def _tensor(dtype, shape, data=b"") -> tensor_pb2.Tensor:
    return tensor_pb2.Tensor(dtype=dtype, shape=shape, data=data)


def _unit(dim: int) -> np.ndarray:
    vector = np.zeros(dim, np.float32)
    vector[0] = 1.0
    return vector


def embedder_cases(live) -> list[Case]:
    e, size, dim = live.embedder, live.image_size, live.dim
    f32, u8 = tensor_pb2.DATA_TYPE_FLOAT32, tensor_pb2.DATA_TYPE_UINT8
    pixel_tensors = {
        "no tensor": tensor_pb2.Tensor(),
        "dtype unset": _tensor(0, [1, 3, size, size], bytes(3 * size * size)),
        "dtype 99": _tensor(99, [1, 3, size, size], bytes(3 * size * size)),
        "3-D pixels": to_tensor(np.zeros((3, size, size), np.uint8)),
        "5-D pixels": to_tensor(np.zeros((1, 1, 3, size, size), np.uint8)),
        "4 channels": to_tensor(np.zeros((1, 4, size, size), np.uint8)),
        "1 channel": to_tensor(np.zeros((1, 1, size, size), np.uint8)),
        "height not the crop size": to_tensor(np.zeros((1, 3, size + 1, size), np.uint8)),
        "width not the crop size": to_tensor(np.zeros((1, 3, size, size - 1), np.uint8)),
        "bytes short of the shape": _tensor(u8, [1, 3, size, size], bytes(10)),
        "bytes past the shape": _tensor(u8, [1, 3, size, size], bytes(3 * size * size + 1)),
        "negative dimension": _tensor(u8, [-1, 3, size, size]),
        "shape overflowing int64": _tensor(f32, [2**32, 2**32]),
        "shape [2**62,4,1,1]": _tensor(f32, [2**62, 4, 1, 1]),
        "nine dimensions": _tensor(u8, [1] * 9, b"\x00"),
        "NaN pixel values": to_tensor(np.full((1, 3, size, size), np.nan, np.float32)),
        "too many images": to_tensor(np.zeros((live.max_images_per_request + 1, 3, size, size), np.uint8)),
        "FLOAT16 bytes short of the shape": _tensor(tensor_pb2.DATA_TYPE_FLOAT16, [1, 3, size, size], bytes(3 * size * size)),
        "no dimensions": _tensor(u8, [], b""),
    }
    cases = []
    for label, tensor in pixel_tensors.items():
        request = embedder_pb2.EmbedImagesRequest(pixel_values=tensor)
        cases.append(Case("embedder", f"EmbedImages: {label}", lambda r=request: e.EmbedImages(r, timeout=30), INVALID))
        chunk = embedder_pb2.StreamEmbedImagesRequest(pixel_values=tensor)
        cases.append(Case("embedder", f"StreamEmbedImages: {label}",
                          lambda r=chunk: list(e.StreamEmbedImages(iter([r]), timeout=30)), INVALID))
    texts = {
        "no texts": [],
        "an empty text": [""],
        "a blank text": ["   "],
        "one good, one empty": ["a red circle", ""],
        "too many texts": ["a red circle"] * (live.max_texts_per_request + 1),
    }
    for label, batch in texts.items():
        cases.append(Case("embedder", f"EmbedTexts: {label}",
                          lambda b=batch: e.EmbedTexts(embedder_pb2.EmbedTextsRequest(texts=b), timeout=30), INVALID))
    return cases


def _upsert(live, *, video=None, scenes=None, embeddings=None, moments=None, extra=None, **video_fields):
    base = dict(video_id="catalogue", uri="/v/catalogue.mp4", model_id=live.model_id, embedding_dim=live.dim,
                fps_numerator=25, fps_denominator=1, duration_seconds=2.4, frame_count=60, width=64, height=48)
    base.update(video_fields)
    message = video if video is not None else video_pb2.Video(**base)
    if scenes is None:
        scenes = [video_pb2.Scene(index=0, start_frame=0, end_frame=30, start_seconds=0.0, end_seconds=1.2),
                  video_pb2.Scene(index=1, start_frame=30, end_frame=60, start_seconds=1.2, end_seconds=2.4)]
    if embeddings is None:
        embeddings = to_tensor(np.stack([_unit(live.dim)] * (len(moments) if moments else len(scenes))))
    request = searcher_pb2.UpsertVideoRequest(video=message, scenes=scenes, embeddings=embeddings, moments=moments or [],
                                              **(extra or {}))
    return lambda: live.searcher.UpsertVideo(request, timeout=30)


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height pixels (a decompression bomb's shape)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def _issue9_search_cases(live, search) -> list[Case]:
    """Composite queries, images, examples, filters and pages (issue 9)."""
    term, ref = searcher_pb2.QueryTerm, searcher_pb2.SceneReference
    text = term(text="a red circle")
    limits = [("terms: an empty term", dict(terms=[term(weight=2.0)]), INVALID),
              ("terms: NaN weight", dict(terms=[term(text="a red circle", weight=float("nan"))]), INVALID),
              ("terms: weight 1000", dict(terms=[term(text="a red circle", weight=1000.0)]), INVALID),
              ("terms: 17 terms", dict(terms=[text] * 17), INVALID),
              ("terms: blank text", dict(terms=[term(text="  ")]), INVALID),
              ("terms: embedding without a vector", dict(terms=[term(embedding=searcher_pb2.QueryEmbedding())]), INVALID),
              ("terms: image that is no image", dict(terms=[term(image=b"GIF89a not a picture")]), INVALID),
              ("terms: truncated JPEG", dict(terms=[term(image=b"\xff\xd8\xff\xe0" + bytes(20))]), INVALID),
              ("terms: PNG declaring 100000 x 100000 pixels", dict(terms=[term(image=_png_declaring(100_000, 100_000))]),
               INVALID),
              ("terms: scene of an empty video id", dict(terms=[term(scene=ref(scene_index=0))]), INVALID),
              ("terms: scene index -1", dict(terms=[term(scene=ref(video_id="v", scene_index=-1))]), INVALID),
              ("terms: unknown video", dict(terms=[term(video_id="nope")]), NOT_FOUND),
              ("terms: scene of an unknown video", dict(terms=[term(scene=ref(video_id="nope", scene_index=0))]), NOT_FOUND),
              ("filter: min duration above max", dict(text="a red circle", filter=searcher_pb2.SearchFilter(
                  min_duration_seconds=9.0, max_duration_seconds=1.0)), INVALID),
              ("filter: negative duration", dict(text="a red circle", filter=searcher_pb2.SearchFilter(
                  min_duration_seconds=-1.0)), INVALID),
              ("filter: min_score 2", dict(text="a red circle", filter=searcher_pb2.SearchFilter(min_score=2.0)), INVALID),
              ("filter: relative folder", dict(text="a red circle", filter=searcher_pb2.SearchFilter(folder="videos")),
               INVALID),
              ("page_token it never made", dict(text="a red circle", page_token="garbage!"), INVALID)]
    timed = searcher_pb2.SearchFilter()
    timed.indexed_after.seconds, timed.indexed_before.seconds = 2_000_000_000, 1_000_000_000
    limits.append(("filter: indexed_after after indexed_before", dict(text="a red circle", filter=timed), INVALID))
    far = searcher_pb2.SearchFilter()
    far.indexed_after.seconds = 2**62
    limits.append(("filter: indexed_after past year 9999", dict(text="a red circle", filter=far), INVALID))
    return [Case("searcher", f"Search: {label}", search(**fields), code) for label, fields, code in limits]


def _issue9_thumbnail_and_extras_cases(live) -> list[Case]:
    s = live.searcher
    thumbnail = searcher_pb2.GetSceneThumbnailRequest
    jpeg = b"\xff\xd8\xff\xe0" + bytes(60)
    thumbs = [searcher_pb2.Thumbnail(image_jpeg=jpeg, width=32, height=24, frame=15),
              searcher_pb2.Thumbnail(image_jpeg=jpeg, width=32, height=24, frame=45)]
    frame = searcher_pb2.SampledFrame
    frames = [frame(moment_index=0, frame=10), frame(moment_index=1, frame=40)]
    units = to_tensor(np.stack([_unit(live.dim)] * 2))
    upserts = {
        "one thumbnail for two scenes": dict(scene_thumbnails=thumbs[:1]),
        "a thumbnail that is not a JPEG": dict(scene_thumbnails=[searcher_pb2.Thumbnail(
            image_jpeg=b"GIF89a", width=32, height=24, frame=15), thumbs[1]]),
        "a thumbnail over the byte limit": dict(scene_thumbnails=[searcher_pb2.Thumbnail(
            image_jpeg=jpeg + bytes(300 * 1024), width=32, height=24, frame=15), thumbs[1]]),
        "a thumbnail of another scene's frame": dict(scene_thumbnails=[thumbs[1], thumbs[1]]),
        "a thumbnail 0 pixels wide": dict(scene_thumbnails=[searcher_pb2.Thumbnail(
            image_jpeg=jpeg, height=24, frame=15), thumbs[1]]),
        "sampled frames without embeddings": dict(sampled_frames=frames),
        "frame embeddings without sampled frames": dict(frame_embeddings=units),
        "a sampled frame outside its moment": dict(sampled_frames=[frame(moment_index=0, frame=40), frames[1]],
                                                   frame_embeddings=units),
        "sampled frames that do not match the moments' counts": dict(sampled_frames=frames, frame_embeddings=units),
        "unnormalized frame embeddings": dict(sampled_frames=frames,
                                              frame_embeddings=to_tensor(np.ones((2, live.dim), np.float32))),
    }
    two = [video_pb2.Scene(index=i, start_frame=30 * i, end_frame=30 * i + 30, start_seconds=1.2 * i,
                           end_seconds=1.2 * i + 1.2, sampled_frames=1) for i in range(2)]
    cases = [Case("searcher", f"UpsertVideo: {label}",
                  _upsert(live, scenes=two if label != "sampled frames that do not match the moments' counts" else None,
                          extra=extra), INVALID)
             for label, extra in upserts.items()]
    cases += [
        Case("searcher", "GetSceneThumbnail: empty id", lambda: s.GetSceneThumbnail(thumbnail(), timeout=30), INVALID),
        Case("searcher", "GetSceneThumbnail: scene -1",
             lambda: s.GetSceneThumbnail(thumbnail(video_id="v", scene_index=-1), timeout=30), INVALID),
        Case("searcher", "GetSceneThumbnail: unknown video",
             lambda: s.GetSceneThumbnail(thumbnail(video_id="nope"), timeout=30), NOT_FOUND),
        Case("searcher", "GetVideo: unknown id with embeddings",
             lambda: s.GetVideo(searcher_pb2.GetVideoRequest(video_id="nope", include_embeddings=True), timeout=30),
             NOT_FOUND),
    ]
    return cases


def searcher_cases(live) -> list[Case]:
    s, dim = live.searcher, live.dim
    scene = video_pb2.Scene

    def search(**fields):
        return lambda: s.Search(searcher_pb2.SearchRequest(**fields), timeout=30)

    def vector(array, **fields):
        return search(embedding=searcher_pb2.QueryEmbedding(vector=to_tensor(np.asarray(array, np.float32)), **fields))

    good = _unit(dim)
    cases = [
        Case("searcher", "Search: no query", search(), INVALID),
        Case("searcher", "Search: blank text", search(text="   "), INVALID),
        Case("searcher", "Search: top_k -1", search(text="a red circle", top_k=-1), INVALID),
        Case("searcher", "Search: top_k 1001", search(text="a red circle", top_k=1001), INVALID),
        Case("searcher", "Search: scenes_per_video -1", search(text="a red circle", scenes_per_video=-1), INVALID),
        Case("searcher", "Search: scenes_per_video 101", search(text="a red circle", scenes_per_video=101), INVALID),
        Case("searcher", "Search: video_scoring 99", search(text="a red circle", video_scoring=99), INVALID),
        Case("searcher", "Search: mode 99", search(text="a red circle", mode=99), INVALID),
        Case("searcher", "Search: vector of the wrong dimension", vector((np.ones(dim + 1) / np.sqrt(dim + 1)).astype(np.float32)), INVALID),
        Case("searcher", "Search: zero vector", vector(np.zeros(dim)), INVALID),
        Case("searcher", "Search: NaN vector", vector(np.full(dim, np.nan)), INVALID),
        Case("searcher", "Search: infinite vector", vector(np.full(dim, np.inf)), INVALID),
        Case("searcher", "Search: 2-D vector of 2 rows", vector(np.stack([good, good])), INVALID),
        Case("searcher", "Search: empty vector", vector(np.zeros(0)), INVALID),
        Case("searcher", "Search: UINT8 vector", search(embedding=searcher_pb2.QueryEmbedding(
            vector=_tensor(tensor_pb2.DATA_TYPE_UINT8, [dim], bytes(dim)))), INVALID),
        Case("searcher", "Search: vector shape overflowing int64", search(embedding=searcher_pb2.QueryEmbedding(
            vector=_tensor(tensor_pb2.DATA_TYPE_FLOAT32, [2**32, 2**32]))), INVALID),
        Case("searcher", "Search: vector without dtype", search(embedding=searcher_pb2.QueryEmbedding(
            vector=_tensor(0, [dim], bytes(4 * dim)))), INVALID),
        Case("searcher", "Search: vector of another model", vector(good, model_id="another/model"), PRECONDITION),
        Case("searcher", "GetVideo: empty id", lambda: s.GetVideo(searcher_pb2.GetVideoRequest(), timeout=30), INVALID),
        Case("searcher", "GetVideo: id over 256 characters",
             lambda: s.GetVideo(searcher_pb2.GetVideoRequest(video_id="x" * 257), timeout=30), INVALID),
        Case("searcher", "GetVideo: NUL in the id",
             lambda: s.GetVideo(searcher_pb2.GetVideoRequest(video_id="a\x00b"), timeout=30), INVALID),
        Case("searcher", "GetVideo: unknown id",
             lambda: s.GetVideo(searcher_pb2.GetVideoRequest(video_id="nope"), timeout=30), NOT_FOUND),
        Case("searcher", "DeleteVideo: empty id", lambda: s.DeleteVideo(searcher_pb2.DeleteVideoRequest(), timeout=30), INVALID),
        Case("searcher", "DeleteVideo: id over 256 characters",
             lambda: s.DeleteVideo(searcher_pb2.DeleteVideoRequest(video_id="x" * 257), timeout=30), INVALID),
        Case("searcher", "DeleteVideo: unknown id",
             lambda: s.DeleteVideo(searcher_pb2.DeleteVideoRequest(video_id="nope"), timeout=30), NOT_FOUND),
        *[Case("searcher", f"UpdateVideoLocations: {label}", lambda r=request: s.UpdateVideoLocations(r, timeout=30), code)
          for label, request, code in _location_updates()],
        Case("searcher", "ListVideos: negative page size",
             lambda: s.ListVideos(searcher_pb2.ListVideosRequest(page_size=-1), timeout=30), INVALID),
        Case("searcher", "ListVideos: a page token it never made",
             lambda: s.ListVideos(searcher_pb2.ListVideosRequest(page_token="garbage!"), timeout=30), INVALID),
        Case("searcher", "ListVideos: a base64 page token it never made",
             lambda: s.ListVideos(searcher_pb2.ListVideosRequest(page_token="aGVsbG8="), timeout=30), INVALID),
    ]
    two = [scene(index=0, start_frame=0, end_frame=30, start_seconds=0.0, end_seconds=1.2),
           scene(index=1, start_frame=30, end_frame=60, start_seconds=1.2, end_seconds=2.4)]
    upserts = {
        "no video": _upsert(live, video=video_pb2.Video()),
        "empty video id": _upsert(live, video_id=""),
        "video id with NUL": _upsert(live, video_id="a\x00b"),
        "video id over 256 characters": _upsert(live, video_id="x" * 257),
        "no model id": _upsert(live, model_id=""),
        "embedding_dim 0": _upsert(live, embedding_dim=0),
        "fps 0/1": _upsert(live, fps_numerator=0),
        "fps 25/0": _upsert(live, fps_denominator=0),
        "negative fps": _upsert(live, fps_numerator=-25),
        "NaN duration": _upsert(live, duration_seconds=float("nan")),
        "negative duration": _upsert(live, duration_seconds=-1.0),
        "infinite duration": _upsert(live, duration_seconds=float("inf")),
        "negative frame count": _upsert(live, frame_count=-1),
        "negative width": _upsert(live, width=-1),
        "scenes past the frame count": _upsert(live, frame_count=40),
        "indexed_at past year 9999": _upsert(live, video=_with_timestamp(live, 2**62)),
        "indexed_at before year 1": _upsert(live, video=_with_timestamp(live, -(2**40))),
        "no scenes": _upsert(live, scenes=[], embeddings=to_tensor(np.zeros((0, live.dim), np.float32))),
        "scene indexes out of order": _upsert(live, scenes=[two[1], two[0]]),
        "scene index 5": _upsert(live, scenes=[scene(index=5, start_frame=0, end_frame=30, end_seconds=1.2)]),
        "negative start frame": _upsert(live, scenes=[scene(index=0, start_frame=-1, end_frame=30, end_seconds=1.2)]),
        "empty scene": _upsert(live, scenes=[scene(index=0, start_frame=10, end_frame=10, end_seconds=1.2)]),
        "overlapping scenes": _upsert(live, scenes=[two[0], scene(index=1, start_frame=20, end_frame=60,
                                                                  start_seconds=0.8, end_seconds=2.4)]),
        "NaN scene time": _upsert(live, scenes=[scene(index=0, start_frame=0, end_frame=30,
                                                      start_seconds=float("nan"), end_seconds=1.2)]),
        "scene ending before it starts": _upsert(live, scenes=[scene(index=0, start_frame=0, end_frame=30,
                                                                     start_seconds=2.0, end_seconds=1.0)]),
        "negative sampled frames": _upsert(live, scenes=[scene(index=0, start_frame=0, end_frame=30, end_seconds=1.2,
                                                               sampled_frames=-1)]),
        "one embedding for two scenes": _upsert(live, embeddings=to_tensor(np.stack([_unit(live.dim)]))),
        "embeddings of the wrong dimension": _upsert(live, embeddings=to_tensor((np.ones((2, live.dim + 1)) / np.sqrt(live.dim + 1)).astype(np.float32))),
        "unnormalized embeddings": _upsert(live, embeddings=to_tensor(np.ones((2, live.dim), np.float32))),
        "NaN embeddings": _upsert(live, embeddings=to_tensor(np.full((2, live.dim), np.nan, np.float32))),
        "UINT8 embeddings": _upsert(live, embeddings=_tensor(tensor_pb2.DATA_TYPE_UINT8, [2, live.dim], bytes(2 * live.dim))),
        "embeddings shape overflowing int64": _upsert(live, embeddings=_tensor(tensor_pb2.DATA_TYPE_FLOAT32, [2**62, 4, 1, 1])),
        "embeddings without dtype": _upsert(live, embeddings=_tensor(0, [2, live.dim], bytes(8 * live.dim))),
        "1-D embeddings": _upsert(live, embeddings=to_tensor(np.stack([_unit(live.dim)] * 2).reshape(-1))),
        "moments with a gap": _upsert(live, moments=[
            video_pb2.Moment(index=0, scene_index=0, start_frame=0, end_frame=20, end_seconds=0.8),
            video_pb2.Moment(index=1, scene_index=1, start_frame=30, end_frame=60, start_seconds=1.2, end_seconds=2.4)]),
        "moments out of order": _upsert(live, moments=[
            video_pb2.Moment(index=1, scene_index=0, start_frame=0, end_frame=30, end_seconds=1.2),
            video_pb2.Moment(index=0, scene_index=1, start_frame=30, end_frame=60, start_seconds=1.2, end_seconds=2.4)]),
        "moment outside its scene": _upsert(live, moments=[
            video_pb2.Moment(index=0, scene_index=1, start_frame=0, end_frame=60, end_seconds=2.4)]),
        "moment naming scene 9": _upsert(live, moments=[
            video_pb2.Moment(index=0, scene_index=9, start_frame=0, end_frame=60, end_seconds=2.4)]),
        "moments short of the end": _upsert(live, moments=[
            video_pb2.Moment(index=0, scene_index=0, start_frame=0, end_frame=40, end_seconds=1.6)]),
        "negative height": _upsert(live, height=-1),
        "moment index 5": _upsert(live, moments=[
            video_pb2.Moment(index=5, scene_index=0, start_frame=0, end_frame=60, end_seconds=2.4)]),
        "empty moment": _upsert(live, moments=[
            video_pb2.Moment(index=0, scene_index=0, start_frame=0, end_frame=0),
            video_pb2.Moment(index=1, scene_index=0, start_frame=0, end_frame=60, end_seconds=2.4)]),
        "NaN moment time": _upsert(live, moments=[
            video_pb2.Moment(index=0, scene_index=0, start_frame=0, end_frame=60, start_seconds=float("nan"),
                             end_seconds=2.4)]),
        "negative moment sampled frames": _upsert(live, moments=[
            video_pb2.Moment(index=0, scene_index=0, start_frame=0, end_frame=60, end_seconds=2.4, sampled_frames=-2)]),
        "two locations with one path": _upsert(live, locations=[video_pb2.VideoLocation(path="/v/a.mp4")] * 2),
        "moment past the end": _upsert(live, moments=[
            video_pb2.Moment(index=0, scene_index=0, start_frame=0, end_frame=90, end_seconds=3.6)]),
    }
    cases += [Case("searcher", f"UpsertVideo: {label}", call, INVALID) for label, call in upserts.items()]
    cases.append(Case("searcher", "UpsertVideo: another model than the collection's",
                      _upsert(live, video_id="other-model", model_id="another/model"), PRECONDITION))
    return cases + _issue9_search_cases(live, search) + _issue9_thumbnail_and_extras_cases(live)


def _location_updates() -> list[tuple[str, searcher_pb2.UpdateVideoLocationsRequest, grpc.StatusCode]]:
    here = video_pb2.VideoLocation(path="/v/here.mp4", size_bytes=10, mtime_ns=1)
    request = searcher_pb2.UpdateVideoLocationsRequest
    return [
        ("empty id", request(locations=[here]), INVALID),
        ("no locations", request(video_id="nope"), INVALID),
        ("empty path", request(video_id="nope", locations=[video_pb2.VideoLocation()]), INVALID),
        ("one path twice", request(video_id="nope", locations=[here, here]), INVALID),
        ("negative size", request(video_id="nope", locations=[video_pb2.VideoLocation(path="/v/a.mp4", size_bytes=-1)]),
         INVALID),
        ("a 1 MiB path", request(video_id=RESIDENT, locations=[video_pb2.VideoLocation(path="/" + "a" * (1 << 20))]),
         INVALID),
        ("a name over 255 bytes", request(video_id=RESIDENT, locations=[video_pb2.VideoLocation(path="/v/" + "a" * 256)]),
         INVALID),
        ("20,000 locations", request(video_id=RESIDENT, locations=[
            video_pb2.VideoLocation(path=f"/v/copy-{n}.mp4") for n in range(20_000)]), INVALID),
        ("unknown id", request(video_id="nope", locations=[here]), NOT_FOUND),
    ]


def _with_timestamp(live, seconds: int) -> video_pb2.Video:
    message = video_pb2.Video(video_id="catalogue", uri="/v/catalogue.mp4", model_id=live.model_id,
                              embedding_dim=live.dim, fps_numerator=25, fps_denominator=1, duration_seconds=2.4,
                              frame_count=60)
    message.indexed_at.seconds = seconds
    return message


def _listening_socket(path):
    import socket

    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    return sock


def indexer_cases(live) -> list[Case]:
    i, root = live.indexer, live.root
    fifo = root / "pipe.mp4"
    if not fifo.exists():
        os.mkfifo(fifo)
    (root / "folder").mkdir(exist_ok=True)
    video = root / "empty.mp4"
    video.write_bytes(b"")
    escape = root / "escape.mp4"
    if not escape.is_symlink():
        escape.symlink_to("/etc/hostname")
    socket_path = root / "sock.mp4"
    if not socket_path.exists():
        live.keep_open.append(_listening_socket(socket_path))
    a_file = root / "a-file.mp4"
    a_file.write_bytes(b"\0" * 64)
    outside = root.parent / f"{root.name}-outside.mp4"  # the same file system, outside the root
    outside.write_bytes(b"\0" * 64)
    hard_link = root / "hard-link.mp4"
    if not hard_link.exists():
        os.link(outside, hard_link)
    long_id = "x" * 100_000

    def submit(path: str, **options):
        request = indexer_pb2.SubmitIndexJobRequest(path=path, options=indexer_pb2.IndexOptions(**options))
        return lambda: i.SubmitIndexJob(request, timeout=30)

    paths = {
        "empty path": ("", INVALID),
        "blank path": ("   ", INVALID),
        "relative path": ("videos/a.mp4", INVALID),
        "NUL in the path": (f"{root}/a\x00b.mp4", INVALID),
        "a name over 255 bytes": (f"{root}/{'a' * 256}.mp4", INVALID),
        "a path over 4096 bytes": (f"{root}/" + "/".join(["d" * 200] * 21), INVALID),
        "a FIFO": (str(fifo), INVALID),
        "a folder": (str(root / "folder"), INVALID),
        "a missing file": (str(root / "missing.mp4"), NOT_FOUND),
        "outside the allowed roots": ("/etc/hostname", DENIED),
        "escaping the root with ..": (f"{root}/../outside.mp4", DENIED),
        "/proc/self/environ": ("/proc/self/environ", DENIED),
        "a symlink out of the root": (str(escape), DENIED),
        "a Unix socket": (str(socket_path), INVALID),
        "a file named with a trailing slash": (f"{a_file}/", INVALID),
        "a hard link to a file outside the root": (str(hard_link), DENIED),
    }
    cases = [Case("indexer", f"SubmitIndexJob: {label}", submit(path), code) for label, (path, code) in paths.items()]
    bad_options = {
        "detector_threshold -1": {"detector_threshold": -1.0},
        "detector_threshold 300": {"detector_threshold": 300.0},
        "detector_threshold NaN": {"detector_threshold": float("nan")},
        "min_scene_frames -5": {"min_scene_frames": -5},
        "min_scene_frames 1e6": {"min_scene_frames": 1_000_000},
        "frames_per_scene -1": {"frames_per_scene": -1},
        "frames_per_scene 65": {"frames_per_scene": 65},
        "seconds_per_sample -1": {"seconds_per_sample": -1.0},
        "seconds_per_sample NaN": {"seconds_per_sample": float("nan")},
        "min_frames_per_scene -1": {"min_frames_per_scene": -1},
        "max_frames_per_scene -1": {"max_frames_per_scene": -1},
        "min above max frames per scene": {"min_frames_per_scene": 50, "max_frames_per_scene": 10},
        "unknown detector": {"detector": "psychic"},
        "detector with an empty part": {"detector": "content+"},
        "max_frames_per_scene 1e6": {"max_frames_per_scene": 1_000_000},
    }
    cases += [Case("indexer", f"SubmitIndexJob: {label}", submit(str(video), **options), INVALID)
              for label, options in bad_options.items()]
    cases += [
        Case("indexer", "GetIndexJob: empty id", lambda: i.GetIndexJob(indexer_pb2.GetIndexJobRequest(), timeout=30),
             INVALID),
        Case("indexer", "GetIndexJob: unknown id",
             lambda: i.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id="nope"), timeout=30), NOT_FOUND),
        Case("indexer", "CancelIndexJob: empty id",
             lambda: i.CancelIndexJob(indexer_pb2.CancelIndexJobRequest(), timeout=30), INVALID),
        Case("indexer", "CancelIndexJob: unknown id",
             lambda: i.CancelIndexJob(indexer_pb2.CancelIndexJobRequest(job_id="nope"), timeout=30), NOT_FOUND),
        Case("indexer", "WatchIndexJob: empty id",
             lambda: list(i.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(), timeout=30)), INVALID),
        Case("indexer", "WatchIndexJob: unknown id",
             lambda: list(i.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id="nope"), timeout=30)), NOT_FOUND),
        Case("indexer", "ListIndexJobs: negative page size",
             lambda: i.ListIndexJobs(indexer_pb2.ListIndexJobsRequest(page_size=-1), timeout=30), INVALID),
        Case("indexer", "GetIndexJob: a 100,000-character id",
             lambda: i.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=long_id), timeout=30), INVALID),
        Case("indexer", "CancelIndexJob: a 100,000-character id",
             lambda: i.CancelIndexJob(indexer_pb2.CancelIndexJobRequest(job_id=long_id), timeout=30), INVALID),
        Case("indexer", "WatchIndexJob: a 100,000-character id",
             lambda: list(i.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=long_id), timeout=30)), INVALID),
        Case("indexer", "ListIndexJobs: a real page token with '====' appended",
             lambda: i.ListIndexJobs(indexer_pb2.ListIndexJobsRequest(
                 page_token=PageTokens("ListIndexJobs", int).encode(5) + "===="), timeout=30), INVALID),
        Case("indexer", "ListIndexJobs: a page token it never made",
             lambda: i.ListIndexJobs(indexer_pb2.ListIndexJobsRequest(page_token="garbage!"), timeout=30), INVALID),
    ]
    return cases


def test_the_catalogue_has_at_least_150_cases_across_the_three_services(with_resident_video):
    live_services = with_resident_video
    cases = embedder_cases(live_services) + searcher_cases(live_services) + indexer_cases(live_services)
    assert len(cases) >= 150 and {c.service for c in cases} == {"embedder", "searcher", "indexer"}
    assert len({c.label for c in cases}) == len(cases)


RESIDENT = "resident"


@pytest.fixture(scope="module")
def with_resident_video(live_services):
    """One stored video, so that requests are checked against a collection (its model and
    dimension), and so that a request that wrongly stored or deleted something shows."""
    _upsert(live_services, video_id=RESIDENT, uri="/v/resident.mp4")()
    live_services.keep_open = []
    yield live_services
    for sock in live_services.keep_open:
        sock.close()


@pytest.mark.parametrize("service", ["embedder", "searcher", "indexer"])
def test_every_bad_request_gets_its_code_and_advice_and_the_service_still_serves(with_resident_video, service):
    live_services = with_resident_video
    cases = {"embedder": embedder_cases, "searcher": searcher_cases, "indexer": indexer_cases}[service](live_services)
    wrong = []
    for case in cases:
        try:
            case.call()
        except grpc.RpcError as exc:
            code, details = exc.code(), exc.details() or ""
        else:
            code, details = grpc.StatusCode.OK, ""
        if (code != case.code or not _ADVICE.search(details) or "internal" in details.lower()
                or len(details) > 5000):
            wrong.append(f"{case.label}: got {code.name} {details!r}, want {case.code.name} with advice")
    assert not wrong, "\n".join(wrong)
    health = health_pb2_grpc.HealthStub(live_services.channels[service])
    assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING
    stats = live_services.searcher.GetStats(searcher_pb2.GetStatsRequest(), timeout=5)
    assert (stats.video_count, stats.scene_count) == (1, 2), "no bad request stored or removed anything"
    resident = live_services.searcher.GetVideo(searcher_pb2.GetVideoRequest(video_id=RESIDENT), timeout=5)
    assert resident.video.uri == "/v/resident.mp4" and len(resident.scenes) == 2
    jobs = live_services.indexer.ListIndexJobs(indexer_pb2.ListIndexJobsRequest(), timeout=5).jobs
    assert not jobs, "no bad request started a job"
