"""Embedder replicas end to end: three Embedder processes behind one Indexer, one killed
with SIGKILL in the middle of an index job; and a replica serving another model refused."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from fractions import Fraction

import numpy as np
import pytest
from videosearch.common.errors import FailedPrecondition
from videosearch.demo.tokenizer import build_tiny_random_clip
from videosearch.client.embedder import EmbedderClient
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings

from ..indexer_media.made_videos import encode, shot_frame

pytestmark = pytest.mark.timeout(300)


@contextmanager
def embedder_process(model_dir, tmp_path, name: str):
    """An Embedder in its own process (so SIGKILL is real): yields (process, address, metrics port)."""
    port_file, log_file = tmp_path / f"{name}.port", tmp_path / f"{name}.log"
    with open(log_file, "w") as log:  # a file, not a pipe: nobody has to keep reading it
        process = subprocess.Popen(
            [sys.executable, "-m", "videosearch.embedder.server", "--port", "0", "--port-file", str(port_file),
             "--metrics-port", "0", "--model", str(model_dir), "--device", "cpu", "--dtype", "float32"],
            stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while "ready on" not in (text := log_file.read_text()):  # its model loaded: SERVING
            assert process.poll() is None and time.monotonic() < deadline, f"{name} did not start:\n{text}"
            time.sleep(0.05)
        metrics_port = int(re.search(r"metrics on http://[^:]+:(\d+)/metrics", text).group(1))
        yield process, f"127.0.0.1:{int(port_file.read_text())}", metrics_port
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def embed_calls(metrics_port: int) -> int:
    """EmbedImages calls the replica answered OK, from its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.findall(r'^videosearch_rpcs_total\{code="OK",method="(?:Stream)?EmbedImages",service="embedder"\} (\S+)$',
                       text, flags=re.M)
    return int(sum(float(count) for count in found))


def many_shots_video(path, shots: int = 40, frames_per_shot: int = 24):
    """Hard cuts every ``frames_per_shot`` frames: one embed call per scene, so ``shots`` calls."""
    frames = [shot_frame(shot, i, 160, 120) for shot in range(shots) for i in range(frames_per_shot)]
    path.parent.mkdir(parents=True, exist_ok=True)
    return encode(path, frames, rate=Fraction(24))


def test_an_index_job_survives_a_replica_killed_midway_and_spreads_its_calls(tiny_clip_dir, tmp_path):
    video = many_shots_video(tmp_path / "videos" / "shots.mp4")
    with ExitStack() as stack:
        replicas = [stack.enter_context(embedder_process(tiny_clip_dir, tmp_path, f"embedder{i}")) for i in range(3)]
        addresses = ",".join(address for _, address, _ in replicas)
        searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path / "searcher"),
                                                   embedder_address=addresses, ann="none"))
        stack.callback(searcher.stop, 0)
        indexer = IndexerApp.serve(IndexerSettings(
            port=0, allowed_roots=(str(video.parent),), embedder_address=addresses,
            searcher_address=searcher.address, workers=1, embed_requests_in_flight=2))
        stack.callback(indexer.stop, 0)
        client = stack.enter_context(IndexerClient(f"127.0.0.1:{indexer.port}"))

        job = client.submit(str(video), SubmitOptions(force=True, min_scene_frames=8))
        while (progress := client.get(job.job_id)).frames_embedded < 36:  # a third of the way
            assert progress.state.name == "RUNNING" or progress.state.name == "QUEUED", progress
            time.sleep(0.01)
        victim, _address, victim_metrics = replicas[1]
        calls_of_victim = embed_calls(victim_metrics)
        victim.kill()  # SIGKILL: no goodbye, in-flight calls just break
        embedded_at_kill = progress.frames_embedded
        final = client.wait(job.job_id)

        assert final.state.name == "SUCCEEDED", final
        assert final.frames_embedded > embedded_at_kill, "the kill came before the job's end"
        counts = [embed_calls(replicas[0][2]), calls_of_victim, embed_calls(replicas[2][2])]
        print(f"embed calls per replica (the middle one killed after {embedded_at_kill} of "
              f"{final.frames_embedded} frames): {counts}")
        assert min(counts) >= 3, counts
        # The victim's count is read just before the kill: calls it answered in that gap (at most
        # the Indexer's embed calls in flight) or whose answer its metrics had not yet counted are
        # missing from it, so the sum may fall short of one call per scene by that much, no more.
        in_flight = indexer.settings.embed_requests_in_flight
        assert sum(counts) >= final.scenes_found - 2 * in_flight, "every scene's frames were embedded by some replica"
        with SearcherClient(searcher.address) as store:
            assert store.stats().scene_count == final.scenes_found > 0


def test_a_replica_with_another_model_is_refused_and_never_answers(tiny_clip_dir, tmp_path, caplog):
    other_dir = build_tiny_random_clip(tmp_path / "other-clip", seed=1, image_size=32)
    settings = dict(port=0, device="cpu", dtype="float32")
    same = [serve_embedder(EmbedderSettings(model=str(tiny_clip_dir), **settings)) for _ in range(2)]
    other = serve_embedder(EmbedderSettings(model=str(other_dir), **settings))
    try:
        with EmbedderClient(same[0].address) as alone, EmbedderClient(other.address) as other_alone:
            expected = alone.embed_texts(["a red circle"])
            other_model = other_alone.model_info().model_id
            assert not np.allclose(expected, other_alone.embed_texts(["a red circle"]))
        caplog.set_level(logging.ERROR, logger="videosearch.embedder.model_pin")
        addresses = ",".join([same[0].address, other.address, same[1].address])
        with EmbedderClient(addresses) as client:
            assert client.model_info().model_id != other_model
            for _ in range(12):  # round_robin sends a third of these to the other model's replica
                np.testing.assert_allclose(client.embed_texts(["a red circle"]), expected, atol=1e-6)
        refusals = [r.getMessage() for r in caplog.records]
        assert any(other.address in m and "refused" in m and other_model in m for m in refusals), refusals
        assert any("answered with model" in m for m in refusals), "some calls reached the other replica"

        # A tie goes to the first address; once that replica is gone, every answer is another model's.
        with EmbedderClient(f"{same[0].address},{other.address}") as client:
            client.embed_texts(["a red circle"])
            same[0].stop(0)
            with pytest.raises(FailedPrecondition, match="another model"):
                client.embed_texts(["a red circle"])
    finally:
        for server in (*same, other):
            server.stop(0)
