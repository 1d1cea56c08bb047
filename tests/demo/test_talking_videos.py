"""`make demo`'s videos that talk and show words, through the real services: the Indexer reads
the subtitles beside briefing.mp4 and the signs of signs.mp4 (OCR), and the Searcher finds each
line by words only speech or only on-screen text holds, at its time."""

from __future__ import annotations

import json

import pytest
from videosearch.demo.talking import CJK_FONT, SIGN_EN, SIGN_ZH, generate_talking_videos, where_answered
from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SearchParams

from tests.system.conftest import live_services  # noqa: F401  (the fixture)

pytestmark = pytest.mark.timeout(600)


def test_speech_subtitles_and_signs_answer_their_queries(live_services):  # noqa: F811
    truth = generate_talking_videos(live_services.root / "talking")
    assert (live_services.root / "talking" / "briefing.en.srt").read_text().count("quarterly budget") == 1
    assert json.loads((live_services.root / "talking" / "talking.json").read_text()) == truth
    # lecture.mp4 is found by recognized speech only (tests/indexer_text/test_demo_speech.py): no subtitles beside it.
    assert not list((live_services.root / "talking").glob("lecture*.srt"))
    lecture = next(video for video in truth["videos"] if video["file"] == "lecture.mp4")
    assert not lecture["speech"] or "lecture.mp4 said" in where_answered(truth, "painted")
    with IndexerClient(live_services.addresses["indexer"]) as indexer:
        for name in ("briefing.mp4", "signs.mp4"):
            job = indexer.submit(str(live_services.root / "talking" / name), SubmitOptions(on_screen_text=True))
            done = indexer.wait(job.job_id)
            assert done.state.value == "succeeded", done.error
    scenes = SearchParams(mode="scenes", top_k=1)
    with SearcherClient(live_services.addresses["searcher"]) as searcher:
        said = searcher.search(text="quarterly budget", params=scenes).scenes[0]
        line = said.text_matches[0].span
        assert "said" in said.matched_kinds and line.start_seconds == pytest.approx(4.2, abs=0.05)
        assert said.moment.start_seconds <= line.start_seconds < said.moment.end_seconds
        zh = searcher.search(text="旅行计划", params=scenes).scenes[0]
        assert zh.text_matches[0].span.language == "zh" and zh.text_matches[0].marked().count("[") == 1
        written = searcher.search(text="platform 9", params=scenes).scenes[0]
        assert "written" in written.matched_kinds
        assert SIGN_EN.split()[0] in written.text_matches[0].span.text.upper()
        assert 4.0 <= written.text_matches[0].span.start_seconds < 8.0
        if CJK_FONT.exists():
            exit_sign = searcher.search(text=SIGN_ZH, params=scenes).scenes[0]
            assert "written" in exit_sign.matched_kinds and 8.0 <= exit_sign.text_matches[0].span.start_seconds < 12.0
    assert "briefing.mp4 said" in where_answered(truth, "quarterly budget")
