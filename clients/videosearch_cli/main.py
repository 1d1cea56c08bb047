"""`videosearch`: index videos and search them from the command line.

Talks to the services only through the typed clients (IndexerClient, SearcherClient),
so every failure is a videosearch.common.errors exception with words that say what to do.
"""

from __future__ import annotations

import argparse
import os
import sys

from rich.markup import escape
from rich.table import Table

from videosearch.common import defaults
from videosearch.common.errors import Unavailable, VideoSearchError
from videosearch.common.timecode import format_seconds
from videosearch.client.fleet import IndexerFleet
from videosearch.indexer.types import IndexOptions, Job
from videosearch.client.searcher import SearcherClient
from videosearch_cli.connection import indexers_of, security_of
from videosearch_cli.indexing import CliError, Interrupted, cmd_index
from videosearch_cli.output import (
    console,
    errors,
    plain,
    print_json,
    short_path,
    span_json,
    text_span_json,
    video_json,
)
from videosearch_cli.libraries import OneIndexerNeeded, add_library_commands
from videosearch_cli.reindexing import add_reindex_command
from videosearch_cli.searching import add_commands, resolve_next, time_cell

# A reader that went away (`| head`): exit 1 quietly, as rich's Console does when its own
# write finds the pipe closed (Console.on_broken_pipe).
EXIT_BROKEN_PIPE = 1


# -- videos ----------------------------------------------------------------------
def _page_or_all(args, fetch_page):
    """The page the arguments ask for, or with --all every page: (items, next_page_token)."""
    items, token = fetch_page(args.page_size, args.page_token)
    while args.all and token:
        more, token = fetch_page(args.page_size, token)
        items.extend(more)
    return items, token


def _more_hint(command: str, token: str, args) -> None:
    if token:
        console.print(
            f"[dim]more: videosearch {command} --page-size {args.page_size} --page-token {token} (or --all)[/]"
        )


def cmd_videos_list(args) -> int:
    with SearcherClient(args.searcher_address, security=security_of(args)) as searcher:
        total = 0

        def page(size: int, token: str):
            nonlocal total
            videos, next_token, total = searcher.list_videos(size, token)
            return videos, next_token

        videos, token = _page_or_all(args, page)
    if args.json:
        print_json({"videos": [video_json(v) for v in videos], "next_page_token": token, "total_size": total})
        return 0
    models = sorted({v.model_id for v in videos})
    table = Table(
        title=f"{len(videos)} of {total} indexed videos" + (f" (model {', '.join(models)})" if models else "")
    )
    # The file column gets what the others leave; paths are shortened from the left to fit,
    # so the file name always shows whole.
    room = max(24, console.width - 68)
    table.add_column("id", no_wrap=True)
    table.add_column(
        "file", overflow="fold", min_width=min(room, max((len(l.path) for v in videos for l in v.locations), default=4))
    )
    for column in ("duration", "scenes", "moments", "resolution"):
        table.add_column(column, no_wrap=True)
    for v in videos:
        files = "\n".join(
            escape(short_path(l.path, room - 10 * l.missing)) + (" [red](missing)[/]" if l.missing else "")
            for l in v.locations
        )
        table.add_row(
            v.video_id,
            files,
            f"{v.duration_seconds:.1f}s",
            str(v.scene_count),
            str(v.moment_count),
            f"{v.width}x{v.height}",
        )
    console.print(table)
    _more_hint("videos list", token, args)
    return 0


DECODED = {
    "all": "every frame",
    "reference": "reference frames only (fast mode)",
    "sparse": "keyframes and each GOP's first reference frames (fast mode)",
    "keyframes": "keyframes only (fast mode)",
}


def cmd_videos_show(args) -> int:
    with SearcherClient(args.searcher_address, security=security_of(args)) as searcher:
        v, scenes, moments = searcher.get_video_moments(args.video_id)
        spans = searcher.get_text_spans(args.video_id)
    if args.json:
        print_json(
            {
                "video": video_json(v),
                "scenes": [span_json(s) for s in scenes],
                "moments": [span_json(m) for m in moments],
                "text_spans": [text_span_json(t) for t in spans],
            }
        )
        return 0
    indexed = v.indexed_at.isoformat() if v.indexed_at else "?"
    console.print(
        f"[bold]{v.video_id}[/]\n{float(v.fps):.3f} fps ({v.fps}), {v.duration_seconds:.2f}s, "
        f"{v.frame_count} frames, {v.width}x{v.height}, model {v.model_id} ({v.embedding_dim}-d), indexed {indexed}, "
        f"decoded {DECODED.get(v.decode_mode or 'all', v.decode_mode)}"
    )
    for location in v.locations:
        console.print(f"  {escape(location.path)}" + (" [red](missing)[/]" if location.missing else ""), soft_wrap=True)
    table = Table()
    for column in ("scene", "moment", "frames", "start", "end", "sampled"):
        table.add_column(column)
    moments_of: dict[int, list] = {}
    for m in moments:
        moments_of.setdefault(m.scene_index, []).append(m)
    for s in scenes:
        times = span_json(s)
        table.add_row(
            str(s.index),
            "",
            f"{s.start_frame}–{s.end_frame}",
            time_cell(s.start_seconds, times["start_timecode"]),
            time_cell(s.end_seconds, times["end_timecode"]),
            str(s.sampled_frames),
        )
        inner = moments_of.get(s.index, [])
        for m in inner if len(inner) > 1 else ():  # a scene that is one moment needs no second row
            times = span_json(m)
            table.add_row(
                "",
                str(m.index),
                f"{m.start_frame}–{m.end_frame}",
                time_cell(m.start_seconds, times["start_timecode"]),
                time_cell(m.end_seconds, times["end_timecode"]),
                str(m.sampled_frames),
            )
    console.print(table)
    if spans:
        text_table = Table(title="said and written")
        for column in ("start", "end", "kind", "text", "language", "source"):
            text_table.add_column(column, overflow="fold")
        for t in spans:
            text_table.add_row(
                time_cell(t.start_seconds, format_seconds(t.start_seconds)),
                time_cell(t.end_seconds, format_seconds(t.end_seconds)),
                t.kind,
                escape(t.text),
                t.language or "?",
                t.source or "?",
            )
        console.print(text_table)
    else:
        console.print("[dim]nothing said or written is stored for this video[/]")
    return 0


def cmd_videos_delete(args) -> int:
    with SearcherClient(args.searcher_address, security=security_of(args)) as searcher:
        deleted = searcher.delete_video(args.video_id)
    if args.json:
        print_json({"video_id": args.video_id, "deleted_scenes": deleted})
    else:
        console.print(f"deleted {args.video_id} ({deleted} scenes)")
    return 0


# -- jobs, stats ---------------------------------------------------------------------
def cmd_jobs_list(args) -> int:
    with indexers_of(args) as indexer:
        jobs, token = _page_or_all(args, indexer.list_page)
        # With several Indexers, which one holds each job (its Get, Watch and Cancel go there).
        where = {j.job_id: indexer.indexer_of(j.job_id) for j in jobs} if isinstance(indexer, IndexerFleet) else {}
    if args.json:
        print_json(
            {
                "jobs": [{**plain(j), **({"indexer": where[j.job_id]} if where else {})} for j in jobs],
                "next_page_token": token,
            }
        )
        return 0
    table = Table(title="index jobs, newest first")
    room = max(24, console.width - 80 - 22 * bool(where))  # what the other columns leave the path
    for column in ("job", *(("indexer",) if where else ()), "state", "progress", "video"):
        table.add_column(column, no_wrap=True)
    table.add_column("path", overflow="fold", min_width=min(room, max((len(j.path) for j in jobs), default=4)))
    table.add_column("note", overflow="fold")
    for j in jobs:
        note = j.error or ("unchanged" if j.unchanged else "already indexed" if j.skipped else "")
        table.add_row(
            j.job_id,
            *((where[j.job_id],) if where else ()),
            j.state.value,
            f"{j.percent:.0f}%",
            j.video_id,
            escape(short_path(j.path, room)),
            escape(note),
        )
    console.print(table)
    _more_hint("jobs list", token, args)
    return 0


def cmd_jobs_cancel(args) -> int:
    """Cancels each job and prints its state afterwards; a running job stops at its next
    check, so it may still read running for a moment (`jobs list` shows when it stopped)."""
    results: list[Job] = []
    failed = 0
    with indexers_of(args) as indexer:
        for job_id in args.job_ids:
            try:
                results.append(indexer.cancel(job_id))
            except Unavailable:
                raise
            except VideoSearchError as exc:  # unknown or finished: say so, go on with the others
                errors.print(f"[red]error:[/] {escape(str(exc))}")
                failed += 1
    if args.json:
        print_json({"jobs": [plain(j) for j in results]})
    else:
        for job in results:
            console.print(f"{job.job_id}: {job.state.value}" + (" (stopping)" if not job.state.finished else ""))
    return 1 if failed else 0


def cmd_stats(args) -> int:
    with SearcherClient(args.searcher_address, security=security_of(args)) as searcher:
        stats = searcher.stats()
    if args.json:
        print_json(plain(stats))
        return 0
    table = Table(title="collection", show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    for name, value in (
        ("videos", stats.video_count),
        ("scenes", stats.scene_count),
        ("moments", stats.moment_count),
        ("model", stats.model_id or "(none yet)"),
        ("embedding size", stats.embedding_dim),
        ("approximate index", "built" if stats.approximate_index else "none"),
    ):
        table.add_row(name, str(value))
    if stats.staged_model_id:  # a reindex is building the next collection (videosearch reindex)
        table.add_row("reindexing to", f"{stats.staged_model_id} ({stats.staged_video_count} videos so far)")
    console.print(table)
    return 0


# -- arguments ---------------------------------------------------------------------------
def _paging(parser: argparse.ArgumentParser, default_size: int) -> None:
    parser.add_argument(
        "--page-size", type=int, default=default_size, help=f"items per page (default {default_size}, at most 1000)"
    )
    parser.add_argument("--page-token", default="", help="the token a previous page printed, to show the next page")
    parser.add_argument("--all", action="store_true", help="follow the pages to the end")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="videosearch", description="Index videos and search them with text, images and examples."
    )
    _connection_arguments(parser)
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser(
        "index",
        help="index video files or folders (recursively), with progress bars",
        description="Index video files or folders (recursively), with a progress bar per video. Files a stored "
        "video already has at the same path, size and modification time are skipped without hashing; "
        "a file whose content is already indexed at another path is recorded as a new location of "
        "that video, without decoding. Ctrl-C stops watching but NOT the jobs: they go on on the "
        "Indexer, and the CLI prints their ids and the `videosearch jobs cancel ID...` command that "
        "stops them.",
    )
    index.add_argument("paths", nargs="*")
    # Each flag is named as SubmitOptions' field (the proto's); 0 or empty leaves the server's default,
    # which an Indexer started without options has from IndexOptions.
    job = IndexOptions()
    index.add_argument(
        "--detector",
        default="",
        help=f"cut detector: content, adaptive, threshold, hash, or a+b (server default {job.detector})",
    )
    index.add_argument(
        "--threshold",
        dest="detector_threshold",
        metavar="THRESHOLD",
        type=float,
        default=0.0,
        help=f"ContentDetector threshold (server default {job.detector_threshold:g})",
    )
    index.add_argument(
        "--min-scene-frames", type=int, default=0, help=f"shortest scene in frames (server default {job.min_scene_len})"
    )
    index.add_argument(
        "--seconds-per-sample",
        type=float,
        default=0.0,
        help=f"seconds of video per sampled frame (server default {job.seconds_per_sample})",
    )
    index.add_argument(
        "--min-frames-per-scene",
        type=int,
        default=0,
        help=f"fewest frames sampled per scene (server default {job.min_samples})",
    )
    index.add_argument(
        "--max-frames-per-scene",
        type=int,
        default=0,
        help=f"most frames sampled per scene (server default {job.max_samples})",
    )
    index.add_argument(
        "--frames-per-scene",
        type=int,
        default=0,
        help="a fixed number of frames per scene (the article's 3) instead of sampling through time",
    )
    index.add_argument(
        "--force",
        action="store_true",
        help="re-index files already indexed with the same model (no skipping of unchanged files)",
    )
    index.add_argument(
        "--subtitles",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read subtitle streams and subtitle files beside the videos (server default: on)",
    )
    index.add_argument(
        "--speech",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="transcribe the audio with the Embedder's speech recognizer (server default: off)",
    )
    index.add_argument(
        "--on-screen-text",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read text shown on screen (OCR, Chinese and English; server default: off)",
    )
    modes = index.add_mutually_exclusive_group()
    modes.add_argument(
        "--decode-mode",
        choices=("all", "reference", "sparse", "keyframes"),
        default="",
        help="which frames are decoded: all (exact cuts; server default), reference (reference frames "
        "only), sparse (keyframes and the reference frames of each GOP's first third: a fast first "
        "pass that still sees long takes, samples at most max(2 s, 2/3 of the keyframe interval) apart) "
        "or keyframes (keyframes only: the fastest first pass, cuts at the nearest "
        "keyframe). Index again with --decode-mode all later to replace a fast entry",
    )
    modes.add_argument(
        "--fast",
        action="store_true",
        help="same as --decode-mode sparse (the fast mode measured to keep search quality)",
    )
    index.add_argument("--no-wait", action="store_true", help="submit and print the job ids without waiting")
    index.add_argument(
        "--prune",
        action="store_true",
        help="first have the Indexer check every stored file path on its machine: mark the gone ones "
        "missing and remove the videos whose files are all gone (prints what it removed)",
    )
    index.add_argument("--dry-run", action="store_true", help="with --prune: print what would change, change nothing")
    index.add_argument("--json", action="store_true", help="print the finished jobs as JSON")
    index.set_defaults(func=cmd_index)

    add_commands(commands)
    add_library_commands(commands, _paging)
    add_reindex_command(commands)

    videos = commands.add_parser("videos", help="list, show or delete indexed videos").add_subparsers(
        dest="action", required=True
    )
    listing = videos.add_parser("list", help="indexed videos by id, a page at a time (--all for every page)")
    _paging(listing, 200)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_videos_list)
    show = videos.add_parser("show", help="one video with its paths, scenes and moments")
    show.add_argument("video_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_videos_show)
    delete = videos.add_parser("delete", help="delete a video and its scenes")
    delete.add_argument("video_id")
    delete.add_argument("--json", action="store_true")
    delete.set_defaults(func=cmd_videos_delete)

    jobs = commands.add_parser("jobs", help="list or cancel index jobs").add_subparsers(dest="action", required=True)
    jobs_list = jobs.add_parser("list", help="index jobs, newest first, a page at a time (--all for every page)")
    _paging(jobs_list, 50)
    jobs_list.add_argument("--json", action="store_true")
    jobs_list.set_defaults(func=cmd_jobs_list)
    cancel = jobs.add_parser("cancel", help="cancel jobs and print their state afterwards")
    cancel.add_argument("job_ids", nargs="+", metavar="job_id")
    cancel.add_argument("--json", action="store_true")
    cancel.set_defaults(func=cmd_jobs_cancel)

    stats = commands.add_parser("stats", help="counts and model of the stored collection")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_stats)
    for leaf in _leaf_commands(parser):  # connection flags also after the command: `search "x" --searcher-address H:P`
        _connection_arguments(leaf, after_command=True)
    return parser


def _connection_arguments(parser: argparse.ArgumentParser, *, after_command: bool = False) -> None:
    """Where the services are and how to reach them. Given after the command, a flag's default
    is SUPPRESS so that it overrides the value before the command only when it is given."""

    def default(env: str, fallback: str = "") -> str:
        return argparse.SUPPRESS if after_command else os.environ.get(env, fallback)

    group = parser.add_argument_group("connection (before or after the command)") if after_command else parser
    group.add_argument(
        "--indexer-address",
        default=default("VIDEOSEARCH_INDEXER_ADDRESS", defaults.INDEXER_ADDRESS),
        help="host:port of the Indexer, or several (comma-separated, or dns:///name:port): files are "
        "spread over them and `jobs list` shows all their jobs [env VIDEOSEARCH_INDEXER_ADDRESS]",
    )
    group.add_argument(
        "--searcher-address",
        default=default("VIDEOSEARCH_SEARCHER_ADDRESS", defaults.SEARCHER_ADDRESS),
        help="host:port of the Searcher [env VIDEOSEARCH_SEARCHER_ADDRESS]",
    )
    for flag, env, what in (
        (
            "--token-file",
            "VIDEOSEARCH_TOKEN_FILE",
            "file holding the bearer token the services require (docs/security.md)",
        ),
        (
            "--tls-ca-file",
            "VIDEOSEARCH_TLS_CA_FILE",
            "PEM CA that signed the services' certificates; set, calls use TLS",
        ),
        (
            "--tls-cert-file",
            "VIDEOSEARCH_TLS_CERT_FILE",
            "PEM client certificate, for services that require mutual TLS",
        ),
        ("--tls-key-file", "VIDEOSEARCH_TLS_KEY_FILE", "PEM private key of --tls-cert-file"),
    ):
        group.add_argument(flag, default=default(env), help=f"{what} [env {env}]")


def _leaf_commands(parser: argparse.ArgumentParser):
    """Every parser that runs a command (`search`, `videos list`, ...), however deeply nested."""
    for action in parser._actions:  # argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield from _leaf_commands(child)
            return
    yield parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv  # remembered by `search` so that `search --next` can repeat it
    try:
        args = resolve_next(args, parser.parse_args)
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit where it cannot be caught
        return code
    except (CliError, OneIndexerNeeded, VideoSearchError) as exc:
        errors.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    except Interrupted as exc:
        print(exc, file=sys.stderr)  # plain: job ids and paths must not be wrapped or styled
        return 130
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (`| head`) has what it wanted. Point stdout at /dev/null so the
        # interpreter's own flush at exit does not fail and print a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
