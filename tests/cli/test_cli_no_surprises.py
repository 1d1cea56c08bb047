"""Issue 24 part 2 against real services: one TERM[:WEIGHT] rule (the positional query too),
connection flags before or after the command, `--next` honouring the output flags given with
it, timecodes from the stored presentation times (a variable-frame-rate video), and messages
that name CLI commands."""

from __future__ import annotations

import json

import pytest
from videosearch.common.timecode import format_seconds
from videosearch.client.indexer import IndexerClient
from videosearch.indexer.types import JobState

from tests.indexer_media.made_videos import make_vfr_video
from videosearch_cli.main import build_parser, main
from videosearch_cli.query_terms import terms_from_args

from .conftest import make_video


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def vfr(services):
    """A variable-frame-rate video (frames dropped in its first shot), indexed: (VfrVideo, id)."""
    made = make_vfr_video(services.videos / "surprises" / "vfr.mp4")
    with IndexerClient(services.indexer) as indexer:
        job = indexer.wait(indexer.submit(str(made.path)).job_id)
    assert job.state is JobState.SUCCEEDED, job.error
    return made, job.video_id


@pytest.fixture(scope="module")
def several(services):
    """Three small videos indexed, so a search has more than one page."""
    ids = []
    with IndexerClient(services.indexer) as indexer:
        for seed in range(3):
            path = make_video(services.videos / "surprises" / f"small{seed}.mp4", seed=70 + seed)
            job = indexer.wait(indexer.submit(str(path)).job_id)
            assert job.state is JobState.SUCCEEDED, job.error
            ids.append(job.video_id)
    return ids


def test_the_positional_query_takes_a_weight_like_text():
    parser = build_parser()
    positional = terms_from_args(parser.parse_args(["search", "a dog:2", "--text", "a beach"]))
    flagged = terms_from_args(parser.parse_args(["search", "--text", "a dog:2", "--text", "a beach"]))
    assert [(t.text, t.weight) for t in positional] == [("a dog", 2.0), ("a beach", 1.0)]
    assert [(t.text, t.weight) for t in positional] == [(t.text, t.weight) for t in flagged]
    # A colon not followed by a number stays in the text, wherever the term is given.
    assert [(t.text, t.weight) for t in terms_from_args(parser.parse_args(["search", "time: 12:30 pm"]))] == \
        [("time: 12:30 pm", 1.0)]


def test_positional_and_text_weights_give_the_same_scores(cli, several):
    as_query = json.loads(cli("search", "a red circle:3", "--not", "a blue square", "--json").out)
    as_text = json.loads(cli("search", "--text", "a red circle:3", "--not", "a blue square", "--json").out)
    unweighted = json.loads(cli("search", "a red circle", "--not", "a blue square", "--json").out)
    scores = [v["score"] for v in as_query["videos"]]
    assert scores == [v["score"] for v in as_text["videos"]]
    assert scores != [v["score"] for v in unweighted["videos"]], "the weight must reach the Searcher"


@pytest.mark.parametrize("command", [["stats", "--json"], ["videos", "list", "--json"], ["jobs", "list", "--json"]])
def test_connection_flags_work_after_the_command(services, capsys, command):
    dead = "127.0.0.1:9"  # before the command: overridden by the flags after it
    code = main(["--searcher-address", dead, "--indexer-address", dead, *command,
                 "--searcher-address", services.searcher, "--indexer-address", services.indexer])
    out = capsys.readouterr()
    assert code == 0, out.err
    json.loads(out.out)


def test_connection_flags_before_the_command_are_kept_when_none_follow(services, capsys):
    assert main(["--searcher-address", services.searcher, "search", "a red circle", "--json"]) == 0
    json.loads(capsys.readouterr().out)


def test_next_honours_the_output_flags_given_with_it(cli, several):
    first = cli("search", "a red circle", "--mode", "scenes", "--top", "2")
    assert first.code == 0 and "more: videosearch search --next" in first.out, first.out
    second = cli("search", "--next", "--json")
    assert second.code == 0, second.err
    page = json.loads(second.out)  # JSON, though the first page was a table
    assert len(page["scenes"]) == 2 and page["next_page_token"]
    third = cli("search", "--next")  # and a table again: --json is not remembered
    assert third.code == 0 and "\n  5 " in third.out, third.out
    changed = cli("search", "--next", "--top", "5")
    assert changed.code == 1 and "--top" in changed.err and "new search" in changed.err


def test_timecodes_are_the_stored_presentation_times(cli, vfr):
    made, video_id = vfr
    shown = json.loads(cli("videos", "show", video_id, "--json").out)
    assert len(shown["scenes"]) == len(made.source_cuts) + 1
    later = shown["scenes"][1:]  # after the dropped frames: frame / average rate is wrong there
    for scene in shown["scenes"]:
        assert scene["start_timecode"] == format_seconds(scene["start_seconds"])
        assert scene["end_timecode"] == format_seconds(scene["end_seconds"])
    for scene, cut in zip(later, made.source_cuts, strict=True):
        assert abs(scene["start_seconds"] - float(cut / made.rate)) < 0.002
    table = cli("videos", "show", video_id).out
    assert f"{later[0]['start_timecode']} ({later[0]['start_seconds']:.2f}s)" in table


def test_messages_name_cli_commands(cli, services):
    missing = cli("videos", "show", "0123456789abcdef")
    assert missing.code == 1 and "videosearch videos list" in missing.err
    no_scene = cli("more-like-this", "0123456789abcdef", "3")
    assert no_scene.code == 1 and "videosearch videos" in no_scene.err


def test_a_dead_service_suggests_videosearch_up(capsys):
    code = main(["--searcher-address", "127.0.0.1:9", "stats"])
    err = capsys.readouterr().err
    assert code == 1 and "videosearch-up" in err and "--searcher-address" in err


def test_every_index_flag_reaches_its_job_option():
    from videosearch.client.indexer import SubmitOptions
    from videosearch_cli.indexing import submit_options

    args = build_parser().parse_args(
        ["index", "--detector", "adaptive", "--threshold", "30", "--min-scene-frames", "8", "--seconds-per-sample", "2",
         "--min-frames-per-scene", "4", "--max-frames-per-scene", "9", "--frames-per-scene", "5", "--force",
         "--no-subtitles", "--speech", "--on-screen-text", "--decode-mode", "reference", "a.mp4"])
    assert submit_options(args) == SubmitOptions(
        detector="adaptive", detector_threshold=30.0, min_scene_frames=8, frames_per_scene=5, seconds_per_sample=2.0,
        min_frames_per_scene=4, max_frames_per_scene=9, force=True, subtitles=False, speech=True, on_screen_text=True,
        decode_mode="reference")
    assert submit_options(build_parser().parse_args(["index", "a.mp4"])) == SubmitOptions()
    assert submit_options(build_parser().parse_args(["index", "--fast", "a.mp4"])).decode_mode == "sparse"
    assert submit_options(build_parser().parse_args(["index", "--decode-mode", "sparse", "a.mp4"])).decode_mode == "sparse"


def test_job_json_keeps_the_released_option_names():
    from videosearch.indexer.types import IndexOptions, Job
    from videosearch_cli.output import plain

    options = plain(Job(job_id="j", path="/v.mp4", options=IndexOptions(min_scene_len=8, min_samples=4, max_samples=9)))
    assert {k: options["options"][k] for k in ("min_scene_frames", "min_frames_per_scene", "max_frames_per_scene")} == {
        "min_scene_frames": 8, "min_frames_per_scene": 4, "max_frames_per_scene": 9}
    assert "min_scene_len" not in options["options"]
