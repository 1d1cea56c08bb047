"""Moved, renamed and deleted files through the CLI and real services: a new path of
indexed content is recorded without indexing it again, `--prune` marks gone paths and
removes videos whose files are all gone, and a rescan skips unchanged files."""

from __future__ import annotations

import json
import os
import threading

from videosearch.client.indexer import IndexerClient
from videosearch_cli import indexing

from tests.cli.conftest import make_video


def video_of(cli, video_id: str) -> dict:
    return json.loads(cli("videos", "show", video_id, "--json").out)["video"]


def test_a_moved_file_is_recorded_as_a_new_path_and_prune_marks_the_old_one(cli, services):
    first = make_video(services.videos / "moves" / "before.mp4", seed=21)
    [job] = json.loads(cli("index", str(first), "--json").out)["jobs"]
    assert job["state"] == "succeeded" and job["skipped"] is False
    moved = services.videos / "moves" / "renamed" / "after.mp4"
    moved.parent.mkdir()
    os.rename(first, moved)

    [again] = json.loads(cli("index", str(moved), "--json").out)["jobs"]
    assert again["state"] == "succeeded" and again["video_id"] == job["video_id"]
    assert again["skipped"] is True, "the job says it indexed nothing again"
    assert "store" not in again["stage_seconds"]
    video = video_of(cli, job["video_id"])
    assert [(l["path"], l["missing"]) for l in video["locations"]] == [(str(first), False), (str(moved), False)]
    assert video["locations"][1]["mtime_ns"] == moved.stat().st_mtime_ns
    assert video["scene_count"] == job["scenes_found"]

    dry = cli("index", "--prune", "--dry-run")
    assert dry.code == 0 and f"would mark missing  {job['video_id']}  {first}" in dry.out
    assert video_of(cli, job["video_id"])["locations"][0]["missing"] is False, "a dry run changes nothing"

    pruned = json.loads(cli("index", "--prune", "--json").out)
    assert pruned["marked_missing"] == [{"video_id": job["video_id"], "path": str(first)}] and pruned["removed"] == []
    video = video_of(cli, job["video_id"])
    assert [(l["path"], l["missing"]) for l in video["locations"]] == [(str(first), True), (str(moved), False)]
    assert video["locations"][0]["mtime_ns"] == moved.stat().st_mtime_ns, "a gone file keeps the time it had"
    assert video["path"] == str(moved), "the primary path is one that exists"

    os.link(moved, first)  # the same file back at its old path
    back = json.loads(cli("index", "--prune", "--json").out)
    assert back["marked_present"] == [{"video_id": job["video_id"], "path": str(first)}]
    assert [l["missing"] for l in video_of(cli, job["video_id"])["locations"]] == [False, False]
    first.unlink()
    cli("index", "--prune")
    found = json.loads(cli("search", "a red circle", "--top", "100", "--json").out)["videos"]
    assert [hit["video"]["path"] for hit in found if hit["video"]["video_id"] == job["video_id"]] == [str(moved)]


def test_prune_removes_videos_whose_files_are_all_gone(cli, services):
    kept = make_video(services.videos / "prune" / "kept.mp4", seed=22)
    gone = make_video(services.videos / "prune" / "gone.mp4", seed=23)
    jobs = json.loads(cli("index", str(kept), str(gone), "--json").out)["jobs"]
    ids = {job["path"]: job["video_id"] for job in jobs}
    gone.unlink()

    result = cli("index", "--prune")
    assert result.code == 0 and f"remove  {ids[str(gone)]}" in result.out
    listed = {v["video_id"] for v in json.loads(cli("videos", "list", "--all", "--json").out)["videos"]}
    assert ids[str(kept)] in listed and ids[str(gone)] not in listed


def test_an_overwritten_file_leaves_its_old_content_without_that_path(cli, services):
    path = make_video(services.videos / "overwrite" / "clip.mp4", seed=24)
    [old] = json.loads(cli("index", str(path), "--json").out)["jobs"]
    known = {"path": str(path), "size_bytes": path.stat().st_size, "mtime_ns": path.stat().st_mtime_ns}
    make_video(path, seed=25)  # other content at the same path
    [new] = json.loads(cli("index", str(path), "--json").out)["jobs"]
    assert new["video_id"] != old["video_id"] and new["skipped"] is False
    assert video_of(cli, old["video_id"])["locations"] == [{**known, "missing": True}]
    pruned = json.loads(cli("index", "--prune", "--json").out)
    assert [v["video_id"] for v in pruned["removed"]] == [old["video_id"]]
    assert video_of(cli, new["video_id"])["locations"][0]["missing"] is False


def test_a_rescan_of_an_unchanged_folder_hashes_nothing(cli, services):
    folder = services.videos / "rescan"
    files = [make_video(folder / f"clip_{i}.mp4", seed=30 + i) for i in range(2)]
    assert cli("index", str(folder)).code == 0
    with IndexerClient(services.indexer) as indexer:
        known = {job.job_id for job in indexer.list()}

        def new_jobs():
            return [job for job in indexer.list() if job.job_id not in known]

        result = cli("index", str(folder))
        assert result.code == 0 and "skipped 2 unchanged files" in result.out
        # The Indexer decided: each file's job succeeded at once, without hashing or decoding.
        rescanned = new_jobs()
        assert sorted(job.path for job in rescanned) == sorted(map(str, files))
        assert all(job.unchanged and job.skipped and job.state.value == "succeeded" for job in rescanned)
        assert all("hash" not in job.stage_seconds for job in rescanned), "nothing was hashed"
        known |= {job.job_id for job in rescanned}

        os.utime(files[0], ns=(files[0].stat().st_atime_ns, files[0].stat().st_mtime_ns + 10**9))
        touched = json.loads(cli("index", str(folder), "--json").out)
        assert touched["unchanged"] == [str(files[1])]
        assert [(j["path"], j["skipped"]) for j in touched["jobs"]] == [(str(files[0]), True)]
        assert [job.path for job in new_jobs() if not job.unchanged] == [str(files[0])], "only the touched file hashed"
    assert "skipped 2 unchanged files" in cli("index", str(folder)).out, "the new modification time was recorded"


def test_a_big_folder_is_watched_a_few_jobs_at_a_time(cli, services, monkeypatch):
    folder = services.videos / "many"
    for i in range(indexing.WATCH_STREAMS + 3):
        make_video(folder / f"clip_{i}.mp4", seed=40 + i)
    watching, most = 0, 0
    lock = threading.Lock()
    real_watch = IndexerClient.watch

    def counted_watch(self, job_id):
        nonlocal watching, most
        with lock:
            watching += 1
            most = max(most, watching)
        try:
            yield from real_watch(self, job_id)
        finally:
            with lock:
                watching -= 1

    monkeypatch.setattr(IndexerClient, "watch", counted_watch)
    result = cli("index", str(folder), "--json")
    jobs = json.loads(result.out)["jobs"]
    assert result.code == 0 and len(jobs) == indexing.WATCH_STREAMS + 3
    assert {job["state"] for job in jobs} == {"succeeded"}
    assert 1 <= most <= indexing.WATCH_STREAMS, f"{most} WatchIndexJob streams were open at once"
