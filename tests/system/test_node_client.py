"""The Node.js client (clients/node) against the three real services started as separate
processes with the demo model: health, an index job watched to the end, search by text
and by vector, and embedding texts and images. Also runs the client's own unit tests."""

from __future__ import annotations

import json
import math
import re
import subprocess

import pytest

from tests.system.node_tools import NODE_CLIENT, ROOT, require_node_client
from videosearch.launcher import ClusterConfig, LocalCluster

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def node():
    return require_node_client()


@pytest.fixture(scope="module")
def cluster(node, tmp_path_factory, shared_videos):
    config = ClusterConfig(
        model=str(ROOT / "models" / "demo-clip"),
        data_dir=str(tmp_path_factory.mktemp("data")),
        allowed_roots=(str(shared_videos),),
        embedder_port=0, searcher_port=0, indexer_port=0,
        extra_env={"HF_HUB_OFFLINE": "1"},
        startup_timeout_s=180,
    )
    with LocalCluster(config) as running:
        yield running


def test_node_unit_tests_pass(node):
    result = subprocess.run([node, "--test", "test/"], cwd=NODE_CLIENT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


def test_node_client_drives_every_service(node, cluster, shared_videos):
    video = shared_videos / "testvideo.mp4"
    result = subprocess.run(
        [node, "scripts/drive-services.js", cluster.address("indexer"), cluster.address("searcher"),
         cluster.address("embedder"), str(video), "a person walking"],
        cwd=NODE_CLIENT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    seen = json.loads(result.stdout)

    assert seen["health"] == {"indexer": "SERVING", "searcher": "SERVING", "embedder": "SERVING"}

    job = seen["job"]
    assert job["state"] == "JOB_STATE_SUCCEEDED" and len(job["video_id"]) == 16
    assert {"JOB_STAGE_HASHING", "JOB_STAGE_DETECTING_SCENES", "JOB_STAGE_EMBEDDING", "JOB_STAGE_STORING"} <= set(job["stages"])
    assert job["scenes_found"] >= 1 and job["frames_decoded"] > 0, "int64 frames_decoded came through as a number"
    assert job["created"] <= job["updated"], "timestamps became ISO dates"

    assert [v["video_id"] for v in seen["search_text"]["videos"]] == [job["video_id"]]

    texts = seen["embed_texts"]
    assert texts["shape"][0] == 1 and texts["shape"][1] > 0 and math.isclose(texts["norm"], 1.0, rel_tol=1e-4)
    dim, model_id = texts["shape"][1], texts["model_id"]
    assert model_id.startswith("demo-clip")

    # The vector of the same text ranks the same video with the same score as the text query.
    by_vector, by_text = seen["search_vector"]["videos"], seen["search_text"]["videos"]
    assert [v["video_id"] for v in by_vector] == [job["video_id"]]
    assert by_vector[0]["score"] == pytest.approx(by_text[0]["score"], abs=1e-3)

    images = seen["embed_images"]
    assert images["shape"] == [2, dim] and images["model_id"] == model_id and images["values"] == 2 * dim
    assert all(math.isclose(n, 1.0, rel_tol=1e-4) for n in images["norms"])
    streamed = seen["stream_embed_images"]
    assert streamed["shapes"] == [[1, dim], [1, dim]] and streamed["max_difference"] < 1e-3

    # Pages followed one moment at a time give the moments one call gives, in order.
    assert seen["pages"]["whole"] and seen["pages"]["paged"] == seen["pages"]["whole"]
    assert seen["list_videos"]["first_page"] == [job["video_id"]] and seen["list_videos"]["total_size"] >= 1

    thumbnail = seen["thumbnail"]
    assert thumbnail["jpeg_start"] == "ffd8ff" and thumbnail["bytes"] > 100, "GetSceneThumbnail's JPEG, as bytes"
    assert 0 < max(thumbnail["width"], thumbnail["height"]) <= 320 and thumbnail["seconds"] >= 0

    assert seen["bad_page_token"]["code"] == 3  # INVALID_ARGUMENT
    assert "start again without a page_token" in seen["bad_page_token"]["details"]


def test_the_example_indexes_watches_and_searches(node, cluster, shared_videos):
    # The CLI's variable names: what `videosearch-up` prints for ports that are not the defaults.
    env = {"PATH": "/usr/bin:/bin", "VIDEOSEARCH_INDEXER_ADDRESS": cluster.address("indexer"),
           "VIDEOSEARCH_SEARCHER_ADDRESS": cluster.address("searcher")}
    video = str(shared_videos / "counter.mp4")
    result = subprocess.run([node, "example.js", video, "a counter"],
                            cwd=NODE_CLIENT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "JOB_STATE_SUCCEEDED" in result.stdout and "indexed " in result.stdout
    assert video in result.stdout, "the search lists the indexed video"
    scenes = re.search(r"indexed \w+: (\d+) scenes, (\d+) moments", result.stdout)
    assert scenes and int(scenes[1]) > 0

    again = subprocess.run([node, "example.js", video, "a counter"],
                           cwd=NODE_CLIENT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"already indexed as " in again.stdout and f": {scenes[1]} scenes, {scenes[2]} moments" in again.stdout, \
        "an already-indexed file reports the stored video's counts, not the skipped job's zeros"
