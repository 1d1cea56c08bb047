"""The search commands of the CLI: `search` (text, images, weights, negative terms, filters,
pages, explanations, contact sheets, player commands), `more-like-this`, `thumbs` and `export`."""

from __future__ import annotations

import contextlib
import dataclasses
from fractions import Fraction
from pathlib import Path
from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table

from videosearch.common.errors import NotFound
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import QueryTerm, MomentHit, SceneRef, SearchParams, SearchResult, VideoRecord
from videosearch_cli import last_search
from videosearch_cli.clips import PLAYERS, export_clip, player_command
from videosearch_cli.connection import security_of
from videosearch_cli.indexing import CliError
from videosearch_cli.output import (
    console,
    distinct_suffixes,
    hit_json,
    marked_line,
    print_json,
    span_json,
    video_hit_json,
)
from videosearch_cli.query_terms import add_query_arguments, filter_from_args, terms_from_args
from videosearch_cli.sheet import SheetEntry, write_sheet


# Flags that change only how a page is shown (or where the services are): given with `--next`
# they apply to it; the remembered search's own values of them are not reused.
_OUTPUT_FLAGS = ("json", "sheet", "player", "explain")
_CONNECTION_FLAGS = (
    "indexer_address",
    "searcher_address",
    "token_file",
    "tls_ca_file",
    "tls_cert_file",
    "tls_key_file",
)


def resolve_next(args, parse):
    """`search --next`: the last search's arguments with its next page token, shown as the
    output flags given now say (`search --next --json` prints JSON whatever the first page was)."""
    if not getattr(args, "next", False):
        return args
    plain_next = parse([args.command, "--next"])  # what every flag is when not given
    changed = [
        name
        for name, value in vars(args).items()
        if name not in (*_OUTPUT_FLAGS, *_CONNECTION_FLAGS, "argv") and value != getattr(plain_next, name, value)
    ]
    if changed:
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in changed)
        raise CliError(
            f"--next shows the next page of the last search as it was; {flags} would change the search: "
            "run a new search instead (with --next give only --json, --sheet, --player, --explain or "
            "connection flags)"
        )
    last = last_search.load()
    if not last.get("next_page_token"):
        raise CliError("the last search has no further page")
    again = parse([*last["argv"], "--page-token", last["next_page_token"]])
    for name in _OUTPUT_FLAGS:
        setattr(again, name, getattr(args, name))
    for name in _CONNECTION_FLAGS:
        if getattr(args, name) != getattr(plain_next, name):
            setattr(again, name, getattr(args, name))
    again.argv = last["argv"]
    again.first_rank = last.get("first_rank", 1) + len(last.get("hits", []))  # ranks continue across pages
    return again


def cmd_search(args) -> int:
    return run_search(args, terms_from_args(args), title=repr(args.query) if args.query else "your terms")


def cmd_more_like_this(args) -> int:
    term = (
        QueryTerm(scene=SceneRef(args.video_id, args.scene))
        if args.scene is not None
        else QueryTerm(video_id=args.video_id)
    )
    if args.mode is None:
        args.mode = "scenes" if args.scene is not None else "videos"
    what = f"scene {args.scene} of {args.video_id}" if args.scene is not None else f"video {args.video_id}"
    return run_search(args, [term, *terms_from_args(args, required=False)], title=f"more like {what}")


def run_search(args, terms: list[QueryTerm], *, title: str) -> int:
    if not 1 <= args.top <= 1000:
        raise CliError(f"--top {args.top}: give how many results to show, 1 to 1000")
    params = SearchParams(
        top_k=args.top,
        scenes_per_video=args.scenes,
        video_scoring=args.scoring,
        mode=args.mode,
        approximate=args.approximate,
        filter=filter_from_args(args),
        page_token=args.page_token,
        explain=args.explain,
        include_examples=args.include_self,
        kinds=tuple(args.kind or ()),
    )
    with SearcherClient(args.searcher_address, security=security_of(args)) as searcher:
        result = searcher.search(terms=terms, params=params)
        # Scene hits name only their video: look each one up once for its path.
        videos = {hit.video.video_id: hit.video for hit in result.videos}
        for video_id in dict.fromkeys(hit.video_id for hit in result.scenes):
            with contextlib.suppress(NotFound):  # deleted since the search: shown by id alone
                videos[video_id] = searcher.get_video(video_id)[0]
        first_rank = getattr(args, "first_rank", 1)
        shown = _shown_hits(result, first_rank)
        if args.sheet:
            _write_sheet(searcher, result, shown, videos, args.sheet)
    last_search.save(
        getattr(args, "argv", []),
        result.next_page_token,
        [_remembered(rank, hit, videos) for rank, hit in shown],
        first_rank,
    )
    if args.json:
        print_json(
            {
                "query": args.query,
                "mode": args.mode,
                "model_id": result.model_id,
                "model_notice": result.model_notice,
                "strong_relevance": result.strong_relevance,
                "calibration": dataclasses.asdict(result.calibration) if result.calibration else None,
                "embed_ms": result.embed_ms,
                "rank_ms": result.rank_ms,
                "next_page_token": result.next_page_token,
                "videos": [video_hit_json(hit) for hit in result.videos],
                "scenes": [hit_json(hit, videos.get(hit.video_id)) for hit in result.scenes],
            }
        )
        return 0
    if not (result.videos or result.scenes):
        console.print(
            "no results"
            + (
                " (the filters left none)"
                if params.filter != type(params.filter)()
                else ": index some videos first with `videosearch index PATH`"
            )
        )
        return 0
    _print_table(result, videos, args, title, first_rank)
    if args.player:
        for rank, hit in shown:
            video = videos.get(hit.video_id)
            if video is not None:
                console.print(f"#{rank}  {escape(player_command(args.player, video.uri, _start(hit)))}", soft_wrap=True)
    if args.sheet:
        console.print(f"contact sheet: {args.sheet}")
    if result.next_page_token:
        console.print(
            "[dim]more: videosearch search --next (or --page-token with the same arguments; --json prints the token)[/]"
        )
    return 0


def _start(hit: MomentHit) -> float:
    return (hit.moment or hit.scene).start_seconds


def _shown_hits(result: SearchResult, first_rank: int = 1) -> list[tuple[int, MomentHit]]:
    """(rank, hit) per result: each scene hit, or each video's best moment."""
    if result.scenes:
        return list(enumerate(result.scenes, first_rank))
    return [(rank, match.scenes[0]) for rank, match in enumerate(result.videos, first_rank) if match.scenes]


def _remembered(rank: int, hit: MomentHit, videos: dict[str, VideoRecord]) -> dict:
    video = videos.get(hit.video_id)
    return {
        "rank": rank,
        "video_id": hit.video_id,
        "path": video.uri if video else "",
        "fps": str(video.fps) if video else "",
        "scene": hit.scene.index,
        "start_seconds": hit.scene.start_seconds,
        "end_seconds": hit.scene.end_seconds,
        "frames": hit.scene.end_frame - hit.scene.start_frame,
    }


def _write_sheet(
    searcher: SearcherClient, result: SearchResult, shown, videos: dict[str, VideoRecord], path: str
) -> None:
    names = distinct_suffixes([v.uri for v in videos.values()])
    fused = _words_searched(result)
    entries = []
    for rank, hit in shown:
        thumbnail = None
        with contextlib.suppress(NotFound):
            thumbnail = searcher.get_scene_thumbnail(hit.video_id, hit.scene.index).image_jpeg
        video = videos.get(hit.video_id)
        span = hit.moment or hit.scene
        entries.append(
            SheetEntry(
                rank,
                names[video.uri] if video else hit.video_id,
                _score_caption(hit, result) if fused else f"relevance {hit.relevance:.2f}, raw {hit.score:.4f}",
                span.start_seconds,
                span.end_seconds,
                thumbnail,
            )
        )
    write_sheet(entries, path)


def time_cell(seconds: float, timecode: str | None) -> str:
    return f"{timecode} ({seconds:.2f}s)" if timecode else f"{seconds:.2f}s"


def _hit_times(hit: MomentHit, *, with_score: bool = False, fused: bool = False) -> tuple[str, str, str]:
    """(moment start, moment end, scene): where the match is, and the scene it lies in; ``fused``:
    the search fused what is seen, said and written, so a moment's score is its fused score."""
    where = span_json(hit.moment or hit.scene)
    scene = f"#{hit.scene.index} {hit.scene.start_seconds:.2f}–{hit.scene.end_seconds:.2f}s"
    if with_score:
        scene += f" (fused {hit.fused_score:.4f})" if fused else f" (relevance {hit.relevance:.2f})"
    if hit.matched_kinds and hit.matched_kinds != ("seen",):
        scene += f"\n[dim]matched: {', '.join(hit.matched_kinds)}[/]"
    for match in hit.text_matches:
        scene += "\n" + marked_line(match)
    if hit.explanation is not None and hit.explanation.best is not None:
        best = hit.explanation.best
        scene += (
            f"\nbest frame {best.frame} at {best.seconds:.2f}s ({best.score:.4f}); "
            f"{len(hit.explanation.frames)} frames {min(f.score for f in hit.explanation.frames):.3f}"
            f"–{max(f.score for f in hit.explanation.frames):.3f}"
        )
    return (
        time_cell(where["start_seconds"], where.get("start_timecode")),
        time_cell(where["end_seconds"], where.get("end_timecode")),
        scene,
    )


def _print_table(result: SearchResult, videos: dict[str, VideoRecord], args, title: str, first_rank: int) -> None:
    names = distinct_suffixes([v.uri for v in videos.values()])

    def video_cell(video_id: str) -> str:
        video = videos.get(video_id)
        return f"{escape(names[video.uri])}\n[dim]{video_id}[/]" if video else video_id

    # MomentHits in scenes mode, VideoHits in videos mode: both have what the rows below read.
    ranked: list[tuple[int, Any]] = list(
        enumerate(result.scenes if args.mode == "scenes" else result.videos, first_rank)
    )
    strong = [(rank, hit) for rank, hit in ranked if hit.relevance >= result.strong_relevance]
    weak = len(ranked) - len(strong)
    # Weak matches fold away behind strong ones; with no strong match they are shown, said to be weak.
    shown = ranked if args.all or not strong else strong
    # With said or written searched, hits are ordered by their fused score, not by relevance (a
    # moment found by its words can look less like the query than the one below it): the number
    # column shows what ordered them, the look's own relevance labelled beside it.
    fused = _words_searched(result)
    table = Table(
        title=f"Top {args.mode} for {escape(title)}" + ("" if strong else " (no strong match)"), box=box.SIMPLE_HEAD
    )
    for column in ("rank", "fused score" if fused else "relevance", "video", "moment start", "moment end", "scene"):
        table.add_column(column, overflow="fold")
    for rank, hit in shown:
        style = None if hit.relevance >= result.strong_relevance else "dim"
        score = _fused_cell(hit, result) if fused else _relevance_cell(hit)
        if args.mode == "scenes":
            table.add_row(
                str(rank),
                score,
                video_cell(hit.video_id),
                *_hit_times(hit),
                end_section=True,
                style=style,
            )
            continue
        for position, scene in enumerate(hit.scenes):
            first = position == 0
            table.add_row(
                str(rank) if first else "",
                score if first else "",
                video_cell(hit.video.video_id) if first else "",
                *_hit_times(scene, with_score=True, fused=fused),
                end_section=position == len(hit.scenes) - 1,
                style=style,
            )
    console.print(table)
    if fused:
        console.print(
            "[dim]fused score: the seen, said and written rankings fused (only its order means something); "
            "look: the picture's own relevance[/]"
        )
    if weak and strong and not args.all:
        console.print(
            f"{weak} weak match{'es' if weak > 1 else ''} (relevance below {result.strong_relevance:g}) "
            "folded away; --all shows them"
        )
    elif not strong:
        console.print(
            f"no strong match: every hit scores below relevance {result.strong_relevance:g}, "
            "so these are probably unrelated"
        )
    if result.model_notice:
        console.print(f"[yellow]note: {escape(result.model_notice)}[/]")
    console.print(
        f"[dim]model {escape(result.model_id)}; embed {result.embed_ms:.1f} ms, rank {result.rank_ms:.1f} ms[/]"
    )


def _relevance_cell(hit) -> str:
    """The calibrated relevance, with the model's raw score beside it."""
    return f"{hit.relevance:.2f}\n[dim]raw {hit.score:.4f}[/]"


def _words_searched(result: SearchResult) -> bool:
    """Whether said or written was searched, so that the fused score ordered the hits."""
    return any(hit.fused_score > 0 for _, hit in _shown_hits(result))


def _score_caption(hit: MomentHit, result: SearchResult) -> str:
    """A moment's fused score and its look's relevance, in plain text (the contact sheet's)."""
    look = _look(hit, result)
    return f"fused {hit.fused_score:.4f}" + ("" if look is None else f", look {look:.2f}")


def _look(hit, result: SearchResult) -> float | None:
    """The hit's picture's own calibrated relevance (None when no embedding was searched)."""
    return None if result.calibration is None else float(result.calibration.relevance(hit.score))


def _fused_cell(hit, result: SearchResult) -> str:
    """The fused score that ordered the hit (a video's: its best moment's), with the look's own
    calibrated relevance and raw score beside it (none when no embedding was searched)."""
    best = hit if isinstance(hit, MomentHit) else hit.scenes[0]
    look = _look(hit, result)
    if look is None:
        return f"{best.fused_score:.4f}"
    return f"{best.fused_score:.4f}\n[dim]look {look:.2f}, raw {hit.score:.4f}[/]"


def cmd_thumbs(args) -> int:
    out = Path(args.out)
    written = []
    with SearcherClient(args.searcher_address, security=security_of(args)) as searcher:
        _, scenes = searcher.get_video(args.video_id)
        out.mkdir(parents=True, exist_ok=True)
        for scene in scenes:
            try:
                thumbnail = searcher.get_scene_thumbnail(args.video_id, scene.index)
            except NotFound as exc:
                raise CliError(str(exc)) from None
            path = out / f"{args.video_id}_scene{scene.index:04d}.jpg"
            path.write_bytes(thumbnail.image_jpeg)
            written.append(
                {
                    "scene": scene.index,
                    "path": str(path),
                    "frame": thumbnail.frame,
                    "seconds": thumbnail.seconds,
                    "width": thumbnail.width,
                    "height": thumbnail.height,
                }
            )
    if args.json:
        print_json({"video_id": args.video_id, "thumbnails": written})
    else:
        console.print(f"wrote {len(written)} thumbnails to {escape(str(out))}")
    return 0


def cmd_export(args) -> int:
    if args.hit is not None:
        if args.video_id or args.scene is not None:
            raise CliError("give either VIDEO_ID SCENE or --hit N, not both")
        hits = {hit["rank"]: hit for hit in last_search.load()["hits"]}
        if args.hit not in hits:
            raise CliError(f"the last search showed hits {sorted(hits)}; --hit {args.hit} is not among them")
        chosen = hits[args.hit]
        path, fps, video_id, scene_index = chosen["path"], Fraction(chosen["fps"]), chosen["video_id"], chosen["scene"]
        start, end, frames = chosen["start_seconds"], chosen["end_seconds"], chosen["frames"]
    else:
        if not args.video_id or args.scene is None:
            raise CliError("give VIDEO_ID and SCENE (from `videos show` or a search), or --hit N of the last search")
        with SearcherClient(args.searcher_address, security=security_of(args)) as searcher:
            video, scenes = searcher.get_video(args.video_id)
        if not 0 <= args.scene < len(scenes):
            raise CliError(f"video {args.video_id} has scenes 0..{len(scenes) - 1}; scene {args.scene} is not one")
        scene = scenes[args.scene]
        present = [l.path for l in video.locations if not l.missing and Path(l.path).is_file()]
        path, fps, video_id, scene_index = (
            (present[0] if present else video.uri),
            video.fps,
            video.video_id,
            scene.index,
        )
        start, end, frames = scene.start_seconds, scene.end_seconds, scene.end_frame - scene.start_frame
    written = export_clip(path, start, end, frames, fps, args.out)
    if args.json:
        print_json(
            {
                "video_id": video_id,
                "scene": scene_index,
                "source": path,
                "start_seconds": start,
                "end_seconds": end,
                "out": str(written),
            }
        )
    else:
        console.print(f"wrote scene {scene_index} of {video_id} ({start:.3f}–{end:.3f}s) to {escape(str(written))}")
    return 0


def _result_arguments(parser) -> None:
    parser.add_argument(
        "--top", type=int, default=10, help="number of videos (or moments) to return, 1 to 1000 (default 10)"
    )
    parser.add_argument("--scenes", type=int, default=3, help="best moments shown per video")
    parser.add_argument(
        "--scoring",
        choices=["max", "mean"],
        default="max",
        help="a video's score: its best moment (max) or the mean of its moments",
    )
    parser.add_argument("--approximate", action="store_true", help="use the approximate index when the server has one")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="show which sampled frame matched best and the range of every frame's score",
    )
    parser.add_argument(
        "--sheet", metavar="PNG", help="also write a contact sheet of the hits (thumbnail, name, score, times)"
    )
    parser.add_argument(
        "--player", choices=sorted(PLAYERS), help="print the command that opens each hit in this player"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output (with each hit's open_uri)")
    parser.add_argument(
        "--kind",
        action="append",
        choices=["seen", "said", "written"],
        help="match the text against what is seen, said (subtitles, speech) or written on screen; "
        "repeat for several (default: all three, fused)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="also list the weak matches (relevance below 0.5), which are folded away by default",
    )
    add_query_arguments(parser)


def add_commands(commands) -> None:
    search = commands.add_parser(
        "search",
        help="rank indexed videos against text, images and stored examples",
        description="Rank indexed videos against a query: a text, and/or weighted --text, --image, --not and "
        "--not-image terms (TERM:WEIGHT), after the filters. Each hit carries a file:// URI with #t=START; "
        "--player prints a command that opens it there.",
    )
    search.add_argument(
        "query",
        nargs="?",
        metavar="TEXT[:W]",
        help="a text to search for, weighted like --text (optional when terms are given)",
    )
    search.add_argument("--mode", choices=["videos", "scenes"], default="videos")
    search.add_argument("--like-scene", action="append", metavar="VIDEO_ID:SCENE", help="a stored scene as a term")
    search.add_argument("--like-video", action="append", metavar="VIDEO_ID", help="a stored video as a term")
    search.add_argument(
        "--include-self", action="store_true", help="keep the --like-* examples themselves among the hits"
    )
    _result_arguments(search)
    search.set_defaults(func=cmd_search)

    like = commands.add_parser(
        "more-like-this",
        help="scenes (or videos) that look like a stored scene or video",
        description="Search with a stored scene (VIDEO_ID SCENE) or video (VIDEO_ID) as the "
        "query; the example itself is left out unless --include-self.",
    )
    like.add_argument("video_id")
    like.add_argument("scene", type=int, nargs="?", help="scene index (from 0); without it, the whole video")
    like.add_argument(
        "--mode", choices=["videos", "scenes"], default=None, help="default: scenes for a scene, videos for a video"
    )
    like.add_argument("--include-self", action="store_true", help="keep the example among the hits")
    _result_arguments(like)
    like.set_defaults(func=cmd_more_like_this, query=None)

    thumbs = commands.add_parser("thumbs", help="write a video's scene thumbnails (JPEG) to a folder")
    thumbs.add_argument("video_id")
    thumbs.add_argument("--out", required=True, help="folder to write VIDEO_ID_sceneNNNN.jpg files into")
    thumbs.add_argument("--json", action="store_true")
    thumbs.set_defaults(func=cmd_thumbs)

    export = commands.add_parser(
        "export",
        help="cut a scene out of the original file, frame-accurately (MP4)",
        description="Cut scene SCENE of VIDEO_ID (or the scene of hit N of the last search) out of the original "
        "file into an MP4, frame-accurately: re-encoded with the ffmpeg that imageio-ffmpeg ships, since "
        "a stream copy can only start at a keyframe.",
    )
    export.add_argument("video_id", nargs="?")
    export.add_argument("scene", type=int, nargs="?")
    export.add_argument("--hit", type=int, help="the hit of that rank in the last search's output instead")
    export.add_argument("--out", required=True, help="the MP4 file to write")
    export.add_argument("--json", action="store_true")
    export.set_defaults(func=cmd_export)
