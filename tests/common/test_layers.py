"""Layers import one way (docs/layout-notes.md): the engines under each service import neither
the service shell nor the generated protobuf code, the media engine imports no job machinery,
and the client package imports no server side. Read from the sources (AST), so a violation
anywhere in a module counts, inside functions too."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services" / "videosearch"
SHELL = ("server", "servicer", "metrics", "settings")


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    out = {}
    for path in sorted((SERVICES / folder).rglob("*.py")):
        bad = sorted(name for name in imports_of(path) if name.startswith(forbidden))
        if bad:
            out[str(path.relative_to(SERVICES))] = bad
    return out


@pytest.mark.parametrize(("folder", "forbidden"), [
    ("indexer/media", ("videosearch.indexer.jobs", "videosearch.v1", *(f"videosearch.indexer.{s}" for s in SHELL))),
    ("indexer/jobs", ("videosearch.v1", *(f"videosearch.indexer.{s}" for s in SHELL))),
    ("searcher/ranking", ("videosearch.v1", "videosearch.searcher.backends", "videosearch.searcher.service",
                          *(f"videosearch.searcher.{s}" for s in SHELL))),
    ("searcher/storage", ("videosearch.v1", "videosearch.searcher.ranking.index", "videosearch.searcher.service",
                          *(f"videosearch.searcher.{s}" for s in SHELL))),
    # The one factory reads the service's settings to pick a tier; nothing else of the shell.
    ("searcher/backends", ("videosearch.v1", "videosearch.searcher.service", "videosearch.searcher.server",
                           "videosearch.searcher.servicer", "videosearch.searcher.metrics")),
    ("client", ("videosearch.indexer.jobs", "videosearch.indexer.media.detectors",
                "videosearch.indexer.media.scenes",
                *(f"videosearch.{service}.{shell}" for service in ("indexer", "searcher", "embedder")
                  for shell in ("server", "servicer")))),
])
def test_a_layer_imports_nothing_above_it(folder, forbidden):
    assert not offenders(folder, forbidden), f"{folder} imports what sits above it"


def test_the_check_finds_an_import_from_above(tmp_path, monkeypatch):
    (tmp_path / "low").mkdir()
    (tmp_path / "low" / "a.py").write_text("def f():\n    from videosearch.indexer.server import IndexerApp\n")
    monkeypatch.setattr(sys.modules[__name__], "SERVICES", tmp_path)
    assert offenders("low", ("videosearch.indexer.server",)) == {"low/a.py": ["videosearch.indexer.server",
                                                                             "videosearch.indexer.server.IndexerApp"]}
