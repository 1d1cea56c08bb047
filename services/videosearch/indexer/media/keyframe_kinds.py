"""Which of the packets a demuxer flags as keyframes the fast modes may jump to.

The fast modes (sparse, keyframes) leave frames out and go on at the next keyframe. That is only
right where the keyframe's picture decodes without the frames left out, and the container's
keyframe flag does not promise it: FFmpeg's H.264 parser, and so the MP4 muxer, flags every
picture with a recovery point SEI. Three kinds of flagged packet, told apart by the NAL units
in the packet (H.264 and HEVC; other codecs keep the container's flag):

* ``RESET``: a picture that starts the decoder afresh (H.264 IDR, HEVC IDR and BLA). The
  decoder may jump to it from anywhere: x264's and x265's closed GOPs, phones, cameras.
* ``RESTART``: an intra picture that does not reset the decoder's picture order count (an H.264
  I-frame with a recovery point: x264 ``open-gop``, Blu-ray; an HEVC CRA: x265's default). The
  picture decodes on its own, but after skipped frames the decoder infers the wrong order:
  measured, keyframes mode delivered 3 of the 15 keyframes of x264 ``open-gop:keyint=50``
  (30 s, 160x120), in reverse order, and 10 s, 0 s, 20 s of x265's default 40 s clip (CRA every
  10 s; the one at 30 s lost). The decoder is restarted before such a keyframe (drained, then
  flushed, as after a seek), which delivers every keyframe in order at the full decode's pixels.
* ``INNER``: a P- or B-picture flagged as a keyframe (H.264 intra refresh: x264
  ``intra-refresh=1``, video-call and broadcast encoders, whose recovery points are P-frames;
  the picture refers to the frames before it). Decoded after skipped frames it refers to the
  wrong pictures (mean difference 20/255 from a full decode on a 160x120 ``testsrc2`` clip);
  after a restart the decoder shows nothing until a whole refresh has passed. Its flag is
  cleared (``independent_keyframes``), so the stream is one long GOP, which the GOP rule decodes
  on (videosearch.indexer.media.gop_prefix).

A packet whose NAL units cannot be read keeps its flag as a ``RESET`` (what every flagged packet
was before these kinds existed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import av

RESET, RESTART, INNER = "reset", "restart", "inner"
_H264_IDR, _H264_SLICE, _H264_PARTITION_A = 5, 1, 2
_H264_INTRA_SLICES = frozenset({2, 4})  # slice_type % 5: I, SI
_HEVC_RESETS = frozenset({16, 17, 18, 19, 20, 22, 23})  # BLA (3 kinds), IDR (2), reserved IRAP
_HEVC_CRA = 21
_HEVC_FIRST_NON_VCL = 32


class KeyframeKinds:
    """The kind of a flagged packet of one video stream (see the module doc)."""

    def __init__(self, codec_context: av.CodecContext) -> None:
        self._codec = codec_context.name
        self._length_size = _nal_length_size(self._codec, bytes(codec_context.extradata or b""))

    @property
    def checked(self) -> bool:
        """Whether this codec's keyframes are told apart (H.264 and HEVC); others are RESET."""
        return self._codec in ("h264", "hevc")

    def kind(self, packet: av.Packet) -> str:
        if not self.checked:
            return RESET
        for nal in _nal_units(bytes(packet), self._length_size):
            kind = _h264_kind(nal) if self._codec == "h264" else _hevc_kind(nal)
            if kind is not None:  # the first picture's NAL decides
                return kind
        return RESET


def independent_keyframes(demuxed: Iterable[av.Packet], video_index: int, kinds: KeyframeKinds) -> Iterator[av.Packet]:
    """``demuxed`` with the keyframe flag cleared on the video packets of kind INNER."""
    for packet in demuxed:
        if packet.stream.index == video_index and packet.size and packet.is_keyframe and kinds.kind(packet) == INNER:
            packet.is_keyframe = False
        yield packet


def _nal_length_size(codec: str, extradata: bytes) -> int | None:
    """The size of the NAL length fields (MP4, MKV: avcC/hvcC extradata), None for start codes."""
    if not extradata or extradata[0] != 1:
        return None
    if codec == "h264" and len(extradata) > 4:
        return (extradata[4] & 3) + 1
    if codec == "hevc" and len(extradata) > 21:
        return (extradata[21] & 3) + 1
    return None


def _nal_units(data: bytes, length_size: int | None) -> Iterator[bytes]:
    """The packet's NAL units (each from its header byte), length-prefixed or after start codes."""
    if length_size is not None and not data.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        at = 0
        while at + length_size < len(data):
            size = int.from_bytes(data[at : at + length_size], "big")
            at += length_size
            if size <= 0 or at + size > len(data):
                return
            yield data[at : at + size]
            at += size
        return
    at = data.find(b"\x00\x00\x01")
    while at >= 0:
        start = at + 3
        at = data.find(b"\x00\x00\x01", start)
        yield data[start : at if at >= 0 else len(data)]


def _h264_kind(nal: bytes) -> str | None:
    """The kind of an H.264 picture's first slice; None for a NAL unit that is no slice."""
    if not nal:
        return None
    nal_type = nal[0] & 31
    if nal_type == _H264_IDR:
        return RESET
    if nal_type not in (_H264_SLICE, _H264_PARTITION_A):
        return None
    # The slice header starts first_mb_in_slice ue(v), slice_type ue(v); emulation prevention
    # bytes (00 00 03) are taken out of the few bytes read.
    bits = _Bits(nal[1:24].replace(b"\x00\x00\x03", b"\x00\x00"))
    bits.golomb()
    slice_type = bits.golomb()
    if slice_type is None:
        return RESET
    return RESTART if slice_type % 5 in _H264_INTRA_SLICES else INNER


def _hevc_kind(nal: bytes) -> str | None:
    """The kind of an HEVC picture's first slice; None for a NAL unit that is no slice."""
    if len(nal) < 2:
        return None
    nal_type = (nal[0] >> 1) & 63
    if nal_type >= _HEVC_FIRST_NON_VCL:
        return None
    if nal_type in _HEVC_RESETS:
        return RESET
    return RESTART if nal_type == _HEVC_CRA else INNER


class _Bits:
    """Exp-Golomb codes read from the front of a few bytes."""

    def __init__(self, data: bytes) -> None:
        self._value, self._left = int.from_bytes(data, "big"), 8 * len(data)

    def _take(self, count: int) -> int | None:
        if count > self._left:
            return None
        self._left -= count
        return (self._value >> self._left) & ((1 << count) - 1)

    def golomb(self) -> int | None:
        zeros = 0
        while (bit := self._take(1)) == 0:
            zeros += 1
        if bit is None:
            return None
        rest = self._take(zeros)
        return None if rest is None else (1 << zeros) - 1 + rest
