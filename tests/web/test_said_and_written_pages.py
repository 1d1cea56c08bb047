"""The web page shows what is said and written: a hit's matched line with its time and the
query's words marked, a click on it plays from the line; a video's page lists its transcript
and on-screen text with times."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SceneRecord, TextSpan, VideoExtras, VideoRecord

from tests.web.conftest import web  # noqa: F401  (the fixture)

SPANS = (TextSpan("said", 2.5, 4.0, "Here is the quarterly budget & plan", "en", "sidecar"),
         TextSpan("written", 5.0, 7.5, "紧急出口", "zh", "ocr"))


@pytest.fixture(scope="module")
def talking(live_services):  # noqa: F811
    with SearcherClient(live_services.addresses["searcher"]) as searcher:
        video = VideoRecord("talking0000000", f"{live_services.root}/talk.mp4", 8.0, Fraction(25), 200, 64, 48,
                            "ab" * 32, live_services.model_id, live_services.dim, scene_count=2)
        vectors = np.random.default_rng(5).standard_normal((2, live_services.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        scenes = [SceneRecord(0, 0, 100, 0.0, 4.0, 1), SceneRecord(1, 100, 200, 4.0, 8.0, 1)]
        searcher.upsert_video(video, scenes, vectors, None, VideoExtras(text_spans=SPANS))
    return video.video_id


def test_a_hit_shows_its_matched_line_and_plays_from_it(web, talking):  # noqa: F811
    page = web.get("/search", params={"q": "quarterly budget"})
    assert page.status_code == 200
    assert re.search(r"matched by [a-z, ]*said", page.text)
    assert "Here is the <mark>quarterly budget</mark> &amp; plan" in page.text  # escaped, words marked
    link = re.search(r'<a class="play" href="/watch/talking0000000\?scene=0&t=2.5"[^>]*data-start="2.5"', page.text)
    assert link, "the line links to its own start"


def test_a_videos_page_lists_what_is_said_and_written(web, talking):  # noqa: F811
    page = web.get(f"/watch/{talking}")
    assert page.status_code == 200 and "Said and written" in page.text
    assert 'lang="zh"' in page.text and "紧急出口" in page.text and "0:05.0–0:07.5" in page.text
    assert f'href="/watch/{talking}?scene=1&t=5.0"' in page.text  # the sign lies in scene 1
