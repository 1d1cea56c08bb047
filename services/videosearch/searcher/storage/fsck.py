"""Offline consistency check of a Searcher's store: ``python -m videosearch.searcher.storage.fsck DATA_DIR``.

Run it on the data directory of a stopped Searcher (LevelDB lets one process open it). It
reads every key once and reports what a crash must never leave behind:

* a partial video: a ``video/`` record whose ``scenes/``, ``moments/`` or ``emb/`` keys are
  missing, or whose counts, frame ranges or vector sizes disagree with the record;
* an orphan key: ``scenes/``, ``moments/``, ``emb/``, ``frames/``, ``thumb/`` or ``text/`` data of
  a video that has no record, or a ``frames/`` or ``thumb/`` key past its video's moments or scenes;
* unreadable text spans: a ``text/`` value that is not a list of spans in TEXT_LAYOUT;
* a collection that disagrees with its videos (model id, dimension).

The crash tests and ``make chaos`` call :func:`check_store` after every ``kill -9``.
Exit status 0 when the store is whole, 1 when it is not, 2 when it cannot be opened.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import plyvel

from videosearch.searcher.storage import store as layout

_PER_VIDEO = {"scenes": layout._SCENES, "moments": layout._MOMENTS}


@dataclass
class StoreReport:
    """What one pass over a store found; ``whole`` is the verdict."""

    videos: int = 0
    rows: int = 0
    schema: int | None = None
    partial_videos: dict[str, str] = field(default_factory=dict)  # video id -> what is wrong
    orphan_keys: list[bytes] = field(default_factory=list)
    collection_problems: list[str] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        return not (self.partial_videos or self.orphan_keys or self.collection_problems)

    def summary(self) -> str:
        verdict = "whole" if self.whole else "NOT whole"
        lines = [f"store schema {self.schema}: {self.videos} videos, {self.rows} rows: {verdict}"]
        lines += [f"  partial video {vid}: {why}" for vid, why in sorted(self.partial_videos.items())]
        lines += [f"  orphan key {key!r}" for key in self.orphan_keys[:20]]
        if len(self.orphan_keys) > 20:
            lines.append(f"  ... and {len(self.orphan_keys) - 20} more orphan keys")
        lines += [f"  collection: {problem}" for problem in self.collection_problems]
        return "\n".join(lines)


def check_store(data_dir: str | Path) -> StoreReport:
    """Checks the store under ``data_dir`` (as passed to the Searcher's --data-dir)."""
    db = plyvel.DB(str(Path(data_dir) / "leveldb"), create_if_missing=False)
    try:
        with db.snapshot() as snap:
            return _check(snap)
    finally:
        db.close()


def _check(snap) -> StoreReport:
    report = StoreReport()
    raw_schema = snap.get(layout._SCHEMA)
    report.schema = int(raw_schema) if raw_schema is not None else None
    videos = {}
    for key, raw in snap.iterator(prefix=layout._VIDEO):
        video, _serial = layout.video_from_json(raw)
        videos[key[len(layout._VIDEO) :].decode()] = video
    report.videos = len(videos)

    per_video: dict[str, dict[str, bytes]] = {name: {} for name in _PER_VIDEO}
    for name, prefix in _PER_VIDEO.items():
        for key, raw in snap.iterator(prefix=prefix):
            video_id = key[len(prefix) :].decode()
            if video_id in videos:
                per_video[name][video_id] = raw
            else:
                report.orphan_keys.append(key)

    vector_counts: Counter[str] = Counter()
    vector_sizes: dict[str, set[int]] = {}
    for key, raw in snap.iterator(prefix=layout._EMB):
        video_id = key[len(layout._EMB) :].split(b"\x00", 1)[0].decode()
        if video_id not in videos:
            report.orphan_keys.append(key)
            continue
        vector_counts[video_id] += 1
        vector_sizes.setdefault(video_id, set()).add(len(raw))

    for prefix, count in ((layout._FRAMES, "moment_count"), (layout._THUMB, "scene_count")):
        for key in snap.iterator(prefix=prefix, include_value=False):
            video_id, index = key[len(prefix) :].split(b"\x00", 1)
            owner = videos.get(video_id.decode())
            if owner is None or int.from_bytes(index, "big") >= getattr(owner, count):
                report.orphan_keys.append(key)

    for key, raw in snap.iterator(prefix=layout._TEXT):
        video_id = key[len(layout._TEXT) :].decode()
        if video_id not in videos:
            report.orphan_keys.append(key)
            continue
        try:
            layout.text_spans_from_json(raw)
        except (ValueError, TypeError):
            report.partial_videos[video_id] = "its text spans (text/ key) are not readable"

    for video_id, video in videos.items():
        if video_id in report.partial_videos:
            continue
        problem = _video_problem(
            report.schema,
            video,
            per_video["scenes"].get(video_id),
            per_video["moments"].get(video_id),
            vector_counts[video_id],
            vector_sizes.get(video_id, set()),
        )
        if problem:
            report.partial_videos[video_id] = problem
        report.rows += video.moment_count
    report.collection_problems = _collection_problems(snap.get(layout._COLLECTION), videos)
    return report


def _video_problem(
    schema: int | None, video, scenes_raw: bytes | None, moments_raw: bytes | None, vectors: int, sizes: set[int]
) -> str:
    if scenes_raw is None:
        return "no scenes record"
    scenes = layout.scenes_from_json(scenes_raw)
    if len(scenes) != video.scene_count:
        return f"{len(scenes)} scenes stored, the record says {video.scene_count}"
    if moments_raw is None:
        # Schema 1 stores had no moments/ keys (the Searcher upgrades them at open).
        if schema != 1:
            return "no moments record"
    else:
        moments = layout.moments_from_json(moments_raw)
        if len(moments) != video.moment_count:
            return f"{len(moments)} moments stored, the record says {video.moment_count}"
        if any(not 0 <= m.scene_index < len(scenes) for m in moments):
            return "a moment names a scene that is not stored"
    if vectors != video.moment_count:
        return f"{vectors} embeddings stored, the record says {video.moment_count} rows"
    if sizes != {video.embedding_dim * layout.VECTOR_DTYPE.itemsize}:
        return f"embedding sizes {sorted(sizes)} bytes, expected {video.embedding_dim} float32 values"
    return ""


def _collection_problems(raw: bytes | None, videos: dict) -> list[str]:
    if raw is None:
        return ["videos are stored but no collection record"] if videos else []
    collection = json.loads(raw)
    odd = sorted(
        vid
        for vid, v in videos.items()
        if (v.model_id, v.embedding_dim) != (collection["model_id"], collection["embedding_dim"])
    )
    return [f"{len(odd)} videos of another model than {collection['model_id']}: {odd[:5]}"] if odd else []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", help="the stopped Searcher's --data-dir")
    args = parser.parse_args(argv)
    try:
        report = check_store(args.data_dir)
    except plyvel.Error as exc:
        print(f"cannot open the store under {args.data_dir}: {exc}; stop the Searcher first", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.whole else 1


if __name__ == "__main__":
    sys.exit(main())
