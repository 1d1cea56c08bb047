"""The Embedder on a GPU against its raw batched forward pass: `python bench/embedder/gpu.py`.

Needs a CUDA device. Measures, side by side in one run, with a randomly initialised CLIP of
the real ViT-B/32 architecture (no download possible) in float16:

  (r) the raw batched forward pass: ``get_image_features`` on a batch already on the GPU,
      already normalized, timed with the device synchronized -- eagerly, and replaying the
      CUDA graph the Embedder captures (uint8 in, normalization included);
  (c) the Embedder over gRPC (a real server in this process) with 1, 2, 4, 8 and 16 callers.
      Each caller is a separate process, as Indexer jobs are, and does what one Indexer job
      does: it keeps ``--in-flight`` requests open (the Indexer's embed_requests_in_flight,
      4) through the typed EmbedderClient, each of 1-3 uint8 frames (224x224);
  (v) variants at 16 callers: the forward pass run eagerly (no CUDA graphs), two forward
      workers, a larger max batch, requests of 8-16 frames (a scene sampled through time), and
      2 and 4 Embedder processes (the real service) sharing one port with --share-port.

Callers report their counts as JSON lines on stdout (nothing crosses a process boundary
pickled). Prints tables; --write-docs replaces the "## Embedder on a GPU" section of
docs/performance.md; --section-out also writes the section to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402  (sets up sys.path for the project's packages)

SECTION = "## Embedder on a GPU"
TARGET_IMAGES_PER_SECOND = 5000  # issue 12, part 6 (on an H100)
TARGET_VS_RAW = 0.8
CROP = 224


# -- a caller process ------------------------------------------------------------------


def caller_main(args) -> int:
    """One Indexer-like caller: ``in_flight`` threads, each sending ``frames`` uint8 frames per
    request until told to stop; prints a JSON line with what it measured."""
    from videosearch.client.embedder import EmbedderClient

    low, high = (int(x) for x in args.frames.split("-"))
    rng = np.random.default_rng(args.seed)
    pool = rng.integers(0, 256, size=(64, 3, CROP, CROP), dtype=np.uint8)
    client = EmbedderClient(args.caller, timeout=120)
    client.model_info()
    print(json.dumps({"ready": True}), flush=True)
    go = json.loads(sys.stdin.readline())  # {"measure_from": t0, "measure_until": t1} (time.time())
    begin, end = go["measure_from"], go["measure_until"]
    counts = [0] * args.in_flight
    latencies: list[list[float]] = [[] for _ in range(args.in_flight)]

    def worker(index: int) -> None:
        local = np.random.default_rng(args.seed * 100 + index)
        while (now := time.time()) < end:
            n = int(local.integers(low, high + 1))
            start = int(local.integers(0, len(pool) - n))
            client.embed_images(pool[start : start + n])
            done = time.time()
            if now >= begin and done <= end:
                counts[index] += n
                latencies[index].append(done - now)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.in_flight)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    print(json.dumps({"images": sum(counts), "latencies": [x for per in latencies for x in per]}), flush=True)
    return 0


# -- the measurements --------------------------------------------------------------------


@dataclass
class Point:
    label: str
    callers: int
    images_per_second: float
    requests: int
    mean_batch: float
    latency_p50_ms: float
    latency_p99_ms: float
    delay_p50_ms: float


def run_callers(address: str, engine, callers: int, *, in_flight: int, frames: str, warmup: float, seconds: float,
                label: str, profile_to: str | None = None) -> Point:
    """``engine`` (an in-process Embedder's, or None for other processes) gives batch sizes and queue delays."""
    command = [sys.executable, str(Path(__file__).resolve()), "--caller", address,
               "--in-flight", str(in_flight), "--frames", frames]
    procs = [subprocess.Popen([*command, "--seed", str(i + 1)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for i in range(callers)]
    try:
        for p in procs:
            line = p.stdout.readline()
            if not line or not json.loads(line).get("ready"):
                raise RuntimeError(f"a caller did not start (exit code {p.poll()})")
        begin = time.time() + warmup
        go = json.dumps({"measure_from": begin, "measure_until": begin + seconds}) + "\n"
        for p in procs:
            p.stdin.write(go)
            p.stdin.flush()
        time.sleep(max(0.0, begin - time.time()))
        if engine is not None:
            engine.batcher.reset_stats()
        profiler = start_profile(profile_to, seconds) if profile_to else None
        reports = [json.loads(p.stdout.readline()) for p in procs]
        stats = engine.stats() if engine is not None else None
        if profiler is not None:
            profiler.wait(60)
    finally:
        for p in procs:
            p.wait(60)
    latencies = [x for r in reports for x in r["latencies"]]
    return Point(
        label=label, callers=callers,
        images_per_second=sum(r["images"] for r in reports) / seconds,
        requests=len(latencies), mean_batch=stats.mean_batch_size if stats else float("nan"),
        latency_p50_ms=1000 * float(np.percentile(latencies, 50)) if latencies else 0.0,
        latency_p99_ms=1000 * float(np.percentile(latencies, 99)) if latencies else 0.0,
        delay_p50_ms=stats.delay_percentile_ms(50) if stats else float("nan"),
    )


def start_profile(path: str, seconds: float) -> subprocess.Popen | None:
    """py-spy samples this process (the in-process Embedder) while the callers run, if it is installed."""
    try:
        return subprocess.Popen(["py-spy", "record", "-d", str(max(1, int(seconds) - 1)), "-p", str(os.getpid()),
                                 "--format", "raw", "--threads", "-o", path], stdout=subprocess.DEVNULL)
    except OSError as exc:
        print(f"no profile: {exc}", flush=True)
        return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_embedders(count: int, model_dir: Path, args, batch: int) -> tuple[str, list[subprocess.Popen]]:
    """``count`` Embedder processes (the real service, `python -m videosearch.embedder.server`) sharing one port."""
    port = free_port()
    command = [sys.executable, "-m", "videosearch.embedder.server", "--port", str(port), "--share-port",
               "--model", str(model_dir), "--device", args.device, "--dtype", args.dtype, "--max-batch-size", str(batch),
               "--max-wait-ms", str(args.max_wait_ms), "--max-queue-images", str(args.max_queue_images)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(benchlib.REPO / "services"), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
             for _ in range(count)]
    for proc in procs:
        for line in proc.stderr:
            if "ready on" in line:
                break
        else:
            raise RuntimeError(f"an Embedder process ended before it was ready (exit code {proc.wait()})")
        # Keep reading its log, so a full pipe never blocks it.
        threading.Thread(target=lambda stream=proc.stderr: [None for _ in stream], daemon=True).start()
    return f"127.0.0.1:{port}", procs


def raw_images_per_second(run, batch: int, seconds: float) -> float:
    """``run()`` forwards one batch on the device; sustained images/s with the device synchronized."""
    import torch

    for _ in range(3):
        run()
    torch.cuda.synchronize()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(10):
            run()
        torch.cuda.synchronize()
        done += 10
    return done * batch / (time.perf_counter() - start)


def raw_passes(embedder, eager, batch: int, seconds: float) -> dict[str, float]:
    import torch

    from videosearch.embedder.families import pooled

    pixels = torch.randint(0, 256, (batch, 3, CROP, CROP), dtype=torch.uint8, device=embedder.device)
    normalized = eager._device_forward._normalized(pixels)
    results = {}
    with torch.inference_mode():
        results["eager"] = raw_images_per_second(
            lambda: pooled(eager.model.get_image_features(pixel_values=normalized)), batch, seconds)
        graph = embedder._device_forward._graphs.get(batch)
        if graph is not None:
            results["graph"] = raw_images_per_second(graph[0].replay, batch, seconds)
    return results


def gpu_name() -> str:
    import torch

    props = torch.cuda.get_device_properties(0)
    return f"{props.name} ({props.total_memory / 2**30:.0f} GiB, {props.multi_processor_count} SMs)"


def main_bench(args) -> int:
    import torch

    from benchlib import build_vit_b32, machine
    from videosearch.embedder.defaults import BatchLimits
    from videosearch.embedder.model import ClipEmbedder
    from videosearch.embedder.server import serve
    from videosearch.embedder.settings import EmbedderSettings

    if not torch.cuda.is_available():
        print("no CUDA device: this bench measures the Embedder on a GPU (bench/embedder/run.py measures the CPU)")
        return 2
    began = time.perf_counter()
    results: dict = {"command": " ".join(["python bench/embedder/gpu.py", *sys.argv[1:]]), "points": [], "raw": {}}
    with tempfile.TemporaryDirectory(prefix="vit-b32-") as tmp:
        model_dir = build_vit_b32(Path(tmp))

        loaded: dict[tuple[int, bool], ClipEmbedder] = {}

        def embedder(batch: int, graphs: bool = True) -> ClipEmbedder:
            if (batch, graphs) not in loaded:
                loaded[batch, graphs] = ClipEmbedder(str(model_dir), device="cuda", dtype=args.dtype,
                                                     limits=BatchLimits(max_batch_size=batch), cuda_graphs=graphs)
            return loaded[batch, graphs]

        graphed = embedder(args.max_batch_size)
        eager = embedder(args.max_batch_size, graphs=False)
        results["graphs_captured"] = graphed.cuda_graphs
        results["graph_error"] = graphed._device_forward.graph_error
        print(f"model built and loaded in {time.perf_counter() - began:.0f}s on {gpu_name()}; "
              f"CUDA graphs {'captured' if graphed.cuda_graphs else 'NOT captured: ' + str(results['graph_error'])}", flush=True)
        for batch in sorted({args.max_batch_size, *[int(b) for b in args.raw_batches.split(",") if b]}):
            results["raw"][batch] = raw_passes(embedder(batch), eager, batch, args.raw_seconds)
            print(f"(r) raw batched forward pass, batch {batch}: " +
                  ", ".join(f"{k} {v:,.0f} images/s" for k, v in results["raw"][batch].items()), flush=True)

        def measure(model: ClipEmbedder, callers: list[int], label: str, *, workers: int = 1, frames: str = "1-3",
                    profile_to: str | None = None) -> None:
            settings = EmbedderSettings(port=0, model=str(model_dir), device="cuda", dtype=args.dtype,
                                        max_batch_size=model.max_batch_size, max_wait_ms=args.max_wait_ms,
                                        forward_workers=workers, max_queue_images=args.max_queue_images)
            server = serve(settings, model)
            try:
                for n in callers:
                    point = run_callers(server.address, server.engine, n, in_flight=args.in_flight, frames=frames,
                                        warmup=args.warmup, seconds=args.seconds, label=label,
                                        profile_to=profile_to if n == max(callers) else None)
                    results["points"].append(point)
                    print(f"(c) {label}, {n:2d} callers: {point.images_per_second:,.0f} images/s, mean batch "
                          f"{point.mean_batch:.1f}, latency p50 {point.latency_p50_ms:.1f} ms", flush=True)
            finally:
                server.stop(0)

        callers = [int(c) for c in args.callers.split(",")]
        measure(graphed, callers, "default (CUDA graphs)", profile_to=args.profile_out)
        variants = set(args.variants.split(","))
        top = max(callers)
        if "eager" in variants:
            measure(eager, [top], "eager forward pass")
        if "workers" in variants:
            measure(graphed, [top], "2 forward workers", workers=2)
        if "scenes" in variants:
            measure(graphed, [top], "scenes of 8-16 frames", frames="8-16")
        if "batch" in variants:
            big = embedder(args.max_batch_size * 4)
            measure(big, [top], f"max batch {big.max_batch_size}")
            measure(big, [top], f"max batch {big.max_batch_size}, scenes of 8-16 frames", frames="8-16")
            results["raw"].setdefault(big.max_batch_size, raw_passes(big, eager, big.max_batch_size, args.raw_seconds))
        if "processes" in variants:
            for count in [int(c) for c in args.processes.split(",") if c]:
                label = f"{count} Embedder processes on one port (--share-port)"
                address, procs = start_embedders(count, model_dir, args, args.max_batch_size)
                try:
                    for frames in ("1-3", "8-16"):
                        point = run_callers(address, None, top, in_flight=args.in_flight, frames=frames,
                                            warmup=args.warmup, seconds=args.seconds,
                                            label=label + ("" if frames == "1-3" else ", scenes of 8-16 frames"))
                        results["points"].append(point)
                        print(f"(c) {point.label}, {top} callers: {point.images_per_second:,.0f} images/s, "
                              f"latency p50 {point.latency_p50_ms:.1f} ms", flush=True)
                finally:
                    for proc in procs:
                        proc.terminate()
                    for proc in procs:
                        proc.wait(30)
    results["machine"] = machine()
    results["gpu"] = gpu_name()
    results["torch"] = torch.__version__
    section = report(results, args)
    print()
    print(section)
    print(f"total bench time {time.perf_counter() - began:.0f}s")
    if args.section_out:
        Path(args.section_out).write_text(section)
    if args.write_docs:
        benchlib.write_section(SECTION, section)
        print("wrote docs/performance.md")
    return 0


def report(results: dict, args) -> str:
    raw = results["raw"]
    base = raw[args.max_batch_size]
    best_raw = max(base.values())
    lines = [
        SECTION,
        "",
        f"Measured by `{results['command']}` (one run, everything side by side) on **{results['gpu']}**, "
        f"torch {results['torch']}; host: {results['machine']}.",
        "",
        f"CLIP of the real ViT-B/32 architecture (random weights), {args.dtype}. Callers are separate processes, "
        f"each doing what one Indexer job does: {args.in_flight} requests in flight through the typed client, "
        "uint8 frames (224x224, 1-3 per request unless said) over real gRPC; the Embedder is a real server "
        f"(max_wait_ms {args.max_wait_ms}). CUDA graphs captured: {'yes' if results['graphs_captured'] else 'no (' + str(results['graph_error']) + ')'}.",
        "",
        "(r) the raw batched forward pass (input already on the GPU; device synchronized):",
        "",
        "| batch | eager images/s | CUDA graph images/s (uint8 in, normalization included) |",
        "|---:|---:|---:|",
    ]
    for batch, figures in sorted(raw.items()):
        graph = f"{figures['graph']:,.0f}" if "graph" in figures else "–"
        lines.append(f"| {batch} | {figures['eager']:,.0f} | {graph} |")
    lines += [
        "",
        f"(c) the Embedder over gRPC (max batch {args.max_batch_size} unless said); the ratio is against the better "
        f"raw pass at the same max batch ({best_raw:,.0f} images/s):",
        "",
        "| configuration | callers | images/s | / raw pass | mean batch | request latency p50 / p99 ms | queue delay p50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    def figure(x: float) -> str:
        return "–" if x != x else f"{x:.1f}"  # nan: measured in other processes

    for p in results["points"]:
        batch = args.max_batch_size * 4 if p.label.startswith("max batch") else args.max_batch_size
        ref = max(raw[batch].values())
        lines.append(f"| {p.label} | {p.callers} | {p.images_per_second:,.0f} | {p.images_per_second / ref:.2f} | "
                     f"{figure(p.mean_batch)} | {p.latency_p50_ms:.1f} / {p.latency_p99_ms:.1f} | {figure(p.delay_p50_ms)} |")
    default = [p for p in results["points"] if p.label.startswith("default")]
    best = max(default, key=lambda p: p.images_per_second)
    lines += [
        "",
        f"Goals (issue 12, part 6), default configuration, best of 1-{max(p.callers for p in default)} callers "
        f"({best.callers}): {best.images_per_second:,.0f} images/s against >= {TARGET_IMAGES_PER_SECOND:,} "
        f"({'met' if best.images_per_second >= TARGET_IMAGES_PER_SECOND else 'NOT met'}; the goal names an H100, "
        f"this ran on {results['gpu'].split(' (')[0]}); {best.images_per_second / best_raw:.2f} of the raw batched "
        f"forward pass against >= {TARGET_VS_RAW} ({'met' if best.images_per_second >= TARGET_VS_RAW * best_raw else 'NOT met'}).",
    ]
    overall = max(results["points"], key=lambda p: p.images_per_second)
    lines += [
        f"Best of every configuration: {overall.images_per_second:,.0f} images/s ({overall.label}, {overall.callers} "
        f"callers), {overall.images_per_second / best_raw:.2f} of the raw pass at batch {args.max_batch_size}.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callers", default="1,2,4,8,16", help="comma-separated caller counts for (c)")
    parser.add_argument("--in-flight", type=int, default=4, help="requests each caller keeps open (the Indexer's default)")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per (c) point")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each (c) point")
    parser.add_argument("--raw-seconds", type=float, default=2.0, help="seconds of each (r) measurement")
    parser.add_argument("--raw-batches", default="8,128", help="more batch sizes for (r), beside --max-batch-size")
    parser.add_argument("--dtype", default="float16")
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--max-queue-images", type=int, default=4096)
    parser.add_argument("--variants", default="eager,workers,scenes,batch,processes",
                        help="(v) to run, comma-separated (empty: none)")
    parser.add_argument("--processes", default="2,4", help="(v): Embedder processes sharing one port, comma-separated")
    parser.add_argument("--profile-out", help="py-spy profile (raw) of the Embedder at the most callers, default configuration")
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    parser.add_argument("--section-out", help="also write the report section to this file")
    # A caller process (started by the bench itself):
    parser.add_argument("--device", default="cuda", help=argparse.SUPPRESS)  # cpu: only to try the plumbing
    parser.add_argument("--caller", help=argparse.SUPPRESS)
    parser.add_argument("--frames", default="1-3", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.caller:
        return caller_main(args)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return main_bench(args)


if __name__ == "__main__":
    sys.exit(main())
