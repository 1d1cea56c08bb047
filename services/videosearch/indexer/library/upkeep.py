"""The rules that keep stored locations true to the files on this machine.

The Searcher stores, per video, every path its content was found at with the file's
size and modification time then (``VideoLocation``). Only the Indexer sees the files, so
it applies the rules, for every client alike:

* **unchanged**: a file a stored video has at the same path, size and modification time
  is not even hashed; its job succeeds at once with ``unchanged`` set.
* **replaced**: a path indexed again with other content (an overwritten file) no longer
  holds the videos that listed it; they get it marked missing, keeping the size and time
  they had, so a prune does not take the new file for the old one.
* **prune**: a location whose file is gone is marked missing (one back as it was, present
  again); a video whose files are all gone is removed.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from videosearch.common.errors import InvalidArgument, NotFound, PermissionDenied, VideoSearchError
from videosearch.indexer.types import IndexOptions, Job
from videosearch.indexer.jobs.locations import file_location
from videosearch.indexer.media.decode_modes import mode_covers
from videosearch.searcher.types import VideoLocation, VideoRecord

log = logging.getLogger(__name__)

LIST_PAGE_SIZE = 1000


class VideoCatalog(Protocol):
    """The Searcher calls upkeep needs (SearcherClient has them)."""

    def iter_videos(self, page_size: int = 0) -> Iterator[VideoRecord]: ...
    def get_video(self, video_id: str) -> tuple[VideoRecord, list]: ...
    def update_locations(self, video_id: str, locations: Iterable[VideoLocation]) -> VideoRecord: ...
    def delete_video(self, video_id: str) -> int: ...


class JobQueue(Protocol):
    def submit(self, path: str, options: IndexOptions, *, unchanged_video: str = "") -> Job: ...


def under(path: str, folder: Path) -> bool:
    """Whether the absolute ``path`` lies in ``folder`` (or is it)."""
    candidate = Path(path)
    return candidate == folder or folder in candidate.parents


def same_file_facts(location: VideoLocation, stat: os.stat_result) -> bool:
    return bool(location.mtime_ns) and (location.size_bytes, location.mtime_ns) == (stat.st_size, stat.st_mtime_ns)


def file_is_there(location: VideoLocation) -> bool:
    """Whether the location's file is on this machine. One already marked missing counts
    as back only with the size and modification time it had (or if they were never
    known): a new file at that path is other content until indexed."""
    try:
        stat = os.stat(location.path)
    except OSError:
        return False
    if not location.missing or not location.mtime_ns:
        return True
    return same_file_facts(location, stat)


@dataclass(frozen=True)
class PruneReport:
    """What a check of stored locations found (and, unless ``dry_run``, changed): (video id,
    location as it is now to be stored) per change, and the videos removed."""

    dry_run: bool
    marked_missing: list[tuple[str, VideoLocation]]
    marked_present: list[tuple[str, VideoLocation]]
    removed: list[VideoRecord]
    locations_checked: int

    @property
    def changes(self) -> int:
        return len(self.marked_missing) + len(self.marked_present) + len(self.removed)


def plan_prune(videos: Iterable[VideoRecord], checkable: Callable[[str], bool], *, dry_run: bool) -> PruneReport:
    """The prune of ``videos``, checking only the locations ``checkable`` accepts. A video
    is removed when at least one of its locations was checked and every one is gone:
    checked gone now, or not checkable here and already marked missing (by the Indexer
    whose machine holds it)."""
    marked: list[tuple[str, VideoLocation]] = []
    found_again: list[tuple[str, VideoLocation]] = []
    removed: list[VideoRecord] = []
    checked = 0
    for video in videos:
        present = {loc.path: file_is_there(loc) for loc in video.locations if checkable(loc.path)}
        if not present:
            continue
        checked += len(present)
        if not any(present.values()) and all(loc.missing for loc in video.locations if loc.path not in present):
            removed.append(video)
            continue
        for location in video.locations:
            if location.path in present and location.missing == present[location.path]:
                changes = found_again if present[location.path] else marked
                changes.append((video.video_id, dataclasses.replace(location, missing=not location.missing)))
    return PruneReport(dry_run, marked, found_again, removed, checked)


class StoredPaths:
    """Which videos list a path, from a listing of the whole collection kept at most
    ``max_age_s`` old; this Indexer's own changes are applied to it at once. Stale entries
    only cost a check: every answer is confirmed against the Searcher before it is used."""

    def __init__(self, catalog: VideoCatalog, max_age_s: float) -> None:
        self._catalog = catalog
        self._max_age_s = max_age_s
        self._lock = threading.Lock()
        self._by_path: dict[str, dict[str, VideoLocation]] | None = None
        self._listed_at = 0.0

    def at(self, path: str) -> dict[str, VideoLocation]:
        """{video id: its location at ``path``} as last listed."""
        with self._lock:
            if self._by_path is None or time.monotonic() - self._listed_at > self._max_age_s:
                self._by_path = {}
                for video in self._catalog.iter_videos(page_size=LIST_PAGE_SIZE):
                    for location in video.locations:
                        self._by_path.setdefault(location.path, {})[video.video_id] = location
                self._listed_at = time.monotonic()
            return dict(self._by_path.get(path, {}))

    def record(self, video_id: str, location: VideoLocation) -> None:
        with self._lock:
            if self._by_path is not None:
                self._by_path.setdefault(location.path, {})[video_id] = location

    def forget(self) -> None:
        """Lists again at the next question (after a prune changed many locations)."""
        with self._lock:
            self._by_path = None


class LibraryUpkeep:
    """Applies the rules above; the servicer, the job runner and the watched libraries call it."""

    def __init__(self, catalog: VideoCatalog, jobs: JobQueue, *, cache_s: float) -> None:
        self._catalog = catalog
        self._jobs = jobs
        self.stored = StoredPaths(catalog, cache_s)

    def submit(self, path: str, options: IndexOptions) -> Job:
        """Queues ``path`` (already checked against the allowed roots), or, when a stored
        video has it unchanged and ``force`` is off, records a job that succeeded at once."""
        video_id = "" if options.force else self.unchanged_video(path, options.decode_mode)
        return self._jobs.submit(path, options, unchanged_video=video_id)

    def catalog_videos(self) -> Iterator[VideoRecord]:
        """Every stored video, fresh from the Searcher."""
        return self._catalog.iter_videos(page_size=LIST_PAGE_SIZE)

    def unchanged_video(self, path: str, decode_mode: str = "") -> str:
        """The id of a stored video that has ``path`` with the file's size and modification
        time now, indexed from at least the frames ``decode_mode`` asks for (a fast mode's
        video is indexed again when every frame is asked for), or "". A Searcher that cannot
        be asked means "" (the job then hashes)."""
        try:
            stat = os.stat(path)
            for video_id, location in self.stored.at(path).items():
                if location.missing or not same_file_facts(location, stat):
                    continue
                try:
                    video, _ = self._catalog.get_video(video_id)
                except NotFound:
                    continue
                if not mode_covers(video.decode_mode, decode_mode):
                    continue
                if any(loc.path == path and not loc.missing and same_file_facts(loc, stat) for loc in video.locations):
                    return video_id
        except (OSError, VideoSearchError) as exc:
            log.info("could not tell whether %s is unchanged (%s); indexing it", path, exc)
        return ""

    def job_succeeded(self, job: Job) -> None:
        """After ``job`` stored its video (or recorded its path): other videos that listed
        the path lose it, since the file there holds this content now."""
        if not job.video_id:
            return
        for video_id, location in self.stored.at(job.path).items():
            if video_id == job.video_id or location.missing:
                continue
            gone = dataclasses.replace(location, missing=True)
            try:
                self._catalog.update_locations(video_id, [gone])
            except NotFound:
                pass  # removed meanwhile: nothing lists the path any more
            self.stored.record(video_id, gone)
        self.stored.record(job.video_id, file_location(job.path))

    def prune(
        self, checkable: Callable[[str], bool], *, dry_run: bool, videos: Iterable[VideoRecord] | None = None
    ) -> PruneReport:
        """Checks the stored locations ``checkable`` accepts (from a fresh listing unless
        ``videos`` is given) and, unless ``dry_run``, applies what it found."""
        if videos is None:
            videos = self.catalog_videos()
        report = plan_prune(videos, checkable, dry_run=dry_run)
        if dry_run:
            return report
        for video_id, location in report.marked_missing + report.marked_present:
            try:
                self._catalog.update_locations(video_id, [location])
            except NotFound:
                pass  # removed meanwhile: the outcome is the same
        for video in report.removed:
            try:
                self._catalog.delete_video(video.video_id)
            except NotFound:
                pass
        if report.changes:
            self.stored.forget()
        return report


def prune_scope(roots_contain: Callable[[Path], bool], folder: str) -> Callable[[str], bool]:
    """Which stored paths a prune of ``folder`` (empty: everything) checks: those under it
    and under the allowed roots (``roots_contain``); the rest may be another machine's files."""
    if not folder:
        return lambda path: roots_contain(Path(path))
    if "\x00" in folder or not os.path.isabs(folder):
        raise InvalidArgument(
            f"folder {folder!r} is not an absolute path; give a folder on the indexer's machine, "
            "or none to check every stored path under the allowed roots"
        )
    real = Path(os.path.realpath(folder))
    if not roots_contain(real):
        raise PermissionDenied(f"{folder} is outside the indexer's allowed roots; prune a folder under one of them")
    return lambda path: under(path, real) and roots_contain(Path(path))
