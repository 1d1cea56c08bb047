"""The indexer's modules import each other without cycles (media and scenes once did, through
imports hidden inside functions and under TYPE_CHECKING), and each imports on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import videosearch.indexer

PACKAGE = "videosearch.indexer"
SOURCE = Path(videosearch.indexer.__file__).parent

def module_name(path: Path) -> str:
    """videosearch.indexer.media.scenes for .../indexer/media/scenes.py (a package for its __init__.py)."""
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join((PACKAGE, *parts[:-1])) if parts[-1] == "__init__" else ".".join((PACKAGE, *parts))


FILES = {module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}
MODULES = sorted(FILES)


def indexer_imports(module: str) -> set[str]:
    """Every videosearch.indexer module ``module`` imports anywhere in its source: at the top,
    inside functions, under ``if TYPE_CHECKING`` (a cycle hidden there is still a cycle)."""
    tree = ast.parse(FILES[module].read_text())
    package = module if FILES[module].name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from videosearch.indexer import media" names a module; "from ...media import X" its module.
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [f"{package}.{node.module}"] if node.module else [f"{package}.{a.name}" for a in node.names]
        else:
            continue
        found |= {name for name in names if name in MODULES and name != module}
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for following in sorted(graph[node]):
            if state.get(following) == "open":
                return stack[stack.index(following):] + [following]
            if following not in state and (cycle := visit(following)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_indexer_modules_form_no_import_cycle():
    graph = {module: indexer_imports(module) for module in MODULES}
    assert f"{PACKAGE}.media.scenes" in graph[f"{PACKAGE}.media.facade"], "the facade imports the decode pass at the top"
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_the_cycle_finder_finds_the_old_media_scenes_cycle():
    old = {"media": {"scenes", "detectors"}, "scenes": {"media", "detectors"}, "detectors": {"media"}}
    assert find_cycle(old) in (["detectors", "media", "detectors"], ["detectors", "media", "scenes", "detectors"])
    assert find_cycle({"media": {"scenes"}, "scenes": {"video_file"}, "video_file": set()}) is None


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
