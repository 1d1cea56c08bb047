"""kill -9 the Searcher process while a client writes into it, ten times: after every kill
the store, checked offline, holds no partial video and no orphan key, and after every
restart each acknowledged write is there (issue 7, part 9). `make chaos` runs the same
harness with 50 kills of each service."""

from __future__ import annotations

import numpy as np
import plyvel
import pytest
from videosearch.searcher.storage.fsck import check_store, main as fsck_main
from videosearch.searcher.storage.store import SearcherStore

from bench.chaos.harness import kill_searcher_during_writes
from tests.searcher.searcher_testlib import make_scenes, make_video, random_unit

pytestmark = pytest.mark.timeout(600)


def test_ten_kills_of_the_searcher_during_writes_lose_nothing_and_leave_nothing_partial(tmp_path):
    counts = kill_searcher_during_writes(10, seed=7, workdir=tmp_path)
    print(counts.line())
    assert counts.kills == 10 and counts.restarts == 10
    assert counts.acknowledged_writes >= 10 * 3
    assert counts.clean, "\n".join(counts.problems)


def test_fsck_finds_a_partial_video_and_an_orphan_key(tmp_path, capsys):
    rng = np.random.default_rng(3)
    store = SearcherStore(tmp_path)
    for video_id in ("a", "b"):
        store.put_video(make_video(video_id, 2), make_scenes(2), random_unit(rng, 2))
    store.close()
    assert check_store(tmp_path).whole and fsck_main([str(tmp_path)]) == 0

    db = plyvel.DB(str(tmp_path / "leveldb"))
    db.delete(b"emb/a\x00" + (1).to_bytes(4, "big"))  # a's second embedding is gone
    db.put(b"scenes/ghost", b"[]")  # scenes of a video that has no record
    db.close()
    report = check_store(tmp_path)
    assert report.partial_videos == {"a": "1 embeddings stored, the record says 2 rows"}
    assert report.orphan_keys == [b"scenes/ghost"]
    assert fsck_main([str(tmp_path)]) == 1
    assert "partial video a" in capsys.readouterr().out
