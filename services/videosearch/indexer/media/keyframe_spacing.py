"""Keyframes thinned out for the fast modes: intra-only video (MJPEG, ProRes, DNxHD, FFV1,
all-intra H.264) has every frame a keyframe, so "keyframes only" would decode every frame.

Since each keyframe decodes on its own, a keyframe that comes less than KEYFRAME_SPACING_SECONDS
after the last one kept is dropped before the decoder sees it, with the packets after it up to
the next keyframe (they may refer to it; in the fast modes they would be skipped anyway). The
decoded frames are then about KEYFRAME_SPACING_SECONDS apart, and cuts land at the nearest
decoded frame as in the other fast modes (videosearch.indexer.media.scenes). Video whose
keyframes are further apart (x264's 10 s, phones' 1 s) is not changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction

import av

KEYFRAME_SPACING_SECONDS = 1.0
"""The closest the fast modes decode two keyframes: the Indexer samples one frame per second
for CLIP by default (videosearch.indexer.media.sampling), so denser keyframes add no sample,
only cut precision (a cut lands at most half of this from its frame), at a full frame's decode
each. Keyframes a second apart (phone footage) are all kept, give or take
SPACING_TOLERANCE_FRAMES."""
SPACING_TOLERANCE_FRAMES = 1.5
"""Frames of slack on the spacing: a GOP of 29 frames at 30 fps (0.97 s) is kept whole, not
every other one."""


def spaced_keyframes(
    demuxed: Iterable[av.Packet], video_index: int, spacing: float = KEYFRAME_SPACING_SECONDS
) -> Iterator[av.Packet]:
    """``demuxed`` with the video keyframes closer than ``spacing`` seconds (less the
    tolerance) to the last one kept dropped, each with the packets after it up to the next
    keyframe; other streams' packets, and the demuxer's last empty packet, pass as they come."""
    last_kept: float | None = None
    dropping = False  # inside the GOP of a dropped keyframe
    slack: float | None = None  # the tolerance in seconds, from the stream's frame rate
    for packet in demuxed:
        if packet.stream.index != video_index or not packet.size:
            yield packet
            continue
        if packet.is_keyframe:
            shown = shown_seconds(packet)
            if slack is None:
                rate = packet.stream.guessed_rate or packet.stream.average_rate
                slack = SPACING_TOLERANCE_FRAMES / float(rate) if rate else 0.0
            dropping = last_kept is not None and shown is not None and shown - last_kept < spacing - slack
            if not dropping and shown is not None:
                last_kept = shown
        if not dropping:
            yield packet


def shown_seconds(packet: av.Packet) -> float | None:
    """When the packet's frame is shown (its decode time where it has no presentation time)."""
    stamp = packet.pts if packet.pts is not None else packet.dts
    if stamp is None or packet.time_base is None:
        return None
    return float(stamp * Fraction(packet.time_base))
