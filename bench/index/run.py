"""Indexing speed: videosearch's pipeline through the three services, side by side
with a faithful re-implementation of the seed's indexing, on the same model.

    python bench/index/run.py                     # testvideo.mp4 + 1, 5 and 20 minute 720p videos
    python bench/index/run.py --lengths 1,5 --compare 5

The seed, re-implemented: PySceneDetect at full resolution (no downscaling), then a
seek per sampled frame, CLIPProcessor on each frame (PIL), one forward pass per
frame (its sampling bug fixed so both index the same frames). Ours: one decode
pass shared by detection (on downscaled frames) and sampling, vectorised
preprocessing, uint8 frames to the Embedder while the next scene decodes, batched
forward passes across jobs. Both use a CLIP with ViT-B/32's architecture.
Prints the realtime factor (seconds of video per second of wall time), busy
seconds per stage, the speed-up, whether both found the same cuts, and how our
time grows with video length; writes a PNG plot and docs/performance.md's section.
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
import cv2  # noqa: E402
import grpc  # noqa: E402
from videosearch.launcher import ClusterConfig, LocalCluster  # noqa: E402
from videosearch.v1 import (  # noqa: E402
    indexer_pb2,
    indexer_pb2_grpc,
    searcher_pb2,
    searcher_pb2_grpc,
)

OUT = benchlib.REPO / "bench" / "out" / "index"
SHARED = benchlib.REPO.parent / "shared" / "videos"
SECTION = "## Indexing speed"
TARGET_SPEEDUP = 3.0


# -- synthetic long videos ---------------------------------------------------------------------
def synthetic_video(minutes: float, path: Path, *, size=(1280, 720), fps=25, seed=0) -> Path:
    """A 720p video of hard-cut scenes 3-12 s long, each a drifting textured picture with
    fresh noise per frame (so no scene is a still). Cached: written once per length."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    width, height = size
    total = int(minutes * 60 * fps)
    tmp = path.with_suffix(".part.mp4")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    noise = [rng.integers(0, 24, (height, width, 3), dtype=np.uint8) for _ in range(8)]
    written, bright = 0, False
    while written < total:
        length = min(int(rng.integers(3 * fps, 12 * fps)), total - written)
        # A low-resolution random picture scaled up: smooth, textured, different every scene.
        base = rng.integers(0, 256, (9, 16, 3), dtype=np.uint8)
        base = cv2.resize(base, (width + 64, height + 64), interpolation=cv2.INTER_CUBIC)
        base = cv2.addWeighted(base, 0.6, np.full_like(base, 200 if bright else 30), 0.4, 0)
        bright = not bright
        for i in range(length):
            # Drift back and forth (a triangle wave): smooth motion, never a jump that reads as a cut.
            dx, dy = 64 - abs(i % 128 - 64), 32 - abs((i // 2) % 64 - 32)
            frame = base[dy : dy + height, dx : dx + width]
            writer.write(cv2.add(frame, noise[i % len(noise)]))
        written += length
    writer.release()
    tmp.replace(path)
    return path


# -- the seed, re-implemented ------------------------------------------------------------------
def seed_index(path: Path, model, processor) -> dict:
    import torch
    from PIL import Image
    from scenedetect import ContentDetector, SceneManager, open_video

    times: dict[str, float] = {}
    started = time.perf_counter()
    video = open_video(str(path))
    manager = SceneManager()
    manager.auto_downscale = False
    manager.downscale = 1  # the seed detected at full resolution
    manager.add_detector(ContentDetector())
    manager.detect_scenes(video)
    scenes = [(s.frame_num, e.frame_num) for s, e in manager.get_scene_list()]
    if not scenes:
        scenes = [(0, video.frame_number)]
    times["decode+detect"] = time.perf_counter() - started

    capture = cv2.VideoCapture(str(path))
    embeddings = []
    seek = preprocess = forward = 0.0
    for start, end in scenes:
        length = end - start
        positions = sorted({start + (2 * i + 1) * length // 6 for i in range(3)})
        vectors = []
        for position in positions:
            t0 = time.perf_counter()
            capture.set(cv2.CAP_PROP_POS_FRAMES, position)  # a seek per sample
            ok, frame = capture.read()
            t1 = time.perf_counter()
            inputs = processor(images=Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)), return_tensors="pt")
            t2 = time.perf_counter()
            with torch.inference_mode():
                output = model.get_image_features(**inputs)  # one forward pass per frame
            features = output if isinstance(output, torch.Tensor) else output.pooler_output
            vectors.append(torch.nn.functional.normalize(features, dim=-1)[0].numpy())
            t3 = time.perf_counter()
            seek, preprocess, forward = seek + t1 - t0, preprocess + t2 - t1, forward + t3 - t2
        mean = np.mean(vectors, axis=0)
        embeddings.append(mean / np.linalg.norm(mean))
    capture.release()
    times.update({"seek+decode samples": seek, "preprocess": preprocess, "embed": forward})
    times["total"] = time.perf_counter() - started
    return {"cuts": [s for s, _ in scenes[1:]], "times": times}


# -- ours, through the services ---------------------------------------------------------------
def index_through_services(cluster: LocalCluster, path: Path) -> dict:
    with grpc.insecure_channel(cluster.address("indexer")) as channel:
        stub = indexer_pb2_grpc.IndexerServiceStub(channel)
        started = time.perf_counter()
        job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(
            path=str(path), options=indexer_pb2.IndexOptions(force=True))).job
        for update in stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id)):
            job = update.job
        wall = time.perf_counter() - started
    if job.state != indexer_pb2.JOB_STATE_SUCCEEDED:
        raise RuntimeError(f"indexing {path} failed: {job.error}")
    with grpc.insecure_channel(cluster.address("searcher")) as channel:
        stored = searcher_pb2_grpc.SearcherServiceStub(channel).GetVideo(searcher_pb2.GetVideoRequest(video_id=job.video_id))
    return {
        "wall": wall,
        "times": dict(job.stage_seconds),
        "cuts": [s.start_frame for s in stored.scenes[1:]],
        "duration": stored.video.duration_seconds,
        "scenes": len(stored.scenes),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", default="1,5,20", help="minutes of the generated 720p videos (growth)")
    parser.add_argument("--compare", default="5", help="which generated lengths are also run through the seed")
    parser.add_argument("--no-seed", action="store_true", help="skip the seed comparison")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    lengths = [float(x) for x in args.lengths.split(",") if x]
    compare = {float(x) for x in args.compare.split(",") if x}

    OUT.mkdir(parents=True, exist_ok=True)
    print("building the ViT-B/32-architecture model ...", flush=True)
    model_dir = benchlib.build_vit_b32(OUT.parent / "models" / "vit-b32-random")
    videos: list[tuple[str, Path, bool]] = []
    if (SHARED / "testvideo.mp4").exists():
        videos.append(("testvideo.mp4 (24 s, 720p)", SHARED / "testvideo.mp4", True))
    for minutes in lengths:
        print(f"generating a {minutes:g} min 720p video (cached) ...", flush=True)
        path = synthetic_video(minutes, OUT / f"synthetic_{minutes:g}min.mp4")
        videos.append((f"synthetic {minutes:g} min 720p", path, minutes in compare))

    ours: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as data:
        config = ClusterConfig(
            model=str(model_dir), data_dir=data, allowed_roots=(str(SHARED), str(OUT)),
            embedder_port=0, searcher_port=0, indexer_port=0, log_dir=str(OUT / "logs"),
            extra_env={"HF_HUB_OFFLINE": "1"},
        )
        with LocalCluster(config) as cluster:
            index_through_services(cluster, videos[0][1])  # warm-up: model, thread pools
            from videosearch.embedder.client import EmbedderClient

            with EmbedderClient(cluster.address("embedder")) as embedder:
                compute_dtype = embedder.model_info().compute_dtype
            for name, path, _ in videos:
                print(f"ours: {name} ...", flush=True)
                ours[name] = index_through_services(cluster, path)

    seed: dict[str, dict] = {}
    if not args.no_seed:
        import torch
        from transformers import CLIPModel, CLIPProcessor

        model = CLIPModel.from_pretrained(model_dir).eval()
        processor = CLIPProcessor.from_pretrained(model_dir)
        print(f"seed runs with {torch.get_num_threads()} torch threads", flush=True)
        for name, path, run_seed in videos:
            if run_seed:
                print(f"seed: {name} ...", flush=True)
                seed[name] = seed_index(path, model, processor)

    report = render(videos, ours, seed, compute_dtype)
    print("\n" + report)
    plot_path = plot(videos, ours)
    if not args.no_write:
        benchlib.write_section(SECTION, report + (f"\n![indexing time vs video length]({plot_path.name})\n" if plot_path else ""))
    return 0


def render(videos, ours, seed, compute_dtype: str) -> str:
    lines = [
        SECTION, "",
        f"`python bench/index/run.py` on {benchlib.machine()}.",
        f"Model: CLIP with ViT-B/32's architecture (random weights) on the CPU, in both pipelines: ours runs it in "
        f"the Embedder's default dtype (`auto`, which chose {compute_dtype} here), the seed in float32 as it did.", "",
        "| video | scenes | ours: wall s | ours: realtime × | seed: wall s | seed: realtime × | speed-up | same cuts |",
        "|---|---|---|---|---|---|---|---|",
    ]
    speedups = []
    for name, _, _ in videos:
        o = ours[name]
        row = [name, str(o["scenes"]), f"{o['wall']:.1f}", f"{o['duration'] / o['wall']:.2f}"]
        if name in seed:
            s = seed[name]
            speedup = s["times"]["total"] / o["wall"]
            speedups.append(speedup)
            row += [f"{s['times']['total']:.1f}", f"{o['duration'] / s['times']['total']:.2f}", f"**{speedup:.2f}×**",
                    "yes" if s["cuts"] == o["cuts"] else f"no ({len(s['cuts'])} vs {len(o['cuts'])} cuts)"]
        else:
            row += ["–", "–", "–", "–"]
        lines.append("| " + " | ".join(row) + " |")
    if speedups:
        verdict = "met" if min(speedups) >= TARGET_SPEEDUP else f"MISSED (lowest {min(speedups):.2f}×)"
        lines += ["", f"Target: ≥ {TARGET_SPEEDUP:.0f}× faster end to end than the seed — {verdict}."]
    lines += ["", "Busy seconds per stage (stages overlap: decoding runs in its own thread beside detection and preprocessing, "
              "and embedding runs while the next scene decodes):", "",
              "| video | pipeline | hash | decode | detect | sample+preprocess | embed | store | wall |", "|---|---|---|---|---|---|---|---|---|"]
    for name, _, _ in videos:
        t = ours[name]["times"]
        lines.append(f"| {name} | ours | {t.get('hash', 0):.2f} | {t.get('decode', 0):.2f} | {t.get('detect', 0):.2f} | "
                     f"{t.get('preprocess', 0):.2f} | {t.get('embed', 0):.2f} | {t.get('store', 0):.2f} | {ours[name]['wall']:.2f} |")
        if name in seed:
            s = seed[name]["times"]
            lines.append(f"| {name} | seed | – | {s['decode+detect']:.2f} (with detect) | – | "
                         f"{s['seek+decode samples'] + s['preprocess']:.2f} (seek {s['seek+decode samples']:.2f}) | "
                         f"{s['embed']:.2f} | – | {s['total']:.2f} |")
    growth = [(name, ours[name]) for name, _, _ in videos if name.startswith("synthetic")]
    if growth:
        lines += ["", "How our indexing time grows with video length:", "",
                  "| video | video s | wall s | wall s per video minute | realtime × |", "|---|---|---|---|---|"]
        for name, o in growth:
            lines.append(f"| {name} | {o['duration']:.0f} | {o['wall']:.1f} | {60 * o['wall'] / o['duration']:.2f} | {o['duration'] / o['wall']:.2f} |")
    return "\n".join(lines) + "\n"


def plot(videos, ours) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    points = sorted((ours[name]["duration"] / 60, ours[name]["wall"]) for name, _, _ in videos)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label="videosearch (3 services)")
    ax.set_xlabel("video length (minutes)")
    ax.set_ylabel("indexing wall time (s)")
    ax.grid(alpha=0.3)
    ax.legend()
    path = benchlib.REPO / "docs" / "index-time-vs-length.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


if __name__ == "__main__":
    sys.exit(main())
