"""`videosearch index`: find the video files, submit them, and follow them with one
progress bar each. The Indexer decides which are unchanged (and records overwritten
paths); the CLI only reports it."""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from videosearch.common.errors import InvalidArgument, NotFound, PermissionDenied, ResourceExhausted
from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.client.fleet import IndexerFleet
from videosearch.indexer.types import ErrorReason, Job, JobStage, JobState
from videosearch_cli.connection import indexers_of
from videosearch_cli.output import console, errors, plain, print_json
from videosearch_cli.prune import prune

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".3gp"}
# At most this many WatchIndexJob streams at once: the Indexer runs only a few jobs at a
# time anyway, and a stream per file of a big folder starves its server threads.
WATCH_STREAMS = 4
STAGE_WORDS = {
    JobStage.HASHING: "hashing",
    JobStage.DETECTING_SCENES: "detecting scenes",
    JobStage.EMBEDDING: "embedding",
    JobStage.STORING: "storing",
    JobStage.TRANSCRIBING: "transcribing speech",
    JobStage.READING_TEXT: "reading on-screen text",
}
# A refusal of one file; anything else (an unreachable Indexer) stops the whole command.
_PER_FILE_REFUSALS = (InvalidArgument, NotFound, PermissionDenied, ResourceExhausted)


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


def submit_options(args) -> SubmitOptions:
    """The job options of ``videosearch index``: its flags are named as SubmitOptions' fields."""
    options = SubmitOptions(**{field.name: getattr(args, field.name) for field in dataclasses.fields(SubmitOptions)})
    return dataclasses.replace(options, decode_mode="sparse") if args.fast else options


def cmd_index(args) -> int:
    if not args.paths and not args.prune:
        raise CliError("give files or folders to index, or --prune")
    if args.dry_run and not args.prune:
        raise CliError("--dry-run goes with --prune: `videosearch index --prune --dry-run`")
    with indexers_of(args) as indexer:
        pruned = prune(indexer, dry_run=args.dry_run, json_output=args.json) if args.prune else None
        if not args.paths:
            if args.json:
                print_json(pruned)
            return 0
        return index_files(args, indexer, pruned)


def index_files(args, indexer: IndexerClient | IndexerFleet, pruned: dict | None) -> int:
    files = expand_paths(args.paths)
    if not files:
        raise CliError("no video files found in the given paths")
    options = submit_options(args)
    jobs: list[Job] = []
    unchanged: set[Path] = set()
    refused = 0
    try:
        with interrupt_between_calls() as interrupted:
            for path in files:
                try:
                    job = indexer.submit(str(path), options)
                except _PER_FILE_REFUSALS as exc:
                    errors.print(f"[red]skipped[/] {escape(str(path))}: {escape(str(exc))}")
                    refused += 1
                else:
                    if job.unchanged:  # stored unchanged: the Indexer succeeded it without hashing
                        unchanged.add(path)
                    else:
                        jobs.append(job)
                if interrupted():
                    raise Interrupted(jobs)
        if unchanged and not args.json:
            console.print(
                f"skipped {len(unchanged)} unchanged file{'s' * (len(unchanged) != 1)} (same size and "
                "modification time as when indexed; --force indexes them again)"
            )
        results = jobs if args.no_wait else watch_jobs(indexer, jobs, json_output=args.json)
    except KeyboardInterrupt:
        # A Ctrl-C after the last submission returned, before watching began (or a second one during a
        # submission): the jobs submitted so far run on. watch_jobs itself names the jobs still running.
        raise Interrupted(jobs) from None
    report(args, results, unchanged, pruned)
    failed = refused + sum(job.state not in (JobState.SUCCEEDED, JobState.QUEUED) for job in results)
    return 1 if failed else 0


def report(args, results: list[Job], unchanged: set[Path], pruned: dict | None) -> None:
    """The jobs as they ended (or as queued, with --no-wait), one line each or as JSON."""
    if args.json:
        print_json(
            {
                "jobs": [plain(j) for j in results],
                "unchanged": sorted(map(str, unchanged)),
                **({"prune": pruned} if pruned is not None else {}),
            }
        )
        return
    for job in results:
        if args.no_wait:
            console.print(f"{job.job_id}  {escape(job.path)}  (queued; `videosearch jobs list` follows it)")
        elif job.state is JobState.SUCCEEDED:
            note = (
                "already indexed; path recorded"
                if job.skipped
                else f"{job.scenes_found} scenes, {job.moments_found} moments"
                + (f", {job.text_spans_found} text spans" if job.text_spans_found else "")
            )
            console.print(f"[green]indexed[/] {escape(job.path)}  id {job.video_id}  ({note})")
            for warning in job.warnings:  # what of its words could not be read (the video is indexed)
                console.print(f"  [yellow]warning[/] {escape(warning)}")
        else:
            console.print(f"[red]{job.state.value}[/] {escape(job.path)}: {escape(job.error)}")


@contextlib.contextmanager
def interrupt_between_calls() -> Iterator[Callable[[], bool]]:
    """Holds a Ctrl-C until the submission in flight returns, so the id of a job the
    Indexer accepted is never lost; yields a check for "was Ctrl-C pressed". A second
    Ctrl-C interrupts at once. Only the main thread receives signals."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    pressed = threading.Event()

    def on_interrupt(signum, frame) -> None:
        if pressed.is_set():
            raise KeyboardInterrupt
        pressed.set()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield pressed.is_set
    finally:
        signal.signal(signal.SIGINT, previous)
    # A Ctrl-C that came after the body's last look at it must not be lost (the CLI would go on
    # watching as if none came): it is raised as the body ends without an exception of its own.
    if pressed.is_set():
        raise KeyboardInterrupt


def watch_jobs(indexer: IndexerClient | IndexerFleet, jobs: list[Job], *, json_output: bool) -> list[Job]:
    """One progress bar per video, fed by at most WATCH_STREAMS WatchIndexJob streams at a
    time. Ctrl-C stops watching (the jobs go on) and says how to cancel them."""
    latest = {job.job_id: job for job in jobs}
    todo: queue.SimpleQueue[Job] = queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    remaining = threading.Semaphore(0)
    with Progress(
        TextColumn("{task.fields[name]}", justify="left"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=errors if json_output else console,
        transient=False,
    ) as progress:
        tasks = {
            job.job_id: progress.add_task("", total=100, name=escape(Path(job.path).name[:40]), detail="queued")
            for job in jobs
        }

        def show(job: Job) -> None:
            latest[job.job_id] = job
            done = 100 if job.state is JobState.SUCCEEDED else job.percent
            progress.update(tasks[job.job_id], completed=done, detail=detail(job))

        def follow() -> None:
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                follow_one(indexer, job, show)
                remaining.release()

        # Daemon threads: after Ctrl-C nothing waits for a stream that may run for hours.
        for _ in range(min(WATCH_STREAMS, len(jobs))):
            threading.Thread(target=follow, daemon=True, name="watch-job").start()
        try:
            for _ in jobs:
                remaining.acquire()
        except KeyboardInterrupt:
            progress.stop()
            running = [j for j in latest.values() if not j.state.finished]
            raise Interrupted(running) from None
    return [latest[job.job_id] for job in jobs]


def follow_one(indexer: IndexerClient | IndexerFleet, job: Job, show: Callable[[Job], None]) -> None:
    last = job
    try:
        for last in indexer.watch(job.job_id):
            show(last)
    except Exception as exc:  # noqa: BLE001 - one lost stream must not hide the other jobs' results
        last = Job(
            job_id=job.job_id,
            path=job.path,
            options=job.options,
            state=JobState.FAILED,
            error=f"lost the indexer while watching: {exc}",
            error_reason=ErrorReason.INTERNAL,
        )
    show(last)


class Interrupted(Exception):
    """Ctrl-C while jobs still run on the Indexer; they go on without the CLI."""

    def __init__(self, running: list[Job]) -> None:
        ids = " ".join(job.job_id for job in running)
        lines = [f"interrupted: {len(running)} job{'s' * (len(running) != 1)} still run on the indexer:"]
        lines += [f"  {job.job_id}  {job.path}" for job in running]
        if running:
            lines.append(f"cancel them with: videosearch jobs cancel {ids}")
            lines.append("or follow them with: videosearch jobs list")
        super().__init__("\n".join(lines))


def detail(job: Job) -> str:
    if job.state is JobState.SUCCEEDED:
        return "already indexed" if job.skipped else f"done: {job.scenes_found} scenes, {job.moments_found} moments"
    if job.state is not JobState.RUNNING:
        return job.state.value
    parts = [STAGE_WORDS.get(job.stage, "")]
    if job.frames_total:
        parts.append(f"frame {job.frames_decoded}/{job.frames_total}")
    if job.scenes_found:
        parts.append(f"{job.scenes_found} scenes, {job.frames_embedded}/{job.frames_to_embed} frames embedded")
    return "  ".join(p for p in parts if p)
