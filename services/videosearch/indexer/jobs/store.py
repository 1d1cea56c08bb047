"""The Indexer's job table on disk, so job ids survive a restart or a ``kill -9``, and jobs
that were queued or running start again.

Its own embedded LevelDB (the Searcher's store belongs to the Searcher; the two never share
a database), one JSON record per job under ``job/<job_id>``, written on submit and on every
state or stage change (progress inside a stage is not written: after a restart a job starts
its work again anyway). JSON, never pickle: the file outlives the process that wrote it and
may be read by another version.

Re-running a job is safe because the Searcher replaces a video in one atomic write: a job
killed while storing either stored the whole video or nothing, and running it again stores
the same video again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import logging
import threading
import typing
from pathlib import Path

import plyvel

from videosearch.common.disk import disk_space_for
from videosearch.common.errors import FailedPrecondition
from videosearch.indexer.types import PUBLIC_NAMES, IndexOptions

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_SCHEMA = b"meta/schema"
_JOB = b"job/"

if typing.TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = typing.TypeVar("T", bound="DataclassInstance")


def to_json(value) -> object:
    """A dataclass (nested dataclasses, enums, datetimes, dicts) as JSON-ready values."""
    if dataclasses.is_dataclass(value):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


def from_json(kind: type[T], data) -> T:
    """The inverse of :func:`to_json` for a dataclass ``kind``; fields missing from ``data``
    (written by an older version) take their defaults, unknown ones are ignored, and a field
    renamed since (IndexOptions' PUBLIC_NAMES were its field names) is read by its old name."""
    hints = typing.get_type_hints(kind)
    former = PUBLIC_NAMES if kind is IndexOptions else {}
    values = {}
    for field in dataclasses.fields(kind):
        name = field.name if field.name in data else former.get(field.name, field.name)
        if name not in data:
            continue
        values[field.name] = _value(hints[field.name], data[name])
    return kind(**values)


def _value(hint, raw):
    if dataclasses.is_dataclass(hint):
        return from_json(hint, raw)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(raw)
    if hint is dt.datetime:
        return dt.datetime.fromisoformat(raw)
    return raw


class JobStore:
    """Job records in LevelDB under ``state_dir``; one Indexer process opens it at a time."""

    def __init__(self, state_dir: str | Path) -> None:
        self._state_dir = state_dir
        path = Path(state_dir) / "jobs"
        try:
            with self.disk_space():
                path.mkdir(parents=True, exist_ok=True)
                self._db = plyvel.DB(str(path), create_if_missing=True)
        except plyvel.IOError as exc:
            raise FailedPrecondition(
                f"the Indexer state directory {state_dir} is in use by another Indexer ({exc}); stop that one "
                "or give this one another --state-dir"
            ) from None
        raw = self._db.get(_SCHEMA)
        if raw is None:
            with self.disk_space():
                self._db.put(_SCHEMA, str(SCHEMA_VERSION).encode(), sync=True)
        elif int(raw) != SCHEMA_VERSION:
            self._db.close()
            raise FailedPrecondition(f"{path} holds job schema {int(raw)}; this Indexer reads {SCHEMA_VERSION}")
        self._lock = threading.Lock()

    def disk_space(self):
        """Wraps the writes: a full disk is DiskFull naming the state directory."""
        return disk_space_for(
            self._state_dir, "--state-dir", "other files on that disk; finished jobs' records there are small"
        )

    def put(self, job, *, sync: bool = False) -> None:
        """Writes a job record. ``sync`` also survives a power cut (used when a job is accepted).
        Raises DiskFull when the state directory's disk is full."""
        with self._lock, self.disk_space():
            if not self._db.closed:
                self._db.put(_JOB + job.job_id.encode(), json.dumps(to_json(job)).encode(), sync=sync)

    def delete(self, job_id: str) -> None:
        with self._lock, self.disk_space():
            if not self._db.closed:
                self._db.delete(_JOB + job_id.encode())

    def load(self, kind: type[T]) -> list[T]:
        """Every stored job, oldest id first. A record this version cannot read is logged and skipped."""
        jobs = []
        for key, raw in self._db.iterator(prefix=_JOB):
            try:
                jobs.append(from_json(kind, json.loads(raw)))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("skipping the unreadable job record %s: %s", key.decode(errors="replace"), exc)
        return jobs

    def close(self) -> None:
        with self._lock:
            if not self._db.closed:
                self._db.close()
