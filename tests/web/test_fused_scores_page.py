"""The web page's numbers follow its order when words found a hit (headless Chromium).

"ferry" says the query's words but looks like nothing asked; "harbour" looks exactly like the
query. The said match ranks first (fused), yet its look's relevance (0.5 as a literal match) is
below the look of the hit under it: the page must show the fused score that ordered them, falling
down the page, with the look's relevance labelled beside it (it showed the relevance, which read
0.50 above a higher one). The case is built as tests/cli/test_cli_said_written.py builds it, in a
real Searcher (LevelDB) behind a real Embedder, the page on a real HTTP server.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from videosearch.client.embedder import EmbedderClient
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SceneRecord, SearchParams, TextSpan, VideoExtras, VideoRecord

from tests.web.conftest import running_web, web_settings

pytestmark = pytest.mark.timeout(300)
QUERY = "ferry timetable"


@pytest.fixture(scope="module")
def said_above_seen(live_services):
    with EmbedderClient(live_services.addresses["embedder"]) as embedder:
        info, wanted = embedder.model_info(), embedder.embed_texts([QUERY])[0]
    away = np.random.default_rng(5).standard_normal(info.embedding_dim).astype(np.float32)
    away -= float(away @ wanted) * wanted  # orthogonal to the query: a look unlike it
    said = (TextSpan("said", 0.5, 2.0, "The ferry timetable changed.", "en", "sidecar"),)
    with SearcherClient(live_services.addresses["searcher"]) as searcher:
        for video_id, look, spans in (("ferry", away / np.linalg.norm(away), said), ("harbour", wanted, ())):
            video = VideoRecord(video_id, f"{live_services.root}/{video_id}.mp4", 4.0, Fraction(25), 100, 64, 48,
                                video_id * 16, info.model_id, info.embedding_dim, scene_count=1)
            searcher.upsert_video(video, [SceneRecord(0, 0, 100, 0.0, 4.0, 1)], look[None].astype(np.float32),
                                  None, VideoExtras(text_spans=spans))
        found = searcher.search(text=QUERY, params=SearchParams(top_k=2, mode="scenes"))  # the case at hand
    assert [hit.video_id for hit in found.scenes] == ["ferry", "harbour"]
    assert found.scenes[0].relevance < found.scenes[1].relevance, "relevance alone reads out of order"


@pytest.fixture(scope="module")
def base_url(live_services, said_above_seen):
    with running_web(web_settings(live_services)) as url:
        yield url


@pytest.mark.parametrize("mode", ["scenes", "videos"])
def test_the_numbers_fall_down_the_page_when_words_found_a_hit(base_url, browser, mode):
    # base_url first: the services start before the browser and stop after it (Playwright's sync API
    # holds an event loop on this thread while it runs, which the servers' own stop cannot share).
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    try:
        page = context.new_page()
        page.goto(f"/search?mode={mode}")
        page.get_by_label("Describe a scene").fill(QUERY)
        page.keyboard.press("Enter")
        page.locator("#results .tile").first.wait_for()
        order = page.locator("#results .video-group").evaluate_all("groups => groups.map(g => g.dataset.videoId)")
        assert order[:2] == ["ferry", "harbour"]
        # What a reader sees beside each hit, top to bottom: the group's number, then its tiles'.
        shown = page.locator("#results .video-group h2 .score:not(.look)").all_inner_texts()
        tiles = page.locator("#results .tile .score:not(.look)").all_inner_texts()
        looks = page.locator("#results .tile .look").all_inner_texts()
        legend = " ".join(page.locator("#results .score-legend").all_inner_texts())
    finally:
        context.close()
    for numbers in (shown, tiles):
        assert all(text.startswith("fused ") for text in numbers), numbers  # before the fix: "relevance 0.50"
        values = [float(text.split()[1]) for text in numbers[:2]]
        assert values[0] > values[1] > 0, numbers
    assert len(looks) >= 2 and float(looks[0].split()[1]) < float(looks[1].split()[1]), looks  # labelled "look"
    assert "fused score" in legend and "look" in legend, legend
