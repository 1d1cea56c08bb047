"""Live job progress for the page: several jobs' WatchIndexJob streams merged into one
stream of server-sent events, so a page holds one HTTP connection however many jobs it
follows (browsers allow about six per site over HTTP/1.1).

Jobs are taken in submission order by at most ``watches_per_stream`` threads (the Indexer
runs jobs in that order, so the later ones have nothing to show yet; the page rendered
them queued): each job is sent as it is now (GetIndexJob), then followed by WatchIndexJob
to its end. When the browser goes away, every open watch is cancelled, which ends the
Indexer's stream and the thread at once."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import AsyncIterator

from videosearch.common.errors import VideoSearchError
from videosearch.client.indexer import IndexerClient, JobWatch
from videosearch.indexer.types import Job
from videosearch.web.services import failure_of
from videosearch_cli.output import plain

_DONE = object()
# Comment lines keep proxies and the browser from closing a quiet stream.
KEEPALIVE_S = 15.0


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def job_event(job: Job) -> bytes:
    return sse("job", plain(job) | {"finished": job.state.finished})


class JobEvents:
    """Follows ``job_ids`` on ``indexer``; iterate :meth:`stream` for the events. At most
    ``watches_at_once`` threads, each taking the next job in order when its last one ends."""

    def __init__(self, indexer: IndexerClient, job_ids: list[str], watches_at_once: int) -> None:
        self._indexer = indexer
        self._pending: queue.SimpleQueue[str] = queue.SimpleQueue()
        for job_id in job_ids:
            self._pending.put(job_id)
        self._workers = max(1, min(watches_at_once, len(job_ids)))
        self._watches: set[JobWatch] = set()
        self._lock = threading.Lock()
        self._closed = False

    async def stream(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()

        def put(item) -> None:
            try:
                loop.call_soon_threadsafe(events.put_nowait, item)
            except RuntimeError:  # the server is stopping and its loop closed
                pass

        for _ in range(self._workers):
            threading.Thread(target=self._work, args=(put,), daemon=True, name="web-watch").start()
        try:
            running = self._workers
            while running:
                try:
                    item = await asyncio.wait_for(events.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if item is _DONE:
                    running -= 1
                else:
                    yield item
            yield sse("end", {})
        finally:
            self.close()

    def _work(self, put) -> None:
        try:
            while not self._closed:
                try:
                    job_id = self._pending.get_nowait()
                except queue.Empty:
                    return
                threading.current_thread().name = f"web-watch-{job_id}"
                self._follow(job_id, put)
        finally:
            put(_DONE)

    def _follow(self, job_id: str, put) -> None:
        try:
            put(job_event(self._indexer.get(job_id)))
            watch = self._open(job_id)
            if watch is None:
                return
            try:
                for job in watch:
                    put(job_event(job))
            finally:
                with self._lock:
                    self._watches.discard(watch)
        except VideoSearchError as error:
            put(sse("job-error", {"job_id": job_id, "message": failure_of(error).message}))

    def _open(self, job_id: str) -> JobWatch | None:
        with self._lock:
            if self._closed:
                return None
            watch = self._indexer.open_watch(job_id)
            self._watches.add(watch)
            return watch

    def close(self) -> None:
        """Cancels every open watch (the page went away or the stream ended)."""
        with self._lock:
            self._closed = True
            watches = list(self._watches)
        for watch in watches:
            watch.cancel()
