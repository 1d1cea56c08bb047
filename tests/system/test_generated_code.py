"""The committed code in services/videosearch/v1 is exactly what `make protos` generates."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_is_current(tmp_path):
    protos = sorted(str(p.relative_to(ROOT / "protos")) for p in (ROOT / "protos").rglob("*.proto"))
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", "protos", f"--python_out={tmp_path}",
         f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}", *[f"protos/{p}" for p in protos]],
        cwd=ROOT, check=True,
    )
    fresh = tmp_path / "videosearch" / "v1"
    committed = ROOT / "services" / "videosearch" / "v1"
    generated = sorted(p.name for p in fresh.iterdir())
    assert generated == sorted(p.name for p in committed.iterdir() if p.name.endswith((".py", ".pyi")) and "_pb2" in p.name)
    _, mismatch, errors = filecmp.cmpfiles(fresh, committed, generated, shallow=False)
    assert not mismatch and not errors, f"run `make protos` and commit: {mismatch or errors} differ"


def test_every_rpc_and_field_is_documented():
    for proto in (ROOT / "protos").rglob("*.proto"):
        lines = proto.read_text().splitlines()
        for number, line in enumerate(lines):
            stripped = line.strip()
            is_field = stripped.endswith(";") and "=" in stripped and not stripped.startswith(("option", "syntax", "//"))
            if stripped.startswith("rpc ") or is_field or stripped.startswith(("message ", "enum ", "service ")):
                assert lines[number - 1].strip().startswith("//"), f"{proto.name}:{number + 1} lacks a comment: {stripped}"
