"""`videosearch`: index videos and search them from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path

import grpc
from google.protobuf.json_format import MessageToDict
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from videosearch.common.grpc_server import insecure_channel
from videosearch.v1 import (
    indexer_pb2,
    indexer_pb2_grpc,
    searcher_pb2,
    searcher_pb2_grpc,
)

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".3gp"}
STAGE_WORDS = {
    indexer_pb2.JOB_STAGE_UNSPECIFIED: "",
    indexer_pb2.JOB_STAGE_HASHING: "hashing",
    indexer_pb2.JOB_STAGE_DETECTING_SCENES: "detecting scenes",
    indexer_pb2.JOB_STAGE_EMBEDDING: "embedding",
    indexer_pb2.JOB_STAGE_STORING: "storing",
}
FINISHED = {indexer_pb2.JOB_STATE_SUCCEEDED, indexer_pb2.JOB_STATE_FAILED, indexer_pb2.JOB_STATE_CANCELLED}

# Piped output (logs, CI) gets a fixed width that fits a result row, not rich's 80-column default.
console = Console() if sys.stdout.isatty() else Console(width=120)
errors = Console(stderr=True)


class CliError(Exception):
    pass


def expand_paths(paths: list[str]) -> list[Path]:
    """Files as given, and the video files under each directory, recursively, sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES))
        elif path.exists():
            found.append(path)
        else:
            raise CliError(f"{raw} does not exist")
    return list(dict.fromkeys(found))


def _rpc(call, *args, service: str, address: str, **kwargs):
    try:
        return call(*args, **kwargs)
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.UNAVAILABLE:
            raise CliError(f"cannot reach the {service} at {address}; start the services with `make up` "
                           f"or point --{service}-address at them ({err.details()})") from err
        raise CliError(f"{err.details()} [{err.code().name}]") from err


# -- index ---------------------------------------------------------------------
def cmd_index(args) -> int:
    files = expand_paths(args.paths)
    if not files:
        raise CliError("no video files found in the given paths")
    stub = indexer_pb2_grpc.IndexerServiceStub(insecure_channel(args.indexer_address))
    options = indexer_pb2.IndexOptions(
        detector_threshold=args.threshold, min_scene_frames=args.min_scene_frames,
        frames_per_scene=args.frames_per_scene, force=args.force, seconds_per_sample=args.seconds_per_sample,
        min_frames_per_scene=args.min_frames_per_scene, max_frames_per_scene=args.max_frames_per_scene,
        detector=args.detector,
    )
    jobs = []
    for path in files:
        try:
            job = _rpc(stub.SubmitIndexJob, indexer_pb2.SubmitIndexJobRequest(path=str(path), options=options),
                       service="indexer", address=args.indexer_address).job
        except CliError as exc:
            if "cannot reach" in str(exc):
                raise
            errors.print(f"[red]skipped[/] {path}: {exc}")
            continue
        jobs.append(job)
    if not jobs:
        return 1
    if args.no_wait:
        for job in jobs:
            console.print(f"{job.job_id}  {job.path}")
        return 0
    results = watch_jobs(stub, jobs, json_output=args.json)
    failed = [j for j in results if j.state != indexer_pb2.JOB_STATE_SUCCEEDED]
    if args.json:
        print(json.dumps([MessageToDict(j, preserving_proto_field_name=True) for j in results], indent=2))
    else:
        for job in results:
            if job.state == indexer_pb2.JOB_STATE_SUCCEEDED:
                note = "already indexed" if job.skipped else f"{job.scenes_found} scenes, {job.moments_found} moments"
                console.print(f"[green]indexed[/] {Path(job.path).name}  id {job.video_id}  ({note})")
            else:
                state = indexer_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_").lower()
                console.print(f"[red]{state}[/] {job.path}: {job.error}")
    return 1 if failed else 0


def watch_jobs(stub, jobs, *, json_output: bool) -> list:
    """One progress bar per video, fed by one WatchIndexJob stream each."""
    final: dict[str, object] = {}
    with Progress(
        TextColumn("{task.fields[name]}", justify="left"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=errors if json_output else console,
        transient=False,
    ) as progress:
        def follow(job) -> None:
            task = progress.add_task("", total=100, name=Path(job.path).name[:40], detail="queued")
            last = job
            try:
                for update in stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id)):
                    last = update.job
                    progress.update(task, completed=last.percent, detail=_detail(last))
            except grpc.RpcError as err:
                last = indexer_pb2.IndexJob(job_id=job.job_id, path=job.path, state=indexer_pb2.JOB_STATE_FAILED,
                                            error=f"lost the indexer: {err.details()}")
            progress.update(task, completed=100 if last.state == indexer_pb2.JOB_STATE_SUCCEEDED else last.percent,
                            detail=_detail(last))
            final[job.job_id] = last

        threads = [threading.Thread(target=follow, args=(job,), daemon=True) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return [final[job.job_id] for job in jobs]


def _detail(job) -> str:
    if job.state == indexer_pb2.JOB_STATE_SUCCEEDED:
        return "already indexed" if job.skipped else f"done: {job.scenes_found} scenes, {job.moments_found} moments"
    if job.state == indexer_pb2.JOB_STATE_FAILED:
        return "failed"
    if job.state == indexer_pb2.JOB_STATE_CANCELLED:
        return "cancelled"
    if job.state == indexer_pb2.JOB_STATE_QUEUED:
        return "queued"
    parts = [STAGE_WORDS.get(job.stage, "")]
    if job.frames_total:
        parts.append(f"frame {job.frames_decoded}/{job.frames_total}")
    if job.scenes_found:
        parts.append(f"{job.scenes_found} scenes, {job.frames_embedded}/{job.frames_to_embed} frames embedded")
    return "  ".join(p for p in parts if p)


# -- search --------------------------------------------------------------------
def cmd_search(args) -> int:
    stub = searcher_pb2_grpc.SearcherServiceStub(insecure_channel(args.searcher_address))
    request = searcher_pb2.SearchRequest(
        text=args.query, top_k=args.top, scenes_per_video=args.scenes,
        mode=searcher_pb2.SEARCH_MODE_SCENES if args.mode == "scenes" else searcher_pb2.SEARCH_MODE_VIDEOS,
        video_scoring=searcher_pb2.VIDEO_SCORING_MEAN if args.scoring == "mean" else searcher_pb2.VIDEO_SCORING_MAX,
        approximate=args.approximate,
    )
    response = _rpc(stub.Search, request, service="searcher", address=args.searcher_address)
    if args.json:
        print(json.dumps(MessageToDict(response, preserving_proto_field_name=True), indent=2))
        return 0
    columns = ("rank", "score", "video", "moment start", "moment end", "scene")
    if args.mode == "scenes":
        table = Table(title=f"Top moments for {args.query!r}", box=box.SIMPLE_HEAD)
        for column in columns:
            table.add_column(column)
        for rank, match in enumerate(response.scenes, 1):
            table.add_row(str(rank), f"{match.score:.4f}", match.video_id, *_hit_times(match))
    else:
        table = Table(title=f"Top videos for {args.query!r}", box=box.SIMPLE_HEAD)
        for column in columns:
            table.add_column(column)
        for rank, match in enumerate(response.videos, 1):
            for position, s in enumerate(match.scenes):
                first = position == 0
                table.add_row(
                    str(rank) if first else "",
                    f"{match.score:.4f}" if first else "",
                    f"{Path(match.video.uri).name}" if first else (f"[dim]{match.video.video_id}[/]" if position == 1 else ""),
                    *_hit_times(s, with_score=True),
                    end_section=position == len(match.scenes) - 1,
                )
    if not (response.videos or response.scenes):
        console.print("no results: index some videos first with `videosearch index PATH`")
        return 0
    console.print(table)
    console.print(f"[dim]model {response.model_id}; embed {response.embed_ms:.1f} ms, rank {response.rank_ms:.1f} ms[/]")
    return 0


def _time(seconds: float, timecode: str) -> str:
    return f"{timecode} ({seconds:.2f}s)"


def _hit_times(match, *, with_score: bool = False) -> tuple[str, str, str]:
    """(moment start, moment end, scene): where the match is, and the scene it lies in."""
    where = match.moment if match.HasField("moment") else match.scene
    scene = f"#{match.scene.index} {match.scene.start_seconds:.2f}–{match.scene.end_seconds:.2f}s"
    if with_score:
        scene += f" ({match.score:.4f})"
    return _time(where.start_seconds, where.start_timecode), _time(where.end_seconds, where.end_timecode), scene


# -- videos, jobs, stats ---------------------------------------------------------
def cmd_videos_list(args) -> int:
    stub = searcher_pb2_grpc.SearcherServiceStub(insecure_channel(args.searcher_address))
    videos, token = [], ""
    while True:
        page = _rpc(stub.ListVideos, searcher_pb2.ListVideosRequest(page_size=args.page_size, page_token=token),
                    service="searcher", address=args.searcher_address)
        videos.extend(page.videos)
        token = page.next_page_token
        if not token:
            break
    if args.json:
        print(json.dumps([MessageToDict(v, preserving_proto_field_name=True) for v in videos], indent=2))
        return 0
    table = Table(title=f"{len(videos)} indexed videos")
    for column in ("id", "file", "duration", "scenes", "moments", "resolution", "model"):
        table.add_column(column)
    for v in videos:
        table.add_row(v.video_id, v.uri, f"{v.duration_seconds:.1f}s", str(v.scene_count), str(v.moment_count or v.scene_count),
                      f"{v.width}x{v.height}", v.model_id)
    console.print(table)
    return 0


def cmd_videos_show(args) -> int:
    stub = searcher_pb2_grpc.SearcherServiceStub(insecure_channel(args.searcher_address))
    response = _rpc(stub.GetVideo, searcher_pb2.GetVideoRequest(video_id=args.video_id),
                    service="searcher", address=args.searcher_address)
    if args.json:
        print(json.dumps(MessageToDict(response, preserving_proto_field_name=True), indent=2))
        return 0
    v = response.video
    console.print(f"[bold]{v.video_id}[/]  {v.uri}\n{v.duration_seconds:.2f}s, {v.fps_numerator}/{v.fps_denominator} fps, "
                  f"{v.frame_count} frames, {v.width}x{v.height}, model {v.model_id} ({v.embedding_dim}-d), "
                  f"indexed {v.indexed_at.ToDatetime().isoformat()}Z")
    table = Table()
    for column in ("scene", "moment", "frames", "start", "end", "sampled"):
        table.add_column(column)
    moments_of: dict[int, list] = {}
    for m in response.moments:
        moments_of.setdefault(m.scene_index, []).append(m)
    for s in response.scenes:
        table.add_row(str(s.index), "", f"{s.start_frame}–{s.end_frame}", _time(s.start_seconds, s.start_timecode),
                      _time(s.end_seconds, s.end_timecode), str(s.sampled_frames))
        inner = moments_of.get(s.index, [])
        for m in inner if len(inner) > 1 else ():  # a scene that is one moment needs no second row
            table.add_row("", str(m.index), f"{m.start_frame}–{m.end_frame}", _time(m.start_seconds, m.start_timecode),
                          _time(m.end_seconds, m.end_timecode), str(m.sampled_frames))
    console.print(table)
    return 0


def cmd_videos_delete(args) -> int:
    stub = searcher_pb2_grpc.SearcherServiceStub(insecure_channel(args.searcher_address))
    response = _rpc(stub.DeleteVideo, searcher_pb2.DeleteVideoRequest(video_id=args.video_id),
                    service="searcher", address=args.searcher_address)
    console.print(f"deleted {args.video_id} ({response.deleted_scenes} scenes)")
    return 0


def cmd_jobs_list(args) -> int:
    stub = indexer_pb2_grpc.IndexerServiceStub(insecure_channel(args.indexer_address))
    page = _rpc(stub.ListIndexJobs, indexer_pb2.ListIndexJobsRequest(page_size=args.page_size),
                service="indexer", address=args.indexer_address)
    if args.json:
        print(json.dumps([MessageToDict(j, preserving_proto_field_name=True) for j in page.jobs], indent=2))
        return 0
    table = Table(title="index jobs, newest first")
    for column in ("job", "state", "progress", "video", "path", "error"):
        table.add_column(column)
    for j in page.jobs:
        table.add_row(j.job_id, indexer_pb2.JobState.Name(j.state).removeprefix("JOB_STATE_").lower(),
                      f"{j.percent:.0f}%", j.video_id, j.path, j.error)
    console.print(table)
    return 0


def cmd_jobs_cancel(args) -> int:
    stub = indexer_pb2_grpc.IndexerServiceStub(insecure_channel(args.indexer_address))
    job = _rpc(stub.CancelIndexJob, indexer_pb2.CancelIndexJobRequest(job_id=args.job_id),
               service="indexer", address=args.indexer_address).job
    console.print(f"{job.job_id}: {indexer_pb2.JobState.Name(job.state).removeprefix('JOB_STATE_').lower()}")
    return 0


def cmd_stats(args) -> int:
    stub = searcher_pb2_grpc.SearcherServiceStub(insecure_channel(args.searcher_address))
    stats = _rpc(stub.GetStats, searcher_pb2.GetStatsRequest(), service="searcher", address=args.searcher_address)
    print(json.dumps(MessageToDict(stats, preserving_proto_field_name=True, always_print_fields_with_no_presence=True), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="videosearch", description="Index videos and search them with text.")
    parser.add_argument("--indexer-address", default=os.environ.get("VIDEOSEARCH_INDEXER_ADDRESS", "127.0.0.1:50052"),
                        help="host:port of the Indexer [env VIDEOSEARCH_INDEXER_ADDRESS]")
    parser.add_argument("--searcher-address", default=os.environ.get("VIDEOSEARCH_SEARCHER_ADDRESS", "127.0.0.1:50053"),
                        help="host:port of the Searcher [env VIDEOSEARCH_SEARCHER_ADDRESS]")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="index video files or folders (recursively), with progress bars")
    index.add_argument("paths", nargs="+")
    index.add_argument("--detector", default="",
                       help="cut detector: content, adaptive, threshold, hash, or a+b (server default content)")
    index.add_argument("--threshold", type=float, default=0.0, help="ContentDetector threshold (server default 27)")
    index.add_argument("--min-scene-frames", type=int, default=0, help="shortest scene in frames (server default 15)")
    index.add_argument("--seconds-per-sample", type=float, default=0.0,
                       help="seconds of video per sampled frame (server default 1.0)")
    index.add_argument("--min-frames-per-scene", type=int, default=0, help="fewest frames sampled per scene (server default 3)")
    index.add_argument("--max-frames-per-scene", type=int, default=0, help="most frames sampled per scene (server default 160)")
    index.add_argument("--frames-per-scene", type=int, default=0,
                       help="a fixed number of frames per scene (the article's 3) instead of sampling through time")
    index.add_argument("--force", action="store_true", help="re-index files already indexed with the same model")
    index.add_argument("--no-wait", action="store_true", help="submit and print the job ids without waiting")
    index.add_argument("--json", action="store_true", help="print the finished jobs as JSON")
    index.set_defaults(func=cmd_index)

    search = commands.add_parser("search", help="rank indexed videos against a text query")
    search.add_argument("query")
    search.add_argument("--top", type=int, default=10, help="number of videos (or scenes) to return")
    search.add_argument("--scenes", type=int, default=3, help="best moments shown per video")
    search.add_argument("--mode", choices=["videos", "scenes"], default="videos")
    search.add_argument("--scoring", choices=["max", "mean"], default="max",
                        help="a video's score: its best moment (max) or the mean of its moments")
    search.add_argument("--approximate", action="store_true", help="use the approximate index when the server has one")
    search.add_argument("--json", action="store_true", help="machine-readable output")
    search.set_defaults(func=cmd_search)

    videos = commands.add_parser("videos", help="list, show or delete indexed videos").add_subparsers(dest="action", required=True)
    listing = videos.add_parser("list")
    listing.add_argument("--page-size", type=int, default=200)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_videos_list)
    show = videos.add_parser("show")
    show.add_argument("video_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_videos_show)
    delete = videos.add_parser("delete")
    delete.add_argument("video_id")
    delete.set_defaults(func=cmd_videos_delete)

    jobs = commands.add_parser("jobs", help="list or cancel index jobs").add_subparsers(dest="action", required=True)
    jobs_list = jobs.add_parser("list")
    jobs_list.add_argument("--page-size", type=int, default=50)
    jobs_list.add_argument("--json", action="store_true")
    jobs_list.set_defaults(func=cmd_jobs_list)
    cancel = jobs.add_parser("cancel")
    cancel.add_argument("job_id")
    cancel.set_defaults(func=cmd_jobs_cancel)

    stats = commands.add_parser("stats", help="counts and model of the stored collection")
    stats.set_defaults(func=cmd_stats)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        errors.print(f"[red]error:[/] {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
