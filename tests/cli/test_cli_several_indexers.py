"""Two real Indexers over one Embedder and one Searcher: the CLI and IndexerFleet spread a
folder's files over both, and `jobs list` pages through the jobs of both, newest first."""

from __future__ import annotations

import json

import pytest
from videosearch.common.errors import InvalidArgument, NotFound
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.client.indexer import IndexerClient
from videosearch.client.fleet import IndexerFleet, connect_indexers
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch_cli.main import main

from .conftest import make_video

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def two_indexers(tiny_clip_dir, tmp_path_factory):
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"))
    searcher = serve_searcher(SearcherSettings(
        port=0, data_dir=str(tmp_path_factory.mktemp("searcher")), embedder_address=embedder.address, ann="none"))
    videos = tmp_path_factory.mktemp("videos")
    for seed in range(6):
        make_video(videos / f"clip{seed}.mp4", seed)
    indexers = [IndexerApp.serve(IndexerSettings(
        port=0, allowed_roots=(str(videos),), embedder_address=embedder.address,
        searcher_address=searcher.address, workers=1)) for _ in range(2)]
    addresses = [f"127.0.0.1:{indexer.port}" for indexer in indexers]
    yield addresses, searcher.address, videos
    for app in (*indexers, searcher, embedder):
        app.stop(0)


def jobs_on(address: str) -> dict[str, str]:
    """{job id: path} of the jobs one Indexer holds, asked of it alone."""
    with IndexerClient(address) as client:
        return {job.job_id: job.path for job in client.list()}


def run_cli(capsys, *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(list(args))
    return code, json.loads(capsys.readouterr().out)


def test_the_cli_spreads_a_folder_and_lists_the_jobs_of_both(two_indexers, capsys):
    addresses, searcher, videos = two_indexers
    fleet = ["--indexer-address", ",".join(addresses), "--searcher-address", searcher]
    code, indexed = run_cli(capsys, *fleet, "index", str(videos), "--json")
    assert code == 0, indexed
    assert [job["state"] for job in indexed["jobs"]] == ["succeeded"] * 6

    per_indexer = [jobs_on(address) for address in addresses]
    print(f"jobs per indexer: {[len(jobs) for jobs in per_indexer]}")
    assert all(len(jobs) >= 2 for jobs in per_indexer), per_indexer  # least-loaded: sizes are alike
    assert sorted(p for jobs in per_indexer for p in jobs.values()) == sorted(str(p) for p in videos.glob("*.mp4"))

    listed, token, pages = [], "", 0
    while True:  # pages of 4 across two Indexers of 3 jobs each: the token carries both positions
        code, page = run_cli(capsys, *fleet, "jobs", "list", "--json", "--page-size", "4", "--page-token", token)
        assert code == 0 and len(page["jobs"]) <= 4
        listed += page["jobs"]
        pages += 1
        token = page["next_page_token"]
        if not token:
            break
    assert pages == 2
    assert [job["job_id"] for job in listed] == [job["job_id"] for job in sorted(
        listed, key=lambda job: job["create_time"], reverse=True)], "newest first across both"
    where = {job["job_id"]: job["indexer"] for job in listed}
    assert where == {job_id: address for address, jobs in zip(addresses, per_indexer) for job_id in jobs}


def test_the_python_fleet_spreads_follows_and_refuses_a_foreign_token(two_indexers):
    addresses, _searcher, videos = two_indexers
    with connect_indexers(",".join(addresses)) as fleet:
        assert isinstance(fleet, IndexerFleet)
        before = [len(jobs_on(address)) for address in addresses]
        jobs = [fleet.submit(str(videos / f"clip{seed}.mp4")) for seed in range(4)]
        assert [fleet.wait(job.job_id).state.name for job in jobs] == ["SUCCEEDED"] * 4
        added = [len(jobs_on(address)) - b for address, b in zip(addresses, before)]
        assert added == [2, 2], f"four files of like size, least-loaded first: {added}"
        assert {fleet.indexer_of(job.job_id) for job in jobs} == set(addresses)

        page, token = fleet.list_page(page_size=1)
        assert token and len(page) == 1
        with IndexerFleet(addresses[:1]) as other, pytest.raises(InvalidArgument, match="another request"):
            other.list_page(1, token)
        with pytest.raises(NotFound, match="any of the indexers"):
            fleet.get("000999-00000000")
    with connect_indexers(addresses[0]) as one:
        assert isinstance(one, IndexerClient)
