"""The quantized tier (searcher/ranking/quantized.py) on a real LevelDB: it ranks like the float32 tier
with exact scores, follows writes, and trusts its saved files only when they are fresh.

Vectors are clustered like video embeddings (a topic per video, scenes near it), 64-d."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from videosearch.common.tensors import to_tensor
from videosearch.searcher.server import serve
from videosearch.searcher.service import Searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.storage.store import SearcherStore
from videosearch.searcher.types import SearchFilter, SearchParams
from videosearch.v1 import searcher_pb2

from tests.searcher.searcher_testlib import fill_searcher, make_scenes, make_video, open_searcher, unit

DIM = 64
VIDEOS = 120
SCENES = 6

pytestmark = pytest.mark.timeout(300)


def clustered(rng: np.random.Generator, videos: int = VIDEOS, scenes: int = SCENES) -> np.ndarray:
    topics = rng.standard_normal((videos, 1, DIM))
    return unit(topics + 0.7 * rng.standard_normal((videos, scenes, DIM)))


def open_int8(data_dir, probe: int = 16, **settings) -> Searcher:
    return open_searcher(data_dir, ann="none", ranking_precision="int8", quantized_probe=probe, **settings)


def scene_keys(result) -> list[tuple[str, int]]:
    return [(h.video_id, h.scene.index) for h in result.scenes]


@pytest.fixture
def data(tmp_path, rng):
    vectors = clustered(rng)
    fill_searcher(tmp_path / "data", vectors, 3)
    return tmp_path / "data", vectors


def exact_top(vectors: np.ndarray, query: np.ndarray, k: int = 10) -> list[tuple[str, int]]:
    scores = vectors.reshape(-1, DIM) @ query
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    return [(f"v{i // SCENES:03d}", int(i % SCENES)) for i in order]


@pytest.mark.parametrize("refine", [False, True])
def test_ranks_like_exact_float32_with_true_cosines(data, rng, refine):
    data_dir, vectors = data
    searcher = open_int8(data_dir, quantized_refine=refine)
    try:
        assert searcher.index.moment_count == VIDEOS * SCENES
        queries = unit(vectors[rng.integers(0, VIDEOS, 20), 0] + 0.3 * rng.standard_normal((20, DIM)))
        recalls = []
        for q in queries:
            for approximate in (True, False):
                got = searcher.search(vector=q, params=SearchParams(top_k=10, mode="scenes", approximate=approximate))
                recalls.append(len(set(scene_keys(got)) & set(exact_top(vectors, q))) / 10)
                # Scores are exact float32 cosines, not int8 estimates; with refine, approximate searches
                # score from the residual codes: within their bound (rescoring.refined_scores) of the cosine.
                within = 1e-5 if not (refine and approximate) else float(np.abs(q).sum()) / (30 * searcher.index.scale) + 1e-4
                for hit in got.scenes:
                    row = vectors[int(hit.video_id[1:]), hit.scene.index]
                    assert hit.score == pytest.approx(float(row @ q), abs=within)
        assert np.mean(recalls) >= 0.95
        # A stored vector as the query: its own scene first, exactly 1.
        got = searcher.search(vector=vectors[7, 2], params=SearchParams(top_k=3, mode="scenes", approximate=True))
        within = 1e-5 if not refine else float(np.abs(vectors[7, 2]).sum()) / (30 * searcher.index.scale) + 1e-4
        assert scene_keys(got)[0] == ("v007", 2) and got.scenes[0].score == pytest.approx(1.0, abs=within)
        videos = searcher.search(vector=vectors[7, 2], params=SearchParams(top_k=3, approximate=True))
        assert videos.videos[0].video.video_id == "v007" and videos.videos[0].scenes[0].scene.index == 2
    finally:
        searcher.close()


def test_mean_scoring_uses_every_moment_of_the_candidates(data):
    data_dir, vectors = data
    searcher = open_int8(data_dir)
    try:
        q = vectors[11, 0]
        got = searcher.search(vector=q, params=SearchParams(top_k=5, video_scoring="mean", approximate=True))
        top = got.videos[0]
        assert top.video.video_id == "v011"
        assert top.score == pytest.approx(float((vectors[11] @ q).mean()), abs=1e-5)
    finally:
        searcher.close()


def test_filters_exclusions_min_score_and_paging(data):
    data_dir, vectors = data
    searcher = open_int8(data_dir)
    try:
        q = vectors[3, 1]
        # A selective filter (one video of 120): scored over its rows only, still found.
        only = searcher.search(vector=q, params=SearchParams(top_k=5, mode="scenes", filter=SearchFilter(
            path_prefix="/videos/v050")))
        assert {h.video_id for h in only.scenes} == {"v050"} and len(only.scenes) == 5
        # min_score keeps only hits at or above it.
        high = searcher.search(vector=q, params=SearchParams(top_k=10, mode="scenes", filter=SearchFilter(min_score=0.99)))
        assert scene_keys(high) == [("v003", 1)]
        # Paging continues exactly where the first page ended.
        first = searcher.search(vector=q, params=SearchParams(top_k=4, mode="scenes", approximate=False))
        second = searcher.search(vector=q, params=SearchParams(top_k=4, mode="scenes", approximate=False,
                                                               page_token=first.next_page_token))
        both = searcher.search(vector=q, params=SearchParams(top_k=8, mode="scenes", approximate=False))
        assert scene_keys(first) + scene_keys(second) == scene_keys(both)
    finally:
        searcher.close()


def test_writes_are_searchable_at_once(data, rng):
    data_dir, vectors = data
    searcher = open_int8(data_dir)
    try:
        new = clustered(rng, 1, 4)[0]
        searcher.upsert_video(make_video("new", 4, dim=DIM), make_scenes(4), new)
        assert scene_keys(searcher.search(vector=new[2], params=SearchParams(top_k=1, mode="scenes")))[0] == ("new", 2)
        replaced = clustered(rng, 1, 2)[0]
        searcher.upsert_video(make_video("v005", 2, dim=DIM), make_scenes(2), replaced)
        old = searcher.search(vector=vectors[5, 4], params=SearchParams(top_k=10, mode="scenes", approximate=False))
        assert ("v005", 4) not in scene_keys(old)  # the old version's scene 4 is gone
        hit = searcher.search(vector=replaced[1], params=SearchParams(top_k=1, mode="scenes")).scenes[0]
        assert (hit.video_id, hit.scene.index) == ("v005", 1) and hit.score == pytest.approx(1.0, abs=1e-5)
        searcher.delete_video("v009")
        got = searcher.search(vector=vectors[9, 0], params=SearchParams(top_k=20, approximate=False))
        assert "v009" not in {h.video.video_id for h in got.videos}
        assert searcher.stats().video_count == VIDEOS  # one added, one deleted
    finally:
        searcher.close()


def test_a_restart_replays_writes_made_after_the_save(data, rng):
    data_dir, vectors = data
    searcher = open_int8(data_dir)  # builds and saves the tier
    assert searcher.index.build_seconds is not None
    new = clustered(rng, 1, 3)[0]
    searcher.upsert_video(make_video("late", 3, dim=DIM), make_scenes(3), new)
    searcher.delete_video("v010")
    searcher.close()  # two writes since the save: the tier is not rewritten, the log has them

    again = open_int8(data_dir)
    try:
        assert again.index.build_seconds is None and again.index.replayed == 2  # loaded, not rebuilt
        assert scene_keys(again.search(vector=new[0], params=SearchParams(top_k=1, mode="scenes")))[0] == ("late", 0)
        got = again.search(vector=vectors[10, 0], params=SearchParams(top_k=20, approximate=False))
        assert "v010" not in {h.video.video_id for h in got.videos}
        assert again.stats().moment_count == VIDEOS * SCENES - SCENES + 3
    finally:
        again.close()


def test_a_damaged_or_outrun_saved_tier_means_a_rebuild(data, rng):
    data_dir, vectors = data
    open_int8(data_dir).close()
    manifest = json.loads((data_dir / "quantized" / "manifest.json").read_text())
    codes = data_dir / "quantized" / manifest["files"] / "codes-0.npy"
    codes.write_bytes(codes.read_bytes()[:100])  # truncated
    damaged = open_int8(data_dir)
    try:
        assert damaged.index.build_seconds is not None  # rebuilt, not crashed
        assert scene_keys(damaged.search(vector=vectors[4, 3], params=SearchParams(top_k=1, mode="scenes")))[0] == ("v004", 3)
    finally:
        damaged.close()

    # A write the log does not hold (made by a store that keeps no log, as the float32 tier's):
    # the saved tier is stale.
    store = SearcherStore(data_dir)
    try:
        unseen = clustered(rng, 1, 2)[0]
        store.put_video(make_video("unseen", 2, dim=DIM), make_scenes(2), unseen)
        store.prune_changes(store.generation())
    finally:
        store.close()
    stale = open_int8(data_dir)
    try:
        assert stale.index.build_seconds is not None
        assert scene_keys(stale.search(vector=unseen[1], params=SearchParams(top_k=1, mode="scenes")))[0] == ("unseen", 1)
    finally:
        stale.close()


def test_auto_precision_picks_int8_from_the_threshold(data):
    data_dir, _ = data
    small = open_searcher(data_dir, ann="none", ranking_precision="auto", quantized_threshold=VIDEOS * SCENES + 1)
    assert type(small.index).__name__ == "MomentIndex"
    small.close()
    large = open_searcher(data_dir, ann="none", ranking_precision="auto", quantized_threshold=VIDEOS * SCENES)
    assert type(large.index).__name__ == "QuantizedIndex"
    large.close()


def test_grpc_server_on_the_int8_tier(data):
    data_dir, vectors = data
    server = serve(SearcherSettings(port=0, data_dir=str(data_dir), ann="none", embedder_address="",
                                    ranking_precision="int8", quantized_probe=16))
    try:
        from videosearch.common.grpc_server import insecure_channel
        from videosearch.v1 import searcher_pb2_grpc

        with insecure_channel(server.address) as channel:
            stub = searcher_pb2_grpc.SearcherServiceStub(channel)
            q = vectors[20, 3]
            got = stub.Search(searcher_pb2.SearchRequest(embedding=searcher_pb2.QueryEmbedding(vector=to_tensor(q)),
                                                         top_k=3, mode=searcher_pb2.SEARCH_MODE_SCENES, approximate=True))
            assert (got.scenes[0].video_id, got.scenes[0].scene.index) == ("v020", 3)
            assert got.scenes[0].score == pytest.approx(1.0, abs=1e-5)
            assert stub.GetStats(searcher_pb2.GetStatsRequest()).moment_count == VIDEOS * SCENES
    finally:
        server.stop(0)


def test_the_store_logs_every_write_until_pruned(tmp_path, rng):
    store = SearcherStore(tmp_path / "data", log_changes=True)
    try:
        assert store.changes_after(0) == []
        store.put_video(make_video("a", 2, dim=DIM), make_scenes(2), clustered(rng, 1, 2)[0])
        _, serial = store.put_video(make_video("a", 3, dim=DIM), make_scenes(3), clustered(rng, 1, 3)[0])
        store.delete_video("a")
        changes = store.changes_after(0)
        assert [(c.generation, c.video_id, c.old_serials) for c in changes] == [
            (1, "a", None), (2, "a", (0, 2)), (3, "a", (serial, 3))]
        assert [c.generation for c in store.changes_after(2)] == [3]
        store.prune_changes(2)
        assert store.changes_after(1) is None  # generation 2 is gone: a tier saved at 1 cannot replay
        assert [c.generation for c in store.changes_after(2)] == [3]
    finally:
        store.close()


def test_searches_during_writes_return_whole_results(data, rng):
    import threading

    data_dir, vectors = data
    searcher = open_int8(data_dir)
    errors: list[BaseException] = []
    stop = threading.Event()

    def search_loop() -> None:
        try:
            while not stop.is_set():
                got = searcher.search(vector=vectors[30, 1], params=SearchParams(top_k=5, mode="scenes"))
                assert scene_keys(got)[0] == ("v030", 1)
                videos = searcher.search(vector=vectors[30, 1], params=SearchParams(top_k=5))
                assert videos.videos[0].video.video_id == "v030"
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    reader = threading.Thread(target=search_loop)
    reader.start()
    try:
        for i in range(30):  # replacements and deletes of other videos meanwhile
            searcher.upsert_video(make_video(f"v{40 + i:03d}", 3, dim=DIM), make_scenes(3), clustered(rng, 1, 3)[0])
            if i % 3 == 0:
                searcher.delete_video(f"v{80 + i:03d}")
    finally:
        stop.set()
        reader.join()
        searcher.close()
    assert not errors, errors[0]


def test_a_restart_drops_the_graph_groups_of_replaced_and_deleted_videos(data, rng):
    data_dir, vectors = data
    open_int8(data_dir).close()
    # Two logged writes the saved tier does not hold: what an int8 Searcher killed before saving leaves.
    store = SearcherStore(data_dir, log_changes=True)
    store.put_video(make_video("v001", 2, dim=DIM), make_scenes(2), clustered(rng, 1, 2)[0])
    store.delete_video("v002")
    store.close()
    again = open_int8(data_dir)
    try:
        assert again.index.replayed == 2
        assert len(again.index._graph) == VIDEOS - 1  # one group per live video: v002's and old v001's are gone
        got = again.search(vector=vectors[2, 0], params=SearchParams(top_k=10, mode="scenes"))
        assert "v002" not in {h.video_id for h in got.scenes}
    finally:
        again.close()


def test_the_float32_tier_keeps_no_change_log(tmp_path, rng):
    """The log serves only the quantized tier's replay: on the float32 tier it would grow forever."""
    data_dir = tmp_path / "data"
    logged = SearcherStore(data_dir, log_changes=True)
    try:
        logged.put_video(make_video("a", 2, dim=DIM), make_scenes(2), clustered(rng, 1, 2)[0])
        assert len(logged.changes_after(0)) == 1
    finally:
        logged.close()
    searcher = open_searcher(data_dir, ann="none", ranking_precision="float32")
    try:
        searcher.upsert_video(make_video("b", 2, dim=DIM), make_scenes(2), clustered(rng, 1, 2)[0])
        generation = searcher.store.leveldb.generation()
        assert generation == 2
        assert searcher.store.leveldb.changes_after(generation) == []  # nothing left after the last write...
        assert searcher.store.leveldb.changes_after(0) is None  # ...and neither write is in the log
    finally:
        searcher.close()


def test_a_video_whose_scenes_differ_gets_a_group_for_each_kind(tmp_path, rng):
    """A group's mean must stand for its moments: a video made of unrelated stretches is cut into
    groups where they change, and a query for one stretch finds it with the fewest groups probed.
    With one mean for the whole video (the earlier fixed groups) this query's best group scores
    like any other video's, so a probe of 1 misses it."""
    from videosearch.searcher.ranking.quantized import GROUP_MOMENTS, KEY_LENGTH_BITS

    topics = unit(rng.standard_normal((4, DIM)))
    # One video: 8 moments near each of 4 unrelated topics, in runs; 30 alike videos beside it.
    mixed = unit(np.repeat(topics, 8, axis=0) + 0.05 * rng.standard_normal((32, DIM)))
    alike = clustered(rng, 30, 8)
    data_dir = tmp_path / "data"
    fill_searcher(data_dir, [mixed, *alike], 3)
    searcher = open_int8(data_dir, probe=1)
    try:
        keys = np.sort(np.asarray(list(searcher.index._graph._index.keys), dtype=np.int64))
        first_serial = int(searcher.index._state.seg_serials[searcher.index._video_segment["v000"]])
        mixed_keys = keys[(keys >> KEY_LENGTH_BITS) - first_serial < 32]
        mixed_keys = mixed_keys[(mixed_keys >> KEY_LENGTH_BITS) >= first_serial]
        assert [int(k >> KEY_LENGTH_BITS) - first_serial for k in mixed_keys] == [0, 8, 16, 24]
        assert [int(k & ((1 << KEY_LENGTH_BITS) - 1)) for k in mixed_keys] == [8, 8, 8, 8]
        assert len(keys) == 4 + 30  # each alike video stays one group of 8 (fewer than GROUP_MOMENTS)
        assert GROUP_MOMENTS >= 8
        for t, topic in enumerate(topics):
            hits = searcher.search(vector=topic, params=SearchParams(top_k=1, mode="scenes", approximate=True)).scenes
            assert hits[0].video_id == "v000" and 8 * t <= hits[0].scene.index < 8 * (t + 1)
    finally:
        searcher.close()


def test_gathering_runs_of_rows_equals_gathering_row_by_row(rng, monkeypatch):
    from videosearch.searcher.ranking import quantized

    monkeypatch.setattr(quantized, "BLOCK_ROWS", 8)  # runs meet and end at block boundaries often
    blocks = [rng.integers(-127, 128, (8, 4)).astype(np.int8) for _ in range(5)]
    state = quantized._state(blocks, [], [], [], [], [])
    for _ in range(200):
        starts, lengths, at = [], [], int(rng.integers(0, 4))
        while at < 40:
            n = int(rng.integers(1, 4))
            if at % 8 + n <= 8:  # a run (a group) never crosses a block, but the next one may start right after it
                starts.append(at)
                lengths.append(n)
            at += n + int(rng.integers(0, 3))
        starts, lengths = np.asarray(starts, np.int64), np.asarray(lengths, np.int64)
        rows = np.concatenate([np.arange(s, s + n) for s, n in zip(starts, lengths)])
        assert np.array_equal(quantized._run_rows(starts, lengths), rows)
        assert np.array_equal(state.gather(rows), np.stack([state.blocks[r // 8][r % 8] for r in rows]))
        shuffled = rng.permutation(rows)  # candidates come best first, out of row order
        assert np.array_equal(state.gather(shuffled), np.stack([state.blocks[r // 8][r % 8] for r in shuffled]))
    assert state.gather(quantized._run_rows(np.empty(0, np.int64), np.empty(0, np.int64))).shape == (0, 4)


def test_tables_open_in_the_background_and_stop_at_close(data, monkeypatch):
    data_dir, _ = data
    open_int8(data_dir).close()  # builds and saves the tier
    started, stopped = threading.Event(), []
    real = SearcherStore.open_every_table

    def slow(self, stop=None):  # holds the tables' opening until the tier says stop
        started.set()
        stopped.append(stop.wait(10))
        return real(self, stop)

    monkeypatch.setattr(SearcherStore, "open_every_table", slow)
    searcher = open_int8(data_dir)  # serves while the tables are still being opened
    try:
        assert started.wait(10) and searcher.index._tables.is_alive()
        assert searcher.search(vector=unit(np.ones(DIM)), params=SearchParams(top_k=3)).videos
    finally:
        began = time.perf_counter()
        searcher.close()
    assert stopped == [True] and time.perf_counter() - began < 5  # close stopped it, and did not wait out the 10 s
    assert not searcher.index._tables.is_alive()
