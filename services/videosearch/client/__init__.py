"""The light client package: typed clients of the three services, the domain types they speak
and the errors they raise. Importing it loads gRPC, protobuf and numpy, never the services'
engines (torch, OpenCV, PySceneDetect; tests/cli/test_light_client.py checks), so
``pip install videosearch`` (no ``[server]`` extra) is enough to use it:

    from videosearch.client import SearcherClient
    with SearcherClient("127.0.0.1:50053", timeout=30) as searcher:
        result = searcher.search(text="a dog on a beach")

The modules: ``embedder`` (EmbedderClient), ``indexer`` (IndexerClient, SubmitOptions),
``fleet`` (several Indexers as one) and ``searcher`` (SearcherClient); the types live in
videosearch.indexer.types, videosearch.searcher.types and videosearch.embedder.types, the
errors in videosearch.common.errors (see docs/python-api.md)."""

from __future__ import annotations

from videosearch.client.embedder import EmbedderClient
from videosearch.client.fleet import IndexerFleet, connect_indexers
from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.client.searcher import SearcherClient
from videosearch.common.errors import (
    Cancelled,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
    VideoSearchError,
)
from videosearch.indexer.types import ErrorReason, IndexOptions, Job, JobStage, JobState
from videosearch.searcher.types import (
    MomentHit,
    QueryTerm,
    SceneHit,  # deprecated alias of MomentHit
    SceneRef,
    SearchFilter,
    SearchParams,
    SearchResult,
    VideoHit,
    VideoRecord,
)

__all__ = [
    "Cancelled",
    "DeadlineExceeded",
    "EmbedderClient",
    "ErrorReason",
    "FailedPrecondition",
    "IndexOptions",
    "IndexerClient",
    "IndexerFleet",
    "InvalidArgument",
    "Job",
    "JobStage",
    "JobState",
    "MomentHit",
    "NotFound",
    "PermissionDenied",
    "QueryTerm",
    "ResourceExhausted",
    "SceneHit",  # deprecated alias of MomentHit
    "SceneRef",
    "SearchFilter",
    "SearchParams",
    "SearchResult",
    "SearcherClient",
    "SubmitOptions",
    "Unavailable",
    "VideoHit",
    "VideoRecord",
    "VideoSearchError",
    "connect_indexers",
]
