"""Keyframes thinned out for the fast modes: intra-only video (MJPEG, ProRes, DNxHD, FFV1,
all-intra H.264) has every frame a keyframe, so "keyframes only" would decode every frame.

Since each keyframe decodes on its own, a keyframe that comes less than the mode's
KEYFRAME_SPACING_SECONDS after the last one kept is dropped before the decoder sees it, with the packets after it up to
the next keyframe (they may refer to it; in the fast modes they would be skipped anyway). The
decoded frames are then about that spacing apart, and cuts land at the nearest decoded frame as
in the other fast modes (videosearch.indexer.media.scenes). Video whose keyframes are further
apart is not changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction

import av

KEYFRAME_SPACING_SECONDS = {"sparse": 0.25, "keyframes": 1.0}
"""The closest each fast mode decodes two keyframes. ``keyframes``, the fastest first pass: one
a second, since the Indexer samples one frame per second for CLIP by default
(videosearch.indexer.media.sampling), so denser keyframes add no sample, only cut precision.
``sparse``: four a second, since the cut detector compares each decoded frame with the one before
and a second's motion or fade step reads as a cut: on the shared fades.mp4 (no cut) keyframes
1 s apart gave 8 false cuts, 0.5 s 5, 0.25 s none; a cut lands at most 0.125 s from its frame.
Keyframes that far apart or further (x264's 10 s, phones' 1 s) are all kept, give or take
SPACING_TOLERANCE."""
SPACING_TOLERANCE = 0.05
"""The share of the spacing a keyframe may fall short of it by: a GOP of 29 frames at 30 fps
(0.967 s) is kept whole in keyframes mode, not every other one."""


def spaced_keyframes(demuxed: Iterable[av.Packet], video_index: int, spacing: float) -> Iterator[av.Packet]:
    """``demuxed`` with the video keyframes closer than ``spacing`` seconds (less the
    tolerance) to the last one kept dropped, each with the packets after it up to the next
    keyframe; other streams' packets, and the demuxer's last empty packet, pass as they come."""
    last_kept: float | None = None
    dropping = False  # inside the GOP of a dropped keyframe
    closest = spacing * (1 - SPACING_TOLERANCE)
    for packet in demuxed:
        if packet.stream.index != video_index or not packet.size:
            yield packet
            continue
        if packet.is_keyframe:
            shown = shown_seconds(packet)
            dropping = last_kept is not None and shown is not None and shown - last_kept < closest
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
