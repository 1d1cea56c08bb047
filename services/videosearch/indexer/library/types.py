"""What callers see of libraries and prunes: plain values, no file watching, no gRPC (the
clients import these)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class LibraryState(enum.Enum):
    STARTING = "starting"
    SCANNING = "scanning"
    IDLE = "idle"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class LibraryStatus:
    """A library as callers see it (one snapshot)."""

    path: str
    create_time: dt.datetime
    rescan_s: float
    state: LibraryState = LibraryState.STARTING
    watching: bool = False
    files_seen: int = 0
    files_queued: int = 0
    files_indexed: int = 0
    files_pruned: int = 0
    last_scan_time: dt.datetime | None = None
    last_error: str = ""
    error_count: int = 0


@dataclass(frozen=True)
class PrunedPaths:
    """What a PruneLocations call changed (or, with ``dry_run``, would change): (video id,
    path) pairs marked missing and marked present, and (video id, its paths) removed."""

    dry_run: bool
    marked_missing: list[tuple[str, str]]
    marked_present: list[tuple[str, str]]
    removed: list[tuple[str, list[str]]]
    locations_checked: int
