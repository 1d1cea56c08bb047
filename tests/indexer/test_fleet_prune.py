"""Prune over two real Indexers that see different files (two machines, as two allowed
roots): each checks only its own paths, and a video whose files lie on both is removed
once both are gone, by the second Indexer asked."""

from __future__ import annotations

import shutil

from tests.cli.conftest import make_video
from videosearch.client.indexer import IndexerClient
from videosearch.client.fleet import IndexerFleet
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.client.searcher import SearcherClient


def test_each_indexer_prunes_its_own_machines_paths(tmp_path, embedder, searcher):
    machines = [tmp_path / "machine-a", tmp_path / "machine-b"]
    apps = [IndexerApp(IndexerSettings(port=0, allowed_roots=(str(root),), embedder_address=embedder.address,
                                       searcher_address=searcher.address, workers=1)).start() for root in machines]
    addresses = [f"127.0.0.1:{app.port}" for app in apps]
    try:
        first = make_video(machines[0] / "clip.mp4", seed=97)
        copy = machines[1] / "clip.mp4"
        copy.parent.mkdir()
        shutil.copyfile(first, copy)
        jobs = []
        for address, path in zip(addresses, (first, copy)):
            with IndexerClient(address) as indexer:
                jobs.append(indexer.wait(indexer.submit(str(path)).job_id))
        assert jobs[1].skipped and jobs[0].video_id == jobs[1].video_id, "the copy is one more path of one video"
        first.unlink()
        copy.unlink()

        with IndexerClient(addresses[0]) as alone:
            own = alone.prune()
        assert own.marked_missing == [(jobs[0].video_id, str(first))] and own.removed == []
        assert own.locations_checked == 1, "the other machine's path is not this Indexer's to check"
        with IndexerFleet(addresses) as fleet:
            both = fleet.prune()
        assert both.removed == [(jobs[0].video_id, [str(first), str(copy)])]
        with SearcherClient(searcher.address) as store:
            assert list(store.iter_videos()) == []
    finally:
        for app in apps:
            app.stop(0)
