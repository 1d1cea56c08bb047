"""Settings of the Indexer service (flags and VIDEOSEARCH_INDEXER_* variables)."""

from __future__ import annotations

from dataclasses import dataclass

from videosearch.common.settings import load_settings, setting
from videosearch.indexer import detectors, moments, sampling

ENV_PREFIX = "VIDEOSEARCH_INDEXER"


@dataclass(frozen=True)
class IndexerSettings:
    host: str = setting("127.0.0.1", "interface to listen on (0.0.0.0 in containers)")
    port: int = setting(50052, "port to listen on; 0 picks a free one (see --port-file)")
    port_file: str = setting("", "write the bound port to this file once listening")
    embedder_address: str = setting("127.0.0.1:50051", "host:port of the Embedder")
    searcher_address: str = setting("127.0.0.1:50053", "host:port of the Searcher")
    allowed_roots: tuple[str, ...] = setting((".",), "comma-separated directories whose files may be indexed")
    workers: int = setting(2, "videos indexed at the same time")
    max_queued_jobs: int = setting(1000, "jobs waiting for a worker before submissions are refused")
    finished_jobs_kept: int = setting(1000, "finished jobs remembered for Get/List/Watch")
    detector: str = setting(detectors.DEFAULT_DETECTOR, "default cut detector: content, adaptive, threshold, hash or a+b")
    detector_threshold: float = setting(27.0, "default ContentDetector threshold")
    min_scene_frames: int = setting(15, "default shortest scene, in frames")
    frames_per_scene: int = setting(0, "default fixed frames per scene (the article's 3); 0 samples through time")
    seconds_per_sample: float = setting(sampling.DEFAULT_SECONDS_PER_SAMPLE, "default seconds of video per sampled frame")
    min_frames_per_scene: int = setting(sampling.DEFAULT_MIN_SAMPLES, "default fewest frames sampled per scene")
    max_frames_per_scene: int = setting(sampling.DEFAULT_MAX_SAMPLES, "default most frames sampled per scene")
    moment_min_scene_seconds: float = setting(
        moments.DEFAULT_MIN_SCENE_SECONDS, "scenes at least this long are split into moments where their frames change")
    moment_penalty: float = setting(moments.DEFAULT_PENALTY, "cost of one more moment in the change-point search")
    moment_min_frames: int = setting(moments.DEFAULT_MIN_SAMPLES, "fewest sampled frames in a moment")
    moment_merge_cosine: float = setting(
        moments.DEFAULT_MERGE_COSINE, "neighbouring moments more similar than this are merged")
    moment_join_cosine: float = setting(
        moments.DEFAULT_JOIN_COSINE, "moments this similar on both sides of a cut are joined (above 1: never)")
    moment_join_max_seconds: float = setting(
        moments.DEFAULT_JOIN_MAX_SECONDS, "... when the shorter of the two lasts less than this")
    embed_requests_in_flight: int = setting(4, "embedding requests one job keeps in flight while it decodes on")
    rpc_timeout_s: float = setting(120.0, "deadline of each call to the Embedder and the Searcher")
    log_level: str = setting("INFO", "logging level")


def moment_settings(settings: IndexerSettings) -> moments.MomentSettings:
    return moments.MomentSettings(
        min_scene_seconds=settings.moment_min_scene_seconds,
        penalty=settings.moment_penalty,
        min_samples=settings.moment_min_frames,
        merge_cosine=settings.moment_merge_cosine,
        join_cosine=settings.moment_join_cosine,
        join_max_seconds=settings.moment_join_max_seconds,
    )


def load(argv=None) -> IndexerSettings:
    return load_settings(IndexerSettings, ENV_PREFIX, argv, description="videosearch Indexer service")
