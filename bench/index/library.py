"""Indexing a realistic library: mixed files as phones and cameras write them, through the three
services, against decoding them alone.

    python bench/index/library.py                 # 8 files of 15 s: a few minutes on 2 cores
    python bench/index/library.py --hours 3       # the full library: 3 hours of video in all
    python bench/index/library.py --write-docs    # also record the tables in docs/performance.md

The library is made with the ffmpeg that imageio-ffmpeg ships, from the shared testvideo.mp4
(real footage, with cuts) looped to length, and cached in bench/out/library/: H.264 Main and
High with 3 B-frames at 720p and 1080p from 2 to 12 Mbit/s, HEVC (libx265) when the binary has
it, MPEG-4 Part 2 (no B-frames, as cameras wrote it), variable frame rate (about a third of
the frames dropped, the others keeping their timestamps), portrait 1080x1920, with and without
an AAC audio track.

Reported: hours of video indexed per wall-clock hour (jobs one at a time, each file decoded
alone just before its first job, so both see the same load on the machine; the Indexer's
defaults, demo CLIP in float32); per file and per codec, decode alone (the decode pass's
reader: PyAV, frames shrunk as the pass keeps them) beside the whole job, and their ratio, in
wall seconds and in CPU seconds (user + system of the decoding process; of the three services
for the job: steadier than wall time on a shared machine); the
busy seconds per stage of the job (stages overlap, so they can add up to more than the wall);
then the same with speech (pocketsphinx) and on-screen text (rapidocr) read too, unless
``--no-text``. The machine is shared: absolute figures are lower bounds; the ratios come from
the same run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402  (sets up sys.path for the project's packages)
from decoding import decode_only  # noqa: E402  (bench/index/decoding.py)
from videosearch.client.indexer import IndexerClient, SubmitOptions  # noqa: E402
from videosearch.demo.encoding import ffmpeg_exe  # noqa: E402
from videosearch.embedder.preprocessing import FramePreprocessor  # noqa: E402
from videosearch.embedder.types import Preprocessing  # noqa: E402
from videosearch.indexer.media.decoding import DecoderSettings  # noqa: E402
from videosearch.indexer.media.scenes import decoder_shrink  # noqa: E402
from videosearch.indexer.types import JobState  # noqa: E402
from videosearch.launcher import ClusterConfig, LocalCluster  # noqa: E402

FAST_RUNS = {"sparse": "sparse", "keyframes only": "keyframes"}  # run name -> decode mode
TEXT_RUN = "speech + on-screen text"
SECTION = "## Library throughput (mixed H.264, HEVC, MPEG-4 Part 2 files)"
SOURCE = Path("/work/shared/videos/testvideo.mp4")
OUT = benchlib.REPO / "bench" / "out" / "library"
CLIP_INPUT = Preprocessing(224, 224, 224, 1 / 255, (0.48145466, 0.4578275, 0.40821073),
                           (0.26862954, 0.26130258, 0.27577711), "bicubic")


@dataclass(frozen=True)
class LibraryFile:
    name: str
    codec: str  # the table's codec column
    video: list[str]  # ffmpeg output options of the video stream (filters included)
    audio: bool
    needs: str = ""  # an encoder the ffmpeg binary must have


X264 = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-g", "250", "-pix_fmt", "yuv420p"]
FILES = [
    LibraryFile("h264-main-720p-2M-audio", "h264", ["-vf", "scale=1280:720", *X264, "-profile:v", "main", "-b:v", "2M"], True),
    LibraryFile("h264-high-720p-6M", "h264", ["-vf", "scale=1280:720", *X264, "-profile:v", "high", "-b:v", "6M"], False),
    LibraryFile("h264-high-1080p-12M-audio", "h264", ["-vf", "scale=1920:1080", *X264, "-profile:v", "high", "-b:v", "12M"], True),
    LibraryFile("h264-high-1080p-8M-vfr", "h264 vfr",
                ["-vf", "scale=1920:1080,select='not(eq(mod(n\\,3)\\,1))'", "-fps_mode", "vfr", *X264, "-profile:v", "high",
                 "-b:v", "8M"], False),
    LibraryFile("h264-high-portrait-1080x1920-8M-audio", "h264 portrait",
                ["-vf", "scale=1920:1080,transpose=1", *X264, "-profile:v", "high", "-b:v", "8M"], True),
    LibraryFile("hevc-1080p-5M-audio", "hevc", ["-vf", "scale=1920:1080", "-c:v", "libx265", "-preset", "ultrafast",
                                                "-x265-params", "bframes=4:keyint=250:log-level=error", "-b:v", "5M",
                                                "-pix_fmt", "yuv420p", "-tag:v", "hvc1"], True, needs="libx265"),
    LibraryFile("hevc-720p-2M", "hevc", ["-vf", "scale=1280:720", "-c:v", "libx265", "-preset", "ultrafast",
                                         "-x265-params", "bframes=4:keyint=250:log-level=error", "-b:v", "2M",
                                         "-pix_fmt", "yuv420p", "-tag:v", "hvc1"], False, needs="libx265"),
    LibraryFile("mpeg4-part2-720p-8M-audio", "mpeg4", ["-vf", "scale=1280:720", "-c:v", "mpeg4", "-b:v", "8M",
                                                       "-g", "250", "-pix_fmt", "yuv420p"], True),
]


NOTES = (
    "The Embedder runs the demo CLIP (64-d, tiny), so these jobs are bound by decoding, as the job/decode "
    "ratios near 1 for H.264 and HEVC show; a real CLIP's forward passes add their own CPU (`make bench-index`: "
    "22 CPU s of ViT-B/32 for 5 min of 720p, on top of the decode). The short MPEG-4 file's ratio is the job's "
    "fixed costs (probe, hash, store, thumbnails) over a 0.4 s decode. 1080p H.264 at 8-12 Mbit/s decodes at "
    "3-5x real time on these 2 cores: the library's hours per hour are set by its 1080p files. Speech "
    "(pocketsphinx) and on-screen text (rapidocr) cost what the +text columns and the ocr and speech stages "
    "show; `bench/index/text_cost.py` measures their worst case. The fast modes' columns (sparse: keyframes "
    "and each GOP's first reference frames; keyframes only), with their CPU against the default's (the "
    "steadier figure under load): docs/performance.md, \"Fast mode\", says what they cost in cuts and moments.")


def encoders() -> str:
    return subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=True).stdout


def make(file: LibraryFile, seconds: float) -> Path:
    """The file, ``seconds`` long (cached by name and length)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{file.name}-{seconds:g}s.mp4"
    if path.exists():
        return path
    if not SOURCE.exists():
        raise SystemExit(f"{SOURCE} is needed to make the library")
    command = [ffmpeg_exe(), "-y", "-loglevel", "error", "-stream_loop", "-1", "-i", str(SOURCE)]
    if file.audio:
        command += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    command += ["-t", f"{seconds:g}", "-map", "0:v", *file.video]
    command += ["-map", "1:a", "-c:a", "aac", "-b:a", "128k"] if file.audio else ["-an"]
    partial = path.with_suffix(".part.mp4")
    subprocess.run([*command, str(partial)], check=True)
    partial.rename(path)
    return path


def index(cluster, path: Path, options: SubmitOptions):
    """(the finished job, CPU seconds the three services spent on it)."""
    cpu = benchlib.cluster_cpu_seconds(cluster)
    with IndexerClient(cluster.address("indexer"), timeout=3600) as indexer:
        job = indexer.wait(indexer.submit(str(path), options).job_id)
    if job.state is not JobState.SUCCEEDED:
        raise RuntimeError(f"indexing {path.name} failed: {job.error}")
    return job, benchlib.cluster_cpu_seconds(cluster) - cpu


def duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.duration / 1_000_000)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(benchlib.REPO / "models" / "demo-clip"))
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each file (default run)")
    parser.add_argument("--hours", type=float, default=0.0, help="the full library: this many hours in all")
    parser.add_argument("--no-fast", action="store_true", help="skip the runs in the fast modes (sparse, keyframes only)")
    parser.add_argument("--no-text", action="store_true", help="skip the run with speech and on-screen text on")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)

    have = encoders()
    files = [f for f in FILES if not f.needs or f.needs in have]
    skipped = [f.name for f in FILES if f not in files]
    seconds = args.hours * 3600 / len(files) if args.hours else args.seconds
    started = time.perf_counter()
    print(f"library in {OUT} ({len(files)} files of {seconds:g} s; made unless cached) ...", flush=True)
    paths = {f.name: make(f, seconds) for f in files}
    made = time.perf_counter() - started
    lengths = {name: duration(path) for name, path in paths.items()}

    shrink = decoder_shrink(FramePreprocessor(CLIP_INPUT))
    decode: dict[str, dict] = {}
    runs = {"picture only": SubmitOptions(force=True, speech=False, on_screen_text=False)}
    if not args.no_fast:  # the fast modes beside the default, per codec (docs/performance.md, "Fast mode")
        for run, mode in FAST_RUNS.items():
            runs[run] = SubmitOptions(force=True, speech=False, on_screen_text=False, decode_mode=mode)
    if not args.no_text:
        runs[TEXT_RUN] = SubmitOptions(force=True, speech=True, on_screen_text=True)
    jobs: dict[str, dict] = {}
    job_cpu: dict[str, dict] = defaultdict(dict)
    with tempfile.TemporaryDirectory() as data:
        config = ClusterConfig(model=args.model, data_dir=data, allowed_roots=(str(OUT),), embedder_port=0,
                               searcher_port=0, indexer_port=0,
                               extra_env={"HF_HUB_OFFLINE": "1", "VIDEOSEARCH_EMBEDDER_DTYPE": "float32"})
        with LocalCluster(config) as cluster:
            index(cluster, paths[files[0].name], list(runs.values())[-1])  # warm-up: models load on first use
            for run, options in runs.items():
                jobs[run] = {}
                for name, path in paths.items():
                    if name not in decode:  # just before the file's first job: the same load on both
                        decode[name] = decode_only(path, DecoderSettings(), shrink)
                    job, cpu = index(cluster, path, options)
                    jobs[run][name] = job
                    job_cpu[run][name] = cpu
                    print(f"  {run}: {name}: {lengths[name]:.1f} s of video, job {job.stage_seconds.get('total_wall', 0):.2f} s, "
                          f"decode alone {decode[name]['wall']:.2f} s", flush=True)

    total = sum(lengths.values())
    lines = []
    for run, done in jobs.items():
        wall = sum(job.stage_seconds.get("total_wall", 0.0) for job in done.values())
        lines.append(f"{run}: {total / 3600:.3f} h of video in {wall:.1f} s of jobs (one at a time): "
                     f"{total / wall:.1f} hours of video per wall-clock hour")
    head = (f"{'file':<40}{'codec':<15}{'video s':>8}{'decode s':>9}{'decode CPU s':>13}{'job s':>8}{'job CPU s':>10}"
            f"{'job/decode':>11}{'CPU ratio':>10}" + ("{:>12}{:>14}".format("+text job s", "+text CPU s") if TEXT_RUN in jobs else ""))
    table = [head, "-" * len(head)]
    by_codec = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for f in files:
        job_s = jobs["picture only"][f.name].stage_seconds.get("total_wall", 0.0)
        text = (f"{jobs['speech + on-screen text'][f.name].stage_seconds.get('total_wall', 0.0):>12.2f}"
                f"{job_cpu['speech + on-screen text'][f.name]:>14.2f}" if TEXT_RUN in jobs else "")
        d = decode[f.name]
        cpu = job_cpu["picture only"][f.name]
        table.append(f"{f.name:<40}{f.codec:<15}{lengths[f.name]:>8.1f}{d['wall']:>9.2f}{d['cpu']:>13.2f}{job_s:>8.2f}"
                     f"{cpu:>10.2f}{job_s / d['wall']:>10.2f}x{cpu / d['cpu']:>9.2f}x{text}")
        codec = by_codec[f.codec.split()[0]]
        codec[0] += lengths[f.name]
        codec[1] += d["wall"]
        codec[2] += job_s
        codec[3] += cpu / d["cpu"] * lengths[f.name]  # weighted by length, divided below
    fast_runs = [run for run in FAST_RUNS if run in jobs]
    # codec -> [job wall, job CPU] per run: the fast modes' realtime factors, and their CPU against
    # the default's (the steadier figure on a shared machine)
    per_codec = {run: defaultdict(lambda: [0.0, 0.0]) for run in ["picture only", *fast_runs]}
    for run, sums in per_codec.items():
        for f in files:
            sums[f.codec.split()[0]][0] += jobs[run][f.name].stage_seconds.get("total_wall", 0.0)
            sums[f.codec.split()[0]][1] += job_cpu[run][f.name]
    codecs = [f"{'codec':<8}{'video s':>8}{'decode x realtime':>19}{'job x realtime':>16}{'job/decode':>12}"
              f"{'CPU job/decode':>16}" + "".join(f"{run + ' x realtime':>27}{'CPU less':>10}" for run in fast_runs),
              "-" * (79 + 37 * len(fast_runs))]
    for codec, (video_s, decode_s, job_s, cpu_ratio) in by_codec.items():
        default_cpu = per_codec["picture only"][codec][1]
        codecs.append(f"{codec:<8}{video_s:>8.1f}{video_s / decode_s:>19.1f}{video_s / job_s:>16.1f}{job_s / decode_s:>11.2f}x"
                      f"{cpu_ratio / video_s:>15.2f}x" + "".join(
                          f"{video_s / per_codec[run][codec][0]:>27.1f}{default_cpu / per_codec[run][codec][1]:>9.1f}x"
                          for run in fast_runs))
    stages = []
    for run, done in jobs.items():
        busy = defaultdict(float)
        for job in done.values():
            for stage, value in job.stage_seconds.items():
                busy[stage] += value
        stages.append(f"  {run}: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(busy.items())))
    text = "\n".join([
        f"{len(files)} files of {seconds:g} s ({total / 60:.1f} min in all)"
        + (f"; skipped (encoder missing): {', '.join(skipped)}" if skipped else ""),
        *lines, "", *table, "", *codecs, "", "busy seconds per stage, summed over the library (stages overlap):", *stages,
    ])
    print("\n" + text + f"\n\nlibrary made in {made:.0f} s; total {time.perf_counter() - started:.0f} s on {benchlib.machine()}")
    if args.write_docs:
        command = " ".join(["python bench/index/library.py", *(argv if argv is not None else sys.argv[1:])])
        benchlib.write_section(SECTION, f"`{command.replace(' --write-docs', '')}` on {benchlib.machine()} (shared "
                                        f"machine: absolute figures are lower bounds; ratios come from the same run):"
                                        f"\n\n```\n{text}\n```\n\n{NOTES}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
