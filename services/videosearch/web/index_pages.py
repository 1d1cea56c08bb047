"""Indexing from the page: browse the allowed roots, submit files or whole folders,
follow each job live (server-sent events from WatchIndexJob), cancel."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from videosearch.common.errors import InvalidArgument, ResourceExhausted, VideoSearchError
from videosearch.client.indexer import SubmitOptions
from videosearch.indexer.media.decode_modes import check_decode_mode
from videosearch.indexer.types import Job
from videosearch.web.events import JobEvents
from videosearch.web.files import files_to_index, list_folder

JOBS_SHOWN = 20
MAX_PATHS_PER_SUBMIT = 500
JOB_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
# "Clear finished" hides, in this browser, the jobs that had finished when it was pressed (the
# Indexer keeps them: `videosearch jobs list` still shows them).
CLEARED_COOKIE = "vs_jobs_cleared"
# The folder browser marks files already indexed; past this many stored videos it stops looking.
INDEXED_PATHS_LIMIT = 20_000


def _cleared_at(request: Request) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(request.cookies.get(CLEARED_COOKIE, ""))
    except ValueError:
        return None


def shown_jobs(jobs: list[Job], cleared_at: dt.datetime | None) -> list[Job]:
    """The jobs the table shows: all but those finished before "Clear finished" was pressed."""
    if cleared_at is None:
        return jobs
    return [j for j in jobs if not (j.state.finished and j.update_time <= cleared_at)]


def indexed_paths(searcher) -> set[str]:
    """Every stored file path (each video's locations), for the folder browser's marks."""
    paths: set[str] = set()
    token, seen = "", 0
    while seen < INDEXED_PATHS_LIMIT:
        videos, token, _ = searcher.list_videos(1000, token)
        seen += len(videos)
        paths.update(location.path for video in videos for location in video.locations if not location.missing)
        if not token:
            break
    return paths


def routes(gateway) -> list[Route]:
    streams = asyncio.Semaphore(gateway.settings.max_event_streams)

    async def index_page(request: Request) -> Response:
        folder = request.query_params.get("path", "")
        context: dict[str, object] = {
            "section": "index",
            "listing": None,
            "roots": [str(r) for r in gateway.roots],
            "jobs": [],
            "indexed": set(),
        }
        try:
            # The Indexer call first: it is what checks the visitor's token, and a folder's
            # entries are shown only to a visitor the Indexer would let index them.
            jobs, _ = await gateway.call(gateway.clients(request).indexer.list_page, JOBS_SHOWN)
            context["jobs"] = shown_jobs(jobs, _cleared_at(request))
            if folder:
                context["listing"] = await gateway.call(list_folder, folder, gateway.roots)
                context["indexed"] = await gateway.call(indexed_paths, gateway.clients(request).searcher)
        except VideoSearchError as error:
            return gateway.error(request, error, "index.html", **context)
        return gateway.render(request, "index.html", **context)

    async def submit(request: Request) -> Response:
        form = await request.form()
        picked = [str(p) for p in form.getlist("path")]
        mode = str(form.get("decode_mode") or "all")
        try:
            options = SubmitOptions(decode_mode=check_decode_mode(mode))
            if not picked:
                raise InvalidArgument("tick at least one file or folder to index")
            if len(picked) > MAX_PATHS_PER_SUBMIT:
                raise InvalidArgument(
                    f"{len(picked)} paths ticked; index at most {MAX_PATHS_PER_SUBMIT} at once "
                    "(tick their folder instead)"
                )
            files = await gateway.call(files_to_index, picked, gateway.roots)
            if not files:
                raise InvalidArgument("no video files in what you ticked")
            indexer = gateway.clients(request).indexer
            jobs = [await gateway.call(indexer.submit, str(path), options) for path in files]
        except VideoSearchError as error:
            return gateway.error(request, error)
        return gateway.render(request, "job_rows.html", jobs=jobs)

    async def cancel(request: Request) -> Response:
        try:
            job_id = _job_id(request.path_params["job_id"])
            job = await gateway.call(gateway.clients(request).indexer.cancel, job_id)
        except VideoSearchError as error:
            return gateway.error(request, error)
        return gateway.render(request, "job_rows.html", jobs=[job])

    async def clear_finished(request: Request) -> Response:
        now = dt.datetime.now(dt.timezone.utc)
        try:
            jobs, _ = await gateway.call(gateway.clients(request).indexer.list_page, JOBS_SHOWN)
        except VideoSearchError as error:
            return gateway.error(request, error)
        response = gateway.render(request, "job_rows.html", jobs=shown_jobs(jobs, now))
        response.set_cookie(
            CLEARED_COOKIE, now.isoformat(), httponly=True, samesite="strict", secure=gateway.settings.secure_cookies
        )
        return response

    async def events(request: Request) -> Response:
        try:
            job_ids = list(dict.fromkeys(_job_id(j) for j in request.query_params.getlist("job")))
            if not job_ids:
                raise InvalidArgument("name the jobs to follow: /index/events?job=ID&job=ID")
            if len(job_ids) > MAX_PATHS_PER_SUBMIT:
                raise InvalidArgument(f"follow at most {MAX_PATHS_PER_SUBMIT} jobs in one stream")
            if streams.locked():
                raise ResourceExhausted(
                    f"{gateway.settings.max_event_streams} progress streams are open; close "
                    "a tab or raise --max-event-streams"
                )
        except VideoSearchError as error:
            return gateway.error(request, error)
        follower = JobEvents(gateway.clients(request).indexer, job_ids, gateway.settings.watches_per_stream)

        async def stream():
            async with streams:
                async for chunk in follower.stream():
                    yield chunk

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"cache-control": "no-store", "x-accel-buffering": "no"}
        )

    return [
        Route("/index", index_page),
        Route("/index/jobs", submit, methods=["POST"]),
        Route("/index/jobs/clear-finished", clear_finished, methods=["POST"]),
        Route("/index/jobs/{job_id}/cancel", cancel, methods=["POST"]),
        Route("/index/events", events),
    ]


def _job_id(text: str) -> str:
    if not JOB_ID.fullmatch(text):
        raise InvalidArgument(f"{text[:80]!r} is not a job id")
    return text
