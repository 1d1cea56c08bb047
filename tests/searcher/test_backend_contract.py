"""One contract, three tiers, run against the Searcher's declared interfaces (VideoStore and
VectorIndex, opened by the one factory): the LevelDB store ranked in float32, the same ranked in
int8, and Milvus (milvus-lite on a local path here). What the LevelDB store's own tests check of a store --
round trips across a reopen, whole replaces, deletes that free the model, another model
refused, a failed write leaving the old version whole -- each backend must do, and rank
the same way. Milvus's leftovers of a crash and two processes over one Milvus are below."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from videosearch.common.errors import FailedPrecondition
from videosearch.searcher.backends import Backend, open_backend
from videosearch.searcher.backends.local import IndexedStore
from videosearch.searcher.backends.milvus import MilvusBackend
from videosearch.searcher.interfaces import VectorIndex, VideoStore
from videosearch.searcher.ranking.filters import validate_filter
from videosearch.searcher.ranking.index import Candidates
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.types import SearchFilter, SearchParams

from tests.milvus_lite import milvus_lite_server
from tests.searcher.searcher_testlib import DIM, MODEL, make_scenes, make_video, one_hot, random_unit

pytestmark = pytest.mark.timeout(300)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Tier:
    """A tier as the Searcher sees it: its store and its index, through the declared interfaces
    only; the few calls below are shorthands over them."""

    def __init__(self, backend: Backend) -> None:
        assert isinstance(backend.store, VideoStore) and isinstance(backend.index, VectorIndex)
        self.store: VideoStore = backend.store
        self.index: VectorIndex = backend.index

    def put_video(self, *video_parts):
        return self.store.put_video(*video_parts)

    def delete_video(self, video_id: str):
        return self.store.delete_video(video_id)

    def collection(self):
        return self.store.collection()

    def get_embeddings(self, video_id: str):
        return self.store.get_embeddings(video_id)

    def get_text_spans(self, video_id: str):
        return self.store.get_text_spans(video_id)

    def close(self) -> None:
        self.store.close()

    def get_video(self, video_id: str):
        return self.store.get_video_moments(video_id)

    def video_ids(self) -> list[str]:
        return [video.video_id for video in self.store.list_videos(None, 1000)]

    def counts(self) -> tuple[int, int, int]:
        return self.index.video_count, self.index.scene_count, self.index.moment_count

    def rank(self, query, params, candidates=Candidates()):
        return self.index.rank(query, params, candidates)


def open_tier(kind: str, path) -> Tier:
    if kind == "milvus":
        settings = SearcherSettings(backend="milvus", milvus_uri=str(path / "milvus.db"), milvus_index="HNSW")
    else:  # the LevelDB store ranked in float32, or in its int8 tier (searcher/ranking/quantized.py)
        settings = SearcherSettings(data_dir=str(path / "data"), ann="none",
                                    ranking_precision="int8" if kind == "quantized" else "float32")
    return Tier(open_backend(settings))


@pytest.fixture(params=["float32", "quantized", "milvus"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def backend(kind, tmp_path):
    opened = open_tier(kind, tmp_path)
    yield opened
    opened.close()


def same_video(got, sent) -> bool:
    """The stored record is the sent one, stamped with when it was indexed."""
    return got == dataclasses.replace(sent, indexed_at=got.indexed_at)


def test_round_trip_survives_reopen(kind, tmp_path, rng):
    backend = open_tier(kind, tmp_path)
    video, scenes, vectors = make_video("b", 4), make_scenes(4), random_unit(rng, 4)
    assert backend.put_video(video, scenes, vectors) is False
    backend.put_video(make_video("a", 2), make_scenes(2), random_unit(rng, 2))
    backend.close()

    reopened = open_tier(kind, tmp_path)
    try:
        got_video, got_scenes, got_moments = reopened.get_video("b")
        assert same_video(got_video, video) and got_scenes == scenes and len(got_moments) == 4
        np.testing.assert_allclose(reopened.get_embeddings("b"), vectors, atol=1e-6)  # stored renormalized to unit length
        assert reopened.video_ids() == ["a", "b"]
        assert reopened.counts() == (2, 6, 6)
        collection = reopened.collection()
        assert (collection.model_id, collection.embedding_dim) == (MODEL, DIM)
    finally:
        reopened.close()


def test_replace_drops_old_scenes(backend, rng):
    backend.put_video(make_video("v", 5), make_scenes(5), random_unit(rng, 5))
    new_vectors = random_unit(rng, 2)
    assert backend.put_video(make_video("v", 2), make_scenes(2), new_vectors) is True
    np.testing.assert_allclose(backend.get_embeddings("v"), new_vectors, atol=1e-6)  # stored renormalized to unit length
    assert len(backend.get_video("v")[1]) == 2
    assert backend.counts() == (1, 2, 2)


def test_delete_removes_everything_and_frees_the_model(backend, rng):
    backend.put_video(make_video("v", 3), make_scenes(3), random_unit(rng, 3))
    assert backend.delete_video("v") == 3
    assert backend.delete_video("v") is None
    assert backend.get_video("v") is None and backend.get_embeddings("v") is None
    assert backend.counts() == (0, 0, 0) and backend.video_ids() == []
    assert backend.collection() is None  # an empty collection accepts any model, and any dimension
    backend.put_video(make_video("w", 1, model_id="other", dim=8), make_scenes(1), random_unit(rng, 1, 8))
    assert (backend.collection().model_id, backend.collection().embedding_dim) == ("other", 8)


def test_text_spans_round_trip_are_replaced_and_deleted(backend, rng):
    from videosearch.searcher.types import TextBox, TextSpan, VideoExtras

    spans = (TextSpan("said", 0.5, 1.5, "quarterly budget", "en", "sidecar"),
             TextSpan("written", 0.5, 2.0, "出口", "zh", "ocr", TextBox(0.1, 0.1, 0.3, 0.2)))
    backend.put_video(make_video("v", 2), make_scenes(2), random_unit(rng, 2), None, VideoExtras(text_spans=spans))
    assert backend.get_text_spans("v") == spans
    backend.put_video(make_video("v", 2), make_scenes(2), random_unit(rng, 2), None, VideoExtras(text_spans=spans[1:]))
    assert backend.get_text_spans("v") == spans[1:]
    backend.delete_video("v")
    assert backend.get_text_spans("v") == ()


def test_other_model_or_dimension_is_refused(backend, rng):
    backend.put_video(make_video("v", 1), make_scenes(1), random_unit(rng, 1))
    with pytest.raises(FailedPrecondition, match=f"holds embeddings of model '{MODEL}'.*re-index"):
        backend.put_video(make_video("w", 1, model_id="other"), make_scenes(1), random_unit(rng, 1))
    with pytest.raises(FailedPrecondition, match="dim 16"):
        backend.put_video(make_video("w", 1, dim=8), make_scenes(1), random_unit(rng, 1, 8))
    assert backend.get_video("w") is None and backend.counts() == (1, 1, 1)


def break_next_write(backend: Tier) -> None:
    """Makes the next write fail after part of it was done: for the LevelDB store while its
    batch is built, for Milvus after the new rows went in but before the flip."""
    if isinstance(backend.store, IndexedStore):
        store = backend.store.leveldb
        original = store._put_embedding

        def failing(batch, video_id, index, vector):
            if index == 2:
                store._put_embedding = original
                raise RuntimeError("disk on fire")
            original(batch, video_id, index, vector)

        store._put_embedding = failing
    else:
        client = backend.store.backend._client
        original = client.upsert

        def failing(collection_name, data, **kwargs):
            client.upsert = original
            raise RuntimeError("network on fire")

        client.upsert = failing


def test_a_failed_replace_keeps_the_old_version_whole_and_a_failed_add_leaves_nothing(backend, rng):
    old = random_unit(rng, 2)
    backend.put_video(make_video("v", 2), make_scenes(2), old)
    break_next_write(backend)
    with pytest.raises(RuntimeError, match="on fire"):
        backend.put_video(make_video("v", 6), make_scenes(6), random_unit(rng, 6))
    assert len(backend.get_video("v")[1]) == 2
    np.testing.assert_allclose(backend.get_embeddings("v"), old, atol=1e-6)  # stored renormalized to unit length
    break_next_write(backend)
    with pytest.raises(RuntimeError, match="on fire"):
        backend.put_video(make_video("new", 4), make_scenes(4), random_unit(rng, 4))
    assert backend.get_video("new") is None
    assert backend.counts() == (1, 2, 2)  # the failed writes' rows are gone too
    assert [hit.video.video_id for hit in backend.rank(old[0], SearchParams(top_k=5)).videos] == ["v"]


def test_ranking_agrees_with_exact_cosine(backend, rng):
    # Video "a": moments along axes 0, 1; "b": axes 2, 3, 4; "c": axis 5 and a random one.
    backend.put_video(make_video("a", 2), make_scenes(2), one_hot(2, [0, 1]))
    backend.put_video(make_video("b", 3), make_scenes(3), one_hot(3, [2, 3, 4]))
    c = np.vstack([one_hot(1, [5]), random_unit(rng, 1)])
    backend.put_video(make_video("c", 2), make_scenes(2), c)
    query = (one_hot(1, [3])[0] * 0.8 + one_hot(1, [0])[0] * 0.6).astype(np.float32)

    videos = backend.rank(query, SearchParams(top_k=2)).videos
    assert [(hit.video.video_id, round(hit.score, 4)) for hit in videos] == [("b", 0.8), ("a", 0.6)]
    assert [scene.scene.index for scene in videos[0].scenes][0] == 1  # b's best moment is its axis 3
    scenes = backend.rank(query, SearchParams(top_k=3, mode="scenes")).scenes
    exact = sorted(((float(v @ query), vid, i) for vid, rows in (("a", one_hot(2, [0, 1])), ("b", one_hot(3, [2, 3, 4])),
                                                                  ("c", c)) for i, v in enumerate(rows)),
                   key=lambda t: (-t[0], t[1], t[2]))[:3]
    assert [(h.video_id, h.moment.index) for h in scenes] == [(vid, i) for _, vid, i in exact]
    np.testing.assert_allclose([h.score for h in scenes], [s for s, _, _ in exact], atol=1e-5)


def test_filters_exclusions_and_min_score_act_before_the_top_k(backend):
    # Three videos along axis 0, best first: a (1.0), b (0.8), c (0.6, and 3 scenes long).
    for video_id, cosine, scenes in (("a", 1.0, 1), ("b", 0.8, 1), ("c", 0.6, 3)):
        vector = np.zeros(DIM, np.float32)
        vector[0], vector[1] = cosine, np.sqrt(1 - cosine**2)
        backend.put_video(make_video(video_id, scenes), make_scenes(scenes), np.repeat(vector[None], scenes, 0))
    query = one_hot(1, [0])[0]

    def ranked(**candidates) -> list[str]:
        return [hit.video.video_id for hit in backend.rank(query, SearchParams(top_k=1), Candidates(**candidates)).videos]

    assert ranked() == ["a"]
    assert ranked(video_filter=validate_filter(SearchFilter(path_prefix="/videos/b"))) == ["b"]
    assert ranked(video_filter=validate_filter(SearchFilter(min_duration_seconds=2.0))) == ["c"]  # 3 x 30 frames
    assert ranked(excluded={"a": None, "b": (0,)}) == ["c"]
    assert ranked(min_score=1.01) == []


# -- Milvus only: crash leftovers, and several processes over one Milvus -------------------------

def test_milvus_readers_ignore_an_unflipped_write_and_startup_collects_it(tmp_path, rng):
    backend = MilvusBackend(str(tmp_path / "milvus.db"))
    backend.put_video(make_video("v", 2), make_scenes(2), one_hot(2, [0, 1]))
    # A write that crashed after its rows went in and before its flip: rows no video points at,
    # the best match there is for the query below.
    generation = time.time_ns()
    backend._client.insert(backend._moments, [{
        "row_id": f"{video_id}/{generation}/0", "video_id": video_id, "generation": generation, "moment_index": 0,
        "spans": '[[0,0,0,30,0.0,1.0,2],[0,0,30,0.0,1.0,2]]', "vector": one_hot(1, [7])[0].tolist()}
        for video_id in ("v", "ghost")])
    assert [h.video.video_id for h in backend.rank(one_hot(1, [7])[0], SearchParams(top_k=5)).videos] == ["v"]
    assert backend.counts() == (1, 2, 4)  # the raw moment rows are there...
    assert backend.collect_leftovers(grace_s=3600) == 0  # ...and young: maybe a write in flight elsewhere
    backend.close()

    reopened = MilvusBackend(str(tmp_path / "milvus.db"), leftover_grace_s=0)  # start-up collects them
    try:
        assert reopened.counts() == (1, 2, 2)
        np.testing.assert_allclose(reopened.get_embeddings("v"), one_hot(2, [0, 1]), atol=1e-6)  # stored renormalized to unit length
    finally:
        reopened.close()


_OTHER_SEARCHER = textwrap.dedent("""
    import sys, json, numpy as np
    sys.path[:0] = {paths!r}
    from tests.searcher.searcher_testlib import make_scenes, make_video, one_hot
    from videosearch.searcher.backends.milvus import MilvusBackend
    from videosearch.searcher.types import SearchParams
    backend = MilvusBackend(sys.argv[1])
    hits = backend.rank(one_hot(1, [0])[0], SearchParams(top_k=3)).videos
    backend.put_video(make_video("from-b", 1), make_scenes(1), one_hot(1, [1]))
    print(json.dumps({{"saw": [h.video.video_id for h in hits], "counts": backend.counts()}}))
    backend.close()
""")


def test_two_processes_over_one_milvus_lite_server_see_each_others_writes(tmp_path):
    with milvus_lite_server(tmp_path / "server") as uri:
        a = MilvusBackend(uri)
        a.put_video(make_video("from-a", 1), make_scenes(1), one_hot(1, [0]))
        other = subprocess.run([sys.executable, "-c", _OTHER_SEARCHER.format(paths=[REPO_ROOT, *sys.path]), uri],
                               capture_output=True, text=True, timeout=120)
        assert other.returncode == 0, other.stderr
        seen = json.loads(other.stdout.strip().splitlines()[-1])
        assert seen == {"saw": ["from-a"], "counts": [2, 2, 2]}  # A's write, read by B; B's write counted
        assert a.video_ids() == ["from-a", "from-b"]  # B's write, read by A
        a.close()


def test_milvus_going_away_is_unavailable_not_internal(tmp_path, rng):
    from videosearch.common.errors import Unavailable

    with milvus_lite_server(tmp_path / "server") as uri:
        backend = MilvusBackend(uri)
        backend.put_video(make_video("v", 1), make_scenes(1), random_unit(rng, 1))
    # The server is gone now: every call says so with the domain error the service maps to UNAVAILABLE.
    with pytest.raises(Unavailable, match=f"Milvus at {uri} failed.*check that it runs"):
        backend.get_video("v")
