"""Switching the Searcher to another model's collection without downtime (issue 21, part 8).

The serving collection lives in ``data_dir`` itself, or where ``data_dir/collection.json``
points. A reindex *stages* a collection for the new model under ``data_dir/staged/<slug>``:
a complete Searcher of its own (its store, ranking and text embedder: the new model's
Embedder), filled by UpsertVideo with ``staged`` set while searches keep reading the serving
collection. The switch holds the serving collection's writes, makes the staged one hold
exactly the serving one's videos (deleting those deleted meanwhile; refusing while some
indexed meanwhile are missing, which the reindex job then catches up), writes
``collection.json`` (one atomic rename: before it the old collection serves after any crash,
after it the new one), hands the staged Searcher, already loaded, to the servicer, makes the
old one refuse writes (the servicer sends them to the new one), and only then closes the old
one (after in-flight calls had time to end) and deletes its files. Dropping the staged collection, or a crash before the switch,
leaves the old collection serving; staged directories nobody points at are deleted at the
next start.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from videosearch.common.errors import FailedPrecondition, InvalidArgument
from videosearch.searcher.service import Searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.types import SearcherStats

log = logging.getLogger(__name__)

POINTER = "collection.json"
STAGED = "staged"
CLOSE_OLD_AFTER_S = 5.0  # calls that took the old Searcher just before the switch finish meanwhile

OpenSearcher = Callable[[SearcherSettings, str], Searcher]  # (settings, embedder address) -> Searcher


def serving_settings(settings: SearcherSettings) -> SearcherSettings:
    """``settings`` with the data dir and Embedder of the collection that serves now: the ones
    ``collection.json`` names after a switch, else the configured ones. Deletes staged
    collections that no switch completed (a crashed or abandoned reindex)."""
    serving = serving_settings_of(settings)
    root, serving_dir = Path(settings.data_dir), Path(serving.data_dir).resolve()
    staged = root / STAGED
    if staged.is_dir():
        for leftover in staged.iterdir():
            if leftover.resolve() != serving_dir:
                log.info("deleting %s: a collection that was never switched to, or switched away from", leftover)
                shutil.rmtree(leftover, ignore_errors=True)
    if serving_dir != root.resolve() and (root / "leveldb").exists():  # stopped before the old one was deleted
        log.info("deleting the collection in %s: a reindex switched away from it", root)
        _delete_collection(root, root)
    if serving.embedder_address != settings.embedder_address:
        log.warning(
            "the serving collection was built with the Embedder at %s; text queries go there, not to "
            "--embedder-address %s",
            serving.embedder_address,
            settings.embedder_address,
        )
    return serving


def serving_settings_of(settings: SearcherSettings) -> SearcherSettings:
    """The serving collection's settings, as ``collection.json`` names them (none: the configured ones)."""
    pointer = _read_pointer(Path(settings.data_dir))
    if not pointer:
        return settings
    return dataclasses.replace(
        settings,
        data_dir=str(Path(settings.data_dir) / pointer["data_dir"]),
        embedder_address=pointer.get("embedder_address") or settings.embedder_address,
    )


def _read_pointer(root: Path) -> dict | None:
    path = root / POINTER
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def slug(model_id: str) -> str:
    """A directory name for a model id (readable part + digest, never a path)."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", model_id)[:40].strip("-.") or "model"
    return f"{readable}-{hashlib.sha256(model_id.encode()).hexdigest()[:10]}"


@dataclasses.dataclass
class _Staged:
    model_id: str
    embedder_address: str
    settings: SearcherSettings
    searcher: Searcher


class Collections:
    """The serving Searcher and at most one staged one; ``attach`` hands a Searcher to the servicer."""

    def __init__(
        self,
        settings: SearcherSettings,
        serving: Searcher,
        open_searcher: OpenSearcher,
        attach: Callable[[Searcher], None],
    ) -> None:
        self._root = Path(settings.data_dir)  # the configured data dir, where collection.json lives
        self._settings = settings
        self._serving_settings = serving_settings_of(settings)
        self.serving = serving
        self._open = open_searcher
        self._attach = attach
        self._lock = threading.Lock()
        self._staged: _Staged | None = None

    def stage(self, model_id: str, embedder_address: str) -> None:
        """Starts a fresh staged collection for ``model_id`` (replacing an earlier staged one)."""
        if not model_id:
            raise InvalidArgument("model_id is empty; give the model the new collection is for")
        if not embedder_address:
            raise InvalidArgument("embedder_address is empty; give the host:port of the Embedder serving the new model")
        if self._settings.backend != "embedded":
            raise FailedPrecondition(
                "a reindex stages its collection beside the serving one in the data dir; "
                "it needs the embedded (LevelDB) backend, not Milvus"
            )
        with self._lock:
            self._drop_locked()
            directory = self._root / STAGED / slug(model_id)
            shutil.rmtree(directory, ignore_errors=True)
            settings = dataclasses.replace(self._settings, data_dir=str(directory), embedder_address=embedder_address)
            self._staged = _Staged(model_id, embedder_address, settings, self._open(settings, embedder_address))
        log.info(
            "staged a collection for model %s in %s (text queries: the Embedder at %s)",
            model_id,
            directory,
            embedder_address,
        )

    def staged(self, model_id: str) -> Searcher:
        """The staged Searcher for ``model_id``, to write into."""
        with self._lock:
            staged = self._staged
        if staged is None or staged.model_id != model_id:
            what = f"one for model {staged.model_id}" if staged else "none"
            raise FailedPrecondition(
                f"no collection is staged for model {model_id!r} ({what}); "
                "StageCollection first (videosearch reindex does)"
            )
        return staged.searcher

    @property
    def staged_model_id(self) -> str:
        staged = self._staged
        return staged.model_id if staged else ""

    def switch(self, model_id: str) -> Searcher:
        """Makes the staged collection of ``model_id`` the serving one; returns it."""
        with self._lock:
            staged = self._staged
            if staged is None or staged.model_id != model_id:
                raise FailedPrecondition(f"no collection is staged for model {model_id!r}; nothing to switch to")
            # Under the serving collection's write lock nothing is written meanwhile: the staged
            # collection gets exactly the serving one's videos, and later writes the new one.
            with self.serving.writes_held():
                stats = self._match_serving(staged)
                relative = os.path.relpath(staged.settings.data_dir, self._root)
                pointer = {"data_dir": relative, "model_id": model_id, "embedder_address": staged.embedder_address}
                temporary = self._root / (POINTER + ".tmp")
                temporary.write_text(json.dumps(pointer, indent=2) + "\n", encoding="utf-8")
                with open(temporary, "rb") as written:
                    os.fsync(written.fileno())
                os.replace(temporary, self._root / POINTER)  # the switch: from here on a restart serves the new one
                old, old_settings = self.serving, self._serving_settings
                old.refuse_writes(f"the Searcher switched to the collection of model {model_id}; write there")
                self.serving, self._serving_settings, self._staged = staged.searcher, staged.settings, None
                self._attach(self.serving)
        log.info(
            "switched to the collection of model %s (%d videos); the old one closes in %.0f s",
            model_id,
            stats.video_count,
            CLOSE_OLD_AFTER_S,
        )
        timer = threading.Timer(CLOSE_OLD_AFTER_S, self._retire, (old, old_settings))
        timer.daemon = True
        timer.start()
        return self.serving

    def _match_serving(self, staged: _Staged) -> SearcherStats:
        """Deletes from the staged collection the videos deleted from the serving one since it was
        staged; refuses (FailedPrecondition) while the serving one has videos the staged one lacks.
        Call with the serving collection's writes held. Returns the staged collection's stats."""
        serving_ids, staged_ids = self.serving.video_ids(), staged.searcher.video_ids()
        if not staged_ids & serving_ids:
            raise FailedPrecondition(
                f"the collection staged for model {staged.model_id!r} is empty; "
                "reindex the videos into it before switching"
            )
        missing = sorted(serving_ids - staged_ids)
        if missing:
            raise FailedPrecondition(
                f"{len(missing)} videos of the serving collection are not in the one staged for model "
                f"{staged.model_id!r} (e.g. {', '.join(missing[:3])}); index them into it (UpsertVideo with staged) "
                "and switch again (videosearch reindex does)"
            )
        for video_id in staged_ids - serving_ids:  # deleted while the reindex ran
            staged.searcher.delete_video(video_id)
        return staged.searcher.stats()

    def drop(self, model_id: str) -> bool:
        """Deletes the staged collection of ``model_id``; False when there was none."""
        with self._lock:
            if self._staged is None or self._staged.model_id != model_id:
                return False
            self._drop_locked()
            return True

    def close(self) -> None:
        with self._lock:
            staged, self._staged = self._staged, None
        if staged is not None:
            staged.searcher.close()  # its files stay; the next start deletes them (never switched to)

    def _drop_locked(self) -> None:
        staged, self._staged = self._staged, None
        if staged is not None:
            staged.searcher.close()
            shutil.rmtree(staged.settings.data_dir, ignore_errors=True)
            log.info("dropped the collection staged for model %s", staged.model_id)

    def _retire(self, old: Searcher, settings: SearcherSettings) -> None:
        """Closes the collection switched away from and deletes its files."""
        old.close()
        _delete_collection(Path(settings.data_dir), self._root)
        log.info("deleted the old collection in %s", settings.data_dir)


def _delete_collection(directory: Path, root: Path) -> None:
    """Deletes a collection's files; in the configured data dir itself, all but the pointer and staged/."""
    if directory.resolve() != root.resolve():
        shutil.rmtree(directory, ignore_errors=True)
        return
    for entry in directory.iterdir():
        if entry.name not in (POINTER, STAGED):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
