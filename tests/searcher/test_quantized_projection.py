"""The quantized tier's projected group graph (searcher/ranking/projection.py, ann.py, quantized.py):
the energy rule picks the dimension, the projection is saved beside the graph and loaded back, a
format-4 tier (512-d graph in groups/) still loads and serves while its projected graph is built in the
background, and the projected graph finds the right videos. Real LevelDB, real usearch graphs, small sets."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading

import numpy as np
import pytest
from videosearch.searcher.ranking import quantized
from videosearch.searcher.ranking.ann import PROJECTION_FILE, AnnParams, HnswIndex
from videosearch.searcher.ranking.projection import DIM_MULTIPLE, fit_projection, kept_energy, projection_dim
from videosearch.searcher.ranking.quantized import FORMAT4_GRAPH_DIR, GRAPH_DIR, QuantizedIndex, TierParams
from videosearch.searcher.storage.store import SearcherStore
from videosearch.searcher.types import SearchParams

from tests.searcher.searcher_testlib import fill_searcher, make_scenes, make_video, unit

DIM = 64
LATENT = 8  # the videos' topics span this many dimensions, so their means need few
VIDEOS = 600
SCENES = 4
SMALL = TierParams(probe=48, projection_min_groups=200, projection_sample=2_000)

pytestmark = pytest.mark.timeout(300)


def low_rank(rng: np.random.Generator, videos: int = VIDEOS, scenes: int = SCENES) -> np.ndarray:
    basis = np.linalg.qr(rng.standard_normal((DIM, LATENT)))[0].T  # (LATENT, DIM)
    topics = rng.standard_normal((videos, 1, LATENT)) @ basis
    return unit(topics + 0.25 * (rng.standard_normal((videos, scenes, LATENT)) @ basis)
                + 0.02 * rng.standard_normal((videos, scenes, DIM)))


def open_tier(data_dir, params: TierParams = SMALL) -> tuple[SearcherStore, QuantizedIndex]:
    store = SearcherStore(data_dir)
    tier = QuantizedIndex(store, data_dir / "quantized", params)
    tier.open()
    return store, tier


def close(store: SearcherStore, tier: QuantizedIndex) -> None:
    tier.save_ann()
    store.close()


def videos_recall(tier: QuantizedIndex, vectors: np.ndarray, queries: np.ndarray) -> float:
    found = []
    for q in queries:
        best = np.argsort(-(vectors @ q).max(axis=1), kind="stable")[:10]
        got = tier.rank(q, SearchParams(top_k=10, mode="videos", approximate=True)).videos
        found.append(len({h.video.video_id for h in got} & {f"v{i:04d}" for i in best}) / 10)
    return float(np.mean(found))


@pytest.fixture
def data(tmp_path, rng):
    vectors = low_rank(rng)
    fill_searcher(tmp_path / "data", vectors, 4)
    return tmp_path / "data", vectors


def test_the_energy_rule_keeps_what_the_means_need(rng):
    # Means of a 12-d latent in 128 dimensions: a projection of at most 16 dimensions keeps 99 %.
    basis = np.linalg.qr(rng.standard_normal((128, 12)))[0].T
    narrow = unit(rng.standard_normal((3_000, 12)) @ basis + 0.01 * rng.standard_normal((3_000, 128)))
    d = projection_dim(narrow, 0.99)
    assert 12 <= d <= 16 and d % DIM_MULTIPLE == 0
    projection = fit_projection(narrow, 0.99)
    assert projection is not None and projection.shape == (128, d)
    assert np.allclose(projection.T @ projection, np.eye(d), atol=1e-5)  # orthonormal: inner products kept
    assert kept_energy(narrow, projection) >= 0.99
    # A high-rank set (every direction alike, as means of unlike scenes can be) keeps every dimension.
    wide = unit(rng.standard_normal((3_000, 128)))
    assert projection_dim(wide, 0.99) == 128 and fit_projection(wide, 0.99) is None
    # Stricter energy needs more dimensions; 0 never projects.
    assert projection_dim(narrow, 0.999999) > d and projection_dim(narrow, 0.0) == 128


def test_a_projected_graph_round_trips_through_its_files(tmp_path, rng):
    vectors = low_rank(rng, 300, 1)[:, 0]
    projection = fit_projection(vectors, 0.99)
    assert projection is not None and projection.shape[1] < DIM
    params = AnnParams(connectivity=16, expansion_add=64, expansion_search=64, dtype="i8")
    graph = HnswIndex(DIM, params, projection)
    keys = np.arange(len(vectors), dtype=np.uint64) * 3
    graph.add(keys, vectors)
    assert graph.graph_dim == projection.shape[1]
    graph.save(tmp_path / "g", {"generation": 7})
    saved = json.loads((tmp_path / "g" / "manifest.json").read_text())
    assert saved["projection_dim"] == projection.shape[1] and saved["dim"] == DIM
    loaded = HnswIndex.load_if_fresh(tmp_path / "g", DIM, params, {"generation": 7})
    assert loaded is not None and np.array_equal(loaded.projection, graph.projection)
    for q in vectors[:20]:  # queries are projected on both sides alike
        assert np.array_equal(loaded.search(q, 10), graph.search(q, 10))
    assert HnswIndex.load_if_fresh(tmp_path / "g", DIM, params, {"generation": 8}) is None  # stale
    # A damaged projection means no graph (a rebuild), not a graph that projects wrongly.
    np.save(tmp_path / "g" / PROJECTION_FILE, projection[:, :-1])
    assert HnswIndex.load_if_fresh(tmp_path / "g", DIM, params, {"generation": 7}) is None
    # Without a projection the manifest is the one earlier versions wrote (no projection_dim, no file).
    plain = HnswIndex(DIM, params)
    plain.add(keys, vectors)
    plain.save(tmp_path / "p", {"generation": 7})
    assert "projection_dim" not in json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert not (tmp_path / "p" / PROJECTION_FILE).exists()


def test_a_rebuild_projects_the_graph_and_finds_the_right_videos(data, rng):
    data_dir, vectors = data
    store, tier = open_tier(data_dir)
    try:
        graph = tier._graph
        assert tier.build_seconds is not None and graph is not None and graph.projection is not None
        assert graph.graph_dim < DIM
        queries = unit(vectors[rng.integers(0, VIDEOS, 40), 0] + 0.3 * rng.standard_normal((40, DIM)))
        assert videos_recall(tier, vectors, queries) >= 0.95
        manifest = json.loads((data_dir / "quantized" / "manifest.json").read_text())
        files = data_dir / "quantized" / manifest["files"]
        assert manifest["format"] == quantized.FORMAT == 5
        assert (files / GRAPH_DIR / PROJECTION_FILE).exists() and not (files / FORMAT4_GRAPH_DIR).exists()
    finally:
        close(store, tier)
    store, again = open_tier(data_dir)  # loaded, not rebuilt, with the same projection
    try:
        assert again.build_seconds is None and again._graph is not None
        assert np.array_equal(again._graph.projection, graph.projection)
        assert again._upgrade is None
    finally:
        close(store, again)


def test_high_rank_moments_keep_every_dimension(tmp_path, rng):
    vectors = unit(rng.standard_normal((VIDEOS, SCENES, DIM)))  # no direction favoured: nothing to drop
    fill_searcher(tmp_path / "data", vectors, 4)
    store, tier = open_tier(tmp_path / "data")
    try:
        assert tier._graph is not None and tier._graph.projection is None and tier._graph.graph_dim == DIM
    finally:
        close(store, tier)


def as_format_4(data_dir) -> None:
    """Makes a saved format-5 tier without a projection look like one saved by format-4 code."""
    manifest_path = data_dir / "quantized" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    files = data_dir / "quantized" / manifest["files"]
    assert "projection_dim" not in json.loads((files / GRAPH_DIR / "manifest.json").read_text())
    (files / GRAPH_DIR).rename(files / FORMAT4_GRAPH_DIR)
    manifest_path.write_text(json.dumps({**manifest, "format": 4}))


def test_a_format_4_tier_serves_then_upgrades_its_graph_beside_the_old_one(data, rng):
    data_dir, vectors = data
    store, tier = open_tier(data_dir, TierParams(probe=48, projection_energy=0))  # no projection: format 4's graph
    close(store, tier)
    as_format_4(data_dir)
    manifest = json.loads((data_dir / "quantized" / "manifest.json").read_text())
    files = data_dir / "quantized" / manifest["files"]
    old_graph = (files / FORMAT4_GRAPH_DIR / "hnsw.usearch").read_bytes()

    queries = unit(vectors[rng.integers(0, VIDEOS, 40), 0] + 0.3 * rng.standard_normal((40, DIM)))
    store, tier = open_tier(data_dir)
    try:
        assert tier.build_seconds is None  # loaded, not rebuilt
        assert tier.wait_for_upgrade(timeout=120) and tier.upgraded
        assert tier._graph is not None and tier._graph.projection is not None
        assert videos_recall(tier, vectors, queries) >= 0.95
    finally:
        close(store, tier)
    # The projected graph went beside the old one; the old graph and the manifest are as format 4 left
    # them, so earlier code still loads the tier.
    assert json.loads((data_dir / "quantized" / "manifest.json").read_text()) == manifest
    assert (files / FORMAT4_GRAPH_DIR / "hnsw.usearch").read_bytes() == old_graph
    assert (files / GRAPH_DIR / PROJECTION_FILE).exists()
    store, again = open_tier(data_dir)  # now the upgraded graph loads, and nothing is rebuilt
    try:
        assert again.build_seconds is None and again._upgrade is None and again._graph.projection is not None
    finally:
        close(store, again)


def test_a_format_4_tier_is_not_upgraded_when_projection_is_off(data):
    data_dir, _ = data
    store, tier = open_tier(data_dir, TierParams(probe=48, projection_energy=0))
    close(store, tier)
    as_format_4(data_dir)
    store, tier = open_tier(data_dir, TierParams(probe=48, projection_energy=0))
    try:
        assert tier.build_seconds is None and tier._upgrade is None and tier._graph.projection is None
    finally:
        close(store, tier)


def test_an_old_graph_serves_exactly_while_the_upgrade_runs_and_writes_reach_the_new_graph(data, rng, monkeypatch):
    data_dir, vectors = data
    store, tier = open_tier(data_dir, TierParams(probe=48, projection_energy=0))
    close(store, tier)
    as_format_4(data_dir)
    # The upgrade waits, after choosing its projection, until the test has searched and written.
    go, fitting = threading.Event(), threading.Event()
    real_fitted = QuantizedIndex._fitted

    def held(self, sample):
        fitting.set()
        assert go.wait(60)
        return real_fitted(self, sample)

    monkeypatch.setattr(QuantizedIndex, "_fitted", held)
    store, tier = open_tier(data_dir)
    try:
        assert fitting.wait(60) and tier._graph.projection is None  # the old graph serves meanwhile
        q = vectors[5, 1]
        exact = tier.rank(q, SearchParams(top_k=5, mode="scenes", approximate=False)).scenes
        assert (exact[0].video_id, exact[0].scene.index) == ("v0005", 1)
        late = low_rank(rng, 1, 3)[0]
        video = dataclasses.replace(make_video("late", 3, dim=DIM), moment_count=3)
        _, serial = store.put_video(video, make_scenes(3), late)
        tier.upsert(video, make_scenes(3), late, serial, store.generation())
        doomed = vectors[9, 0]
        s, seg = tier._state, tier._video_segment["v0009"]
        doomed_keys = quantized._group_keys(int(s.seg_serials[seg]), s.codes(int(s.seg_rows[seg]), int(s.counts[seg])),
                                            tier.params.group_moments)
        store.delete_video("v0009")
        tier.delete("v0009", store.generation())
        go.set()
        assert tier.wait_for_upgrade(timeout=120) and tier._graph.projection is not None
        got = tier.rank(late[2], SearchParams(top_k=1, mode="scenes", approximate=True)).scenes
        assert (got[0].video_id, got[0].scene.index) == ("late", 2)
        assert "v0009" not in {h.video.video_id for h in tier.rank(doomed, SearchParams(top_k=10)).videos}
        # (searches skip dead segments anyway: the removal itself must have reached the new graph)
        assert not np.asarray(tier._graph._index.contains(doomed_keys.astype(np.uint64))).any()
        assert tier._graph_unsaved  # the saved tier does not hold these writes: the tier is saved at close
    finally:
        close(store, tier)
    manifest = json.loads((data_dir / "quantized" / "manifest.json").read_text())
    assert manifest["format"] == 5
    store, again = open_tier(data_dir)
    try:
        assert again.build_seconds is None and again.replayed == 0 and again._graph.projection is not None
        got = again.rank(late[0], SearchParams(top_k=1, mode="scenes", approximate=True)).scenes
        assert (got[0].video_id, got[0].scene.index) == ("late", 0)
    finally:
        close(store, again)
    shutil.rmtree(data_dir / "quantized")


def test_a_drop_publishes_the_state_before_its_graph_write(data, monkeypatch):
    # An upgrade starts its log, then takes the state: a removal it does not log must already be in
    # that state, so the state has to change before the graph write (as _append orders its add).
    data_dir, _ = data
    store, tier = open_tier(data_dir, TierParams(probe=48, projection_energy=0))
    seen: list[bool] = []
    real_remove = QuantizedIndex._remove_groups

    def remove(self, keys):
        seen.append("v0003" in {v.video_id for v, alive in zip(self._state.videos, self._state.alive) if alive})
        real_remove(self, keys)

    monkeypatch.setattr(QuantizedIndex, "_remove_groups", remove)
    try:
        store.delete_video("v0003")
        tier.delete("v0003", store.generation())
        assert seen == [False]
    finally:
        close(store, tier)


def test_the_projection_energy_must_be_a_share():
    with pytest.raises(ValueError, match="between 0 and 1"):
        TierParams(projection_energy=1.5)
    assert TierParams(projection_energy=0).projection_energy == 0


def test_the_settings_reach_the_tier_and_an_out_of_range_one_stops_the_searcher_at_start():
    from videosearch.searcher.server import SearcherServer
    from videosearch.searcher.settings import load, tier_params

    assert tier_params(load([])) == TierParams()  # each default written once, in TierParams or beside it
    params = tier_params(load(["--quantized-projection-energy", "0.5", "--quantized-probe", "100",
                               "--quantized-group-moments", "8", "--no-quantized-refine"]))
    assert (params.projection_energy, params.probe, params.group_moments, params.refine) == (0.5, 100, 8, False)
    # a float32 collection never opens the tier: the value is still checked at start (exit 2, the message)
    with pytest.raises(ValueError, match="projection energy must be between 0 and 1"):
        SearcherServer(load(["--port", "0", "--quantized-projection-energy", "2"]))
