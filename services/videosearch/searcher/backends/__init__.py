"""Where the Searcher's videos are stored and ranked, behind the two interfaces of
videosearch.searcher.interfaces, and the one factory that picks the tier: ``embedded`` (LevelDB
in a data dir, ranked in memory in float32 or int8; one process per data dir) or ``milvus``
(pymilvus: Milvus standalone or cluster, or milvus-lite; any number of processes over one
Milvus). docs/scaling.md explains the Milvus design."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from videosearch.searcher.interfaces import VectorIndex, VideoStore

if TYPE_CHECKING:  # settings imports the tiers' defaults; the factory only reads its fields
    from videosearch.searcher.settings import SearcherSettings


@dataclass(frozen=True)
class Backend:
    """What the Searcher holds: its store and the index that ranks what the store holds."""

    store: VideoStore
    index: VectorIndex


def open_backend(s: SearcherSettings) -> Backend:
    """The tier ``s`` asks for: Milvus (``backend`` milvus), else the LevelDB store in ``data_dir``
    ranked in float32 or int8 (``ranking_precision``, ``quantized_threshold``)."""
    if s.backend == "milvus":
        from videosearch.searcher.backends.milvus import MilvusBackend  # pymilvus loads only when used
        from videosearch.searcher.backends.milvus_searcher import MilvusIndex, MilvusStore

        token = Path(s.milvus_token_file).read_text().strip() if s.milvus_token_file else ""
        milvus = MilvusBackend(s.milvus_uri, token=token, prefix=s.milvus_prefix, index_type=s.milvus_index)
        return Backend(MilvusStore(milvus), MilvusIndex(milvus))
    from videosearch.searcher.backends.local import open_local

    store = open_local(s)
    return Backend(store, store.index)
