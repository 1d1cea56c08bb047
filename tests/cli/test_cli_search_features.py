"""Issue 9 through the CLI against real services (tiny CLIP, real LevelDB, real video):
image and composite queries, filters and pages (--next), explanations, open URIs and player
commands, contact sheets, thumbnails, more-like-this, and frame-accurate clip export."""

from __future__ import annotations

import io
import json

import cv2
import numpy as np
import pytest
from PIL import Image
from videosearch.demo import world
from videosearch.demo.videos import generate_demo_video

from videosearch_cli.clips import export_command

CAPTIONS = ["a red circle", "a blue square", "a green star"]


@pytest.fixture(scope="module")
def indexed(services, tmp_path_factory):
    """Two videos of three hard-cut scenes each, indexed; returns (path, video id) of both."""
    from videosearch.client.indexer import IndexerClient
    from videosearch.indexer.types import JobState

    out = []
    for n, captions in enumerate((CAPTIONS, CAPTIONS[::-1])):
        path = services.videos / "features" / f"clip{n}.mp4"
        generate_demo_video(path, captions, np.random.default_rng(40 + n), size=(160, 96), frames_per_scene=(25, 25))
        with IndexerClient(services.indexer) as indexer:
            job = indexer.wait(indexer.submit(str(path)).job_id)
        assert job.state is JobState.SUCCEEDED, job.error
        out.append((path, job.video_id))
    return out


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def decode(path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame.astype(np.float32))


def test_search_json_carries_open_uris_and_explanations(cli, indexed):
    result = cli("search", "a red circle", "--mode", "scenes", "--top", "3", "--explain", "--json")
    assert result.code == 0, result.err
    hits = json.loads(result.out)["scenes"]
    assert len(hits) == 3
    for hit in hits:
        assert hit["open_uri"] == f"file://{hit['path']}#t={hit['moment']['start_seconds']:.3f}".rstrip("0").rstrip(".")
        frames = hit["explanation"]["frames"]
        assert len(frames) == hit["moment"]["sampled_frames"] >= 1
        best = hit["explanation"]["best_frame_index"]
        assert frames[best]["score"] == max(f["score"] for f in frames)
        assert all(hit["moment"]["start_frame"] <= f["frame"] < hit["moment"]["end_frame"] for f in frames)


def test_player_commands_and_the_table_name_the_hits(cli, indexed):
    result = cli("search", "a blue square", "--mode", "scenes", "--top", "2", "--player", "mpv", "--explain")
    assert result.code == 0, result.err
    lines = [line for line in result.out.splitlines() if line.startswith("#")]
    assert len(lines) == 2 and all("mpv --start=" in line and "clip" in line for line in lines)
    assert "best frame" in result.out


def test_pages_follow_with_next_and_end(cli, indexed):
    everything = json.loads(cli("search", "a green star", "--mode", "scenes", "--top", "6", "--json").out)
    first = json.loads(cli("search", "a green star", "--mode", "scenes", "--top", "4", "--json").out)
    assert first["next_page_token"]
    second = cli("search", "--next", "--json")
    assert second.code == 0, second.err
    page = json.loads(second.out)
    keys = [(h["video_id"], h["scene"]["index"]) for h in first["scenes"] + page["scenes"]]
    assert keys == [(h["video_id"], h["scene"]["index"]) for h in everything["scenes"]]
    assert page["next_page_token"] == ""
    assert cli("search", "a green star", "--mode", "scenes", "--top", "4").code == 0  # a table this time
    second_page = cli("search", "--next")  # the same arguments; its ranks go on from the first page's
    assert second_page.code == 0 and "\n  5 " in second_page.out and "\n  1 " not in second_page.out, second_page.out
    exported = cli("export", "--hit", "1", "--out", "/dev/null")
    assert exported.code == 1 and "hits [5, 6]" in exported.err
    ended = cli("search", "--next")
    assert ended.code == 1 and "no further page" in ended.err


def test_filters_and_weights_reach_the_searcher(cli, indexed):
    (path0, id0), (_path1, id1) = indexed
    only_first = json.loads(cli("search", "a red circle", "--path-prefix", str(path0), "--json").out)
    assert [v["video"]["video_id"] for v in only_first["videos"]] == [id0]
    folder = json.loads(cli("search", "--text", "a red circle:2", "--not", "a blue square", "--folder",
                            str(path0.parent), "--json").out)
    assert {v["video"]["video_id"] for v in folder["videos"]} == {id0, id1}
    assert json.loads(cli("search", "a red circle", "--min-score", "1.0", "--json").out)["videos"] == []
    assert json.loads(cli("search", "a red circle", "--indexed-after", "2999-01-01", "--json").out)["videos"] == []
    bad = cli("search", "a red circle", "--min-duration", "9", "--max-duration", "1")
    assert bad.code == 1 and "exceeds" in bad.err


def test_an_image_query_and_a_bad_image(cli, indexed, tmp_path):
    picture = tmp_path / "query.png"
    Image.fromarray(world.render_frame("a green star", np.random.default_rng(5), (160, 96))).save(picture)
    result = cli("search", "--image", str(picture), "--mode", "scenes", "--top", "2", "--json")
    assert result.code == 0, result.err and len(json.loads(result.out)["scenes"]) == 2
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"this is no picture")
    refused = cli("search", "--image", str(junk))
    assert refused.code == 1 and "neither JPEG nor PNG" in refused.err
    assert cli("search").code == 1


def test_more_like_this_leaves_the_example_out(cli, indexed):
    (_, id0), (_, id1) = indexed
    hits = json.loads(cli("more-like-this", id0, "0", "--top", "5", "--json").out)["scenes"]
    assert (id0, 0) not in {(h["video_id"], h["scene"]["index"]) for h in hits} and len(hits) == 5
    with_self = json.loads(cli("more-like-this", id0, "0", "--top", "1", "--include-self", "--json").out)["scenes"]
    assert (with_self[0]["video_id"], with_self[0]["scene"]["index"]) == (id0, 0)
    videos = json.loads(cli("more-like-this", id0, "--json").out)["videos"]
    assert [v["video"]["video_id"] for v in videos] == [id1]


def test_thumbnails_and_a_contact_sheet(cli, indexed, tmp_path):
    (_, id0), _ = indexed
    result = cli("thumbs", id0, "--out", str(tmp_path / "thumbs"), "--json")
    assert result.code == 0, result.err
    written = json.loads(result.out)["thumbnails"]
    assert [t["scene"] for t in written] == [0, 1, 2]
    for t in written:
        with Image.open(t["path"]) as image:
            assert image.format == "JPEG" and image.size == (160, 96) == (t["width"], t["height"])
        assert 25 * t["scene"] <= t["frame"] < 25 * (t["scene"] + 1)
    sheet = tmp_path / "sheet.png"
    assert cli("search", "a red circle", "--mode", "scenes", "--top", "5", "--sheet", str(sheet)).code == 0
    with Image.open(sheet) as image:
        assert image.format == "PNG" and image.size[0] >= 4 * 160
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.std() > 10  # thumbnails were drawn, not an empty grid


def test_export_cuts_exactly_the_scenes_frames(cli, indexed, tmp_path):
    (path0, id0), _ = indexed
    out = tmp_path / "scene1.mp4"
    result = cli("export", id0, "1", "--out", str(out))
    assert result.code == 0, result.err
    original, clip = decode(path0), decode(out)
    assert len(clip) == 25
    for offset, frame in ((0, clip[0]), (24, clip[-1])):
        distances = [np.abs(frame - original[25 + offset + shift]).mean() for shift in (-1, 0, 1)
                     if 0 <= 25 + offset + shift < len(original)]
        assert int(np.argmin(distances)) == 1, distances  # the frame itself, not a neighbour


def test_export_from_the_last_searchs_hit(cli, indexed, tmp_path):
    result = json.loads(cli("search", "a red circle", "--mode", "scenes", "--top", "2", "--json").out)
    out = tmp_path / "hit.mp4"
    exported = cli("export", "--hit", "2", "--out", str(out), "--json")
    assert exported.code == 0, exported.err
    hit = result["scenes"][1]
    assert json.loads(exported.out)["scene"] == hit["scene"]["index"]
    assert len(decode(out)) == hit["scene"]["end_frame"] - hit["scene"]["start_frame"]
    missing = cli("export", "--hit", "9", "--out", str(out))
    assert missing.code == 1 and "not among them" in missing.err


def test_the_export_command_re_encodes_from_half_a_frame_before_the_scene():
    command = export_command("/v.mp4", 2.0, 3.0, 25, 25, "/out.mp4")
    assert command[command.index("-ss") + 1] == "1.980000" and command[command.index("-frames:v") + 1] == "25"
    assert "libx264" in command and "copy" not in command


def test_export_is_frame_accurate_between_h264_keyframes(tmp_path):
    """x264 (B-frames, one keyframe at frame 0 here) with a square moving 3 px a frame: a cut in
    the middle of the group of pictures starts and ends on exactly the right frames."""
    from fractions import Fraction

    from tests.indexer_media.made_videos import encode, shot_frame
    from videosearch_cli.clips import export_clip

    rate = Fraction(30000, 1001)
    source = encode(tmp_path / "gop.mp4", [shot_frame(0, i, 160, 96) for i in range(120)], rate=rate)
    originals = decode(source)
    start, end = 41, 83
    clip = decode(export_clip(str(source), float(start / rate), float(end / rate), end - start, rate, tmp_path / "cut.mp4"))
    assert len(clip) == end - start
    for position, frame in enumerate(clip):
        distances = [np.abs(frame - originals[start + position + shift]).mean() for shift in (-1, 0, 1)]
        assert int(np.argmin(distances)) == 1, (position, distances)
