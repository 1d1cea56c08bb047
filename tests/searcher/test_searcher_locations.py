"""Every path of a video's content: stored in the real LevelDB, read back from records
written before locations existed, updated without touching the vectors, and reached
over gRPC with the right status codes."""

from __future__ import annotations

import dataclasses
import json

import pytest
from videosearch.common.errors import InvalidArgument, NotFound
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.server import serve
from videosearch.searcher.service import Searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.types import SearchParams, VideoLocation

from tests.searcher.searcher_testlib import make_scenes, make_video, open_searcher, random_unit

HERE = VideoLocation("/videos/a.mp4", 1000, 1_700_000_000_123_456_789)
THERE = VideoLocation("/archive/b.mp4", 1000, 1_700_000_500_000_000_000)


def store_one(searcher: Searcher, rng, video_id: str = "vid-a", locations=(HERE,)):
    video = dataclasses.replace(make_video(video_id, 2), uri=locations[0].path, locations=locations)
    return searcher.upsert_video(video, make_scenes(2), random_unit(rng, 2))[0]


def test_locations_survive_a_reopen(tmp_path, rng):
    searcher = open_searcher(tmp_path / "data", ann="none")
    store_one(searcher, rng)
    searcher.update_locations("vid-a", (THERE,))
    searcher.close()
    searcher = open_searcher(tmp_path / "data", ann="none")
    try:
        video, _ = searcher.get_video("vid-a")
        assert video.locations == (HERE, THERE)
        assert searcher.store.get_embeddings("vid-a").shape == (2, 16)
    finally:
        searcher.close()


def test_a_record_from_before_locations_reads_one_from_its_uri(searcher, rng):
    store_one(searcher, rng)
    key = b"video/vid-a"
    record = json.loads(searcher.store.leveldb.db.get(key))
    del record["locations"]
    searcher.store.leveldb.db.put(key, json.dumps(record).encode())
    video, _ = searcher.get_video("vid-a")
    assert video.locations == (VideoLocation("/videos/a.mp4"),), "size and time unknown: 0"


def test_update_adds_new_paths_replaces_known_ones_and_leaves_the_vectors(searcher, rng):
    store_one(searcher, rng)
    vectors = searcher.store.get_embeddings("vid-a")
    generation = searcher.store.leveldb.generation()
    gone = dataclasses.replace(HERE, missing=True)
    video = searcher.update_locations("vid-a", (THERE, gone))
    assert video.locations == (gone, THERE)
    assert video.uri == THERE.path, "the primary path is the first one not missing"
    assert (searcher.store.get_embeddings("vid-a") == vectors).all() and searcher.store.leveldb.generation() == generation
    hits = searcher.search(vector=vectors[0], params=SearchParams(top_k=1)).videos
    assert hits[0].video.locations == (gone, THERE), "search results show the new locations at once"


def test_reindexing_at_one_path_keeps_the_other_paths(searcher, rng):
    store_one(searcher, rng)
    searcher.update_locations("vid-a", (THERE,))
    fresh = dataclasses.replace(HERE, size_bytes=1000, mtime_ns=HERE.mtime_ns + 1)
    stored = store_one(searcher, rng, locations=(fresh,))
    assert stored.locations == (fresh, THERE) and stored.uri == fresh.path
    moved = VideoLocation("/elsewhere/c.mp4", 1000, 1)
    stored = store_one(searcher, rng, locations=(moved,))
    assert stored.locations == (moved, fresh, THERE), "what was just indexed comes first, the rest are kept"
    assert stored.uri == moved.path, "the uri is the one the caller sent"


@pytest.mark.parametrize("locations, words", [
    ((), "locations is empty"),
    ((VideoLocation(""),), "path is empty"),
    ((HERE, HERE), "repeated"),
    ((VideoLocation("/x.mp4", -1),), "negative"),
])
def test_bad_locations_are_invalid_arguments(searcher, rng, locations, words):
    store_one(searcher, rng)
    with pytest.raises(InvalidArgument, match=words):
        searcher.update_locations("vid-a", locations)


def test_update_locations_over_grpc(tmp_path, rng):
    server = serve(SearcherSettings(port=0, data_dir=str(tmp_path / "data"), ann="none"))
    try:
        with SearcherClient(server.address) as client:
            client.upsert_video(make_video("vid-a", 2), make_scenes(2), random_unit(rng, 2))
            video = client.update_locations("vid-a", [THERE])
            assert [l.path for l in video.locations] == ["/videos/vid-a.mp4", THERE.path]
            assert client.get_video("vid-a")[0].locations == video.locations
            with pytest.raises(NotFound, match="no video with id 'vid-nope'"):
                client.update_locations("vid-nope", [THERE])
            with pytest.raises(InvalidArgument, match="locations is empty"):
                client.update_locations("vid-a", [])
            assert client.health() == "SERVING"
    finally:
        server.stop(0)
