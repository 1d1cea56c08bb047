"""Finds the npm-installed tools the Node and buf tests run (`make node-deps` installs them).
Absent outside CI: skip with the command that installs them; in CI: fail, since CI must run them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_CLIENT = ROOT / "clients" / "node"
TYPESCRIPT_CLIENT = ROOT / "clients" / "typescript"
BUF = ROOT / "tools" / "node_modules" / ".bin" / "buf"


def _missing(what: str) -> None:
    message = f"{what} is missing; run `make node-deps` (npm ci in tools/ and clients/node/)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message}: CI must run these tests, not skip them")
    pytest.skip(message)


def require_buf() -> Path:
    if not BUF.exists():
        _missing(str(BUF.relative_to(ROOT)))
    return BUF


def require_node_client() -> str:
    node = shutil.which("node")
    if node is None:
        _missing("node (Node.js 20 or newer)")
    if not (NODE_CLIENT / "node_modules" / "@grpc" / "grpc-js").is_dir():
        _missing("clients/node/node_modules")
    return node


def require_typescript_client() -> str:
    node = shutil.which("node")
    if node is None:
        _missing("node (Node.js 20 or newer)")
    for needed in ("ts-proto", "typescript", "@bufbuild/buf", "@grpc/grpc-js"):
        if not (TYPESCRIPT_CLIENT / "node_modules" / needed).is_dir():
            _missing(f"clients/typescript/node_modules/{needed}")
    return node
