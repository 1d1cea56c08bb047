"""Issue 22's independent probe, rehearsed as an outsider would run it: the three services
started as `make demo` starts them (the demo CLIP, speech read by `ctc:models/demo-speech`,
on-screen text by rapidocr), the demo videos indexed as distractors, and new videos made here
with a tester's own tools only (imageio-ffmpeg's ffmpeg, espeak-ng, OpenCV, Pillow; never the
project's demo helpers), each with one clue nothing else holds: a sidecar subtitle, an embedded
subtitle stream (mov_text in MP4, SubRip in MKV), a Chinese subtitle (UTF-8 .zh.srt, GBK .zh.srt,
.zh.vtt), a burned-in sign (English, Chinese, a small caption on the picture) and a spoken sentence (two voices), one clue late
in a 2.5-minute video, and videos sharing some of a clue's words (one of them a demo video). Each query, typed as a user
types it into `videosearch search`, must put the clue's video first with a moment overlapping
the clue's time, and the matched line must carry the clue's own time.

Known limits this probe found and leaves out (docs/words-notes.md, "Limits"): Mandarin speech
(the demo recognizer hears English only), words the demo recognizer mishears ("dinosaur" heard
as "dies or", models/demo-speech/README.md), a misspelt query word against subtitles (exact text), and query keywords more than
two words apart in a line ("submarine glacier" for "the submarine surfaced beside a glacier")."""

from __future__ import annotations

import json
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from videosearch.client.searcher import SearcherClient
from videosearch.launcher import ClusterConfig, LocalCluster
from videosearch.searcher.types import SearchParams
from videosearch_cli import main as cli

from tests.conftest import REPO_ROOT
from tests.indexer_text.talking_videos import CJK_FONT, ffmpeg_exe, speak

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]

FPS = 25
SIZE = (480, 270)


@dataclass(frozen=True)
class Clue:
    file: str
    start: float
    end: float
    kind: str  # said or written
    needs: str = ""  # espeak-ng or a CJK font, when the video needs one


# -- the probe's own videos ---------------------------------------------------------------


def _encode(path: Path, seconds: float, seed: int, draw=None, inputs=(), maps=(), size=SIZE) -> None:
    """A ball moving over a colour that changes every 5 s (a few scenes), H.264 through ffmpeg's
    stdin; ``inputs``/``maps`` add an audio or subtitle stream."""
    import cv2

    width, height = size
    colours = np.random.default_rng(seed).integers(30, 220, size=(int(seconds // 5) + 2, 3))
    command = [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
               "-r", str(FPS), "-i", "-", *inputs, "-map", "0:v", *maps,
               "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-t", str(seconds), str(path)]
    writer = subprocess.Popen(command, stdin=subprocess.PIPE)
    assert writer.stdin is not None
    for i in range(int(seconds * FPS)):
        t = i / FPS
        colour = colours[int(t // 5)]
        frame = np.empty((height, width, 3), np.uint8)
        frame[:] = colour
        x = int((width - 60) * (0.5 + 0.4 * np.sin(t))) + 30
        cv2.circle(frame, (x, height // 2), 30, tuple(int(c) for c in 255 - colour), -1)
        writer.stdin.write((draw(frame, t) if draw else frame).tobytes())
    writer.stdin.close()
    assert writer.wait(timeout=120) == 0, path


def _stamp(seconds: float, separator: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{separator}{ms % 1000:03d}"


def _srt(cues) -> str:
    return "".join(f"{i}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{text}\n\n" for i, (a, b, text) in enumerate(cues, 1))


def _vtt(cues) -> str:
    return "WEBVTT\n\n" + "".join(f"{_stamp(a, '.')} --> {_stamp(b, '.')}\n{text}\n\n" for a, b, text in cues)


def _speech(path: Path, text: str, start: float, seconds: float, voice: str, speed: int) -> float:
    """espeak-ng saying ``text`` from ``start`` in a ``seconds`` long WAV; the time it ends."""
    with wave.open(str(speak(path.with_name(path.stem + ".said.wav"), text, voice, speed))) as w:
        rate, samples = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), "<i2")
    track = np.zeros(int(seconds * rate), "<i2")
    at = int(start * rate)
    track[at : at + len(samples)] = samples[: len(track) - at]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(track.tobytes())
    return start + len(samples) / rate


def _sign(text: str, start: float, end: float, chinese: bool = False):
    """Draws ``text`` on a white board, only from ``start`` to ``end``."""
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(CJK_FONT), 40) if chinese else None

    def draw(frame: np.ndarray, t: float) -> np.ndarray:
        if not start <= t < end:
            return frame
        if font is None:
            cv2.rectangle(frame, (30, 20), (450, 85), (255, 255, 255), -1)
            cv2.putText(frame, text, (45, 65), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (10, 10, 10), 2, cv2.LINE_AA)
            return frame
        picture = Image.fromarray(frame)
        board = ImageDraw.Draw(picture)
        board.rectangle((60, 20, 420, 90), fill=(255, 255, 255))
        board.text((80, 30), text, font=font, fill=(10, 10, 10))
        return np.asarray(picture)

    return draw


def _caption(text: str, start: float, end: float):
    import cv2

    def draw(frame: np.ndarray, t: float) -> np.ndarray:
        if start <= t < end:
            cv2.putText(frame, text, (20, 240), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2, cv2.LINE_AA)
        return frame

    return draw


FILLER = [(1.0, 3.5, "Hello and welcome back."), (5.0, 8.0, "Let us look at the picture for a while.")]


def make_probe_videos(folder: Path, scratch: Path) -> dict[str, Clue]:
    folder.mkdir(parents=True)
    clues: dict[str, Clue] = {}
    # A sidecar subtitle; beside it a video sharing some of its words ("pier", "seven") scattered.
    _encode(folder / "harbour.mp4", 20, 1)
    (folder / "harbour.srt").write_text(_srt([*FILLER, (12.0, 15.5, "The ferry to Tasmania leaves from pier seven")]))
    clues["harbour"] = Clue("harbour.mp4", 12.0, 15.5, "said")
    _encode(folder / "market.mp4", 20, 2)
    (folder / "market.srt").write_text(
        _srt([(3.0, 6.0, "The fish market leaves the pier early"), (9.0, 11.0, "Seven stalls sell bread")])
    )
    # Words the demo's briefing.mp4 also says ("... the quarterly budget at the meeting"), and it
    # is the demo CLIP's first moment for most queries about words.
    _encode(folder / "agenda.mp4", 16, 15)
    (folder / "agenda.srt").write_text(_srt([(9.0, 12.0, "The budget meeting moved to Friday afternoon")]))
    clues["agenda"] = Clue("agenda.mp4", 9.0, 12.0, "said")
    # Subtitle streams inside the file: mov_text in MP4, SubRip in MKV.
    (scratch / "volcano.srt").write_text(_srt([*FILLER, (9.0, 12.5, "Our volcano expedition starts on Thursday")]))
    _encode(folder / "volcano.mp4", 18, 3, inputs=["-i", str(scratch / "volcano.srt")], maps=["-map", "1:s", "-c:s", "mov_text"])
    clues["volcano"] = Clue("volcano.mp4", 9.0, 12.5, "said")
    (scratch / "glacier.srt").write_text(_srt([*FILLER, (10.0, 13.0, "The submarine surfaced beside a glacier")]))
    _encode(folder / "glacier.mkv", 18, 4, inputs=["-i", str(scratch / "glacier.srt")], maps=["-map", "1:s", "-c:s", "srt"])
    clues["glacier"] = Clue("glacier.mkv", 10.0, 13.0, "said")
    # Chinese subtitles: UTF-8 .zh.srt, GBK .zh.srt, UTF-8 .zh.vtt.
    _encode(folder / "tea.mp4", 16, 5)
    (folder / "tea.zh.srt").write_text(_srt([(2.0, 4.0, "大家好。"), (8.0, 11.0, "我们明天去杭州喝龙井茶")]), encoding="utf-8")
    clues["tea"] = Clue("tea.mp4", 8.0, 11.0, "said")
    _encode(folder / "panda.mp4", 16, 6)
    (folder / "panda.zh.srt").write_bytes(_srt([(2.0, 4.0, "你好。"), (9.0, 12.0, "成都的熊猫基地今天不开门")]).encode("gbk"))
    clues["panda"] = Clue("panda.mp4", 9.0, 12.0, "said")
    _encode(folder / "rocket.mp4", 16, 7)
    (folder / "rocket.zh.vtt").write_text(_vtt([(6.0, 9.5, "火箭发射推迟到下周三")]), encoding="utf-8")
    clues["rocket"] = Clue("rocket.mp4", 6.0, 9.5, "said")
    # Burned-in signs, shown only from 8 to 12 s (English) and 6 to 10 s (Chinese).
    _encode(folder / "shop.mp4", 16, 8, draw=_sign("BICYCLE REPAIR SHOP", 8.0, 12.0))
    clues["shop"] = Clue("shop.mp4", 8.0, 12.0, "written")
    if CJK_FONT.exists():
        _encode(folder / "library.mp4", 16, 9, draw=_sign("禁止吸烟 图书馆", 6.0, 10.0, chinese=True))
    clues["library"] = Clue("library.mp4", 6.0, 10.0, "written", "font")
    # A small caption drawn straight on the picture (20 px high): the demo CLIP's small input once
    # had the decoder shrink this video 4x before OCR, and it was never read.
    _encode(folder / "bakery.mp4", 12, 60, draw=_caption("fresh bread daily", 4.0, 8.0))
    clues["bakery"] = Clue("bakery.mp4", 4.0, 8.0, "written")
    # Spoken sentences the demo recognizer never trained on: American English at 150 words a
    # minute, British English faster.
    if shutil.which("espeak-ng"):
        end = _speech(scratch / "museum.wav", "The museum will open a new dinosaur exhibition next month.", 5.0, 16,
                      "en-us", 150)
        _encode(folder / "museum.mp4", 16, 10, inputs=["-i", str(scratch / "museum.wav")], maps=["-map", "1:a", "-c:a", "aac"])
        clues["museum"] = Clue("museum.mp4", 5.0, end, "said", "espeak")
        end = _speech(scratch / "garden.wav", "My grandmother grows tomatoes in her garden every summer.", 6.0, 16,
                      "en-gb", 175)
        _encode(folder / "garden.mp4", 16, 11, inputs=["-i", str(scratch / "garden.wav")], maps=["-map", "1:a", "-c:a", "aac"])
        clues["garden"] = Clue("garden.mp4", 6.0, end, "said", "espeak")
        end = _speech(scratch / "directions.wav", "Turn left at the bakery and the library is on your right.", 4.0, 14,
                      "en-us", 150)
        _encode(folder / "directions.mp4", 14, 16, inputs=["-i", str(scratch / "directions.wav")],
                maps=["-map", "1:a", "-c:a", "aac"])
        clues["directions"] = Clue("directions.mp4", 4.0, end, "said", "espeak")
    # The clue late in a long video.
    _encode(folder / "long.mp4", 150, 13, size=(320, 180))
    (folder / "long.srt").write_text(_srt([*FILLER, (20.0, 23.0, "Now some words about the weather."),
                                           (131.0, 134.5, "The lighthouse keeper feeds seventeen cats")]))
    clues["long"] = Clue("long.mp4", 131.0, 134.5, "said")
    return clues


# -- the services, as the demo runs them ----------------------------------------------------


@dataclass(frozen=True)
class Probe:
    addresses: list[str]  # the CLI's --indexer-address/--searcher-address arguments
    searcher: str
    clues: dict[str, Clue]


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    from videosearch.demo.talking import generate_talking_videos
    from videosearch.demo.videos import generate_demo_corpus

    work = tmp_path_factory.mktemp("probe")
    library = work / "library"
    # The distractors: demo-world videos and the demo's videos that talk and show words.
    generate_demo_corpus(library / "demo", 3, (3, 4), seed=2024, size=(320, 180), frames_per_scene=(30, 50))
    generate_talking_videos(library / "demo")
    scratch = work / "scratch"
    scratch.mkdir()
    clues = make_probe_videos(library / "probe", scratch)
    config = ClusterConfig(
        model=str(REPO_ROOT / "models" / "demo-clip"), data_dir=str(work / "data"), allowed_roots=(str(library),),
        embedder_port=0, searcher_port=0, indexer_port=0, log_dir=str(work / "logs"),
        extra_env={"HF_HUB_OFFLINE": "1", "VIDEOSEARCH_INDEXER_SPEECH": "true",
                   "VIDEOSEARCH_INDEXER_ON_SCREEN_TEXT": "true",
                   "VIDEOSEARCH_EMBEDDER_SPEECH_RECOGNIZER": f"ctc:{REPO_ROOT / 'models' / 'demo-speech'}"},
    )
    with LocalCluster(config) as cluster:
        addresses = ["--indexer-address", cluster.address("indexer"), "--searcher-address", cluster.address("searcher")]
        assert cli.main([*addresses, "index", str(library)]) == 0
        yield Probe(addresses, cluster.address("searcher"), clues)


def _needs(clue: Clue) -> None:
    if clue.needs == "espeak" and not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is missing (make text-deps installs it)")
    if clue.needs == "font" and not CJK_FONT.exists():
        pytest.skip(f"{CJK_FONT} is missing (make text-deps installs it)")


def _overlaps(start: float, end: float, clue: Clue) -> bool:
    return start < clue.end and clue.start < end


QUERIES = [
    # A sidecar subtitle: a few words, the whole line, a quoted phrase, capitals, another order;
    # "pier seven" is also in market.srt, scattered over two lines.
    ("harbour", "ferry to Tasmania"),
    ("harbour", "The ferry to Tasmania leaves from pier seven"),
    ("harbour", '"leaves from pier seven"'),
    ("harbour", "FERRY TO TASMANIA"),
    ("harbour", "Tasmania ferry"),
    ("harbour", "ferry Tasmania"),
    ("harbour", "pier seven"),
    ("agenda", "budget meeting"),
    ("volcano", "volcano expedition"),
    ("volcano", "Our volcano expedition starts on Thursday"),
    ("glacier", "submarine surfaced beside a glacier"),
    ("glacier", "glacier submarine surfaced"),
    ("tea", "龙井茶"),
    ("tea", "杭州喝龙井茶"),
    ("panda", "熊猫基地"),
    ("rocket", "火箭发射"),
    ("shop", "bicycle repair shop"),
    ("shop", "Bicycle Repair"),
    ("library", "禁止吸烟"),
    ("library", "图书馆"),
    ("bakery", "fresh bread daily"),
    # Spoken: words the demo recognizer hears close enough (tolerant matching) in both voices.
    ("museum", "exhibition next month"),
    ("garden", "garden every summer"),
    # The whole sentence, and its end alone (words that other clues' lines share: "bakery", "library").
    ("directions", "library is on your right"),
    ("directions", "Turn left at the bakery and the library is on your right."),
    ("long", "lighthouse keeper feeds seventeen cats"),
    ("long", "seventeen cats"),
]


@pytest.mark.parametrize(("name", "query"), QUERIES, ids=[f"{name}:{query}" for name, query in QUERIES])
def test_the_clue_is_found_first_at_its_time_from_the_cli(probe, name, query, capsys):
    clue = probe.clues.get(name)
    if clue is None:
        pytest.skip("espeak-ng is missing (make text-deps installs it)")
    _needs(clue)
    capsys.readouterr()
    assert cli.main([*probe.addresses, "search", query, "--top", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    ranked = [Path(hit["video"]["path"]).name for hit in result["videos"]]
    assert ranked and ranked[0] == clue.file, f"{query!r}: {clue.file} not first in {ranked}"
    best = result["videos"][0]["scenes"][0]
    moment = best["moment"] or best["scene"]
    assert _overlaps(moment["start_seconds"], moment["end_seconds"], clue), (query, moment, clue)
    assert clue.kind in best["matched_kinds"], best["matched_kinds"]
    line = best["text_matches"][0]
    assert line["kind"] == clue.kind and "[" in line["marked_text"], line
    assert _overlaps(line["start_seconds"], line["end_seconds"], clue), (line, clue)
    if clue.kind == "said" and clue.needs != "espeak":  # a subtitle cue keeps its own times exactly
        assert (line["start_seconds"], line["end_seconds"]) == pytest.approx((clue.start, clue.end), abs=0.01)


def test_each_clue_is_the_first_moment_from_the_typed_client(probe):
    """Scenes mode: the first moment of all (not the first video's best) is the clue's."""
    with SearcherClient(probe.searcher) as searcher:
        videos = {v.video_id: Path(v.uri).name for v in searcher.list_videos(100, "")[0]}
        wrong = []
        for name, query in QUERIES:
            clue = probe.clues.get(name)
            if clue is None or (clue.needs == "font" and not CJK_FONT.exists()):
                continue
            first = searcher.search(text=query, params=SearchParams(mode="scenes", top_k=1)).scenes[0]
            moment = first.moment or first.scene
            if videos[first.video_id] != clue.file or not _overlaps(moment.start_seconds, moment.end_seconds, clue):
                wrong.append((query, videos[first.video_id], moment.start_seconds))
        assert not wrong
        # Every video here shows a moving ball, which OCR reads as "●": shapes are not words.
        written = [span.text for video_id in videos for span in searcher.get_text_spans(video_id) if span.kind == "written"]
        assert written and all(any(c.isalnum() for c in text) for text in written), written
