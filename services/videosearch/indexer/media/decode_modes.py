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
(videosearch.indexer.media.keyframe_spacing).
What each costs in cuts and moments, and buys in speed: docs/performance.md, "Fast mode".
"""

from __future__ import annotations

from videosearch.common.errors import InvalidArgument

DECODE_MODES = ("all", "reference", "sparse", "keyframes")
"""From the most frames decoded to the fewest."""
DEFAULT_DECODE_MODE = "all"
SKIP_FRAME = {"all": "DEFAULT", "reference": "NONREF", "sparse": "NONREF", "keyframes": "NONKEY"}
"""Each mode's FFmpeg ``skip_frame`` (AVDiscard) setting."""
GOP_PREFIX_MODES = frozenset({"sparse"})
"""The modes that hand the decoder only each GOP's first part (videosearch.indexer.media.gop_prefix)."""


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
