"""Videos with words, made by the ffmpeg that imageio-ffmpeg ships: subtitle streams of each
codec (mov_text, SubRip, ASS, WebVTT), speech spoken by espeak-ng, text drawn on the picture."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

SRT = """1
00:00:00,500 --> 00:00:01,500
<i>the quarterly budget</i>

2
00:00:02,000 --> 00:00:03,000
我们讨论预算

"""


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True, timeout=120)


def speak(path: Path, sentence: str, voice: str = "en-us", speed: int = 140) -> Path:
    """``sentence`` spoken by espeak-ng into a WAV file (skips the test where it is missing:
    ``make test`` installs it, see the Makefile's text-deps)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng; make test installs it)")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), sentence], check=True, timeout=60)
    return path


def cjk_font() -> Path:
    """The font Chinese text is drawn with (skips the test where it is missing: ``make test``
    installs it, see the Makefile's text-deps)."""
    if not CJK_FONT.exists():
        pytest.skip(f"{CJK_FONT} is missing (apt-get install fonts-wqy-microhei; make test installs it)")
    return CJK_FONT


def make_video(path: Path, seconds: float, *, drawn: str = "", audio: Path | None = None, silent_audio: bool = False,
               subtitles: tuple[tuple[Path, str, str], ...] = (), size: str = "320x240", font: Path | None = None,
               audio_language: str = "", color: str = "gray") -> Path:
    """A ``seconds`` long H.264 video of a plain ``color`` picture (with ``drawn`` written on it), with
    ``audio`` (a WAV, padded with silence) or a silent track, and subtitle streams muxed from
    (file, codec, ISO 639-2 language) triples."""
    inputs = ["-f", "lavfi", "-i", f"color=c={color}:size={size}:rate=10:duration={seconds}"]
    maps = ["-map", "0:v"]
    codecs = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
    if drawn:
        words = path.with_suffix(".drawn.txt")
        words.write_text(drawn, encoding="utf-8")  # a text file: no escaping of the words in the filter
        font_option = f"fontfile={font}:" if font else ""
        codecs += ["-vf", f"drawtext={font_option}textfile={words}:fontsize=28:fontcolor=black:box=1:boxcolor=white:"
                          "x=20:y=40"]
    if audio is not None or silent_audio:
        source = ["-i", str(audio)] if audio is not None else ["-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono"]
        inputs += source
        maps += ["-map", "1:a"]
        codecs += ["-c:a", "aac", "-af", "apad", "-t", str(seconds)]
        if audio_language:
            codecs += ["-metadata:s:a:0", f"language={audio_language}"]
    for i, (file, codec, language) in enumerate(subtitles):
        maps += ["-map", f"{inputs.count('-i')}:s"]
        inputs += ["-i", str(file)]
        codecs += [f"-c:s:{i}", codec, f"-metadata:s:s:{i}", f"language={language}"]
    run_ffmpeg(*inputs, *maps, *codecs, str(path))
    return path
