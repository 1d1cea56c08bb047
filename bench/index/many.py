"""Many videos: a folder of generated videos indexed with 1, 2 and 4 Indexer workers.

    python bench/index/many.py                   # 20 videos of 30-60 s, 640x360, workers 1,2,4
    python bench/index/many.py --videos 8 --workers 1,2

Reports, per worker count: videos per minute, wall time, and the CPU the services used (CPU
seconds of the Embedder, Searcher and Indexer over the wall time, as a share of the machine's
cores); and from the Embedder the sizes of the forward passes it formed (a histogram), which
shows requests of different jobs sharing a forward pass: one job sends a scene's frames per
request (one frame per second of the scene), so batches larger than the largest request, and a
mean batch that grows with the workers, come from several jobs at once.

The Embedder runs in this process (its batcher's statistics are read directly; they are not
on the wire); the Searcher and each round's Indexer run as processes, as in production.
Writes the "## Many videos" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402  (sets up sys.path for the project's packages)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.index.run import OUT, synthetic_video  # noqa: E402

from videosearch.client.indexer import IndexerClient, SubmitOptions  # noqa: E402
from videosearch.indexer.types import JobState  # noqa: E402
from videosearch.launcher import ServiceProcess  # noqa: E402

SECTION = "## Many videos"
FOLDER = OUT / "many"


def generate(count: int, seed: int = 7) -> list[Path]:
    """``count`` videos of 30-60 s at 640x360 (cached), hard cuts every 3-12 s."""
    rng = np.random.default_rng(seed)
    FOLDER.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        seconds = int(rng.integers(30, 61))
        paths.append(synthetic_video(seconds / 60, FOLDER / f"video_{i:02d}_{seconds}s.mp4", size=(640, 360), seed=100 + i))
    return paths


def cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


def run_round(embedder, host: str, searcher_port: int, workers: int, videos: list[Path], data: Path) -> dict:
    """Starts an Indexer with ``workers`` workers, submits every video at once, waits for all."""
    import psutil

    workdir = data / f"indexer-{workers}"
    workdir.mkdir(parents=True, exist_ok=True)
    indexer = ServiceProcess("indexer", "videosearch.indexer.server", [
        "--host", host, "--embedder-address", embedder.address, "--searcher-address", f"{host}:{searcher_port}",
        "--allowed-roots", str(FOLDER.resolve()), "--workers", str(workers),
    ], 0, workdir, workdir, None)
    try:
        deadline = time.monotonic() + 120
        indexer.wait_for_port(deadline)
        indexer.wait_serving(host, deadline)
        pids = [indexer.process.pid, searcher_pid(), psutil.Process().pid]
        embedder.engine.batcher.reset_stats()
        before, started = cpu_seconds(pids), time.perf_counter()
        with IndexerClient(f"{host}:{indexer.port}", timeout=600) as client:
            ids = [client.submit(str(path), SubmitOptions(force=True)).job_id for path in videos]
            jobs = [client.wait(job_id) for job_id in ids]
        wall = time.perf_counter() - started
        cpu = cpu_seconds(pids) - before
    finally:
        indexer.stop()
    failed = [job for job in jobs if job.state is not JobState.SUCCEEDED]
    if failed:
        raise RuntimeError(f"{len(failed)} jobs failed, e.g. {failed[0].error}")
    stats = embedder.engine.stats()
    return {"workers": workers, "wall": wall, "cpu": cpu, "histogram": stats.batch_size_histogram(),
            "mean_batch": stats.mean_batch_size, "batches": stats.batches, "images": stats.images,
            "frames": sum(job.frames_embedded for job in jobs)}


_SEARCHER: dict[str, int] = {}


def searcher_pid() -> int:
    return _SEARCHER["pid"]


def render(rounds: list[dict], videos: list[Path], command: str, dtype: str) -> str:
    import os

    seconds = sum(int(p.stem.rsplit("_", 1)[1].rstrip("s")) for p in videos)
    cores = os.cpu_count() or 1
    lines = [
        SECTION, "",
        f"`{command}` on {benchlib.machine()}. **Shared machine** (other jobs on the same 2 cores).",
        f"{len(videos)} generated videos of 30–60 s ({seconds / 60:.1f} min in all, 640x360, hard cuts every 3–12 s) "
        f"submitted at once to an Indexer with N workers; CLIP with ViT-B/32's architecture in {dtype} in the Embedder. "
        "CPU: CPU seconds of the Embedder, the Searcher and the Indexer during the round over its wall time "
        f"({cores} cores = {100 * cores}%). Batch sizes: the Embedder's forward passes in the round "
        "(size: share of passes); a job sends one request per scene, of one frame per second of the scene.", "",
        "| Indexer workers | wall s | videos per minute | realtime × | CPU (of 200%) | forward passes | mean batch | batch sizes (share of passes) |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rounds:
        total = sum(r["histogram"].values()) or 1
        top = sorted(r["histogram"].items(), key=lambda kv: -kv[1])[:6]
        histogram = " ".join(f"{size}:{100 * count / total:.0f}%" for size, count in sorted(top))
        lines.append(f"| {r['workers']} | {r['wall']:.1f} | {60 * len(videos) / r['wall']:.1f} | {seconds / r['wall']:.1f} | "
                     f"{100 * r['cpu'] / r['wall']:.0f}% | {r['batches']} | {r['mean_batch']:.1f} | {histogram} |")
    largest = max(max(r["histogram"]) for r in rounds)
    lines += ["", f"Largest forward pass: {largest} images; mean batch "
              + " → ".join(f"{r['mean_batch']:.1f}" for r in rounds) + " as the workers go "
              + " → ".join(str(r["workers"]) for r in rounds) + "."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--dtype", default="auto", help="the Embedder's dtype (default: its own default)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    command = " ".join(["python bench/index/many.py", *(sys.argv[1:] if argv is None else argv)])
    from videosearch.embedder.server import configure_torch_threads, serve
    from videosearch.embedder.settings import EmbedderSettings

    model_dir = benchlib.build_vit_b32(OUT.parent / "models" / "vit-b32-random")
    print(f"generating {args.videos} videos (cached) ...", flush=True)
    videos = generate(args.videos)
    host = "127.0.0.1"
    settings = EmbedderSettings(port=0, model=str(model_dir), dtype=args.dtype)
    configure_torch_threads(settings)
    embedder = serve(settings)
    rounds = []
    try:
        dtype = embedder.engine.model_info().compute_dtype
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            searcher = ServiceProcess("searcher", "videosearch.searcher.server", [
                "--host", host, "--data-dir", str(data / "searcher"), "--embedder-address", embedder.address,
            ], 0, data, data, None)
            try:
                deadline = time.monotonic() + 120
                searcher.wait_for_port(deadline)
                searcher.wait_serving(host, deadline)
                _SEARCHER["pid"] = searcher.process.pid
                run_round(embedder, host, searcher.port, 1, videos[:1], data)  # warm-up
                for workers in (int(w) for w in args.workers.split(",")):
                    print(f"{workers} workers ...", flush=True)
                    rounds.append(run_round(embedder, host, searcher.port, workers, videos, data))
                    r = rounds[-1]
                    print(f"  {r['wall']:.1f} s, {60 * len(videos) / r['wall']:.1f} videos/min, CPU {100 * r['cpu'] / r['wall']:.0f}%, "
                          f"mean batch {r['mean_batch']:.1f}", flush=True)
            finally:
                searcher.stop()
    finally:
        embedder.stop(0)
    report = render(rounds, videos, command, dtype)
    print("\n" + report)
    if not args.no_write:
        benchlib.write_section(SECTION, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
