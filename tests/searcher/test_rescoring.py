"""Re-scoring only the candidates that could still make the top k (searcher/ranking/rescoring.py) returns
what re-scoring every candidate returns: the bound holds for every row, and on a real int8 tier
whose near-tied rows int8 rounding reorders, the results equal those of full re-scoring."""

from __future__ import annotations

import numpy as np
import pytest
from videosearch.searcher.ranking import quantized
from videosearch.searcher.ranking.rescoring import settle, upper_bounds
from videosearch.searcher.types import SearchFilter, SearchParams

from tests.searcher.searcher_testlib import unit
from tests.searcher.test_quantized_tier import clustered, fill, open_int8, scene_keys

pytestmark = pytest.mark.timeout(300)


def quantize(vectors: np.ndarray, scale: float) -> np.ndarray:
    return np.clip(np.rint(vectors * scale), -127, 127).astype(np.int8)


@pytest.mark.parametrize("dim", [64, 512])
def test_the_bound_holds_for_every_row_and_clipped_rows_are_always_rescored(rng, dim):
    rows = unit(rng.standard_normal((20_000, dim)).astype(np.float32))
    rows[:200, 0] += 40 / np.sqrt(dim)  # some rows with a component far past the others: clipped
    rows = unit(rows).astype(np.float32)
    scale = quantized._scale(rows[200:])
    codes = quantize(rows, scale)
    for q in unit(rng.standard_normal((20, dim))).astype(np.float32):
        exact = rows @ q
        upper = upper_bounds(q, codes, scale)
        assert np.all(exact <= upper)
        assert np.isinf(upper[:200]).all() and np.mean(np.isfinite(upper[200:])) > 0.9  # 1 in 10,000 components reaches 127
        # The bound is needed: the plain int8 estimate is below the exact score for many rows.
        assert np.sum(codes[200:].astype(np.float64) @ q / scale < exact[200:]) > 1000


@pytest.mark.parametrize("k", [1, 3, 10])
def test_settle_keeps_the_top_k_of_full_rescoring_ties_included(rng, k):
    for _ in range(200):
        n = int(rng.integers(1, 60))
        exact = np.round(rng.random(n), 2).astype(np.float32)  # many ties
        exact[rng.random(n) < 0.1] = -np.inf  # gone, or under min_score
        upper = exact + rng.choice([0.0, 0.01, 0.05], n)  # some bounds tight to the exact score
        calls = []

        def rescore(items):
            calls.append(len(items))
            return exact[items]

        items, scores = settle(upper, k, rescore)
        assert len(calls) <= 2 and sum(calls) == len(items) == len(set(items.tolist()))
        finite = np.sort(exact[np.isfinite(exact)])[::-1]
        if len(finite) >= k:  # every item at or above the k-th best exact score was re-scored
            assert set(np.flatnonzero(exact >= finite[k - 1]).tolist()) <= set(items.tolist())
        else:
            assert set(np.flatnonzero(np.isfinite(exact)).tolist()) <= set(items.tolist())
        assert np.array_equal(scores, exact[items])


DIM = 64


def near_ties(rng) -> np.ndarray:
    """20 topics, each of 6 videos of 6 scenes that are all nearly the same vector: the top 10 of a
    query near a topic differ by less than int8 rounding does."""
    topics = rng.standard_normal((20, 1, 1, DIM))
    return unit(topics + 0.004 * rng.standard_normal((20, 6, 6, DIM))).reshape(120, 6, DIM).astype(np.float32)


def results(searcher, queries, params):
    out = []
    for q in queries:
        chosen = params(q) if callable(params) else params
        got = searcher.search(vector=q, params=chosen)
        if chosen.mode == "scenes":
            out.append([(h.video_id, h.scene.index, h.score) for h in got.scenes])
        else:
            out.append([(v.video.video_id, v.score, [(h.scene.index, h.score) for h in v.scenes]) for v in got.videos])
    return out


def test_the_tier_returns_what_rescoring_every_candidate_returns(tmp_path, rng, monkeypatch):
    vectors = near_ties(rng)
    fill(tmp_path / "data", vectors)
    searcher = open_int8(tmp_path / "data", probe=1000)  # every group: the candidates are the int8 ranking's best
    try:
        reads = []
        real_read = searcher.index.store.moment_vectors

        def counted(wanted):
            reads.append(sum(len(m) for _, m in wanted.values()))
            return real_read(wanted)

        monkeypatch.setattr(searcher.index.store, "moment_vectors", counted)
        queries = unit(vectors[rng.integers(0, 120, 30), 0] + 0.05 * rng.standard_normal((30, DIM))).astype(np.float32)
        scene_params, video_params = SearchParams(top_k=10, mode="scenes"), SearchParams(top_k=5, scenes_per_video=2)

        def above_the_median(q):  # min_score cuts the top 10 about in half
            cut = float(np.median(np.sort(vectors.reshape(-1, DIM) @ q)[-10:]))
            return SearchParams(top_k=10, mode="scenes", filter=SearchFilter(min_score=cut))

        def every():
            return [results(searcher, queries, p) for p in (scene_params, video_params, above_the_median)]

        shortcut = every()
        shortcut_reads = sum(reads)
        reads.clear()
        with monkeypatch.context() as m:  # the reference: every candidate re-scored
            m.setattr(quantized, "upper_bounds", lambda q, codes, scale: np.full(len(codes), np.inf))
            full = every()
        assert shortcut == full
        full_scenes = full[0]
        assert 0 < sum(len(r) for r in full[2]) < sum(len(r) for r in full[0])  # min_score did cut
        assert shortcut_reads < sum(reads)  # fewer rows read even where most candidates are near ties
        # The data can tell: int8 rounding reorders the near-tied rows, so trusting the int8 order
        # (re-scoring only the top k by it) would return other scenes for some queries.
        codes = quantize(vectors.reshape(-1, DIM), searcher.index.scale).astype(np.float64)
        differs = 0
        for q, got in zip(queries, full_scenes):
            by_int8 = np.argsort(-(codes @ q), kind="stable")[:10]
            differs += {(f"v{i // 6:03d}", int(i % 6)) for i in by_int8} != {(v, s) for v, s, _ in got}
        assert differs >= 3
    finally:
        searcher.close()


def test_on_ordinary_data_most_candidates_are_never_read(tmp_path, rng, monkeypatch):
    vectors = clustered(rng).astype(np.float32)
    fill(tmp_path / "data", vectors)
    searcher = open_int8(tmp_path / "data", probe=1000)
    try:
        reads = []
        real_read = searcher.index.store.moment_vectors
        monkeypatch.setattr(searcher.index.store, "moment_vectors",
                            lambda wanted: reads.append(sum(len(m) for _, m in wanted.values())) or real_read(wanted))
        for q in unit(vectors[rng.integers(0, len(vectors), 20), 0] + 0.3 * rng.standard_normal((20, DIM))):
            searcher.search(vector=q, params=SearchParams(top_k=10, mode="scenes"))
        assert sum(reads) < 0.6 * 20 * 32  # of the 32 candidates a search used to read
    finally:
        searcher.close()
