"""The ``sparse`` decode mode: each keyframe, and the reference frames of the first part of its
GOP only.

Why a prefix: a frame inside a GOP can only be decoded after every reference frame before it
in the GOP, so a frame k seconds after a keyframe costs the whole reference chain up to it.
Measured on the fast-mode bench's H.264 file (x264 High, 3 B-frames in a pyramid, GOP up to
250 frames) with ``python bench/index/decode_costs.py`` (docs/performance.md, "Fast mode: goals
and what it costs"), per frame decoded: I 26 ms, P 4.9 ms, reference B 1.4 ms, other B 1.2 ms;
P-frames are 58 % of a full decode, all reference frames 78 %, keyframes 6 %. So samples at a
fixed spacing all through a long GOP cost nearly what ``reference`` does, and the cheap frames
to add to the keyframes are the reference frames just after each keyframe.

The rule, per GOP of G seconds (keyframe to next keyframe; the GOP's packets are read ahead,
which decodes nothing)::

    prefix = min(PREFIX_SHARE * G, G - SPACING_SECONDS)    (none when G <= SPACING_SECONDS)

The keyframe and the reference frames shown within ``prefix`` seconds of it are decoded
(``skip_frame`` NONREF leaves out the others); the rest of the GOP is never handed to the
decoder. Hence two bounds, whatever the video:

* cost: at most PREFIX_SHARE of the reference frames besides the keyframes;
* spacing: consecutive decoded frames are at most ``max(SPACING_SECONDS, G - prefix)`` apart,
  that is ``max(2 s, 2/3 G)``: keyframes closer than 2 s apart are samples enough on their own.

Frames shown before their keyframe (an open GOP's leading pictures, which refer to the GOP
before) are left out too, since the end of that GOP was not decoded. A GOP longer than
MAX_LOOKAHEAD_SECONDS is judged by its first MAX_LOOKAHEAD_SECONDS, so the packets held in
memory stay bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import av

PREFIX_SHARE = 1 / 3
SPACING_SECONDS = 2.0
MAX_LOOKAHEAD_SECONDS = 30.0


@dataclass(frozen=True)
class GopPrefix:
    """The rule above, its constants as fields (tests and benches may vary them)."""

    share: float = PREFIX_SHARE
    spacing: float = SPACING_SECONDS
    lookahead: float = MAX_LOOKAHEAD_SECONDS

    def prefix_seconds(self, gop_seconds: float) -> float:
        """How long after its keyframe a GOP of ``gop_seconds`` is decoded."""
        return max(0.0, min(self.share * gop_seconds, gop_seconds - self.spacing))

    def packets(self, demuxed: Iterable[av.Packet], video_index: int) -> Iterator[av.Packet]:
        """``demuxed`` with the video packets the rule leaves out dropped; other streams'
        packets pass as they come, video packets once their GOP's length is known."""
        gop: list[av.Packet] = []  # the open GOP's video packets, keyframe first
        past_lookahead = False  # the open GOP was judged already: the rest of it is dropped
        for packet in demuxed:
            if packet.stream.index != video_index:
                yield packet
                continue
            if not packet.size:  # the demuxer's last, empty packet: the decoder's cue to flush
                if gop:
                    yield from self._decoded_part(gop, None)
                gop, past_lookahead = [], True
                yield packet
                continue
            if packet.is_keyframe or not (gop or past_lookahead):  # (a first packet not marked key starts one too)
                if gop:
                    yield from self._decoded_part(gop, _seconds(packet))
                gop, past_lookahead = [packet], False
                continue
            if past_lookahead:
                continue
            gop.append(packet)
            start, now = _seconds(gop[0]), _seconds(packet)
            if start is not None and now is not None and now - start > self.lookahead:
                yield from self._decoded_part(gop, now)
                gop, past_lookahead = [], True
        if gop:
            yield from self._decoded_part(gop, None)

    def _decoded_part(self, gop: list[av.Packet], next_keyframe: float | None) -> Iterator[av.Packet]:
        start = _seconds(gop[0])
        yield gop[0]
        if start is None:
            return
        if next_keyframe is None:  # the last GOP: as long as its packets reach
            next_keyframe = max((t for t in map(_seconds, gop) if t is not None), default=start)
        limit = start + self.prefix_seconds(next_keyframe - start)
        for packet in gop[1:]:  # in decode order: stop at the first frame shown past the prefix,
            shown = _seconds(packet)  # so every frame kept refers only to frames kept before it
            if shown is not None and shown > limit:
                return
            if shown is None or shown >= start:  # leading pictures refer to the GOP before
                yield packet


def _seconds(packet: av.Packet) -> float | None:
    """When the packet's frame is shown (its decode time where it has no presentation time)."""
    stamp = packet.pts if packet.pts is not None else packet.dts
    if stamp is None or packet.time_base is None:
        return None
    return float(stamp * Fraction(packet.time_base))
