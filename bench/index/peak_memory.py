"""`make bench-index-memory`: the Indexer's peak memory for a 4K video, beside a 720p one.

    python bench/index/peak_memory.py                  # 12 s videos, 3840x2160 and 1280x720
    python bench/index/peak_memory.py --seconds 20 --write-docs

Generates a 4K (3840x2160) and a 720p video of the same length and scene structure, and
indexes each through a fresh Indexer process (the demo model in an Embedder process, a
Searcher process), one job at a time. Reports per video the Indexer's resident memory once
SERVING and its peak during the job (VmHWM from /proc/<pid>/status: the high-water mark of
the process's whole life, so a fresh process per video), and the most frames in flight
that the job's progress showed (sampled frames sent to the Embedder and not yet embedded).
The frames in flight are bounded by settings, not by the video: --embed-requests-in-flight
requests of at most --max-frames-per-scene frames, each a 224x224 float32 crop, and the
candidate crops kept per open scene; a full-size frame is only held while it is decoded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.benchlib import machine, write_section  # noqa: E402
from bench.chaos.harness import HOST, start_service  # noqa: E402
from bench.index.run import synthetic_video  # noqa: E402
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc  # noqa: E402

DEMO_MODEL = str(Path(__file__).resolve().parents[2] / "models" / "demo-clip")
SIZES = {"4K UHD 3840x2160": (3840, 2160), "720p 1280x720": (1280, 720)}


def memory_mib(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (peak so far) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def index_once(video: Path, embedder_port: int, searcher_port: int, workdir: Path) -> dict:
    """Indexes ``video`` through a fresh Indexer; its memory and the most frames in flight."""
    indexer = start_service(f"indexer-{video.stem}", "videosearch.indexer.server", [
        "--embedder-address", f"{HOST}:{embedder_port}", "--searcher-address", f"{HOST}:{searcher_port}",
        "--allowed-roots", str(video.parent)], workdir)
    pid = indexer.process.pid
    try:
        serving_rss = memory_mib(pid, "VmRSS")
        in_flight = 0
        started = time.perf_counter()
        with grpc.insecure_channel(f"{HOST}:{indexer.port}") as channel:
            stub = indexer_pb2_grpc.IndexerServiceStub(channel)
            job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(
                path=str(video), options=indexer_pb2.IndexOptions(force=True)), timeout=30).job
            for update in stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id), timeout=1800):
                job = update.job
                in_flight = max(in_flight, job.frames_to_embed - job.frames_embedded)
        if job.state != indexer_pb2.JOB_STATE_SUCCEEDED:
            raise RuntimeError(f"indexing {video} ended {indexer_pb2.JobState.Name(job.state)}: {job.error}")
        return {"serving_mib": serving_rss, "peak_mib": memory_mib(pid, "VmHWM"), "in_flight": in_flight,
                "frames": job.frames_decoded, "scenes": job.scenes_found, "seconds": time.perf_counter() - started}
    finally:
        indexer.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="length of each generated video")
    parser.add_argument("--write-docs", action="store_true", help="write the table into docs/performance.md")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="videosearch-peak-memory-"))
    videos = workdir / "videos"
    videos.mkdir()
    files = {}
    for name, size in SIZES.items():
        print(f"generating a {args.seconds:g} s {name} video ...", flush=True)
        files[name] = synthetic_video(args.seconds / 60, videos / f"{size[0]}x{size[1]}.mp4", size=size, seed=7)
    embedder = start_service("embedder", "videosearch.embedder.server", ["--model", DEMO_MODEL], workdir)
    searcher = start_service("searcher", "videosearch.searcher.server", [
        "--data-dir", str(workdir / "data"), "--embedder-address", f"{HOST}:{embedder.port}"], workdir)
    try:
        results = {name: index_once(path, embedder.port, searcher.port, workdir) for name, path in files.items()}
    finally:
        searcher.stop()
        embedder.stop()

    four_k, hd = results["4K UHD 3840x2160"], results["720p 1280x720"]
    lines = ["| video | frames | scenes | Indexer RSS once SERVING | Indexer peak (VmHWM) | growth | most frames in flight | job s |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name}, {args.seconds:g} s | {r['frames']} | {r['scenes']} | {r['serving_mib']:.0f} MiB | "
                     f"{r['peak_mib']:.0f} MiB | {r['peak_mib'] - r['serving_mib']:.0f} MiB | {r['in_flight']} | "
                     f"{r['seconds']:.1f} |")
    ratio = (four_k["peak_mib"] - four_k["serving_mib"]) / max(hd["peak_mib"] - hd["serving_mib"], 1e-9)
    table = "\n".join(lines)
    summary = (f"4K vs 720p: {four_k['peak_mib'] / hd['peak_mib']:.2f}x the peak, {ratio:.2f}x the growth, for 9x "
               "the pixels per frame")
    print(table)
    print(summary)
    if args.write_docs:
        write_section("## Indexer peak memory for a 4K video", (
            "`make bench-index-memory` (`bench/index/peak_memory.py`) indexes a generated 4K and a 720p video of the "
            "same length, each through a fresh Indexer process, and reads the Indexer's peak resident memory "
            "(VmHWM). Frames in flight are the sampled 224x224 crops sent to the Embedder and not yet embedded, "
            "bounded by `--embed-requests-in-flight` x `--max-frames-per-scene`; a full-size frame is held only "
            "while it is decoded and cropped (the decoder runs up to 4 frames ahead, FFmpeg's threads hold their "
            "own).\n\n"
            f"{table}\n\n{summary}.\n\nMachine: {machine()}. CPU timings on a shared machine are noisy; the memory "
            "figures are not timings."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
