"""What the CLI prints, run in-process against real services: JSON with every field
(zeros kept, integers as numbers, the file path in every video), tables that show each
video's id and a path that tells same-named files apart, paging and argument errors."""

from __future__ import annotations

import json

import pytest

from videosearch.client.indexer import IndexerClient
from videosearch.indexer.types import JobState

from tests.cli.conftest import make_video


@pytest.fixture(scope="module")
def twins(services):
    """Two different videos both named demo_000.mp4, in folders a/ and b/, indexed."""
    from videosearch_cli.main import main

    paths = [make_video(services.videos / folder / "nested" / "demo_000.mp4", seed)
             for folder, seed in (("a", 1), ("b", 2))]
    assert main([*services.addresses, "index", *map(str, paths)]) == 0
    return paths


def test_index_json_keeps_zero_fields_and_integers(cli, services):
    path = make_video(services.videos / "json" / "one.mp4", seed=3)
    result = cli("index", str(path), "--json")
    assert result.code == 0, result.err
    [job] = json.loads(result.out)["jobs"]
    assert job["state"] == "succeeded" and job["path"] == str(path)
    assert isinstance(job["scenes_found"], int) and job["scenes_found"] == 2
    assert isinstance(job["frames_total"], int) and job["frames_total"] == 40
    assert job["error"] == "" and job["skipped"] is False, "empty and false fields are printed too"
    assert "version" not in job


def test_video_json_is_one_shape_with_zero_fields_and_the_path(cli, twins):
    listed = json.loads(cli("videos", "list", "--json").out)
    by_path = {v["path"]: v for v in listed["videos"]}
    assert set(map(str, twins)) <= set(by_path)
    video = by_path[str(twins[0])]
    assert isinstance(video["frame_count"], int) and isinstance(video["scene_count"], int)
    assert (video["fps"], video["fps_numerator"], video["fps_denominator"]) == (25.0, 25, 1)
    assert video["locations"] == [{"path": str(twins[0]), "size_bytes": twins[0].stat().st_size,
                                   "mtime_ns": twins[0].stat().st_mtime_ns, "missing": False}]

    shown = json.loads(cli("videos", "show", video["video_id"], "--json").out)
    assert set(shown["video"]) == set(video), "a video has the same fields in every command"
    first_scene = shown["scenes"][0]
    assert first_scene["index"] == 0 and first_scene["start_frame"] == 0 and first_scene["start_seconds"] == 0.0
    assert first_scene["start_timecode"] == "00:00:00.000"
    assert shown["moments"][0]["index"] == 0 and shown["moments"][0]["scene_index"] == 0

    found = json.loads(cli("search", "a red circle", "--json").out)
    assert {set(hit["video"]) == set(video) for hit in found["videos"]} == {True}
    assert {hit["video"]["path"] for hit in found["videos"]} >= set(map(str, twins))
    for hit in found["videos"][0]["scenes"]:
        assert hit["path"] == found["videos"][0]["video"]["path"]
        assert set(hit["scene"]) >= {"index", "start_frame", "start_seconds", "start_timecode"}
    scenes = json.loads(cli("search", "a red circle", "--mode", "scenes", "--json").out)["scenes"]
    assert scenes and all(hit["path"] in {v["path"] for v in listed["videos"]} for hit in scenes)


def test_search_table_shows_every_video_id_and_tells_same_named_files_apart(cli, twins):
    result = cli("search", "a red circle", "--top", "10", "--scenes", "1")
    assert result.code == 0, result.err
    listed = json.loads(cli("videos", "list", "--json").out)["videos"]
    for video in listed:
        assert video["video_id"] in result.out, "a one-scene-per-hit video still shows its id"
    assert "a/nested/demo_000.mp4" in result.out and "b/nested/demo_000.mp4" in result.out


def test_videos_list_keeps_the_file_name_readable(cli, services):
    deep = services.videos / ("very-long-folder-name-" * 4) / "deeper" / "still-deeper" / "the_file_name_000.mp4"
    make_video(deep, seed=4)
    assert cli("index", str(deep)).code == 0
    table = cli("videos", "list").out
    assert "the_file_name_000.mp4" in table, table
    assert "…/" in table, "a long path is shortened from the left, keeping the name"


def test_paths_with_brackets_print_as_they_are(cli, services):
    path = make_video(services.videos / "[red]" / "clip [take 2].mp4", seed=7)
    indexed = cli("index", str(path))
    assert indexed.code == 0 and str(path) in indexed.out
    assert "[red]/clip [take 2].mp4" in cli("videos", "list").out
    assert "clip [take 2].mp4" in cli("search", "a red circle", "--top", "100").out


def test_stats_prints_a_table_and_json(cli, twins):
    stats = json.loads(cli("stats", "--json").out)
    assert isinstance(stats["video_count"], int) and stats["video_count"] >= 2
    assert set(stats) == {"video_count", "scene_count", "moment_count", "model_id", "embedding_dim", "approximate_index",
                          "staged_model_id", "staged_video_count"}
    assert stats["staged_model_id"] == "" and "reindexing" not in cli("stats").out
    table = cli("stats").out
    assert "videos" in table and str(stats["video_count"]) in table and "{" not in table


@pytest.mark.parametrize("top", ["0", "-3"])
def test_top_below_one_is_an_error(cli, top):
    result = cli("search", "a red circle", "--top", top)
    assert result.code == 1 and "--top" in result.err and "1 to 1000" in result.err


def test_jobs_list_pages_like_videos_list(cli, twins):
    everything = json.loads(cli("jobs", "list", "--all", "--json").out)
    assert len(everything["jobs"]) >= 2 and everything["next_page_token"] == ""
    first = json.loads(cli("jobs", "list", "--page-size", "1", "--json").out)
    assert len(first["jobs"]) == 1 and first["next_page_token"]
    second = json.loads(cli("jobs", "list", "--page-size", "1", "--page-token", first["next_page_token"], "--json").out)
    assert [j["job_id"] for j in first["jobs"] + second["jobs"]] == [j["job_id"] for j in everything["jobs"][:2]]
    table = cli("jobs", "list", "--page-size", "1").out
    assert "--page-token" in table, "a table that is not the last page says how to get the next"
    videos = cli("videos", "list", "--page-size", "1").out
    assert "--page-token" in videos


def test_jobs_cancel_prints_the_state_after_cancelling(cli, services):
    held = make_video(services.videos / "cancel" / "held.mp4", seed=5)
    queued = make_video(services.videos / "cancel" / "queued.mp4", seed=6)
    services.clip.gate.clear()  # the one worker's job waits in embedding; the next one stays queued
    try:
        with IndexerClient(services.indexer) as indexer:
            running = indexer.submit(str(held))
            waiting = indexer.submit(str(queued))
            for job in indexer.watch(running.job_id):
                if job.stage.value == "embedding":
                    break
            result = cli("jobs", "cancel", waiting.job_id, running.job_id)
            assert result.code == 0, result.err
            assert f"{waiting.job_id}: cancelled" in result.out
            assert f"{running.job_id}: running (stopping)" in result.out or f"{running.job_id}: cancelled" in result.out
            services.clip.gate.set()
            *_, last = indexer.watch(running.job_id)
            assert last.state is JobState.CANCELLED
        again = cli("jobs", "cancel", waiting.job_id)
        assert again.code == 1 and "already finished" in again.err
    finally:
        services.clip.gate.set()


def test_no_wait_prints_the_queued_jobs_in_the_same_shape(cli, services):
    path = make_video(services.videos / "nowait" / "one.mp4", seed=8)
    result = cli("index", str(path), "--no-wait", "--json")
    assert result.code == 0, result.err
    [job] = json.loads(result.out)["jobs"]
    assert job["state"] == "queued" and job["path"] == str(path) and job["percent"] == 0.0
    with IndexerClient(services.indexer) as indexer:
        *_, last = indexer.watch(job["job_id"])
    assert last.state is JobState.SUCCEEDED


def test_index_prints_text_spans_and_warnings_of_the_words(cli, services):
    path = make_video(services.videos / "words" / "talk.mp4", seed=14)
    path.with_suffix(".srt").write_text("1\n00:00:00,100 --> 00:00:00,900\nthe quarterly budget\n\n"
                                        "2\n00:09:00,000 --> 00:09:01,000\nlong after the end\n")
    result = cli("index", str(path))
    assert result.code == 0, result.err
    words = " ".join(result.out.split())  # the console wraps at 120 columns, and tmp paths differ in length
    assert "1 text spans" in words
    assert "warning" in words and "outside the video" in words
    listed = json.loads(cli("index", str(path), "--json", "--force", "--no-subtitles").out)["jobs"][0]
    assert listed["text_spans_found"] == 0 and listed["warnings"] == [] and listed["options"]["subtitles"] is False
