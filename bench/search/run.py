"""Search at scale: fills a Searcher with 10k / 100k / 1M synthetic scenes and
measures it side by side with faiss.

    python bench/search/run.py [--sizes 10000,100000,1000000] [--ann-size 1000000] [--plot latency.png]

For each size it
  1. writes synthetic scenes straight into LevelDB through the store module (fast;
     the Searcher itself is not running),
  2. opens the store in-process and times exact ranking against faiss IndexFlatIP
     over the very same float32 matrix, query by query, alternating,
  3. starts the real Searcher server (a subprocess) on that data dir and measures
     start-up time (spawn -> health SERVING), resident memory (RSS minus an empty
     Searcher's RSS) and Search latency through gRPC with 1 and 8 concurrent
     clients, for embedding queries and for text queries through a real Embedder
     hosting a tiny random CLIP whose projection is 512-d (so the measured embed
     cost is a lower bound of a real CLIP's text tower),
  4. at --ann-size: waits for the background HNSW build, measures approximate
     latency and recall@10 against exact, then restarts the server to time a
     start-up that loads the saved ANN index.

Synthetic data: CLIP embeddings have a low intrinsic dimension and scenes of one
video resemble each other, so vectors are drawn from a 64-d latent space
(video topic + per-scene offset) projected to 512-d plus isotropic noise,
normalized; 20 scenes per video. Queries are latent points near a random video's
topic, projected the same way. (Uniformly random 512-d vectors would be the
worst case for any graph index and unlike real embeddings.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "services"), str(REPO / "clients")]

import faiss  # noqa: E402
import grpc  # noqa: E402
import psutil  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from videosearch.common.grpc_server import insecure_channel  # noqa: E402
from videosearch.common.tensors import to_tensor  # noqa: E402
from videosearch.searcher.service import Searcher  # noqa: E402
from videosearch.searcher.settings import SearcherSettings  # noqa: E402
from videosearch.searcher.storage.store import SearcherStore  # noqa: E402
from videosearch.searcher.types import SceneRecord, SearchParams, VideoRecord  # noqa: E402
from videosearch.v1 import searcher_pb2, searcher_pb2_grpc  # noqa: E402

DIM = 512
LATENT = 64
SCENES_PER_VIDEO = 20
FPS = Fraction(30000, 1001)
TEXTS = ["a red circle on a blue background", "two green stars", "a dog running on the beach", "a purple heart"]


# -- synthetic data -----------------------------------------------------------------


class Synthetic:
    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.projection = (rng.standard_normal((LATENT, DIM)) / np.sqrt(LATENT)).astype(np.float32)
        self.seed = seed

    def _embed(self, z: np.ndarray, rng) -> np.ndarray:
        x = z @ self.projection + 0.15 * rng.standard_normal((len(z), DIM), dtype=np.float32)
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    def _topics(self, n_videos: int, chunk: int):
        # Topics come from their own stream, so queries can regenerate them cheaply.
        rng = np.random.default_rng(self.seed + 1)
        for lo in range(0, n_videos, chunk):
            yield lo, rng.standard_normal((min(chunk, n_videos - lo), LATENT), dtype=np.float32)

    def videos(self, n_videos: int, chunk: int = 2000):
        """Yields (first video number, (n, SCENES_PER_VIDEO, DIM) vectors) chunk by chunk."""
        rng = np.random.default_rng(self.seed + 3)
        for lo, topics in self._topics(n_videos, chunk):
            n = len(topics)
            z = topics[:, None, :] + 0.6 * rng.standard_normal((n, SCENES_PER_VIDEO, LATENT), dtype=np.float32)
            yield lo, self._embed(z.reshape(-1, LATENT), rng).reshape(n, SCENES_PER_VIDEO, DIM)

    def queries(self, n: int, n_videos: int, stream: int = 2) -> np.ndarray:
        """Latent points near the topics of randomly picked stored videos. Another ``stream`` gives another,
        independent query set (a held-out set to tune parameters on; the reported set is stream 2)."""
        rng = np.random.default_rng(self.seed + stream)
        picks = rng.integers(0, n_videos, n)
        topics = np.concatenate([t for _, t in self._topics(n_videos, 2000)])[picks]
        return self._embed(topics + 0.8 * rng.standard_normal((n, LATENT), dtype=np.float32), rng)


def video_id(i: int) -> str:
    return f"bench-{i:08d}"


def fill(data_dir: Path, n_scenes: int, model_id: str, synthetic: Synthetic) -> float:
    marker = data_dir / "bench.json"
    wanted = {"scenes": n_scenes, "model_id": model_id, "seed": synthetic.seed, "dim": DIM}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return float("nan")  # reuse an earlier fill
    shutil.rmtree(data_dir, ignore_errors=True)
    started = time.perf_counter()
    store = SearcherStore(data_dir)
    scenes = [
        SceneRecord(i, i * 48, (i + 1) * 48, float(i * 48 / FPS), float((i + 1) * 48 / FPS), 2) for i in range(SCENES_PER_VIDEO)
    ]
    n_videos = n_scenes // SCENES_PER_VIDEO
    for lo, vectors in synthetic.videos(n_videos):
        for j in range(len(vectors)):
            vid = video_id(lo + j)
            video = VideoRecord(
                vid, f"/bench/{vid}.mp4", float(SCENES_PER_VIDEO * 48 / FPS), FPS, SCENES_PER_VIDEO * 48, 1280, 720,
                "0" * 64, model_id, DIM,
            )
            store.put_video(video, scenes, vectors[j])
    store.close()
    marker.write_text(json.dumps(wanted))
    return time.perf_counter() - started


# -- measurements --------------------------------------------------------------------


def percentile(values, q) -> float:
    return float(np.percentile(np.asarray(values) * 1e3, q))


def compare_with_faiss(data_dir: Path, queries: np.ndarray, timed: int) -> dict:
    """In-process: exact ranking vs faiss IndexFlatIP over the same matrix (the first
    ``timed`` queries are timed against faiss; the others only give exact answers)."""
    started = time.perf_counter()
    searcher = Searcher.open(SearcherSettings(data_dir=str(data_dir), ann="none"))
    load_s = time.perf_counter() - started
    matrix = searcher.index._snapshot.vectors
    flat = faiss.IndexFlatIP(DIM)
    flat.add(matrix)
    times = {"faiss": [], "scenes": [], "videos": []}
    truth_scenes, truth_videos = [], []
    scene_params, video_params = SearchParams(top_k=10, mode="scenes"), SearchParams(top_k=10)
    # Blocks of queries per engine, rounds interleaved: alternating every call would
    # make each library's idle-spinning worker threads (OpenMP, OpenBLAS) slow the other.
    block = max(5, timed // 4)
    for lo in range(0, len(queries), block):
        chunk = queries[lo : lo + block]
        if lo >= timed:  # ground truth only
            for q in chunk:
                truth_scenes.append({(h.video_id, h.scene.index) for h in searcher.index.search(q, scene_params)[1]})
                truth_videos.append({h.video.video_id for h in searcher.index.search(q, video_params)[0]})
            continue
        flat.search(chunk[0][None], 10)  # warm-up
        for q in chunk:
            t = time.perf_counter()
            flat.search(q[None], 10)
            times["faiss"].append(time.perf_counter() - t)
        searcher.index.search(chunk[0], video_params)  # warm-up
        for q in chunk:
            t = time.perf_counter()
            _, scenes = searcher.index.search(q, scene_params)
            times["scenes"].append(time.perf_counter() - t)
            t = time.perf_counter()
            videos, _ = searcher.index.search(q, video_params)
            times["videos"].append(time.perf_counter() - t)
            truth_scenes.append({(h.video_id, h.scene.index) for h in scenes})
            truth_videos.append({h.video.video_id for h in videos})
    # Sanity: our exact scene ranking equals faiss's (same vectors, exact search).
    _, faiss_rows = flat.search(queries[:20], 10)
    agreement = np.mean([
        len({(video_id(int(r) // SCENES_PER_VIDEO), int(r) % SCENES_PER_VIDEO) for r in rows} & truth) / 10
        for rows, truth in zip(faiss_rows, truth_scenes)
    ])
    del flat
    searcher.close()
    return {
        "load_inprocess_s": load_s,
        "faiss_ms": statistics.median(times["faiss"]) * 1e3,
        "exact_scenes_ms": statistics.median(times["scenes"]) * 1e3,
        "exact_videos_ms": statistics.median(times["videos"]) * 1e3,
        "truth_scenes": truth_scenes,
        "truth_videos": truth_videos,
        "faiss_agreement": float(agreement),
    }


class ServerProcess:
    def __init__(self, data_dir: Path, ann: str, embedder_address: str, log_path: Path, extra_args: tuple = (),
                 repo: Path = REPO) -> None:
        """The Searcher of ``repo`` (another checkout: its code before a change, measured side by side)."""
        port_file = Path(tempfile.mkdtemp()) / "port"
        self.started = time.perf_counter()
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "videosearch.searcher.server", "--port", "0", "--port-file", str(port_file),
                "--data-dir", str(data_dir), "--ann", ann, "--embedder-address", embedder_address, "--log-level", "info",
                *extra_args,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": f"{repo / 'services'}:{repo / 'clients'}"},
        )
        while not port_file.exists():
            self._check_alive()
            time.sleep(0.01)
        self.address = f"127.0.0.1:{int(port_file.read_text())}"
        channel = insecure_channel(self.address)
        health = health_pb2_grpc.HealthStub(channel)
        while True:
            self._check_alive()
            try:
                if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.RpcError:
                pass
            time.sleep(0.02)
        self.startup_s = time.perf_counter() - self.started
        self.stub = searcher_pb2_grpc.SearcherServiceStub(channel)
        self.channel = channel

    def _check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"the Searcher exited with {self.proc.returncode}; see {self.log.name}")

    def rss(self) -> int:
        return psutil.Process(self.proc.pid).memory_info().rss

    def wait_for_ann(self, timeout: float) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.stub.GetStats(searcher_pb2.GetStatsRequest()).approximate_index:
                return time.perf_counter() - self.started
            time.sleep(0.5)
        raise TimeoutError("the ANN index was not ready in time")

    def stop(self) -> None:
        self.channel.close()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)
        self.log.close()


def embedding_request(q: np.ndarray, **kw) -> searcher_pb2.SearchRequest:
    return searcher_pb2.SearchRequest(embedding=searcher_pb2.QueryEmbedding(vector=to_tensor(q)), top_k=10, **kw)


def latency(address: str, requests: list, clients: int) -> dict:
    """Per-call latencies of ``requests`` sent by ``clients`` concurrent clients (one channel each)."""
    channels = [insecure_channel(address) for _ in range(clients)]
    stubs = [searcher_pb2_grpc.SearcherServiceStub(c) for c in channels]
    for stub in stubs:
        stub.Search(requests[0])  # connect and warm up
    lock = threading.Lock()
    samples: list[float] = []

    def run(worker: int) -> None:
        mine = []
        for request in requests[worker::clients]:
            t = time.perf_counter()
            stubs[worker].Search(request)
            mine.append(time.perf_counter() - t)
        with lock:
            samples.extend(mine)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, range(clients)))
    wall = time.perf_counter() - started
    for c in channels:
        c.close()
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99), "qps": len(samples) / wall, "n": len(samples)}


def recall(stub, queries, truth_scenes, truth_videos) -> dict:
    scene_hits, video_hits, times = [], [], []
    for q, want_scenes, want_videos in zip(queries, truth_scenes, truth_videos):
        t = time.perf_counter()
        got = stub.Search(embedding_request(q, mode=searcher_pb2.SEARCH_MODE_SCENES, approximate=True))
        times.append(time.perf_counter() - t)
        scene_hits.append(len({(m.video_id, m.scene.index) for m in got.scenes} & want_scenes) / 10)
        got = stub.Search(embedding_request(q, approximate=True))
        video_hits.append(len({m.video.video_id for m in got.videos} & want_videos) / 10)
    return {"scene_recall": float(np.mean(scene_hits)), "video_recall": float(np.mean(video_hits))}


# -- embedder with a 512-d tiny CLIP ---------------------------------------------------


def start_embedder(work: Path, log_path: Path) -> tuple[subprocess.Popen, str, str]:
    model_dir = work / "tiny-clip-512"
    if not (model_dir / "config.json").exists():
        import torch
        from transformers import CLIPModel
        from videosearch.demo.tokenizer import (
            DEFAULT_WORDS,
            build_clip_processor,
            save_processor,
            tiny_clip_config,
        )

        processor = build_clip_processor(list(DEFAULT_WORDS), 32)
        tok = processor.tokenizer
        config = tiny_clip_config(
            len(tok), image_size=32, patch_size=8, projection_dim=DIM,
            bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        )
        torch.manual_seed(0)
        CLIPModel(config).eval().save_pretrained(model_dir)
        save_processor(processor, model_dir)
    port_file = work / "embedder.port"
    port_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "videosearch.embedder.server", "--port", "0", "--port-file", str(port_file),
         "--model", str(model_dir), "--device", "cpu", "--dtype", "float32", "--torch-threads", "1"],
        stdout=open(log_path, "ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": f"{REPO / 'services'}:{REPO / 'clients'}"},
    )
    from videosearch.client.embedder import EmbedderClient

    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Embedder exited; see {log_path}")
        if port_file.exists():
            address = f"127.0.0.1:{int(port_file.read_text())}"
            try:
                with EmbedderClient(address, timeout=2) as client:
                    info = client.model_info()
                    if info.embedding_dim != DIM:
                        raise RuntimeError(f"the bench Embedder has dim {info.embedding_dim}, expected {DIM}")
                    return proc, address, info.model_id
            except Exception:  # noqa: BLE001 - still loading
                pass
        time.sleep(0.2)
    raise TimeoutError("the Embedder did not start")


# -- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="collection sizes in scenes")
    parser.add_argument("--ann-size", type=int, default=None, help="size at which to build and measure HNSW (default: largest)")
    parser.add_argument("--work-dir", default=str(REPO / "build" / "bench-search"), help="where data dirs and logs go (reused)")
    parser.add_argument("--queries", type=int, default=200, help="queries per measurement (fewer for exact search at 1M)")
    parser.add_argument("--plot", default="", help="write a PNG of latency vs collection size here")
    parser.add_argument("--write-docs", action="store_true", help="record the figures in docs/performance.md")
    parser.add_argument("--json", default="", help="write all figures as JSON here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ann_size = args.ann_size or max(sizes)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, numpy {np.__version__}, faiss {faiss.__version__}", flush=True)
    embedder_proc, embedder_address, model_id = start_embedder(work, logs / "embedder.log")
    synthetic = Synthetic(seed=0)
    results = []
    try:
        empty_dir = work / "empty"
        shutil.rmtree(empty_dir, ignore_errors=True)
        empty = ServerProcess(empty_dir, "none", embedder_address, logs / "searcher-empty.log")
        baseline_rss = empty.rss()
        empty.stop()
        for n in sizes:
            row: dict = {"scenes": n}
            data_dir = work / f"data-{n}"
            row["fill_s"] = fill(data_dir, n, model_id, synthetic)
            print(f"[{n}] filled LevelDB in {row['fill_s']:.1f} s", flush=True)
            n_queries = args.queries if n < 500_000 else max(40, args.queries // 4)
            queries = synthetic.queries(max(n_queries, 200 if n == ann_size else 0), n // SCENES_PER_VIDEO)
            exact = compare_with_faiss(data_dir, queries if n == ann_size else queries[:n_queries], n_queries)
            row.update({k: v for k, v in exact.items() if not k.startswith("truth")})
            print(f"[{n}] exact scenes {row['exact_scenes_ms']:.2f} ms, videos {row['exact_videos_ms']:.2f} ms, "
                  f"faiss {row['faiss_ms']:.2f} ms (top-10 agreement {row['faiss_agreement']:.3f}; in-process load {row['load_inprocess_s']:.1f} s)", flush=True)

            ann = "hnsw" if n == ann_size else "none"
            if ann == "hnsw":
                shutil.rmtree(data_dir / "ann", ignore_errors=True)  # time a real build; the restart loads it
            server = ServerProcess(data_dir, ann, embedder_address, logs / f"searcher-{n}.log")
            row["startup_s"] = server.startup_s
            if ann == "hnsw":
                # Measure once the background build is done, so it does not share the cores.
                row["ann_ready_s"] = server.wait_for_ann(timeout=1800)
                print(f"[{n}] ANN ready {row['ann_ready_s']:.1f} s after spawn (exact serving after {server.startup_s:.1f} s)", flush=True)
                time.sleep(3)  # let the post-build save finish
            time.sleep(0.5)
            exact_requests = [embedding_request(q) for q in queries[:n_queries]]
            for clients in (1, 8):
                row[f"exact_c{clients}"] = latency(server.address, exact_requests, clients)
            text_requests = [searcher_pb2.SearchRequest(text=TEXTS[i % len(TEXTS)] + f" {i}", top_k=10) for i in range(n_queries)]
            for clients in (1, 8):
                row[f"text_c{clients}"] = latency(server.address, text_requests, clients)
            row["rss_bytes"] = server.rss() - baseline_rss
            print(f"[{n}] server up in {row['startup_s']:.1f} s; exact p50/p99 {row['exact_c1']['p50']:.1f}/{row['exact_c1']['p99']:.1f} ms; "
                  f"text p50 {row['text_c1']['p50']:.1f} ms; RSS delta {row['rss_bytes'] / 2**20:.0f} MiB", flush=True)
            if ann == "hnsw":
                approx_requests = [embedding_request(q, approximate=True) for q in queries]
                for clients in (1, 8):
                    row[f"ann_c{clients}"] = latency(server.address, approx_requests, clients)
                row.update(recall(server.stub, queries, exact["truth_scenes"], exact["truth_videos"]))
                row["rss_with_ann_bytes"] = server.rss() - baseline_rss
                server.stop()
                again = ServerProcess(data_dir, ann, embedder_address, logs / f"searcher-{n}-restart.log")
                row["startup_saved_ann_s"] = again.startup_s
                row["ann_loaded_on_start"] = again.stub.GetStats(searcher_pb2.GetStatsRequest()).approximate_index
                row["rss_restart_bytes"] = again.rss() - baseline_rss
                again.stop()
                print(f"[{n}] ANN p99 {row['ann_c1']['p99']:.2f} ms, recall@10 scenes {row['scene_recall']:.3f} "
                      f"videos {row['video_recall']:.3f}; restart with saved ANN {row['startup_saved_ann_s']:.1f} s", flush=True)
            else:
                server.stop()
            results.append(row)
    finally:
        embedder_proc.send_signal(signal.SIGTERM)
        embedder_proc.wait(timeout=30)

    table = render_table(results)
    print("\n" + table)
    if args.write_docs:
        write_docs(table)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=float))
    if args.plot:
        plot(results, Path(args.plot))
    return 0


SECTION = "## Search at scale"
TARGETS_TEXT = (
    "Targets: exact ranking <= 1.2x faiss IndexFlatIP per query; approximate recall@10 >= 0.95 and p99 <= 20 ms "
    "at 1M scenes; start-up with 1M scenes <= 20 s; memory <= 1.5x the raw float32 vector bytes."
)


def write_docs(table: str) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    import benchlib

    benchlib.write_section(SECTION, (
        f"`python bench/search/run.py --sizes 10000,100000,1000000 --write-docs` on {benchlib.machine()}.\n\n"
        "Synthetic CLIP-like 512-d vectors (64-d latent topic per video plus scene offsets and noise, 20 scenes "
        "per video) written into LevelDB through the store module; the Searcher runs as a real server process and "
        "latencies are gRPC Search calls (top_k 10, video mode). Exact ranking vs faiss IndexFlatIP is timed "
        "in-process over the same float32 matrix. \"text\" includes embedding the query by a real Embedder hosting "
        "a tiny random CLIP with a 512-d projection (a lower bound for a real text tower).\n\n"
        "Storage precision: float32 in memory (numpy has no half-precision BLAS: float16 matrix-vector products "
        "measured about 10x slower); the approximate index (usearch HNSW, M 16, efConstruction 64, efSearch 128) "
        "keeps int8 copies and its candidates are re-scored exactly in float32, so scores are true cosines.\n\n"
        + TARGETS_TEXT + "\n\n```\n" + table + "```\n\n![search latency vs collection size](search-latency.png)\n"
    ))


def render_table(results: list[dict]) -> str:
    lines: list[str] = []
    print = lines.append  # noqa: A001 - the table is built line by line
    print("| scenes | startup s | RSS/scene B | RSS / raw f32 | exact videos ms | exact scenes ms | faiss flat ms | videos/faiss | scenes/faiss "
          "| gRPC exact p50/p99 ms (1 client) | (8 clients) | text p50/p99 ms (1) | (8) |")
    print("|---:" * 13 + "|")
    for r in results:
        raw = r["scenes"] * DIM * 4
        print(
            f"| {r['scenes']:,} | {r['startup_s']:.2f} | {r['rss_bytes'] / r['scenes']:.0f} | {r['rss_bytes'] / raw:.2f} "
            f"| {r['exact_videos_ms']:.2f} | {r['exact_scenes_ms']:.2f} | {r['faiss_ms']:.2f} "
            f"| {r['exact_videos_ms'] / r['faiss_ms']:.2f} | {r['exact_scenes_ms'] / r['faiss_ms']:.2f} "
            f"| {r['exact_c1']['p50']:.1f} / {r['exact_c1']['p99']:.1f} | {r['exact_c8']['p50']:.1f} / {r['exact_c8']['p99']:.1f} "
            f"| {r['text_c1']['p50']:.1f} / {r['text_c1']['p99']:.1f} | {r['text_c8']['p50']:.1f} / {r['text_c8']['p99']:.1f} |"
        )
    for r in results:
        if "ann_c1" in r:
            raw = r["scenes"] * DIM * 4
            print("")
            print(f"ANN (usearch HNSW int8, re-scored exactly) at {r['scenes']:,} scenes:")
            print(f"  ready {r['ann_ready_s']:.1f} s after spawn (exact served meanwhile); restart with saved index {r['startup_saved_ann_s']:.2f} s "
                  f"(loaded: {r['ann_loaded_on_start']})")
            print(f"  gRPC p50/p99 1 client {r['ann_c1']['p50']:.2f} / {r['ann_c1']['p99']:.2f} ms; 8 clients {r['ann_c8']['p50']:.2f} / {r['ann_c8']['p99']:.2f} ms "
                  f"({r['ann_c8']['qps']:.0f} q/s)")
            print(f"  recall@10 scenes {r['scene_recall']:.3f}, videos {r['video_recall']:.3f}")
            print(f"  RSS with ANN {r['rss_with_ann_bytes'] / raw:.2f}x raw; after restart {r['rss_restart_bytes'] / raw:.2f}x raw")
    return "\n".join(lines) + "\n"


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["scenes"] for r in results]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(sizes, [r["exact_c1"]["p50"] for r in results], "o-", label="exact, gRPC p50")
    ax.plot(sizes, [r["exact_c1"]["p99"] for r in results], "o--", label="exact, gRPC p99")
    ax.plot(sizes, [r["faiss_ms"] for r in results], "s-", label="faiss IndexFlatIP (in-process)")
    ann = [r for r in results if "ann_c1" in r]
    if ann:
        ax.plot([r["scenes"] for r in ann], [r["ann_c1"]["p99"] for r in ann], "^", label="HNSW, gRPC p99")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("scenes")
    ax.set_ylabel("ms per query")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
