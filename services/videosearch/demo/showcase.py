"""`make demo`: the whole product, offline, in a few minutes.

Generates demo videos, starts the Embedder (with the project's demo CLIP), the
Searcher and the Indexer as three processes, indexes the videos with progress
bars through the command-line client, runs example queries and prints the
ranked results next to the ground truth, then stops the services.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from videosearch.launcher import ClusterConfig, LocalCluster

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_QUERIES = ("a red circle", "a blue square", "a green triangle")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(REPO_ROOT / "models" / "demo-clip"))
    parser.add_argument("--out", default=str(REPO_ROOT / "demo-out"), help="videos, data and logs go here")
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--scenes-per-video", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--query", action="append", help="a query to run (repeatable)")
    args = parser.parse_args(argv)

    from videosearch_cli import main as cli

    from videosearch.demo.videos import generate_demo_corpus

    out = Path(args.out)
    videos_dir = out / "videos"
    if not (videos_dir / "index.json").exists():
        print(f"generating {args.videos} demo videos in {videos_dir} ...", flush=True)
        generate_demo_corpus(videos_dir, args.videos, args.scenes_per_video, args.seed)
    corpus = json.loads((videos_dir / "index.json").read_text())

    config = ClusterConfig(
        model=args.model, data_dir=str(out / "data"), allowed_roots=(str(videos_dir),),
        embedder_port=0, searcher_port=0, indexer_port=0, log_dir=str(out / "logs"),
        extra_env={"HF_HUB_OFFLINE": "1"},
    )
    print(f"starting embedder (model {args.model}), searcher and indexer; logs in {out / 'logs'}", flush=True)
    with LocalCluster(config) as cluster:
        addresses = ["--indexer-address", cluster.address("indexer"), "--searcher-address", cluster.address("searcher")]
        code = cli.main([*addresses, "index", str(videos_dir)])
        if code != 0:
            print("indexing failed; see the logs", file=sys.stderr)
            return code
        for query in args.query or DEFAULT_QUERIES:
            print(f"\n$ videosearch search {query!r} --top 3", flush=True)
            cli.main([*addresses, "search", query, "--top", "3"])
            truth = [
                f"{video['video']} scene {scene['index']} ({scene['start_time']:.2f}s – {scene['end_time']:.2f}s)"
                for video in corpus["videos"] for scene in video["scenes"] if scene["caption"] == query
            ]
            print("ground truth: " + ("; ".join(truth) if truth else "no scene has this caption"), flush=True)
    print("\ndone. Start the services yourself with `make up`, then use `videosearch index|search|videos`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
