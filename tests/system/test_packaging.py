"""pyproject.toml lists what the code needs: every third-party module the CLI and the client
package import is a runtime dependency (so `pip install videosearch` gives a working CLI and
Python client), every one imported under services/ is a dependency or in the `server` extra
(so `pip install "videosearch[server]"` gives services that start), every dependency and
extra is pinned in requirements.txt, and test and bench tools stay out of both."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"videosearch", "videosearch_cli"}
# Import names whose distribution is called otherwise.
DISTRIBUTION_OF = {
    "cv2": "opencv-python",
    "PIL": "pillow",
    "google": "protobuf",
    "grpc": "grpcio",
    "grpc_health": "grpcio-health-checking",
    "grpc_reflection": "grpcio-reflection",
    "grpc_tools": "grpcio-tools",
    "yaml": "pyyaml",
    "faiss": "faiss-cpu",
}
TEST_AND_BENCH_TOOLS = {"pytest", "pytest-timeout", "pytest-xdist", "pyyaml", "grpcio-tools", "hypothesis",
                        "cryptography", "matplotlib", "faiss-cpu", "psutil", "httpx", "playwright"}


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def name_of(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


# Scripts that retrain the demo models: they may also import the `train` extra.
TRAINING_SCRIPTS = ("services/videosearch/demo/train.py", "services/videosearch/demo/train_speech.py")


def third_party_imports(*folders: str, skip: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> dict[str, str]:
    """Top-level third-party modules imported under ``folders`` (or by the files ``only`` names,
    less those ``skip`` names): module -> one file importing it."""
    found: dict[str, str] = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            if path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
                continue  # generated: imports grpc and protobuf, which are checked through the servicers
            relative = path.relative_to(ROOT).as_posix()
            if relative in skip or (only and relative not in only):
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    # _typeshed: the standard library's stub-only types, imported under TYPE_CHECKING.
                    if top not in sys.stdlib_module_names and top not in FIRST_PARTY and top != "_typeshed":
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def installed_without_dependencies() -> set[str]:
    """requirements-no-deps.txt: runtime packages installed with --no-deps (rapidocr, whose
    opencv-python-headless would clash with opencv-python); their own dependencies are listed."""
    lines = (ROOT / "requirements-no-deps.txt").read_text().splitlines()
    return {name_of(line) for line in lines if line.strip() and not line.startswith("#")}


def test_every_runtime_import_is_a_dependency_or_in_the_server_extra():
    dependencies = {name_of(r) for r in project()["dependencies"]}
    server = dependencies | {name_of(r) for r in project()["optional-dependencies"]["server"]} | installed_without_dependencies()
    imports = third_party_imports("services", "clients", skip=TRAINING_SCRIPTS)
    assert "usearch" in imports and "PIL" in imports, "the scan sees the imports it must"
    missing = {module: path for module, path in imports.items() if name_of(DISTRIBUTION_OF.get(module, module)) not in server}
    assert not missing, f"imported but in neither [project].dependencies nor the server extra: {missing}"


def test_the_training_scripts_need_only_the_server_and_train_extras():
    extras = project()["optional-dependencies"]
    allowed = {name_of(r) for r in [*project()["dependencies"], *extras["server"], *extras["train"]]}
    imports = third_party_imports("services", only=TRAINING_SCRIPTS)
    assert "torch" in imports, "the scan sees the training scripts"
    missing = {module: path for module, path in imports.items() if name_of(DISTRIBUTION_OF.get(module, module)) not in allowed}
    assert not missing, f"a training script imports what neither the server nor the train extra gives: {missing}"


def test_the_client_side_needs_only_the_dependencies():
    dependencies = {name_of(r) for r in project()["dependencies"]}
    imports = third_party_imports("clients", "services/videosearch/client")
    missing = {module: path for module, path in imports.items()
               if name_of(DISTRIBUTION_OF.get(module, module)) not in dependencies}
    assert not missing, f"the CLI or the client package imports what `pip install videosearch` lacks: {missing}"
    assert not {"torch", "opencv-python", "scenedetect"} & dependencies, "the clients' install stays light"


def test_test_and_bench_tools_are_extras_not_dependencies():
    dependencies = {name_of(r) for r in project()["dependencies"]}
    extras = {name_of(r) for group in project()["optional-dependencies"].values() for r in group}
    assert not dependencies & TEST_AND_BENCH_TOOLS
    assert TEST_AND_BENCH_TOOLS <= extras
    repository_own = {"bench", "benchlib", "tests", "searcher-testlib"}  # the repository's own helpers
    for folder in ("bench", "tests"):
        # Bench scripts put sibling folders on sys.path (`from detectors.run import ...`, `from moments import ...`).
        # Tests of the benches put bench folders on sys.path the same way (`import library`).
        roots = [ROOT / folder] + ([ROOT / "bench"] if folder == "tests" else [])
        siblings = {name_of(p.stem) for root in roots for p in root.rglob("*") if p.suffix == ".py" or p.is_dir()}
        needed = {name_of(DISTRIBUTION_OF.get(m, m)) for m in third_party_imports(folder)} - repository_own - siblings
        assert needed <= dependencies | extras, f"{folder} imports what no dependency or extra provides"


def test_every_dependency_and_extra_is_pinned_in_requirements():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name_of(name)] = version
    wanted = [*project()["dependencies"], *(r for g in project()["optional-dependencies"].values() for r in g)]
    unpinned = [r for r in wanted if name_of(r) not in pins and name_of(r) != "videosearch"]  # not the extras' own
    assert not unpinned, f"not pinned in requirements.txt: {unpinned}"
