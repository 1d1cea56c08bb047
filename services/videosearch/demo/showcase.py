"""`make demo`: the whole product, offline, in a few minutes.

Generates demo videos (hard-cut videos and one long take whose subject changes through
dissolves, which no cut detector sees, so only moments find its subjects), starts the Embedder (with the project's demo CLIP), the
Searcher and the Indexer as three processes and the web page beside them, indexes
the videos with progress bars through the command-line client, runs example queries
and prints the ranked results next to the ground truth; then, in a terminal, keeps
everything up for the web page until Ctrl-C (elsewhere it stops the services).

Every demo video is H.264 (demo.encoding), which browsers play. The last lines say where the
web page was and the exact `videosearch-up` command (model, data folder, ports) and `export`
lines that bring the demo's index back later.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from videosearch.common import defaults
from videosearch.common.grpc_server import wait_for_shutdown_signal
from videosearch.launcher import ClusterConfig, LocalCluster
from videosearch.web.settings import DEFAULT_PORT as WEB_PORT

REPO_ROOT = Path(__file__).resolve().parents[3]
# A Chinese query next to its English twin: the demo model learned both languages.
DEFAULT_QUERIES = ("a red circle", "一个红色的圆", "a blue square", "一个绿色的三角形")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(REPO_ROOT / "models" / "demo-clip"))
    parser.add_argument("--out", default=str(REPO_ROOT / "demo-out"), help="videos, data and logs go here")
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--scenes-per-video", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--query", action="append", help="a query to run (repeatable)")
    parser.add_argument("--web-port", type=int, default=WEB_PORT, help="port of the web page (0 picks a free one)")
    for name in ("embedder", "searcher", "indexer"):
        parser.add_argument(f"--{name}-port", type=int, default=0,
                            help=f"port of the {name.capitalize()} during the demo (default 0: a free one); "
                                 "the command printed at the end uses it too (else the project's default)")
    parser.add_argument("--long-take", action=argparse.BooleanOptionalAction, default=True,
                        help="also make and index the 46-second long take (about 2 minutes to render)")
    parser.add_argument("--talking", action=argparse.BooleanOptionalAction, default=True,
                        help="also make and index three videos that talk and show words (speech, subtitles, signs) "
                             "and search what is said and written in them")
    parser.add_argument("--serve", action=argparse.BooleanOptionalAction, default=sys.stdin.isatty(),
                        help="keep the services and the web page up until Ctrl-C (default: in a terminal)")
    args = parser.parse_args(argv)

    from videosearch_cli import main as cli

    from videosearch.demo.videos import generate_demo_corpus
    from videosearch.client.searcher import SearcherClient

    out = Path(args.out)
    videos_dir = out / "videos"
    if not (videos_dir / "index.json").exists():
        print(f"generating {args.videos} demo videos in {videos_dir} (H.264; about 20 s each on 2 cores) ...", flush=True)
        generate_demo_corpus(videos_dir, args.videos, args.scenes_per_video, args.seed, progress=_video_done)
    corpus = json.loads((videos_dir / "index.json").read_text())
    take = _long_take(videos_dir, args.seed) if args.long_take else None
    talking = None
    if args.talking:
        from videosearch.demo.talking import generate_talking_videos, where_answered

        print("making three videos that talk and show words (espeak-ng speech, subtitles, signs) ...", flush=True)
        talking = generate_talking_videos(videos_dir)

    config = ClusterConfig(
        model=args.model, data_dir=str(out / "data"), allowed_roots=(str(videos_dir),),
        embedder_port=args.embedder_port, searcher_port=args.searcher_port, indexer_port=args.indexer_port,
        log_dir=str(out / "logs"),
        # The demo's Indexer reads speech and on-screen text too; both are off by default elsewhere
        # (they cost model time, docs/performance.md). Its Embedder hears with the demo recognizer
        # trained on espeak-ng speech (models/demo-speech), as its CLIP is the demo one.
        extra_env={"HF_HUB_OFFLINE": "1", "VIDEOSEARCH_INDEXER_SPEECH": "true",
                   "VIDEOSEARCH_INDEXER_ON_SCREEN_TEXT": "true",
                   "VIDEOSEARCH_EMBEDDER_SPEECH_RECOGNIZER": f"ctc:{REPO_ROOT / 'models' / 'demo-speech'}"},
        web_port=args.web_port,
    )
    print(f"starting embedder (model {args.model}), searcher, indexer and web page; logs in {out / 'logs'}", flush=True)
    with LocalCluster(config) as cluster:
        print(f"web page: {cluster.web_url}", flush=True)
        addresses = ["--indexer-address", cluster.address("indexer"), "--searcher-address", cluster.address("searcher")]
        code = cli.main([*addresses, "index", str(videos_dir)])
        if code != 0:
            print("indexing failed; see the logs", file=sys.stderr)
            return code
        # The same services from Python: the typed clients are the project's API (docs/python-api.md).
        with SearcherClient(cluster.address("searcher")) as searcher:
            stats = searcher.stats()
        print(f"\nstored: {stats.video_count} videos, {stats.scene_count} scenes, {stats.moment_count} moments "
              f"({stats.model_id}, {stats.embedding_dim}-d)", flush=True)
        # The long take's 5th subject: found at its moment, 18-22 s into a single 46-s scene.
        for query in args.query or (*DEFAULT_QUERIES, *([take["subjects"][4]["caption"]] if take else [])):
            print(f"\n$ videosearch search {query!r} --top 3", flush=True)
            cli.main([*addresses, "search", query, "--top", "3"])
            truth = [
                f"{video['video']} scene {scene['index']} ({scene['start_time']:.2f}s – {scene['end_time']:.2f}s)"
                for video in corpus["videos"] for scene in video["scenes"] if _same_caption(scene["caption"], query)
            ] + [
                f"{take['file']} (one take) {subject['start_seconds']:.2f}s – {subject['end_seconds']:.2f}s"
                for subject in (take["subjects"] if take else ()) if _same_caption(subject["caption"], query)
            ]
            print("ground truth: " + ("; ".join(truth) if truth else "no scene has this caption"), flush=True)
        # Words only speech (and its subtitles) or only on-screen text holds: nothing in the picture answers them.
        for line in (talking or {}).get("queries", ()):
            print(f"\n$ videosearch search {line['query']!r} --top 3   # only what is {line['answered_by']} answers it",
                  flush=True)
            cli.main([*addresses, "search", line["query"], "--top", "3"])
            print("ground truth: " + where_answered(talking, line["query"]), flush=True)
        if args.serve:
            print(f"\nthe web page is at {cluster.web_url} (search, library, index)", flush=True)
            exports = cluster.cli_exports()
            if exports:
                print("the CLI reaches these services after:\n" + "\n".join(f"  {line}" for line in exports))
            print("Ctrl-C stops everything", flush=True)
            wait_for_shutdown_signal("demo")
        web_url = cluster.web_url
    print("\n" + "\n".join(handover(args, out, videos_dir, web_url)), flush=True)
    return 0


def _same_caption(caption: str, query: str) -> bool:
    """Whether a ground-truth caption (English) is what the query asks for, in either language."""
    from videosearch.demo import world

    try:
        return world.caption_index(caption) == world.caption_index(query)
    except ValueError:  # a query outside the demo world's captions
        return False


def _video_done(done: int, total: int, truth: dict) -> None:
    captions = ", ".join(scene["caption"] for scene in truth["scenes"])
    print(f"  {done}/{total} {truth['video']}: {truth['frame_count']} frames, {len(truth['scenes'])} scenes ({captions})",
          flush=True)


def _take_progress(written: int, total: int) -> None:
    if written == total or written % max(total // 4, 1) == 0:  # a line at each quarter
        print(f"  long take: {written}/{total} frames ({100 * written // total}%)", flush=True)


def _shown(path: Path | str) -> str:
    """A path as short as it can be said from here: relative when inside the current folder."""
    relative = os.path.relpath(Path(path).resolve())
    return shlex.quote(str(Path(path).resolve()) if relative.startswith("..") else relative)


def handover(args, out: Path, videos_dir: Path, web_url: str) -> list[str]:
    """The last lines: the services are stopped; this command brings the demo's index back
    (same model, data folder, allowed folder and ports), and where the page and CLI find it."""
    launcher = Path(sys.executable).parent / "videosearch-up"
    ports = {name: getattr(args, f"{name}_port") for name in ("embedder", "searcher", "indexer")}
    command = [_shown(launcher) if launcher.exists() else "videosearch-up", "--model", _shown(args.model),
               "--data-dir", _shown(out / "data"), "--allowed-roots", _shown(videos_dir), "--log-dir", _shown(out / "logs")]
    command += [f"--{name}-port {port}" for name, port in ports.items() if port]
    web_port = args.web_port if args.web_port else WEB_PORT
    if web_port != WEB_PORT:
        command += [f"--web-port {web_port}"]
    exports = [f"export VIDEOSEARCH_{name.upper()}_ADDRESS={defaults.HOST}:{ports[name]}"
               for name, default in (("indexer", defaults.INDEXER_PORT), ("searcher", defaults.SEARCHER_PORT))
               if ports[name] and ports[name] != default]
    lines = [f"done; the services are stopped (the web page was {web_url}).",
             "To keep using the demo's index (its model, data folder and videos):",
             f"  {' '.join(command)}",
             f"then open http://{defaults.HOST}:{web_port}/ and, in another shell, use `videosearch search|index|videos`"]
    if exports:
        lines += ["after telling the CLI where the services are:", *(f"  {line}" for line in exports)]
    return lines


def _long_take(videos_dir: Path, seed: int) -> dict:
    """A 46-second single take of 8 subjects joined by 2-second dissolves (cached with its truth)."""
    import numpy as np

    from videosearch.demo.longtakes import generate_long_take
    from videosearch.demo.videos import random_scenes

    truth_path = videos_dir / "longtake.json"
    if truth_path.exists() and (videos_dir / "longtake.mp4").exists():
        return json.loads(truth_path.read_text())
    print("generating a 46-second long take (8 subjects, dissolves) ...", flush=True)
    subjects = random_scenes(8, np.random.default_rng(seed + 1))
    take = generate_long_take(videos_dir / "longtake.mp4", subjects, transitions=["dissolve"] * 7, seed=seed,
                              progress=_take_progress)
    truth_path.write_text(json.dumps(take, indent=1))
    return take


if __name__ == "__main__":
    sys.exit(main())
