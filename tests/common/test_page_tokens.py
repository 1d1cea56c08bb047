"""Page tokens are opaque: the position is not readable, and a token that was altered,
made by hand, or made for another RPC or other filters is refused with INVALID_ARGUMENT."""

from __future__ import annotations

import base64

import pytest

from videosearch.common.errors import InvalidArgument
from videosearch.common.page_tokens import PageTokens

VIDEOS = PageTokens("ListVideos", str)
JOBS = PageTokens("ListIndexJobs", int)


def test_a_token_reads_back_as_its_position_and_does_not_show_it():
    token = VIDEOS.encode("3f2a9c0b1d4e5f60")
    assert VIDEOS.decode(token) == "3f2a9c0b1d4e5f60"
    assert "3f2a9c0b1d4e5f60" not in token and token.isascii() and "=" not in token
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"3f2a9c0b1d4e5f60" not in decoded, "not readable after decoding the base64 either"
    assert b"120" not in base64.urlsafe_b64decode(JOBS.encode(120) + "==")
    assert JOBS.decode(JOBS.encode(120)) == 120
    assert "120" not in JOBS.encode(120)
    assert VIDEOS.decode("") is None, "the empty token means the first page"


def test_an_altered_token_is_refused_with_a_way_out():
    token = VIDEOS.encode("vid-0001")
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-9] ^= 0x01  # one bit of the position's last byte
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    for bad in [tampered, token[:-2], token + "A", "garbage!", "%%%", "bm90IG91cnM", "x"]:
        with pytest.raises(InvalidArgument, match="page_token is malformed or was altered; start again without a page_token"):
            VIDEOS.decode(bad)


def test_a_hand_made_token_in_the_old_format_is_refused():
    old_style = base64.urlsafe_b64encode(b"after:vid-0001").decode()
    with pytest.raises(InvalidArgument, match="malformed"):
        VIDEOS.decode(old_style)


def test_a_token_for_another_rpc_or_other_filters_is_refused():
    with pytest.raises(InvalidArgument, match="made for another request.*start again without a page_token"):
        JOBS.decode(PageTokens("ListVideos", int).encode(5))
    filtered = VIDEOS.encode("vid-0001", model_id="clip-a")
    assert VIDEOS.decode(filtered, model_id="clip-a") == "vid-0001"
    with pytest.raises(InvalidArgument, match="made for another request"):
        VIDEOS.decode(filtered, model_id="clip-b")
    with pytest.raises(InvalidArgument, match="made for another request"):
        VIDEOS.decode(filtered)


def test_a_position_of_the_wrong_type_is_refused():
    with pytest.raises(InvalidArgument, match="malformed"):
        JOBS.decode(PageTokens("ListIndexJobs", str).encode("7"))


@pytest.mark.parametrize("suffix", ["====", "=", "==", "\n", " ", "!", "*"])
def test_a_token_with_characters_the_base64_decoder_would_skip_is_refused(suffix):
    """The token is authenticated as a whole: base64 that still decodes to the same bytes
    (padding appended, characters the decoder drops) is another token, refused."""
    for tokens, position in ((VIDEOS, "vid-0001"), (JOBS, 120)):
        token = tokens.encode(position)
        for bad in (token + suffix, suffix + token, token[:5] + suffix + token[5:]):
            with pytest.raises(InvalidArgument, match="malformed or was altered"):
                tokens.decode(bad)
