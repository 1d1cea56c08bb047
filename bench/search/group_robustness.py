"""How the quantized tier's recall depends on how alike a video's scenes are.

    python bench/search/group_robustness.py [--scenes 500000] [--spreads 0.6,1.5,3.0] [--probes 2048,102]

The tier's graph holds one node per group of up to 32 consecutive moments of a video (their mean), so
it finds a moment through its group's mean; groups end where moments stop resembling each other
(GROUP_MIN_COSINE), so the graph grows as a video's scenes differ: the bench prints the group count. bench/search/run.py's generator makes a video's scenes
alike (latent = video topic + 0.6 x noise: a mean pairwise cosine of about 0.72 between scenes of one
video). This bench regenerates the same kind of data with a larger scene spread (scenes of one video
less alike), writes it into LevelDB through the store module, opens the tier in-process (a rebuild)
and measures scene-mode recall@10 against exact float32 over the same vectors, for queries near a
random stored scene and queries near a video's topic. ``--probes`` includes a probe scaled to 10M's
share of groups (2048 x scenes / 10M) so a smaller run hints at the 10M behaviour; in-process
latencies here include no gRPC.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "services"), str(REPO)]

import bench.search.run as bench  # noqa: E402

from videosearch.searcher.ranking.quantized import QuantizedIndex, TierParams  # noqa: E402
from videosearch.searcher.storage.store import SearcherStore  # noqa: E402
from videosearch.searcher.types import SearchParams  # noqa: E402


class SpreadSynthetic(bench.Synthetic):
    """bench/search/run.py's generator with the scene spread as a parameter."""

    def __init__(self, spread: float, seed: int = 7) -> None:
        super().__init__(seed)
        self.spread = spread

    def latents_and_videos(self, n_videos: int, chunk: int = 2000):
        rng = np.random.default_rng(self.seed + 3)
        for lo, topics in self._topics(n_videos, chunk):
            z = topics[:, None, :] + self.spread * rng.standard_normal(
                (len(topics), bench.SCENES_PER_VIDEO, bench.LATENT), dtype=np.float32)
            z = z.reshape(-1, bench.LATENT)
            yield lo, z, self._embed(z, rng).reshape(len(topics), bench.SCENES_PER_VIDEO, bench.DIM)

    def videos(self, n_videos: int, chunk: int = 2000):
        for lo, _, vectors in self.latents_and_videos(n_videos, chunk):
            yield lo, vectors


def measure(spread: float, n_scenes: int, probes: list[int], queries: int, work: Path) -> dict:
    synthetic = SpreadSynthetic(spread)
    n_videos = n_scenes // bench.SCENES_PER_VIDEO
    data_dir = work / f"spread-{spread}"
    started = time.perf_counter()
    bench.fill(data_dir, n_scenes, "bench-model", synthetic)
    fill_s = time.perf_counter() - started
    latents, vectors = [], []
    for _, z, v in synthetic.latents_and_videos(n_videos):
        latents.append(z)
        vectors.append(v.reshape(-1, bench.DIM))
    latents, vectors = np.concatenate(latents), np.concatenate(vectors)
    rng = np.random.default_rng(99)
    picks = rng.integers(0, len(latents), queries)
    query_sets = {
        "near a stored scene": synthetic._embed(latents[picks] + 0.5 * rng.standard_normal((queries, bench.LATENT), dtype=np.float32), rng),
        "near a video's topic": synthetic.queries(queries, n_videos),
    }
    truth = {name: [set(np.argsort(-(vectors @ q))[:10].tolist()) for q in qs] for name, qs in query_sets.items()}
    per_video = vectors[: 500 * bench.SCENES_PER_VIDEO].reshape(-1, bench.SCENES_PER_VIDEO, bench.DIM)
    pairwise = float(np.mean([(v @ v.T)[np.triu_indices(bench.SCENES_PER_VIDEO, 1)].mean() for v in per_video]))
    result = {"spread": spread, "mean pairwise cosine of a video's scenes": round(pairwise, 3), "fill s": round(fill_s, 1)}
    for probe in probes:
        store = SearcherStore(data_dir)
        tier = QuantizedIndex(store, data_dir / f"tier-probe-{probe}", TierParams(probe=probe))
        started = time.perf_counter()
        tier.open()
        build_s = time.perf_counter() - started
        for name, qs in query_sets.items():
            found, times = 0, []
            for q, expected in zip(qs, truth[name]):
                started = time.perf_counter()
                ranked = tier.rank(q, SearchParams(top_k=10, mode="scenes", approximate=True))
                times.append(time.perf_counter() - started)
                found += len({int(h.video_id.split("-")[1]) * bench.SCENES_PER_VIDEO + h.scene.index for h in ranked.scenes} & expected)
            result[f"probe {probe}, {name}"] = {"recall@10": round(found / (10 * queries), 3),
                                                "p50 ms": round(1000 * float(np.median(times)), 2), "build s": round(build_s, 1),
                                                "graph groups": len(tier._graph), "moments": n_scenes}
            print(spread, probe, name, result[f"probe {probe}, {name}"], flush=True)
        tier.save_ann()  # stops opening tables in the background
        store.close()
    shutil.rmtree(data_dir, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=500_000)
    parser.add_argument("--spreads", default="0.6,1.5,3.0", help="scene spread around the video topic (run.py uses 0.6)")
    parser.add_argument("--probes", default="2048,102", help="--quantized-probe values")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("/work/bench-data/group-robustness"))
    args = parser.parse_args()
    results = [measure(float(s), args.scenes, [int(p) for p in args.probes.split(",")], args.queries, args.work)
               for s in args.spreads.split(",")]
    print(json.dumps(results, indent=1))
    print("load average at the end: %.1f, %.1f, %.1f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
