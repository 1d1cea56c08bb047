"""One watched folder (a library): notifications through ``watchfiles`` (inotify on
Linux) wake a scan, and a full rescan runs every ``rescan_s`` anyway, for network shares
where notifications never arrive.

A scan compares the video files under the folder with the locations stored under it:

* a file no stored video has with its size and modification time is submitted once its
  size and time stayed the same for ``settle_s`` (a copy in progress is left to finish);
  its job hashes it, so a renamed or copied file only gets its new path recorded;
* stored locations whose file is gone are pruned, but only while none of the library's
  jobs is in flight: the new path of a renamed file is recorded first, so the video keeps
  its embeddings and only the old path is marked missing;
* a folder that cannot be read prunes nothing; nor does one that holds no video while
  videos were indexed from it, unless files were seen in it before on the same device
  (file system; remembered across restarts): an unmounted share leaves its mount point
  empty on another device.
  The library shows UNAVAILABLE until the files are back (or the videos are pruned by hand).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import watchfiles

from videosearch.common.errors import ResourceExhausted, VideoSearchError
from videosearch.indexer.types import Job, JobState
from videosearch.indexer.library.types import LibraryState, LibraryStatus
from videosearch.indexer.library.upkeep import LibraryUpkeep, under
from videosearch.searcher.types import VideoLocation, VideoRecord

log = logging.getLogger(__name__)

# Scans that only wait for a file to settle reuse a listing of the stored videos this young.
LISTING_REUSE_S = 30.0
# A library keeps at most this many jobs queued or running; the rest of a big first scan
# waits its turn in the library, so the Indexer's queue stays open to other callers.
JOBS_IN_FLIGHT = 8
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".3gp"}
)


@dataclass(frozen=True)
class WatchTimes:
    """How often a library looks at its folder."""

    rescan_s: float = 300.0  # full rescan interval (the only way changes on a network share are seen)
    settle_s: float = 2.0  # a changed file is indexed once its size and time stayed this long


def video_files(folder: Path) -> dict[str, tuple[int, int]]:
    """{real path: (size, mtime_ns)} of the video files under ``folder``, recursively (links
    to folders are not followed; a link to a file counts as its target, the path a job
    stores, and the target is checked against the allowed roots at submit)."""
    found = {}
    for parent, _, names in os.walk(folder, onerror=_raise):
        for name in names:
            if os.path.splitext(name)[1].lower() not in VIDEO_SUFFIXES:
                continue
            path = os.path.realpath(os.path.join(parent, name))
            try:
                stat = os.stat(path)
            except OSError:
                continue  # gone between listing and stat: the next scan sees it
            found[path] = (stat.st_size, stat.st_mtime_ns)
    return found


def _raise(error: OSError) -> None:
    raise error


class FolderWatcher:
    """Watches one library folder on two threads (notifications, scans) until ``stop``."""

    def __init__(
        self,
        status: LibraryStatus,
        upkeep: LibraryUpkeep,
        submit: Callable[[str], Job],
        checkable: Callable[[str], bool],
        times: WatchTimes,
        *,
        device: int | None = None,
        on_device: Callable[[], None] = lambda: None,
    ) -> None:
        self.folder = Path(status.path)
        self._upkeep = upkeep
        self._submit = submit
        self._checkable = checkable
        self._times = times
        self._status = status
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._in_flight: dict[str, str] = {}  # path -> id of its unfinished job
        # A job can end before its submit call returns here: paths being submitted, and jobs that did so.
        self._submitting: set[str] = set()
        self._ended_early: dict[str, Job] = {}
        self._pending: dict[str, tuple[int, int, float]] = {}  # path -> (size, mtime, first seen so)
        self._failed: dict[str, tuple[int, int]] = {}  # path -> the facts its job failed on: not retried until changed
        # st_dev of the folder when a scan last found files in it (kept across restarts by the
        # registry, told through on_device): an empty folder on that device was emptied, on another unmounted.
        self.device = device
        self._on_device = on_device
        self._videos: list[VideoRecord] = []  # the last listing of the stored videos, and when it was made
        self._listed_at = -LISTING_REUSE_S
        self._relist = True  # set when a job of the library ends: its video changed the listing
        self._threads = [
            threading.Thread(target=self._scan_loop, name=f"library-scan {self.folder}", daemon=True),
            threading.Thread(target=self._notify_loop, name=f"library-watch {self.folder}", daemon=True),
        ]

    # -- outside view ----------------------------------------------------------
    def start(self) -> "FolderWatcher":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(timeout_s)

    def status(self) -> LibraryStatus:
        with self._lock:
            return dataclasses.replace(self._status, files_queued=len(self._in_flight) + len(self._pending))

    def job_ended(self, job: Job) -> None:
        """A job finished (any job of the Indexer: the library picks its own): count it, and
        scan again (a rename's old path can be pruned once the new one is recorded)."""
        with self._lock:
            path = next((p for p, job_id in self._in_flight.items() if job_id == job.job_id), None)
            if path is None:
                if job.path in self._submitting:  # ended before its submission returned here
                    self._ended_early[job.job_id] = job
                return
            del self._in_flight[path]
            self._ended_locked(path, job)
        self._wake.set()

    def _ended_locked(self, path: str, job: Job) -> None:
        """(With the lock held.)"""
        self._relist = True
        if job.state is JobState.SUCCEEDED:
            self._update(files_indexed=self._status.files_indexed + 1)
        elif job.state is JobState.FAILED:
            try:
                stat = os.stat(path)
                self._failed[path] = (stat.st_size, stat.st_mtime_ns)
            except OSError:
                pass
            self._error_locked(f"indexing {job.path} failed: {job.error}")

    # -- inside ----------------------------------------------------------------
    def _update(self, **changes) -> None:
        """(With the lock held.)"""
        self._status = dataclasses.replace(self._status, **changes)

    def _error_locked(self, message: str) -> None:
        log.warning("library %s: %s", self.folder, message)
        self._update(last_error=message, error_count=self._status.error_count + 1)

    def _error(self, message: str) -> None:
        with self._lock:
            self._error_locked(message)

    def _notify_loop(self) -> None:
        """Wakes the scan on every batch of changes. When the folder cannot be watched (gone,
        too many inotify watches) it tries again at the rescan interval; the rescan covers meanwhile."""
        while not self._stop.is_set():
            try:
                # Both debounce and step in milliseconds; the scan does its own settling.
                changes = watchfiles.watch(
                    self.folder,
                    stop_event=self._stop,
                    debounce=200,
                    step=50,
                    raise_interrupt=False,
                    ignore_permission_denied=True,
                )
                with self._lock:
                    self._update(watching=True)
                for _ in changes:
                    self._wake.set()
            except (OSError, RuntimeError) as exc:  # watchfiles reports its watcher's failures as either
                self._error(
                    f"cannot watch the folder for changes ({exc}); relying on the rescan every "
                    f"{self._times.rescan_s:g} s"
                )
            finally:
                with self._lock:
                    self._update(watching=False)
            self._stop.wait(self._times.rescan_s)

    def _scan_loop(self) -> None:
        next_full = 0.0
        while not self._stop.is_set():
            try:
                self._scan(timed=time.monotonic() >= next_full)
            except VideoSearchError as exc:  # the Searcher is down or refused: try again later
                self._error(f"scan failed: {exc}")
                self._scan_ended()
            except Exception as exc:  # a watcher thread must not die
                log.exception("library %s: scan failed", self.folder)
                self._error(f"scan failed unexpectedly ({exc}); the indexer log has the details")
                self._scan_ended()
            now = time.monotonic()
            if now >= next_full:
                next_full = now + self._times.rescan_s
            with self._lock:
                waiting = bool(self._pending)
            self._wake.wait(min(self._times.settle_s, next_full - now) if waiting else next_full - now)
            self._wake.clear()

    def _listing(self, fresh: bool) -> tuple[list[VideoRecord], bool]:
        """The stored videos, and whether they were listed just now. Scans that only wait for
        a copy to settle reuse the last listing (a folder being filled must not list a large
        collection every few seconds); a timed rescan, a job of the library that ended, an old
        listing, or a prune about to change something (``fresh``) list again."""
        with self._lock:
            reuse = not fresh and not self._relist and time.monotonic() - self._listed_at < LISTING_REUSE_S
            self._relist = False
        if reuse:
            return self._videos, False
        videos = list(self._upkeep.catalog_videos())
        with self._lock:
            self._videos, self._listed_at = videos, time.monotonic()
        return videos, True

    def _scan(self, *, timed: bool = True) -> None:
        with self._lock:
            if self._status.state is not LibraryState.STARTING:
                self._update(state=LibraryState.SCANNING)
        try:
            files = video_files(self.folder)
            device = os.stat(self.folder).st_dev
        except OSError as exc:
            self._unavailable(f"cannot read the folder ({exc.strerror or exc}); check that it is there and mounted")
            return
        videos, fresh = self._listing(timed)
        stored, indexed_here = self._present(videos)
        if not files and indexed_here and not fresh:  # an emptied folder is judged on a fresh listing
            videos, fresh = self._listing(True)
            stored, indexed_here = self._present(videos)
        if files and device != self.device:
            self.device = device
            self._on_device()
        elif not files and indexed_here and device != self.device:
            self._unavailable(
                f"the folder holds no video, yet {indexed_here} were indexed from it; if it is an unmounted "
                "share, mount it again; if you emptied it, prune: `videosearch index --prune`"
            )
            return
        for path, facts in sorted(files.items()):
            location = stored.get(path)
            if location is not None and (location.size_bytes, location.mtime_ns) == facts:
                continue
            self._consider(path, facts)
        with self._lock:
            self._pending = {p: v for p, v in self._pending.items() if p in files}
            quiet = not self._in_flight and not self._pending
        pruned = 0
        # A prune only stats the stored locations under the folder. What it would change is
        # decided again on a fresh listing: a video may have gained a path meanwhile.
        if quiet and self._upkeep.prune(self._checkable, dry_run=True, videos=videos).changes:
            if not fresh:
                videos, fresh = self._listing(True)
            report = self._upkeep.prune(self._checkable, dry_run=False, videos=videos)
            pruned = len(report.marked_missing) + len(report.removed)
        with self._lock:
            self._update(
                state=LibraryState.IDLE,
                files_seen=len(files),
                files_pruned=self._status.files_pruned + pruned,
                last_scan_time=dt.datetime.now(dt.timezone.utc),
            )

    def _present(self, videos: list[VideoRecord]) -> tuple[dict[str, VideoLocation], int]:
        """{path: location} of every present stored location (anywhere: a link in the folder is
        stored as its target, which may lie outside it), and how many lie under the folder."""
        stored = {loc.path: loc for video in videos for loc in video.locations if not loc.missing}
        return stored, sum(under(path, self.folder) for path in stored)

    def _consider(self, path: str, facts: tuple[int, int]) -> None:
        """Submits ``path`` once its size and time have settled (and not while its job runs,
        nor again after its job failed on the same file)."""
        now = time.monotonic()
        with self._lock:
            if path in self._in_flight or self._failed.get(path) == facts:
                return
            seen = self._pending.get(path)
            if seen is None or seen[:2] != facts:
                self._pending[path] = (*facts, now)
                return
            if now - seen[2] < self._times.settle_s or len(self._in_flight) >= JOBS_IN_FLIGHT:
                return
            del self._pending[path]
            self._submitting.add(path)
        try:
            job = self._submit(path)
        except ResourceExhausted as exc:  # the queue is full (other callers' jobs): a later scan tries again
            log.info("library %s: %s waits: %s", self.folder, path, exc)
            with self._lock:
                self._pending[path] = (*facts, now)
            return
        except VideoSearchError as exc:  # outside the roots through a link, unreadable, ...
            with self._lock:
                self._failed[path] = facts
            self._error(f"{path} not indexed: {exc}")
            return
        finally:
            with self._lock:
                self._submitting.discard(path)
        with self._lock:
            ended = self._ended_early.pop(job.job_id, None) or (job if job.state.finished else None)
            if ended is None:
                self._in_flight[path] = job.job_id
            else:
                self._ended_locked(path, ended)
            if not self._submitting:
                self._ended_early.clear()  # any left belong to other callers' jobs for the same path

    def _scan_ended(self) -> None:
        """A scan that failed part way leaves the state it found (not SCANNING forever)."""
        with self._lock:
            if self._status.state is LibraryState.SCANNING:
                self._update(state=LibraryState.IDLE)

    def _unavailable(self, message: str) -> None:
        with self._lock:
            self._error_locked(message)
            self._update(state=LibraryState.UNAVAILABLE, last_scan_time=dt.datetime.now(dt.timezone.utc))
