"""`make chaos`: SIGKILL each service again and again in the middle of its work and count
what went wrong (lost acknowledged writes, partial videos, orphan keys, restarts that
failed, services that stopped answering while a neighbour was down).

    python bench/chaos/run.py                  # 50 kills of each service
    python bench/chaos/run.py --kills 5 --services searcher,embedder

* searcher: a client upserts and deletes synthetic videos; after each kill the store is
  checked offline (videosearch.searcher.storage.fsck) and, after the restart, every acknowledged
  write must be there.
* indexer: real index jobs on demo videos (forced re-indexing, so every job decodes); the
  Indexer is killed while a job decodes, embeds or stores, then restarted. The Searcher
  must never hold a partial video (fsck at the end), and the Indexer must answer health
  after each restart. Jobs the Indexer knew before the kill and forgets after it are
  counted; must be 0 (the Indexer keeps its job table in --state-dir).
* embedder: killed while the Searcher answers text queries; during the outage the
  Searcher must answer health and vector search within a second, text queries must fail
  with UNAVAILABLE (never INTERNAL, never a hang), and after the restart text search works.
* embedder-jobs: killed while an index job embeds, and started again on the same port after
  up to 3 s; the job must wait for it (--dependency-retry-s) and succeed: jobs that fail
  must be 0.

Prints one line of counts per service; exits non-zero if any must-be-zero count is not.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.chaos.harness import (  # noqa: E402
    HOST,
    KillCounts,
    kill_searcher_during_writes,
    restart,
    sigkill,
    start_service,
    synthetic_upsert,
)
from videosearch.common.tensors import to_tensor  # noqa: E402
from videosearch.demo.videos import generate_demo_corpus  # noqa: E402
from videosearch.searcher.storage.fsck import check_store  # noqa: E402
from videosearch.v1 import (  # noqa: E402
    embedder_pb2,
    embedder_pb2_grpc,
    indexer_pb2,
    indexer_pb2_grpc,
    searcher_pb2,
    searcher_pb2_grpc,
)

DEMO_MODEL = str(Path(__file__).resolve().parents[2] / "models" / "demo-clip")
BUSY_STAGES = {indexer_pb2.JOB_STAGE_DETECTING_SCENES, indexer_pb2.JOB_STAGE_EMBEDDING, indexer_pb2.JOB_STAGE_STORING}
FINISHED = {indexer_pb2.JOB_STATE_SUCCEEDED, indexer_pb2.JOB_STATE_FAILED, indexer_pb2.JOB_STATE_CANCELLED}
EMBEDDER = ("embedder", "videosearch.embedder.server")
SEARCHER = ("searcher", "videosearch.searcher.server")
INDEXER = ("indexer", "videosearch.indexer.server")


def serving(address: str, timeout: float = 1.0) -> bool:
    with grpc.insecure_channel(address) as channel:
        try:
            status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout).status
        except grpc.RpcError:
            return False
    return status == health_pb2.HealthCheckResponse.SERVING


def kill_indexer_during_jobs(kills: int, workdir: Path, seed: int) -> tuple[KillCounts, int]:
    chooser = random.Random(seed)
    videos = workdir / "videos"
    generate_demo_corpus(videos, 6, (3, 5), seed=seed, size=(320, 180))
    files = sorted(str(p) for p in videos.glob("*.mp4"))
    data = workdir / "searcher-data"
    embedder = start_service(*EMBEDDER, ["--model", DEMO_MODEL, "--dtype", "float32"], workdir)
    searcher = start_service(*SEARCHER, ["--data-dir", str(data), "--embedder-address", f"{HOST}:{embedder.port}",
                                         "--ann", "none"], workdir)
    indexer_args = ["--embedder-address", f"{HOST}:{embedder.port}", "--searcher-address", f"{HOST}:{searcher.port}",
                    "--allowed-roots", str(videos), "--state-dir", str(workdir / "indexer-state")]
    indexer = start_service(*INDEXER, indexer_args, workdir)
    counts, forgotten = KillCounts("indexer"), 0
    try:
        for round_ in range(kills):
            with grpc.insecure_channel(f"{HOST}:{indexer.port}") as channel:
                stub = indexer_pb2_grpc.IndexerServiceStub(channel)
                jobs = [stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(
                    path=path, options=indexer_pb2.IndexOptions(force=True)), timeout=10).job.job_id
                    for path in chooser.sample(files, 2)]
                _wait_until_busy(stub, jobs[0], chooser.uniform(0.0, 0.6))
            sigkill(indexer)
            counts.kills += 1
            indexer = restart(counts, round_, *INDEXER, indexer_args, workdir)
            if indexer is None:
                break
            with grpc.insecure_channel(f"{HOST}:{indexer.port}") as channel:
                stub = indexer_pb2_grpc.IndexerServiceStub(channel)
                known = {job.job_id for job in stub.ListIndexJobs(indexer_pb2.ListIndexJobsRequest(page_size=1000),
                                                                  timeout=10).jobs}
            forgotten += len(set(jobs) - known)
            print(f"indexer kill {round_ + 1}/{kills}: restarted in {counts.seconds_to_serving[-1]:.1f} s", flush=True)
    finally:
        for process in (indexer, searcher, embedder):
            if process is not None:
                process.stop()
    report = check_store(data)
    print(f"after the indexer kills the Searcher holds {report.videos} whole videos", flush=True)
    counts.partial_videos, counts.orphan_keys = len(report.partial_videos), len(report.orphan_keys)
    if not report.whole:
        counts.problems.append(report.summary())
    return counts, forgotten


def _wait_until_busy(stub, job_id: str, extra_s: float, timeout: float = 60.0) -> None:
    """Until the job decodes, embeds or stores (or ends), then a random extra moment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = stub.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=job_id), timeout=10).job
        if job.stage in BUSY_STAGES or job.state in (indexer_pb2.JOB_STATE_SUCCEEDED, indexer_pb2.JOB_STATE_FAILED):
            break
        time.sleep(0.02)
    time.sleep(extra_s)


def kill_embedder_during_queries(kills: int, workdir: Path) -> tuple[KillCounts, dict]:
    data = workdir / "embedder-chaos-searcher"
    embedder_args = ["--model", DEMO_MODEL, "--dtype", "float32"]
    embedder = start_service(*EMBEDDER, embedder_args, workdir)
    port = embedder.port  # restarted on the same port, as an orchestrator would
    searcher = start_service(*SEARCHER, ["--data-dir", str(data), "--embedder-address", f"{HOST}:{port}",
                                         "--ann", "none"], workdir)
    counts = KillCounts("embedder")
    outage = {"health_max_s": 0.0, "vector_search_max_s": 0.0, "text_codes": {}}
    address = f"{HOST}:{searcher.port}"
    try:
        with grpc.insecure_channel(f"{HOST}:{port}") as channel:
            stub = embedder_pb2_grpc.EmbedderServiceStub(channel)
            info = stub.GetModelInfo(embedder_pb2.GetModelInfoRequest(), timeout=30)
        vector = np.zeros(info.embedding_dim, np.float32)
        vector[0] = 1.0
        vector_query = searcher_pb2.SearchRequest(embedding=searcher_pb2.QueryEmbedding(vector=to_tensor(vector)))
        with grpc.insecure_channel(address) as channel:
            search = searcher_pb2_grpc.SearcherServiceStub(channel)
            # Text queries on an empty collection need no Embedder; store one video of its model.
            search.UpsertVideo(synthetic_upsert("chaos-video", 1, np.random.default_rng(0), model_id=info.model_id,
                                                dim=info.embedding_dim), timeout=30)
            for round_ in range(kills):
                search.Search(searcher_pb2.SearchRequest(text="a red circle"), timeout=30)  # works before the kill
                sigkill(embedder)
                counts.kills += 1
                for name, call in (("health", lambda: serving(address, timeout=5.0)),
                                   ("vector_search", lambda: search.Search(vector_query, timeout=5.0))):
                    started = time.monotonic()
                    call()
                    outage[f"{name}_max_s"] = max(outage[f"{name}_max_s"], time.monotonic() - started)
                try:  # a text the Searcher has not embedded before (it caches query embeddings)
                    search.Search(searcher_pb2.SearchRequest(text=f"a red circle, take {round_}"), timeout=10)
                    code = "OK"
                except grpc.RpcError as exc:
                    code = exc.code().name
                outage["text_codes"][code] = outage["text_codes"].get(code, 0) + 1
                if code not in ("UNAVAILABLE",):
                    counts.problems.append(f"round {round_}: a text query during the outage got {code}")
                embedder = restart(counts, round_, *EMBEDDER, ["--port", str(port), *embedder_args], workdir)
                if embedder is None:
                    break
                print(f"embedder kill {round_ + 1}/{kills}: restarted in {counts.seconds_to_serving[-1]:.1f} s", flush=True)
    finally:
        for process in (searcher, embedder):
            if process is not None:
                process.stop()
    return counts, outage


def kill_embedder_during_jobs(kills: int, workdir: Path, seed: int) -> tuple[KillCounts, dict]:
    chooser = random.Random(seed)
    videos = workdir / "embedder-jobs-videos"
    generate_demo_corpus(videos, 4, (4, 6), seed=seed, size=(320, 180))
    files = sorted(str(p) for p in videos.glob("*.mp4"))
    embedder_args = ["--model", DEMO_MODEL, "--dtype", "float32"]
    embedder = start_service(*EMBEDDER, embedder_args, workdir)
    port = embedder.port  # restarted on the same port, as an orchestrator would
    searcher = start_service(*SEARCHER, ["--data-dir", str(workdir / "embedder-jobs-searcher"),
                                         "--embedder-address", f"{HOST}:{port}", "--ann", "none"], workdir)
    indexer = start_service(*INDEXER, ["--embedder-address", f"{HOST}:{port}", "--searcher-address",
                                       f"{HOST}:{searcher.port}", "--allowed-roots", str(videos),
                                       "--dependency-retry-s", "60"], workdir)
    counts = KillCounts("embedder-jobs")
    outcome = {"killed_while_embedding": 0, "jobs": {}}
    try:
        with grpc.insecure_channel(f"{HOST}:{indexer.port}") as channel:
            stub = indexer_pb2_grpc.IndexerServiceStub(channel)
            for round_ in range(kills):
                job_id = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(
                    path=chooser.choice(files), options=indexer_pb2.IndexOptions(force=True)), timeout=10).job.job_id
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    job = stub.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=job_id), timeout=10).job
                    if job.frames_embedded > 0 or job.state in FINISHED:
                        break
                    time.sleep(0.01)
                outcome["killed_while_embedding"] += job.state == indexer_pb2.JOB_STATE_RUNNING
                sigkill(embedder)
                counts.kills += 1
                time.sleep(chooser.uniform(0.0, 3.0))
                embedder = restart(counts, round_, *EMBEDDER, ["--port", str(port), *embedder_args], workdir)
                if embedder is None:
                    break
                for update in stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job_id), timeout=300):
                    job = update.job
                state = indexer_pb2.JobState.Name(job.state)
                outcome["jobs"][state] = outcome["jobs"].get(state, 0) + 1
                if job.state != indexer_pb2.JOB_STATE_SUCCEEDED:
                    counts.problems.append(f"round {round_}: the job ended {state}: {job.error}")
                print(f"embedder kill mid-job {round_ + 1}/{kills}: job {state}", flush=True)
    finally:
        for process in (indexer, searcher, embedder):
            if process is not None:
                process.stop()
    return counts, outcome


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50, help="kills of each service")
    parser.add_argument("--services", default="searcher,indexer,embedder,embedder-jobs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="videosearch-chaos-"))
    wanted = set(args.services.split(","))
    lines, clean, notes = [], True, []
    if "searcher" in wanted:
        counts = kill_searcher_during_writes(args.kills, seed=args.seed, workdir=workdir / "searcher")
        lines.append(counts.line())
        clean &= counts.clean
        notes += counts.problems
    if "indexer" in wanted:
        counts, forgotten = kill_indexer_during_jobs(args.kills, workdir, args.seed)
        lines.append(counts.line() + f"  jobs forgotten by a restart {forgotten}")
        clean &= counts.clean and forgotten == 0
        notes += counts.problems
    if "embedder" in wanted:
        counts, outage = kill_embedder_during_queries(args.kills, workdir)
        lines.append(counts.line())
        lines.append(f"          while the Embedder was down: Searcher health answered within {outage['health_max_s']:.3f} s, "
                     f"vector search within {outage['vector_search_max_s']:.3f} s; text queries: {outage['text_codes']}")
        clean &= counts.clean and not counts.problems
        notes += counts.problems
    if "embedder-jobs" in wanted:
        counts, outcome = kill_embedder_during_jobs(args.kills, workdir, args.seed)
        lines.append(counts.line())
        lines.append(f"          index jobs whose Embedder was killed ({outcome['killed_while_embedding']} of them while "
                     f"embedding) ended: {outcome['jobs']} (every one must succeed)")
        clean &= counts.clean and not counts.problems
        notes += counts.problems
    print(f"\nmake chaos ({args.kills} kills of each service; work dir {workdir}):")
    for line in lines:
        print("  " + line)
    for note in notes[:20]:
        print("  ! " + note)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
