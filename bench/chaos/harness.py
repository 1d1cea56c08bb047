"""Kill a service with SIGKILL in the middle of its work, again and again, and check after
each kill what a crash must never do: lose an acknowledged write, leave a partial video or
an orphan key in the Searcher's store, or leave a service that does not come back.

Used by ``make chaos`` (bench/chaos/run.py, at least 50 kills of each service) and by
tests/system/test_crash_consistency.py (10 kills of the Searcher).
"""

from __future__ import annotations

import random
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np

from videosearch.common.tensors import to_tensor
from videosearch.launcher import ServiceProcess
from videosearch.searcher.storage.fsck import check_store
from videosearch.v1 import searcher_pb2, searcher_pb2_grpc, video_pb2

HOST = "127.0.0.1"
DIM = 32
MODEL_ID = "chaos/synthetic"
STARTUP_S = 120.0


@dataclass
class KillCounts:
    """What a series of kills of one service found; every count but the first three must be 0."""

    service: str
    kills: int = 0
    acknowledged_writes: int = 0
    restarts: int = 0
    lost_writes: int = 0
    partial_videos: int = 0
    orphan_keys: int = 0
    failed_restarts: int = 0
    seconds_to_serving: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost_writes or self.partial_videos or self.orphan_keys or self.failed_restarts)

    def line(self) -> str:
        ready = sorted(self.seconds_to_serving)
        median = f"{ready[len(ready) // 2]:.2f}" if ready else "-"
        return (f"{self.service:9s} kills {self.kills:3d}  acknowledged writes {self.acknowledged_writes:5d}  "
                f"lost {self.lost_writes}  partial videos {self.partial_videos}  orphan keys {self.orphan_keys}  "
                f"failed restarts {self.failed_restarts}  median s to SERVING after restart {median}")


def start_service(name: str, module: str, args: list[str], workdir: Path) -> ServiceProcess:
    process = ServiceProcess(name, module, ["--host", HOST, *args], 0, workdir, workdir, None)
    deadline = time.monotonic() + STARTUP_S
    process.wait_for_port(deadline)
    process.wait_serving(HOST, deadline)
    return process


def restart(counts: KillCounts, round_: int, name: str, module: str, args: list[str], workdir: Path) -> ServiceProcess | None:
    """Starts the killed service again and records how long it took to serve; None if it did not."""
    started = time.monotonic()
    try:
        process = start_service(name, module, args, workdir)
    except (RuntimeError, TimeoutError) as exc:
        counts.failed_restarts += 1
        counts.problems.append(f"round {round_}: restart failed: {exc}")
        return None
    counts.restarts += 1
    counts.seconds_to_serving.append(time.monotonic() - started)
    return process


def sigkill(process: ServiceProcess) -> None:
    process.process.send_signal(signal.SIGKILL)  # no shutdown hook, no flush: a crash
    process.process.wait()
    process._log.close()


def synthetic_upsert(video_id: str, version: int, rng: np.random.Generator, *, model_id: str = MODEL_ID,
                     dim: int = DIM) -> searcher_pb2.UpsertVideoRequest:
    """A video whose uri names its write version, so the survivor of a crash can be identified."""
    scenes = int(rng.integers(1, 9))
    vectors = rng.standard_normal((scenes, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    video = video_pb2.Video(
        video_id=video_id, uri=f"/chaos/{video_id}.mp4?version={version}", duration_seconds=scenes * 1.2,
        fps_numerator=25, fps_denominator=1, frame_count=scenes * 30, width=64, height=48,
        content_sha256=f"{version:064x}", model_id=model_id, embedding_dim=dim,
    )
    return searcher_pb2.UpsertVideoRequest(
        video=video,
        scenes=[video_pb2.Scene(index=i, start_frame=30 * i, end_frame=30 * (i + 1), start_seconds=1.2 * i,
                                end_seconds=1.2 * (i + 1), sampled_frames=1) for i in range(scenes)],
        embeddings=to_tensor(vectors),
    )


class SearcherWriter(threading.Thread):
    """Upserts and deletes from a pool of video ids as fast as the Searcher answers, and keeps
    the acknowledged state: the last acknowledged version of each id (None: deleted). The one
    write in flight when the Searcher dies may or may not have landed; both are accepted."""

    def __init__(self, address: str, rng: np.random.Generator, acknowledged: dict[str, int | None], pool: int) -> None:
        super().__init__(daemon=True, name="chaos-writer")
        self._channel = grpc.insecure_channel(address)
        self._stub = searcher_pb2_grpc.SearcherServiceStub(self._channel)
        self._rng = rng
        self._pool = pool
        self.acknowledged = acknowledged
        self.in_flight: tuple[str, int | None] | None = None
        self.count = 0
        self.count_changed = threading.Condition()
        self.stopped = threading.Event()

    def run(self) -> None:
        version = max([v for v in self.acknowledged.values() if v is not None], default=0)
        while not self.stopped.is_set():
            video_id = f"video-{int(self._rng.integers(self._pool)):03d}"
            version += 1
            delete = self.acknowledged.get(video_id) is not None and self._rng.random() < 0.15
            self.in_flight = (video_id, None if delete else version)
            try:
                if delete:
                    self._stub.DeleteVideo(searcher_pb2.DeleteVideoRequest(video_id=video_id), timeout=10)
                else:
                    self._stub.UpsertVideo(synthetic_upsert(video_id, version, self._rng), timeout=10)
            except grpc.RpcError:
                return  # the Searcher is gone: this write's fate is unknown (in_flight)
            self.acknowledged[video_id] = self.in_flight[1]
            self.in_flight = None
            with self.count_changed:
                self.count += 1
                self.count_changed.notify_all()

    def wait_for(self, writes: int, timeout: float = 60.0) -> bool:
        with self.count_changed:
            return self.count_changed.wait_for(lambda: self.count >= writes or not self.is_alive(), timeout)

    def close(self) -> None:
        self.stopped.set()
        self.join(timeout=15)
        self._channel.close()


def stored_versions(address: str) -> dict[str, int]:
    """Every stored video id and the version its uri names, read through the Searcher."""
    versions: dict[str, int] = {}
    with grpc.insecure_channel(address) as channel:
        stub = searcher_pb2_grpc.SearcherServiceStub(channel)
        token = ""
        while True:
            page = stub.ListVideos(searcher_pb2.ListVideosRequest(page_size=500, page_token=token), timeout=30)
            for video in page.videos:
                versions[video.video_id] = int(video.uri.rsplit("version=", 1)[1])
            token = page.next_page_token
            if not token:
                return versions


def kill_searcher_during_writes(kills: int, *, seed: int = 0, pool: int = 40, workdir: Path | None = None,
                                log=print) -> KillCounts:
    """Starts a Searcher, writes into it from a client thread, SIGKILLs it after a random number
    of acknowledged writes, checks the store offline (fsck), restarts it and compares every
    stored video with the acknowledged state; ``kills`` times."""
    rng = np.random.default_rng(seed)
    chooser = random.Random(seed)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="chaos-searcher-"))
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    # No Embedder: writes and listings do not need one, and text search is not exercised here.
    args = ["--data-dir", str(data_dir), "--embedder-address", f"{HOST}:9", "--ann", "none"]
    counts = KillCounts("searcher")
    acknowledged: dict[str, int | None] = {}
    searcher = start_service("searcher", "videosearch.searcher.server", args, workdir)
    for round_ in range(kills):
        writer = SearcherWriter(f"{HOST}:{searcher.port}", rng, acknowledged, pool)
        writer.start()
        target = chooser.randint(3, 40)
        if not writer.wait_for(target):
            counts.problems.append(f"round {round_}: only {writer.count} writes in 60 s")
        sigkill(searcher)
        writer.close()
        counts.kills += 1
        counts.acknowledged_writes += writer.count

        report = check_store(data_dir)
        counts.partial_videos += len(report.partial_videos)
        counts.orphan_keys += len(report.orphan_keys)
        if not report.whole:
            counts.problems.append(f"round {round_}: {report.summary()}")

        searcher = restart(counts, round_, "searcher", "videosearch.searcher.server", args, workdir)
        if searcher is None:
            return counts
        lost = _compare(stored_versions(f"{HOST}:{searcher.port}"), acknowledged, writer.in_flight)
        counts.lost_writes += len(lost)
        counts.problems += [f"round {round_}: {problem}" for problem in lost]
        if writer.in_flight is not None:  # settle the unknown write to what the store kept
            video_id = writer.in_flight[0]
            acknowledged[video_id] = stored_versions(f"{HOST}:{searcher.port}").get(video_id)
        log(f"searcher kill {round_ + 1}/{kills}: {writer.count} acknowledged writes, store "
            f"{'whole' if report.whole else 'NOT whole'}, {report.videos} videos")
    searcher.stop()
    return counts


def _compare(stored: dict[str, int], acknowledged: dict[str, int | None], in_flight) -> list[str]:
    """The acknowledged writes the store does not reflect (the in-flight one may go either way)."""
    problems = []
    for video_id in sorted(set(stored) | {v for v, version in acknowledged.items() if version is not None}):
        expected = acknowledged.get(video_id)
        allowed = {expected}
        if in_flight is not None and in_flight[0] == video_id:
            allowed.add(in_flight[1])
        if stored.get(video_id) not in allowed:
            problems.append(f"{video_id}: stored version {stored.get(video_id)}, acknowledged {expected}")
    return problems
