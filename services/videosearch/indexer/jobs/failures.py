"""The one table from what went wrong, and where, to the reason a job fails with.

Every call the pipeline makes to a dependency (the Embedder, the Searcher, the
video file) runs inside ``failures_of(dependency)``; an error raised there is
looked up here, first match wins, and becomes a :class:`JobFailure` whose message
names the dependency. ``Cancelled`` passes through: it cancels, it does not fail."""

from __future__ import annotations

import contextlib
import enum

from videosearch.common.errors import (
    Cancelled,
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
    VideoSearchError,
)
from videosearch.indexer.types import ErrorReason
from videosearch.indexer.jobs.manager import JobFailure
from videosearch.indexer.jobs.limits import LimitExceeded
from videosearch.indexer.media.facade import MediaError, NotAVideoError


class Dependency(enum.Enum):
    EMBEDDER = "embedder"
    SEARCHER = "searcher"
    VIDEO_FILE = "video file"


# (dependency, error type) -> (reason, what the message starts with); first match wins.
FAILURE_TABLE: list[tuple[Dependency, type[BaseException], ErrorReason, str]] = [
    (Dependency.VIDEO_FILE, LimitExceeded, ErrorReason.LIMIT_EXCEEDED, ""),
    (Dependency.VIDEO_FILE, NotAVideoError, ErrorReason.NOT_A_VIDEO, ""),
    (Dependency.VIDEO_FILE, MediaError, ErrorReason.UNREADABLE, ""),
    (Dependency.EMBEDDER, Unavailable, ErrorReason.EMBEDDER_UNAVAILABLE, ""),
    # A full queue is the Embedder's way of saying "later": retrying can work.
    (Dependency.EMBEDDER, ResourceExhausted, ErrorReason.EMBEDDER_UNAVAILABLE, "the embedder is overloaded: "),
    (Dependency.EMBEDDER, InvalidArgument, ErrorReason.EMBEDDER_REFUSED, "the embedder refused the frames: "),
    (Dependency.EMBEDDER, FailedPrecondition, ErrorReason.EMBEDDER_REFUSED, "the embedder refused the frames: "),
    # INTERNAL, UNKNOWN and the like: the Embedder broke on these frames; its log says why.
    (Dependency.EMBEDDER, VideoSearchError, ErrorReason.EMBEDDER_REFUSED, "the embedder failed on the frames: "),
    (Dependency.SEARCHER, Unavailable, ErrorReason.SEARCHER_UNAVAILABLE, ""),
    (Dependency.SEARCHER, FailedPrecondition, ErrorReason.SEARCHER_REFUSED, "the searcher cannot take this video: "),
    (Dependency.SEARCHER, VideoSearchError, ErrorReason.SEARCHER_REFUSED, "the searcher refused the video: "),
]


def failure_for(dependency: Dependency, error: BaseException) -> JobFailure | None:
    """The JobFailure ``error`` from ``dependency`` stands for, or None (an internal error)."""
    for source, kind, reason, prefix in FAILURE_TABLE:
        if source is dependency and isinstance(error, kind):
            return JobFailure(reason, f"{prefix}{error}")
    return None


@contextlib.contextmanager
def failures_of(dependency: Dependency):
    """Turns errors of calls to ``dependency`` into their JobFailure (see FAILURE_TABLE)."""
    try:
        yield
    except (Cancelled, JobFailure):
        raise
    except VideoSearchError as exc:
        failure = failure_for(dependency, exc)
        if failure is None:
            raise
        raise failure from exc


def failing_iter(dependency: Dependency, iterator):
    """Yields from ``iterator``, its errors turned into JobFailures as in ``failures_of``."""
    with failures_of(dependency):
        yield from iterator
