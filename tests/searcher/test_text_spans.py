"""Text spans (what is said and written in a video): validation, storage in the video's one
write, GetVideo over gRPC, deletion with the video, fsck, and the schema 3 -> 4 upgrade."""

from __future__ import annotations

import pytest
from tests.searcher.searcher_testlib import make_scenes, make_video, open_searcher, random_unit, write_old_store
from videosearch.common import defaults
from videosearch.common.errors import InvalidArgument
from videosearch.searcher.storage import fsck
from videosearch.searcher import wire
from videosearch.searcher.service import Searcher
from videosearch.searcher.storage.store import SCHEMA_VERSION
from videosearch.searcher.types import TextBox, TextSpan, VideoExtras
from videosearch.v1 import video_pb2

SPANS = (
    TextSpan("written", 1.0, 2.5, "出口 EXIT", "zh", "ocr", TextBox(0.1, 0.2, 0.5, 0.1)),
    TextSpan("said", 0.2, 1.8, "We will discuss the quarterly budget.", "en", "sidecar"),
    TextSpan("said", 1.0, 2.0, "下午开会", "zh", "speech"),
)


def _upsert(searcher: Searcher, video_id: str, spans=SPANS, rng=None):
    import numpy as np

    rng = rng or np.random.default_rng(0)
    return searcher.upsert_video(make_video(video_id, 2), make_scenes(2), random_unit(rng, 2), None,
                                 VideoExtras(text_spans=tuple(spans)))


def test_spans_are_stored_in_start_order_and_deleted_with_the_video(searcher):
    _upsert(searcher, "v")
    stored = searcher.get_text_spans("v")
    assert [s.start_seconds for s in stored] == [0.2, 1.0, 1.0]
    assert [s.kind for s in stored] == ["said", "said", "written"]  # said first at equal times
    assert stored[2] == SPANS[0]
    _upsert(searcher, "v", spans=SPANS[1:2])  # a replacement's spans replace the old ones
    assert searcher.get_text_spans("v") == SPANS[1:2]
    _upsert(searcher, "v", spans=())
    assert searcher.get_text_spans("v") == ()
    _upsert(searcher, "v")
    searcher.delete_video("v")
    assert not list(searcher.store.leveldb.db.iterator(prefix=b"text/"))


@pytest.mark.parametrize("span, message", [
    (TextSpan("heard", 0, 1, "x"), "kind"),  # type: ignore[arg-type]
    (TextSpan("said", 2, 1, "x"), "valid interval"),
    (TextSpan("said", float("nan"), 1, "x"), "valid interval"),
    (TextSpan("said", 0, 1, "   "), "empty"),
    (TextSpan("said", 0, 1, "x" * (defaults.MAX_TEXT_SPAN_CHARS + 1)), "over the limit"),
    (TextSpan("said", 0, 1, "x", language="english please"), "BCP-47"),
    (TextSpan("written", 0, 1, "x", box=TextBox(0.8, 0, 0.5, 0.1)), "inside the picture"),
    (TextSpan("said", 0, 1, "x", source="radio"), "source"),  # type: ignore[arg-type]
])
def test_bad_spans_are_refused_with_a_message(searcher, span, message):
    with pytest.raises(InvalidArgument, match=message):
        _upsert(searcher, "v", spans=(span,))
    assert searcher.store.get_video("v") is None  # nothing half-written


def test_too_many_spans_are_refused(searcher, monkeypatch):
    monkeypatch.setattr(defaults, "MAX_TEXT_SPANS", 3)
    with pytest.raises(InvalidArgument, match="at most 3"):
        _upsert(searcher, "v", spans=SPANS + SPANS[:1])


def test_wire_round_trip_and_an_unspecified_kind():
    for span in SPANS:
        assert wire.text_span_from_proto(wire.text_span_to_proto(span)) == span
    with pytest.raises(InvalidArgument, match="TEXT_KIND_SAID"):
        wire.text_span_from_proto(video_pb2.TextSpan(text="x", end_seconds=1), 4)


def test_fsck_finds_orphan_and_unreadable_text(tmp_path):
    searcher = open_searcher(tmp_path / "data", ann="none")
    _upsert(searcher, "a")
    _upsert(searcher, "b")
    searcher.store.leveldb.db.put(b"text/gone", b"[]")
    searcher.store.leveldb.db.put(b"text/b", b"not json")
    searcher.close()
    report = fsck.check_store(tmp_path / "data")
    assert not report.whole
    assert report.orphan_keys == [b"text/gone"]
    assert "text spans" in report.partial_videos["b"] and "a" not in report.partial_videos


def test_a_schema_3_store_is_upgraded_and_takes_spans(tmp_path, rng):
    write_old_store(tmp_path / "data", 3, rng, n=1)
    searcher = open_searcher(tmp_path / "data", ann="none")
    try:
        assert int(searcher.store.leveldb.db.get(b"meta/schema")) == SCHEMA_VERSION == 4
        assert searcher.get_text_spans("old") == ()
        _upsert(searcher, "new", rng=rng)
    finally:
        searcher.close()
    report = fsck.check_store(tmp_path / "data")
    assert report.whole and report.schema == 4, report.summary()
