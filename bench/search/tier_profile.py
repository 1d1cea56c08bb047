"""The quantized tier in-process, on a HELD-OUT query set: recall@10 and latency per probe, and where
a search's time goes. This is where the tier's parameters are chosen; bench/search/ten_million.py
reports the figures on its own queries (another stream of the same generator), never tuned on.

    python bench/search/tier_profile.py --scenes 10000000 --probes 512,1024,2048 [--queries 300]

Needs the data dir and the held-out ground truth (tuning-truth-<scenes>.npz beside it) that
`ten_million.py --tuning-queries N` writes; opens the saved tier (builds it when missing, timed).
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.search.run import SCENES_PER_VIDEO, Synthetic, video_id  # noqa: E402
from bench.search.ten_million import TUNING_STREAM  # noqa: E402
from videosearch.searcher.ranking.ann import HnswIndex  # noqa: E402
from videosearch.searcher.ranking.quantized import FORMAT4_GRAPH_DIR, QuantizedIndex, TierParams  # noqa: E402
from videosearch.searcher.storage.store import SearcherStore  # noqa: E402
from videosearch.searcher.types import SearchParams  # noqa: E402

# Stages of a search, by the function that does each (cumulative time under cProfile).
STAGES = {
    "graph search": "ann.py:search",
    "gather codes (np.take)": "quantized.py:_gather",
    "int8 scoring": "quantized.py:_dots",
    "int8 bounds": "rescoring.py:upper_bounds",
    "residual codes (scoring)": "rescoring.py:refined_scores",
    "exact re-scoring (LevelDB reads)": "quantized.py:_exact",
    "hits (scenes, moments from LevelDB)": "quantized.py:_hits",
}


def share_found(ranked, mode: str, truth, i: int) -> float:
    """Recall@10 of one search: the share of query ``i``'s true top 10 that it returned."""
    if mode == "scenes":
        found = {(h.video_id, h.scene.index) for h in ranked.scenes}
        want = {(video_id(int(r) // SCENES_PER_VIDEO), int(r) % SCENES_PER_VIDEO) for r in truth["scenes"][i]}
    else:
        found = {h.video.video_id for h in ranked.videos}
        want = {video_id(int(v)) for v in truth["videos"][i]}
    return len(found & want) / 10


def recall(tier, queries, truth, mode: str) -> tuple[list[float], float]:
    times, hits = [], []
    for i, q in enumerate(queries):
        t = time.perf_counter()
        ranked = tier.rank(q, SearchParams(top_k=10, mode=mode, approximate=True))
        times.append(time.perf_counter() - t)
        hits.append(share_found(ranked, mode, truth, i))
    return times, float(np.mean(hits))


def breakdown(tier, queries, mode: str) -> dict[str, float]:
    profile = cProfile.Profile()
    profile.enable()
    for q in queries:
        tier.rank(q, SearchParams(top_k=10, mode=mode, approximate=True))
    profile.disable()
    stats = pstats.Stats(profile).stats
    out = {}
    for stage, where in STAGES.items():
        file, name = where.split(":")
        out[stage] = sum(v[3] for (f, _, n), v in stats.items() if f.endswith(file) and n == name) / len(queries) * 1e3
    out["all (profiled)"] = sum(v[3] for (f, _, n), v in stats.items() if n == "rank" and f.endswith("quantized.py")) \
        / len(queries) * 1e3
    return out


def paired(tier, params, queries, truth, probes: list[int]) -> int:
    """Refine on and off, query by query in turn (which goes first alternates), per probe and mode."""
    print("| probe | mode | refine | p50 ms | p95 ms | p99 ms | recall@10 (held-out) | load |")
    print("|---:|---|---|---:|---:|---:|---:|---|")
    for probe in probes:
        for mode in ("scenes", "videos"):
            times: dict[bool, list[float]] = {True: [], False: []}
            hits: dict[bool, list[float]] = {True: [], False: []}
            for i, q in enumerate(queries):
                for refine in ((True, False) if i % 2 == 0 else (False, True)):
                    tier.params = replace(params, probe=probe, refine=refine)
                    t = time.perf_counter()
                    ranked = tier.rank(q, SearchParams(top_k=10, mode=mode, approximate=True))
                    times[refine].append(time.perf_counter() - t)
                    hits[refine].append(share_found(ranked, mode, truth, i))
            for refine in (True, False):
                ms = np.asarray(times[refine]) * 1e3
                print(f"| {probe} | {mode} | {'on' if refine else 'off (LevelDB reads)'} | {np.percentile(ms, 50):.1f} | "
                      f"{np.percentile(ms, 95):.1f} | {np.percentile(ms, 99):.1f} | {np.mean(hits[refine]):.3f} | "
                      f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} |", flush=True)
            ratio = np.median(np.asarray(times[True]) / np.asarray(times[False]))
            print(f"    median of the per-query ratios on / off: {ratio:.2f}", flush=True)
    return 0


def paired_graphs(tier, params, queries, truth, probes: list[int]) -> int:
    """The tier's graph (format 5: projected) against the format-4 512-d graph saved beside it, query by
    query in turn (which goes first alternates), on the same codes and everything else: whole searches."""
    files = tier._files
    old = HnswIndex.load_if_fresh(files / FORMAT4_GRAPH_DIR, tier.dim, params.graph,
                                  {"generation": tier._saved_generation, "model_id": tier.model_id})
    if old is None or files is None:
        print(f"no format-4 graph in {files}/{FORMAT4_GRAPH_DIR} to compare with", flush=True)
        return 1
    graphs = {f"{tier._graph.graph_dim}-d": tier._graph, f"{old.graph_dim}-d": old}
    print("| probe | mode | graph | p50 ms | p95 ms | p99 ms | recall@10 (held-out) | load |")
    print("|---:|---|---|---:|---:|---:|---:|---|")
    for probe in probes:
        tier.params = replace(params, probe=probe)
        for mode in ("scenes", "videos"):
            times: dict[str, list[float]] = {name: [] for name in graphs}
            hits: dict[str, list[float]] = {name: [] for name in graphs}
            for i, q in enumerate(queries):
                for name in (list(graphs) if i % 2 == 0 else list(graphs)[::-1]):
                    tier._graph = graphs[name]
                    t = time.perf_counter()
                    ranked = tier.rank(q, SearchParams(top_k=10, mode=mode, approximate=True))
                    times[name].append(time.perf_counter() - t)
                    hits[name].append(share_found(ranked, mode, truth, i))
            for name in graphs:
                ms = np.asarray(times[name]) * 1e3
                print(f"| {probe} | {mode} | {name} | {np.percentile(ms, 50):.1f} | {np.percentile(ms, 95):.1f} | "
                      f"{np.percentile(ms, 99):.1f} | {np.mean(hits[name]):.3f} | "
                      f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} |", flush=True)
            new, base = (np.asarray(times[name]) for name in graphs)
            print(f"    median of the per-query ratios {' / '.join(graphs)}: {np.median(new / base):.2f}", flush=True)
    tier._graph = graphs[list(graphs)[0]]
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=10_000_000)
    parser.add_argument("--data-dir", default="/work/bench-data/ten-million")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--probes", default="2048")
    parser.add_argument("--profile-queries", type=int, default=50)
    parser.add_argument("--refine", default="on", help="on, off or on,off: score candidates from the residual codes "
                        "in memory (on) or read them from LevelDB (off), side by side on the same tier")
    parser.add_argument("--scene-probe", type=int, default=0, help="groups per scenes search (0: the tier's default)")
    parser.add_argument("--group-moments", type=int, default=0,
                        help="most moments per graph node (0: the default); another value keeps its tier in quantized-g<N>/")
    parser.add_argument("--graph", default="", help="connectivity,expansion_add of the group graph (default: the tier's); "
                        "another value keeps its tier in quantized-g<N>-m<M>-e<E>/")
    parser.add_argument("--paired", action="store_true",
                        help="with --refine on,off: time both query by query, alternating, so that the machine's load "
                             "changes alike for both (a loaded machine's drift otherwise swamps the difference)")
    parser.add_argument("--reported-queries", action="store_true",
                        help="ten_million.py's reported queries (truth-<scenes>.npz) instead of the tuning ones: for "
                             "side-by-side comparisons, never for choosing parameters")
    parser.add_argument("--compare-graphs", action="store_true",
                        help="the tier's (projected) graph against the format-4 512-d graph saved beside it (a tier "
                             "upgraded in place), whole searches query by query in turn, per probe")
    parser.add_argument("--build-only", action="store_true",
                        help="open the tier (building and saving it when missing), then stop: to build ahead of a run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # a long build says how far it is
    data_dir = Path(args.data_dir)
    n_videos = args.scenes // SCENES_PER_VIDEO
    store = SearcherStore(data_dir)
    started = time.perf_counter()
    params = TierParams() if not args.group_moments else replace(TierParams(), group_moments=args.group_moments)
    folder = "quantized" if not args.group_moments else f"quantized-g{args.group_moments}"
    if args.graph:
        m, e = (int(x) for x in args.graph.split(","))
        params = replace(params, graph=replace(params.graph, connectivity=m, expansion_add=e))
        folder = f"quantized-g{params.group_moments}-m{m}-e{e}"
    tier = QuantizedIndex(store, data_dir / folder, params)
    tier.open()
    print(f"opened in {time.perf_counter() - started:.1f} s (build: {tier.build_seconds or 0:.0f} s); "
          f"{len(tier._graph or ()):,} graph nodes of at most {params.group_moments} moments", flush=True)
    if not tier.wait_for_upgrade(0):  # a format-4 tier: its projected graph is built now, then measured
        upgrading = time.perf_counter()
        tier.wait_for_upgrade()
        print(f"upgraded the group graph in {time.perf_counter() - upgrading:.0f} s", flush=True)
    graph = tier._graph
    print(f"group graph: {0 if graph is None else graph.graph_dim}-d "
          f"({'projected' if graph is not None and graph.projection is not None else 'not projected'})", flush=True)
    if args.build_only:
        tier.save_ann()  # stops opening tables in the background
        store.close()
        return 0
    truth_file, stream = ("truth", 2) if args.reported_queries else ("tuning-truth", TUNING_STREAM)
    truth = np.load(data_dir.parent / f"{truth_file}-{args.scenes}.npz")
    queries = Synthetic(seed=0).queries(len(truth["scenes"]), n_videos, stream=stream)[: args.queries]
    for q in queries[:20]:  # warm-up
        tier.rank(q, SearchParams(top_k=10, mode="videos", approximate=True))
    if args.compare_graphs:
        return paired_graphs(tier, params, queries, truth, [int(p) for p in args.probes.split(",")])
    fresh = Synthetic(seed=0).queries(args.profile_queries * 2 * len(args.probes.split(",")) * len(args.refine.split(",")), n_videos,
                                      stream=TUNING_STREAM + 1)
    print("| probe | mode | p50 ms | p95 ms | p99 ms | recall@10 (held-out) | videos read per search | load |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    reads: list[int] = []
    real_read = store.moment_vectors

    def counted(wanted):
        reads.append(len(wanted))
        return real_read(wanted)

    store.moment_vectors = counted  # type: ignore[method-assign]  # videos read per search
    if args.paired:
        return paired(tier, params, queries, truth, [int(p) for p in args.probes.split(",")])
    for probe, refine in ((int(p), r) for p in args.probes.split(",") for r in args.refine.split(",")):
        tier.params = replace(params, probe=probe, scene_probe=args.scene_probe, refine=refine == "on")
        for mode in ("scenes", "videos"):
            reads.clear()
            times, r = recall(tier, queries, truth, mode)
            ms = np.asarray(times) * 1e3
            print(f"| {probe} (refine {refine}) | {mode} | {np.percentile(ms, 50):.1f} | {np.percentile(ms, 95):.1f} | "
                  f"{np.percentile(ms, 99):.1f} | {r:.3f} | {sum(reads) / len(queries):.1f} | "
                  f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} |", flush=True)
            if args.profile_queries:  # fresh queries (another stream): their rows are not in any cache yet
                stages = breakdown(tier, fresh[: args.profile_queries], mode)
                fresh = fresh[args.profile_queries :]
                print("    " + "; ".join(f"{k} {v:.2f} ms" for k, v in stages.items()), flush=True)
    tier.save_ann()  # stops opening tables in the background
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
