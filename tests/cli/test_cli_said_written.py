"""The CLI shows what is said and written: the matched line under each hit (table and JSON),
--kind, and `videos show` printing the transcript and on-screen text."""

from __future__ import annotations

import json
import re
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image
from videosearch.client.embedder import EmbedderClient
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SceneRecord, TextSpan, VideoExtras, VideoRecord

FERRY_QUERY = "ferry timetable"
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


@pytest.fixture(scope="module")
def said_above_seen(services):
    """"ferry" says the query's words but looks like nothing asked; "harbour" looks exactly like
    the query. The said match ranks first (fused), yet its look's relevance (0.5 at most as a
    literal match) is below the look of the hit under it."""
    with EmbedderClient(services.embedder) as embedder:
        info, wanted = embedder.model_info(), embedder.embed_texts([FERRY_QUERY])[0]
    away = np.random.default_rng(5).standard_normal(info.embedding_dim).astype(np.float32)
    away -= float(away @ wanted) * wanted  # orthogonal to the query: a look unlike it
    with SearcherClient(services.searcher) as searcher:
        for video_id, look, spans in (
            ("ferry", away / np.linalg.norm(away), (TextSpan("said", 0.5, 2.0, "The ferry timetable changed.", "en",
                                                              "sidecar"),)),
            ("harbour", wanted, ()),
        ):
            video = VideoRecord(video_id, f"/videos/{video_id}.mp4", 4.0, Fraction(25), 100, 64, 48, video_id * 16,
                                info.model_id, info.embedding_dim, scene_count=1)
            searcher.upsert_video(video, [SceneRecord(0, 0, 100, 0.0, 4.0, 1)], look[None].astype(np.float32),
                                  None, VideoExtras(text_spans=spans))
    return FERRY_QUERY


def test_the_number_column_follows_the_order_when_words_found_a_hit(cli, said_above_seen):
    """The table shows the fused score that ordered the hits, the look's relevance labelled beside
    it, and JSON has both."""
    query = said_above_seen
    hits = json.loads(cli("search", query, "--mode", "scenes", "--top", "2", "--json").out)["scenes"]
    assert [h["video_id"] for h in hits] == ["ferry", "harbour"]
    assert hits[0]["relevance"] < hits[1]["relevance"], "the case this test is about: relevance reads out of order"
    assert hits[0]["fused_score"] > hits[1]["fused_score"] > 0

    for mode in ("scenes", "videos"):
        table = cli("search", query, "--mode", mode, "--top", "2")
        assert table.code == 0, table.err
        rows = re.findall(r"^\s*([12])\s+(\d+\.\d+)\s", table.out, flags=re.MULTILINE)
        assert [rank for rank, _ in rows] == ["1", "2"], table.out
        numbers = [float(number) for _, number in rows]
        assert numbers == sorted(numbers, reverse=True) and numbers[0] > numbers[1], table.out
        assert numbers[0] == pytest.approx(hits[0]["fused_score"], abs=1e-4)
        assert "fused score" in table.out and "look" in table.out  # the look's relevance, labelled
    videos = json.loads(cli("search", query, "--top", "2", "--json").out)["videos"]
    assert [v["video"]["video_id"] for v in videos] == ["ferry", "harbour"]
    assert videos[0]["fused_score"] == videos[0]["scenes"][0]["fused_score"] > videos[1]["fused_score"]


def test_the_contact_sheet_shows_what_ordered_the_hits(cli, said_above_seen, tmp_path):
    """Like the table: with words searched, each thumbnail's caption is the fused score that ordered
    the hits, the look's relevance labelled beside it (it printed the raw cosine, which read lower
    for the first hit than for the second)."""
    sheet = tmp_path / "sheet.png"
    result = cli("search", said_above_seen, "--mode", "scenes", "--top", "2", "--sheet", str(sheet))
    assert result.code == 0, result.err
    hits = json.loads(cli("search", said_above_seen, "--mode", "scenes", "--top", "2", "--json").out)["scenes"]
    with Image.open(sheet) as image:
        captions = image.text["Description"].splitlines()
    assert [line.split()[1] for line in captions] == ["ferry.mp4", "harbour.mp4"], captions
    fused = [float(re.search(r"  fused (\d\.\d+), look (\d\.\d+)  ", line).group(1)) for line in captions]
    assert fused == [pytest.approx(hit["fused_score"], abs=1e-4) for hit in hits] and fused[0] > fused[1], captions
