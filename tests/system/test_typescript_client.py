"""The TypeScript client (clients/typescript): code generated from protos/ by ts-proto through
`buf generate` (the committed code is what the generator makes now), type-checked by `tsc`
(strict), and run against the three real services with the demo model: index and watch a
video, search, page, list, and fetch a scene's thumbnail, addresses from the CLI's variables."""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess

import pytest

from tests.system.node_tools import ROOT, TYPESCRIPT_CLIENT, require_typescript_client
from videosearch.launcher import ClusterConfig, LocalCluster

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> str:
    """node, after `tsc` compiled the client (a type error fails here)."""
    node = require_typescript_client()
    result = subprocess.run([str(TYPESCRIPT_CLIENT / "node_modules" / ".bin" / "tsc"), "-p", "tsconfig.json"],
                            cwd=TYPESCRIPT_CLIENT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return node


def test_the_committed_code_is_what_buf_generate_makes(tmp_path):
    require_typescript_client()
    copy = tmp_path / "typescript"
    shutil.copytree(TYPESCRIPT_CLIENT, copy, ignore=shutil.ignore_patterns("node_modules", "dist", "gen"), symlinks=True)
    (copy / "node_modules").symlink_to(TYPESCRIPT_CLIENT / "node_modules")
    result = subprocess.run([str(copy / "node_modules" / ".bin" / "buf"), "generate", str(ROOT / "protos"),
                             "--template", "buf.gen.yaml"], cwd=copy, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    differ = filecmp.dircmp(copy / "src" / "gen", TYPESCRIPT_CLIENT / "src" / "gen")

    def changed(cmp) -> list[str]:
        return cmp.diff_files + cmp.left_only + cmp.right_only + [f for sub in cmp.subdirs.values() for f in changed(sub)]

    assert changed(differ) == [], "run `make ts-client` and commit clients/typescript/src/gen"


@pytest.fixture(scope="module")
def cluster(built, tmp_path_factory, shared_videos):
    config = ClusterConfig(
        model=str(ROOT / "models" / "demo-clip"), data_dir=str(tmp_path_factory.mktemp("data")),
        allowed_roots=(str(shared_videos),), embedder_port=0, searcher_port=0, indexer_port=0,
        extra_env={"HF_HUB_OFFLINE": "1"}, startup_timeout_s=180)
    with LocalCluster(config) as running:
        yield running


def test_the_typed_client_indexes_watches_searches_pages_and_fetches_a_thumbnail(built, cluster, shared_videos):
    video = str(shared_videos / "testvideo.mp4")
    env = {"PATH": "/usr/bin:/bin", "VIDEOSEARCH_INDEXER_ADDRESS": cluster.address("indexer"),
           "VIDEOSEARCH_SEARCHER_ADDRESS": cluster.address("searcher"),
           "VIDEOSEARCH_EMBEDDER_ADDRESS": cluster.address("embedder")}
    result = subprocess.run([built, "dist/drive-services.js", video, "a person walking"], cwd=TYPESCRIPT_CLIENT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    seen = json.loads(result.stdout)

    job = seen["job"]
    assert job["states"][-1] == "JOB_STATE_SUCCEEDED" and len(job["videoId"]) == 16
    assert job["scenesFound"] >= 1 and int(job["framesDecoded"]) > 0, "int64 as bigint, exact"
    assert job["created"].endswith("Z"), "Timestamp as Date"
    assert seen["searchText"] == [{"videoId": job["videoId"], "uri": video, "score": seen["searchText"][0]["score"]}]
    assert seen["pages"]["whole"] and seen["pages"]["paged"] == seen["pages"]["whole"]
    assert seen["listVideos"] == {"firstPage": [job["videoId"]], "totalSize": 1}
    thumbnail = seen["thumbnail"]
    assert thumbnail["jpegStart"] == "ffd8ff" and thumbnail["bytes"] > 100
    assert 0 < max(thumbnail["width"], thumbnail["height"]) <= 320
