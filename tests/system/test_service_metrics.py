"""Each service's own metrics move after real work (an index job over the three services,
a text search), and --log-format json writes one JSON object a line."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from videosearch.embedder.server import EmbedderServer
from videosearch.embedder.settings import EmbedderSettings
from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.server import SearcherServer
from videosearch.searcher.settings import SearcherSettings

pytestmark = pytest.mark.timeout(300)


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one /metrics endpoint."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def measured(tiny_clip_dir, shared_videos, tmp_path_factory):
    embedder = EmbedderServer.serve(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32", metrics_port=0))
    searcher = SearcherServer.serve(SearcherSettings(
        port=0, data_dir=str(tmp_path_factory.mktemp("searcher")), embedder_address=embedder.address, ann="none",
        metrics_port=0))
    indexer = IndexerApp.serve(IndexerSettings(
        port=0, allowed_roots=(str(shared_videos),), embedder_address=embedder.address,
        searcher_address=searcher.address, workers=1, metrics_port=0))
    yield {"embedder": embedder, "searcher": searcher, "indexer": indexer}
    for app in (indexer, searcher, embedder):
        app.stop(0)


def test_each_service_metrics_move_after_an_index_job_and_a_search(measured, shared_videos):
    ports = {name: app.metrics_port for name, app in measured.items()}
    before = {name: scrape(port) for name, port in ports.items()}
    with IndexerClient(f"127.0.0.1:{measured['indexer'].port}") as indexer:
        job = indexer.wait(indexer.submit(str(shared_videos / "counter.mp4"), SubmitOptions(force=True)).job_id)
    assert job.state.name == "SUCCEEDED" and job.frames_decoded > 0
    with SearcherClient(measured["searcher"].address) as searcher:
        searcher.search(text="a number on a wall")
        stats = searcher.stats()
    after = {name: scrape(port) for name, port in ports.items()}

    def moved(service: str, name: str, **labels) -> float:
        return value(after[service], name, **labels) - value(before[service], name, **labels)

    # Embedder: the job's frames went through forward passes.
    assert moved("embedder", "videosearch_embedder_images_total") == job.frames_embedded
    assert moved("embedder", "videosearch_embedder_batch_images_sum") == job.frames_embedded
    assert moved("embedder", "videosearch_embedder_queue_wait_seconds_count") >= 1
    assert value(after["embedder"], "videosearch_embedder_images_per_second") > 0

    # Indexer: one more job succeeded, its frames and stages counted.
    assert moved("indexer", "videosearch_indexer_jobs", state="succeeded") == 1
    assert value(after["indexer"], "videosearch_indexer_jobs", state="running") == 0
    assert moved("indexer", "videosearch_indexer_frames_decoded_total") == job.frames_decoded
    for stage in job.stage_seconds:
        assert moved("indexer", "videosearch_indexer_stage_seconds_count", stage=stage) == 1, stage

    # Searcher: the collection's size as GetStats says, one ranked text query, no ANN index (--ann none).
    assert value(after["searcher"], "videosearch_searcher_scenes") == stats.scene_count > 0
    assert value(after["searcher"], "videosearch_searcher_videos") == stats.video_count == 1
    assert moved("searcher", "videosearch_searcher_query_seconds_count", part="rank") == 1
    assert moved("searcher", "videosearch_searcher_query_seconds_count", part="embed") == 1
    assert value(after["searcher"], "videosearch_searcher_approximate_index_ready") == 0


def test_json_log_lines_parse_and_a_bad_format_is_a_usage_error(tmp_path):
    command = [sys.executable, "-m", "videosearch.searcher.server", "--port", "0", "--data-dir", str(tmp_path / "data"),
               "--ann", "none", "--embedder-address", ""]
    process = subprocess.Popen([*command, "--log-format", "json"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    lines = []
    try:
        for line in process.stdout:
            lines.append(json.loads(line))  # every line, not just some: a stray text line fails here
            if "ready on" in lines[-1]["message"]:
                break
    finally:
        process.kill()
        process.wait()
    assert lines and {"time", "level", "logger", "message"} <= set(lines[-1])
    assert lines[-1]["logger"] == "videosearch.common.service" and lines[-1]["level"] == "INFO"

    bad = subprocess.run([*command, "--log-format", "xml"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--log-format must be one of text, json" in bad.stderr
