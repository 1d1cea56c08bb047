"""The one table from a dependency's error to a job's failure reason."""

from __future__ import annotations

import pytest

from videosearch.common.errors import (
    Cancelled,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
    VideoSearchError,
)
from videosearch.indexer.jobs.failures import Dependency, failures_of
from videosearch.indexer.types import ErrorReason
from videosearch.indexer.jobs.manager import JobFailure
from videosearch.indexer.media.facade import FileMissingError, NotAVideoError

CASES = [
    (Dependency.VIDEO_FILE, NotAVideoError("no video stream"), ErrorReason.NOT_A_VIDEO),
    (Dependency.VIDEO_FILE, FileMissingError("gone"), ErrorReason.UNREADABLE),
    (Dependency.EMBEDDER, Unavailable("down"), ErrorReason.EMBEDDER_UNAVAILABLE),
    (Dependency.EMBEDDER, ResourceExhausted("queue full"), ErrorReason.EMBEDDER_UNAVAILABLE),
    (Dependency.EMBEDDER, InvalidArgument("bad pixels"), ErrorReason.EMBEDDER_REFUSED),
    (Dependency.EMBEDDER, FailedPrecondition("not ready for this"), ErrorReason.EMBEDDER_REFUSED),
    (Dependency.EMBEDDER, VideoSearchError("failed (INTERNAL)"), ErrorReason.EMBEDDER_REFUSED),
    (Dependency.SEARCHER, Unavailable("down"), ErrorReason.SEARCHER_UNAVAILABLE),
    (Dependency.SEARCHER, FailedPrecondition("another model"), ErrorReason.SEARCHER_REFUSED),
    (Dependency.SEARCHER, InvalidArgument("bad record"), ErrorReason.SEARCHER_REFUSED),
    (Dependency.SEARCHER, NotFound("no such video"), ErrorReason.SEARCHER_REFUSED),
]


@pytest.mark.parametrize("dependency, error, reason", CASES, ids=lambda c: getattr(c, "name", type(c).__name__))
def test_each_error_of_each_dependency_fails_the_job_with_its_reason(dependency, error, reason):
    with pytest.raises(JobFailure) as caught, failures_of(dependency):
        raise error
    assert caught.value.reason is reason and str(error) in str(caught.value)
    assert caught.value.__cause__ is error, "the original error stays attached for the log"


@pytest.mark.parametrize("error", [Cancelled("job cancelled"), JobFailure(ErrorReason.MODEL_MISMATCH, "x"), KeyError("bug")])
def test_cancellation_failures_and_bugs_pass_through(error):
    with pytest.raises(type(error)) as caught, failures_of(Dependency.SEARCHER):
        raise error
    assert caught.value is error
