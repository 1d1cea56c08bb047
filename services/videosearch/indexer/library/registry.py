"""The Indexer's libraries: add, list, remove, each with its FolderWatcher; kept in
``libraries.json`` in the Indexer's state directory so they are watched again after a
restart (in memory only without a state directory)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path

from videosearch.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    VideoSearchError,
)
from videosearch.indexer.types import IndexOptions, Job
from videosearch.indexer.library.upkeep import LibraryUpkeep, under
from videosearch.indexer.library.types import LibraryStatus
from videosearch.indexer.library.watcher import FolderWatcher, WatchTimes
from videosearch.indexer.paths import AllowedRoots

log = logging.getLogger(__name__)

STATE_FILE = "libraries.json"


class Libraries:
    def __init__(
        self,
        upkeep: LibraryUpkeep,
        roots: AllowedRoots,
        options: IndexOptions,
        *,
        state_dir: str,
        times: WatchTimes,
        max_libraries: int,
    ) -> None:
        self._upkeep = upkeep
        self._roots = roots
        self._options = options
        self._file = Path(state_dir) / STATE_FILE if state_dir else None
        self._times = times
        self._max = max_libraries
        self._lock = threading.Lock()
        self._watchers: dict[str, FolderWatcher] = {}
        self._started = False
        self._closed = False

    def start(self, configured: tuple[str, ...] = ()) -> None:
        """Watches the stored libraries, then adds each of ``configured`` (the --library
        flag) that is not one yet. A stored folder that is gone is watched anyway (shown
        UNAVAILABLE until it is back)."""
        with self._lock:
            self._started = True
            for entry in self._load():
                self._watch(entry["path"], dt.datetime.fromisoformat(entry["create_time"]), entry.get("device"))
        for path in configured:
            try:
                self.add(path)
            except AlreadyExists:
                pass
            except VideoSearchError as exc:  # a bad flag stops the start, saying which
                raise InvalidArgument(f"--library {path}: {exc}") from None

    def add(self, path: str) -> LibraryStatus:
        folder = self._folder(path)
        with self._lock:
            if self._closed:
                raise ResourceExhausted("the indexer is shutting down; add the library once it is back")
            if folder in self._watchers:
                raise AlreadyExists(f"{folder} is already a library; `videosearch libraries list` shows it")
            for other in self._watchers:
                if under(folder, Path(other)) or under(other, Path(folder)):
                    raise FailedPrecondition(
                        f"{folder} overlaps the library {other}; libraries may not nest "
                        "(remove that one first, or add a folder beside it)"
                    )
            if len(self._watchers) >= self._max:
                raise ResourceExhausted(
                    f"the indexer watches {self._max} libraries already; remove one or raise --max-libraries"
                )
            watcher = self._watch(folder, dt.datetime.now(dt.timezone.utc))
            self._save()
        log.info("library added: %s", folder)
        return watcher.status()

    def remove(self, path: str) -> LibraryStatus:
        if not path or not path.strip():
            raise InvalidArgument("path is empty; give a library's folder (`videosearch libraries list` shows them)")
        with self._lock:
            watcher = self._watchers.pop(path, None) or self._watchers.pop(os.path.realpath(path), None)
            if watcher is None:
                raise NotFound(f"{path} is not a library; `videosearch libraries list` shows them")
            self._save()
        watcher.stop()
        log.info("library removed: %s", watcher.folder)
        return watcher.status()

    def page(self, limit: int, *, after: str | None = None) -> tuple[list[LibraryStatus], str | None]:
        """Up to ``limit`` libraries ordered by path, those after the path ``after``; and
        the ``after`` of the next page, None when no more follow."""
        with self._lock:
            paths = sorted(p for p in self._watchers if after is None or p > after)
            page = [self._watchers[p] for p in paths[:limit]]
        return [w.status() for w in page], (paths[limit - 1] if len(paths) > limit else None)

    def job_ended(self, job: Job) -> None:
        with self._lock:
            watchers = list(self._watchers.values())
        for watcher in watchers:  # each picks its own (by job id, or by the path it is submitting)
            watcher.job_ended(job)

    def close(self) -> None:
        with self._lock:
            # Stopped, not removed: the state file keeps them for the next start.
            self._closed = True
            watchers = list(self._watchers.values())
        for watcher in watchers:
            watcher.stop()

    # -- inside ----------------------------------------------------------------
    def _folder(self, path: str) -> str:
        if not path or not path.strip():
            raise InvalidArgument("path is empty; give the absolute path of a folder to watch")
        if "\x00" in path:
            raise InvalidArgument("path contains a NUL byte; give the path of a folder as plain text")
        if not os.path.isabs(path):
            raise InvalidArgument(f"path {path!r} is relative; give an absolute path on the indexer's machine")
        real = Path(os.path.realpath(path))
        if not self._roots.contains(real):
            raise PermissionDenied(
                f"{path} is outside the indexer's allowed roots ({self._roots.describe()}); "
                "add a folder under one of them, or add its folder to --allowed-roots"
            )
        if not real.exists():
            raise NotFound(f"{path} does not exist; check the path")
        if not real.is_dir():
            raise InvalidArgument(
                f"{path} is not a folder; a library is a folder (index single files with `videosearch index`)"
            )
        return str(real)

    def _watch(self, folder: str, created: dt.datetime, device: int | None = None) -> FolderWatcher:
        """(With the lock held.)"""
        root = Path(folder)
        watcher = FolderWatcher(
            LibraryStatus(path=folder, create_time=created, rescan_s=self._times.rescan_s),
            self._upkeep,
            self._submit,
            lambda p: under(p, root) and self._roots.contains(Path(p)),
            self._times,
            device=device,
            on_device=self._device_learned,
        )
        self._watchers[folder] = watcher
        if self._started:
            watcher.start()
        return watcher

    def _submit(self, path: str) -> Job:
        return self._upkeep.submit(self._roots.resolve(path), self._options)

    def _device_learned(self) -> None:
        """A watcher found files on a device it did not know: remembered in the state file."""
        with self._lock:
            self._save()

    def _load(self) -> list[dict]:
        if self._file is None or not self._file.exists():
            return []
        try:
            return json.loads(self._file.read_text())["libraries"]
        except (OSError, ValueError, KeyError) as exc:
            raise FailedPrecondition(
                f"cannot read the libraries in {self._file} ({exc}); fix or remove the file"
            ) from exc

    def _save(self) -> None:
        """(With the lock held.) Written to a new file and renamed over the old: a crash
        leaves one or the other, never half of one."""
        if self._file is None or self._closed:
            return
        entries = [
            {"path": p, "create_time": w.status().create_time.isoformat(), "device": w.device}
            for p, w in sorted(self._watchers.items())
        ]
        self._file.parent.mkdir(parents=True, exist_ok=True)
        partial = self._file.with_suffix(".json.tmp")
        with open(partial, "w") as out:
            json.dump({"libraries": entries}, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, self._file)
