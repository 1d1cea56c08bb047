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
before) are left out too, since the end of that GOP was not decoded.

A GOP longer than MAX_GOP_SECONDS is not sampled by the rule: a stream whose packets carry no
keyframe flag (or an encode with one keyframe only, such as x264's ``keyint=infinite``) is one
GOP from its start, and the rule would decode its first third only. Once no keyframe has come for
MAX_GOP_SECONDS, the GOP's packets held so far and every packet after them up to the next
keyframe go to the decoder (reference frames only, the ``reference`` mode's cost), so the whole
video is covered; the file is named in a log warning. The packets held stay bounded too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import av

from videosearch.indexer.media.keyframe_spacing import shown_seconds as _seconds

log = logging.getLogger(__name__)

PREFIX_SHARE = 1 / 3
SPACING_SECONDS = 2.0
MAX_GOP_SECONDS = 20.0
"""The longest keyframe interval the rule samples: twice x264's default (250 frames, 10 s at
25 fps); cameras and phones put keyframes 0.5-2 s apart. Longer, the stream is taken for one
without keyframe flags (see the module doc)."""


@dataclass(frozen=True)
class GopPrefix:
    """The rule above, its constants as fields (tests and benches may vary them)."""

    share: float = PREFIX_SHARE
    spacing: float = SPACING_SECONDS
    longest_gop: float = MAX_GOP_SECONDS

    def prefix_seconds(self, gop_seconds: float) -> float:
        """How long after its keyframe a GOP of ``gop_seconds`` is decoded."""
        return max(0.0, min(self.share * gop_seconds, gop_seconds - self.spacing))

    def packets(self, demuxed: Iterable[av.Packet], video_index: int) -> Iterator[av.Packet]:
        """``demuxed`` with the video packets the rule leaves out dropped; other streams'
        packets pass as they come, video packets once their GOP's length is known."""
        gop: list[av.Packet] = []  # the open GOP's video packets, keyframe first
        unbounded = False  # no keyframe for longest_gop seconds: packets pass until the next one
        for packet in demuxed:
            if packet.stream.index != video_index:
                yield packet
                continue
            if not packet.size:  # the demuxer's last, empty packet: the decoder's cue to flush
                if gop:
                    yield from self._decoded_part(gop, None)
                gop, unbounded = [], False
                yield packet
                continue
            if packet.is_keyframe or not (gop or unbounded):  # (a first packet not marked key starts one too)
                if gop:
                    yield from self._decoded_part(gop, _seconds(packet))
                gop, unbounded = [packet], False
                continue
            if unbounded:
                yield packet
                continue
            gop.append(packet)
            start, now = _seconds(gop[0]), _seconds(packet)
            if start is not None and now is not None and now - start > self.longest_gop:
                log.warning(
                    "%s: no keyframe for %.0f s from %.1f s (its packets carry no keyframe flags, or the "
                    "encoder made none); the sparse mode decodes its reference frames from there to the "
                    "next keyframe, at the reference mode's cost",
                    packet.stream.container.name,
                    self.longest_gop,
                    start,
                )
                yield gop[0]
                yield from (p for p in gop[1:] if not _leading(p, start))
                gop, unbounded = [], True
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
            if not _leading(packet, start):
                yield packet


def _leading(packet: av.Packet, keyframe_seconds: float) -> bool:
    """Whether the packet's frame is shown before its GOP's keyframe: an open GOP's leading
    picture, which refers to the GOP before (whose end was not decoded)."""
    shown = _seconds(packet)
    return shown is not None and shown < keyframe_seconds
