"""The Searcher's two backends side by side: the embedded one (LevelDB + exact in-memory
ranking, the default) and Milvus through milvus-lite (HNSW, M=16, efConstruction=200),
at 10k and 100k scenes of the synthetic CLIP-like data of run.py.

    python bench/search/backends.py [--sizes 10000,100000] [--queries 200] [--write-docs]

For each size and backend, in one process on the same vectors:
  * ingest rate: scenes per second through ``put_video`` (20 scenes a video, each write whole);
    then milvus-lite is flushed and loaded again, so its HNSW index serves the queries;
  * query p50/p99: ``rank`` of the top 10 moments, query after query, in-process (no gRPC:
    both backends are measured below the Searcher's service layer);
  * recall@10: the share of the exact top 10 moments (numpy, float32 cosine) each returns.

Not like for like, said plainly: milvus-lite runs Milvus's pure-Python engine with a faiss
HNSW index in this process, not the Milvus server a deployment runs; its numbers say what
the milvus backend costs here, not what Milvus standalone does on its own machine. The
embedded backend ranks exactly (its ANN index starts at --ann-threshold, 200k scenes).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# run.py's synthetic data and paths (it also puts services/ on sys.path), loaded by file name.
_RUN = importlib.util.spec_from_file_location("bench_search_run", Path(__file__).resolve().with_name("run.py"))
run = importlib.util.module_from_spec(_RUN)
_RUN.loader.exec_module(run)
DIM, FPS, REPO, SCENES_PER_VIDEO, Synthetic, video_id = (
    run.DIM, run.FPS, run.REPO, run.SCENES_PER_VIDEO, run.Synthetic, run.video_id)

from videosearch.searcher.backends import Backend, open_backend  # noqa: E402
from videosearch.searcher.backends.milvus_searcher import MilvusStore  # noqa: E402
from videosearch.searcher.settings import SearcherSettings  # noqa: E402
from videosearch.searcher.types import SceneRecord, SearchParams, VideoRecord  # noqa: E402

MODEL = "bench/synthetic-clip"
DOCS = REPO / "docs" / "performance.md"
HEADING = "## Searcher backends: embedded vs milvus-lite"


def scenes() -> list[SceneRecord]:
    return [SceneRecord(i, i * 48, (i + 1) * 48, float(i * 48 / FPS), float((i + 1) * 48 / FPS), 2)
            for i in range(SCENES_PER_VIDEO)]


def ingest(backend: Backend, n_scenes: int, synthetic: Synthetic) -> tuple[float, np.ndarray]:
    """Seconds to store every video through the backend; the (n_scenes, DIM) matrix stored."""
    rows = []
    started = time.perf_counter()
    for lo, vectors in synthetic.videos(n_scenes // SCENES_PER_VIDEO):
        for j, video_vectors in enumerate(vectors):
            vid = video_id(lo + j)
            video = VideoRecord(vid, f"/bench/{vid}.mp4", float(SCENES_PER_VIDEO * 48 / FPS), FPS,
                                SCENES_PER_VIDEO * 48, 1280, 720, "0" * 64, MODEL, DIM)
            backend.store.put_video(video, scenes(), video_vectors)
            rows.append(video_vectors)
    return time.perf_counter() - started, np.concatenate(rows)


def measure(backend: Backend, queries: np.ndarray, matrix: np.ndarray) -> dict:
    exact = np.argsort(-(queries @ matrix.T), axis=1, kind="stable")[:, :10]
    seconds, found = [], []
    for query, truth in zip(queries, exact):
        started = time.perf_counter()
        hits = backend.index.rank(query, SearchParams(top_k=10, mode="scenes")).scenes
        seconds.append(time.perf_counter() - started)
        got = {int(h.video_id.split("-")[1]) * SCENES_PER_VIDEO + h.moment.index for h in hits}
        found.append(len(got & set(truth.tolist())) / 10)
    ms = np.asarray(seconds) * 1e3
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "recall10": statistics.fmean(found)}


def run(n_scenes: int, n_queries: int, work: Path) -> list[dict]:
    synthetic = Synthetic(seed=0)
    queries = synthetic.queries(n_queries, n_scenes // SCENES_PER_VIDEO)
    results = []
    for name, settings in (
        ("embedded (LevelDB, exact)", SearcherSettings(data_dir=str(work / f"embedded-{n_scenes}"), ann="none",
                                                       ranking_precision="float32")),
        ("milvus-lite (HNSW)", SearcherSettings(backend="milvus", milvus_uri=str(work / f"milvus-{n_scenes}.db"))),
    ):
        backend = open_backend(settings)
        try:
            seconds, matrix = ingest(backend, n_scenes, synthetic)
            if isinstance(backend.store, MilvusStore):
                # Milvus seals segments and its index nodes index them as they fill. milvus-lite
                # brute-forces what is not flushed, and builds its HNSW index for the flushed
                # segments when the collection is loaded (10k scenes here: 173 ms a query
                # after the flush alone, 29 ms after the reload).
                milvus = backend.store.backend
                milvus._client.flush(milvus._moments)
                milvus._client.release_collection(milvus._moments)
                milvus._client.load_collection(milvus._moments)
            row = {"backend": name, "scenes": n_scenes, "ingest_per_s": n_scenes / seconds,
                   **measure(backend, queries, matrix)}
        finally:
            backend.store.close()
        print(f"{n_scenes:>7} scenes  {name:<26} ingest {row['ingest_per_s']:8.0f} scenes/s  query p50 "
              f"{row['p50_ms']:7.2f} ms  p99 {row['p99_ms']:7.2f} ms  recall@10 {row['recall10']:.3f}", flush=True)
        results.append(row)
    return results


def table(results: list[dict]) -> str:
    lines = ["| scenes | backend | ingest (scenes/s) | query p50 (ms) | query p99 (ms) | recall@10 vs exact |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in results:
        lines.append(f"| {r['scenes']:,} | {r['backend']} | {r['ingest_per_s']:,.0f} | {r['p50_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {r['recall10']:.3f} |")
    by_size: dict[int, list[dict]] = {}
    for r in results:
        by_size.setdefault(r["scenes"], []).append(r)
    for size, (embedded, milvus) in sorted(by_size.items()):
        lines.append(f"\nAt {size:,} scenes milvus-lite vs embedded: ingest x{milvus['ingest_per_s'] / embedded['ingest_per_s']:.2f}, "
                     f"query p50 x{milvus['p50_ms'] / embedded['p50_ms']:.2f}, p99 x{milvus['p99_ms'] / embedded['p99_ms']:.2f}.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--write-docs", action="store_true", help=f"replace the section {HEADING!r} of {DOCS.name}")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-backends-"))
    try:
        results = [row for size in map(int, args.sizes.split(",")) for row in run(size, args.queries, work)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = table(results)
    print(text)
    if args.write_docs:
        section = (f"{HEADING}\n\n`python bench/search/backends.py --sizes {args.sizes} --queries {args.queries}` "
                   f"(in-process, one query at a time, 512-d; CPU timings on a shared machine are noisy):\n\n{text}\n")
        old = DOCS.read_text()
        start = old.find(HEADING)
        if start >= 0:
            end = old.find("\n## ", start + len(HEADING))
            old = old[:start] + (old[end + 1:] if end >= 0 else "")
        DOCS.write_text(old.rstrip("\n") + "\n\n" + section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
