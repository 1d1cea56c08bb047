"""Retrieval quality of the whole pipeline on demo videos, with the demo CLIP.

    python bench/quality/run.py                       # 24 videos, 3-4 scenes each
    python bench/quality/run.py --videos 30 --model models/demo-clip

Generates the corpus (cached per seed), starts the three services, indexes the
videos, queries every scene's caption and prints video R@1/R@5/MRR, scene R@1,
the share of top scenes with temporal IoU >= 0.8, and the detector's cut recall,
against the targets. Scoring rules: videosearch.demo.quality.

Text queries run in every language of --language (default: English and Chinese, the
demo world's captions in each), with the targets checked per language, and for each the
effect of a relevance threshold (the calibrated score, videosearch.searcher.ranking.calibration)
on precision and recall over every ranked moment.

Then the query kinds of issue 9 (videosearch.demo.search_quality): image queries (a fresh
render of each caption), "more like this" precision@5 and negative queries, and what the
per-frame embeddings and thumbnails cost on disk per scene (read from the stopped Searcher's
store: they live in LevelDB, not in the in-memory ranking matrix).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402
from videosearch.demo import world  # noqa: E402
from videosearch.demo.quality import evaluate, index_corpus, threshold_effect, threshold_table  # noqa: E402
from videosearch.demo.search_quality import evaluate_search_features  # noqa: E402
from videosearch.searcher.storage.store import SearcherStore  # noqa: E402
from videosearch.demo.videos import generate_demo_corpus  # noqa: E402
from videosearch.launcher import ClusterConfig, LocalCluster  # noqa: E402
from videosearch.client.searcher import SearcherClient  # noqa: E402

TARGETS = {"video_r1": 0.95, "top_scene_iou_ok": 0.95, "cut_recall": 0.98}
FEATURE_TARGETS = {"image_video_r1": (">=", 0.95), "negative_violations": ("==", 0)}
SECTION = "## Retrieval quality (demo world)"


def storage_per_scene(searcher_data: Path) -> str:
    """What each kind of stored data costs per scene, from the (stopped) Searcher's store."""
    store = SearcherStore(searcher_data)
    try:
        kinds = store.bytes_by_kind()
        stats = store.load()
        scenes = sum(v.video.scene_count for v in stats.videos)
        dim = stats.collection.embedding_dim if stats.collection else 0
    finally:
        store.close()
    rows = [f"storage on disk per scene ({scenes} scenes, {dim}-d embeddings; keys and values, LevelDB uncompressed):"]
    for kind, what in (("emb/", "moment embeddings (float32, also the in-memory ranking rows)"),
                       ("frames/", "per-frame embeddings (float16) + frame numbers and times: explained hits"),
                       ("thumb/", "thumbnails (JPEG, long side 320 px)")):
        keys, size = kinds.get(kind, (0, 0))
        rows.append(f"  {what:<78} {size / max(scenes, 1):>9.0f} B/scene ({keys} keys)")
    rows.append(f"  per sampled frame: 16 B (frame, time) + {dim} x 2 B (float16); at 512-d (ViT-B/32) "
                f"{16 + 512 * 2} B a frame, {(16 + 512 * 2) * 3} B for a 3-sample scene. "
                f"Memory: unchanged (frames and thumbnails are read one key per hit, never loaded).")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(benchlib.REPO / "models" / "demo-clip"))
    parser.add_argument("--videos", type=int, default=24)
    parser.add_argument("--min-scenes", type=int, default=3)
    parser.add_argument("--max-scenes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=31337)
    parser.add_argument("--language", default=",".join(world.LANGUAGES),
                        help=f"comma-separated query languages among {', '.join(world.LANGUAGES)} (default: all)")
    parser.add_argument("--write-docs", action="store_true", help="record the table in docs/performance.md")
    args = parser.parse_args(argv)
    languages = [language.strip() for language in args.language.split(",") if language.strip()]
    unknown = sorted(set(languages) - set(world.LANGUAGES))
    if unknown or not languages:
        parser.error(f"--language {args.language!r}: choose among {', '.join(world.LANGUAGES)}")

    corpus_dir = benchlib.REPO / "bench" / "out" / "quality" / f"corpus-{args.seed}-{args.videos}"
    if not (corpus_dir / "index.json").exists():
        print(f"generating {args.videos} demo videos in {corpus_dir} ...", flush=True)
        generate_demo_corpus(corpus_dir, args.videos, (args.min_scenes, args.max_scenes), args.seed)
    corpus = json.loads((corpus_dir / "index.json").read_text())
    scenes = sum(len(v["scenes"]) for v in corpus["videos"])
    print(f"corpus: {len(corpus['videos'])} videos, {scenes} scenes", flush=True)

    with tempfile.TemporaryDirectory() as data:
        config = ClusterConfig(
            model=args.model, data_dir=data, allowed_roots=(str(corpus_dir),),
            embedder_port=0, searcher_port=0, indexer_port=0, extra_env={"HF_HUB_OFFLINE": "1"},
        )
        with LocalCluster(config) as cluster:
            print("indexing ...", flush=True)
            ids = index_corpus(cluster.address("indexer"), corpus_dir, corpus)
            with SearcherClient(cluster.address("searcher")) as searcher:
                reports = {language: evaluate(searcher, corpus, ids, language=language) for language in languages}
                thresholds = {language: threshold_effect(searcher, corpus, ids, language=language)
                              for language in languages}
                features = evaluate_search_features(searcher, corpus, ids)
        storage = storage_per_scene(Path(data) / "searcher")

    lines = []
    for language, report in reports.items():
        lines += [f"### text queries in {language!r} (e.g. {world.CAPTIONS_BY_LANGUAGE[language][0]!r})", report.table(), ""]
        for name, target in TARGETS.items():
            value = getattr(report, name)
            verdict = "met" if value >= target else f"MISSED by {target - value:.3f}"
            lines.append(f"target {name} >= {target} ({language}): {value:.3f} — {verdict}")
        lines += ["", f"relevance threshold on every ranked moment ({language}; 0.5 is where the CLI and the web page "
                      "fold weak matches away):", threshold_table(thresholds[language]), ""]
    lines += [features.table(), ""]
    for name, (relation, target) in FEATURE_TARGETS.items():
        value = getattr(features, name)
        met = value >= target if relation == ">=" else value == target
        lines.append(f"target {name} {relation} {target}: {value:.3f} — {'met' if met else 'MISSED'}")
    lines += ["", storage]
    text = "\n".join(lines)
    print("\n" + text)
    if args.write_docs:
        benchlib.write_section(SECTION, f"`python bench/quality/run.py` (model {Path(args.model).name}, seed {args.seed}) "
                               f"on {benchlib.machine()}:\n\n```\n{text}\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
