"""The Searcher's storage and ranking on Milvus (pymilvus): Milvus standalone or cluster in
production, milvus-lite (a local file, or its own small server) in tests and CI.

Milvus has no multi-row transactions, so a video's write is made all-or-nothing with
generations (docs/scaling.md has the whole design):

1. its moment rows are inserted under a new generation (``time.time_ns()``), invisible so far;
2. its one row in the videos collection is upserted to point at that generation: the flip,
   a single-row write, so readers see the old version or the new one whole;
3. rows of older generations of that video are deleted.

Readers take a moment row only when its generation is its video's current one, and a
video only when it has all ``moment_count`` rows of it. A crash between 1 and 2 leaves rows
no video points at: ``collect_leftovers`` (run when a backend opens) deletes those older
than ``leftover_grace_s``, so a write still in flight in another process is never taken
for a leftover.

The model id and dimension are a row of the meta collection, written by the first video;
the moments collection is created with that dimension, so Milvus itself refuses a vector
of another size. Deleting the last video drops both, and another model may start anew.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import datetime as dt
import json
import logging
import time
from collections.abc import Iterator

import numpy as np

from videosearch.common.errors import FailedPrecondition, Unavailable
from videosearch.searcher import validation
from videosearch.searcher.ranking.filters import VideoTable
from videosearch.searcher.ranking.index import Candidates, Ranked
from videosearch.searcher.ranking.top_k import best_scenes
from videosearch.searcher.storage.store import (
    Collection,
    check_same_model,
    extras_records,
    frames_from_bytes,
    text_spans_from_json,
    thumbnail_from_bytes,
    video_from_json,
    video_to_json,
)
from videosearch.searcher.types import (
    MomentRecord,
    SampledFrame,
    MomentHit,
    SceneRecord,
    SearchParams,
    TextSpan,
    Thumbnail,
    VideoExtras,
    VideoHit,
    VideoRecord,
    moments_of_scenes,
)

log = logging.getLogger(__name__)

# Index types by where they run (docs/scaling.md says which to pick when):
INDEX_TYPES = ("HNSW", "IVF_FLAT", "FLAT", "DISKANN")
_INDEX_PARAMS = {"HNSW": {"M": 16, "efConstruction": 200}, "IVF_FLAT": {"nlist": 1024}, "FLAT": {}, "DISKANN": {}}
_MAX_LIMIT = 16384  # Milvus's largest search limit (topk)
_VIDEOS_PER_QUERY = 1000
_INSERT_ROWS = 1000
_PAD_DIM = 2  # Milvus wants a vector field in every collection; the videos, blobs and meta ones carry this stub
_BLOB_PART = 48 * 1024  # bytes of a blob per row: base64 of it fits a VARCHAR of 65535


def _quoted(text: str) -> str:
    """A string literal for a Milvus filter expression."""
    return json.dumps(text)


def _unavailable_on_milvus_errors(cls):
    """Every public method: a failure of Milvus itself (down, unreachable, overloaded) comes out
    as Unavailable, which callers retry and the service answers with UNAVAILABLE, not INTERNAL."""

    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except self._error as exc:
                raise Unavailable(
                    f"Milvus at {self.uri} failed: {exc}; check that it runs and is reachable, then try again"
                ) from exc

        return call

    for name, member in list(vars(cls).items()):
        if callable(member) and not name.startswith("_") and name != "close":
            setattr(cls, name, wrap(member))
    return cls


@_unavailable_on_milvus_errors
class MilvusBackend:
    name = "milvus"

    def __init__(
        self,
        uri: str,
        *,
        token: str = "",
        prefix: str = "videosearch",
        index_type: str = "HNSW",
        leftover_grace_s: float = 600.0,
    ) -> None:
        if index_type not in INDEX_TYPES:
            raise ValueError(f"index_type must be one of {', '.join(INDEX_TYPES)}, got {index_type!r}")
        from pymilvus import MilvusClient  # imported here: the embedded default needs no pymilvus
        from pymilvus.exceptions import MilvusException

        self._error = MilvusException
        try:
            self._client = MilvusClient(uri=uri, token=token)
        except MilvusException as exc:
            raise Unavailable(f"Milvus at {uri} is unreachable ({exc}); start it or check --milvus-uri") from None
        self.uri = uri
        self.index_type = index_type
        self._videos, self._moments, self._meta = f"{prefix}_videos", f"{prefix}_moments", f"{prefix}_meta"
        self._blobs = f"{prefix}_blobs"  # sampled frames, thumbnails, text spans; a video generation's like its moments
        self._create(self._videos, self._video_schema())
        self._create(self._meta, self._meta_schema())
        self._create(self._blobs, self._blob_schema())
        self.collect_leftovers(leftover_grace_s)

    # -- schema ----------------------------------------------------------------------
    def _schema(self):
        from pymilvus import MilvusClient

        return MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)

    def _video_schema(self):
        from pymilvus import DataType

        schema = self._schema()
        schema.add_field("video_id", DataType.VARCHAR, is_primary=True, max_length=validation.MAX_VIDEO_ID_LENGTH * 4)
        schema.add_field("generation", DataType.INT64)
        schema.add_field("moment_count", DataType.INT64)
        schema.add_field("record", DataType.VARCHAR, max_length=65535)
        schema.add_field("pad", DataType.FLOAT_VECTOR, dim=_PAD_DIM)
        return schema, ("pad", "FLAT", "L2")

    def _meta_schema(self):
        from pymilvus import DataType

        schema = self._schema()
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("value", DataType.VARCHAR, max_length=4096)
        schema.add_field("pad", DataType.FLOAT_VECTOR, dim=_PAD_DIM)
        return schema, ("pad", "FLAT", "L2")

    def _blob_schema(self):
        from pymilvus import DataType

        schema = self._schema()
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=validation.MAX_VIDEO_ID_LENGTH * 4 + 64)
        schema.add_field("video_id", DataType.VARCHAR, max_length=validation.MAX_VIDEO_ID_LENGTH * 4)
        schema.add_field("generation", DataType.INT64)
        schema.add_field("kind", DataType.VARCHAR, max_length=8)
        schema.add_field("item", DataType.INT64)
        schema.add_field("part", DataType.INT64)
        schema.add_field("blob", DataType.VARCHAR, max_length=65535)
        schema.add_field("pad", DataType.FLOAT_VECTOR, dim=_PAD_DIM)
        return schema, ("pad", "FLAT", "L2")

    def _moment_schema(self, dim: int):
        from pymilvus import DataType

        schema = self._schema()
        schema.add_field(
            "row_id", DataType.VARCHAR, is_primary=True, max_length=validation.MAX_VIDEO_ID_LENGTH * 4 + 48
        )
        schema.add_field("video_id", DataType.VARCHAR, max_length=validation.MAX_VIDEO_ID_LENGTH * 4)
        schema.add_field("generation", DataType.INT64)
        schema.add_field("moment_index", DataType.INT64)
        schema.add_field("spans", DataType.VARCHAR, max_length=1024)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        # Inner product of unit vectors is the cosine the embedded backend ranks by.
        return schema, ("vector", self.index_type, "IP")

    def _create(self, name: str, schema_and_index) -> None:
        if self._client.has_collection(name):
            return
        schema, (field, index_type, metric) = schema_and_index
        index = self._client.prepare_index_params()
        index.add_index(field_name=field, index_type=index_type, metric_type=metric, params=_INDEX_PARAMS[index_type])
        try:
            # Strong: a write through one Searcher is seen by the next read through any other.
            self._client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
        except self._error:
            if not self._client.has_collection(name):  # another process created it meanwhile: fine
                raise

    # -- the collection's model ------------------------------------------------------
    def collection(self) -> Collection | None:
        rows = self._client.get(self._meta, ids=["collection"], output_fields=["value"])
        if not rows:
            return None
        value = json.loads(rows[0]["value"])
        return Collection(value["model_id"], value["embedding_dim"])

    def _claim_model(self, model_id: str, dim: int) -> None:
        collection = self.collection()
        if collection is not None:
            check_same_model(collection, model_id, dim)
            return
        value = json.dumps({"model_id": model_id, "embedding_dim": dim})
        self._client.upsert(self._meta, [{"key": "collection", "value": value, "pad": [0.0] * _PAD_DIM}])
        self._create(self._moments, self._moment_schema(dim))

    # -- writes ----------------------------------------------------------------------
    def put_video(
        self,
        video: VideoRecord,
        scenes: list[SceneRecord],
        embeddings: np.ndarray,
        moments: list[MomentRecord] | None = None,
        extras: VideoExtras = VideoExtras(),
    ) -> bool:
        vectors = validation.validate_upsert(video, scenes, embeddings, moments)
        moments = moments if moments is not None else moments_of_scenes(scenes)
        stored = dataclasses.replace(
            video,
            scene_count=len(scenes),
            moment_count=len(moments),
            indexed_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
        )
        self._claim_model(stored.model_id, stored.embedding_dim)
        earlier = self._video_rows([video.video_id]).get(video.video_id)
        generation = time.time_ns()
        scene_of = {scene.index: scene for scene in scenes}
        rows = [
            {
                "row_id": f"{video.video_id}/{generation}/{moment.index}",
                "video_id": video.video_id,
                "generation": generation,
                "moment_index": moment.index,
                "spans": json.dumps([dataclasses.astuple(moment), dataclasses.astuple(scene_of[moment.scene_index])]),
                "vector": vector.tolist(),
            }
            for moment, vector in zip(moments, vectors)
        ]
        blobs = [
            {
                "key": f"{video.video_id}/{generation}/{kind}/{item}/{part}",
                "video_id": video.video_id,
                "generation": generation,
                "kind": kind,
                "item": item,
                "part": part,
                "blob": base64.b64encode(raw[at : at + _BLOB_PART]).decode("ascii"),
                "pad": [0.0] * _PAD_DIM,
            }
            for kind, item, raw in self._records(scenes, extras)
            for part, at in enumerate(range(0, max(len(raw), 1), _BLOB_PART))
        ]
        try:
            for collection, new_rows in ((self._moments, rows), (self._blobs, blobs)):  # 1. new rows, not yet visible
                for start in range(0, len(new_rows), _INSERT_ROWS):
                    self._client.insert(collection, new_rows[start : start + _INSERT_ROWS])
            current = self._video_rows([video.video_id]).get(video.video_id)
            if current is not None and current["generation"] > generation:
                raise FailedPrecondition(
                    f"video {video.video_id!r} was written meanwhile by a newer write; "
                    "this older one is dropped (send it again to make it the newest)"
                )
            self._client.upsert(
                self._videos,
                [
                    {  # 2. the flip
                        "video_id": video.video_id,
                        "generation": generation,
                        "moment_count": len(moments),
                        "record": video_to_json(stored, 0).decode(),
                        "pad": [0.0] * _PAD_DIM,
                    }
                ],
            )
        except BaseException:
            self._delete_generation(video.video_id, generation)  # best effort; collect_leftovers catches the rest
            raise
        # 3. the old version's rows; a crash before this leaves them to collect_leftovers (so does
        # a new video's: a delete by filter scans, and a new video has no old version to delete).
        if earlier is not None:
            for collection in (self._moments, self._blobs):
                self._client.delete(
                    collection, filter=f"video_id == {_quoted(video.video_id)} and generation < {generation}"
                )
        return earlier is not None

    @staticmethod
    def _records(scenes: list[SceneRecord], extras: VideoExtras) -> Iterator[tuple[str, int, bytes]]:
        """Each scene (a scene may hold no moment of its own: moments join across cuts), then the extras."""
        for scene in scenes:
            yield "scene", scene.index, json.dumps(dataclasses.astuple(scene)).encode()
        yield from extras_records(extras)

    def put_video_record(self, video: VideoRecord) -> bool:
        """Rewrites a stored video's record (its locations), keeping its generation; False when unknown."""
        row = self._video_rows([video.video_id]).get(video.video_id)
        if row is None:
            return False
        self._client.upsert(
            self._videos, [{**row, "record": video_to_json(video, 0).decode(), "pad": [0.0] * _PAD_DIM}]
        )
        return True

    def delete_video(self, video_id: str) -> int | None:
        found = self.get_video(video_id)
        if found is None:
            return None
        self._client.delete(self._videos, ids=[video_id])  # invisible from here on
        for collection in (self._moments, self._blobs):
            self._client.delete(collection, filter=f"video_id == {_quoted(video_id)}")
        if not self._client.query(self._videos, filter="", output_fields=["count(*)"])[0]["count(*)"]:
            # Empty: another model may start a collection (and the moments collection its dimension).
            self._client.delete(self._meta, ids=["collection"])
            self._client.drop_collection(self._moments)
        return found[0].scene_count

    def _delete_generation(self, video_id: str, generation: int) -> None:
        try:
            for collection in (self._moments, self._blobs):
                if self._client.has_collection(collection):
                    self._client.delete(
                        collection, filter=f"video_id == {_quoted(video_id)} and generation == {generation}"
                    )
        except self._error as exc:
            log.warning("could not delete the rows of a failed write of %s (%s); collect_leftovers will", video_id, exc)

    def collect_leftovers(self, grace_s: float = 600.0) -> int:
        """Deletes moment rows of generations no video points at (a write that crashed before
        its flip, or after it but before deleting the old rows), older than ``grace_s``.
        Every generation has a moment 0, so one row per generation is read, not every row."""
        if not self._client.has_collection(self._moments):
            return 0
        before = time.time_ns() - int(grace_s * 1e9)
        firsts = self._client.query(
            self._moments,
            filter=f"moment_index == 0 and generation < {before}",
            output_fields=["video_id", "generation"],
            limit=_MAX_LIMIT,
        )
        current = self._video_rows(sorted({row["video_id"] for row in firsts}))
        stale = [
            (row["video_id"], row["generation"])
            for row in firsts
            if row["generation"] != current.get(row["video_id"], {}).get("generation")
        ]
        for video_id, generation in stale:
            self._delete_generation(video_id, generation)
        if stale:
            log.info("collected %d leftover generations of interrupted writes", len(stale))
        return len(stale)

    # -- reads -----------------------------------------------------------------------
    def _video_rows(self, video_ids: list[str]) -> dict[str, dict]:
        rows: dict[str, dict] = {}
        for start in range(0, len(video_ids), _VIDEOS_PER_QUERY):
            found = self._client.get(
                self._videos,
                ids=video_ids[start : start + _VIDEOS_PER_QUERY],
                output_fields=["video_id", "generation", "moment_count", "record"],
            )
            rows.update((row["video_id"], row) for row in found)
        return rows

    def _current_rows(self, video_id: str, fields: list[str]) -> tuple[dict, list[dict]] | None:
        """The video's row and its current generation's moment rows in order; None when it is
        absent or not whole (the rows of a write whose flip raced another)."""
        video = self._video_rows([video_id]).get(video_id)
        if video is None or not self._client.has_collection(self._moments):
            return None
        rows = self._client.query(
            self._moments,
            filter=f"video_id == {_quoted(video_id)} and generation == {video['generation']}",
            output_fields=["moment_index", *fields],
            limit=_MAX_LIMIT,
        )
        if len(rows) != video["moment_count"]:
            log.warning(
                "video %s has %d of its %d moment rows; treated as absent until written again",
                video_id,
                len(rows),
                video["moment_count"],
            )
            return None
        return video, sorted(rows, key=lambda row: row["moment_index"])

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord]] | None:
        found = self.get_video_vectors(video_id, with_vectors=False)
        return None if found is None else found[:3]

    def get_video_vectors(self, video_id: str, *, with_vectors: bool = True):
        """(video, scenes, moments, (moments, dim) vectors or None), from its current generation."""
        found = self._current_rows(video_id, ["spans", *(["vector"] if with_vectors else [])])
        if found is None:
            return None
        video, rows = found
        record, _ = video_from_json(video["record"].encode())
        scenes = sorted(
            (
                SceneRecord(*json.loads(base64.b64decode(row["blob"])))
                for row in self._blob_rows(video_id, video["generation"], 'kind == "scene"')
            ),
            key=lambda scene: scene.index,
        )
        if len(scenes) != record.scene_count:
            log.warning(
                "video %s has %d of its %d scene rows; treated as absent until written again",
                video_id,
                len(scenes),
                record.scene_count,
            )
            return None
        moments = [MomentRecord(*json.loads(row["spans"])[0]) for row in rows]
        vectors = np.asarray([row["vector"] for row in rows], dtype=np.float32) if with_vectors else None
        return record, scenes, moments, vectors

    def _blob_rows(self, video_id: str, generation: int, where: str) -> list[dict]:
        return self._client.query(
            self._blobs,
            output_fields=["item", "part", "blob"],
            limit=_MAX_LIMIT,
            filter=f"video_id == {_quoted(video_id)} and generation == {generation} and {where}",
        )

    def get_embeddings(self, video_id: str) -> np.ndarray | None:
        found = self.get_video_vectors(video_id)
        return None if found is None else found[3]

    def _blob(self, video_id: str, kind: str, item: int) -> bytes | None:
        video = self._video_rows([video_id]).get(video_id)
        if video is None:
            return None
        parts = self._blob_rows(video_id, video["generation"], f"kind == {_quoted(kind)} and item == {int(item)}")
        return (
            b"".join(base64.b64decode(row["blob"]) for row in sorted(parts, key=lambda r: r["part"])) if parts else None
        )

    def get_moment_frames(self, video_id: str, moment_index: int) -> tuple[list[SampledFrame], np.ndarray] | None:
        raw = self._blob(video_id, "frames", moment_index)
        return None if raw is None else frames_from_bytes(raw, moment_index)

    def get_thumbnail(self, video_id: str, scene_index: int) -> Thumbnail | None:
        raw = self._blob(video_id, "thumb", scene_index)
        return None if raw is None else thumbnail_from_bytes(raw)

    def get_text_spans(self, video_id: str) -> tuple[TextSpan, ...]:
        raw = self._blob(video_id, "text", 0)
        return () if raw is None else text_spans_from_json(raw)

    def video(self, video_id: str) -> VideoRecord | None:
        row = self._video_rows([video_id]).get(video_id)
        return None if row is None else video_from_json(row["record"].encode())[0]

    def list_videos(self, after: str | None, limit: int) -> list[VideoRecord]:
        """Videos ordered by id after ``after``. Milvus queries have no order, so the ids past
        ``after`` are read and sorted here (at most 16384 a page read: fine for listing pages,
        not for walking a billion ids)."""
        found = self._client.query(
            self._videos, filter=f"video_id > {_quoted(after or '')}", output_fields=["video_id"], limit=_MAX_LIMIT
        )
        ids = sorted(row["video_id"] for row in found)[:limit]
        rows = self._video_rows(ids)
        return [video_from_json(rows[video_id]["record"].encode())[0] for video_id in ids if video_id in rows]

    def video_ids(self) -> list[str]:
        return [video.video_id for video in self.list_videos(None, _MAX_LIMIT)]

    def counts(self) -> tuple[int, int, int]:
        """(videos, scenes, moments). The last two count rows, so a write between its flip and
        the deletion of the old rows is counted twice for that moment."""
        videos = self._count(self._videos, "")
        if not videos or not self._client.has_collection(self._moments):
            return 0, 0, 0
        return videos, self._count(self._blobs, 'kind == "scene"'), self._count(self._moments, "")

    def _count(self, collection: str, where: str) -> int:
        return self._client.query(collection, filter=where, output_fields=["count(*)"])[0]["count(*)"]

    # -- ranking ---------------------------------------------------------------------
    def rank(self, query: np.ndarray, params: SearchParams, candidates: Candidates = Candidates()) -> Ranked:
        """Milvus proposes the nearest moments (approximate for HNSW, IVF and DiskANN); moments
        of a generation not current, of videos the filter drops, excluded or below min_score are
        left out, and the search widens until top_k remain or nothing more is found. In video
        mode the proposed videos are then scored exactly over all their moments (max or mean,
        as the embedded backend does)."""
        if not self._client.has_collection(self._moments):
            return Ranked([], [])
        query = np.asarray(query, np.float32)
        # Videos: neighbouring moments often share a video, so ask for more (as the embedded ANN does).
        want = min(_MAX_LIMIT, (32 if params.mode == "videos" else 4) * params.top_k + 16)
        while True:
            hits, exhausted = self._nearest(query, want, candidates)
            enough = len({h.video_id for h in hits} if params.mode == "videos" else hits) >= params.top_k
            if enough or exhausted or want == _MAX_LIMIT:
                break
            want = min(_MAX_LIMIT, want * 4)
        approximate = self.index_type != "FLAT"
        if params.mode == "scenes":
            hits.sort(
                key=lambda h: (-h.score, h.video_id, h.moment.index if h.moment is not None else -1)
            )  # all have one
            return Ranked([], hits[: params.top_k], approximate_used=approximate)
        return Ranked(self._score_videos(query, hits, params, candidates), [], approximate_used=approximate)

    def _nearest(self, query: np.ndarray, want: int, candidates: Candidates) -> tuple[list[MomentHit], bool]:
        found = self._client.search(
            self._moments,
            data=[query.tolist()],
            anns_field="vector",
            limit=want,
            output_fields=["video_id", "generation", "moment_index", "spans"],
            search_params={"metric_type": "IP", "params": {"ef": max(want, 64), "nprobe": 64}},
        )[0]
        current = self._video_rows(sorted({hit["entity"]["video_id"] for hit in found}))
        video_filter = candidates.video_filter
        if video_filter is not None and video_filter.filters_videos:  # the filter, over the proposed videos
            ids = list(current)
            keep = VideoTable([video_from_json(current[i]["record"].encode())[0] for i in ids]).passing(video_filter)
            current = {video_id: current[video_id] for video_id, kept in zip(ids, keep) if kept}
        hits = []
        for hit in found:
            row = hit["entity"]
            video = current.get(row["video_id"])
            if video is None or video["generation"] != row["generation"]:
                continue  # a write in flight or its leftovers, or a video the filter drops
            if not self._moment_allowed(row["video_id"], row["moment_index"], float(hit["distance"]), candidates):
                continue
            moment, scene = json.loads(row["spans"])
            hits.append(MomentHit(row["video_id"], SceneRecord(*scene), float(hit["distance"]), MomentRecord(*moment)))
        return hits, len(found) < want

    @staticmethod
    def _moment_allowed(video_id: str, moment_index: int, score: float, candidates: Candidates) -> bool:
        if candidates.min_score is not None and score < candidates.min_score:
            return False
        excluded = candidates.excluded.get(video_id, ())
        return excluded is not None and moment_index not in excluded

    def _score_videos(
        self, query: np.ndarray, hits: list[MomentHit], params: SearchParams, candidates: Candidates
    ) -> list[VideoHit]:
        proposed = list(dict.fromkeys(h.video_id for h in sorted(hits, key=lambda h: (-h.score, h.video_id))))
        scored = []
        for video_id in proposed[: max(2 * params.top_k, params.top_k + 8)]:
            found = self.get_video_vectors(video_id)
            if found is None:
                continue
            record, scenes, moments, vectors = found
            local = vectors @ query
            for j, moment in enumerate(moments):
                if not self._moment_allowed(video_id, moment.index, float(local[j]), candidates):
                    local[j] = -np.inf  # never listed, and not in a mean
            finite = local[np.isfinite(local)]
            if finite.size == 0:
                continue
            score = float(finite.mean() if params.video_scoring == "mean" else finite.max())
            scene_of = {scene.index: scene for scene in scenes}
            best = [
                MomentHit(video_id, scene_of[moments[j].scene_index], float(local[j]), moments[j])
                for j in best_scenes(local, params.scenes_per_video)
                if np.isfinite(local[j])
            ]
            scored.append(VideoHit(record, score, best))
        scored.sort(key=lambda hit: (-hit.score, hit.video.video_id))
        return scored[: params.top_k]

    def close(self) -> None:
        self._client.close()
