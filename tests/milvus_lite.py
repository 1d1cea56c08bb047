"""A milvus-lite server of its own (``python -m milvus_lite server``) for tests of several
processes over one Milvus: milvus-lite on a local path serves one process only."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def milvus_lite_server(data_dir: Path) -> Iterator[str]:
    """Yields the server's URI once it accepts a client; kills it on the way out."""
    from pymilvus import MilvusClient

    port = free_port()
    log = open(data_dir.parent / f"{data_dir.name}.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir),
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                MilvusClient(uri=uri).close()
                break
            except Exception:  # noqa: BLE001 - still starting
                assert server.poll() is None and time.monotonic() < deadline, \
                    (data_dir.parent / f"{data_dir.name}.log").read_text()
                time.sleep(0.2)
        yield uri
    finally:
        server.kill()
        server.wait()
        log.close()
