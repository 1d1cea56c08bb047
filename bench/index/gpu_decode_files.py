"""The GPU decode bench's files (bench/index/gpu_decode.py), made with PyAV alone.

The device machine that runs that bench has no ffmpeg binary (and the binary's wheel is larger
than everything a call may carry), so these files are encoded through the FFmpeg libraries
PyAV's wheel bundles (libx264, libx265, mpeg4), with the library bench's codec settings
(bench/index/library_files.py: x264 veryfast with 3 B-frames and keyframes every 250 frames,
x265 ultrafast with 4 B-frames, MPEG-4 Part 2 without B-frames), from the same source
(testvideo.mp4, 1280x720 H.264, scaled). As there, a file is one encoded *segment* (one pass
of the 24 s source at most) repeated by stream copy to its length: the packets of the segment
again, their timestamps shifted by the segments before them, so decoding costs what the codec
costs per frame and making minutes costs seconds. Every file is checked by
library_files.check_streams (length, timestamps strictly increasing, no gap) before it enters
the cache. No audio track: the bench indexes pictures only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import benchlib
from library_files import SOURCE, _atomic, check_streams

OUT = benchlib.REPO / "bench" / "out" / "gpu-decode"


@dataclass(frozen=True)
class GpuFile:
    name: str
    codec: str  # the table's codec column
    encoder: str  # PyAV/FFmpeg encoder name
    width: int
    height: int
    bit_rate: int
    options: dict[str, str] = field(default_factory=dict)  # the encoder's private options
    gop: int = 250
    nvdec: bool = True  # whether NVDEC decodes the codec (MPEG-4 Part 2: no, it shows the fallback)


X264 = {"preset": "veryfast", "x264-params": "bframes=3:keyint=250"}
X265 = {"preset": "ultrafast", "x265-params": "bframes=4:keyint=250:log-level=error"}
FILES = [
    GpuFile("h264-high-1080p-12M", "h264", "libx264", 1920, 1080, 12_000_000, {**X264, "profile": "high"}),
    GpuFile("h264-high-720p-6M", "h264", "libx264", 1280, 720, 6_000_000, {**X264, "profile": "high"}),
    GpuFile("hevc-1080p-5M", "hevc", "libx265", 1920, 1080, 5_000_000, X265),
    GpuFile("mpeg4-part2-720p-8M", "mpeg4", "mpeg4", 1280, 720, 8_000_000, nvdec=False),
]
BY_NAME = {f.name: f for f in FILES}


def source_frames(source: Path, count: int, width: int, height: int):
    """``count`` frames of ``source``, looped, scaled to ``width`` x ``height`` (yuv420p)."""
    import av

    made = 0
    while made < count:
        with av.open(str(source)) as container:
            for frame in container.decode(video=0):
                yield frame.reformat(width=width, height=height, format="yuv420p")
                made += 1
                if made == count:
                    return


def source_timing(source: Path) -> tuple[Fraction, float]:
    """(frame rate, seconds) of ``source``."""
    import av

    with av.open(str(source)) as container:
        return Fraction(container.streams.video[0].average_rate), float(container.duration / 1_000_000)


def segment(file: GpuFile, seconds: float, out: Path = OUT, source: Path = SOURCE) -> Path:
    """``seconds`` of ``source`` in ``file``'s codec settings (cached)."""
    import av

    path = out / "segments" / f"{file.name}-{seconds:g}s.mp4"

    def write(partial: Path) -> None:
        rate, _ = source_timing(source)
        count = round(seconds * rate)
        with av.open(str(partial), "w") as container:
            stream = container.add_stream(file.encoder, rate=rate, options=dict(file.options))
            stream.width, stream.height, stream.pix_fmt = file.width, file.height, "yuv420p"
            stream.bit_rate = file.bit_rate
            stream.codec_context.gop_size = file.gop
            for index, frame in enumerate(source_frames(source, count, file.width, file.height)):
                frame.pts, frame.time_base = index, 1 / rate
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))

    if not path.exists():
        if not source.exists():
            raise SystemExit(f"{source} is needed to make the GPU decode bench's files (--source)")
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic(path, write)
    return path


def repeat(part: Path, count: int, path: Path) -> None:
    """``part``'s video packets ``count`` times into ``path``, each copy's timestamps shifted by
    the copies before it (what ffmpeg's concat demuxer does with ``-c copy``)."""
    import av

    with av.open(str(part)) as first:
        stream = first.streams.video[0]
        span = max(p.pts + p.duration for p in first.demux(stream) if p.pts is not None) - (stream.start_time or 0)
    with av.open(str(path), "w", format="mp4") as out:
        target = None
        for copy in range(count):
            with av.open(str(part)) as source:
                video = source.streams.video[0]
                if target is None:
                    target = out.add_stream_from_template(video)
                for packet in source.demux(video):
                    if packet.dts is None:  # the demuxer's empty packet at the end
                        continue
                    packet.pts += copy * span
                    packet.dts += copy * span
                    packet.stream = target
                    out.mux(packet)


def make(file: GpuFile, seconds: float, out: Path = OUT, source: Path = SOURCE) -> Path:
    """``file``, ``seconds`` long (cached by name and length): a segment of at most one pass of
    ``source``, repeated by stream copy; checked before it enters the cache."""
    path = out / f"{file.name}-{seconds:g}s.mp4"
    if path.exists():
        return path
    count = math.ceil(seconds / source_timing(source)[1] - 1e-9)
    part = segment(file, seconds / count, out, source)

    def write(partial: Path) -> None:
        repeat(part, count, partial)
        check_streams(partial, seconds)

    return _atomic(path, write)
