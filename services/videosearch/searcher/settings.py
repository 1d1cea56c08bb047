"""Settings of the Searcher service (flags override VIDEOSEARCH_SEARCHER_* env vars)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from videosearch.common.settings import load_settings, setting

ENV_PREFIX = "VIDEOSEARCH_SEARCHER"


@dataclass
class SearcherSettings:
    host: str = setting("127.0.0.1", "interface to listen on")
    port: int = setting(50053, "TCP port to listen on; 0 picks a free one (see --port-file)")
    data_dir: str = setting("./data/searcher", "directory of the LevelDB store (and the saved ANN index)")
    embedder_address: str = setting("127.0.0.1:50051", "host:port of the Embedder, used to embed text queries")
    embedder_timeout: float = setting(30.0, "seconds to wait for the Embedder to embed a text query")
    ann: str = setting(
        "auto",
        "approximate index for requests with approximate=true: none, hnsw (always), or auto (once the "
        "collection reaches --ann-threshold scenes)",
    )
    ann_threshold: int = setting(200_000, "scene count from which ann=auto builds the approximate index")
    ann_connectivity: int = setting(16, "HNSW graph degree M")
    ann_expansion_add: int = setting(64, "HNSW efConstruction")
    ann_expansion_search: int = setting(128, "HNSW efSearch")
    ann_candidates: int = setting(64, "fewest candidates the approximate index proposes for exact re-scoring")
    port_file: str = setting("", "write the bound port to this file once listening (for launchers using port 0)")
    log_level: str = setting("info", "logging level: debug, info, warning or error")


def load(argv: Sequence[str] | None = None) -> SearcherSettings:
    return load_settings(
        SearcherSettings,
        ENV_PREFIX,
        argv,
        description="videosearch Searcher: stores scene embeddings in LevelDB and ranks them against queries over gRPC.",
    )
