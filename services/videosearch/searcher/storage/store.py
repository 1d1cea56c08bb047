"""LevelDB persistence of the Searcher: videos, their scenes and scene embeddings.

The Searcher is the only process that opens this database (LevelDB takes a lock
file; a second opener fails with :class:`StoreLocked`). Everything lives in ONE
LevelDB so a single write batch is atomic across all logical indexes::

    meta/schema                   b"4"                   store layout version
    meta/collection               JSON                   model id, dim, dtype of ALL stored vectors
    meta/generation               ascii int              bumped by every write (ANN index freshness)
    meta/next_serial              ascii int              next scene serial (stable ANN keys)
    video/<id>                    JSON                   video -> metadata
    scenes/<id>                   JSON list              video -> its scenes (id, frames, times)
    moments/<id>                  JSON list              video -> its moments (scene, frames, times)
    emb/<id> NUL <index u32 BE>   raw <f4 bytes          moment -> embedding
    frames/<id> NUL <moment u32 BE>  binary (FRAMES_LAYOUT)  moment -> its sampled frames: numbers, times, <f2 embeddings
    thumb/<id> NUL <scene u32 BE>    binary (THUMB_LAYOUT)   scene -> JPEG thumbnail of its middle sampled frame
    text/<id>                     JSON list (TEXT_LAYOUT) video -> what is said and written in it, by start time
    changes/<generation 20 digits>   JSON                   which video the write of that generation touched

A moment is the unit of search: a stretch of a scene with its own embedding (a
hard-cut scene is usually one moment, a long take several). Keys of one video
sort together and in moment order (big-endian index), and ``video/`` and ``emb/``
sort videos identically, so a full scan yields rows grouped per video, which the
ranking relies on. Video ids never contain NUL.

Schema history and upgrades (done at open, in one atomic write batch, so a crash
leaves the old schema intact and the upgrade simply runs again):

* 1: one embedding per scene, no ``moments/`` keys. Upgrading to 2 writes one moment
  per scene (the scene's frames and times) and ``moment_count`` into each video's
  record; the ``emb/`` keys stay as they are, since row i was scene i. No vector is
  rewritten, so the upgrade costs one pass over the metadata. Such videos search
  exactly as before; re-index them to get moments inside long scenes.
* 2: moments. Video records may carry ``locations`` (every path of the content, with
  size, mtime and a missing flag); a record without them, written before they existed,
  reads as one location made from its ``uri``. Old Searchers ignore the extra key, so
  this needs no new schema version.
* 3: per-frame embeddings (``frames/``) and scene thumbnails (``thumb/``), written in the
  video's one batch when the Indexer sends them. They are read one key per hit (explained
  hits, GetSceneThumbnail), never loaded into the ranking matrix. The upgrade from 2 only
  writes the new version: videos stored before have neither (their hits carry no frame
  scores, their scenes no thumbnail; re-indexing adds them). The version is bumped even
  so because a schema-2 Searcher would delete such a video and leave its ``frames/`` and
  ``thumb/`` keys behind as orphans; now it refuses the store instead.
* 4: text spans (``text/``: subtitle and transcript cues, on-screen text), one key per video
  that has any, written in the video's batch and deleted with it. The lexical index is
  rebuilt from these keys at start-up. The upgrade from 3 (or older) only writes the new
  version, for the same reason as 3: a schema-3 Searcher would leave ``text/`` orphans.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import logging

import numpy as np
import plyvel

from videosearch.common.disk import DiskFull, disk_space_for
from videosearch.common.errors import FailedPrecondition
from videosearch.searcher.types import (
    MomentRecord,
    SampledFrame,
    SceneRecord,
    TextBox,
    TextSpan,
    Thumbnail,
    VideoExtras,
    VideoLocation,
    VideoRecord,
    moments_of_scenes,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
UPGRADABLE_SCHEMAS = (1, 2, 3)
VECTOR_DTYPE = np.dtype("<f4")
# Frame embeddings only explain hits (which frame matched, each frame's score): float16 keeps
# those scores within about 1e-3 of float32 at half the disk.
FRAME_VECTOR_DTYPE = np.dtype("<f2")
FRAMES_LAYOUT = "u32 n | n x i64 frame | n x f64 seconds | n x dim x f2 embedding (little-endian)"
THUMB_LAYOUT = "i32 width | i32 height | i64 frame | f64 seconds | JPEG bytes (little-endian)"
_THUMB_HEAD = struct.Struct("<iiqd")
TEXT_LAYOUT = "[[kind, start_seconds, end_seconds, text, language, source, [x, y, width, height] or null], ...]"

_SCHEMA = b"meta/schema"
_COLLECTION = b"meta/collection"
_GENERATION = b"meta/generation"
_NEXT_SERIAL = b"meta/next_serial"
_VIDEO = b"video/"
_SCENES = b"scenes/"
_MOMENTS = b"moments/"
_EMB = b"emb/"
_FRAMES = b"frames/"
_THUMB = b"thumb/"
_TEXT = b"text/"


_CHANGES = b"changes/"
CHANGES_NOTE = """\
``changes/`` is the change log of the quantized tier (quantized.py): every write that bumps the
generation records, in its own batch, the video it touched and the serial range the video had
before (``{"video_id": ..., "old": [serial_base, moments] or null}``). A tier saved at generation G
replays the entries after G at start-up instead of rescanning every vector. The tier prunes
the entries up to its saved generation. A Searcher on the float32 tier neither writes entries
(it would never read them) nor keeps old ones (it drops them at start-up): a later start on the
quantized tier then finds a gap in the log and rebuilds, as it must."""


class StoreLocked(FailedPrecondition):
    """Another process (or another Searcher in this one) holds the LevelDB lock."""


# LevelDB refuses a second open in the same process, but on the way it closes a
# descriptor of the LOCK file, which drops the process's fcntl lock and lets
# *other* processes in. Refusing here first keeps the real lock intact.
_OPEN_IN_THIS_PROCESS: set[Path] = set()
_OPEN_GUARD = threading.Lock()


@dataclass(frozen=True)
class Collection:
    """What every stored vector shares: the model that made it and its length."""

    model_id: str
    embedding_dim: int


@dataclass(frozen=True)
class StoredVideo:
    """A video as loaded at startup: its record and the serial of its scene 0."""

    video: VideoRecord
    serial_base: int


MOMENT_COLUMNS = ("scene_index", "start_frame", "end_frame", "start_seconds", "end_seconds", "sampled_frames")
SCENE_COLUMNS = ("start_frame", "end_frame", "start_seconds", "end_seconds", "sampled_frames")
ROW_COLUMNS = MOMENT_COLUMNS + tuple("scene_" + name for name in SCENE_COLUMNS)
"""What the ranking keeps per row (moment): its own timing and its scene's, so a hit
reports both without another lookup."""


def row_columns(scenes: list[SceneRecord], moments: list[MomentRecord]) -> np.ndarray:
    """(len(ROW_COLUMNS), len(moments)) float64: each moment's columns, then its scene's."""
    own = np.array([[getattr(m, c) for c in MOMENT_COLUMNS] for m in moments], dtype=np.float64).reshape(
        -1, len(MOMENT_COLUMNS)
    )
    scene_table = np.array([[getattr(s, c) for c in SCENE_COLUMNS] for s in scenes], dtype=np.float64).reshape(
        -1, len(SCENE_COLUMNS)
    )
    return np.concatenate([own, scene_table[own[:, 0].astype(np.int64)]], axis=1).T


def row_columns_from_json(scenes_raw: bytes, moments_raw: bytes) -> np.ndarray:
    """row_columns of a video's stored scenes and moments, straight from their JSON (no record objects)."""
    scene_rows = np.array([r[2:] for r in json.loads(scenes_raw)], dtype=np.float64).reshape(-1, len(SCENE_COLUMNS))
    moment_rows = np.array(json.loads(moments_raw), dtype=np.float64).reshape(-1, len(MOMENT_COLUMNS))
    return np.concatenate([moment_rows, scene_rows[moment_rows[:, 0].astype(np.int64)]], axis=1).T


@dataclass(frozen=True)
class LoadedCollection:
    """Everything the ranking needs, read in one scan."""

    collection: Collection | None
    videos: list[StoredVideo]  # ordered by video id; rows of `vectors` follow this order
    vectors: np.ndarray  # (total scenes, dim) float32, C order
    generation: int
    # Timing per row (moment and its scene), ROW_COLUMNS -> (total moments,) float64 arrays;
    # None: derive nothing (tests that build a LoadedCollection by hand get zeros).
    row_columns: np.ndarray | None = None  # (len(ROW_COLUMNS), total moments) float64


@dataclass(frozen=True)
class Change:
    """One logged write: the video it touched and its serial range before it (None: it was new)."""

    generation: int
    video_id: str
    old_serials: tuple[int, int] | None  # (serial of moment 0, moment count)


@dataclass(frozen=True)
class StoredVideos:
    """The per-video records alone (no scenes, moments or vectors): what the quantized tier
    reads at start-up."""

    collection: Collection | None
    videos: list[StoredVideo]  # ordered by video id
    generation: int


def _change_key(generation: int) -> bytes:
    return _CHANGES + b"%020d" % generation


def _video_key(video_id: str) -> bytes:
    return _VIDEO + video_id.encode()


def _scenes_key(video_id: str) -> bytes:
    return _SCENES + video_id.encode()


def _moments_key(video_id: str) -> bytes:
    return _MOMENTS + video_id.encode()


def _emb_prefix(video_id: str) -> bytes:
    return _EMB + video_id.encode() + b"\x00"


def _emb_key(video_id: str, index: int) -> bytes:
    return _emb_prefix(video_id) + struct.pack(">I", index)


def _frames_key(video_id: str, moment_index: int) -> bytes:
    return _FRAMES + video_id.encode() + b"\x00" + struct.pack(">I", moment_index)


def _thumb_key(video_id: str, scene_index: int) -> bytes:
    return _THUMB + video_id.encode() + b"\x00" + struct.pack(">I", scene_index)


def _text_key(video_id: str) -> bytes:
    return _TEXT + video_id.encode()


def text_spans_to_json(spans: tuple[TextSpan, ...]) -> bytes:
    """A video's spans in TEXT_LAYOUT."""
    return json.dumps(
        [
            [
                t.kind,
                t.start_seconds,
                t.end_seconds,
                t.text,
                t.language,
                t.source,
                None if t.box is None else [t.box.x, t.box.y, t.box.width, t.box.height],
            ]
            for t in spans
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def text_spans_from_json(raw: bytes) -> tuple[TextSpan, ...]:
    return tuple(
        TextSpan(kind, start, end, text, language, source, None if box is None else TextBox(*box))
        for kind, start, end, text, language, source, box in json.loads(raw)
    )


def _per_video_prefixes(video_id: str) -> tuple[bytes, ...]:
    """Prefixes of every per-row key of a video (deleted with it)."""
    return tuple(prefix + video_id.encode() + b"\x00" for prefix in (_EMB, _FRAMES, _THUMB))


def frames_to_bytes(frames: list[SampledFrame], embeddings: np.ndarray) -> bytes:
    """One moment's sampled frames in FRAMES_LAYOUT."""
    return b"".join(
        (
            struct.pack("<I", len(frames)),
            np.array([f.frame for f in frames], dtype="<i8").tobytes(),
            np.array([f.seconds for f in frames], dtype="<f8").tobytes(),
            np.ascontiguousarray(embeddings, dtype=FRAME_VECTOR_DTYPE).tobytes(),
        )
    )


def frames_from_bytes(raw: bytes, moment_index: int) -> tuple[list[SampledFrame], np.ndarray]:
    (n,) = struct.unpack_from("<I", raw)
    numbers = np.frombuffer(raw, "<i8", n, 4)
    seconds = np.frombuffer(raw, "<f8", n, 4 + 8 * n)
    vectors = np.frombuffer(raw, FRAME_VECTOR_DTYPE, offset=4 + 16 * n)
    frames = [SampledFrame(moment_index, int(f), float(t)) for f, t in zip(numbers, seconds)]
    return frames, vectors.reshape(n, -1) if n else vectors.reshape(0, 0)


def extras_records(extras: VideoExtras) -> Iterator[tuple[str, int, bytes]]:
    """A video's extras as records: ("frames", moment index, FRAMES_LAYOUT) for each moment
    with sampled frames, ("thumb", scene index, THUMB_LAYOUT) for each scene's thumbnail,
    ("text", 0, TEXT_LAYOUT) for its text spans when it has any."""
    at = 0
    by_moment: dict[int, list[SampledFrame]] = {}
    for frame in extras.frames:
        by_moment.setdefault(frame.moment_index, []).append(frame)
    embeddings = extras.frame_embeddings
    for moment_index, frames in by_moment.items():
        assert embeddings is not None, "validated: sampled frames come with their embeddings"
        yield "frames", moment_index, frames_to_bytes(frames, embeddings[at : at + len(frames)])
        at += len(frames)
    for scene_index, thumbnail in enumerate(extras.thumbnails):
        yield "thumb", scene_index, thumbnail_to_bytes(thumbnail)
    if extras.text_spans:
        yield "text", 0, text_spans_to_json(extras.text_spans)


def thumbnail_to_bytes(thumbnail: Thumbnail) -> bytes:
    return (
        _THUMB_HEAD.pack(thumbnail.width, thumbnail.height, thumbnail.frame, thumbnail.seconds) + thumbnail.image_jpeg
    )


def thumbnail_from_bytes(raw: bytes) -> Thumbnail:
    width, height, frame, seconds = _THUMB_HEAD.unpack_from(raw)
    return Thumbnail(bytes(raw[_THUMB_HEAD.size :]), width, height, frame, seconds)


def scene_id(video_id: str, index: int) -> str:
    return f"{video_id}/{index}"


def video_to_json(video: VideoRecord, serial_base: int) -> bytes:
    return json.dumps(
        {
            "video_id": video.video_id,
            "uri": video.uri,
            "duration_seconds": video.duration_seconds,
            "fps_numerator": video.fps.numerator,
            "fps_denominator": video.fps.denominator,
            "frame_count": video.frame_count,
            "width": video.width,
            "height": video.height,
            "content_sha256": video.content_sha256,
            "model_id": video.model_id,
            "embedding_dim": video.embedding_dim,
            "indexed_at": video.indexed_at.isoformat() if video.indexed_at else None,
            "scene_count": video.scene_count,
            "moment_count": video.moment_count,
            "scene_serial_base": serial_base,
            "locations": [[l.path, l.size_bytes, l.mtime_ns, l.missing] for l in video.locations],
            "decode_mode": video.decode_mode,
        },
        separators=(",", ":"),
    ).encode()


def video_from_json(raw: bytes) -> tuple[VideoRecord, int]:
    d = json.loads(raw)
    video = VideoRecord(
        video_id=d["video_id"],
        uri=d["uri"],
        duration_seconds=d["duration_seconds"],
        fps=Fraction(d["fps_numerator"], d["fps_denominator"]),
        frame_count=d["frame_count"],
        width=d["width"],
        height=d["height"],
        content_sha256=d["content_sha256"],
        model_id=d["model_id"],
        embedding_dim=d["embedding_dim"],
        indexed_at=dt.datetime.fromisoformat(d["indexed_at"]) if d["indexed_at"] else None,
        scene_count=d["scene_count"],
        moment_count=d.get("moment_count", d["scene_count"]),
        # Records written before locations existed have none: VideoRecord makes one from uri.
        locations=tuple(VideoLocation(*row) for row in d.get("locations", ())),
        decode_mode=d.get("decode_mode", ""),  # records from before decode modes: every frame
    )
    return video, d["scene_serial_base"]


def scenes_to_json(video_id: str, scenes: list[SceneRecord]) -> bytes:
    return json.dumps(
        [
            [
                scene_id(video_id, s.index),
                s.index,
                s.start_frame,
                s.end_frame,
                s.start_seconds,
                s.end_seconds,
                s.sampled_frames,
            ]
            for s in scenes
        ],
        separators=(",", ":"),
    ).encode()


def scenes_from_json(raw: bytes) -> list[SceneRecord]:
    return [
        SceneRecord(index=i, start_frame=sf, end_frame=ef, start_seconds=ss, end_seconds=es, sampled_frames=n)
        for _id, i, sf, ef, ss, es, n in json.loads(raw)
    ]


def moments_to_json(moments: list[MomentRecord]) -> bytes:
    return json.dumps(
        [
            [m.scene_index, m.start_frame, m.end_frame, m.start_seconds, m.end_seconds, m.sampled_frames]
            for m in moments
        ],
        separators=(",", ":"),
    ).encode()


def moments_from_json(raw: bytes) -> list[MomentRecord]:
    return [
        MomentRecord(
            index=i, scene_index=si, start_frame=sf, end_frame=ef, start_seconds=ss, end_seconds=es, sampled_frames=n
        )
        for i, (si, sf, ef, ss, es, n) in enumerate(json.loads(raw))
    ]


class SearcherStore:
    """The Searcher's LevelDB. Methods are safe to call from many threads; writes
    are serialized by the caller (:class:`videosearch.searcher.service.Searcher`)."""

    def __init__(self, data_dir: str | Path, *, log_changes: bool = False) -> None:
        self.data_dir = Path(data_dir)
        # Only the quantized tier replays the change log; the float32 tier rescans the store, so
        # it keeps no log (see CHANGES_NOTE) and the quantized tier turns it on when it opens.
        self.log_changes = log_changes
        self.path = self.data_dir / "leveldb"
        with self.disk_space():
            self.path.mkdir(parents=True, exist_ok=True)
        self._key = self.path.resolve()
        with _OPEN_GUARD:
            if self._key in _OPEN_IN_THIS_PROCESS:
                raise StoreLocked(
                    f"the data directory {self.data_dir} is in use by another Searcher in this process; "
                    "close that one first or use another --data-dir"
                )
            _OPEN_IN_THIS_PROCESS.add(self._key)
        try:
            with self.disk_space():
                self.db = self._open_db()
        except plyvel.IOError as exc:
            self._release()
            if "lock" in str(exc).lower():
                raise StoreLocked(
                    f"the data directory {self.data_dir} is in use by another Searcher ({exc}); "
                    "stop that process or start this one with another --data-dir"
                ) from exc
            raise
        except DiskFull:
            self._release()
            raise
        with self.disk_space():
            self._check_schema()

    # -- lifecycle ---------------------------------------------------------------

    def disk_space(self):
        """Wraps the store's writes: a full disk is DiskFull naming the data directory."""
        return disk_space_for(
            self.data_dir, "--data-dir", "delete videos you no longer need, or other files on that disk"
        )

    def _open_db(self) -> plyvel.DB:
        # Vectors do not compress; skipping snappy makes full scans at startup faster.
        return plyvel.DB(
            str(self.path),
            create_if_missing=True,
            compression=None,
            write_buffer_size=64 << 20,
            max_open_files=_max_open_files(),
        )

    def drop_file_mappings(self) -> None:
        """Closes and reopens the DB after the startup scan.

        LevelDB reads table files through mmap, so a full scan leaves every file
        mapped: as much resident (if reclaimable) memory again as the vectors. The
        reopen unmaps them. Another process could take the lock in the instant
        between close and open; then this raises StoreLocked like a normal open.
        """
        self.db.close()
        try:
            self.db = self._open_db()
        except plyvel.IOError as exc:
            self._release()
            raise StoreLocked(
                f"lost the data directory {self.data_dir} to another process while reopening it ({exc})"
            ) from exc

    def _check_schema(self) -> None:
        raw = self.db.get(_SCHEMA)
        if raw is None:
            if next(self.db.iterator(include_value=False), None) is not None:
                self.close()
                raise FailedPrecondition(f"{self.path} holds data without a schema version; it is not a Searcher store")
            self.db.put(_SCHEMA, str(SCHEMA_VERSION).encode(), sync=True)
        elif int(raw) in UPGRADABLE_SCHEMAS:
            self._upgrade(int(raw))
        elif int(raw) != SCHEMA_VERSION:
            self.close()
            raise FailedPrecondition(
                f"{self.path} has store schema {int(raw)} but this Searcher reads schema {SCHEMA_VERSION} "
                f"(and upgrades {', '.join(map(str, UPGRADABLE_SCHEMAS))}); use a matching Searcher version, "
                "or move the data dir away and re-index"
            )

    def _upgrade(self, schema: int) -> None:
        """Schema 1, 2 or 3 -> 4 (see the module doc) in one atomic batch: from 1, one moment per
        scene; from 2 or 3 there is nothing to rewrite (no video has frames, thumbnails or text yet)."""
        upgraded = 0
        with self.db.snapshot() as snap, self.db.write_batch(transaction=True, sync=True) as batch:
            if schema == 1:
                scene_lists = snap.iterator(prefix=_SCENES, include_key=False)
                for key, raw in snap.iterator(prefix=_VIDEO):
                    video, serial_base = video_from_json(raw)
                    scenes = scenes_from_json(next(scene_lists))
                    batch.put(key, video_to_json(dataclasses.replace(video, moment_count=len(scenes)), serial_base))
                    batch.put(_moments_key(video.video_id), moments_to_json(moments_of_scenes(scenes)))
                    upgraded += 1
            batch.put(_SCHEMA, str(SCHEMA_VERSION).encode())
        log.info(
            "upgraded the store at %s from schema %d to %d (%d video records rewritten)",
            self.path,
            schema,
            SCHEMA_VERSION,
            upgraded,
        )

    def close(self) -> None:
        if not self.db.closed:
            self.db.close()
        self._release()

    def _release(self) -> None:
        with _OPEN_GUARD:
            _OPEN_IN_THIS_PROCESS.discard(self._key)

    # -- reads ---------------------------------------------------------------------

    def collection(self) -> Collection | None:
        raw = self.db.get(_COLLECTION)
        if raw is None:
            return None
        d = json.loads(raw)
        return Collection(d["model_id"], d["embedding_dim"])

    def generation(self) -> int:
        return int(self.db.get(_GENERATION, b"0"))

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord]] | None:
        found = self.get_video_moments(video_id)
        return None if found is None else found[:2]

    def get_video_moments(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord]] | None:
        # One snapshot so metadata, scenes and moments come from the same committed batch.
        with self.db.snapshot() as snap:
            raw = snap.get(_video_key(video_id))
            if raw is None:
                return None
            video, _ = video_from_json(raw)
            return (
                video,
                scenes_from_json(snap.get(_scenes_key(video_id))),
                moments_from_json(snap.get(_moments_key(video_id))),
            )

    def get_scenes_and_moments(
        self, video_id: str, serial_base: int
    ) -> tuple[list[SceneRecord], list[MomentRecord]] | None:
        """A video's scenes and moments (one snapshot): what a hit needs. None when the video is gone
        or stored with another serial than ``serial_base`` (replaced since the caller ranked it)."""
        with self.db.snapshot() as snap:
            raw = snap.get(_video_key(video_id))
            if raw is None or json.loads(raw)["scene_serial_base"] != serial_base:
                return None
            scenes, moments = snap.get(_scenes_key(video_id)), snap.get(_moments_key(video_id))
        return scenes_from_json(scenes), moments_from_json(moments)

    def get_video_vectors(
        self, video_id: str
    ) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord], np.ndarray] | None:
        """A video, its scenes, moments and (moments, dim) embeddings from one snapshot."""
        with self.db.snapshot() as snap:
            raw = snap.get(_video_key(video_id))
            if raw is None:
                return None
            video, _ = video_from_json(raw)
            rows = [
                np.frombuffer(v, VECTOR_DTYPE) for v in snap.iterator(prefix=_emb_prefix(video_id), include_key=False)
            ]
            return (
                video,
                scenes_from_json(snap.get(_scenes_key(video_id))),
                moments_from_json(snap.get(_moments_key(video_id))),
                np.stack(rows),
            )

    def get_embeddings(self, video_id: str) -> np.ndarray | None:
        with self.db.snapshot() as snap:
            if snap.get(_video_key(video_id)) is None:
                return None
            rows = [
                np.frombuffer(v, VECTOR_DTYPE) for v in snap.iterator(prefix=_emb_prefix(video_id), include_key=False)
            ]
        return np.stack(rows)

    def get_moment_frames(self, video_id: str, moment_index: int) -> tuple[list[SampledFrame], np.ndarray] | None:
        """A moment's sampled frames and their float16 embeddings; None when not stored."""
        raw = self.db.get(_frames_key(video_id, moment_index))
        return None if raw is None else frames_from_bytes(raw, moment_index)

    def get_text_spans(self, video_id: str) -> tuple[TextSpan, ...]:
        """A video's text spans by start time; () when it has none (or is unknown)."""
        raw = self.db.get(_text_key(video_id))
        return () if raw is None else text_spans_from_json(raw)

    def iter_text_spans(self) -> Iterator[tuple[str, tuple[TextSpan, ...], list[float]]]:
        """(video id, its spans, its moments' start times) for every video with text, from one
        snapshot: what the lexical index is rebuilt from at start-up."""
        with self.db.snapshot() as snap:
            for key, raw in snap.iterator(prefix=_TEXT):
                video_id = key[len(_TEXT) :].decode()
                moments = snap.get(_moments_key(video_id))
                if moments is not None:
                    yield video_id, text_spans_from_json(raw), [row[3] for row in json.loads(moments)]

    def get_thumbnail(self, video_id: str, scene_index: int) -> Thumbnail | None:
        raw = self.db.get(_thumb_key(video_id, scene_index))
        return None if raw is None else thumbnail_from_bytes(raw)

    def list_videos(self, after: str | None, limit: int) -> list[VideoRecord]:
        """Videos ordered by id, starting just after ``after`` (None: from the first)."""
        start = _video_key(after) + b"\x00" if after is not None else _VIDEO
        stop = _VIDEO[:-1] + bytes([_VIDEO[-1] + 1])  # first key past the video/ range
        out = []
        for _key, raw in self.db.iterator(start=start, stop=stop):
            out.append(video_from_json(raw)[0])
            if len(out) >= limit:
                break
        return out

    def load(self) -> LoadedCollection:
        """Reads every video, scene and vector in one consistent snapshot."""
        with self.db.snapshot() as snap:
            collection_raw = snap.get(_COLLECTION)
            collection = (
                None
                if collection_raw is None
                else Collection(
                    **{k: v for k, v in json.loads(collection_raw).items() if k in ("model_id", "embedding_dim")}
                )
            )
            generation = int(snap.get(_GENERATION, b"0"))
            videos: list[StoredVideo] = []
            scene_lists, moment_lists = [], []
            scene_iter = snap.iterator(prefix=_SCENES, include_key=False)
            moment_iter = snap.iterator(prefix=_MOMENTS, include_key=False)
            for _key, raw in snap.iterator(prefix=_VIDEO):
                video, serial_base = video_from_json(raw)
                videos.append(StoredVideo(video, serial_base))
                scene_lists.append(next(scene_iter))
                moment_lists.append(next(moment_iter))
            total = sum(v.video.moment_count for v in videos)
            # Straight into columns: a million record objects would cost more memory than
            # the vectors' slack and stay fragmented afterwards.
            columns = np.empty((len(ROW_COLUMNS), total), dtype=np.float64)
            at = 0
            for scenes_raw, moments_raw in zip(scene_lists, moment_lists):
                video_columns = row_columns_from_json(scenes_raw, moments_raw)
                n = video_columns.shape[1]
                columns[:, at : at + n] = video_columns
                at += n
            del scene_lists, moment_lists
            dim = collection.embedding_dim if collection else 0
            vectors = np.empty((total, dim), dtype=np.float32)
            self._read_vectors(snap, videos, vectors)
        return LoadedCollection(collection, videos, vectors, generation, columns)

    def load_videos(self) -> StoredVideos:
        """The collection, the video records and the generation from one snapshot; no vectors."""
        with self.db.snapshot() as snap:
            return self._stored_videos(snap)

    @staticmethod
    def _stored_videos(snap) -> StoredVideos:
        collection_raw = snap.get(_COLLECTION)
        collection = (
            None
            if collection_raw is None
            else Collection(
                **{k: v for k, v in json.loads(collection_raw).items() if k in ("model_id", "embedding_dim")}
            )
        )
        videos = [StoredVideo(*video_from_json(raw)) for raw in snap.iterator(prefix=_VIDEO, include_key=False)]
        return StoredVideos(collection, videos, int(snap.get(_GENERATION, b"0")))

    def scan_vectors(self, chunk_rows: int = 65_536) -> tuple[StoredVideos, Iterator[tuple[np.ndarray, np.ndarray]]]:
        """The video records and an iterator of (serials, (rows, dim) float32 vectors) chunks over
        every stored moment, all from one snapshot (released when the iterator is exhausted or closed)."""
        snap = self.db.snapshot()
        stored = self._stored_videos(snap)

        def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            try:
                dim = stored.collection.embedding_dim if stored.collection else 0
                values = snap.iterator(prefix=_EMB, include_key=False)
                raw: list[bytes] = []
                serials: list[np.ndarray] = []
                for video in stored.videos:
                    raw.extend(next(values) for _ in range(video.video.moment_count))
                    serials.append(
                        np.arange(video.serial_base, video.serial_base + video.video.moment_count, dtype=np.int64)
                    )
                    if len(raw) >= chunk_rows:
                        yield np.concatenate(serials), np.frombuffer(b"".join(raw), VECTOR_DTYPE).reshape(len(raw), dim)
                        raw, serials = [], []
                if raw:
                    yield np.concatenate(serials), np.frombuffer(b"".join(raw), VECTOR_DTYPE).reshape(len(raw), dim)
            finally:
                snap.close()

        return stored, chunks()

    def moment_vectors(self, wanted: dict[str, tuple[int, list[int] | None]]) -> dict[str, np.ndarray]:
        """float32 rows of some moments, from one snapshot: ``wanted`` maps a video id to (the serial
        of its moment 0 the caller knows, the moment indexes; None: every moment). A video that is
        gone or was replaced since (another serial) is left out, so a caller never scores rows of
        a version it did not rank."""
        out: dict[str, np.ndarray] = {}
        with self.db.snapshot() as snap:
            for video_id, (serial_base, indexes) in wanted.items():
                raw = snap.get(_video_key(video_id))
                if raw is None or json.loads(raw)["scene_serial_base"] != serial_base:
                    continue
                if indexes is None:
                    rows = list(snap.iterator(prefix=_emb_prefix(video_id), include_key=False))
                else:
                    rows = [snap.get(_emb_key(video_id, i)) for i in indexes]
                if rows and all(r is not None for r in rows):
                    out[video_id] = np.frombuffer(b"".join(rows), VECTOR_DTYPE).reshape(len(rows), -1)
        return out

    def iter_row_columns(self) -> Iterator[tuple[str, int, np.ndarray]]:
        """(video id, serial of its moment 0, its row_columns) of every stored video by id, from one
        snapshot: each moment's timing and its scene's, which the quantized tier keeps in memory."""
        with self.db.snapshot() as snap:
            scene_iter = snap.iterator(prefix=_SCENES, include_key=False)
            moment_iter = snap.iterator(prefix=_MOMENTS, include_key=False)
            for _key, raw in snap.iterator(prefix=_VIDEO):
                video, serial_base = video_from_json(raw)
                yield video.video_id, serial_base, row_columns_from_json(next(scene_iter), next(moment_iter))

    def open_every_table(self, stop: threading.Event | None = None) -> int:
        """Opens every table file once (a get of its first key), up to the table cache's size, so
        that no search pays for opening one: at 10M moments (10,476 tables) a random get from a
        table not yet open took 2.7 ms, from an open one 0.22 ms, and opening them all took 6.2 s.
        Best effort: a first key that the listing does not give back exactly opens a neighbour.
        ``stop`` set: stops before the next table (a caller opening them in the background sets it
        before closing the store). Returns the number of tables touched."""
        listing = self.db.get_property(b"leveldb.sstables") or b""
        firsts = [_unescape(m.group(1)) for m in _TABLE_FIRST_KEY.finditer(listing)][: _max_open_files() - 64]
        for touched, key in enumerate(firsts):
            if stop is not None and stop.is_set():
                return touched
            self.db.get(key)
        return len(firsts)

    def changes_after(self, generation: int) -> list[Change] | None:
        """The logged writes after ``generation`` in order; None when the log does not reach back
        that far (written before the log existed, or pruned), so a replay would miss writes."""
        with self.db.snapshot() as snap:
            current = int(snap.get(_GENERATION, b"0"))
            out = []
            for key, raw in snap.iterator(start=_change_key(generation + 1), stop=_change_key(current + 1)):
                d = json.loads(raw)
                out.append(Change(int(key[len(_CHANGES) :]), d["video_id"], tuple(d["old"]) if d["old"] else None))
        if [c.generation for c in out] != list(range(generation + 1, current + 1)):
            return None
        return out

    def prune_changes(self, up_to: int) -> None:
        """Drops the log entries up to generation ``up_to`` (a tier saved there no longer needs them)."""
        with self.disk_space(), self.db.write_batch(sync=False) as batch:
            for key in self.db.iterator(start=_CHANGES, stop=_change_key(up_to + 1), include_value=False):
                batch.delete(key)

    @staticmethod
    def _read_vectors(snap, videos: list[StoredVideo], out: np.ndarray) -> None:
        # Joining a few thousand values and converting once is several times faster
        # than one numpy call per row. Keys are checked so a corrupt store fails loudly.
        row = 0
        chunk: list[bytes] = []
        chunk_start = 0
        values = snap.iterator(prefix=_EMB)
        for stored in videos:
            prefix = _emb_prefix(stored.video.video_id)
            for _ in range(stored.video.moment_count):
                key, value = next(values)
                if not key.startswith(prefix):
                    raise FailedPrecondition(
                        f"store is inconsistent at {key!r}; expected a moment of {stored.video.video_id}"
                    )
                chunk.append(value)
                row += 1
            if len(chunk) >= 4096:
                out[chunk_start:row] = np.frombuffer(b"".join(chunk), VECTOR_DTYPE).reshape(len(chunk), -1)
                chunk, chunk_start = [], row
        if chunk:
            out[chunk_start:row] = np.frombuffer(b"".join(chunk), VECTOR_DTYPE).reshape(len(chunk), -1)
        if next(values, None) is not None:
            raise FailedPrecondition("store is inconsistent: embeddings without a video")

    # -- writes --------------------------------------------------------------------

    def put_video(
        self,
        video: VideoRecord,
        scenes: list[SceneRecord],
        embeddings: np.ndarray,
        moments: list[MomentRecord] | None = None,
        extras: VideoExtras = VideoExtras(),
    ) -> tuple[bool, int]:
        """Stores a validated video in one atomic batch, replacing any earlier version.

        ``embeddings`` has one row per moment (``moments`` None: one moment per scene);
        ``extras`` (sampled frames, thumbnails) go into the same batch.
        Returns (replaced, serial of moment 0). Raises FailedPrecondition when the
        embeddings' model differs from the collection's.
        """
        collection = self.collection()
        if collection is not None:
            check_same_model(collection, video.model_id, video.embedding_dim)
        if moments is None:
            moments = moments_of_scenes(scenes)
        video = dataclasses.replace(video, scene_count=len(scenes), moment_count=len(moments))  # load() trusts these
        old_raw = self.db.get(_video_key(video.video_id))
        old = _serial_range(old_raw)
        serial_base = int(self.db.get(_NEXT_SERIAL, b"0"))
        vectors = np.ascontiguousarray(embeddings, dtype=VECTOR_DTYPE)
        with self.disk_space(), self.db.write_batch(transaction=True, sync=False) as batch:
            if old_raw is not None:
                self._delete_rows(batch, video.video_id)
            if collection is None:
                batch.put(
                    _COLLECTION,
                    json.dumps(
                        {"model_id": video.model_id, "embedding_dim": video.embedding_dim, "dtype": VECTOR_DTYPE.str}
                    ).encode(),
                )
            batch.put(_video_key(video.video_id), video_to_json(video, serial_base))
            batch.put(_scenes_key(video.video_id), scenes_to_json(video.video_id, scenes))
            batch.put(_moments_key(video.video_id), moments_to_json(moments))
            for index, vector in enumerate(vectors):
                self._put_embedding(batch, video.video_id, index, vector)
            self._put_extras(batch, video.video_id, extras)
            batch.put(_NEXT_SERIAL, str(serial_base + len(moments)).encode())
            self._bump_generation(batch, video.video_id, old)
        return old_raw is not None, serial_base

    def put_video_record(self, video: VideoRecord) -> bool:
        """Rewrites a stored video's record (its locations, say), leaving scenes and
        vectors alone; returns False for an unknown video."""
        key = _video_key(video.video_id)
        raw = self.db.get(key)
        if raw is None:
            return False
        _, serial_base = video_from_json(raw)
        with self.disk_space():
            self.db.put(key, video_to_json(video, serial_base), sync=False)
        return True

    def _put_embedding(self, batch, video_id: str, index: int, vector: np.ndarray) -> None:
        batch.put(_emb_key(video_id, index), vector.tobytes())

    @staticmethod
    def _put_extras(batch, video_id: str, extras: VideoExtras) -> None:
        keys = {"frames": _frames_key, "thumb": _thumb_key, "text": lambda video_id, _item: _text_key(video_id)}
        for kind, item, raw in extras_records(extras):
            batch.put(keys[kind](video_id, item), raw)

    def _delete_rows(self, batch, video_id: str) -> None:
        for prefix in _per_video_prefixes(video_id):
            for key in self.db.iterator(prefix=prefix, include_value=False):
                batch.delete(key)
        batch.delete(_text_key(video_id))

    def delete_video(self, video_id: str) -> int | None:
        """Deletes a video and its scenes in one batch; returns the scene count, None if unknown."""
        raw = self.db.get(_video_key(video_id))
        if raw is None:
            return None
        video, _ = video_from_json(raw)
        with self.disk_space(), self.db.write_batch(transaction=True, sync=False) as batch:
            self._delete_rows(batch, video_id)
            batch.delete(_scenes_key(video_id))
            batch.delete(_moments_key(video_id))
            batch.delete(_video_key(video_id))
            # The last video leaves an empty collection that any model may fill again.
            remaining = [k for k, _ in zip(self.db.iterator(prefix=_VIDEO, include_value=False), range(2))]
            if remaining == [_video_key(video_id)]:
                batch.delete(_COLLECTION)
            self._bump_generation(batch, video_id, _serial_range(raw))
        return video.scene_count

    def _bump_generation(self, batch, video_id: str, old: tuple[int, int] | None) -> None:
        generation = self.generation() + 1
        batch.put(_GENERATION, str(generation).encode())
        if self.log_changes:
            batch.put(_change_key(generation), json.dumps({"video_id": video_id, "old": old}).encode())

    def next_serial(self) -> int:
        """One past the last serial handed out: an upper bound of the stored moment count."""
        return int(self.db.get(_NEXT_SERIAL, b"0"))

    def bytes_by_kind(self) -> dict[str, tuple[int, int]]:
        """Per key prefix ("emb/", "frames/", "thumb/", ...): (keys, bytes of keys and values),
        what each kind of data costs on disk before LevelDB's own overhead (no compression)."""
        out: dict[str, tuple[int, int]] = {}
        for key, value in self.db.iterator():
            kind = key[: key.index(b"/") + 1].decode() if b"/" in key else key.decode()
            keys, size = out.get(kind, (0, 0))
            out[kind] = (keys + 1, size + len(key) + len(value))
        return out

    def iter_video_ids(self) -> Iterator[str]:
        for key in self.db.iterator(prefix=_VIDEO, include_value=False):
            yield key[len(_VIDEO) :].decode()


def _max_open_files() -> int:
    """LevelDB's table cache: the process's descriptor limit less 4,096 for everything else (at least
    half of it, 512 to 16384). A store of 10M moments has about 10,500 table files of 2 MB; with 512
    open, random gets (the quantized tier re-scores candidates one get each) kept reopening tables:
    0.5 ms a get against 0.1 ms; half of this machine's limit of 20,000 still left 500 tables out."""
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 16_384
    return int(min(16_384, max(512, soft // 2, soft - 4096)))


# A table in LevelDB's "leveldb.sstables" listing: `number:size['first key' @ sequence : type .. 'last key' ...]`,
# keys escaped as \xNN outside printable ASCII.
_TABLE_FIRST_KEY = re.compile(rb"\['(.*?)' @ \d+ : \d+ \.\. '", re.DOTALL)
_ESCAPED_BYTE = re.compile(rb"\\x([0-9a-f]{2})")


def _unescape(listed: bytes) -> bytes:
    return _ESCAPED_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), listed)


def _serial_range(raw: bytes | None) -> tuple[int, int] | None:
    """(serial of moment 0, moment count) of a stored video record; None for no record."""
    if raw is None:
        return None
    d = json.loads(raw)
    return d["scene_serial_base"], d.get("moment_count", d["scene_count"])


def check_same_model(collection: Collection, model_id: str, embedding_dim: int | None = None) -> None:
    """Raises FailedPrecondition unless (model_id, dim) match what is stored."""
    if model_id != collection.model_id or (embedding_dim is not None and embedding_dim != collection.embedding_dim):
        got = f"model {model_id!r}" + (f" (dim {embedding_dim})" if embedding_dim is not None else "")
        raise FailedPrecondition(
            f"the collection holds embeddings of model {collection.model_id!r} (dim {collection.embedding_dim}) "
            f"but this request uses {got}; re-index with model {collection.model_id!r}, "
            "or delete or move the Searcher's data dir to start a collection with the new model"
        )
