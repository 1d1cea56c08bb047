"""A service started as its own process, for tests of what only a process shows (exit
codes, signals, the port file): waits on the service's log, never sleeps."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def service_process(module: str, args: list[str], port_file: Path, env=None) -> Iterator[tuple[subprocess.Popen, str]]:
    """Starts ``python -m module --port 0 --port-file port_file *args`` and yields (process,
    address) once it logs "listening on" (written after the port file); kills it on the way out."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", "--port-file", str(port_file), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        for line in process.stdout:
            if "listening on" in line:
                break
        else:
            raise AssertionError(f"{module} ended before listening (exit code {process.wait()})")
        yield process, f"127.0.0.1:{int(port_file.read_text())}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def stop_with_sigterm(process: subprocess.Popen) -> None:
    """SIGTERM must end the service by itself, with exit code 0 and a log line saying why."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    assert "received SIGTERM" in process.stdout.read()
