"""Search filters: which videos a search may return, checked before ranking.

A filter is a predicate on a video's record (paths, duration, when it was indexed); the
index applies it to every stored video and ranks only the rows of those it keeps, so a
selective filter still returns its true best matches. ``min_score`` acts on hits instead
and is passed to the ranking separately.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from collections.abc import Callable

from videosearch.common.errors import InvalidArgument
from videosearch.searcher.types import SearchFilter, VideoRecord


def validate_filter(f: SearchFilter) -> SearchFilter:
    """Checks ranges and returns the filter with its folder normalized (a trailing "/")."""
    for name in ("min_duration_seconds", "max_duration_seconds"):
        value = getattr(f, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise InvalidArgument(f"filter.{name} is {value}; give a finite number of seconds >= 0, or leave it unset")
    if f.min_duration_seconds is not None and f.max_duration_seconds is not None \
            and f.min_duration_seconds > f.max_duration_seconds:
        raise InvalidArgument(f"filter.min_duration_seconds ({f.min_duration_seconds}) exceeds max_duration_seconds "
                              f"({f.max_duration_seconds}); the minimum must be at most the maximum")
    if f.indexed_after is not None and f.indexed_before is not None and f.indexed_after >= f.indexed_before:
        raise InvalidArgument(f"filter.indexed_after ({f.indexed_after.isoformat()}) is not before indexed_before "
                              f"({f.indexed_before.isoformat()}); give a non-empty time range")
    if f.min_score is not None and not (math.isfinite(f.min_score) and -1.0 <= f.min_score <= 1.0):
        raise InvalidArgument(f"filter.min_score is {f.min_score}; scores are cosines, give a value between -1 and 1")
    if "\x00" in f.path_prefix or "\x00" in f.folder:
        raise InvalidArgument("filter.path_prefix and filter.folder must not contain NUL; give a path")
    if f.folder and not f.folder.startswith("/"):
        raise InvalidArgument(f"filter.folder {f.folder!r} is not absolute; give an absolute folder such as /videos/cats")
    if f.folder and not f.folder.endswith("/"):
        f = replace(f, folder=f.folder + "/")
    return f


def video_predicate(f: SearchFilter) -> Callable[[VideoRecord], bool] | None:
    """A test that a stored video passes the (validated) filter; None when it filters no video."""
    if not f.filters_videos:
        return None
    prefixes = [p for p in (f.path_prefix, f.folder) if p]
    after, before = _utc(f.indexed_after), _utc(f.indexed_before)

    def allowed(video: VideoRecord) -> bool:
        if f.min_duration_seconds is not None and video.duration_seconds < f.min_duration_seconds:
            return False
        if f.max_duration_seconds is not None and video.duration_seconds > f.max_duration_seconds:
            return False
        if after is not None or before is not None:
            indexed = _utc(video.indexed_at)
            if indexed is None or (after is not None and indexed < after) or (before is not None and indexed >= before):
                return False
        return all(any(location.path.startswith(p) for location in video.locations) for p in prefixes)

    return allowed


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment
