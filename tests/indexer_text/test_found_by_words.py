"""End to end through the three services: videos whose only clue is a word said or written
(a sidecar subtitle, an embedded subtitle stream, a Chinese subtitle, a sign drawn on the
picture, a spoken sentence) among look-alike distractors are each ranked first by a text query,
at the time the words are said or shown. The pictures are plain shades of grey (distinct files:
a video's id is its content's hash), so the visual ranking cannot tell them apart."""

from __future__ import annotations

import pytest

from tests.indexer.indexer_testlib import finish, start_indexer, submit
from tests.indexer_text.talking_videos import make_video, speak
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SearchParams
from videosearch.v1 import indexer_pb2


def cue(start: str, end: str, words: str) -> str:
    return f"1\n00:00:{start},000 --> 00:00:{end},000\n{words}\n"


@pytest.fixture()
def library(tmp_path):
    """(path, query, expected start second) of each clue video; distractors beside them."""
    clues = []
    video = make_video(tmp_path / "sidecar.mp4", 6, color="0x808080")
    (tmp_path / "sidecar.en.srt").write_text(cue("02", "04", "the zebra crossing by the harbour"))
    clues.append((video, "zebra crossing", 2.0))
    stream = tmp_path / "stream.srt"
    stream.write_text(cue("03", "05", "a violin recital tonight"))
    clues.append((make_video(tmp_path / "embedded.mp4", 6, color="0x828282", subtitles=((stream, "mov_text", "eng"),)), "violin recital", 3.0))
    chinese = tmp_path / "chinese.srt"
    chinese.write_text(cue("01", "03", "我们明天去长城"))
    clues.append((make_video(tmp_path / "chinese.mkv", 6, color="0x848484", subtitles=((chinese, "subrip", "chi"),)), "长城", 1.0))
    for i in range(2):
        make_video(tmp_path / f"distractor{i}.mp4", 6, color=f"0x8{6 + 2 * i}8{6 + 2 * i}8{6 + 2 * i}")
        (tmp_path / f"distractor{i}.srt").write_text(cue("01", "02", f"nothing to see here {i}"))
    return tmp_path, clues


def index_all(folder, embedder, searcher, **options):
    app = start_indexer([folder], embedder.address, searcher.address)
    try:
        for path in sorted(p for p in folder.iterdir() if p.suffix in (".mp4", ".mkv")):
            stub, job, channel = submit(app, path, **options)
            with channel:
                done = finish(stub, job.job_id)
            assert done.state == indexer_pb2.JOB_STATE_SUCCEEDED, (path, done.error)
    finally:
        app.stop(0)


def first_hit(searcher, query):
    with SearcherClient(searcher.address) as client:
        result = client.search(text=query, params=SearchParams(mode="scenes"))
    assert result.scenes, f"nothing found for {query!r}"
    return result.scenes[0]


def test_each_subtitle_clue_is_found_first_at_its_time(library, embedder, searcher):
    folder, clues = library
    index_all(folder, embedder, searcher)
    for path, query, start in clues:
        hit = first_hit(searcher, query)
        assert hit.open_uri.split("#")[0].endswith(path.name), (query, hit.open_uri)
        assert hit.text_matches and hit.text_matches[0].span.start_seconds == pytest.approx(start), query


def test_a_sign_and_a_spoken_sentence_are_found_first(tmp_path, embedder, searcher):
    pytest.importorskip("rapidocr")
    sign = make_video(tmp_path / "sign.mp4", 5, drawn="HARBOUR FERRY", size="640x360", color="0x808080")
    audio = speak(tmp_path / "talk.wav", "we will discuss the quarterly budget at the meeting")
    talk = make_video(tmp_path / "talk.mkv", 6, audio=audio, color="0x828282")
    for i in range(2):
        make_video(tmp_path / f"grey{i}.mp4", 5, size="640x360", color=f"0x8{6 + 2 * i}8{6 + 2 * i}8{6 + 2 * i}")
    index_all(tmp_path, embedder, searcher, speech=True, on_screen_text=True)
    hit = first_hit(searcher, "harbour ferry")
    assert hit.open_uri.split("#")[0].endswith(sign.name) and "written" in hit.matched_kinds
    hit = first_hit(searcher, "quarterly")  # the word of the sentence pocketsphinx hears
    assert hit.open_uri.split("#")[0].endswith(talk.name) and "said" in hit.matched_kinds
