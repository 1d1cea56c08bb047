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
keyframe flag (or an encode with one keyframe only, such as x264's ``keyint=infinite``, or intra
refresh, whose flagged recovery points are no keyframes here: videosearch.indexer.media.keyframe_kinds)
is one GOP from its start, and the rule would decode its first third only. Once no keyframe has
come for MAX_GOP_SECONDS, the GOP's packets held so far and every packet after them up to the next
keyframe go to the decoder (reference frames only, the ``reference`` mode's cost: the run-on), so
the whole video is covered; the file is named in a log warning. The packets held stay bounded too.

The video's last GOP has no next keyframe to close it, so what its prefix leaves out is never seen:
a 15 s clip with one keyframe was sampled for its first 5 s only. A last GOP longer than
LAST_GOP_SECONDS and than every GOP before it is run on to the video's end in the same way; one no
longer than the GOPs before it (the encoder's own interval) is sampled as they were.

The ``keyframes`` mode is the same rule with no prefix (``share`` 0: each GOP's keyframe only, the
rest never handed to the decoder); its run-on switches the codec from keyframes only to reference
frames (``run_on``) for the stretch, which works since the decoder has seen none of its packets
(measured: pixel-identical to a full decode, frame threads or none).

A keyframe that does not reset the decoder (an HEVC CRA, an H.264 open-GOP I-frame) reached after
packets were left out is preceded by ``None``: the decoder is to be restarted there (see
videosearch.indexer.media.keyframe_kinds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import av

from videosearch.indexer.media.keyframe_kinds import RESTART, KeyframeKinds
from videosearch.indexer.media.keyframe_spacing import shown_seconds as _seconds

log = logging.getLogger(__name__)

PREFIX_SHARE = 1 / 3
SPACING_SECONDS = 2.0
MAX_GOP_SECONDS = 20.0
"""The longest keyframe interval the rule samples: twice x264's default (250 frames, 10 s at
25 fps); cameras and phones put keyframes 0.5-2 s apart. Longer, the stream is taken for one
without keyframe flags (see the module doc)."""
LAST_GOP_SECONDS = 10.0
"""The longest last GOP sampled whatever came before: x264's and x265's default keyframe interval
(250 frames at 25 fps). Its prefix leaves at most 2/3 of it, 6.7 s, unseen at the video's end, the
rule's bound for such GOPs anywhere else; a longer last GOP is sampled only when GOPs as long came
before it (an encoder's interval: 250 frames at 15 fps is 16.7 s)."""


@dataclass(frozen=True)
class GopPrefix:
    """The rule above, its constants as fields (tests and benches may vary them); ``mode`` names
    the decode mode in the log warning."""

    share: float = PREFIX_SHARE
    spacing: float = SPACING_SECONDS
    longest_gop: float = MAX_GOP_SECONDS
    longest_last_gop: float = LAST_GOP_SECONDS
    mode: str = "sparse"

    def prefix_seconds(self, gop_seconds: float) -> float:
        """How long after its keyframe a GOP of ``gop_seconds`` is decoded."""
        return max(0.0, min(self.share * gop_seconds, gop_seconds - self.spacing))

    def packets(
        self,
        demuxed: Iterable[av.Packet],
        video_index: int,
        kinds: KeyframeKinds | None = None,
        run_on: Callable[[bool], None] | None = None,
    ) -> Iterator[av.Packet | None]:
        """``demuxed`` with the video packets the rule leaves out dropped; other streams'
        packets pass as they come, video packets once their GOP's length is known. ``kinds``
        tells the keyframes to restart the decoder at (a ``None`` comes before them);
        ``run_on(True)`` is called before a run-on stretch is handed over, ``run_on(False)``
        after it (the keyframes mode's switch of the codec's skip_frame)."""
        gop: list[av.Packet] = []  # the open GOP's video packets, keyframe first
        restart = False  # whether the open GOP's keyframe is to restart the decoder
        running = False  # no keyframe for longest_gop seconds: packets pass until the next one
        longest = 0.0  # the longest GOP closed so far, seconds
        for packet in demuxed:
            if packet.stream.index != video_index:
                yield packet
                continue
            if not packet.size:  # the demuxer's last, empty packet: the decoder's cue to flush
                if gop:
                    yield from self._last_part(gop, restart, longest, run_on)
                gop, running = [], False
                yield packet
                continue
            if packet.is_keyframe or not (gop or running):  # (a first packet not marked key starts one too)
                # The decoder jumps here unless this keyframe follows a run-on (or starts the video).
                jumped = bool(gop)
                if gop:
                    start, end = _seconds(gop[0]), _seconds(packet)
                    if start is not None and end is not None:
                        longest = max(longest, end - start)
                    yield from self._decoded_part(gop, end, restart)
                elif running:
                    longest = max(longest, self.longest_gop)
                    if run_on is not None:
                        run_on(False)
                restart = jumped and kinds is not None and kinds.kind(packet) == RESTART
                gop, running = [packet], False
                continue
            if running:
                yield packet
                continue
            gop.append(packet)
            start, now = _seconds(gop[0]), _seconds(packet)
            if start is not None and now is not None and now - start > self.longest_gop:
                log.warning(
                    "%s: no keyframe for %.0f s from %.1f s (its packets carry no keyframe flags, or the "
                    "encoder made none); the %s mode decodes its reference frames from there to the "
                    "next keyframe, at the reference mode's cost",
                    packet.stream.container.name,
                    self.longest_gop,
                    start,
                    self.mode,
                )
                yield from self._run_on(gop, restart, run_on)
                gop, running = [], True
        if gop:
            yield from self._last_part(gop, restart, longest, run_on)

    def _last_part(
        self, gop: list[av.Packet], restart: bool, longest: float, run_on: Callable[[bool], None] | None
    ) -> Iterator[av.Packet | None]:
        """The video's last GOP: sampled by the rule, or run on to its end when longer than
        ``longest_last_gop`` and than every GOP before it (``longest`` seconds)."""
        start = _seconds(gop[0])
        end = max((t for t in map(_seconds, gop) if t is not None), default=start)
        if start is None or end is None or end - start <= max(self.longest_last_gop, longest):
            yield from self._decoded_part(gop, None, restart)
            return
        log.warning(
            "%s: its last %.1f s from %.1f s have no keyframe (longer than %.0f s and than the keyframe "
            "intervals before); the %s mode decodes their reference frames to the end, at the reference mode's cost",
            gop[0].stream.container.name,
            end - start,
            start,
            max(self.longest_last_gop, longest),
            self.mode,
        )
        yield from self._run_on(gop, restart, run_on)

    @staticmethod
    def _run_on(
        gop: list[av.Packet], restart: bool, run_on: Callable[[bool], None] | None
    ) -> Iterator[av.Packet | None]:
        """The GOP's packets held so far, all (but the leading pictures), reference frames decoded."""
        if run_on is not None:
            run_on(True)
        if restart:
            yield None
        start = _seconds(gop[0])
        yield gop[0]
        yield from (p for p in gop[1:] if start is None or not _leading(p, start))

    def _decoded_part(
        self, gop: list[av.Packet], next_keyframe: float | None, restart: bool
    ) -> Iterator[av.Packet | None]:
        start = _seconds(gop[0])
        if restart:
            yield None
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


def for_mode(mode: str) -> GopPrefix | None:
    """The rule a decode mode applies: sparse's prefix, the keyframes mode's none (keyframes
    only, with the run-on), no rule for the modes that hand the decoder every packet."""
    if mode == "sparse":
        return GopPrefix()
    if mode == "keyframes":
        return GopPrefix(share=0.0, mode=mode)
    return None


def _leading(packet: av.Packet, keyframe_seconds: float) -> bool:
    """Whether the packet's frame is shown before its GOP's keyframe: an open GOP's leading
    picture, which refers to the GOP before (whose end was not decoded)."""
    shown = _seconds(packet)
    return shown is not None and shown < keyframe_seconds
