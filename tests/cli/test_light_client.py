"""The light client package and the CLI import without the services' engines: a user who only
wants the CLI or the Python client installs neither torch nor OpenCV nor PySceneDetect."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "transformers", "cv2", "scenedetect", "av", "plyvel", "usearch", "pymilvus", "watchfiles")

_IMPORT_ALL = """
import importlib, json, pkgutil, sys
import videosearch.client, videosearch_cli
for module in pkgutil.iter_modules(videosearch_cli.__path__, "videosearch_cli."):
    importlib.import_module(module.name)
print(json.dumps(sorted(sys.modules)))
"""


def test_the_client_package_and_the_cli_import_no_engine():
    result = subprocess.run([sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "videosearch_cli.main" in loaded and "videosearch.client.searcher" in loaded, "the check saw the imports"
    assert not [m for m in HEAVY if m in loaded], (
        f"engines loaded by a client import: {[m for m in HEAVY if m in loaded]}"
    )
    assert not [m for m in loaded if m.startswith("videosearch.indexer.jobs")], (
        "the CLI must not import the Indexer's jobs"
    )
    assert not [m for m in loaded if m.endswith((".server", ".servicer"))], "a client imports no service shell"


def test_the_check_sees_an_engine_import():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _IMPORT_ALL.replace(
                "import videosearch.client,", "import videosearch.indexer.media.detectors, videosearch.client,"
            ),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert {"cv2", "scenedetect"} <= set(json.loads(result.stdout.strip().splitlines()[-1]))
