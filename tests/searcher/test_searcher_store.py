"""LevelDB store: round trips, atomic batches, crash consistency, locking, schema."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from videosearch.common.errors import FailedPrecondition
from videosearch.searcher.storage.store import _TABLE_FIRST_KEY, SearcherStore, StoreLocked, _unescape

from tests.searcher.searcher_testlib import (
    DIM,
    MODEL,
    make_scenes,
    make_video,
    random_unit,
)


@pytest.fixture
def store(tmp_path):
    s = SearcherStore(tmp_path / "data")
    yield s
    s.close()


def test_round_trip_survives_reopen(tmp_path, rng):
    store = SearcherStore(tmp_path / "data")
    video, scenes, vectors = make_video("b", 4), make_scenes(4), random_unit(rng, 4)
    store.put_video(video, scenes, vectors)
    store.put_video(make_video("a", 2), make_scenes(2), random_unit(rng, 2))
    store.close()

    reopened = SearcherStore(tmp_path / "data")
    got_video, got_scenes = reopened.get_video("b")
    assert got_video == video
    assert got_scenes == scenes
    np.testing.assert_array_equal(reopened.get_embeddings("b"), vectors)
    loaded = reopened.load()
    assert [v.video.video_id for v in loaded.videos] == ["a", "b"]  # ordered by id
    np.testing.assert_array_equal(loaded.vectors[2:], vectors)
    assert loaded.collection.model_id == MODEL and loaded.collection.embedding_dim == DIM
    reopened.close()


def test_embeddings_are_raw_little_endian_float32(store, rng):
    vectors = random_unit(rng, 1)
    store.put_video(make_video("v", 1), make_scenes(1), vectors)
    raw = store.db.get(b"emb/v\x00\x00\x00\x00\x00")
    assert raw == vectors[0].astype("<f4").tobytes()
    assert json.loads(store.db.get(b"meta/collection"))["dtype"] == "<f4"
    assert json.loads(store.db.get(b"video/v"))["fps_numerator"] == 30000


def test_replace_drops_old_scenes(store, rng):
    store.put_video(make_video("v", 5), make_scenes(5), random_unit(rng, 5))
    new_vectors = random_unit(rng, 2)
    replaced, _ = store.put_video(make_video("v", 2), make_scenes(2), new_vectors)
    assert replaced
    np.testing.assert_array_equal(store.get_embeddings("v"), new_vectors)
    assert len(store.get_video("v")[1]) == 2
    assert store.load().vectors.shape == (2, DIM)


def test_delete_removes_everything_and_frees_the_model(store, rng):
    store.put_video(make_video("v", 3), make_scenes(3), random_unit(rng, 3))
    assert store.delete_video("v") == 3
    assert store.delete_video("v") is None
    assert store.get_video("v") is None
    assert list(store.db.iterator(prefix=b"emb/")) == []
    assert list(store.db.iterator(prefix=b"scenes/")) == []
    assert store.collection() is None  # an empty collection accepts any model again
    store.put_video(make_video("w", 1, model_id="other", dim=8), make_scenes(1), random_unit(rng, 1, 8))
    assert store.collection().model_id == "other"


def test_other_model_is_refused(store, rng):
    store.put_video(make_video("v", 1), make_scenes(1), random_unit(rng, 1))
    with pytest.raises(FailedPrecondition, match=f"holds embeddings of model '{MODEL}'.*re-index"):
        store.put_video(make_video("w", 1, model_id="other"), make_scenes(1), random_unit(rng, 1))
    assert store.get_video("w") is None


class FailingStore(SearcherStore):
    """Raises while the batch is being built, after some keys were already put into it."""

    fail_at_scene = 2

    def _put_embedding(self, batch, video_id, index, vector):
        if index == self.fail_at_scene:
            raise RuntimeError("disk on fire")
        super()._put_embedding(batch, video_id, index, vector)


def test_failed_batch_leaves_no_trace_of_a_new_video(tmp_path, rng):
    failing = FailingStore(tmp_path / "data")
    failing.put_video(make_video("kept", 1), make_scenes(1), random_unit(rng, 1))
    generation = failing.generation()
    with pytest.raises(RuntimeError, match="disk on fire"):
        failing.put_video(make_video("v", 4), make_scenes(4), random_unit(rng, 4))
    failing.close()

    store = SearcherStore(tmp_path / "data")
    assert store.get_video("v") is None
    assert list(store.db.iterator(prefix=b"emb/v\x00")) == []
    assert store.generation() == generation
    assert [v.video.video_id for v in store.load().videos] == ["kept"]
    store.close()


def test_failed_replace_keeps_the_old_version_whole(tmp_path, rng):
    old = random_unit(rng, 2)
    failing = FailingStore(tmp_path / "data")
    failing.put_video(make_video("v", 2), make_scenes(2), old)
    with pytest.raises(RuntimeError):
        failing.put_video(make_video("v", 6), make_scenes(6), random_unit(rng, 6))
    failing.close()

    store = SearcherStore(tmp_path / "data")
    assert len(store.get_video("v")[1]) == 2
    np.testing.assert_array_equal(store.get_embeddings("v"), old)
    store.close()


_WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    sys.path[:0] = {paths!r}
    from tests.searcher.searcher_testlib import make_scenes, make_video, random_unit
    from videosearch.searcher.storage.store import SearcherStore
    store = SearcherStore(sys.argv[1])
    rng = np.random.default_rng(0)
    i = 0
    while True:
        n = 1 + i % 7
        # replace a few ids over and over with varying scene counts
        store.put_video(make_video(f"v{{i % 13:02d}}", n), make_scenes(n), random_unit(rng, n))
        if i % 5 == 4:
            store.delete_video(f"v{{(i * 3) % 13:02d}}")
        i += 1
        print(i, flush=True)  # writes done so far; the test crashes the writer after enough of them
    """
)


def test_videos_are_whole_after_a_crash(tmp_path):
    data = tmp_path / "data"
    repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = _WRITER.format(paths=[repo_root, *sys.path])
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", script, str(data)], stdout=subprocess.PIPE, text=True)
        # Crash after a set number of writes, not after a set time: on a busy machine the
        # writer may not have written anything within a fixed sleep.
        for line in proc.stdout:
            if int(line) >= 500 * (round_ + 1):
                break
        else:
            pytest.fail(f"the writer ended before it was crashed (exit code {proc.wait()})")
        os.kill(proc.pid, signal.SIGKILL)  # no close(), no flush: a crash
        proc.wait()
        proc.stdout.close()

        store = SearcherStore(data)
        loaded = store.load()  # raises on any half-written video
        assert loaded.videos, "the writer should have stored something"
        for stored in loaded.videos:
            video_id = stored.video.video_id
            assert len(store.get_video(video_id)[1]) == stored.video.scene_count
            assert store.get_embeddings(video_id).shape == (stored.video.scene_count, DIM)
        assert loaded.vectors.shape[0] == loaded.row_columns.shape[1] == sum(v.video.scene_count for v in loaded.videos)
        store.close()


def test_second_opener_is_refused_with_a_clear_message(tmp_path):
    first = SearcherStore(tmp_path / "data")
    try:
        with pytest.raises(StoreLocked, match="in use by another Searcher"):
            SearcherStore(tmp_path / "data")
        other_process = subprocess.run(
            [sys.executable, "-c", f"from videosearch.searcher.storage.store import SearcherStore; SearcherStore({str(tmp_path / 'data')!r})"],
            capture_output=True,
            text=True,
        )
        assert other_process.returncode != 0
        assert "in use by another Searcher" in other_process.stderr
    finally:
        first.close()


def test_unknown_schema_is_refused(tmp_path):
    store = SearcherStore(tmp_path / "data")
    store.db.put(b"meta/schema", b"99")
    store.close()
    with pytest.raises(FailedPrecondition, match="schema 99"):
        SearcherStore(tmp_path / "data")


def test_open_every_table_touches_each_table_by_its_first_key(tmp_path, rng):
    store = SearcherStore(tmp_path / "data")
    try:
        ids = ["plain", "it's", "back\\slash", "naïve", "tab\there"]  # quotes, backslashes, bytes past ASCII
        for video_id in ids:
            store.put_video(make_video(video_id, 3), make_scenes(3), random_unit(rng, 3))
        assert store.open_every_table() == 0  # all still in the write buffer: no table yet
        store.db.compact_range()
        listing = store.db.get_property(b"leveldb.sstables")
        tables = listing.count(b"..")
        assert tables >= 1 and store.open_every_table() == tables
        for found in _TABLE_FIRST_KEY.finditer(listing):  # the listed first keys are real keys
            assert store.db.get(_unescape(found.group(1))) is not None
    finally:
        store.close()
