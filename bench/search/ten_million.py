"""Ten million scenes on one machine: the Searcher's quantized tier (int8 codes, a graph over
groups of moments, exact float32 re-scoring from LevelDB) against exact float32 ground truth.

    python bench/search/ten_million.py [--scenes 10000000] [--data-dir /work/bench-data/ten-million]
        [--queries 1000] [--exhaustive-queries 50] [--probes 1024] [--rebuild] [--tuning-queries 300]

--tuning-queries also writes the ground truth of held-out queries (another stream of the generator; one
more pass over the vectors, about 500 s at 10M) for bench/search/tier_profile.py, where parameters are chosen.

It
  1. writes the synthetic scenes of bench/search/run.py (same generator: 512-d, 64-d latent topic
     per video, 20 scenes per video) straight into LevelDB through the store module, streaming
     2,000 videos at a time (reused when the data dir already holds the same set);
  2. computes the exact float32 top-10 scenes and videos (MAX) of every query by regenerating
     the same vectors chunk by chunk (never the whole matrix in memory; not through the Searcher);
  3. starts the real Searcher process with --ranking-precision int8 on a data dir without a saved
     tier: spawn -> SERVING is the tier's build (one scan of LevelDB, codes, the group graph, save);
  4. restarts it: spawn -> SERVING is the start-up with the saved tier; then VmRSS and VmHWM after
     a warm-up, gRPC Search p50/p99 with one client for embedding queries (scenes and videos
     mode, approximate=true), recall@10 of both against the ground truth, the same for
     approximate=false (every row's int8 code scored) on fewer queries, and VmRSS/VmHWM at the end.

Prints the figures with the load average; --json writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.search.run import (  # noqa: E402
    REPO,
    DIM,
    SCENES_PER_VIDEO,
    ServerProcess,
    Synthetic,
    embedding_request,
    fill,
    percentile,
    video_id,
)
from videosearch.v1 import searcher_pb2  # noqa: E402

MODEL_ID = "bench-model"
# The held-out queries that bench/search/tier_profile.py chooses parameters on (the reported ones are
# the generator's default stream).
TUNING_STREAM = 5


def ground_truth(synthetic: Synthetic, n_videos: int, queries: np.ndarray, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """(queries, 10) global scene rows (video * SCENES_PER_VIDEO + scene) and (queries, 10) video numbers,
    exact float32, by streaming the generated vectors."""
    key = {"videos": n_videos, "queries": len(queries), "seed": synthetic.seed, "q": float(queries.sum())}
    if cache.exists():
        saved = np.load(cache)
        if json.loads(str(saved["key"])) == key:
            return saved["scenes"], saved["videos"]
    nq = len(queries)
    best_scene_scores = np.full((nq, 10), -np.inf, np.float32)
    best_scene_rows = np.zeros((nq, 10), np.int64)
    best_video_scores = np.full((nq, 10), -np.inf, np.float32)
    best_video_ids = np.zeros((nq, 10), np.int64)
    started = time.perf_counter()
    for lo, vectors in synthetic.videos(n_videos):
        n = len(vectors)
        scores = queries @ vectors.reshape(-1, DIM).T  # (nq, n * SCENES_PER_VIDEO)
        rows = lo * SCENES_PER_VIDEO + np.arange(scores.shape[1])
        best_scene_scores, best_scene_rows = _merge(best_scene_scores, best_scene_rows, scores, rows)
        per_video = scores.reshape(nq, n, SCENES_PER_VIDEO).max(axis=2)
        best_video_scores, best_video_ids = _merge(best_video_scores, best_video_ids, per_video, lo + np.arange(n))
        if lo % 100_000 == 0:
            print(f"  ground truth: {lo:,} of {n_videos:,} videos ({time.perf_counter() - started:.0f} s)", flush=True)
    np.savez(cache, key=json.dumps(key), scenes=best_scene_rows, videos=best_video_ids)
    return best_scene_rows, best_video_ids


def _merge(best_scores, best_ids, scores, ids):
    top = np.argpartition(-scores, 10, axis=1)[:, :10] if scores.shape[1] > 10 else np.tile(np.arange(scores.shape[1]), (len(scores), 1))
    both_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], axis=1)
    both_ids = np.concatenate([best_ids, ids[top]], axis=1)
    keep = np.argsort(-both_scores, axis=1, kind="stable")[:, :10]
    return np.take_along_axis(both_scores, keep, 1), np.take_along_axis(both_ids, keep, 1)


def memory(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):  # RssFile: mapped codes and LevelDB tables
            fields[name] = int(value.split()[0]) * 1024
    return fields


def measure(stub, queries, truth_scenes, truth_videos, approximate: bool) -> dict:
    """One client, one query at a time: latency and recall@10 in scenes and in videos mode. Beside
    the client's gRPC latency, the Searcher's own ranking time (rank_ms in the response: from the
    query vector to the hits, without gRPC, parsing and result encoding), side by side per query."""
    out = {}
    for mode, truth in (("scenes", truth_scenes), ("videos", truth_videos)):
        times, ranking, hits = [], [], []
        for q, want in zip(queries, truth):
            request = embedding_request(q, approximate=approximate, mode=searcher_pb2.SEARCH_MODE_SCENES if mode == "scenes"
                                        else searcher_pb2.SEARCH_MODE_VIDEOS)
            t = time.perf_counter()
            got = stub.Search(request, timeout=120)
            times.append(time.perf_counter() - t)
            ranking.append(got.rank_ms / 1e3)
            if mode == "scenes":
                found = {(m.video_id, m.scene.index) for m in got.scenes}
                expected = {(video_id(int(r) // SCENES_PER_VIDEO), int(r) % SCENES_PER_VIDEO) for r in want}
            else:
                found = {m.video.video_id for m in got.videos}
                expected = {video_id(int(v)) for v in want}
            hits.append(len(found & expected) / 10)
        out[mode] = {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95), "p99_ms": percentile(times, 99),
                     "rank_p50_ms": percentile(ranking, 50), "rank_p95_ms": percentile(ranking, 95),
                     "rank_p99_ms": percentile(ranking, 99),
                     "recall": float(np.mean(hits)), "n": len(times), "loadavg": os.getloadavg()}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=10_000_000)
    parser.add_argument("--data-dir", default="/work/bench-data/ten-million")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--exhaustive-queries", type=int, default=50, help="queries for approximate=false (slow)")
    parser.add_argument("--probes", default="0", help="--quantized-probe values to measure, one restart each (0: the default)")
    parser.add_argument("--rebuild", action="store_true", help="drop a saved tier first, to time the build")
    parser.add_argument("--compare-float32", action="store_true",
                        help="also measure the float32 tier (exact) on the same data, side by side (sizes that fit)")
    parser.add_argument("--json", default="", help="write all figures as JSON here")
    parser.add_argument("--tuning-queries", type=int, default=0,
                        help="also write the ground truth of this many held-out queries (for tier_profile.py)")
    parser.add_argument("--compare-reads", action="store_true",
                        help="also measure each probe with --no-quantized-refine (candidates re-scored from LevelDB reads "
                             "as before round five), on the same tier in the same run")
    parser.add_argument("--baseline-repo", default="",
                        help="also measure each probe with the Searcher of this checkout (the code before a change, e.g. "
                             "`git archive REV services clients | tar -x -C DIR`), on the same tier and queries in the "
                             "same run, right after the current code's")
    parser.add_argument("--data-only", action="store_true",
                        help="stop after the data and the ground truth (to prepare them ahead of a run)")
    args = parser.parse_args()
    if args.exhaustive_queries < 0 or (args.compare_float32 and args.exhaustive_queries == 0):
        parser.error("--exhaustive-queries must be >= 0, and > 0 with --compare-float32 (it compares on those queries)")
    data_dir = Path(args.data_dir)
    logs = data_dir.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    n_videos = args.scenes // SCENES_PER_VIDEO
    synthetic = Synthetic(seed=0)
    row: dict = {"scenes": n_videos * SCENES_PER_VIDEO, "videos": n_videos, "scenes_per_video": SCENES_PER_VIDEO, "dim": DIM}
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"{row['scenes']:,} scenes = {n_videos:,} videos x {SCENES_PER_VIDEO}, {DIM}-d", flush=True)

    started = time.perf_counter()
    row["fill_s"] = fill(data_dir, row["scenes"], MODEL_ID, synthetic)
    print(f"data write: {row['fill_s']:.0f} s (nan: reused)", flush=True)
    queries = synthetic.queries(args.queries, n_videos)
    started = time.perf_counter()
    truth_path = data_dir.parent / f"truth-{row['scenes']}.npz"
    if args.tuning_queries:  # both sets in one pass over the vectors (a pass takes minutes at 10M)
        tuning = synthetic.queries(args.tuning_queries, n_videos, stream=TUNING_STREAM)
        tuning_path = data_dir.parent / f"tuning-truth-{row['scenes']}.npz"
        both = ground_truth(synthetic, n_videos, np.concatenate([queries, tuning]),
                            data_dir.parent / f"both-truth-{row['scenes']}.npz")
        for path, part, rows in ((truth_path, queries, slice(0, len(queries))), (tuning_path, tuning, slice(len(queries), None))):
            key = {"videos": n_videos, "queries": len(part), "seed": synthetic.seed, "q": float(part.sum())}
            np.savez(path, key=json.dumps(key), scenes=both[0][rows], videos=both[1][rows])
    truth_scenes, truth_videos = ground_truth(synthetic, n_videos, queries, truth_path)
    row["truth_s"] = time.perf_counter() - started
    print(f"ground truth: {row['truth_s']:.0f} s", flush=True)
    if args.data_only:
        return 0

    extra = ("--ranking-precision", "int8")
    if args.rebuild or not (data_dir / "quantized" / "manifest.json").exists():
        shutil.rmtree(data_dir / "quantized", ignore_errors=True)
        build = ServerProcess(data_dir, "none", "", logs / "searcher-build.log", extra)
        row["build_s"] = build.startup_s
        row["build_memory"] = memory(build.proc.pid)
        build.stop()
        print(f"tier build (spawn -> SERVING, no saved tier): {row['build_s']:.0f} s; "
              f"VmHWM {row['build_memory']['VmHWM'] / 2**30:.2f} GiB", flush=True)
    row["probes"] = {}
    repos = [REPO, *([Path(args.baseline_repo).resolve()] if args.baseline_repo else [])]
    variants = [(int(p), refine, repo) for p in args.probes.split(",")
                for refine in ((True, False) if args.compare_reads else (True,)) for repo in repos]
    for i, (probe, refine, repo) in enumerate(variants):
        server = ServerProcess(data_dir, "none", "", logs / "searcher.log",
                               extra + (("--quantized-probe", str(probe)) if probe else ())
                               + (() if refine else ("--no-quantized-refine",)), repo=repo)
        try:  # a failure stops the Searcher too: left running, it holds the data directory's lock
            label = f"{probe or 'default'}" + ("" if refine else ", LevelDB reads") + ("" if repo == REPO else ", baseline")
            stats = server.stub.GetStats(searcher_pb2.GetStatsRequest())
            if i == 0:
                row["startup_s"] = server.startup_s
                row["served_moments"] = stats.moment_count
            print(f"start-up with the saved tier ({label}): {server.startup_s:.1f} s ({stats.moment_count:,} moments)", flush=True)
            for q in queries[:20]:  # warm-up
                server.stub.Search(embedding_request(q, approximate=True))
            if i == 0:
                row["memory_warm"] = memory(server.proc.pid)
            row["probes"][label] = measure(server.stub, queries, truth_scenes, truth_videos, approximate=True)
            row["probes"][label]["startup_s"] = server.startup_s
            row["probes"][label]["memory"] = memory(server.proc.pid)
            print(f"probe {label}: {row['probes'][label]}", flush=True)
            if i == 0:
                n_ex = args.exhaustive_queries
                if n_ex > 0:  # 0: approximate searches only (percentiles of no query are undefined)
                    row["exhaustive"] = measure(server.stub, queries[:n_ex], truth_scenes[:n_ex], truth_videos[:n_ex],
                                                approximate=False)
                    print(f"exhaustive: {row['exhaustive']}", flush=True)
                row["memory_end"] = memory(server.proc.pid)
        finally:
            server.stop()
    if args.compare_float32:
        server = ServerProcess(data_dir, "none", "", logs / "searcher-float32.log", ("--ranking-precision", "float32"))
        try:
            row["float32_startup_s"] = server.startup_s
            for q in queries[:20]:
                server.stub.Search(embedding_request(q))
            n_ex = args.exhaustive_queries
            row["float32"] = measure(server.stub, queries[:n_ex], truth_scenes[:n_ex], truth_videos[:n_ex],
                                     approximate=False)
            row["float32_memory"] = memory(server.proc.pid)
        finally:
            server.stop()
        print(f"float32 tier: {row['float32']}", flush=True)
    row["loadavg"] = os.getloadavg()

    gib = 2**30
    print(f"\n{row['scenes']:,} scenes ({n_videos:,} videos x {SCENES_PER_VIDEO}, {DIM}-d), one client, gRPC Search, top_k 10")
    print("| search | mode | queries | p50 ms | p95 ms | p99 ms | in the Searcher p50 / p95 / p99 ms | recall@10 vs exact float32 | load |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    measured = [(f"approximate=true, probe {p}", m) for p, m in row["probes"].items()]
    if "exhaustive" in row:
        measured.append(("approximate=false (every int8 code)", row["exhaustive"]))
    for label, figures in measured:
        for mode in ("scenes", "videos"):
            m = figures[mode]
            print(f"| {label} | {mode} | {m['n']} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} | {m['p99_ms']:.1f} | "
                  f"{m['rank_p50_ms']:.1f} / {m['rank_p95_ms']:.1f} / {m['rank_p99_ms']:.1f} | {m['recall']:.3f} | "
                  f"{', '.join(f'{x:.1f}' for x in m['loadavg'])} |")
    if "float32" in row and "exhaustive" in row:
        for mode in ("scenes", "videos"):
            m, q = row["float32"][mode], row["exhaustive"][mode]
            print(f"| float32 tier, exact (every float32 row) | {mode} | {m['n']} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} | "
                  f"{m['p99_ms']:.1f} | {m['rank_p50_ms']:.1f} / {m['rank_p99_ms']:.1f} | {m['recall']:.3f} | "
                  f"{', '.join(f'{x:.1f}' for x in m['loadavg'])} |")
        first = next(iter(row["probes"].values()))
        print(f"side by side, same queries: int8 approximate p50 / float32 exact p50 = "
              f"{first['scenes']['p50_ms'] / row['float32']['scenes']['p50_ms']:.2f} (scenes), "
              f"{first['videos']['p50_ms'] / row['float32']['videos']['p50_ms']:.2f} (videos); int8 exhaustive / float32 exact = "
              f"{row['exhaustive']['scenes']['p50_ms'] / row['float32']['scenes']['p50_ms']:.2f} (scenes); VmRSS int8 / float32 = "
              f"{row['memory_end']['VmRSS'] / row['float32_memory']['VmRSS']:.2f}; start-up int8 / float32 = "
              f"{row['startup_s'] / row['float32_startup_s']:.2f}")
    print(f"start-up (spawn -> SERVING) with the saved tier: {row['startup_s']:.1f} s; "
          f"build: {row.get('build_s', float('nan')):.0f} s; data write: {row['fill_s']:.0f} s")
    print(f"memory after warm-up: VmRSS {row['memory_warm']['VmRSS'] / gib:.2f} GiB, VmHWM {row['memory_warm']['VmHWM'] / gib:.2f} GiB; "
          f"after the queries: VmRSS {row['memory_end']['VmRSS'] / gib:.2f} GiB, VmHWM {row['memory_end']['VmHWM'] / gib:.2f} GiB")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in row['loadavg'])}")
    if args.json:
        Path(args.json).write_text(json.dumps(row, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
