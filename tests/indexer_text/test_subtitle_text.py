"""Subtitle files to cues: the three formats, their markup, and the encodings real files come in."""

from __future__ import annotations

import codecs

import pytest

from videosearch.indexer.text.subtitle_text import decode_text, parse_subtitles, strip_ass, strip_markup

SRT = """1
00:00:01,000 --> 00:00:02,500
<i>We will discuss</i> the <font color="red">budget</font>

2
00:00:03,000 --> 00:00:04,000
{\\an8}Second line
over two rows

"""

VTT = """WEBVTT - a title

NOTE a comment block

intro
00:01.000 --> 00:02.000 align:start position:10%
<v Alice>Hello <c.yellow>there</c> &amp; welcome</v>

00:00:03.500 --> 00:00:05.000
<00:00:03.600>karaoke <00:00:04.000>timed
"""

ASS = """[Script Info]
Title: test

[V4+ Styles]
Format: Name, Fontname, Fontsize
Style: Default,Arial,20

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\i1}Italic{\\i0} words, with a comma\\Nand a break
Comment: 0,0:00:02.00,0:00:03.00,Default,,0,0,0,,not shown
Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\\p1}m 0 0 l 100 0 100 100{\\p0}
Dialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,中文字幕
"""


def test_srt_cues_with_markup_stripped():
    parsed = parse_subtitles(SRT.encode(), ".srt")
    assert [(c.start_seconds, c.end_seconds, c.text) for c in parsed.cues] == [
        (1.0, 2.5, "We will discuss the budget"), (3.0, 4.0, "Second line over two rows")]
    assert parsed.skipped == 0


def test_vtt_cues_ids_settings_voices_and_timestamps():
    parsed = parse_subtitles(VTT.encode(), ".vtt")
    assert [(c.start_seconds, c.end_seconds, c.text) for c in parsed.cues] == [
        (1.0, 2.0, "Hello there & welcome"), (3.5, 5.0, "karaoke timed")]


def test_ass_dialogue_by_format_line_comments_and_drawings_left_out():
    parsed = parse_subtitles(ASS.encode(), ".ass")
    assert [(c.start_seconds, c.end_seconds, c.text) for c in parsed.cues] == [
        (1.0, 2.5, "Italic words, with a comma and a break"), (5.0, 6.0, "中文字幕")]


@pytest.mark.parametrize("encoding, bom", [("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
                                           ("utf-16-be", codecs.BOM_UTF16_BE), ("gbk", b""), ("gb18030", b""),
                                           ("utf-16-le", b"")])
def test_encodings_of_chinese_subtitles(encoding, bom):
    text = "1\n00:00:01,000 --> 00:00:02,000\n我们讨论季度预算\n"
    data = bom + text.encode(encoding)
    parsed = parse_subtitles(data, ".srt")
    assert [c.text for c in parsed.cues] == ["我们讨论季度预算"], parsed.encoding
    assert not parsed.lossy


def test_ascii_utf16_without_bom_is_recognized():
    assert decode_text("1\n00:00:01,000 --> 00:00:02,000\nhello\n".encode("utf-16-le"))[1] == "utf-16-le"


def test_bytes_in_no_encoding_are_replaced_and_reported():
    text, _, lossy = decode_text(b"\x81\x30\xff\xfe\x00hello" * 3 + b"\xff")
    assert lossy and "hello" in text


def test_broken_blocks_are_skipped_and_counted_the_rest_kept():
    data = SRT + "3\n00:00:xx,000 --> 00:00:09,000\nbad timing\n\n4\n00:00:07,000 --> 00:00:08,000\nlast\n"
    parsed = parse_subtitles(data.encode(), ".srt")
    assert [c.text for c in parsed.cues][-1] == "last"
    assert parsed.skipped == 1


def test_garbage_is_no_cues_not_an_error():
    parsed = parse_subtitles(bytes(range(256)) * 40, ".srt")
    assert parsed.cues == []


def test_ass_content_in_a_srt_named_file_is_read_as_ass():
    assert [c.text for c in parse_subtitles(ASS.encode(), ".srt").cues][0].startswith("Italic words")


def test_strip_helpers():
    assert strip_markup("<b>bold</b>&nbsp;and {\\pos(1,2)}placed") == "bold and placed"
    assert strip_ass("a\\hb\\Nc{\\fs20}d") == "a b cd"


def test_sidecars_are_found_by_name_and_never_outside_the_allowed_roots(tmp_path):
    from videosearch.indexer.paths import AllowedRoots
    from videosearch.indexer.text.subtitles import find_sidecars

    inside, outside = tmp_path / "library", tmp_path / "private"
    inside.mkdir()
    outside.mkdir()
    video = inside / "talk.mp4"
    video.write_bytes(b"")
    (inside / "talk.zh-Hans.srt").write_text("x")
    (inside / "talk.ASS").write_text("x")
    (inside / "talk.final.srt").write_text("x")  # talk.final.mp4's
    (inside / "talking.srt").write_text("x")
    (outside / "secret.srt").write_text("x")
    (inside / "talk.en.srt").symlink_to(outside / "secret.srt")
    found = find_sidecars(str(video), AllowedRoots((str(inside),)))
    assert [(p.name, language) for p, language in found] == [("talk.ASS", ""), ("talk.zh-Hans.srt", "zh-Hans")]
