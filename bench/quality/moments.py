"""Moment retrieval: find each subject's moment in long takes (dissolves, fades through
black, pans, with flashes and fast motion) and in hard-cut videos, with the demo CLIP.

    python bench/quality/moments.py                   # 4 mixed long takes, 2 all-dissolve takes, 4 hard-cut videos
    python bench/quality/moments.py --write-docs      # also record the table in docs/performance.md

One query per subject (its caption). Runs the same corpus twice, side by side: the
article's unit of search (3 frames per scene, one embedding per scene) and this engine's
(frames sampled through time, long scenes split into moments), each through the three
services. Scoring rules and the cost line: videosearch.demo.moment_quality.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402
from videosearch.demo.longtakes import generate_long_take, generate_moment_corpus  # noqa: E402
from videosearch.demo.moment_quality import index_and_evaluate  # noqa: E402
from videosearch.demo.videos import random_scenes  # noqa: E402
from videosearch.launcher import ClusterConfig, LocalCluster  # noqa: E402
from videosearch.client.indexer import SubmitOptions  # noqa: E402

SECTION = "## Moment retrieval (long takes and hard cuts, demo world)"
TARGETS = {"video_r1": 0.95, "iou_found": 0.90}
VARIANTS = {
    # The article's unit: K=3 frames per scene, one embedding per scene (moments off: no split
    # inside a scene, no join across a cut).
    "article's unit (3 frames per scene, per-scene embedding)": (
        SubmitOptions(frames_per_scene=3),
        {"VIDEOSEARCH_INDEXER_MOMENT_MIN_SCENE_SECONDS": "1e9", "VIDEOSEARCH_INDEXER_MOMENT_JOIN_COSINE": "1.01"}),
    "this engine (1 frame per second, moments)": (SubmitOptions(), {}),
}


def build_corpus(out: Path, *, long_takes: int, dissolve_takes: int, hard_cut_videos: int, seed: int) -> dict:
    """generate_moment_corpus plus single takes joined only by dissolves (the case a cut
    detector cannot see at all: the whole take is one scene)."""
    import numpy as np

    corpus = generate_moment_corpus(out, long_takes=long_takes, hard_cut_videos=hard_cut_videos, subjects_per_take=8, seed=seed)
    rng = np.random.default_rng(seed + 1)
    videos = list(corpus["videos"])
    for i in range(dissolve_takes):
        path = out / f"dissolves_{i:03d}.mp4"
        cached = out / f"dissolves_{i:03d}.json"
        if cached.exists() and path.exists():
            videos.append(json.loads(cached.read_text()))
            continue
        entry = generate_long_take(path, random_scenes(8, rng), transitions=["dissolve"] * 7, seed=seed + 100 + i)
        cached.write_text(json.dumps(entry))
        videos.append(entry)
    return {**corpus, "videos": videos}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(benchlib.REPO / "models" / "demo-clip"))
    parser.add_argument("--long-takes", type=int, default=4)
    parser.add_argument("--dissolve-takes", type=int, default=2)
    parser.add_argument("--hard-cut-videos", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)

    corpus_dir = benchlib.REPO / "bench" / "out" / "moments" / f"corpus-{args.seed}"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    print(f"generating (or reusing) the corpus in {corpus_dir} ...", flush=True)
    corpus = build_corpus(corpus_dir, long_takes=args.long_takes, dissolve_takes=args.dissolve_takes,
                          hard_cut_videos=args.hard_cut_videos, seed=args.seed)
    kinds = {k: sum(v["kind"] == k for v in corpus["videos"]) for k in ("long_take", "hard_cut")}
    subjects = sum(len(v["subjects"]) for v in corpus["videos"])
    print(f"corpus: {kinds['long_take']} long takes, {kinds['hard_cut']} hard-cut videos, {subjects} subjects", flush=True)

    sections = []
    for name, (options, env) in VARIANTS.items():
        with tempfile.TemporaryDirectory() as data:
            config = ClusterConfig(
                model=args.model, data_dir=data, allowed_roots=(str(corpus_dir),), embedder_port=0,
                searcher_port=0, indexer_port=0,
                # float32: the auto dtype is chosen by timing at start-up, so a busy machine could flip it.
                extra_env={"HF_HUB_OFFLINE": "1", "VIDEOSEARCH_EMBEDDER_DTYPE": "float32", **env},
            )
            with LocalCluster(config) as cluster:
                print(f"indexing with {name} ...", flush=True)
                report = index_and_evaluate({"indexer": cluster.address("indexer"), "searcher": cluster.address("searcher")},
                                            corpus_dir, corpus, options)
        verdicts = []
        for kind in ("long_take", "hard_cut"):
            for metric, target in TARGETS.items():
                value = getattr(report.by_kind[kind], metric)
                verdicts.append(f"{kind} {metric} >= {target}: {value:.3f} — " + ("met" if value >= target else f"missed by {target - value:.3f}"))
        sections.append(f"### {name}\n\n{report.table()}\n\n" + "\n".join(f"- {v}" for v in verdicts))
        print("\n" + sections[-1] + "\n", flush=True)

    text = "\n\n".join(sections)
    if args.write_docs:
        benchlib.write_section(SECTION, (
            f"`python bench/quality/moments.py` (model {Path(args.model).name}, seed {args.seed}; "
            f"{kinds['long_take']} long takes of 8 subjects each, {args.dissolve_takes} of them joined only by "
            f"dissolves, {kinds['hard_cut']} hard-cut videos; {subjects} queries) on {benchlib.machine()}.\n\n"
            "A query is a subject's caption; the best hit is the top video's best moment, found when its temporal "
            "IoU with the subject's true range (the frames it alone is on screen) is at least 0.5.\n\n" + text + "\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
