"""The CLI shows what is said and written: the matched line under each hit (table and JSON),
--kind, and `videos show` printing the transcript and on-screen text."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from videosearch.client.embedder import EmbedderClient
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SceneRecord, TextSpan, VideoExtras, VideoRecord

SPANS = (TextSpan("said", 1.5, 3.25, "Now the quarterly budget, line by line.", "en", "sidecar"),
         TextSpan("written", 0.0, 2.0, "会议室 MEETING ROOM", "zh", "ocr"))


@pytest.fixture(scope="module")
def talk(services):
    with EmbedderClient(services.embedder) as embedder:
        info = embedder.model_info()
    rng = np.random.default_rng(3)
    with SearcherClient(services.searcher) as searcher:
        for video_id, spans in (("talk", SPANS), ("quiet", ())):
            video = VideoRecord(video_id, f"/videos/{video_id}.mp4", 4.0, Fraction(25), 100, 64, 48, video_id * 16,
                                info.model_id, info.embedding_dim, scene_count=1)
            vector = rng.standard_normal((1, info.embedding_dim)).astype(np.float32)
            searcher.upsert_video(video, [SceneRecord(0, 0, 100, 0.0, 4.0, 1)], vector / np.linalg.norm(vector),
                                  None, VideoExtras(text_spans=spans))
    return "talk"


def test_the_matched_line_is_under_the_hit(cli, talk):
    table = cli("search", "quarterly budget", "--mode", "scenes", "--top", "2")
    assert table.code == 0, table.err
    assert "said 1.50–3.25s: Now the quarterly budget, line by line." in " ".join(table.out.split())
    assert "matched: said" in table.out

    out = cli("search", "会议室", "--json", "--kind", "written")
    hit = json.loads(out.out)["videos"][0]["scenes"][0]
    assert hit["video_id"] == talk and hit["matched_kinds"] == ["written"]
    match = hit["text_matches"][0]
    assert match["marked_text"] == "[会议室] MEETING ROOM" and match["highlights"] == [[0, 3]]
    assert (match["start_seconds"], match["end_timecode"]) == (0.0, "00:00:02.000")


def test_videos_show_prints_what_is_said_and_written(cli, talk):
    shown = cli("videos", "show", talk)
    assert shown.code == 0, shown.err
    assert "said and written" in shown.out and "quarterly budget" in shown.out and "会议室 MEETING ROOM" in shown.out
    spans = json.loads(cli("videos", "show", talk, "--json").out)["text_spans"]
    assert [(s["kind"], s["start_timecode"], s["source"]) for s in spans] == \
        [("written", "00:00:00.000", "ocr"), ("said", "00:00:01.500", "sidecar")]
    assert "nothing said or written" in cli("videos", "show", "quiet").out
