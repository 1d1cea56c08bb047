"""Demo videos that talk and show words (`make demo`), with what each says and shows.

* ``briefing.mp4``: four demo-world scenes (a shape each, so the picture is searchable too)
  over which espeak-ng says an English sentence (from 4.2 s) and a Mandarin one (from 8.5 s), muxed
  as AAC by imageio-ffmpeg's ffmpeg; beside it ``briefing.en.srt`` and ``briefing.zh.srt`` hold
  the same sentences: the subtitle path.
* ``lecture.mp4``: two scenes over which espeak-ng says one English sentence (from 1.5 s), with
  no subtitles at all: found only by what the Embedder's speech recognizer hears (the demo's is
  ctc:models/demo-speech, trained on espeak-ng speech; the sentence was never in its training).
* ``signs.mp4``: a shape, then an English platform sign drawn with cv2.putText, then a Chinese
  exit sign drawn with Pillow in a CJK font (fonts-wqy-microhei, ``make text-deps``): read by
  the Indexer's OCR. No sound.

Each query printed by the demo can only be answered by one of them: the spoken words are not
on screen, the signs are not said.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np

from videosearch.demo import world
from videosearch.demo.encoding import VideoEncoder, ffmpeg_exe

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FPS = Fraction(25)
SIZE = (640, 360)
SCENE_SECONDS = 4.0
SAID_EN = "Next, we will discuss the quarterly budget at the meeting."
SAID_ZH = "下午我们讨论新年的旅行计划。"
SAID_ONLY = "Tomorrow the old lighthouse will be painted white."
SAID_ONLY_START = 1.5
SIGN_EN = "PLATFORM 9 EXIT"
SIGN_ZH = "紧急出口"
QUERIES = (
    {"query": "quarterly budget", "answered_by": "said"},
    {"query": "旅行计划", "answered_by": "said"},
    # One word the demo recognizer hears right ("lighthouse" it hears as "light huse"): the fusion
    # counts a said match by the share of the query it holds, so a half-heard query loses to the picture.
    {"query": "painted", "answered_by": "said (recognized speech; no subtitles)"},
    {"query": "platform 9", "answered_by": "written"},
    {"query": SIGN_ZH, "answered_by": "written"},
)


def generate_talking_videos(videos_dir: Path, seed: int = 7) -> dict:
    """Writes briefing.mp4 (with its .srt files) and signs.mp4 into ``videos_dir`` (kept when
    already there) and returns their truth: where each queried line is said or shown."""
    videos_dir = Path(videos_dir)
    videos_dir.mkdir(parents=True, exist_ok=True)
    truth_path = videos_dir / "talking.json"
    names = ("briefing.mp4", "signs.mp4", "lecture.mp4")
    if truth_path.exists() and all((videos_dir / name).exists() for name in names):
        return json.loads(truth_path.read_text())
    rng = np.random.default_rng(seed)
    videos = [_briefing(videos_dir, rng), _signs(videos_dir, rng), _lecture(videos_dir, rng)]
    truth = {"videos": videos, "queries": list(QUERIES)}
    truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    return truth


def where_answered(truth: dict, query: str) -> str:
    """The ground truth line the demo prints under a query's results."""
    lines = [
        f"{video['file']} {line['kind']} {line['text']!r} at {line['start_seconds']:.1f}–{line['end_seconds']:.1f}s"
        for video in truth["videos"]
        for line in video["lines"]
        if _answers(line["text"], query)
    ]
    return "; ".join(lines) if lines else "nothing said or written holds it"


def _answers(text: str, query: str) -> bool:
    return all(word in text.casefold() for word in query.casefold().split())


def _scene_frames(caption: str, rng: np.random.Generator, level: float) -> list[np.ndarray]:
    count = int(SCENE_SECONDS * FPS)
    return list(world.render_clip(caption, count, rng, size=SIZE, bg_level=level, bg_spread=0.05))


def _briefing(videos_dir: Path, rng: np.random.Generator) -> dict:
    captions = ["a purple star", "an orange cross", "a yellow square", "a green star"]
    lines: list[dict] = [
        {"kind": "said", "text": SAID_EN, "language": "en", "start_seconds": 4.2},
        {"kind": "said", "text": SAID_ZH, "language": "zh", "start_seconds": 8.5},
    ]
    path = videos_dir / "briefing.mp4"
    with tempfile.TemporaryDirectory() as scratch:
        silent = Path(scratch) / "silent.mp4"  # outside the videos folder: never indexed half-made
        with VideoEncoder(silent, FPS, SIZE) as out:
            for i, caption in enumerate(captions):
                for frame in _scene_frames(caption, rng, 0.25 if i % 2 else 0.7):
                    out.write(frame)
        clips = []
        for line, voice in zip(lines, ("en-us", "cmn")):
            wav = Path(scratch) / f"{voice}.wav"
            if shutil.which("espeak-ng"):
                subprocess.run(
                    ["espeak-ng", "-v", voice, "-s", "140", "-w", str(wav), line["text"]], check=True, timeout=60
                )
                clips.append((wav, line["start_seconds"]))
                line["end_seconds"] = round(line["start_seconds"] + _wav_seconds(wav), 2)
            else:
                line["end_seconds"] = line["start_seconds"] + 3.0
        if clips:
            _mux(silent, clips, len(captions) * SCENE_SECONDS, path)
        else:  # no espeak-ng: the subtitles still say it
            shutil.move(silent, path)
    for line in lines:
        _srt(videos_dir / f"briefing.{line['language']}.srt", line)
    return {"file": path.name, "captions": captions, "lines": lines, "speech": bool(clips)}


def _lecture(videos_dir: Path, rng: np.random.Generator) -> dict:
    """Speech and nothing else to find it by: no subtitle file, no words on screen."""
    captions = ["a blue circle", "a red triangle"]
    line = {"kind": "said", "text": SAID_ONLY, "language": "en", "start_seconds": SAID_ONLY_START}
    path = videos_dir / "lecture.mp4"
    with tempfile.TemporaryDirectory() as scratch:
        silent = Path(scratch) / "silent.mp4"
        with VideoEncoder(silent, FPS, SIZE) as out:
            for i, caption in enumerate(captions):
                for frame in _scene_frames(caption, rng, 0.6 if i % 2 else 0.3):
                    out.write(frame)
        if shutil.which("espeak-ng"):
            wav = Path(scratch) / "said.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), SAID_ONLY], check=True, timeout=60)
            line["end_seconds"] = round(SAID_ONLY_START + _wav_seconds(wav), 2)
            _mux(silent, [(wav, SAID_ONLY_START)], len(captions) * SCENE_SECONDS, path)
        else:  # no espeak-ng: a video that says nothing (the demo's make target installs it)
            shutil.move(silent, path)
            line["end_seconds"] = SAID_ONLY_START
    return {
        "file": path.name,
        "captions": captions,
        "lines": [line] if line["end_seconds"] > SAID_ONLY_START else [],
        "speech": line["end_seconds"] > SAID_ONLY_START,
    }


def _mux(silent: Path, clips: list[tuple[Path, float]], seconds: float, path: Path) -> None:
    """``silent`` video with the WAV ``clips`` placed at their starts as its AAC track, into ``path``."""
    track = silent.with_name("track.wav")
    _mix(clips, track, seconds=seconds)
    subprocess.run(
        [
            ffmpeg_exe(),
            "-y",
            "-loglevel",
            "error",
            "-i",
            str(silent),
            "-i",
            str(track),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
        timeout=120,
    )


def _signs(videos_dir: Path, rng: np.random.Generator) -> dict:
    import cv2

    lines: list[dict] = []
    frames: list[np.ndarray] = []
    frames += _scene_frames("a green circle", rng, 0.7)
    english = _scene_frames("a blue triangle", rng, 0.25)
    for frame in english:
        cv2.rectangle(frame, (150, 20), (490, 90), (255, 255, 255), -1)
        cv2.putText(frame, SIGN_EN, (165, 70), cv2.FONT_HERSHEY_SIMPLEX, 1.15, (20, 20, 20), 3, cv2.LINE_AA)
    frames += english
    lines.append(
        {
            "kind": "written",
            "text": SIGN_EN,
            "language": "en",
            "start_seconds": SCENE_SECONDS,
            "end_seconds": 2 * SCENE_SECONDS,
        }
    )
    if CJK_FONT.exists():
        from PIL import Image, ImageDraw, ImageFont

        font = ImageFont.truetype(str(CJK_FONT), 56)
        chinese = []
        for frame in _scene_frames("a red square", rng, 0.7):
            picture = Image.fromarray(frame)
            draw = ImageDraw.Draw(picture)
            draw.rectangle((190, 14, 450, 96), fill=(20, 140, 60))
            draw.text((208, 20), SIGN_ZH, font=font, fill=(255, 255, 255))
            chinese.append(np.asarray(picture))
        frames += chinese
        lines.append(
            {
                "kind": "written",
                "text": SIGN_ZH,
                "language": "zh",
                "start_seconds": 2 * SCENE_SECONDS,
                "end_seconds": 3 * SCENE_SECONDS,
            }
        )
    path = videos_dir / "signs.mp4"
    with VideoEncoder(path, FPS, SIZE) as out:
        for frame in frames:
            out.write(frame)
    return {"file": path.name, "lines": lines}


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def _mix(clips: list[tuple[Path, float]], out: Path, seconds: float) -> None:
    """One mono 16-bit track of ``seconds``: each WAV placed at its start (espeak-ng's voices
    all speak at the same rate, 22,050 Hz)."""
    with wave.open(str(clips[0][0])) as first:
        rate = first.getframerate()
    track = np.zeros(int(seconds * rate), dtype="<i2")
    for path, start in clips:
        with wave.open(str(path)) as w:
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        at = int(start * rate)
        end = min(len(track), at + len(samples))
        track[at:end] = samples[: end - at]
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(track.tobytes())


def _srt(path: Path, line: dict) -> None:
    def stamp(seconds: float) -> str:
        millis = int(round(seconds * 1000))
        return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d},{millis % 1000:03d}"

    path.write_text(
        f"1\n{stamp(line['start_seconds'])} --> {stamp(line['end_seconds'])}\n{line['text']}\n\n", encoding="utf-8"
    )
