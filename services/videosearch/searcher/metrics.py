"""The Searcher's own Prometheus metrics: the collection's size and whether its approximate
index is ready (read at each scrape), each query's time to embed its text and to rank, and the
searches that fell back to a lesser way (SearchResult.fallbacks).

The servicer hands each search's result to :meth:`SearcherMetrics.observe`, so the Searcher's
code does not change for metrics."""

from __future__ import annotations

from videosearch.common.metrics import ServiceMetrics
from videosearch.searcher.service import Searcher
from videosearch.searcher.types import SearchResult

QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class SearcherMetrics:
    """The collection's gauges, and each search's embed and rank time."""

    def __init__(self, searcher: Searcher, metrics: ServiceMetrics) -> None:
        self._searcher = searcher
        self._query_seconds = metrics.histogram(
            "videosearch_searcher_query_seconds",
            "seconds of a query's parts: embed (its text) and rank",
            QUERY_BUCKETS,
            ("part",),
        )
        self._fallbacks = metrics.counter(
            "videosearch_searcher_fallbacks",
            "searches that did a part the lesser way because a dependency failed, by part "
            "(residual_query: looks ranked by the whole query, its rests could not be embedded)",
            ("fallback",),
        )
        for name, what, read in (
            ("videosearch_searcher_videos", "videos in the collection", lambda: self._searcher.stats().video_count),
            ("videosearch_searcher_scenes", "scenes in the collection", lambda: self._searcher.stats().scene_count),
            (
                "videosearch_searcher_approximate_index_ready",
                "1 once the approximate (ANN) index answers queries",
                lambda: float(self._searcher.stats().approximate_index),
            ),
        ):
            metrics.gauge(name, what).set_function(read)

    def follow(self, searcher: Searcher) -> None:
        """Reads the gauges from ``searcher`` from now on (a reindex switched collections)."""
        self._searcher = searcher

    def observe(self, result: SearchResult) -> None:
        if result.embed_ms:  # a query with text or image terms
            self._query_seconds.labels("embed").observe(result.embed_ms / 1e3)
        self._query_seconds.labels("rank").observe(result.rank_ms / 1e3)
        for fallback in result.fallbacks:
            self._fallbacks.labels(fallback).inc()
