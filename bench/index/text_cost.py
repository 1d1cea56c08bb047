"""What reading a video's words costs at index time: the same talking video indexed through the
three services with today's job (picture only) and with each reader on (subtitles, speech,
on-screen text, speech and on-screen text together), wall seconds per video minute side by
side and the ratio to today's.

    python bench/index/text_cost.py                       # 60 s video, 2 rounds
    python bench/index/text_cost.py --seconds 30 --rounds 1 --write-docs

The video (made here with imageio-ffmpeg's ffmpeg and espeak-ng): 640x360, 25 fps, a scene
every 10 s, each with a line of text drawn on it, a small moving test pattern in a corner (so
every sampled frame differs and on-screen text is read every ``min_seconds_apart``, the worst
case of the frame-difference skip), and espeak-ng reading sentences over the whole length. The
subtitles run indexes a copy of it with a sidecar .srt of one cue per 2 s. The Embedder runs the
demo CLIP (models/demo-clip) and pocketsphinx; runs alternate between the configurations and
each figure is the median of ``--rounds``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402  (sets up sys.path for the project's packages)

from videosearch.client.indexer import IndexerClient, SubmitOptions  # noqa: E402
from videosearch.indexer.types import JobState  # noqa: E402
from videosearch.launcher import ClusterConfig, LocalCluster  # noqa: E402

SECTION = "## Index-time cost of reading words"
SENTENCES = ["we will discuss the quarterly budget at the meeting", "the weather is sunny in the mountains today",
             "please open the report on page seven", "the train leaves the station at noon"]
WORDS = ["QUARTERLY BUDGET", "MOUNTAIN WEATHER", "REPORT PAGE SEVEN", "STATION NOON", "EXIT", "MEETING ROOM"]
CONFIGS = {  # name -> (job options, the copy with a sidecar)
    "today (picture only)": (dict(subtitles=False, speech=False, on_screen_text=False), False),
    "subtitles (sidecar .srt)": (dict(subtitles=True, speech=False, on_screen_text=False), True),
    "speech (pocketsphinx)": (dict(subtitles=False, speech=True, on_screen_text=False), False),
    "on-screen text (rapidocr)": (dict(subtitles=False, speech=False, on_screen_text=True), False),
    "speech + on-screen text": (dict(subtitles=False, speech=True, on_screen_text=True), False),
}


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def talking_video(path: Path, seconds: int) -> Path:
    work = path.parent
    speech = work / "speech.wav"
    text = ". ".join(SENTENCES * (1 + seconds // 12))
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(speech), text], check=True)
    drawn = ",".join(
        f"drawtext=text='{WORDS[i % len(WORDS)]}':fontsize=36:fontcolor=black:box=1:boxcolor=white:x=40:y=60:"
        f"enable='between(t,{i * 10},{i * 10 + 10})'" for i in range(seconds // 10 + 1))
    colors = ",".join(f"drawbox=c={c}:t=fill:enable='between(t,{i * 10},{i * 10 + 10})'"
                      for i, c in enumerate(["navy", "olive", "gray", "teal", "maroon", "purple"] * (seconds // 60 + 1)))
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-f", "lavfi", "-i", f"color=c=gray:size=640x360:rate=25:d={seconds}",
                    "-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=25:d={seconds}", "-i", str(speech),
                    "-filter_complex", f"[0:v]{colors},{drawn}[bg];[bg][1:v]overlay=x=460:y=250[v]",
                    "-map", "[v]", "-map", "2:a", "-af", "apad", "-t", str(seconds),
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)], check=True)
    return path


def with_sidecar(video: Path, seconds: int) -> Path:
    folder = video.parent / "subtitled"
    folder.mkdir(exist_ok=True)
    copy = folder / video.name
    shutil.copy(video, copy)
    cues = [f"{i + 1}\n00:{i * 2 // 60:02d}:{i * 2 % 60:02d},000 --> 00:{(i * 2 + 2) // 60:02d}:{(i * 2 + 2) % 60:02d},000\n"
            f"{SENTENCES[i % len(SENTENCES)]}\n" for i in range(seconds // 2)]
    copy.with_suffix(".srt").write_text("\n".join(cues))
    return copy


def index_once(cluster: LocalCluster, path: Path, options: dict) -> tuple[float, dict, int]:
    with IndexerClient(cluster.address("indexer")) as indexer:
        started = time.perf_counter()
        job = indexer.wait(indexer.submit(str(path), SubmitOptions(force=True, **options)).job_id)
        wall = time.perf_counter() - started
    if job.state is not JobState.SUCCEEDED:
        raise RuntimeError(f"indexing {path} failed: {job.error}")
    return wall, dict(job.stage_seconds), job.text_spans_found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", default=str(benchlib.REPO / "models" / "demo-clip"))
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="text-cost-") as tmp:
        work = Path(tmp)
        video = talking_video(work / "talk.mp4", args.seconds)
        subtitled = with_sidecar(video, args.seconds)
        config = ClusterConfig(model=args.model, data_dir=str(work / "data"), allowed_roots=(str(work),),
                               embedder_port=0, searcher_port=0, indexer_port=0, log_dir=str(work / "logs"),
                               extra_env={"HF_HUB_OFFLINE": "1"})
        walls: dict[str, list[float]] = {name: [] for name in CONFIGS}
        stages: dict[str, dict] = {}
        spans: dict[str, int] = {}
        with LocalCluster(config) as cluster:
            index_once(cluster, video, CONFIGS["speech + on-screen text"][0])  # warm-up: models load on first use
            for round_ in range(args.rounds):
                for name, (options, sidecar) in CONFIGS.items():
                    wall, stage_seconds, found = index_once(cluster, subtitled if sidecar else video, options)
                    walls[name].append(wall)
                    stages[name], spans[name] = stage_seconds, found
                    print(f"round {round_ + 1} {name}: {wall:.1f} s, {found} text spans", flush=True)

    minutes = args.seconds / 60

    def render(command: str) -> str:
        today = statistics.median(walls["today (picture only)"])
        rows = ["| job | wall s per video minute | vs today | text spans | busy s: speech / ocr |",
                "| --- | ---: | ---: | ---: | ---: |"]
        for name in CONFIGS:
            wall = statistics.median(walls[name])
            busy = f"{stages[name].get('speech', 0):.1f} / {stages[name].get('ocr', 0):.1f}"
            rows.append(f"| {name} | {wall / minutes:.1f} | {wall / today:.2f}x | {spans[name]} | {busy} |")
        return "\n".join([
            SECTION, "",
            f"`{command}` ({args.seconds} s talking video, 640x360, a scene every 10 s with a drawn line of text and "
            f"a moving corner pattern; medians of {args.rounds} rounds; demo CLIP, pocketsphinx, rapidocr; "
            f"{benchlib.machine()}). The machine was shared with other sessions' work while it ran: figures are "
            "noisy, and the ratios are the thing to read.", "", *rows, "",
            "Speech runs beside the decode pass (chunks of about 30 s to the Embedder's recognizer) and its wall "
            "share is the recognizer's own time when it is slower than the pass: pocketsphinx ran at "
            f"{args.seconds / max(stages['speech (pocketsphinx)'].get('speech', 0), 1e-9):.2f}x real time here. On-screen text reads a sampled frame only when it differs from the last one read "
            "in its scene and at least 2 s after it (the moving corner pattern makes every frame differ here, the "
            "worst case; a still slide is read once per scene).",
        ])

    benchlib.publish(SECTION, "bench/index/text_cost.py", render, argv, write=args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
