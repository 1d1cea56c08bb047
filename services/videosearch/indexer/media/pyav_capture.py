"""The Indexer's second decoder: FFmpeg through PyAV, which, unlike OpenCV's FFmpeg backend,
hands codec options to the codec (``skip_loop_filter``, ``lowres``, the thread type) and can
convert a frame to BGR at a smaller size in the same swscale pass that converts its colours.

``PyAVCapture`` answers the calls sequential reading makes of a ``cv2.VideoCapture`` (``grab``,
``retrieve``, ``read``, ``get(CAP_PROP_POS_MSEC)``, ``release``), so the reading code is one for
both decoders. It does not seek: code that seeks (thumbnails read back) opens OpenCV. Its
frames are OpenCV's: the same decoded pictures in the same order, converted to
BGR by the same swscale conversion (pixel-identical on the shared videos), rotated as players
show them (OpenCV's ``CAP_PROP_ORIENTATION_AUTO``), with each frame's presentation time
relative to the stream's start (``CAP_PROP_POS_MSEC``). What differs is only what the settings
ask for: frames shrunk by an integer factor (``shrink``; decoded at reduced resolution first
where ``lowres`` is on and the codec has it), or decoded without the in-loop deblocking filter.

``nvdec`` decodes on the GPU (videosearch.indexer.media.nvdec): where torch has the CUDA device the
frames stay on it until they are shrunk and converted (videosearch.indexer.media.device_frames),
else they come to the host as NV12 and are converted here. A file NVDEC cannot decode is decoded
in software (``hardware`` says which, ``software_reason`` why): FFmpeg falls back by itself where
the codec has NVDEC but not this profile, chroma format or size; a device that fails to open for
this file is reopened in software. FFmpeg's ``skip_frame`` acts in the codec's parser before the
hardware is handed a picture, and draining and flushing reset NVDEC as they reset software, so
the decode modes are the same with it.

This module knows nothing of the Indexer's types: it raises ``CannotDecode`` and reports raw
facts (``StreamFacts``); videosearch.indexer.media.video_file turns them into its errors and VideoInfo.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import cv2
import numpy as np
from av.codec.hwaccel import HWAccel

from videosearch.indexer.media import device_frames
from videosearch.indexer.media.gop_prefix import GopPrefix
from videosearch.indexer.media.keyframe_kinds import KeyframeKinds, independent_keyframes
from videosearch.indexer.media.keyframe_spacing import SPACING_TOLERANCE, spaced_keyframes

LOWRES_CODECS = frozenset(
    {
        "mpeg4",
        "mpeg1video",
        "mpeg2video",
        "mjpeg",
        "h263",
        "h263p",
        "msmpeg4v1",
        "msmpeg4v2",
        "msmpeg4",
        "wmv1",
        "wmv2",
        "flv",
        "jpeg2000",
    }
)
"""FFmpeg decoders that can decode at 1/2, 1/4 or 1/8 size (``max_lowres`` > 0); H.264, HEVC,
VP9 and AV1 cannot."""
log = logging.getLogger(__name__)
MAX_LOWRES = 3
MAX_BAD_PACKETS = 5  # packets in a row that fail to decode before the stream counts as ended, as OpenCV's retries
_ROTATIONS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


class CannotDecode(Exception):
    """PyAV cannot open the file, finds no video stream in it, or decodes no frame."""


@dataclass(frozen=True)
class StreamFacts:
    """What the container says of the video stream (frame sizes are as stored, before rotation)."""

    codec: str
    fps: Fraction | None
    frame_count: int
    width: int
    height: int
    sample_aspect: Fraction | None
    rotation: int  # degrees counter-clockwise to show the frame as players do: 0, 90, 180 or 270


def lowres_level(codec: str, shrink: int) -> int:
    """How many halvings the codec itself may decode at: the most that keep within ``shrink``."""
    if codec not in LOWRES_CODECS or shrink < 2:
        return 0
    return min(MAX_LOWRES, int(math.log2(shrink)))


def shrunk_bgr(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """``frame`` as BGR at width x height (smaller): for 4:2:0 video, its planes are shrunk with
    a box filter (cv2 INTER_AREA) before the colour conversion, so the conversion runs on the
    small picture; measured on 720p, this costs less than converting at full size alone
    (docs/performance.md, "Decoding"). NV12 (NVDEC's frames, downloaded) takes the same path from
    its planes as they lie. Other pixel formats go through swscale's area filter."""
    w, h = frame.width, frame.height
    # The planes are addressed in rows of the luma width: heights must divide by 4, widths by 2.
    if frame.format.name not in ("yuv420p", "nv12") or (h | height) & 3 or (w | width) & 1:
        if frame.format.name == "nv12":  # swscale's NV12 input filters chroma otherwise than its yuv420p
            frame = frame.reformat(format="yuv420p")
        return frame.reformat(width, height, "bgr24", interpolation="AREA").to_ndarray()
    small = np.empty((height * 3 // 2, width), np.uint8)
    if frame.format.name == "nv12":
        luma, chroma = _nv12_planes(frame)
    else:
        planes = frame.to_ndarray(format="yuv420p")  # Y (h rows of w), then U and V (h/4 rows of w each)
        luma = planes[:h]
        chroma = [planes[h + i * h // 4 : h + (i + 1) * h // 4].reshape(h // 2, w // 2) for i in range(2)]
    cv2.resize(luma, (width, height), dst=small[:height], interpolation=cv2.INTER_AREA)
    for i in range(2):  # U, then V: (h/2, w/2) pictures shrunk to (height/2, width/2)
        shrunk = cv2.resize(chroma[i], (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        small[height + i * height // 4 : height + (i + 1) * height // 4] = shrunk.reshape(height // 4, width)
    return cv2.cvtColor(small, cv2.COLOR_YUV2BGR_I420)


def _nv12_planes(frame: av.VideoFrame) -> tuple[np.ndarray, list[np.ndarray]]:
    """An NV12 frame's Y plane (a view, padded rows skipped) and its U and V planes, split out of
    the interleaved UV plane: shrinking UV as one two-channel picture rounds differently from
    shrinking U and V apart (up to 3 levels in BGR on the shared videos), which yuv420p does."""
    w, h = frame.width, frame.height
    luma, chroma = frame.planes[0], frame.planes[1]
    y = np.frombuffer(luma, np.uint8).reshape(h, luma.line_size)[:, :w]
    uv = np.frombuffer(chroma, np.uint8).reshape(h // 2, chroma.line_size)[:, :w].reshape(h // 2, w // 2, 2)
    return y, list(cv2.split(uv))


class PyAVCapture:
    """One video file decoded with PyAV (see the module doc). ``shrink`` is a function of the
    shown (height, width) giving the integer factor frames may come shrunk by (1: full size);
    ``skip_frame`` is FFmpeg's AVDiscard setting: NONREF or NONKEY decode only reference
    frames or keyframes (videosearch.indexer.media.decoding's decode modes); ``keyframe_spacing``
    (seconds) drops keyframes closer than that to the last one kept, with their GOPs (intra-only
    video in the sparse and keyframes modes, videosearch.indexer.media.keyframe_spacing);
    ``gop_prefix`` hands the decoder only the first part of each GOP (the sparse mode; the
    keyframes mode's keyframes, videosearch.indexer.media.gop_prefix), after the keyframes that
    are none clear their flag (videosearch.indexer.media.keyframe_kinds); ``frame_spacing``
    (seconds) drops decoded frames shown closer than that to the last one delivered (the
    keyframes mode's run-on stretches: a stream without keyframes decoded at a frame a second);
    ``nvdec`` decodes with NVDEC where it can (see the module doc)."""

    def __init__(
        self,
        path: str,
        *,
        threads: int = 0,
        thread_type: str = "auto",
        skip_loop_filter: bool = False,
        lowres: bool = False,
        shrink=None,
        side_streams=None,
        skip_frame: str = "DEFAULT",
        gop_prefix: GopPrefix | None = None,
        keyframe_spacing: float | None = None,
        frame_spacing: float | None = None,
        nvdec: bool = False,
    ) -> None:
        self.software_reason = "" if nvdec else "hardware decoding is off"
        self._path = path
        self._container = self._opened(path, nvdec)
        try:
            if not self._container.streams.video:
                raise CannotDecode("it has no video stream")
            self._stream = stream = self._container.streams.video[0]
            context = stream.codec_context
            self._pending: deque[av.VideoFrame] = deque()
            # Subtitle and audio packets are demuxed in the same read and handed to
            # ``side_streams`` (videosearch.indexer.text.side_streams), never decoded here.
            self._side = side_streams if side_streams is not None and side_streams.active else None
            start_seconds = float((stream.start_time or 0) * stream.time_base) if stream.time_base else 0.0
            extra = self._side.select(self._container, start_seconds) if self._side is not None else []
            self._packets: Iterator[av.Packet | None] = self._container.demux(stream, *extra)
            kinds = KeyframeKinds(context)
            if (keyframe_spacing is not None or gop_prefix is not None) and kinds.checked:
                # The fast modes jump to keyframes: packets flagged key that are none lose the flag.
                self._packets = independent_keyframes(self._packets, stream.index, kinds)
            if keyframe_spacing is not None:  # intra-only video: not every frame a keyframe is decoded
                self._packets = spaced_keyframes(self._packets, stream.index, keyframe_spacing)
            if gop_prefix is not None:  # the sparse mode: only each GOP's first part reaches the decoder
                self._packets = gop_prefix.packets(self._packets, stream.index, kinds, self._run_on)
            self._skip_frame = skip_frame
            self._closest = frame_spacing * (1 - SPACING_TOLERANCE) if frame_spacing is not None else None
            self._last_shown: float | None = None
            self._bad_packets = 0
            self._ended = False
            self.facts = self._facts(stream)
            stream.thread_type = thread_type.upper()
            context.thread_count = threads
            # Asked with the stored size: the rotation is known only from the first frame, and
            # a shrink factor (the same on both axes) does not depend on which side is up.
            factor = max(1, int(shrink(self.facts.height, self.facts.width))) if shrink is not None else 1
            options = {}
            if skip_loop_filter:
                options["skip_loop_filter"] = "all"
            level = lowres_level(self.facts.codec, factor) if lowres else 0
            if level:
                options["lowres"] = str(level)
            context.options = options
            # The fast mode: the codec itself skips the frames it need not decode (the first
            # frame is a keyframe, so it is always decoded).
            context.skip_frame = skip_frame
            # Frames as stored, shrunk: the size swscale converts them to (None: as decoded).
            self._size = (self.facts.width // factor, self.facts.height // factor) if factor > 1 else None
            self._time_base = stream.time_base
            self._start = stream.start_time or 0
            self._frame: av.VideoFrame | None = None
        except BaseException:
            self._container.close()
            raise

    def _opened(self, path: str, nvdec: bool) -> av.container.InputContainer:
        """``path`` opened for decoding, with NVDEC where asked: a device that does not open for
        this file (out of memory, lost) leaves the file to software rather than failing it."""
        if nvdec:
            # Frames stay on the GPU where torch can convert them there (device_frames). The
            # device's primary context is shared (with torch too), where each file would
            # otherwise create and destroy a CUDA context of its own.
            hwaccel = HWAccel(
                "cuda",
                allow_software_fallback=True,
                options={"primary_ctx": "1"},
                is_hw_owned=device_frames.available(),
            )
            try:
                return av.open(path, mode="r", hwaccel=hwaccel)
            except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
                # (or the file itself is bad: then the software open below says so)
                self.software_reason = f"the CUDA device did not open for this file ({exc})"
        try:
            return av.open(path, mode="r")
        except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
            raise CannotDecode("no demuxer accepts it") from exc

    @property
    def hardware(self) -> bool:
        """Whether NVDEC decodes this file: the codec's NVDEC set up and its pictures in CUDA
        memory (known from the first frame on; FFmpeg falls back to software at that frame)."""
        context = self._stream.codec_context
        return context.is_hwaccel and context.format is not None and context.format.name == "cuda"

    @staticmethod
    def _facts(stream) -> StreamFacts:
        rate = stream.guessed_rate or stream.average_rate
        frame_count = int(stream.frames or 0)
        if not frame_count and stream.duration and rate:
            frame_count = int(round(stream.duration * stream.time_base * rate))
        context = stream.codec_context
        sar = stream.sample_aspect_ratio or context.sample_aspect_ratio
        return StreamFacts(
            codec=context.name,
            fps=Fraction(rate) if rate else None,
            frame_count=frame_count,
            width=int(context.width),
            height=int(context.height),
            sample_aspect=Fraction(sar) if sar else None,
            rotation=0,
        )

    def _run_on(self, on: bool) -> None:
        """A stretch without keyframes is decoded reference frames and all (gop_prefix's run-on);
        the decoder has seen none of its packets, so the switch changes no pixel."""
        self._stream.codec_context.skip_frame = "NONREF" if on else self._skip_frame

    def _restarted(self) -> list[av.VideoFrame]:
        """The decoder drained of its frames and flushed, as after a seek: the next keyframe
        does not reset it (videosearch.indexer.media.keyframe_kinds)."""
        context = self._stream.codec_context
        try:
            frames = context.decode(None)
        except av.FFmpegError:
            frames = []
        context.flush_buffers()
        return frames

    def _spaced(self, frames: list[av.VideoFrame]) -> list[av.VideoFrame]:
        """``frames`` less those shown closer than ``frame_spacing`` to the last one kept."""
        if self._closest is None:
            return frames
        kept = []
        for frame in frames:
            shown = float(frame.pts * self._time_base) if frame.pts is not None else None
            if shown is not None and self._last_shown is not None and shown - self._last_shown < self._closest:
                continue
            if shown is not None:
                self._last_shown = shown
            kept.append(frame)
        return kept

    def read_first(self) -> np.ndarray:
        """Decodes frame 0 (its rotation completes ``facts``) and returns it as ``retrieve`` would."""
        if not self.grab() or self._frame is None:  # (grab() says whether it holds a frame)
            raise CannotDecode("0 frames decoded")
        rotation = int(self._frame.rotation or 0) % 360
        self.facts = dataclasses.replace(self.facts, rotation=rotation)
        if not self.software_reason and not self.hardware:
            context = self._stream.codec_context
            self.software_reason = (
                f"NVDEC cannot decode this {self.facts.codec} stream ({context.profile or 'its profile'}, "
                f"{self.facts.width}x{self.facts.height})"
                if context.is_hwaccel
                else f"NVDEC has no decoder for {self.facts.codec}"
            )
            log.info("decoding %s in software: %s", self._path, self.software_reason)
        _, pixels = self.retrieve()
        assert pixels is not None  # a grabbed frame is retrieved
        return pixels

    def _decoded(self) -> list[av.VideoFrame]:
        """The frames of the next packet that decodes (the decoder's last frames at the end)."""
        while True:
            try:
                packet = next(self._packets)
            except StopIteration:
                return []
            except av.FFmpegError:  # the container is broken from here on
                return []
            if packet is None:  # a keyframe the decoder must restart at comes next
                if frames := self._spaced(self._restarted()):
                    return frames
                continue
            if self._side is not None and packet.stream.index != self._stream.index:
                self._side.feed(packet)
                continue
            try:
                frames = packet.decode()
                self._bad_packets = 0
            except av.FFmpegError:
                self._bad_packets += 1
                if self._bad_packets > MAX_BAD_PACKETS:
                    return []
                continue
            if frames := self._spaced(frames):
                return frames

    def grab(self) -> bool:
        """Decodes the next frame; False at the end of the video."""
        if not self._pending and not self._ended:
            self._pending.extend(self._decoded())
            if not self._pending:
                self._ended = True
        if not self._pending:
            self._frame = None
            return False
        self._frame = self._pending.popleft()
        return True

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        """The grabbed frame as BGR, shrunk and rotated as set."""
        frame = self._frame
        if frame is None:
            return False, None
        size = self._size or (frame.width, frame.height)
        if device_frames.on_device(frame) and not (size[0] | size[1]) & 1:
            pixels = device_frames.frame_bgr(frame, *size)
        else:
            if frame.format.name == "cuda":  # one the device conversion does not take: downloaded as it is
                frame = frame.reformat(format=frame.sw_format.name)
            pixels = self._host_bgr(frame)
        rotation = self.facts.rotation
        return True, (cv2.rotate(pixels, _ROTATIONS[rotation]) if rotation in _ROTATIONS else pixels)

    def _host_bgr(self, frame: av.VideoFrame) -> np.ndarray:
        """A frame in host memory as BGR at the size set."""
        if self._size is not None and (frame.width, frame.height) != self._size:
            return shrunk_bgr(frame, *self._size)
        if frame.format.name == "nv12":  # as yuv420p (lossless): swscale's NV12 input converts otherwise
            return frame.reformat(format="yuv420p").to_ndarray(format="bgr24")
        return frame.to_ndarray(format="bgr24")

    def read(self) -> tuple[bool, np.ndarray | None]:
        """``grab`` then ``retrieve``, as cv2.VideoCapture.read."""
        return self.retrieve() if self.grab() else (False, None)

    def get(self, prop: int) -> float:
        """CAP_PROP_POS_MSEC only: the grabbed frame's presentation time from the stream's start."""
        if prop != cv2.CAP_PROP_POS_MSEC:
            raise ValueError("PyAVCapture reports only CAP_PROP_POS_MSEC")
        if self._frame is None or self._frame.pts is None:
            return float("nan")
        return float((self._frame.pts - self._start) * self._time_base * 1000)

    def release(self) -> None:
        if self._side is not None:
            side, self._side = self._side, None
            side.finish()
        self._container.close()
