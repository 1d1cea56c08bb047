"""Switching models without downtime, the Searcher's half (issue 21, part 8): a staged
collection for another model fills beside the serving one, searches keep reading the
serving one, the switch is atomic and survives a restart, a drop or a crash before the
switch leaves the old collection serving. Real gRPC server on port 0, real LevelDB."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest
from tests.searcher.searcher_testlib import make_scenes, make_video, random_unit

from videosearch.common.errors import FailedPrecondition, NotFound
from videosearch.searcher import collections
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.server import serve
from videosearch.searcher.settings import SearcherSettings

OLD, NEW = "model-a", "model-b@sha256:0123"
NOWHERE = "127.0.0.1:9"  # an Embedder address: only vector queries run here


@pytest.fixture
def settings(tmp_path) -> SearcherSettings:
    return SearcherSettings(port=0, data_dir=str(tmp_path / "searcher"), embedder_address="", ann="none")


def store(client: SearcherClient, video_id: str, model: str, dim: int, rng, *, staged: bool = False) -> np.ndarray:
    vectors = random_unit(rng, 2, dim)
    client.upsert_video(make_video(video_id, 2, model_id=model, dim=dim), make_scenes(2), vectors, staged=staged)
    return vectors


def test_a_staged_collection_fills_while_the_old_one_serves_then_switches(settings, monkeypatch):
    monkeypatch.setattr(collections, "CLOSE_OLD_AFTER_S", 0.2)
    rng = np.random.default_rng(0)
    server = serve(settings)
    try:
        with SearcherClient(server.address) as client:
            old = {vid: store(client, vid, OLD, 16, rng) for vid in ("v1", "v2")}
            client.stage_collection(NEW, NOWHERE)
            new = {vid: store(client, vid, NEW, 8, rng, staged=True) for vid in ("v1", "v2")}
            stats = client.stats()
            assert (stats.model_id, stats.embedding_dim, stats.video_count) == (OLD, 16, 2)
            assert (stats.staged_model_id, stats.staged_video_count) == (NEW, 2)
            # searches are still answered by the old collection, in its dimension
            assert client.search(vector=old["v1"][0]).model_id == OLD
            with pytest.raises(FailedPrecondition, match="no collection is staged"):
                client.switch_collection("model-c")

            client.switch_collection(NEW)
            stats = client.stats()
            assert (stats.model_id, stats.embedding_dim, stats.video_count, stats.staged_model_id) == (NEW, 8, 2, "")
            result = client.search(vector=new["v2"][1])
            assert result.model_id == NEW and result.videos[0].video.video_id == "v2"
            deadline = time.monotonic() + 10
            while (Path(settings.data_dir) / "leveldb").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        server.stop(0)
    root = Path(settings.data_dir)
    assert (root / collections.POINTER).is_file()
    assert not (root / "leveldb").exists(), "the old collection's files are deleted after the switch"
    again = serve(settings)  # a restart serves the new collection
    try:
        with SearcherClient(again.address) as client:
            assert client.stats().model_id == NEW and client.stats().video_count == 2
    finally:
        again.stop(0)


def test_a_drop_or_a_crash_before_the_switch_leaves_the_old_collection_serving(settings):
    rng = np.random.default_rng(1)
    server = serve(settings)
    try:
        with SearcherClient(server.address) as client:
            store(client, "v1", OLD, 16, rng)
            with pytest.raises(FailedPrecondition, match="StageCollection first"):
                store(client, "v9", NEW, 8, rng, staged=True)
            client.stage_collection(NEW, NOWHERE)
            with pytest.raises(FailedPrecondition, match="is empty"):
                client.switch_collection(NEW)
            store(client, "v1", NEW, 8, rng, staged=True)
            client.drop_staged_collection(NEW)
            with pytest.raises(NotFound):
                client.drop_staged_collection(NEW)
            assert client.stats().model_id == OLD and client.stats().staged_model_id == ""
            client.stage_collection(NEW, NOWHERE)
            store(client, "v1", NEW, 8, rng, staged=True)
    finally:
        server.stop(0)  # "crash" with a staged collection never switched to
    staged = Path(settings.data_dir) / collections.STAGED
    assert any(staged.iterdir())
    again = serve(settings)
    try:
        with SearcherClient(again.address) as client:
            stats = client.stats()
            assert (stats.model_id, stats.video_count, stats.staged_model_id) == (OLD, 1, "")
    finally:
        again.stop(0)
    assert not any(staged.iterdir()), "the abandoned staged collection is deleted at start"


def test_the_switch_waits_for_videos_indexed_meanwhile_and_drops_videos_deleted_meanwhile(settings, monkeypatch):
    """Issue 21 part 8's gaps: the switch compares both collections under the serving one's
    write lock, so nothing indexed before it is lost and nothing deleted comes back."""
    monkeypatch.setattr(collections, "CLOSE_OLD_AFTER_S", 0.2)
    rng = np.random.default_rng(2)
    server = serve(settings)
    try:
        with SearcherClient(server.address) as client:
            for vid in ("v1", "v2", "v3"):
                store(client, vid, OLD, 16, rng)
            client.stage_collection(NEW, NOWHERE)
            for vid in ("v1", "v2", "v3"):
                store(client, vid, NEW, 8, rng, staged=True)
            store(client, "v4", OLD, 16, rng)  # indexed into the serving collection after the catch-up
            client.delete_video("v2")  # deleted while the reindex ran
            with pytest.raises(FailedPrecondition, match=r"1 videos of the serving collection .*\(e\.g\. v4\)"):
                client.switch_collection(NEW)
            stats = client.stats()  # the refusal changed nothing
            assert (stats.model_id, stats.video_count, stats.staged_model_id, stats.staged_video_count) == (OLD, 3, NEW, 3)

            store(client, "v4", NEW, 8, rng, staged=True)  # the reindex job's next catch-up pass
            old = server.searcher
            client.switch_collection(NEW)
            stats = client.stats()
            assert (stats.model_id, stats.video_count) == (NEW, 3)
            ids = {video.video_id for video in client.list_videos(100, "")[0]}
            assert ids == {"v1", "v3", "v4"}
            with pytest.raises(NotFound):
                client.get_video("v2")

            # An index job that embedded with the old model before the switch is refused by the
            # new collection, not stored in the old one (which refuses writes after the switch).
            with pytest.raises(FailedPrecondition, match="holds embeddings of model"):
                store(client, "v5", OLD, 16, rng)
            with pytest.raises(collections.FailedPrecondition, match="switched to the collection of model"):
                old.upsert_video(make_video("v6", 2, model_id=OLD, dim=16), make_scenes(2), random_unit(rng, 2, 16))
            store(client, "v5", NEW, 8, rng)
            assert client.stats().video_count == 4
    finally:
        server.stop(0)


def test_staging_refuses_the_milvus_backend_and_empty_arguments(settings):
    server = serve(settings)
    try:
        with SearcherClient(server.address) as client:
            with pytest.raises(Exception, match="embedder_address is empty"):
                client.stage_collection(NEW, "")
            with pytest.raises(Exception, match="model_id is empty"):
                client.stage_collection("", NOWHERE)
    finally:
        server.stop(0)
    assert collections.slug("org/model name@sha256:ab") != collections.slug("org/model-name@sha256:ab")
    assert "/" not in collections.slug("../../etc")
    assert dataclasses.replace(settings).backend == "embedded"
