"""Indexing a realistic library: mixed files as phones and cameras write them, through the three
services, against decoding them alone. Resumable: every finished measurement is stored at once.

    python bench/index/library.py                          # 8 files of 15 s: a few minutes on 2 cores
    python bench/index/library.py --hours 1 --runs picture,text --decode-minutes 4 --resume
    python bench/index/library.py --hours 1 --resume --runs sparse,keyframes   # later, the same store
    python bench/index/library.py --hours 1 --report       # the tables from the stored results only
    python bench/index/library.py --write-docs             # also record the tables in docs/performance.md

The library (bench/index/library_files.py, cached in bench/out/library/): H.264 Main and High
with 3 B-frames at 720p and 1080p from 2 to 12 Mbit/s, HEVC (libx265) when the binary has it,
MPEG-4 Part 2 (no B-frames, as cameras wrote it), variable frame rate (a third of the frames
dropped, the others keeping their timestamps), portrait 1080x1920, with and without a speech
track (espeak-ng, AAC). ``--hours H`` splits H hours over the 8 files. Each file is one encoded
segment of at most 2 minutes (testvideo.mp4 looped, each 24 s loop in another hue) repeated by
stream copy to its length, so making hours costs minutes (``--library DIR`` reads or makes the
files in another folder, e.g. one a previous checkout filled). What that means for the figures: every frame
is decoded at the codec's real cost (the bitstream is a real one of that codec, bitrate and
GOP); the pictures repeat every 2 minutes, which changes no cost here: the Indexer keeps no
cache across scenes (embedding reuse compares a scene's samples with that scene's own last
embedded frame, videosearch.indexer.media.reuse; on-screen text skips a sample only when it
matches the sample before it), and scene detection and sampling run on every frame whatever it
shows. The speech track does not repeat (sentences drawn at random for the whole length); the
demo recognizer's spelling-search cache (speech_ctc, bounded at 50k words) does see the same
everyday vocabulary again, as it would in real speech.

Runs (``--runs``, in the order given): ``picture`` (the Indexer's defaults: picture only),
``text`` (speech and on-screen text read too; speech by ``--speech-recognizer``, the demo CTC
recognizer unless told), ``sparse`` and ``keyframes`` (the fast decode modes, picture only).
Each file is decoded alone (the decode pass's reader: PyAV, frames shrunk as the pass keeps
them) just before its first job, so both see the same load; ``--decode-minutes M`` decodes only
the first M minutes (from 2 minutes on that is the whole segment, so the per-second cost is the
file's; the tables say which). Jobs run one at a time (demo CLIP, float32).

Every measurement goes to ``--results`` (default bench/out/library/results.json) the moment it
ends, keyed by file, length, run and decode mode, with its UTC time, the load average, the CPU
seconds other processes took meanwhile (as cores busy: the load the job shared the machine
with) and the commit. ``--resume`` skips what is stored; the tables are built from every stored
result of the library asked for, whichever run measured it. Reported: hours of video indexed
per wall-clock hour per run; per file and per codec the decode alone beside each run's job
(realtime factors, the job/decode ratio in wall and CPU seconds, the CPU of the three services
and their children for the job); busy seconds per stage per codec (stages overlap); and from
the measured rates, how long ``--hours H`` takes per run on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# benchlib puts the project's packages on sys.path; decoding, library_files, text_cost: this folder
import benchlib
from decoding import decode_only
from library_files import OUT, LibraryFile, available, make
from text_cost import tree_cpu_seconds
from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.common.settings import env_name
from videosearch.embedder.preprocessing import FramePreprocessor
from videosearch.embedder.settings import ENV_PREFIX as EMBEDDER_ENV
from videosearch.embedder.types import Preprocessing
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.scenes import decoder_shrink
from videosearch.indexer.types import JobState
from videosearch.launcher import ClusterConfig, LocalCluster

SECTION = "## Library throughput (mixed H.264, HEVC, MPEG-4 Part 2 files)"
CLIP_INPUT = Preprocessing(
    224, 224, 224, 1 / 255, (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711), "bicubic"
)
DEMO_SPEECH = f"ctc:{benchlib.REPO / 'models' / 'demo-speech'}"


@dataclass(frozen=True)
class Run:
    title: str
    options: dict = field(default_factory=dict)
    mode: str = "default"  # the decode mode (videosearch.indexer.media.decoding)


RUNS = {
    "picture": Run("picture only", dict(speech=False, on_screen_text=False)),
    "text": Run("speech + on-screen text", dict(speech=True, on_screen_text=True)),
    "sparse": Run("sparse", dict(speech=False, on_screen_text=False, decode_mode="sparse"), "sparse"),
    "keyframes": Run("keyframes only", dict(speech=False, on_screen_text=False, decode_mode="keyframes"), "keyframes"),
}

NOTES = (
    "The Embedder runs the demo CLIP (64-d, tiny), so these jobs are bound by decoding, as the job/decode "
    "ratios near 1 for H.264 and HEVC show; a real CLIP's forward passes add their own CPU (`make bench-index`: "
    "22 CPU s of ViT-B/32 for 5 min of 720p, on top of the decode). Each file is a segment of at most 2 minutes repeated by "
    "stream copy (bench/index/library.py's docstring: decoding costs the codec's real cost per frame; no cache "
    "of the Indexer sees the repeats). The speech track is espeak-ng reading random everyday sentences, heard by "
    "the demo CTC recognizer; `bench/index/text_cost.py` measures the text readers' worst case. The fast modes "
    "(sparse: keyframes and each GOP's first reference frames; keyframes only): docs/performance.md, \"Fast "
    "mode\", says what they cost in cuts and moments. Each run's UTC times, load and the other processes' CPU "
    "(cores busy beside the bench) are listed under the tables: figures measured beside other work are lower "
    "bounds, the CPU columns move less than the wall ones."
)


# -- the store of results ----------------------------------------------------------------------


class Results:
    """Measurements by key, in a JSON file rewritten (atomically) after each one."""

    def __init__(self, path: Path):
        self.path = path
        self.items: dict[str, dict] = json.loads(path.read_text())["results"] if path.exists() else {}

    def __contains__(self, key: str) -> bool:
        return key in self.items

    def get(self, key: str) -> dict | None:
        return self.items.get(key)

    def put(self, key: str, record: dict) -> None:
        self.items[key] = record
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".part")
        partial.write_text(json.dumps({"results": self.items}, indent=1, sort_keys=True))
        os.replace(partial, self.path)


def job_key(file: LibraryFile, seconds: float, run: str) -> str:
    return f"{file.name}|{seconds:g}s|{run}|{RUNS[run].mode}"


def decode_key(file: LibraryFile, seconds: float, minutes: float) -> str:
    return f"{file.name}|{seconds:g}s|decode-only|" + (f"first {minutes:g} min" if minutes else "whole")


def stored_decode(store: Results, file: LibraryFile, seconds: float, minutes: float) -> dict | None:
    """The file's decode-alone figures for ``minutes`` (0: whole), else any stored for it at this
    length (a report run without the measuring run's ``--decode-minutes`` still finds them)."""
    asked = store.get(decode_key(file, seconds, minutes))
    if asked is not None:
        return asked
    prefix = decode_key(file, seconds, 0).rsplit("|", 1)[0] + "|"
    return next((record for key, record in sorted(store.items.items()) if key.startswith(prefix)), None)


def commit() -> str:
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(benchlib.REPO), *args], capture_output=True, text=True)

    head = git("rev-parse", "--short", "HEAD").stdout.strip() or "unknown"
    return head + ("+changes" if git("diff", "--quiet", "HEAD", "--", "bench", "services").returncode else "")


def busy_cpu_seconds() -> float:
    """CPU seconds every process on the machine has used (/proc/stat: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


class Conditions:
    """What else ran while one measurement did: call ``done(own_cpu, wall)`` at its end."""

    def __init__(self) -> None:
        self.busy, self.own = busy_cpu_seconds(), time.process_time()

    def done(self, services_cpu: float, wall: float) -> dict:
        """``services_cpu``: the measured services' CPU seconds (0 when this process did the work)."""
        own = time.process_time() - self.own  # this process: decoding, or waiting on a job
        others = busy_cpu_seconds() - self.busy - own - services_cpu
        return {
            "utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            "load": [round(x, 2) for x in os.getloadavg()],
            "others_cores": round(max(0.0, others) / max(wall, 1e-9), 2),
            "commit": commit(),
        }


# -- measuring ---------------------------------------------------------------------------------


def index(cluster, path: Path, run: Run) -> dict:
    """One job's figures: wall and CPU seconds, busy seconds per stage, conditions."""
    conditions, cpu, began = Conditions(), tree_cpu_seconds(cluster), time.perf_counter()
    with IndexerClient(cluster.address("indexer"), timeout=6 * 3600) as indexer:
        job = indexer.wait(indexer.submit(str(path), SubmitOptions(force=True, **run.options)).job_id)
    if job.state is not JobState.SUCCEEDED:
        raise RuntimeError(f"indexing {path.name} failed: {job.error}")
    wall, cpu = time.perf_counter() - began, tree_cpu_seconds(cluster) - cpu
    return {
        "wall": job.stage_seconds.get("total_wall", wall),
        "cpu": cpu,
        "stages": dict(job.stage_seconds),
        "text_spans": job.text_spans_found,
        **conditions.done(cpu, wall),
    }


def decode(path: Path, minutes: float) -> dict:
    conditions = Conditions()
    figures = decode_only(
        path, DecoderSettings(), decoder_shrink(FramePreprocessor(CLIP_INPUT)), max_seconds=minutes * 60
    )
    return {**figures, "whole": not minutes, **conditions.done(0.0, figures["wall"])}


def video_seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.duration / 1_000_000)


def pending(args, files: list[LibraryFile], store: Results) -> list[tuple[str, LibraryFile]]:
    """(run, file) of each job to measure, in order."""
    return [(run, f) for run in args.runs for f in files if not (args.resume and job_key(f, args.length, run) in store)]


def measure(
    args, todo: list[tuple[str, LibraryFile]], files: list[LibraryFile], paths: dict[str, Path], store: Results
) -> None:
    env = {
        "HF_HUB_OFFLINE": "1",
        "VIDEOSEARCH_EMBEDDER_DTYPE": "float32",
        env_name(EMBEDDER_ENV, "speech_recognizer"): args.speech_recognizer,
    }
    with tempfile.TemporaryDirectory() as data:
        config = ClusterConfig(
            model=args.model,
            data_dir=data,
            allowed_roots=(str(args.out),),
            embedder_port=0,
            searcher_port=0,
            indexer_port=0,
            extra_env=env,
        )
        with LocalCluster(config) as cluster:
            warm = "text" if any(run == "text" for run, _ in todo) else todo[0][0]
            index(cluster, make(files[0], 6.0, args.out), RUNS[warm])  # models load on first use
            decoded_now = set()
            for run, f in todo:
                key = decode_key(f, args.length, args.decode_minutes)
                if key not in decoded_now and not (args.resume and key in store):  # just before the file's first job
                    figures = decode(paths[f.name], args.decode_minutes)
                    store.put(
                        key,
                        {"file": f.name, "codec": f.codec, "video_seconds": video_seconds(paths[f.name]), **figures},
                    )
                    decoded_now.add(key)
                    decoded = store.get(key)
                    print(
                        f"  decode alone: {f.name}: {decoded['seconds']:.0f} s of video in {decoded['wall']:.1f} s "
                        f"(load {decoded['load'][0]}, others {decoded['others_cores']} cores)",
                        flush=True,
                    )
                figures = index(cluster, paths[f.name], RUNS[run])
                record = {
                    "file": f.name,
                    "codec": f.codec,
                    "run": run,
                    "video_seconds": video_seconds(paths[f.name]),
                    **figures,
                }
                if run == "text":
                    record["speech_recognizer"] = args.speech_recognizer.replace(f"{benchlib.REPO}/", "")
                store.put(job_key(f, args.length, run), record)
                print(
                    f"  {RUNS[run].title}: {f.name}: {record['video_seconds']:.0f} s of video, job {record['wall']:.1f} s "
                    f"({record['video_seconds'] / record['wall']:.1f}x realtime), CPU {record['cpu']:.1f} s "
                    f"(load {record['load'][0]}, others {record['others_cores']} cores)",
                    flush=True,
                )


# -- the report --------------------------------------------------------------------------------


def report(args, files: list[LibraryFile], skipped: list[str], store: Results) -> str:
    jobs = {run: {f.name: r for f in files if (r := store.get(job_key(f, args.length, run)))} for run in RUNS}
    jobs = {run: done for run, done in jobs.items() if done}
    decodes = {f.name: r for f in files if (r := stored_decode(store, f, args.length, args.decode_minutes))}
    total = args.length * len(files)
    lines = [
        f"{len(files)} files of {args.length:g} s ({total / 3600:.2f} h in all)"
        + (f"; skipped (encoder missing): {', '.join(skipped)}" if skipped else "")
    ]
    rates = {}
    for run, done in jobs.items():
        video, wall = sum(r["video_seconds"] for r in done.values()), sum(r["wall"] for r in done.values())
        rates[run] = video / wall
        lines.append(
            f"{RUNS[run].title}: {video / 3600:.3f} h of video in {wall:.0f} s of jobs (one at a time): "
            f"{rates[run]:.1f} hours of video per wall-clock hour"
            + ("" if len(done) == len(files) else f" ({len(done)} of {len(files)} files measured)")
        )
    whole = all(d["whole"] for d in decodes.values())
    parts = sorted({round(d["seconds"] / 60, 2) for d in decodes.values() if not d["whole"]})
    decoded_what = "whole files" if whole else f"the first {'/'.join(f'{m:g}' for m in parts)} min of each file"
    if decodes:
        decode_video = sum(d["seconds"] for d in decodes.values())
        lines.append(
            f"decode alone ({decoded_what}): {decode_video / sum(d['wall'] for d in decodes.values()):.1f}x realtime"
        )

    def per_second(record: dict, key: str) -> float:  # seconds of wall or CPU per second of video
        return record[key] / (record["seconds"] if "seconds" in record else record["video_seconds"])

    head = f"{'file':<40}{'codec':<15}{'video s':>8}{'decode x rt':>12}{'CPU s/min':>10}" + "".join(
        f"{run + ' x rt':>16}{'job/decode':>11}" for run in jobs
    )
    table = [head, "-" * len(head)]
    for f in files:
        d = decodes.get(f.name)
        row = f"{f.name:<40}{f.codec:<15}{args.length:>8.0f}" + (
            f"{1 / per_second(d, 'wall'):>12.1f}{60 * per_second(d, 'cpu'):>10.1f}" if d else f"{'-':>12}{'-':>10}"
        )
        for done in jobs.values():
            r = done.get(f.name)
            row += (
                f"{1 / per_second(r, 'wall'):>16.1f}"
                + (f"{per_second(r, 'wall') / per_second(d, 'wall'):>10.2f}x" if d else f"{'-':>11}")
                if r
                else f"{'-':>16}{'-':>11}"
            )
        table.append(row)

    codecs = sorted({f.codec.split()[0] for f in files}, key=[f.codec.split()[0] for f in files].index)
    of_codec = {c: [f.name for f in files if f.codec.split()[0] == c] for c in codecs}

    def sums(records: dict, names: list[str], key: str) -> tuple[float, float]:
        chosen = [records[n] for n in names if n in records]
        return sum(r[key] for r in chosen), sum(r.get("seconds", r["video_seconds"]) for r in chosen)

    head = f"{'codec':<8}{'video h':>8}{'decode x rt':>12}" + "".join(
        f"{run + ' h/h':>16}{'job/decode':>11}{'CPU j/d':>9}" for run in jobs
    )
    by_codec = [head, "-" * len(head)]
    for c in codecs:
        names = of_codec[c]
        d_wall, d_video = sums(decodes, names, "wall")
        d_cpu, _ = sums(decodes, names, "cpu")
        row = f"{c:<8}{args.length * len(names) / 3600:>8.2f}" + (
            f"{d_video / d_wall:>12.1f}" if d_wall else f"{'-':>12}"
        )
        for done in jobs.values():
            wall, video = sums(done, [n for n in names if n in decodes or not d_wall], "wall")
            cpu, _ = sums(done, [n for n in names if n in decodes or not d_wall], "cpu")
            if not wall:
                row += f"{'-':>16}{'-':>11}{'-':>9}"
                continue
            # ratios over the files measured both ways, per second of video (decode may be the first minutes only)
            ratio = (wall / video) / (d_wall / d_video) if d_wall else float("nan")
            cpu_ratio = (cpu / video) / (d_cpu / d_video) if d_cpu else float("nan")
            row += f"{video / wall:>16.1f}{ratio:>10.2f}x{cpu_ratio:>8.2f}x"
        by_codec.append(row)

    stages = [
        "busy seconds per stage per minute of video (stages overlap; CPU s: the three services and their children):"
    ]
    for run, done in jobs.items():
        for c in codecs:
            chosen = [done[n] for n in of_codec[c] if n in done]
            if not chosen:
                continue
            minutes = sum(r["video_seconds"] for r in chosen) / 60
            busy = defaultdict(float)
            for r in chosen:
                for stage, value in r["stages"].items():
                    busy[stage] += value
            stages.append(
                f"  {RUNS[run].title}, {c}: CPU s {sum(r['cpu'] for r in chosen) / minutes:.1f}; "
                + ", ".join(f"{k} {v / minutes:.2f}" for k, v in sorted(busy.items()) if v / minutes >= 0.005)
            )

    conditions = [
        "when, under what load (load average 1 min at each end; others: CPU of other processes as cores "
        "busy meanwhile, of 2 the machine has), at which commit:"
    ]
    for name, records in [("decode alone", decodes), *[(RUNS[run].title, done) for run, done in jobs.items()]]:
        chosen = sorted(records.values(), key=lambda r: r["utc"])
        if not chosen:
            continue
        loads, others = [r["load"][0] for r in chosen], [r["others_cores"] for r in chosen]
        spoken = {r["speech_recognizer"] for r in chosen if "speech_recognizer" in r}
        conditions.append(
            f"  {name}: {chosen[0]['utc']} to {chosen[-1]['utc']} UTC, load {min(loads):.1f}-{max(loads):.1f}, "
            f"others {sum(others) / len(others):.2f} cores on average (max {max(others):.2f}), commit "
            f"{', '.join(sorted({r['commit'] for r in chosen}))}" + (f", speech {', '.join(spoken)}" if spoken else "")
        )

    cores = os.cpu_count() or 1
    estimate = [
        f"time per run at the rates above (jobs only; decode alone adds {decoded_what}), and at best on {cores} idle "
        f"cores (the CPU seconds measured, spread over every core: what the wall time shrinks to with no other work):"
    ]
    for run, rate in rates.items():
        done = jobs[run].values()
        cpu_rate = sum(r["video_seconds"] for r in done) / sum(r["cpu"] for r in done) * cores
        estimate.append(
            f"  {RUNS[run].title}: {60 / rate:.1f} min per hour of library (at best {60 / cpu_rate:.1f}); "
            + ", ".join(f"--hours {h:g}: {60 * h / rate:.0f} min ({60 * h / cpu_rate:.0f})" for h in (0.5, 1, 2, 3))
        )
    if decodes:
        rate = sum(d["seconds"] for d in decodes.values()) / sum(d["wall"] for d in decodes.values())
        cpu_rate = sum(d["seconds"] for d in decodes.values()) / sum(d["cpu"] for d in decodes.values()) * cores
        estimate.append(f"  decode alone: {60 / rate:.1f} min per hour of video decoded (at best {60 / cpu_rate:.1f})")
    return "\n".join([*lines, "", *table, "", *by_codec, "", *stages, "", *conditions, "", *estimate])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(benchlib.REPO / "models" / "demo-clip"))
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each file (default run)")
    parser.add_argument("--hours", type=float, default=0.0, help="the library's length in all, split over its files")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated, in order, of {', '.join(RUNS)}")
    parser.add_argument(
        "--decode-minutes",
        type=float,
        default=0.0,
        help="decode alone only the first this many minutes of each file (0: the whole file)",
    )
    parser.add_argument("--speech-recognizer", default=DEMO_SPEECH, help="the Embedder's recognizer for the text run")
    parser.add_argument("--results", type=Path, default=OUT / "results.json", help="the store of measurements")
    parser.add_argument("--resume", action="store_true", help="skip what the store holds (else measure again)")
    parser.add_argument("--report", action="store_true", help="measure nothing: the tables from the store")
    parser.add_argument(
        "--library", dest="out", type=Path, default=OUT, help="the library's folder (files cached there)"
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    args.runs = [r for r in args.runs.split(",") if r]
    if unknown := [r for r in args.runs if r not in RUNS]:
        parser.error(f"unknown run {unknown[0]!r}; use {', '.join(RUNS)}")

    files, skipped = available()
    args.length = args.hours * 3600 / len(files) if args.hours else args.seconds
    store = Results(args.results)
    started = time.perf_counter()
    todo = [] if args.report else pending(args, files, store)
    if todo:
        print(f"library in {args.out} ({len(files)} files of {args.length:g} s; made unless cached) ...", flush=True)
        paths = {f.name: make(f, args.length, args.out) for f in files}
        print(f"  made or found in {time.perf_counter() - started:.0f} s", flush=True)
        measure(args, todo, files, paths, store)
    elif not args.report:
        print("every job asked for is stored (--resume)", flush=True)
    text = report(args, files, skipped, store)
    print(
        "\n"
        + text
        + f"\n\ntotal {time.perf_counter() - started:.0f} s on {benchlib.machine()}; results in {args.results}"
    )
    if args.write_docs:
        command = " ".join(["python bench/index/library.py", *(argv if argv is not None else sys.argv[1:])])
        benchlib.write_section(
            SECTION,
            f"`{command.replace(' --write-docs', '')}` on {benchlib.machine()} (each run's load, and the "
            f"cores other processes used beside it, are listed under the tables: where others used cores, "
            f"absolute figures are lower bounds; ratios come from the same run):"
            f"\n\n```\n{text}\n```\n\n{NOTES}\n",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
