"""A/B of the picture-only index job's per-frame cost: a baseline commit against this checkout,
alternated in one run, in CPU seconds (steadier than wall time on a shared machine).

    python bench/index/perframe.py --baseline main --rounds 3 \\
        --files /work/bench-data/perframe/h264-main-720p-2M-audio-60s.mp4,/work/bench-data/perframe/mpeg4-part2-720p-8M-audio-60s.mp4

The baseline's ``services/`` is exported from git (``git archive``) into bench/out/perframe/, and
each side gets its own three services (videosearch.launcher's LocalCluster, the demo CLIP, the
Indexer's defaults: picture only), started once and kept idle while the other side works. Each
round, for every file, runs in order (the side that goes first alternates by round):

* **decode alone**, in a child process running that side's code: the decode pass's reader
  (PyAV, frames shrunk as the pass keeps them for the side's model, the demo CLIP unless
  ``--model``) and nothing else (bench/index/decoding.py's ``decode_only``; bench/index/library.py
  measures it the same way but shrinks as for ViT-B/32's 224 px input: 640x360 from 720p, where
  the demo CLIP's 40 px let the decoder deliver 320x180);
* **decode pass**, in a child process running that side's code: videosearch.indexer.media's
  SceneReader, decoding, detecting cuts and keeping sample frames, without the services; its
  stage clock says how long the cut detector was busy (on one thread, holding the GIL: close to
  its CPU);
* **job**: the whole job through the side's Indexer, with the CPU seconds of each service and its
  children (the Embedder serves the demo CLIP) and the job's busy seconds per stage.

Figures are medians over the rounds, per minute of video; "job/decode" is the job's CPU over
decode alone's; "new/base, paired" is the median over rounds of this checkout's figure over the
baseline's measured just before or after it (each round's pair shares the load of its minute).
A side's child processes import torch before they start the clock, as the Indexer has long
before a job starts. The load average and the CPU of other processes (cores busy meanwhile) are
printed: on a shared machine only the ratios measured alternately mean much.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib
from library import busy_cpu_seconds
from videosearch.client.embedder import EmbedderClient
from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.embedder.types import Preprocessing
from videosearch.indexer.types import JobState
from videosearch.launcher import ClusterConfig, LocalCluster

OUT = benchlib.REPO / "bench" / "out" / "perframe"
HERE = benchlib.REPO / "bench" / "index"

# What a side's child process runs: ``decode`` or ``pass`` over one file, printing one JSON line.
# It runs with that side's services/ first on sys.path, and this folder's bench modules.
CHILD = r"""
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import videosearch  # this side's package, whatever a bench module puts on sys.path later
assert videosearch.__file__.startswith(sys.argv[1]), videosearch.__file__
import torch  # noqa: F401  (imported before the clock, as in the Indexer)
from decoding import decode_only
from videosearch.embedder.preprocessing import FramePreprocessor
from videosearch.embedder.types import Preprocessing
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.scenes import SceneReader, decoder_shrink
fields = json.loads(sys.argv[5])  # the job's model's: its input size sets the decoder's shrink
MODEL_INPUT = Preprocessing(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
FramePreprocessor(MODEL_INPUT)  # its resize backend imported too
what, path = sys.argv[3], sys.argv[4]
if what == "decode":
    figures = decode_only(path, DecoderSettings(), decoder_shrink(FramePreprocessor(MODEL_INPUT)))
    print(json.dumps({"cpu": figures["cpu"], "wall": figures["wall"], "seconds": figures["seconds"],
                      "code": videosearch.__file__}))
else:
    began, cpu = time.perf_counter(), time.process_time()
    reader = SceneReader(path, preprocessing=MODEL_INPUT)
    cuts = [scene.start_frame for scene in reader][1:]
    print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - began,
                      "seconds": reader.frame_times.duration_seconds, "stages": reader.clock.seconds,
                      "cuts": cuts, "code": videosearch.__file__}))
"""


def export(ref: str) -> tuple[str, Path]:
    """``ref``'s services/ (and the bench modules the child imports come from this checkout)."""
    sha = subprocess.run(
        ["git", "-C", str(benchlib.REPO), "rev-parse", "--short", ref], capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = OUT / "trees" / sha
    if not (tree / "services").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(benchlib.REPO), "archive", sha, "services"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return sha, tree / "services"


def this_checkout() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(benchlib.REPO), *args], capture_output=True, text=True).stdout.strip()

    dirty = subprocess.run(["git", "-C", str(benchlib.REPO), "diff", "--quiet", "HEAD", "--", "services"]).returncode
    return git("rev-parse", "--short", "HEAD") + ("+changes" if dirty else "")


def model_input(embedder_address: str) -> Preprocessing:
    """The preprocessing of the model an Embedder serves (the Indexer asks the same)."""
    with EmbedderClient(embedder_address) as embedder:
        return embedder.model_info().preprocessing


def child(services: Path, what: str, path: Path, preprocessing: Preprocessing) -> dict:
    """``what`` (``decode``: decoding alone; ``pass``: the decode pass) over ``path`` in a child
    process running ``services``' code: its CPU and wall seconds, the video's seconds, and for the
    pass its stage seconds and cuts."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(services), str(benchlib.REPO / "clients")])}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(services),
            str(HERE),
            what,
            str(path),
            json.dumps(dataclasses.asdict(preprocessing)),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{what} {path.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def process_cpu(cluster: LocalCluster) -> dict[str, float]:
    """CPU seconds of each service and its children."""
    return benchlib.process_tree_cpu({name: service.process.pid for name, service in cluster.processes.items()})


def job(cluster: LocalCluster, path: Path) -> dict:
    before, began = process_cpu(cluster), time.perf_counter()
    with IndexerClient(cluster.address("indexer"), timeout=3600) as indexer:
        done = indexer.wait(indexer.submit(str(path), SubmitOptions(force=True)).job_id)
    if done.state is not JobState.SUCCEEDED:
        raise RuntimeError(f"indexing {path.name} failed: {done.error}")
    after = process_cpu(cluster)
    return {
        "wall": time.perf_counter() - began,
        "cpu": {name: after[name] - before[name] for name in after},
        "stages": dict(done.stage_seconds),
    }


class Side:
    def __init__(self, name: str, services: Path, files: list[Path], model: str) -> None:
        self.name, self.services = name, services
        self._data = tempfile.TemporaryDirectory()
        pythonpath = os.pathsep.join([str(services), str(benchlib.REPO / "clients")])
        config = ClusterConfig(
            model=model,
            data_dir=self._data.name,
            allowed_roots=tuple(sorted({str(f.parent) for f in files})),
            embedder_port=0,
            searcher_port=0,
            indexer_port=0,
            extra_env={"PYTHONPATH": pythonpath, "HF_HUB_OFFLINE": "1", "VIDEOSEARCH_EMBEDDER_DTYPE": "float32"},
        )
        self.cluster = LocalCluster(config).start()
        self.results: dict[str, list[dict]] = {}

    def measure(self, path: Path) -> None:
        busy, own, began = busy_cpu_seconds(), time.process_time(), time.perf_counter()
        preprocessing = model_input(self.cluster.address("embedder"))
        record: dict[str, Any] = {
            "decode": child(self.services, "decode", path, preprocessing),
            "pass": child(self.services, "pass", path, preprocessing),
        }
        record["job"] = job(self.cluster, path)
        wall = time.perf_counter() - began
        measured = (
            record["decode"]["cpu"]
            + record["pass"]["cpu"]
            + sum(record["job"]["cpu"].values())
            + time.process_time()
            - own
        )
        record["others_cores"] = max(0.0, busy_cpu_seconds() - busy - measured) / wall
        record["load"] = os.getloadavg()[0]
        self.results.setdefault(path.name, []).append(record)

    def close(self) -> None:
        self.cluster.stop()
        self._data.cleanup()


def summary(side: Side, name: str) -> dict[str, Any]:
    records = side.results[name]
    minutes = records[0]["pass"]["seconds"] / 60

    def med(get) -> float:
        return statistics.median(get(r) for r in records) / minutes

    stages = sorted({s for r in records for s in r["job"]["stages"]})
    return {
        "decode": med(lambda r: r["decode"]["cpu"]),
        "pass": med(lambda r: r["pass"]["cpu"]),
        "detect": med(lambda r: r["pass"]["stages"].get("detect", 0.0)),
        "job": med(lambda r: sum(r["job"]["cpu"].values())),
        "indexer": med(lambda r: r["job"]["cpu"]["indexer"]),
        "embedder": med(lambda r: r["job"]["cpu"]["embedder"]),
        "searcher": med(lambda r: r["job"]["cpu"]["searcher"]),
        "job_wall": med(lambda r: r["job"]["wall"]),
        "stages": {s: med(lambda r, s=s: r["job"]["stages"].get(s, 0.0)) for s in stages},
        "cuts": [r["pass"]["cuts"] for r in records],
        "others": statistics.mean(r["others_cores"] for r in records),
        "load": statistics.mean(r["load"] for r in records),
    }


def paired_ratios(base: list[dict], new: list[dict]) -> dict[str, float]:
    """Median over rounds of new/base, each round's two measurements taken one after the other."""
    get = {
        "decode": lambda r: r["decode"]["cpu"],
        "pass": lambda r: r["pass"]["cpu"],
        "detect": lambda r: max(r["pass"]["stages"].get("detect", 0.0), 1e-9),
        "job": lambda r: sum(r["job"]["cpu"].values()),
        "indexer": lambda r: r["job"]["cpu"]["indexer"],
        "job_wall": lambda r: r["job"]["wall"],
    }
    return {key: statistics.median(f(n) / f(b) for b, n in zip(base, new)) for key, f in get.items()}


def report(sides: list[Side], names: list[str], rounds: int) -> str:
    lines = [
        f"{rounds} rounds, sides alternated; medians; CPU seconds per minute of video (all threads; the job: "
        "the three services and their children)",
        "",
        f"{'file':<34}{'side':<18}{'decode':>8}{'pass':>8}{'detect':>8}{'job':>8}{'indexer':>9}{'embedder':>9}"
        f"{'searcher':>9}{'job/decode':>11}{'job wall':>9}",
    ]
    for name in names:
        base_side = sides[0]
        base = summary(base_side, name)
        for side in sides:
            s = summary(side, name)
            lines.append(
                f"{name[:33]:<34}{side.name[:17]:<18}{s['decode']:8.2f}{s['pass']:8.2f}{s['detect']:8.2f}{s['job']:8.2f}"
                f"{s['indexer']:9.2f}{s['embedder']:9.2f}{s['searcher']:9.2f}{s['job'] / s['decode']:10.2f}x"
                f"{s['job_wall']:9.2f}"
            )
            if side is not base_side:
                paired = paired_ratios(base_side.results[name], side.results[name])
                same = all(c == base["cuts"][0] for c in base["cuts"] + s["cuts"])
                lines.append(
                    f"{'':<34}{'new/base, paired':<18}{paired['decode']:8.2f}{paired['pass']:8.2f}"
                    f"{paired['detect']:8.2f}{paired['job']:8.2f}{paired['indexer']:9.2f}{'':>9}{'':>9}{'':>11}"
                    f"{paired['job_wall']:9.2f}   cuts {'identical' if same else 'DIFFER'} ({len(s['cuts'][0])} cuts)"
                )
    lines.append("")
    lines.append("job busy seconds per stage per minute of video (stages overlap):")
    for name in names:
        for side in sides:
            s = summary(side, name)
            stages = ", ".join(f"{k} {v:.2f}" for k, v in s["stages"].items() if v >= 0.005)
            lines.append(f"  {name[:33]}, {side.name}: {stages}")
    lines.append("")
    lines.append(
        "load (1 min average after each measurement) and other processes' CPU as cores busy, mean over rounds:"
    )
    for side in sides:
        loads = [summary(side, n)["load"] for n in names]
        others = [summary(side, n)["others"] for n in names]
        lines.append(
            f"  {side.name}: load {min(loads):.1f}-{max(loads):.1f}, others {statistics.mean(others):.2f} cores (shared)"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="main", help="git ref whose services/ is the baseline (default main)")
    parser.add_argument("--files", required=True, help="comma-separated video files")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default=str(benchlib.REPO / "models" / "demo-clip"))
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args(argv)
    files = [Path(f).resolve() for f in args.files.split(",") if f]
    sha, base_services = export(args.baseline)
    sides: list[Side] = []
    try:  # a side that fails to start stops the one already started
        sides.append(Side(f"base {sha}", base_services, files, args.model))
        sides.append(Side(f"this {this_checkout()}", benchlib.REPO / "services", files, args.model))
        warm = files[0]
        for side in sides:
            job(side.cluster, warm)  # models load on first use
        for round_ in range(args.rounds):
            order = sides if round_ % 2 == 0 else sides[::-1]
            for path in files:
                for side in order:
                    side.measure(path)
                    print(f"  round {round_ + 1}: {path.name}: {side.name} done", flush=True)
    finally:
        for side in sides:
            side.close()
    if args.json:
        args.json.write_text(json.dumps({s.name: s.results for s in sides}, indent=1))
    print(f"{benchlib.machine()}\n")
    print(report(sides, [f.name for f in files], args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
