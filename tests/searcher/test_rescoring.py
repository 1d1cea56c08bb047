"""Re-scoring only the candidates that could still make the top k (searcher/ranking/rescoring.py) returns
what re-scoring every candidate returns: the bound holds for every row, and on a real int8 tier
whose near-tied rows int8 rounding reorders, the results equal those of full re-scoring."""

from __future__ import annotations

import numpy as np
import pytest
from videosearch.searcher.ranking import quantized
from videosearch.searcher.ranking.rescoring import refined_scores, residual_codes, settle, spills, upper_bounds
from videosearch.searcher.types import SearchFilter, SearchParams

from tests.searcher.searcher_testlib import fill_searcher, make_scenes, make_video, unit
from tests.searcher.test_quantized_tier import clustered, open_int8

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
    fill_searcher(tmp_path / "data", vectors, 3)
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
    fill_searcher(tmp_path / "data", vectors, 3)
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


# -- re-scoring from memory: residual codes and settle_within ------------------------------------------


@pytest.mark.parametrize("dim", [63, 512])
def test_the_residual_codes_bound_every_rows_exact_score_far_tighter_than_int8(rng, dim):
    rows = unit(rng.standard_normal((5_000, dim)).astype(np.float32))
    rows[:50, 0] += 40 / np.sqrt(dim)  # clipped rows: their residual code says nothing
    rows = unit(rows).astype(np.float32)
    scale = quantized._scale(rows[50:])
    codes = quantize(rows, scale)
    residuals = residual_codes(rows, codes, scale)
    assert residuals.shape == (5_000, (dim + 1) // 2) and residuals.dtype == np.uint8
    for q in unit(rng.standard_normal((10, dim))).astype(np.float32):
        exact = rows @ q
        estimate, error = refined_scores(q, codes, residuals, scale)
        assert np.all(np.abs(exact - estimate) <= error)
        assert np.isinf(error[:50]).all() and np.isfinite(error[50:]).mean() > 0.9
        finite = np.isfinite(error)
        int8_slack = (upper_bounds(q, codes, scale) - codes.astype(np.float64) @ q / scale)[finite]
        assert np.all(error[finite] < int8_slack / 10)  # the interval is over 10x narrower than int8's bound
        # With the clipped components' exact residuals (spills) every row gets the same narrow bound.
        spilled_rows, dims, values = spills(rows, codes, scale)
        assert set(spilled_rows.tolist()) >= set(range(50)) and len(spilled_rows) < 0.01 * rows.size
        estimate, error = refined_scores(q, codes, residuals, scale, (spilled_rows, dims, values))
        assert np.all(np.isfinite(error)) and np.all(np.abs(exact - estimate) <= error)


def refined_against_reading(tmp_path, monkeypatch, vectors, queries, reference_reads_all: bool):
    """Results and rows read with refine off (reading every candidate when ``reference_reads_all``,
    else the int8 bound's shortcut) and on, for the same scene and video searches."""
    fill_searcher(tmp_path / "data", vectors, 3)
    scene_params = SearchParams(top_k=10, mode="scenes", approximate=True)
    video_params = SearchParams(top_k=5, scenes_per_video=2, approximate=True)
    out, reads = {}, {}
    for refine in (False, True):
        searcher = open_int8(tmp_path / "data", probe=1000, quantized_refine=refine)
        try:
            counted = []
            real_read = searcher.index.store.moment_vectors
            monkeypatch.setattr(searcher.index.store, "moment_vectors",
                                lambda wanted: counted.append(sum(len(m) for _, m in wanted.values())) or real_read(wanted))
            with monkeypatch.context() as m:
                if not refine and reference_reads_all:
                    m.setattr(quantized, "upper_bounds", lambda q, codes, scale: np.full(len(codes), np.inf))
                out[refine] = [results(searcher, queries, p) for p in (scene_params, video_params)]
            reads[refine] = sum(counted)
            scale = searcher.index.scale
        finally:
            searcher.close()
    return out, reads, scale


def test_the_tier_with_residual_codes_reads_nothing_and_misses_only_within_its_bound(tmp_path, rng, monkeypatch):
    """On near-tied rows (int8 rounding reorders them), refine reads no row; every score lies within
    the residual codes' bound of the exact cosine, and a scene it returns in place of one of the exact
    top 10 scores at most twice that bound below it."""
    vectors = near_ties(rng)
    queries = unit(vectors[rng.integers(0, 120, 30), 0] + 0.05 * rng.standard_normal((30, DIM))).astype(np.float32)
    out, reads, scale = refined_against_reading(tmp_path, monkeypatch, vectors, queries, reference_reads_all=True)
    assert reads[True] == 0 and reads[False] > 0
    flat = vectors.reshape(-1, DIM)
    exact = lambda v, s, q: float(flat[int(v[1:]) * 6 + s] @ q)  # noqa: E731
    for q, exact_scenes, refined_scenes in zip(queries, out[False][0], out[True][0]):
        bound = float(np.abs(q).sum()) / (30 * scale) + 1e-4
        kth = min(score for _, _, score in exact_scenes)
        for v, s, score in refined_scenes:
            assert abs(score - exact(v, s, q)) <= bound and exact(v, s, q) >= kth - 2 * bound


def test_on_ordinary_data_the_residual_codes_rank_like_exact_reads(tmp_path, rng, monkeypatch):
    vectors = clustered(rng).astype(np.float32)
    queries = unit(vectors[rng.integers(0, len(vectors), 20), 0] + 0.3 * rng.standard_normal((20, DIM))).astype(np.float32)
    out, reads, _ = refined_against_reading(tmp_path, monkeypatch, vectors, queries, reference_reads_all=False)
    for mode in (0, 1):  # about the same hits as reading rows exactly (they differ only on near ties)
        overlap = [len({h[:2] if mode == 0 else h[0] for h in mine} & {h[:2] if mode == 0 else h[0] for h in theirs})
                   / len(theirs) for mine, theirs in zip(out[True][mode], out[False][mode])]
        assert np.mean(overlap) >= 0.95
    assert reads[True] == 0 and reads[False] > 0


def test_smaller_groups_split_a_video_into_near_equal_runs_and_rank_the_same(tmp_path, rng):
    vectors = clustered(rng, 40, 20).astype(np.float32)  # 40 videos of 20 alike moments
    fill_searcher(tmp_path / "data", vectors, 3)
    queries = unit(vectors[rng.integers(0, 40, 10), 0] + 0.3 * rng.standard_normal((10, DIM))).astype(np.float32)
    got = {}
    for group_moments in (32, 6):
        searcher = open_int8(tmp_path / "data", probe=1000, quantized_group_moments=group_moments)
        try:
            keys = np.asarray(list(searcher.index._graph._index.keys), dtype=np.int64)
            lengths = np.bincount(keys & ((1 << quantized.KEY_LENGTH_BITS) - 1))
            assert lengths.nonzero()[0].tolist() == ([20] if group_moments == 32 else [5])  # 5, 5, 5, 5: not 6, 6, 6, 2
            assert lengths.sum() == 40 * (1 if group_moments == 32 else 4)
            got[group_moments] = [results(searcher, queries, p) for p in (SearchParams(top_k=10, mode="scenes"),
                                                                           SearchParams(top_k=5, approximate=True))]
        finally:
            searcher.close()
    assert got[32] == got[6]  # every group probed: the same candidates, the same results
    with pytest.raises(ValueError, match="between 1 and 32"):
        quantized.TierParams(group_moments=40)


def assert_residuals_match_the_store(index) -> int:
    """Every live row's int8 code, residual code and spilled components equal those computed afresh
    from its float32 row in the store; returns the number of spilled components seen."""
    state, seen = index._state, 0
    for seg in np.flatnonzero(state.alive).tolist():
        video_id = state.videos[seg].video_id
        vectors = index.store.moment_vectors({video_id: (int(state.seg_serials[seg]), None)})[video_id]
        rows = np.arange(state.seg_rows[seg], state.seg_rows[seg] + state.counts[seg])
        codes = index.quantize(vectors)
        assert np.array_equal(state.gather(rows), codes)
        assert np.array_equal(state.gather_fine(rows), residual_codes(vectors, codes, index.scale))
        at, dims, values = state.gather_spill(rows)
        want = spills(vectors, codes, index.scale)
        assert np.array_equal(at, want[0]) and np.array_equal(dims, want[1]) and np.array_equal(values, want[2])
        seen += len(at)
    return seen


def test_residual_codes_and_spills_follow_writes_compaction_and_restarts(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(quantized, "BLOCK_ROWS", 256)  # small blocks: appends open new ones, compaction runs
    vectors = clustered(rng, 60, 6).astype(np.float32)
    for i in range(6):  # a few rows with a component far past the others: the largest are clipped, spilled
        vectors[7 * i, 0, 3] += 1.0 + 0.5 * i
    vectors = unit(vectors).astype(np.float32)
    fill_searcher(tmp_path / "data", vectors, 3)
    searcher = open_int8(tmp_path / "data")
    try:
        assert assert_residuals_match_the_store(searcher.index) > 0
        for i in range(25):  # replaced and deleted videos: a quarter of the rows die, the codes are compacted
            if i % 2:
                searcher.delete_video(f"v{i:03d}")
            else:
                again = unit(clustered(rng, 1, 5)[0] + np.eye(DIM)[3] * 4.0 * (i % 4 == 0)).astype(np.float32)
                searcher.upsert_video(make_video(f"v{i:03d}", 5, dim=DIM), make_scenes(5), again)
        assert searcher.index._state.end_row < 360 + 13 * 5  # fewer rows than were ever written: compacted
        assert assert_residuals_match_the_store(searcher.index) > 0
    finally:
        searcher.close()
    searcher = open_int8(tmp_path / "data")  # the saved tier plus the replayed writes
    try:
        assert searcher.index.replayed > 0
        assert assert_residuals_match_the_store(searcher.index) > 0
    finally:
        searcher.close()
