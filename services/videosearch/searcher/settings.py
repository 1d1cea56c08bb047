"""Settings of the Searcher service (flags override VIDEOSEARCH_SEARCHER_* env vars)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from videosearch.common import defaults
from videosearch.common.settings import BaseServiceSettings, OutgoingCallSettings, load_settings, message_setting, port_setting, setting
from videosearch.searcher.ranking.ann import DEFAULT_ANN_CANDIDATES, DEFAULT_ANN_MODE, DEFAULT_ANN_THRESHOLD, AnnParams
from videosearch.searcher.ranking.projection import DEFAULT_ENERGY
from videosearch.searcher.ranking.quantized import (
    DEFAULT_GROUP_MOMENTS,
    DEFAULT_QUANTIZED_PROBE,
    DEFAULT_QUANTIZED_THRESHOLD,
    DEFAULT_RANKING_PRECISION,
    TierParams,
)
from videosearch.searcher.lexical.fusion import DEFAULT_RRF_K, DEFAULT_SEEN_WEIGHT, DEFAULT_TEXT_WEIGHT, FusionWeights
from videosearch.searcher.image_query import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_IMAGE_PIXELS
from videosearch.searcher.validation import DEFAULT_MAX_THUMBNAIL_BYTES

ENV_PREFIX = "VIDEOSEARCH_SEARCHER"
ANN_MODES = ("none", "hnsw", "auto")
BACKENDS = ("embedded", "milvus")
_ANN = AnnParams()


@dataclass
class SearcherSettings(OutgoingCallSettings, BaseServiceSettings):
    port: int = port_setting(defaults.SEARCHER_PORT)
    max_message_mb: int = message_setting(defaults.SEARCHER_MAX_MESSAGE_MB)
    data_dir: str = setting("./data/searcher", "directory of the LevelDB store (and the saved ANN index)")
    embedder_address: str = setting(defaults.EMBEDDER_ADDRESS, "host:port of the Embedder, used to embed text queries")
    embedder_timeout: float = setting(30.0, "seconds to wait for the Embedder to embed a text query")
    ann: str = setting(
        DEFAULT_ANN_MODE,
        "approximate index for requests with approximate=true: none, hnsw (always), or auto (once the "
        "collection reaches --ann-threshold scenes)",
    )
    ann_threshold: int = setting(DEFAULT_ANN_THRESHOLD, "scene count from which ann=auto builds the approximate index")
    ann_connectivity: int = setting(_ANN.connectivity, "HNSW graph degree M")
    ann_expansion_add: int = setting(_ANN.expansion_add, "HNSW efConstruction")
    ann_expansion_search: int = setting(_ANN.expansion_search, "HNSW efSearch")
    ann_candidates: int = setting(DEFAULT_ANN_CANDIDATES, "fewest candidates the approximate index proposes for exact re-scoring")
    ranking_precision: str = setting(
        DEFAULT_RANKING_PRECISION,
        "what the embedded Searcher ranks in memory: float32 (every vector), int8 (the quantized tier: int8 codes, "
        "a graph over groups of moments, candidates re-scored exactly from the store; for collections too large for "
        "float32), or auto (int8 once the store holds --quantized-threshold moments at start-up)",
    )
    quantized_threshold: int = setting(DEFAULT_QUANTIZED_THRESHOLD,
                                       "moments from which --ranking-precision auto picks the int8 tier")
    quantized_probe: int = setting(DEFAULT_QUANTIZED_PROBE,
                                   "groups of moments whose int8 codes the quantized tier scores per search "
                                   "(scene mode: a quarter); more is slower and finds more")
    quantized_group_moments: int = setting(DEFAULT_GROUP_MOMENTS,
                                           "most moments of one video in one node of the quantized tier's graph (a "
                                           "change rebuilds the tier); fewer: more nodes, fewer probed for a video's best")
    quantized_refine: bool = setting(True, "approximate searches on the quantized tier score candidates from residual "
                                           "codes in memory and read float32 rows from the store only where those "
                                           "cannot decide the top k (scores within about 1e-3 of the exact cosine); "
                                           "off: every returned score is read from the store")
    quantized_projection_energy: float = setting(
        DEFAULT_ENERGY, "share of the group means' energy the quantized tier's graph keeps when it projects them to "
                        "fewer dimensions (the fewest that keep it; 0: never project); applies when the graph is built")
    max_image_bytes: int = setting(DEFAULT_MAX_IMAGE_BYTES, "largest query image (JPEG or PNG) accepted, in bytes")
    max_image_pixels: int = setting(DEFAULT_MAX_IMAGE_PIXELS,
                                    "largest query image accepted, in pixels (width x height, checked before decoding)")
    max_thumbnail_bytes: int = setting(DEFAULT_MAX_THUMBNAIL_BYTES, "largest scene thumbnail JPEG an upsert may carry")
    backend: str = setting("embedded", "where scenes are stored and ranked: embedded (LevelDB in --data-dir, one "
                                       "process) or milvus (--milvus-uri; any number of Searchers over one Milvus)")
    milvus_uri: str = setting("", "the Milvus of --backend milvus: http://host:19530, or a local path for milvus-lite "
                                  "(one process only)")
    milvus_token_file: str = setting("", "file holding the Milvus token (user:password, or an API key); empty: none")
    milvus_prefix: str = setting("videosearch", "prefix of the Milvus collections, so several collections share one Milvus")
    milvus_index: str = setting("HNSW", "Milvus index of the moment vectors: HNSW, IVF_FLAT, FLAT (exact) or DISKANN "
                                        "(Milvus standalone or cluster only; docs/scaling.md)")

    fusion_seen_weight: float = setting(DEFAULT_SEEN_WEIGHT, "weight of what is seen (the visual ranking) in the "
                                                             "reciprocal-rank fusion of a text query's rankings")
    fusion_said_weight: float = setting(DEFAULT_TEXT_WEIGHT, "weight of what is said (subtitle and transcript cues) "
                                                             "in the fusion")
    fusion_written_weight: float = setting(DEFAULT_TEXT_WEIGHT, "weight of what is written on screen in the fusion")
    fusion_rank_constant: int = setting(DEFAULT_RRF_K, "k of reciprocal-rank fusion: a list's rank r counts "
                                                       "weight / (k + r)")

    def fusion_weights(self) -> FusionWeights:
        return FusionWeights(self.fusion_seen_weight, self.fusion_said_weight, self.fusion_written_weight,
                             self.fusion_rank_constant)


def tier_params(s: SearcherSettings) -> TierParams:
    """The quantized tier's parameters from the settings (ValueError for a value out of range,
    checked at start-up even while the tier is not in use)."""
    return TierParams(
        probe=s.quantized_probe,
        group_moments=s.quantized_group_moments,
        refine=s.quantized_refine,
        projection_energy=s.quantized_projection_energy,
    )


def load(argv: Sequence[str] | None = None) -> SearcherSettings:
    return load_settings(
        SearcherSettings,
        ENV_PREFIX,
        argv,
        description="videosearch Searcher: stores scene embeddings in LevelDB and ranks them against queries over gRPC.",
    )
