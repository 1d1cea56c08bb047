"""Builders of videos, scenes and vectors for the Searcher tests (plain functions,
imported by the test modules; pytest puts this folder on sys.path)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from videosearch.searcher.service import Searcher, QueryEmbedder
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.types import SceneRecord, VideoRecord

MODEL = "test/tiny-clip"
DIM = 16


def open_searcher(data_dir, query_embedder: QueryEmbedder | None = None, **settings) -> Searcher:
    """Searcher.open with the settings a test names (``data_dir`` and any SearcherSettings field)."""
    return Searcher.open(SearcherSettings(data_dir=str(data_dir), **settings), query_embedder)


def serve_with_embedder(servicer, data_dir, *, embedder_workers: int = 8, **settings):
    """(embedder server, Searcher app): a real gRPC server on port 0 running ``servicer`` (a test's
    own EmbedderServiceServicer) and a SERVING Searcher (real gRPC, LevelDB in ``data_dir``, no
    ANN) that embeds its text queries there; ``settings``: more SearcherSettings fields."""
    from concurrent import futures

    import grpc

    from videosearch.searcher.server import serve
    from videosearch.v1 import embedder_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=embedder_workers))
    embedder_pb2_grpc.add_EmbedderServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    settings = {"ann": "none", **settings}
    app = serve(SearcherSettings(port=0, data_dir=str(data_dir), embedder_address=f"127.0.0.1:{port}", **settings))
    return server, app


def model_info_response(model_id: str, dim: int):
    """What a test's Embedder servicer answers GetModelInfo with: ``model_id``, ``dim``-d."""
    from videosearch.v1 import embedder_pb2

    return embedder_pb2.GetModelInfoResponse(
        model_id=model_id, embedding_dim=dim, max_texts_per_request=64, max_images_per_request=8
    )


def fill_searcher(data_dir, vectors, id_width: int) -> None:
    """Stores video ``v{i}`` (zero-padded to ``id_width`` digits) with the rows ``vectors[i]`` as its
    scenes, through a float32 Searcher without ANN that is closed again."""
    searcher = open_searcher(data_dir, ann="none", ranking_precision="float32")
    try:
        for i, rows in enumerate(vectors):
            video = make_video(f"v{i:0{id_width}d}", len(rows), dim=rows.shape[1])
            searcher.upsert_video(video, make_scenes(len(rows)), rows)
    finally:
        searcher.close()


def make_video(
    video_id: str, n_scenes: int = 3, *, model_id: str = MODEL, dim: int = DIM, fps=Fraction(30000, 1001), length: int = 30
) -> VideoRecord:
    """A video of ``n_scenes`` scenes of ``length`` frames each, matching make_scenes(n_scenes, fps, length)."""
    return VideoRecord(
        video_id=video_id,
        uri=f"/videos/{video_id}.mp4",
        duration_seconds=float(n_scenes * length / fps),
        fps=fps,
        frame_count=n_scenes * length,
        width=320,
        height=240,
        content_sha256=(video_id.encode().hex() * 64)[:64],
        model_id=model_id,
        embedding_dim=dim,
        scene_count=n_scenes,
    )


def make_scenes(n: int, fps=Fraction(30000, 1001), length: int = 30) -> list[SceneRecord]:
    return [
        SceneRecord(
            index=i,
            start_frame=i * length,
            end_frame=(i + 1) * length,
            start_seconds=float(i * length / fps),
            end_seconds=float((i + 1) * length / fps),
            sampled_frames=2,
        )
        for i in range(n)
    ]


def unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def random_unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    return unit(rng.standard_normal((n, dim)))


def one_hot(n: int, positions: list[int], dim: int = DIM) -> np.ndarray:
    out = np.zeros((n, dim), np.float32)
    out[np.arange(n), positions] = 1.0
    return out


def write_old_store(data_dir, schema: int, rng: np.random.Generator, video_id: str = "old", n: int = 2) -> np.ndarray:
    """A store as schema 2 or 3 wrote it (moments; no frames/, thumb/ or text/ keys) holding one
    video of ``n`` one-moment scenes; returns its vectors."""
    import json

    import plyvel

    from videosearch.searcher.storage.store import scenes_to_json

    path = data_dir / "leveldb"
    path.mkdir(parents=True)
    db = plyvel.DB(str(path), create_if_missing=True)
    db.put(b"meta/schema", str(schema).encode())
    db.put(b"meta/collection", json.dumps({"model_id": MODEL, "embedding_dim": DIM, "dtype": "<f4"}).encode())
    video = make_video(video_id, n)
    record = {"video_id": video_id, "uri": video.uri, "duration_seconds": video.duration_seconds,
              "fps_numerator": 30000, "fps_denominator": 1001, "frame_count": 30 * n, "width": 320, "height": 240,
              "content_sha256": video.content_sha256, "model_id": MODEL, "embedding_dim": DIM, "indexed_at": None,
              "scene_count": n, "moment_count": n, "scene_serial_base": 0}
    key = video_id.encode()
    db.put(b"video/" + key, json.dumps(record).encode())
    db.put(b"scenes/" + key, scenes_to_json(video_id, make_scenes(n)))
    db.put(b"moments/" + key, json.dumps([[i, 30 * i, 30 * i + 30, i, i + 1.0, 2] for i in range(n)]).encode())
    vectors = random_unit(rng, n)
    for i, row in enumerate(vectors):
        db.put(b"emb/" + key + b"\x00" + i.to_bytes(4, "big"), row.astype("<f4").tobytes())
    db.put(b"meta/next_serial", str(n).encode())
    db.close()
    return vectors
