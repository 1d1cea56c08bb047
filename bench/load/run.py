"""`make bench-load`: N clients search while index jobs run, against the three services as
separate processes with the demo model, side by side with the same clients on an idle
Indexer (the ratio of the two p99s is the cost of indexing to searches).

    python bench/load/run.py                        # 8 clients, 60 s idle then 60 s indexing, 2 jobs at a time
    python bench/load/run.py --clients 32 --seconds 20 --jobs 1
    python bench/load/run.py --no-priority          # indexing at the searches' priority (before issue 25)

Each client alternates text queries (demo captions; the Searcher asks the Embedder) and
vector queries (embeddings from EmbedTexts, ranked by the Searcher alone). Meanwhile index
jobs run back to back on demo videos (forced re-indexing, so each one decodes and embeds).
Prints per query kind p50/p99 latency and errors (must be 0), completed jobs, and each
service's resident memory at the start and the end of the run (growth per service).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.chaos.harness import HOST, start_service  # noqa: E402
from videosearch.common.tensors import to_tensor  # noqa: E402
from videosearch.demo.videos import generate_demo_corpus  # noqa: E402
from videosearch.demo.world import CAPTIONS  # noqa: E402
from videosearch.v1 import (  # noqa: E402
    embedder_pb2,
    embedder_pb2_grpc,
    indexer_pb2,
    indexer_pb2_grpc,
    searcher_pb2,
    searcher_pb2_grpc,
)

DEMO_MODEL = str(Path(__file__).resolve().parents[2] / "models" / "demo-clip")
DONE = (indexer_pb2.JOB_STATE_SUCCEEDED, indexer_pb2.JOB_STATE_FAILED, indexer_pb2.JOB_STATE_CANCELLED)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


class Client(threading.Thread):
    def __init__(self, address: str, vectors: list, stop: threading.Event, seed: int) -> None:
        super().__init__(daemon=True)
        self._address, self._vectors, self._stopping, self._rng = address, vectors, stop, random.Random(seed)
        self.latencies: dict[str, list[float]] = {"text": [], "vector": []}
        self.errors: dict[str, dict[str, int]] = {"text": {}, "vector": {}}

    def run(self) -> None:
        with grpc.insecure_channel(self._address) as channel:
            stub = searcher_pb2_grpc.SearcherServiceStub(channel)
            while not self._stopping.is_set():
                kind = self._rng.choice(("text", "vector"))
                if kind == "text":
                    request = searcher_pb2.SearchRequest(text=self._rng.choice(CAPTIONS))
                else:
                    request = searcher_pb2.SearchRequest(embedding=searcher_pb2.QueryEmbedding(
                        vector=self._rng.choice(self._vectors)))
                started = time.perf_counter()
                try:
                    stub.Search(request, timeout=30)
                except grpc.RpcError as exc:
                    codes = self.errors[kind]
                    codes[exc.code().name] = codes.get(exc.code().name, 0) + 1
                    continue
                self.latencies[kind].append((time.perf_counter() - started) * 1e3)


def run_jobs(address: str, files: list[str], stop: threading.Event, parallel: int, done: list) -> None:
    with grpc.insecure_channel(address) as channel:
        stub = indexer_pb2_grpc.IndexerServiceStub(channel)
        running: list[str] = []
        turn = 0
        while not stop.is_set():
            while len(running) < parallel:
                path = files[turn % len(files)]
                turn += 1
                running.append(stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(
                    path=path, options=indexer_pb2.IndexOptions(force=True)), timeout=30).job.job_id)
            for job_id in list(running):
                job = stub.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=job_id), timeout=30).job
                if job.state in DONE:
                    running.remove(job_id)
                    done.append(indexer_pb2.JobState.Name(job.state))
            stop.wait(0.2)


def measure(address: str, indexer_address: str, vectors: list, files: list[str], args, with_jobs: bool):
    """One window: the clients search for ``args.seconds`` (index jobs running when ``with_jobs``)."""
    stop = threading.Event()
    clients = [Client(address, vectors, stop, seed) for seed in range(args.clients)]
    finished_jobs: list[str] = []
    threads = list(clients)
    if with_jobs:
        threads.append(threading.Thread(target=run_jobs, args=(indexer_address, files, stop, args.jobs, finished_jobs),
                                        daemon=True))
    for thread in threads:
        thread.start()
    time.sleep(args.seconds)  # the measured window
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    return clients, finished_jobs


def summary(clients) -> tuple[dict, dict]:
    """Per query kind (text, vector, all): (count, p50, p99), and the errors by code."""
    figures, errors = {}, {}
    for kind in ("text", "vector"):
        errors[kind] = {}
        for client in clients:
            for code, n in client.errors[kind].items():
                errors[kind][code] = errors[kind].get(code, 0) + n
    for kind in ("text", "vector", "all"):
        values = [v for c in clients for k in (("text", "vector") if kind == "all" else (kind,)) for v in c.latencies[k]]
        figures[kind] = (len(values), percentile(values, 50), percentile(values, 99))
    return figures, errors


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--jobs", type=int, default=2, help="index jobs kept running at a time")
    parser.add_argument("--videos", type=int, default=8, help="demo videos to index")
    parser.add_argument("--no-priority", action="store_true",
                        help="index at the searches' priority (--job-nice 0, --image-nice 0), for comparison")
    args = parser.parse_args(argv)
    nice = ["0"] if args.no_priority else []

    workdir = Path(tempfile.mkdtemp(prefix="videosearch-load-"))
    videos = workdir / "videos"
    generate_demo_corpus(videos, args.videos, (3, 6), seed=11, size=(640, 360))
    files = sorted(str(p) for p in videos.glob("*.mp4"))
    embedder = start_service("embedder", "videosearch.embedder.server",
                             ["--model", DEMO_MODEL, *(["--image-nice", *nice] if nice else [])], workdir)
    searcher = start_service("searcher", "videosearch.searcher.server", [
        "--data-dir", str(workdir / "data"), "--embedder-address", f"{HOST}:{embedder.port}"], workdir)
    indexer = start_service("indexer", "videosearch.indexer.server", [
        "--embedder-address", f"{HOST}:{embedder.port}", "--searcher-address", f"{HOST}:{searcher.port}",
        "--allowed-roots", str(videos), *(["--job-nice", *nice] if nice else [])], workdir)
    services = {"embedder": embedder, "searcher": searcher, "indexer": indexer}
    try:
        with grpc.insecure_channel(f"{HOST}:{indexer.port}") as channel:  # something to search first
            stub = indexer_pb2_grpc.IndexerServiceStub(channel)
            for path in files:
                job_id = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=path), timeout=30).job.job_id
                for _update in stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job_id), timeout=300):
                    pass
        with grpc.insecure_channel(f"{HOST}:{embedder.port}") as channel:
            embedded = embedder_pb2_grpc.EmbedderServiceStub(channel).EmbedTexts(
                embedder_pb2.EmbedTextsRequest(texts=CAPTIONS), timeout=60)
        matrix = np.frombuffer(embedded.embeddings.data, np.float32).reshape(len(CAPTIONS), -1)
        vectors = [to_tensor(row) for row in matrix]
        rss_before = {name: rss_mib(p.process.pid) for name, p in services.items()}
        window = (f"{HOST}:{searcher.port}", f"{HOST}:{indexer.port}", vectors, files, args)
        idle_clients, _ = measure(*window, with_jobs=False)
        clients, finished_jobs = measure(*window, with_jobs=True)
        rss_after = {name: rss_mib(p.process.pid) for name, p in services.items()}
    finally:
        for process in (indexer, searcher, embedder):
            process.stop()

    priority = "indexing at the searches' priority (--no-priority)" if args.no_priority else \
        "indexing niced (--job-nice 10, --image-nice 10)"
    print(f"\nmake bench-load: {args.clients} clients, {args.seconds:.0f} s idle then {args.seconds:.0f} s with "
          f"{args.jobs} index jobs at a time, {len(files)} demo videos (640x360); model demo-clip; {priority}")
    idle, idle_errors = summary(idle_clients)
    loaded, load_errors = summary(clients)
    print("| query | idle count | idle p50 ms | idle p99 ms | indexing count | indexing p50 ms | indexing p99 ms | "
          "p99 ratio | errors idle / indexing |\n|---|---|---|---|---|---|---|---|---|")
    for kind in ("text", "vector", "all"):
        (n0, p50_0, p99_0), (n1, p50_1, p99_1) = idle[kind], loaded[kind]
        wrong = "" if kind == "all" else (f"{sum(idle_errors[kind].values())} {idle_errors[kind] or ''} / "
                                          f"{sum(load_errors[kind].values())} {load_errors[kind] or ''}")
        print(f"| {kind} | {n0} | {p50_0:.1f} | {p99_0:.1f} | {n1} | {p50_1:.1f} | {p99_1:.1f} | "
              f"{p99_1 / p99_0:.2f} | {wrong} |")
    errors = {kind: {**idle_errors[kind], **load_errors[kind]} for kind in ("text", "vector")}
    states = {s: finished_jobs.count(s) for s in sorted(set(finished_jobs))}
    print(f"index jobs finished during the window: {len(finished_jobs)} {states}")
    print("| service | RSS MiB at start | RSS MiB at end | growth MiB |\n|---|---|---|---|")
    for name in services:
        print(f"| {name} | {rss_before[name]:.0f} | {rss_after[name]:.0f} | {rss_after[name] - rss_before[name]:+.0f} |")
    failed_jobs = sum(n for s, n in states.items() if s != "JOB_STATE_SUCCEEDED")
    return 0 if not any(errors.values()) and not failed_jobs else 1


if __name__ == "__main__":
    sys.exit(main())
