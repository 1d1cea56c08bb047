"""Where a video's content lives: the file facts the Searcher keeps per path, and the
step that records a new path for content already indexed (a copied, moved or renamed
file) instead of decoding it again."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Protocol

from videosearch.common.errors import NotFound
from videosearch.indexer.jobs.failures import Dependency, failures_of
from videosearch.indexer.types import ErrorReason
from videosearch.indexer.jobs.manager import JobFailure
from videosearch.searcher.types import VideoLocation, VideoRecord


class LocationStore(Protocol):
    def update_locations(self, video_id: str, locations: Iterable[VideoLocation]) -> VideoRecord: ...


def file_location(path: str) -> VideoLocation:
    """The file at ``path`` as a location: its size and modification time now, so a
    rescan can tell it unchanged without hashing it (both 0 if it cannot be read)."""
    try:
        stat = os.stat(path)
    except OSError:
        return VideoLocation(path)
    return VideoLocation(path, stat.st_size, stat.st_mtime_ns)


def record_location(store: LocationStore, video_id: str, path: str) -> None:
    """Adds ``path`` (or refreshes its size and time) to a stored video's locations."""
    with failures_of(Dependency.SEARCHER):
        try:
            store.update_locations(video_id, [file_location(path)])
        except NotFound as exc:  # deleted between the check and now: index it again
            raise JobFailure(ErrorReason.SEARCHER_REFUSED, f"{exc}; submit the file again") from exc
