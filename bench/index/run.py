"""Indexing speed: videosearch's pipeline through the three services, side by side
with a re-implementation of the article's indexing pipeline, on the same model.

    python bench/index/run.py                     # testvideo.mp4 + 1, 5 and 20 minute 720p videos
    python bench/index/run.py --lengths 1,5 --compare 5

The article's pipeline, re-implemented with its defaults (bench/index/article.py): as written
(scenes by SceneManager() as it comes, a seek per sampled frame, CLIPProcessor per frame, the
frames' pixel values averaged per scene and CLIP run on every stored scene at query time), and
with its bug fixed (CLIP on each frame at index time). Ours: one decode pass shared by
detection (on downscaled frames) and sampling, vectorised preprocessing, uint8 frames to the
Embedder while the next scene decodes, batched forward passes across jobs. All use a CLIP
with ViT-B/32's architecture. Prints the realtime factor (seconds of video per second of wall
time), decoding alone (the same decoder reading every frame of the same file, nothing else)
and the pipeline's speed against it, busy seconds per stage, the speed-up over the bug-fixed
re-implementation, whether both found the same cuts, the end-to-end comparison (index, then
answer --queries text queries) and how our time grows with video length; writes a PNG plot
and docs/performance.md's section.

Also the cost of sampling through time and moments (issue 13): the previous default
(IndexOptions frames_per_scene=3, Indexer with moment splitting off) against the new one
(one frame per second of each scene, long scenes split into moments), each in its own
cluster side by side, runs alternating previous/new, medians reported, plus the bytes each
stores per minute of video. Written to its own section of docs/performance.md.

    python bench/index/run.py --sampling-only     # only that comparison (5 min + testvideo.mp4)
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402  (sets up sys.path for the project's packages)
import cv2  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.index import article as article_pipeline  # noqa: E402
from bench.index.article import AS_WRITTEN, BUG_FIXED, ArticleIndex  # noqa: E402
from bench.index.decoding import DECODING_SECTION, compare_variants, decode_only, render_variants  # noqa: E402
from videosearch.client.indexer import IndexerClient, SubmitOptions  # noqa: E402
from videosearch.embedder.preprocessing import FramePreprocessor  # noqa: E402
from videosearch.indexer.media.scenes import decoder_shrink  # noqa: E402
from videosearch.indexer.types import JobState  # noqa: E402
from videosearch.launcher import ClusterConfig, LocalCluster  # noqa: E402
from videosearch.client.searcher import SearcherClient  # noqa: E402

OUT = benchlib.REPO / "bench" / "out" / "index"
SHARED = benchlib.REPO.parent / "shared" / "videos"
SECTION = "## Indexing speed"
TARGET_SPEEDUP = 2.0  # indexing, against the article's pipeline with its bug fixed (issue 12)
TARGET_DECODE_FRACTION = 0.9  # the pipeline's speed over decoding alone
TARGET_REALTIME = 30.0  # seconds of 720p video per second of wall time
SAMPLING_SECTION = "## Indexing cost of sampling through time and moments"
TARGET_SAMPLING_RATIO = 1.5  # new default's wall time at most this many times the previous default's
# No moments at all, one row per scene: no scene is long enough to be split, and no moments
# are joined across a cut (a join cosine above 1 never joins).
MOMENTS_OFF_ENV = {"VIDEOSEARCH_INDEXER_MOMENT_MIN_SCENE_SECONDS": "1e9", "VIDEOSEARCH_INDEXER_MOMENT_JOIN_COSINE": "1.01"}
PREVIOUS, NEW = "previous default", "new default"
VARIANTS = {
    PREVIOUS: {"options": {"frames_per_scene": 3}, "env": MOMENTS_OFF_ENV,
               "what": "3 frames per scene (IndexOptions frames_per_scene=3), no moments: one row per scene "
                       "(Indexer started with " + ", ".join(f"{k}={v}" for k, v in MOMENTS_OFF_ENV.items()) + ")"},
    NEW: {"options": {}, "env": {},
          "what": "sampling through time (1 frame per second of a scene, 3..160 per scene), scenes of 6 s or more "
                  "split into moments, short fragments joined across cuts (server defaults)"},
}


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


# -- ours, through the services ---------------------------------------------------------------
def index_through_services(cluster: LocalCluster, path: Path, **options) -> dict:
    with IndexerClient(cluster.address("indexer")) as indexer:
        started = time.perf_counter()
        job = indexer.wait(indexer.submit(str(path), SubmitOptions(force=True, **options)).job_id)
        wall = time.perf_counter() - started
    if job.state is not JobState.SUCCEEDED:
        raise RuntimeError(f"indexing {path} failed: {job.error}")
    with SearcherClient(cluster.address("searcher")) as searcher:
        video, scenes, moments = searcher.get_video_moments(job.video_id)
    return {
        "wall": wall,
        "forward_passes": forward_passes(cluster, job.job_id),
        "times": dict(job.stage_seconds),
        "cuts": [s.start_frame for s in scenes[1:]],
        "duration": video.duration_seconds,
        "scenes": len(scenes),
        "video_id": job.video_id,
        "frames_embedded": job.frames_embedded,
        "moments": len(moments),
        "moments_found": job.moments_found,
        "embedding_dim": video.embedding_dim,
    }


def forward_passes(cluster: LocalCluster, job_id: str) -> int | None:
    """CLIP forward passes the job asked the Embedder for: its sampled frames less those that
    reused an embedding, as the Indexer logs them (None when the log does not say)."""
    log_path = cluster.log_dir / "indexer.log"
    said = re.findall(rf"job {re.escape(job_id)}: (\d+) of (\d+) sampled frames reused",
                      log_path.read_text(errors="replace") if log_path.exists() else "")
    return int(said[-1][1]) - int(said[-1][0]) if said else None


# -- cost of sampling through time and moments (issue 13) ---------------------------------------
def sampling_comparison(model_dir: Path, videos: list[tuple[str, Path]], repeats: int, dtype: str) -> dict:
    """Indexes every video ``repeats`` times with each variant, in its own cluster (the moment
    setting is the Indexer's), both clusters up at once so runs alternate previous, new,
    previous, new on the same warm processes. Then measures what each variant's store holds.

    Both Embedders run in the same ``dtype``: `auto` times bfloat16 against float32 once at
    start-up, and on a loaded machine that timing is noise, so two clusters started a minute
    apart can pick different dtypes (seen here: one bfloat16 at "3.08x", the other float32)."""
    runs: dict[str, dict[str, list[dict]]] = {v: {name: [] for name, _ in videos} for v in VARIANTS}
    with tempfile.TemporaryDirectory() as data:
        stores = {}
        with contextlib.ExitStack() as stack:
            clusters = {}
            for variant, spec in VARIANTS.items():
                slug = variant.split()[0]
                stores[variant] = Path(data) / slug / "searcher" / "leveldb"
                config = ClusterConfig(
                    model=str(model_dir), data_dir=str(Path(data) / slug), allowed_roots=(str(SHARED), str(OUT)),
                    embedder_port=0, searcher_port=0, indexer_port=0, log_dir=str(OUT / "logs" / slug),
                    extra_env={"HF_HUB_OFFLINE": "1", "VIDEOSEARCH_EMBEDDER_DTYPE": dtype, **spec["env"]},
                )
                print(f"starting the {variant} cluster ...", flush=True)
                clusters[variant] = stack.enter_context(LocalCluster(config))
            for variant, cluster in clusters.items():  # warm-up: model, thread pools
                index_through_services(cluster, videos[0][1], **VARIANTS[variant]["options"])
            from videosearch.client.embedder import EmbedderClient

            dtypes = set()
            for cluster in clusters.values():
                with EmbedderClient(cluster.address("embedder")) as embedder:
                    dtypes.add(embedder.model_info().compute_dtype)
            if len(dtypes) != 1:
                raise RuntimeError(f"the two Embedders compute in different dtypes {sorted(dtypes)}; pin one with --sampling-dtype")
            compute_dtype = dtypes.pop()
            for repeat in range(repeats):
                for name, path in videos:
                    for variant, cluster in clusters.items():
                        result = index_through_services(cluster, path, **VARIANTS[variant]["options"])
                        runs[variant][name].append(result)
                        print(f"  run {repeat + 1}/{repeats} {variant:16s} {name}: {result['wall']:.1f} s, "
                              f"{result['frames_embedded']} frames, {result['moments']} moments", flush=True)
        # Clusters stopped: each store can be opened here and measured.
        storage = {variant: stored_bytes(db, {name: r[0]["video_id"] for name, r in runs[variant].items()})
                   for variant, db in stores.items()}
    return {"runs": runs, "storage": storage, "compute_dtype": compute_dtype}


def stored_bytes(db_dir: Path, video_ids: dict[str, str]) -> dict:
    """Bytes of each video's records (keys + values, as written: the Searcher writes without
    compression), split into embeddings and JSON metadata; then the LevelDB directory's size
    on disk after a full compaction (all videos of the store together)."""
    import plyvel

    db = plyvel.DB(str(db_dir), compression=None)
    try:
        per_video = {}
        for name, video_id in video_ids.items():
            vid = video_id.encode()
            json_parts = {}
            for prefix in (b"video/", b"scenes/", b"moments/"):
                value = db.get(prefix + vid)
                json_parts[prefix.decode().rstrip("/")] = len(prefix + vid) + (len(value) if value is not None else 0)
            meta = sum(json_parts.values())
            rows = emb_values = emb_keys = 0
            for key, value in db.iterator(prefix=b"emb/" + vid + b"\x00"):
                rows, emb_values, emb_keys = rows + 1, emb_values + len(value), emb_keys + len(key)
            per_video[name] = {"rows": rows, "embedding_bytes": emb_values, "embedding_key_bytes": emb_keys,
                               "json_bytes": meta, "json_parts": json_parts,
                               "total": meta + emb_values + emb_keys}
        db.compact_range()
    finally:
        db.close()
    disk = sum(f.stat().st_size for f in db_dir.rglob("*") if f.is_file())
    return {"per_video": per_video, "disk_bytes": disk}


KEPT_SUBSECTIONS = ("### Search at scale with moment rows",)
"""Sub-sections of the sampling section written by hand from other benches (bench/search/run.py):
re-running this bench keeps them."""


def kept_subsections(section: str, titles: tuple[str, ...]) -> str:
    """The named ``###`` sub-sections currently inside ``section`` of docs/performance.md, verbatim."""
    text = benchlib.PERFORMANCE_DOC.read_text() if benchlib.PERFORMANCE_DOC.exists() else ""
    start = text.find(section + "\n")
    if start == -1:
        return ""
    end = text.find("\n## ", start + len(section))
    body = text[start : None if end == -1 else end]
    kept = []
    for title in titles:
        at = body.find("\n" + title + "\n")
        if at != -1:
            after = body.find("\n### ", at + len(title) + 1)
            kept.append(body[at + 1 : None if after == -1 else after].rstrip("\n"))
    return "".join("\n" + part + "\n" for part in kept)


def render_sampling(videos: list[tuple[str, Path]], result: dict, repeats: int, command: str) -> str:
    runs, storage, compute_dtype = result["runs"], result["storage"], result["compute_dtype"]
    med = statistics.median
    lines = [
        SAMPLING_SECTION, "",
        f"`{command}` on {benchlib.machine()}. "
        "**The machine was shared with other developers' work** (2 cores, other jobs running), so absolute "
        "seconds are noisy; compare the ratios, which come from runs alternating previous, new, previous, new "
        f"({repeats} runs per variant and video, median reported).",
        f"Model: CLIP with ViT-B/32's architecture (random weights) on the CPU, both Embedders in {compute_dtype} "
        "(pinned: `auto` times bfloat16 against float32 at start-up, which a loaded machine makes a coin toss). "
        "Each variant runs in its own cluster (its own Embedder, Searcher and Indexer, started together and warmed up once), "
        "since moment splitting is an Indexer setting.", "",
    ]
    lines += [f"- **{v}**: {spec['what']}." for v, spec in VARIANTS.items()]
    lines += ["", "| video | variant | scenes | frames embedded | moments stored | wall s (median) | wall s, all runs | "
              "frames per video minute | wall s per video minute | new / previous: ratio of medians | "
              "paired ratios (run i new / run i previous), median |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    ratios = {}
    for name, _ in videos:
        walls = {v: med(r["wall"] for r in runs[v][name]) for v in VARIANTS}
        paired = [n["wall"] / p["wall"] for p, n in zip(runs[PREVIOUS][name], runs[NEW][name])]
        ratios[name] = med(paired)
        for v in VARIANTS:
            rs = runs[v][name]
            minutes = rs[0]["duration"] / 60
            all_runs = ", ".join(f"{r['wall']:.1f}" for r in rs)
            of_medians = f"{walls[NEW] / walls[PREVIOUS]:.2f}×" if v == NEW else "–"
            pairs = (", ".join(f"{x:.2f}" for x in paired) + f"; **{ratios[name]:.2f}×**") if v == NEW else "–"
            lines.append(
                f"| {name} | {v} | {rs[0]['scenes']} | {rs[0]['frames_embedded']} | {rs[0]['moments']} | {walls[v]:.1f} | "
                f"{all_runs} | {rs[0]['frames_embedded'] / minutes:.0f} | "
                f"{walls[v] / minutes:.2f} | {of_medians} | {pairs} |")
    worst = max(ratios.values())
    verdict = "met" if worst <= TARGET_SAMPLING_RATIO else f"MISSED (worst {worst:.2f}×, on {max(ratios, key=ratios.get)})"
    lines += ["", f"Target: the new default's wall time at most {TARGET_SAMPLING_RATIO}× the previous default's (judged on the "
              f"median paired ratio, which cancels the load drifting between rounds) — {verdict}."]

    stages = ("hash", "decode", "detect", "preprocess", "embed", "moments", "store", "decode_pass_wall", "total_wall")
    lines += ["", "Busy seconds per stage, median over the runs (stages overlap: decoding runs in its own thread beside "
              "detection and preprocessing, embedding runs while the next scene decodes; `decode pass` and `total` "
              "are the Indexer's own wall clocks):", "",
              "| video | variant | " + " | ".join(s.replace("_wall", "").replace("_", " ") for s in stages) + " |",
              "|---|---|" + "---|" * len(stages)]
    for name, _ in videos:
        for v in VARIANTS:
            rs = runs[v][name]
            lines.append(f"| {name} | {v} | " + " | ".join(f"{med(r['times'].get(s, 0.0) for r in rs):.2f}" for s in stages) + " |")

    lines += ["", "Storage per minute of video, from the records each variant's Searcher stored (keys + values as "
              "written, uncompressed: the Searcher writes LevelDB without compression). Embeddings = moments × dim × 4 bytes "
              "(float32) plus their keys; JSON = the `video/`, `scenes/` and `moments/` records:", "",
              "| video | variant | rows (moments) | dim | embedding bytes | JSON bytes | total bytes | bytes per video minute | new / previous |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, _ in videos:
        totals = {v: storage[v]["per_video"][name]["total"] for v in VARIANTS}
        for v in VARIANTS:
            b = storage[v]["per_video"][name]
            r0 = runs[v][name][0]
            minutes = r0["duration"] / 60
            ratio = f"{totals[NEW] / totals[PREVIOUS]:.2f}×" if v == NEW else "–"
            lines.append(f"| {name} | {v} | {b['rows']} | {r0['embedding_dim']} | {b['embedding_bytes'] + b['embedding_key_bytes']:,} | "
                         f"{b['json_bytes']:,} | {b['total']:,} | {b['total'] / minutes:,.0f} | {ratio} |")
    # What one more moment costs, from the new variant's records of the longest video.
    longest = max((name for name, _ in videos), key=lambda name: runs[NEW][name][0]["duration"])
    b = storage[NEW]["per_video"][longest]
    per_row = (b["embedding_bytes"] + b["embedding_key_bytes"] + b["json_parts"]["moments"]) / max(1, b["rows"])
    from videosearch.indexer.media import moments as moment_defaults

    extra = {name: runs[NEW][name][0]["moments"] - runs[NEW][name][0]["scenes"] for name, _ in videos}
    lines += ["", f"Each stored moment costs about {per_row:,.0f} bytes ({longest}: its embedding, its key and its entry in "
              "the `moments/` JSON). " + (
                  "**No scene of these videos was split into moments, and none joined across a cut** (moments stored = "
                  "scenes in both variants), so the new default stores the same rows. Splitting cannot show here: with "
                  "random weights the stand-in model embeds any two frames at cosine ≥ 0.97 (measured on four different "
                  f"synthetic pictures), above the {moment_defaults.DEFAULT_MERGE_COSINE} at which neighbouring moments are "
                  "merged, and each synthetic scene (3–12 s) shows one drifting picture anyway. The moment search itself "
                  "still ran on every scene of 6 s or more (the `moments` stage above). "
                  if not any(extra.values()) else
                  "Moments stored minus scenes (new default): " + ", ".join(f"{name} {n:+d}" for name, n in extra.items()) +
                  " (negative: moments joined across a cut). These counts say little about real videos: with random "
                  "weights the stand-in model embeds any two frames at cosine ≥ 0.97 (measured on four different synthetic "
                  f"pictures), so no scene splits (merge cosine {moment_defaults.DEFAULT_MERGE_COSINE}) and every scene under "
                  f"{moment_defaults.DEFAULT_JOIN_MAX_SECONDS:g} s is joined to its neighbour (join cosine "
                  f"{moment_defaults.DEFAULT_JOIN_COSINE}), where a real CLIP joins only across cuts where nothing changed. "
                  "The moment search itself ran on every scene of 6 s or more (the `moments` stage above). ") +
              f"Bound for long takes: a moment holds at least {moment_defaults.DEFAULT_MIN_SAMPLES} samples (Indexer "
              "`--moment-min-frames`) and sampling takes about one frame per second, so splitting adds at most about "
              f"{60 // moment_defaults.DEFAULT_MIN_SAMPLES} moments per minute of long takes, about "
              f"{60 // moment_defaults.DEFAULT_MIN_SAMPLES * per_row:,.0f} bytes per minute (against "
              f"{b['total'] / (runs[NEW][longest][0]['duration'] / 60):,.0f} per minute stored here for {longest})."]
    total_minutes = sum(runs[PREVIOUS][name][0]["duration"] for name, _ in videos) / 60
    lines += ["", "Cross-check on disk: each variant's whole LevelDB directory after a full compaction "
              f"(all {len(videos)} videos, {total_minutes:.2f} video minutes, fixed files such as MANIFEST and LOG included): " +
              "; ".join(f"{v} {storage[v]['disk_bytes']:,} bytes ({storage[v]['disk_bytes'] / total_minutes:,.0f} per video minute)"
                        for v in VARIANTS) + "."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", default="1,5,20", help="minutes of the generated 720p videos (growth)")
    parser.add_argument("--compare", default="5", help="which generated lengths are also run through the article's pipeline")
    parser.add_argument("--no-article", action="store_true", help="skip the comparison with the article's pipeline")
    parser.add_argument("--decoders", action="store_true",
                        help="also compare decoder variants (OpenCV and PyAV: threads, hardware, skip_loop_filter, lowres, "
                             "shrink) on testvideo.mp4 and the shortest generated video: speed, cuts, embeddings")
    parser.add_argument("--decoder-rounds", type=int, default=3, help="timing rounds of that comparison (median reported)")
    parser.add_argument("--decoders-only", action="store_true", help="only that comparison")
    parser.add_argument("--queries", type=int, default=100, help="text queries answered after indexing, end to end")
    parser.add_argument("--article-queries", type=int, default=0,
                        help="queries the article's pipeline as written really answers per video (0: all of --queries); "
                             "its other queries are counted at the measured mean, each doing the same work (CLIP on every "
                             "stored scene), and the table says so")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    parser.add_argument("--sampling-only", action="store_true",
                        help="run only the previous-vs-new default comparison (3 frames per scene vs sampling through time + moments)")
    parser.add_argument("--no-sampling", action="store_true", help="skip the previous-vs-new default comparison")
    parser.add_argument("--sampling-lengths", default="5", help="generated lengths (minutes) in that comparison, beside testvideo.mp4")
    parser.add_argument("--repeats", type=int, default=5, help="runs per variant and video in that comparison (alternating)")
    parser.add_argument("--sampling-dtype", default="float32", help="Embedder dtype of both clusters in that comparison")
    args = parser.parse_args(argv)
    lengths = [float(x) for x in args.lengths.split(",") if x]
    compare = {float(x) for x in args.compare.split(",") if x}

    OUT.mkdir(parents=True, exist_ok=True)
    print("building the ViT-B/32-architecture model ...", flush=True)
    model_dir = benchlib.build_vit_b32(OUT.parent / "models" / "vit-b32-random")
    if not args.no_sampling:
        sampling_videos: list[tuple[str, Path]] = []
        if (SHARED / "testvideo.mp4").exists():
            sampling_videos.append(("testvideo.mp4 (24 s, 720p)", SHARED / "testvideo.mp4"))
        for minutes in (float(x) for x in args.sampling_lengths.split(",") if x):
            print(f"generating a {minutes:g} min 720p video (cached) ...", flush=True)
            sampling_videos.append((f"synthetic {minutes:g} min 720p", synthetic_video(minutes, OUT / f"synthetic_{minutes:g}min.mp4")))
        result = sampling_comparison(model_dir, sampling_videos, max(1, args.repeats), args.sampling_dtype)
        command = " ".join(["python bench/index/run.py", *(sys.argv[1:] if argv is None else argv)])
        report = render_sampling(sampling_videos, result, max(1, args.repeats), command)
        print("\n" + report, flush=True)
        if not args.no_write:
            benchlib.write_section(SAMPLING_SECTION, report + kept_subsections(SAMPLING_SECTION, KEPT_SUBSECTIONS))
    if args.sampling_only:
        return 0
    videos: list[tuple[str, Path, bool]] = []
    if (SHARED / "testvideo.mp4").exists():
        videos.append(("testvideo.mp4 (24 s, 720p)", SHARED / "testvideo.mp4", True))
    for minutes in lengths:
        print(f"generating a {minutes:g} min 720p video (cached) ...", flush=True)
        path = synthetic_video(minutes, OUT / f"synthetic_{minutes:g}min.mp4")
        videos.append((f"synthetic {minutes:g} min 720p", path, minutes in compare))

    command = " ".join(["python bench/index/run.py", *(sys.argv[1:] if argv is None else argv)])
    queries = benchlib_queries(args.queries)
    ours: dict[str, dict] = {}
    decode: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as data:
        config = ClusterConfig(
            model=str(model_dir), data_dir=data, allowed_roots=(str(SHARED), str(OUT)),
            embedder_port=0, searcher_port=0, indexer_port=0, log_dir=str(OUT / "logs"),
            extra_env={"HF_HUB_OFFLINE": "1"},
        )
        with LocalCluster(config) as cluster:
            index_through_services(cluster, videos[0][1])  # warm-up: model, thread pools
            from videosearch.client.embedder import EmbedderClient

            with EmbedderClient(cluster.address("embedder")) as embedder:
                model_info = embedder.model_info()
            compute_dtype = model_info.compute_dtype
            # Decode only shrinks frames as far as the Indexer's decode pass lets its decoder (PyAV's shrink).
            shrink = decoder_shrink(FramePreprocessor(model_info.preprocessing))
            if args.decoders or args.decoders_only:
                timed = [(name, path) for name, path, _ in videos][:2]
                shared = sorted(p for p in SHARED.glob("*.mp4") if p.name != "testvideo.mp4")
                decoders = compare_variants(timed, shared, cluster.address("embedder"), max(1, args.decoder_rounds))
                section = render_variants(decoders, timed, command, benchlib.machine())
                print("\n" + section, flush=True)
                if not args.no_write:
                    benchlib.write_section(DECODING_SECTION, section)
                if args.decoders_only:
                    return 0
            for name, path, compared in videos:
                print(f"ours: {name} ...", flush=True)
                ours[name] = index_through_services(cluster, path)
                if compared and not args.no_article:
                    ours[name]["query_seconds"] = search_through_services(cluster, queries)
                # The same decoder on the same file, doing nothing else (the cluster is idle meanwhile).
                decode[name] = decode_only(path, shrink=shrink)
                print(f"  {ours[name]['wall']:.1f} s; decode only {decode[name]['wall']:.1f} s", flush=True)
                if compared and not args.no_article:
                    # The same unit of work as the article: 3 frames per scene, one forward pass each.
                    ours[name]["article_frames"] = index_through_services(cluster, path, frames_per_scene=3)
                    print(f"  3 frames per scene: {ours[name]['article_frames']['wall']:.1f} s", flush=True)

    article: dict[str, dict[str, ArticleIndex]] = {}
    if not args.no_article:
        import torch
        from transformers import CLIPModel, CLIPProcessor

        model = CLIPModel.from_pretrained(model_dir).eval()
        processor = CLIPProcessor.from_pretrained(model_dir)
        print(f"the article's pipeline runs with {torch.get_num_threads()} torch threads", flush=True)
        for name, path, compared in videos:
            if compared:
                article[name] = {}
                for variant, clip_at_index in ((BUG_FIXED, True), (AS_WRITTEN, False)):
                    print(f"{variant}: {name} ...", flush=True)
                    result = article_pipeline.index_video(path, model, processor, clip_at_index=clip_at_index)
                    answered = queries if clip_at_index or not args.article_queries else queries[: args.article_queries]
                    article_pipeline.answer_queries(result, answered, model, processor)
                    article[name][variant] = result
                    print(f"  index {result.total:.1f} s, {len(queries)} queries {sum(result.query_seconds):.1f} s", flush=True)

    report = render(videos, ours, decode, article, compute_dtype, len(queries), command)
    print("\n" + report)
    plot_path = plot(videos, ours)
    if not args.no_write:
        benchlib.write_section(SECTION, report + (f"\n![indexing time vs video length]({plot_path.name})\n" if plot_path else ""))
    return 0


def search_through_services(cluster: LocalCluster, queries: list[str]) -> list[float]:
    """Seconds of each text query through the Searcher (the text embedded by the Embedder)."""
    seconds = []
    with SearcherClient(cluster.address("searcher")) as searcher:
        searcher.search(text=queries[0])  # warm-up
        for query in queries:
            began = time.perf_counter()
            searcher.search(text=query)
            seconds.append(time.perf_counter() - began)
    return seconds


def benchlib_queries(count: int) -> list[str]:
    """``count`` text queries: the demo world's captions, then phrased as photos and scenes."""
    from videosearch.demo.world import CAPTIONS

    phrased = [*CAPTIONS, *(f"a photo of {c}" for c in CAPTIONS), *(f"a video of {c} moving" for c in CAPTIONS),
               *(f"{c} on a plain background" for c in CAPTIONS)]
    return [phrased[i % len(phrased)] for i in range(count)]


def render(videos, ours, decode, article, compute_dtype: str, query_count: int, command: str) -> str:
    lines = [
        SECTION, "",
        f"`{command}` on {benchlib.machine()}. **Shared machine**: other developers' jobs ran on the same 2 cores, "
        "so absolute seconds are noisy; every figure below comes from the same run.",
        f"Model: CLIP with ViT-B/32's architecture (random weights) on the CPU: ours runs it in the Embedder's default "
        f"dtype (`auto`, which chose {compute_dtype} here), the article's pipeline in float32 as it did. "
        "The article's pipeline is re-implemented with its defaults (bench/index/article.py): `SceneManager()` as it "
        "comes (automatic downscaling on), 3 frames per scene read with a seek each, `CLIPProcessor` per frame. "
        f"**{AS_WRITTEN}** averages the 3 frames' pixel values into one picture per scene and runs CLIP on every "
        f"stored picture for every query; **{BUG_FIXED}** runs CLIP on each frame at index time (one forward pass per "
        "frame) and a query embeds only its text. **Decode only**: the Indexer's decoder (same settings) reading every "
        "frame of the same file to BGR (at the size the decode pass takes them, where the decoder shrinks) and doing "
        "nothing else, in the same run. **What ours computes**: every sampled frame (one per second of each scene) gets "
        "an embedding, but a frame whose CLIP crop matches its scene's last embedded frame (embedding reuse, "
        "videosearch.indexer.media.reuse) takes that frame's embedding instead of a forward pass of its own; the article's "
        "pipelines run CLIP on each of their frames.", "",
        "| video | scenes | ours: sampled frames / forward passes | ours: wall s | ours: realtime × | decode only: wall s | "
        "decode only: realtime × | ours / decode only (speed) | bug fixed: frames (= forward passes) | bug fixed: wall s | "
        "bug fixed / ours | same cuts |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    speedups, fractions, realtime = [], [], []
    for name, _, _ in videos:
        o, d = ours[name], decode[name]
        fraction = d["wall"] / o["wall"]
        fractions.append(fraction)
        if "720p" in name:
            realtime.append(o["duration"] / o["wall"])
        passes = "?" if o["forward_passes"] is None else str(o["forward_passes"])
        row = [name, str(o["scenes"]), f"{o['frames_embedded']} / {passes}", f"{o['wall']:.1f}",
               f"{o['duration'] / o['wall']:.2f}", f"{d['wall']:.1f}", f"{o['duration'] / d['wall']:.2f}", f"{fraction:.2f}"]
        fixed = article.get(name, {}).get(BUG_FIXED)
        if fixed is not None:
            speedups.append(fixed.total / o["wall"])
            row += [str(3 * (len(fixed.cuts) + 1)), f"{fixed.total:.1f}", f"**{fixed.total / o['wall']:.2f}×**",
                    "yes" if fixed.cuts == o["cuts"] else f"no ({len(fixed.cuts)} vs {len(o['cuts'])} cuts)"]
        else:
            row += ["–", "–", "–", "–"]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    if speedups:
        lines.append(f"- ≥ {TARGET_SPEEDUP:g}× faster indexing than the bug-fixed re-implementation: "
                     f"{'met' if min(speedups) >= TARGET_SPEEDUP else 'MISSED'} (lowest {min(speedups):.2f}×).")
    lines.append(f"- pipeline at ≥ {TARGET_DECODE_FRACTION} of the speed of decoding alone: "
                 f"{'met' if min(fractions) >= TARGET_DECODE_FRACTION else 'MISSED'} (lowest {min(fractions):.2f}).")
    if realtime:
        lines.append(f"- ≥ {TARGET_REALTIME:g}× realtime on 720p: {'met' if min(realtime) >= TARGET_REALTIME else 'MISSED'} "
                     f"(lowest {min(realtime):.2f}×).")
    lines.append("- Where a goal is missed, \"Indexing time budget\" below gives the arithmetic: the CPU seconds each stage "
                 "costs, measured alone, against the 2 CPU seconds per second these 2 cores have.")
    same_work = [(name, ours[name]["article_frames"], article[name][BUG_FIXED]) for name, _, _ in videos
                 if "article_frames" in ours[name] and BUG_FIXED in article.get(name, {})]
    if same_work:
        lines += ["", "The same work as the article (ours with `frames_per_scene=3`: 3 sampled frames per scene, as the "
                  "article's pipeline; the goal above is for our default, which samples one frame per second of each "
                  "scene and so runs more forward passes):", "",
                  "| video | ours, 3 per scene: sampled frames / forward passes | wall s | bug fixed: wall s | bug fixed / ours |",
                  "|---|---|---|---|---|"]
        for name, o3, fixed in same_work:
            passes = "?" if o3["forward_passes"] is None else str(o3["forward_passes"])
            lines.append(f"| {name} | {o3['frames_embedded']} / {passes} | {o3['wall']:.1f} | {fixed.total:.1f} | "
                         f"**{fixed.total / o3['wall']:.2f}×** |")

    if article:
        lines += ["", f"End to end: index the video, then answer {query_count} text queries one after another (ours: "
                  "Search RPCs through the Searcher, the text embedded by the Embedder, over every video indexed so far; "
                  "the article's pipelines: over that video's stored scenes):", "",
                  f"| video | pipeline | index s | {query_count} queries s | per query p50 ms | total s | total / ours |",
                  "|---|---|---|---|---|---|---|"]
        for name, _, _ in videos:
            if name not in article:
                continue
            o = ours[name]
            ours_total = o["wall"] + sum(o["query_seconds"])
            rows = [("ours", o["wall"], o["query_seconds"])]
            rows += [(variant, result.total, result.query_seconds) for variant, result in article[name].items()]
            for label, index_s, query_s in rows:
                # Queries not answered (--article-queries) count at the mean of those answered.
                queries_s = sum(query_s) * query_count / len(query_s)
                total = index_s + queries_s
                ratio = "–" if label == "ours" else f"**{total / ours_total:.2f}×**"
                answered = "" if len(query_s) == query_count else f" ({len(query_s)} answered, ×{query_count / len(query_s):g})"
                lines.append(f"| {name} | {label} | {index_s:.1f} | {queries_s:.1f}{answered} | "
                             f"{1000 * statistics.median(query_s):.1f} | {total:.1f} | {ratio} |")

    lines += ["", "Busy seconds per stage (stages overlap: decoding runs in its own thread beside detection and preprocessing, "
              "and embedding runs while the next scene decodes):", "",
              "| video | pipeline | hash | decode | detect | sample+preprocess | embed | store | wall |", "|---|---|---|---|---|---|---|---|---|"]
    for name, _, _ in videos:
        t = ours[name]["times"]
        lines.append(f"| {name} | ours | {t.get('hash', 0):.2f} | {t.get('decode', 0):.2f} | {t.get('detect', 0):.2f} | "
                     f"{t.get('preprocess', 0):.2f} | {t.get('embed', 0):.2f} | {t.get('store', 0):.2f} | {ours[name]['wall']:.2f} |")
        for variant, result in article.get(name, {}).items():
            s = result.times
            lines.append(f"| {name} | {variant} | – | {s['decode+detect']:.2f} (with detect) | – | "
                         f"{s['seek+decode samples'] + s['preprocess']:.2f} (seek {s['seek+decode samples']:.2f}) | "
                         f"{s['embed']:.2f} | – | {s['total']:.2f} |")
    growth = [(name, ours[name]) for name, _, _ in videos if name.startswith("synthetic")]
    if len(growth) > 1:
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
