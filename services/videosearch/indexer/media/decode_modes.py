"""Which frames a job decodes (its decode mode): plain names a client can send without loading
the decoders (videosearch.indexer.media.decoding applies them through PyAV).

``all`` decodes every frame. ``reference`` has the codec skip the frames no other frame
refers to (FFmpeg's ``skip_frame`` ``nonref``: most B-frames of H.264 and HEVC); ``sparse``
decodes each keyframe and the reference frames of the first part of its GOP only (at most a
third of it; samples at most max(2 s, 2/3 of the keyframe interval) apart, see
videosearch.indexer.media.gop_prefix); ``keyframes`` skips every frame but the keyframes
(``nonkey``), the fastest first pass over a library. In ``sparse`` and ``keyframes``,
keyframes closer than 0.25 s and 1 s to the last one decoded are dropped unread, so intra-only
video (MJPEG, ProRes: every frame a keyframe) is not decoded whole
(videosearch.indexer.media.keyframe_spacing). A stretch of 20 s with no keyframe (a stream
without keyframe flags, x264 ``keyint=infinite``, intra refresh), or a last GOP longer than 10 s and
than those before, is decoded on in both (reference frames, the ``reference`` mode's cost), so the
video is covered to its end (videosearch.indexer.media.gop_prefix); packets flagged as keyframes
that are none (intra refresh's recovery points) are not jumped to
(videosearch.indexer.media.keyframe_kinds).
What each costs in cuts and moments, and buys in speed: docs/performance.md, "Fast mode".
"""

from __future__ import annotations

from videosearch.common.errors import InvalidArgument

DECODE_MODES = ("all", "reference", "sparse", "keyframes")
"""From the most frames decoded to the fewest."""
DEFAULT_DECODE_MODE = "all"
SKIP_FRAME = {"all": "DEFAULT", "reference": "NONREF", "sparse": "NONREF", "keyframes": "NONKEY"}
"""Each mode's FFmpeg ``skip_frame`` (AVDiscard) setting."""
THINNED_MODES = frozenset({"keyframes"})
"""The modes whose decoded frames are thinned to their keyframe spacing: a stretch without
keyframes, decoded reference frames and all (videosearch.indexer.media.gop_prefix's run-on), is
delivered at a frame a second in keyframes mode, as its keyframes would be; sparse keeps them all."""


def check_decode_mode(mode: str) -> str:
    """``mode`` if it is a decode mode, else InvalidArgument saying which there are."""
    if mode not in DECODE_MODES:
        raise InvalidArgument(
            f"unknown decode mode {mode!r}; use all (every frame, the default), reference "
            "(reference frames only), sparse (keyframes and the first third of each GOP's reference "
            "frames) or keyframes (keyframes only, the fastest first pass)"
        )
    return mode


def mode_covers(stored: str, wanted: str) -> bool:
    """Whether a video indexed in decode mode ``stored`` ("" for videos indexed before modes
    existed: every frame) serves a request for ``wanted``: it decoded at least as many frames.
    A video stored in a faster mode than the one asked for is indexed again."""
    return DECODE_MODES.index(stored or DEFAULT_DECODE_MODE) <= DECODE_MODES.index(wanted or DEFAULT_DECODE_MODE)
