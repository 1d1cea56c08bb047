"""A full disk, told as what it is: RESOURCE_EXHAUSTED naming the directory and what to
free, never INTERNAL.

LevelDB (plyvel) reports a full disk as ``plyvel.IOError`` whose text holds the OS's
"No space left on device"; Python's own writes raise OSError with ENOSPC (or EDQUOT for a
quota). The modules that own a directory (the Searcher's store, the Indexer's job store)
wrap their writes in :func:`disk_space_for`, which knows the directory and the setting;
the shared server maps the resulting :class:`DiskFull` like every other domain error, and
maps a full disk that reached it unwrapped with :func:`is_disk_full` as a last resort."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from pathlib import Path

from videosearch.common.errors import ResourceExhausted

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_FULL_TEXTS = ("no space left on device", "disk quota exceeded")


class DiskFull(ResourceExhausted):
    """The disk holding a service's directory has no space left; free some and retry."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (an OSError, or LevelDB's IOError by its text) says the disk is full."""
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return True
    text = str(exc).lower()
    return type(exc).__name__ == "IOError" and any(marker in text for marker in _FULL_TEXTS)


def disk_full_message(directory: str | Path, setting: str, what_to_free: str) -> str:
    return (
        f"no space left on the disk holding {directory} ({setting}); free space there ({what_to_free}) "
        "or move it to a larger disk, then retry"
    )


@contextlib.contextmanager
def disk_space_for(directory: str | Path, setting: str, what_to_free: str) -> Iterator[None]:
    """Turns a full-disk error of the writes inside into DiskFull naming ``directory``."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            raise DiskFull(disk_full_message(directory, setting, what_to_free)) from exc
        raise
