"""The library bench's files (bench/index/library.py): made cheaply, hours long, still real streams.

Encoding hours of 1080p H.264 and HEVC on 2 cores takes longer than indexing them, so each
file's codec settings encode one *segment* once (SEGMENT_SECONDS of testvideo.mp4 looped, the
hue turned HUE_STEP degrees at each loop so no two loops in a segment are alike), and the file
is that segment repeated by the ffmpeg concat demuxer with stream copy (``-c copy``) to the
length asked for (the length split evenly, so one encode per file). The result is a
valid stream of the codec (each segment opens with a keyframe, the concat demuxer shifts every
packet's timestamps by the segments before it), decoded as any other: decoding costs what the
codec costs per frame. The speech track is not repeated: espeak-ng reads sentences drawn at
random for the whole length (videosearch.demo.everyday_sentences, a seed per file), encoded as
AAC beside the copied video. :func:`check_streams` verifies every file made: its length,
timestamps strictly increasing in presentation and decode order, no gap longer than the
segment's own (a VFR file keeps its irregular timestamps), the audio as long as the video.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import benchlib
from videosearch.demo.encoding import ffmpeg_exe

SOURCE = Path("/work/shared/videos/testvideo.mp4")
OUT = benchlib.REPO / "bench" / "out" / "library"
SEGMENT_SECONDS = 120.0
"""The longest segment: each file's unique content, up to five loops of the 24 s source, each in
another hue (a file's length is split into equal segments of at most this)."""
HUE_STEP = 72
"""Degrees the hue turns at each loop of the source within a segment (five loops: 0 to 288)."""
WORDS_PER_SECOND = 140 / 60 * 1.2  # espeak-ng's rate (-s 140), with a margin: the track is cut to length


@dataclass(frozen=True)
class LibraryFile:
    name: str
    codec: str  # the table's codec column
    video: list[str]  # ffmpeg output options of the video stream (filters included)
    audio: bool
    needs: str = ""  # an encoder the ffmpeg binary must have


X264 = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-g", "250", "-pix_fmt", "yuv420p"]
X265 = [
    "-c:v",
    "libx265",
    "-preset",
    "ultrafast",
    "-x265-params",
    "bframes=4:keyint=250:log-level=error",
    "-pix_fmt",
    "yuv420p",
    "-tag:v",
    "hvc1",
]
FILES = [
    LibraryFile(
        "h264-main-720p-2M-audio", "h264", ["-vf", "scale=1280:720", *X264, "-profile:v", "main", "-b:v", "2M"], True
    ),
    LibraryFile(
        "h264-high-720p-6M", "h264", ["-vf", "scale=1280:720", *X264, "-profile:v", "high", "-b:v", "6M"], False
    ),
    LibraryFile(
        "h264-high-1080p-12M-audio",
        "h264",
        ["-vf", "scale=1920:1080", *X264, "-profile:v", "high", "-b:v", "12M"],
        True,
    ),
    LibraryFile(
        "h264-high-1080p-8M-vfr",
        "h264 vfr",
        [
            "-vf",
            "scale=1920:1080,select='not(eq(mod(n\\,3)\\,1))'",
            "-fps_mode",
            "vfr",
            *X264,
            "-profile:v",
            "high",
            "-b:v",
            "8M",
        ],
        False,
    ),
    LibraryFile(
        "h264-high-portrait-1080x1920-8M-audio",
        "h264 portrait",
        ["-vf", "scale=1920:1080,transpose=1", *X264, "-profile:v", "high", "-b:v", "8M"],
        True,
    ),
    LibraryFile("hevc-1080p-5M-audio", "hevc", ["-vf", "scale=1920:1080", *X265, "-b:v", "5M"], True, needs="libx265"),
    LibraryFile("hevc-720p-2M", "hevc", ["-vf", "scale=1280:720", *X265, "-b:v", "2M"], False, needs="libx265"),
    LibraryFile(
        "mpeg4-part2-720p-8M-audio",
        "mpeg4",
        ["-vf", "scale=1280:720", "-c:v", "mpeg4", "-b:v", "8M", "-g", "250", "-pix_fmt", "yuv420p"],
        True,
    ),
]


def available() -> tuple[list[LibraryFile], list[str]]:
    """(the files the ffmpeg binary can make, the names of those it cannot)."""
    have = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=True
    ).stdout
    files = [f for f in FILES if not f.needs or f.needs in have]
    return files, [f.name for f in FILES if f not in files]


def _source_seconds() -> float:
    import av

    with av.open(str(SOURCE)) as container:
        return float(container.duration / 1_000_000)


def _atomic(path: Path, write) -> Path:
    """``write(partial)`` then rename: a stopped run leaves no half file in the cache."""
    partial = path.with_name(f"{path.stem}.part{path.suffix}")
    write(partial)
    partial.rename(path)
    return path


def segment(file: LibraryFile, seconds: float, out: Path = OUT) -> Path:
    """``seconds`` of the source looped, in ``file``'s codec settings, video only (cached)."""
    path = out / "segments" / f"{file.name}-{seconds:g}s.mp4"
    if path.exists():
        return path
    if not SOURCE.exists():
        raise SystemExit(f"{SOURCE} is needed to make the library")
    path.parent.mkdir(parents=True, exist_ok=True)
    video = list(file.video)
    at = video.index("-vf") + 1
    # the hue first: each loop of the source differs from the others in the segment
    video[at] = f"hue=h={HUE_STEP}*floor(t/{_source_seconds():.6f})," + video[at]
    command = [
        ffmpeg_exe(),
        "-y",
        "-loglevel",
        "error",
        "-stream_loop",
        "-1",
        "-i",
        str(SOURCE),
        "-t",
        f"{seconds:g}",
        "-map",
        "0:v",
        *video,
        "-an",
    ]
    return _atomic(path, lambda partial: subprocess.run([*command, str(partial)], check=True))


def speech_track(seconds: float, seed: int, out: Path = OUT) -> Path:
    """A WAV of espeak-ng reading random everyday sentences for at least ``seconds`` (cached);
    a 440 Hz tone where espeak-ng is missing."""
    path = out / "speech" / f"speech-{seed}-{seconds:g}s.wav"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which("espeak-ng") is None:
        tone = "-y -loglevel error -f lavfi -i sine=frequency=440:sample_rate=48000 -t"
        command = [ffmpeg_exe(), *tone.split(), f"{seconds:g}"]
        return _atomic(path, lambda partial: subprocess.run([*command, str(partial)], check=True))
    import numpy as np
    from videosearch.demo.everyday_sentences import EverydaySentences

    sentences, words, draw = [], 0, EverydaySentences([], np.random.default_rng(seed))
    while words < seconds * WORDS_PER_SECOND:
        sentences.append(draw.sentence())
        words += len(sentences[-1].split())
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as text:
        text.write(". ".join(sentences) + ".")
    try:
        return _atomic(
            path,
            lambda partial: subprocess.run(
                ["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(partial), "-f", text.name], check=True
            ),
        )
    finally:
        os.unlink(text.name)


def make(file: LibraryFile, seconds: float, out: Path = OUT, segment_seconds: float = SEGMENT_SECONDS) -> Path:
    """``file``, ``seconds`` long (cached by name and length): one segment of at most
    ``segment_seconds`` (the length split evenly: one encode, no shorter rest to encode again)
    repeated by stream copy, with a speech track where ``file.audio``; checked by
    :func:`check_streams` before it enters the cache."""
    path = out / f"{file.name}-{seconds:g}s.mp4"
    if path.exists():
        return path
    count = math.ceil(seconds / segment_seconds - 1e-9)
    parts = [segment(file, seconds / count, out)] * count
    # The video is a whole number of frames a segment, a little longer than asked (112.5 s at
    # 29.97 fps is 3,372 frames, 12 ms over): the speech track is cut to the copies' real length.
    video_seconds = count * check_streams(parts[0], seconds / count)["video_seconds"]
    listing = path.with_suffix(".concat.txt")
    listing.write_text("".join(f"file '{part.resolve()}'\n" for part in parts))
    command = [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "concat", "-safe", "0", "-i", str(listing)]
    if file.audio:
        speech = speech_track(seconds, seed=FILES.index(file) if file in FILES else 0, out=out)
        trim = (
            f"aresample=48000,atrim=end={video_seconds:.6f},apad=whole_dur={video_seconds:.6f}"  # as long as the video
        )
        command += ["-i", str(speech), *"-map 0:v -map 1:a -c:v copy -c:a aac -b:a 128k -af".split(), trim]
    else:
        command += ["-map", "0:v", "-c:v", "copy"]

    def write(partial: Path) -> None:
        subprocess.run([*command, str(partial)], check=True)
        check_streams(partial, seconds)

    try:
        return _atomic(path, write)
    finally:
        listing.unlink(missing_ok=True)


def check_streams(path: Path, seconds: float) -> dict:
    """Raises ValueError unless ``path`` is ``seconds`` long (to 1 %), its video packets'
    timestamps strictly increase in decode order and, sorted, in presentation order (none
    negative, none twice), no step between frames is longer than 3 times the usual one (a VFR
    file's dropped frames make steps of 2), and its audio track, if any, is as long as the video
    (to 0.1 s). Reads packets only (no decoding). Returns what it measured."""
    import av

    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        pts, dts, audio_end = [], [], 0.0
        for packet in container.demux(*[s for s in (video, audio) if s is not None]):
            if packet.pts is None:
                continue
            if packet.stream is video:
                pts.append(packet.pts)
                dts.append(packet.dts)
            else:
                audio_end = max(audio_end, float((packet.pts + packet.duration) * packet.time_base))
        base = video.time_base
    ordered = sorted(pts)
    steps = sorted(b - a for a, b in zip(ordered, ordered[1:]))
    usual = steps[len(steps) // 2] if steps else 1
    video_end = float((ordered[-1] + usual) * base) if ordered else 0.0
    found = {
        "video_seconds": video_end,
        "frames": len(pts),
        "usual_step": float(usual * base),
        "longest_step": float(steps[-1] * base) if steps else 0.0,
        "step_kinds": len(set(steps)),
        "audio_seconds": audio_end if audio else None,
    }
    problems = []
    if abs(video_end - seconds) > 0.01 * seconds + 0.1:
        problems.append(f"{video_end:.3f} s of video, {seconds:g} s asked for")
    if ordered and ordered[0] < 0:
        problems.append(f"a negative timestamp ({ordered[0]})")
    if len(set(pts)) != len(pts):
        problems.append(f"{len(pts) - len(set(pts))} duplicate timestamps")
    if any(b <= a for a, b in zip(dts, dts[1:]) if a is not None and b is not None):
        problems.append("decode timestamps not strictly increasing")
    if steps and steps[-1] > 3 * usual:
        problems.append(f"a gap of {steps[-1] * base:.3f} s between frames (usual {usual * base:.3f} s)")
    if audio is not None and abs(audio_end - video_end) > 0.1:
        problems.append(f"audio {audio_end:.3f} s against video {video_end:.3f} s")
    if problems:
        raise ValueError(f"{path.name}: " + "; ".join(problems))
    return found
