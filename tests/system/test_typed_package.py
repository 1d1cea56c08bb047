"""The wheel ships py.typed, so type checkers read the typed clients' annotations."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from tests.conftest import REPO_ROOT


def test_the_wheel_ships_py_typed_and_the_clients(tmp_path):
    source = tmp_path / "src"
    for name in ("pyproject.toml", "README.md"):
        source.mkdir(exist_ok=True)
        shutil.copy(REPO_ROOT / name, source / name)
    for folder in ("services", "clients"):
        shutil.copytree(REPO_ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "-w", str(tmp_path / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    [wheel] = (tmp_path / "dist").glob("videosearch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"videosearch/py.typed", "videosearch_cli/py.typed"} <= names
    assert {"videosearch/client/indexer.py", "videosearch/client/searcher.py", "videosearch/client/embedder.py"} <= names
