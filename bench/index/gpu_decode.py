"""GPU decoding end to end: whole index jobs through the real services, the Indexer decoding in
software or on NVDEC, the Embedder on the same GPU (issue 26, part 3).

    python bench/index/gpu_decode.py                        # a CUDA device: NVDEC vs software, 2-minute files
    python bench/index/gpu_decode.py --devices cpu --seconds 20   # no device: the smoke run (software, `any`)
    make bench-gpu-decode                                   # the first, with --devices auto

Files (bench/index/gpu_decode_files.py, made with PyAV, cached in bench/out/gpu-decode/): H.264
High 1080p 12 Mbit/s and 720p 6 Mbit/s, HEVC 1080p 5 Mbit/s, and MPEG-4 Part 2 720p 8 Mbit/s,
which NVDEC does not decode (on a GPU it shows the fallback: software decoding under ``any``;
whether NVDEC worked on a file is read off the decoder utilisation sampled meanwhile).

``--devices cuda``: the Embedder runs with ``--device cuda`` (float16) and the Indexer decodes with
``--decoder-hw-acceleration none`` and ``cuda``; ``--devices cpu``: the Embedder on the CPU
(float32) and the decoders ``none`` and ``any`` (no device: ``any`` falls back to software);
``auto`` (default): cuda where torch sees a device. One Embedder and one Searcher per model, and
one Indexer process per decoder beside them (the decoder is an Indexer setting), so the decoders
take turns job by job: each file is indexed by every decoder in a row, the order swapped from one
file to the next, so load drifting during the run weighs on all. Jobs index pictures only (speech
and on-screen text off), one at a time, ``force`` on (every job decodes and embeds again).

Models (``--models``): ``demo`` (models/demo-clip, the project's tiny demo CLIP: its forward
passes cost next to nothing, so the job is decode-bound) and ``vit-b32`` (a CLIP of ViT-B/32's
architecture with fixed-seed random weights, benchlib.build_vit_b32: the forward passes of a real
CLIP's size, so the GPU does real work beside NVDEC). Default: both on a GPU, ``demo`` on the CPU
(ViT-B/32 on 2 shared cores takes minutes per file).

Each file is also decoded alone (in this process, with the Indexer's decoder settings and its
frame shrink, nothing else) just before its first job with each decoder: frames per second and
CPU seconds, software beside NVDEC.

Reported per model, file and decoder: hours of video indexed per wall-clock hour, the job's wall
time over the same decoder's decode-alone time, CPU seconds per minute of video of each service
(Indexer, Embedder, Searcher: each process and its children, from /proc), GPU utilisation and
NVDEC (decoder) utilisation (mean and max) and the most GPU memory used, sampled every 200 ms
during the job by ``nvidia-smi --query-gpu=utilization.gpu,utilization.decoder,memory.used
--format=csv,noheader,nounits -lms 200`` (nvidia-smi comes with the NVIDIA driver; without it
the report says so); then per model and decoder the totals, and the UTC times, load and commit. Without a
device the GPU columns print ``-`` and the report says why. Every measurement goes to
``--results`` (JSON) as it ends, so a run stopped at a time limit keeps what it measured
(``--report`` rebuilds the tables from that file).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# benchlib puts the project's packages on sys.path; decoding, library, gpu_decode_files: this folder
import av
import benchlib
from decoding import decode_only
from gpu_decode_files import BY_NAME, OUT, SOURCE, GpuFile, make
from library import CLIP_INPUT, Conditions, video_seconds
from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.common import defaults
from videosearch.common.errors import VideoSearchError
from videosearch.embedder.preprocessing import FramePreprocessor
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.scenes import decoder_shrink
from videosearch.indexer.media.video_file import open_video
from videosearch.indexer.types import JobState
from videosearch.launcher import ServiceProcess

MODELS = ("demo", "vit-b32")
MODEL_TITLES = {
    "demo": "demo CLIP (models/demo-clip, tiny: decode-bound)",
    "vit-b32": "ViT-B/32-shaped CLIP, random weights (benchlib.build_vit_b32: a real CLIP's forward-pass cost)",
}
SERVICES = ("indexer", "embedder", "searcher")
SMI_QUERY = "utilization.gpu,utilization.decoder,memory.used"
SAMPLE_MS = 200
COMMIT_VARIABLE = "GPU_DECODE_COMMIT"
"""Where git cannot say the commit (the device machine gets the tree without .git), this names it
(bench/device/gpu_decode.sh sets it from what gpu_decode_prepare.sh wrote)."""
WARM_SECONDS = 3.0  # the file each Indexer indexes once before the measured jobs (models load, devices open)


# -- what runs where ----------------------------------------------------------------------------


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def plan(args) -> None:
    """Fills in the device, decoders and models the arguments leave to the machine."""
    if args.devices == "auto":
        args.devices = "cuda" if cuda_available() else "cpu"
    gpu = args.devices == "cuda"
    args.decoders = [d for d in (args.decoders or ("none,cuda" if gpu else "none,any")).split(",") if d]
    args.models = [m for m in (args.models or (",".join(MODELS) if gpu else "demo")).split(",") if m]
    if unknown := [m for m in args.models if m not in MODELS]:
        raise SystemExit(f"unknown model {unknown[0]!r}; use {', '.join(MODELS)}")
    args.files = [f for f in (args.files or ",".join(BY_NAME)).split(",") if f]
    if unknown := [f for f in args.files if f not in BY_NAME]:
        raise SystemExit(f"unknown file {unknown[0]!r}; use {', '.join(BY_NAME)}")
    args.dtype = args.dtype or ("float16" if gpu else "float32")


# -- GPU sampling -------------------------------------------------------------------------------


class GpuSampler:
    """GPU utilisation, decoder (NVDEC) utilisation and memory used, every SAMPLE_MS while a
    measurement runs: ``with sampler.during() as samples: ...``; ``samples`` fills up meanwhile."""

    def __init__(self, kind: str, reason: str = ""):
        self.kind, self.reason = kind, reason  # kind: "nvidia-smi" or "" (none: reason says why)

    @classmethod
    def choose(cls, devices: str) -> "GpuSampler":
        if devices != "cuda":
            return cls("", "no GPU columns: the run used no CUDA device (--devices cpu)")
        if shutil.which("nvidia-smi"):
            return cls("nvidia-smi")
        return cls("", "no GPU columns: nvidia-smi (installed with the NVIDIA driver) is not on PATH")

    def describe(self) -> str:
        if self.kind == "nvidia-smi":
            return (
                f"sampled by `nvidia-smi --query-gpu={SMI_QUERY} --format=csv,noheader,nounits -lms {SAMPLE_MS}` "
                "(whole GPU: GPU % is the time a kernel ran, NVDEC % the decoder's busy time)"
            )
        return self.reason

    def during(self) -> "_Sampling":
        return _Sampling(self.kind)


class _Sampling:
    def __init__(self, kind: str):
        self.kind = kind
        self.samples: list[tuple[float, float, float]] = []  # (gpu %, decoder %, memory MiB)
        self._process: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> list[tuple[float, float, float]]:
        if self.kind == "nvidia-smi":
            command = ["nvidia-smi", f"--query-gpu={SMI_QUERY}", "--format=csv,noheader,nounits", f"-lms={SAMPLE_MS}"]
            self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            first = threading.Event()
            self._thread = threading.Thread(target=self._read_smi, args=(first,), daemon=True)
            self._thread.start()
            first.wait(5)  # the first sample is in before the measurement starts
        return self.samples

    def _read_smi(self, first: threading.Event) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            sample = parse_smi_line(line)
            if sample is not None:
                self.samples.append(sample)
                first.set()
        first.set()

    def __exit__(self, *exc) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
        if self._thread is not None:
            self._thread.join(10)


def parse_smi_line(line: str) -> tuple[float, float, float] | None:
    """``"37, 12, 5120"`` -> (37.0, 12.0, 5120.0); None for a line with a field nvidia-smi
    could not read (``[N/A]``) or anything else."""
    fields = [f.strip() for f in line.split(",")]
    try:
        gpu, decoder, memory = (float(f) for f in fields)
    except ValueError:
        return None
    return gpu, decoder, memory


def summarize(samples: list[tuple[float, float, float]]) -> dict | None:
    if not samples:
        return None
    gpu, decoder, memory = zip(*samples)
    return {
        "samples": len(samples),
        "gpu_mean": sum(gpu) / len(gpu),
        "gpu_max": max(gpu),
        "decoder_mean": sum(decoder) / len(decoder),
        "decoder_max": max(decoder),
        "memory_max_mib": max(memory),
    }


# -- the services -------------------------------------------------------------------------------


class Services:
    """One Embedder and one Searcher, and one Indexer per decoder beside them (real processes,
    ports picked by the kernel). An Indexer that refuses its decoder (``cuda`` with no device, or
    a value this checkout does not know) is left out; ``refused`` says why."""

    def __init__(self, model: str, args, data: Path, roots: list[Path]):
        self.model, self.args, self.data, self.roots = model, args, data, roots
        self.host = defaults.HOST
        self.processes: dict[str, ServiceProcess] = {}
        self.indexers: dict[str, ServiceProcess] = {}
        self.refused: dict[str, str] = {}

    def __enter__(self) -> "Services":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _spawn(self, name: str, module: str, args: list[str], env: dict) -> ServiceProcess:
        logs = self.args.logs / Path(self.model).name if self.args.logs else self.data
        logs.mkdir(parents=True, exist_ok=True)
        process = ServiceProcess(name, module, ["--host", self.host, *args], 0, self.data, logs, env)
        self.processes[name] = process
        return process

    def address(self, process: ServiceProcess) -> str:
        return f"{self.host}:{process.port}"

    def _start(self) -> None:
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        deadline = time.monotonic() + 600
        embedder = self._spawn(
            "embedder",
            "videosearch.embedder.server",
            ["--model", self.model, "--device", self.args.devices, "--dtype", self.args.dtype],
            env,
        )
        embedder.wait_for_port(deadline)
        searcher = self._spawn(
            "searcher",
            "videosearch.searcher.server",
            ["--data-dir", str(self.data / "searcher"), "--embedder-address", self.address(embedder)],
            env,
        )
        searcher.wait_for_port(deadline)
        for process in (embedder, searcher):
            process.wait_serving(self.host, deadline)
        for decoder in self.args.decoders:
            indexer = self._spawn(
                f"indexer-{decoder}",
                "videosearch.indexer.server",
                [
                    "--embedder-address",
                    self.address(embedder),
                    "--searcher-address",
                    self.address(searcher),
                    "--allowed-roots",
                    ",".join(str(r.resolve()) for r in self.roots),
                    "--state-dir",
                    str(self.data / f"indexer-{decoder}"),
                    "--decoder-hw-acceleration",
                    decoder,
                ],
                env,
            )
            try:
                indexer.wait_for_port(deadline)
                indexer.wait_serving(self.host, deadline)
            except RuntimeError as exc:  # it exited: the reason is the end of its log
                self.refused[decoder] = refusal(str(exc))
                indexer.stop()
                del self.processes[indexer.name]
                continue
            self.indexers[decoder] = indexer

    def cpu(self, decoder: str) -> dict[str, float]:
        """CPU seconds so far of the three services a job with ``decoder`` runs on."""
        return benchlib.process_tree_cpu(
            {
                "indexer": self.indexers[decoder].process.pid,
                "embedder": self.processes["embedder"].process.pid,
                "searcher": self.processes["searcher"].process.pid,
            }
        )

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            self.processes[name].stop()


def refusal(log: str) -> str:
    """The line of an Indexer's log that says why it would not start (the last error line)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if "cannot start:" in line or "rror" in line]
    last = (errors or lines or ["exited before it listened"])[-1]
    return last.split("cannot start:", 1)[-1].strip()[:300]


# -- measuring ----------------------------------------------------------------------------------


def decoder_settings(decoder: str) -> DecoderSettings:
    return DecoderSettings(hw_acceleration=decoder)


def decode_alone(path: Path, decoder: str, sampler: GpuSampler) -> dict:
    """The Indexer's decoder reading every frame of ``path`` in this process, nothing else."""
    conditions = Conditions()
    with sampler.during() as samples:
        try:
            figures = decode_only(path, decoder_settings(decoder), decoder_shrink(FramePreprocessor(CLIP_INPUT)))
        except (VideoSearchError, av.error.FFmpegError, RuntimeError, OSError) as exc:  # reported, the run goes on
            return {"error": f"{type(exc).__name__}: {exc}"[:300], **conditions.done(0.0, 0.0)}
    return {**figures, **decoded_by(path, decoder), "gpu": summarize(samples), **conditions.done(0.0, figures["wall"])}


def decoded_by(path: Path, decoder: str) -> dict:
    """Whether the decoder decodes ``path`` on NVDEC, and if not why (the capture says so from its
    first frame on: the file opened once more, one frame decoded)."""
    capture, _, _ = open_video(path, decoder_settings(decoder))
    try:
        return {
            "nvdec": bool(getattr(capture, "hardware", False)),
            "software_reason": getattr(capture, "software_reason", ""),
        }
    finally:
        capture.release()


def index_job(services: Services, decoder: str, path: Path, sampler: GpuSampler) -> dict:
    conditions, began = Conditions(), time.perf_counter()
    cpu = services.cpu(decoder)
    options = SubmitOptions(force=True, speech=False, on_screen_text=False)
    with sampler.during() as samples:
        with IndexerClient(services.address(services.indexers[decoder]), timeout=3600) as indexer:
            job = indexer.wait(indexer.submit(str(path), options).job_id)
    wall = time.perf_counter() - began
    if job.state is not JobState.SUCCEEDED:  # e.g. cuda on a codec NVDEC does not decode: reported, the run goes on
        return {"error": f"{job.state.name.lower()}: {job.error}"[:300], **conditions.done(0.0, wall)}
    after = services.cpu(decoder)
    used = {name: after[name] - cpu[name] for name in SERVICES}
    return {
        "wall": job.stage_seconds.get("total_wall", wall),
        "cpu": used,
        "stages": dict(job.stage_seconds),
        "nvdec": "decode_hardware" in job.stage_seconds,  # the Indexer's word: its decode pass ran on NVDEC
        "gpu": summarize(samples),
        **conditions.done(sum(used.values()), wall),
    }


def model_dir(model: str, scratch: Path) -> Path:
    if model == "demo":
        return benchlib.REPO / "models" / "demo-clip"
    return benchlib.build_vit_b32(scratch / "vit-b32")


class Store:
    """The measurements, rewritten to ``path`` (atomically) after each one."""

    def __init__(self, path: Path, header: dict):
        self.path, self.data = path, {**header, "jobs": [], "decodes": [], "refused": {}}

    def add(self, kind: str, record: dict) -> None:
        if str(record.get("commit")).startswith("unknown") and os.environ.get(COMMIT_VARIABLE):  # a tree without .git
            record["commit"] = os.environ[COMMIT_VARIABLE]
        self.data[kind].append(record)
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".part")
        partial.write_text(json.dumps(self.data, indent=1))
        os.replace(partial, self.path)


def measure(args, store: Store) -> None:
    files = [BY_NAME[name] for name in args.files]
    print(f"files in {args.out} ({len(files)} of {args.seconds:g} s; made unless cached) ...", flush=True)
    began = time.perf_counter()
    paths = {f.name: make(f, args.seconds, args.out, args.source) for f in files}
    warm = make(BY_NAME["h264-high-720p-6M"], WARM_SECONDS, args.out, args.source)
    print(f"  made or found in {time.perf_counter() - began:.0f} s", flush=True)
    sampler = GpuSampler.choose(args.devices)
    store.data["sampler"] = sampler.describe()
    decoded: set[tuple[str, str]] = set()
    with tempfile.TemporaryDirectory(prefix="gpu-decode-") as scratch:
        for model in args.models:
            began = time.perf_counter()
            directory = model_dir(model, Path(scratch))
            data = Path(scratch) / f"data-{model}"
            data.mkdir()
            with Services(str(directory), args, data, [args.out]) as services:
                store.data["refused"].update(services.refused)
                store.save()
                for decoder, reason in services.refused.items():
                    print(f"  the Indexer refused --decoder-hw-acceleration {decoder}: {reason}", flush=True)
                for decoder in services.indexers:  # models load, the device opens: not measured
                    index_job(services, decoder, warm, GpuSampler(""))
                print(f"{MODEL_TITLES[model]}: services up and warm in {time.perf_counter() - began:.0f} s", flush=True)
                for round_ in range(args.rounds):
                    for number, file in enumerate(files):
                        order = list(services.indexers)
                        if (number + round_) % 2:
                            order.reverse()
                        for decoder in order:
                            measure_one(
                                args, store, services, sampler, model, round_, file, paths[file.name], decoder, decoded
                            )


def measure_one(args, store, services, sampler, model, round_, file: GpuFile, path: Path, decoder, decoded) -> None:
    base = {"file": file.name, "codec": file.codec, "decoder": decoder, "video_seconds": video_seconds(path)}
    if (file.name, decoder) not in decoded and not args.no_decode_alone:  # just before its first job
        record = {**base, **decode_alone(path, decoder, sampler)}
        store.add("decodes", record)
        decoded.add((file.name, decoder))
        print(
            f"  decode alone, {decoder}: {file.name}: "
            + (
                f"FAILED: {record['error']}"
                if "error" in record
                else f"{record['frames'] / record['wall']:.0f} frames/s, CPU {record['cpu']:.1f} s{gpu_note(record['gpu'])}"
            ),
            flush=True,
        )
    record = {**base, "model": model, "round": round_, **index_job(services, decoder, path, sampler)}
    store.add("jobs", record)
    if "error" in record:
        print(f"  {model}, {decoder}: {file.name}: job FAILED: {record['error']}", flush=True)
        return
    print(
        f"  {model}, {decoder}: {file.name}: job {record['wall']:.1f} s "
        f"({record['video_seconds'] / record['wall']:.1f}x realtime), CPU "
        + ", ".join(f"{name} {record['cpu'][name]:.1f} s" for name in SERVICES)
        + f"{gpu_note(record['gpu'])} (load {record['load'][0]})",
        flush=True,
    )


def gpu_note(gpu: dict | None) -> str:
    if not gpu:
        return ""
    return f", GPU {gpu['gpu_mean']:.0f}%, NVDEC {gpu['decoder_mean']:.0f}% (max {gpu['decoder_max']:.0f}%)"


# -- the report ---------------------------------------------------------------------------------


def cell(value: float | None, width: int, digits: int = 1) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def report(data: dict) -> str:
    jobs, decodes = data["jobs"], data["decodes"]
    gpu_reason = (
        ""
        if data.get("devices") == "cuda" and data.get("sampler", "").startswith("sampled")
        else (data.get("sampler") or "no GPU columns: nothing sampled")
    )
    decode_wall = {}  # (file, decoder) -> wall per second of video, for the job/decode ratio
    failed = [r for r in decodes + jobs if "error" in r]
    decodes, jobs = [d for d in decodes if "error" not in d], [j for j in jobs if "error" not in j]
    for d in decodes:
        decode_wall[d["file"], d["decoder"]] = d["wall"] / d["seconds"]
    lines = [
        f"GPU decoding end to end: Embedder --device {data['devices']} ({data['dtype']}), Indexer decoders "
        f"{', '.join(data['decoders'])}; {len(data['files'])} files of {data['seconds']:g} s; jobs index pictures "
        "only, one at a time, the decoders alternating file by file",
        f"GPU: {data.get('gpu_name') or '-'}; {data.get('sampler', '-')}",
    ]
    if data.get("stopped"):
        lines.append(f"PARTIAL: {data['stopped']}")
    for decoder, reason in data.get("refused", {}).items():
        lines.append(f"the Indexer refused --decoder-hw-acceleration {decoder}: {reason}")
    for r in failed:
        lines.append(
            f"FAILED: {r['file']}, decoder {r['decoder']}, "
            + (f"{r['model']} job" if "model" in r else "decode alone")
            + f": {r['error']}"
        )
    lines.append("")
    if decodes:
        head = (
            f"{'decode alone':<24}{'codec':<7}{'decoder':<9}{'frames':>7}{'frames/s':>10}{'x rt':>7}"
            f"{'CPU s':>8}{'CPU s/min':>10}{'NVDEC':>6}{'GPU %':>7}{'NVDEC %':>9}{'GPU MiB':>9}"
        )
        lines += [head, "-" * len(head)]
        for d in decodes:
            gpu = d.get("gpu")
            lines.append(
                f"{d['file']:<24}{d['codec']:<7}{d['decoder']:<9}{d['frames']:>7}{d['frames'] / d['wall']:>10.0f}"
                f"{d['seconds'] / d['wall']:>7.1f}{d['cpu']:>8.2f}{60 * d['cpu'] / d['seconds']:>10.2f}"
                f"{'yes' if d.get('nvdec') else 'no':>6}"
                + cell(gpu and gpu["gpu_mean"], 7, 0)
                + cell(gpu and gpu["decoder_mean"], 9, 0)
                + cell(gpu and gpu["memory_max_mib"], 9, 0)
            )
        lines += [
            f"  {d['file']}, {d['decoder']}: decoded in software: {d['software_reason']}"
            for d in decodes
            if d["decoder"] != "none" and not d.get("nvdec") and d.get("software_reason")
        ]
        lines.append("")
    for model in data["models"]:
        chosen = [j for j in jobs if j["model"] == model]
        if not chosen:
            continue
        lines.append(f"{MODEL_TITLES[model]}:")
        head = (
            f"{'file':<24}{'decoder':<9}{'video s':>8}{'job s':>7}{'h/h':>7}{'job/decode':>11}"
            f"{'CPU s per video min: indexer':>29}{'embedder':>9}{'searcher':>9}{'NVDEC':>6}"
            f"{'GPU % mean/max':>15}{'NVDEC % mean/max':>17}{'GPU MiB':>8}"
        )
        lines += [head, "-" * len(head)]
        for j in chosen:
            minutes, gpu = j["video_seconds"] / 60, j.get("gpu")
            alone = decode_wall.get((j["file"], j["decoder"]))
            ratio = (j["wall"] / j["video_seconds"]) / alone if alone else None
            lines.append(
                f"{j['file']:<24}{j['decoder']:<9}{j['video_seconds']:>8.1f}{j['wall']:>7.1f}"
                f"{j['video_seconds'] / j['wall']:>7.1f}"
                + (f"{ratio:>10.2f}x" if ratio else f"{'-':>11}")
                + f"{j['cpu']['indexer'] / minutes:>29.2f}{j['cpu']['embedder'] / minutes:>9.2f}"
                f"{j['cpu']['searcher'] / minutes:>9.2f}{'yes' if j.get('nvdec') else 'no':>6}"
                + (
                    f"{gpu['gpu_mean']:>10.0f}/{gpu['gpu_max']:<4.0f}{gpu['decoder_mean']:>12.0f}/{gpu['decoder_max']:<4.0f}"
                    f"{gpu['memory_max_mib']:>8.0f}"
                    if gpu
                    else f"{'-':>15}{'-':>17}{'-':>8}"
                )
            )
        lines.append("totals per decoder (every file; h/h: hours of video indexed per wall-clock hour):")
        totals = {}
        for decoder in data["decoders"]:
            mine = [j for j in chosen if j["decoder"] == decoder]
            if not mine:
                continue
            video, wall = sum(j["video_seconds"] for j in mine), sum(j["wall"] for j in mine)
            totals[decoder] = video / wall
            cpu = {name: 60 * sum(j["cpu"][name] for j in mine) / video for name in SERVICES}
            lines.append(
                f"  {decoder}: {video / 3600:.3f} h of video in {wall:.1f} s: {video / wall:.1f} "
                "h/h; CPU s per video min " + ", ".join(f"{n} {v:.2f}" for n, v in cpu.items())
            )
        if len(totals) > 1:
            first, *others = list(totals)
            lines.append(
                "  " + "; ".join(f"{d} / {first}: {totals[d] / totals[first]:.2f}x the hours per hour" for d in others)
            )
        lines.append("")
    if gpu_reason:
        lines.append(f"GPU %, NVDEC %, GPU MiB: '-': {gpu_reason}")
    every = sorted(jobs + decodes, key=lambda r: r["utc"])
    if every:
        loads = [r["load"][0] for r in every]
        lines.append(
            f"measured {every[0]['utc']} to {every[-1]['utc']} UTC, load (1 min) {min(loads):.1f}-"
            f"{max(loads):.1f}, commit {', '.join(sorted({r['commit'] for r in every}))}"
        )
    lines.append(f"machine: {data.get('machine', '-')}")
    return "\n".join(lines)


class Stopped(Exception):
    """SIGTERM arrived while measuring."""


def stop_measuring(signum, frame) -> None:
    raise Stopped()


def gpu_name() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            return f"{props.name} ({props.total_memory / 2**30:.0f} GiB)"
    except ImportError:
        pass
    return ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--devices",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="cuda: Embedder on the GPU, decoders none and cuda; cpu: the smoke run (none and any)",
    )
    parser.add_argument(
        "--decoders", default="", help="the Indexer's --decoder-hw-acceleration values, comma-separated"
    )
    parser.add_argument("--models", default="", help=f"comma-separated, of {', '.join(MODELS)}")
    parser.add_argument("--files", default="", help=f"comma-separated, of {', '.join(BY_NAME)}")
    parser.add_argument("--seconds", type=float, default=120.0, help="length of each file")
    parser.add_argument("--rounds", type=int, default=1, help="jobs per file, model and decoder")
    parser.add_argument("--dtype", default="", help="the Embedder's dtype (default float16 on cuda, float32 on cpu)")
    parser.add_argument("--no-decode-alone", action="store_true", help="skip decoding each file alone")
    parser.add_argument("--library", dest="out", type=Path, default=OUT, help="the files' folder (cached there)")
    parser.add_argument("--source", type=Path, default=SOURCE, help="the footage the files are encoded from")
    parser.add_argument("--logs", type=Path, help="the services' logs go here (default: a temporary folder)")
    parser.add_argument("--results", type=Path, default=OUT / "results.json", help="the measurements (JSON)")
    parser.add_argument("--report", action="store_true", help="measure nothing: the tables from --results")
    parser.add_argument("--report-out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    if args.report:
        data = json.loads(args.results.read_text())
    else:
        plan(args)
        store = Store(
            args.results,
            {
                "command": " ".join(["python bench/index/gpu_decode.py", *(sys.argv[1:] if argv is None else argv)]),
                "devices": args.devices,
                "decoders": args.decoders,
                "models": args.models,
                "files": args.files,
                "seconds": args.seconds,
                "dtype": args.dtype,
                "gpu_name": gpu_name(),
                "machine": benchlib.machine(),
            },
        )
        store.save()
        signal.signal(signal.SIGTERM, stop_measuring)  # a time limit's TERM: the services stop, the report prints
        try:
            measure(args, store)
        except Stopped:
            store.data["stopped"] = "stopped by SIGTERM (a time limit) before every measurement was made"
            store.save()
        data = store.data
    text = report(data)
    print("\n" + text, flush=True)
    if args.report_out:
        args.report_out.parent.mkdir(parents=True, exist_ok=True)
        args.report_out.write_text(f"`{data['command']}`\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
