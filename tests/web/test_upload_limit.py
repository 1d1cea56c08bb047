"""An upload over the page's limit is refused as it arrives: by its Content-Length before a
byte is read, or, streamed without one, as soon as the bytes received pass the limit; the
web process never spools more than the limit to its temporary folder."""

from __future__ import annotations

import http.client
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from videosearch.web.settings import ENV_PREFIX

pytestmark = pytest.mark.timeout(120)
LIMIT_MB = 1
CHUNK = b"\xff" * (256 << 10)


def _folder_bytes(folder: Path) -> int:
    total = 0
    for entry in folder.rglob("*"):
        try:
            total += entry.stat().st_size
        except OSError:
            pass  # removed meanwhile
    return total


@pytest.fixture(scope="module")
def web_process(tmp_path_factory):
    """videosearch-web with a 1 MiB upload limit and its own temporary folder; (port, that folder)."""
    folder = tmp_path_factory.mktemp("upload-limit")
    spool = folder / "tmp"
    spool.mkdir()
    port_file = folder / "web.port"
    env = {**os.environ, f"{ENV_PREFIX}_ALLOWED_ROOTS": str(folder), "TMPDIR": str(spool)}
    process = subprocess.Popen([sys.executable, "-m", "videosearch.web.server", "--port", "0", "--port-file",
                                str(port_file), "--max-upload-mb", str(LIMIT_MB)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (port_file.exists() and port_file.read_text().strip()):
        assert process.poll() is None and time.monotonic() < deadline, "the web page did not start"
        time.sleep(0.05)
    yield int(port_file.read_text()), spool
    process.terminate()
    process.wait(30)


def _csrf(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/healthz")
    answer = connection.getresponse()
    answer.read()
    cookie = answer.getheader("set-cookie")
    connection.close()
    return cookie.split(";")[0].split("=", 1)[1]


def _post(port: int, body, headers: dict[str, str]) -> tuple[int, str, float]:
    """POST /search; (status, body, seconds to the answer). Sending stops at the first refusal."""
    csrf = _csrf(port)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.monotonic()
    connection.putrequest("POST", "/search")
    for name, value in ({"content-type": "multipart/form-data; boundary=xyz", "x-csrf-token": csrf,
                         "cookie": f"vs_csrf={csrf}"} | headers).items():
        connection.putheader(name, value)
    connection.endheaders()
    try:
        for chunk in body:
            if select.select([connection.sock], [], [], 0)[0]:
                break  # answered already: read the answer before the server closes
            if "transfer-encoding" in headers:
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            else:
                connection.send(chunk)
        if "transfer-encoding" in headers:
            connection.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed while we were still sending: what we want
    answer = connection.getresponse()
    text = answer.read().decode()
    connection.close()
    return answer.status, text, time.monotonic() - started


def _multipart(total_mb: int):
    yield b'--xyz\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    for _ in range(total_mb * 4):
        yield CHUNK
    yield b"\r\n--xyz--\r\n"


def _watch(spool: Path, peak: list[int], stop: threading.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], _folder_bytes(spool))
        time.sleep(0.005)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_large_upload_is_refused_without_spooling_it(web_process, framing):
    port, spool = web_process
    size_mb = 200
    headers = ({"transfer-encoding": "chunked"} if framing == "chunked"
               else {"content-length": str(size_mb << 20)})
    peak, stop = [0], threading.Event()
    watcher = threading.Thread(target=_watch, args=(spool, peak, stop), daemon=True)
    watcher.start()
    try:
        status, text, seconds = _post(port, _multipart(size_mb), headers)
    finally:
        stop.set()
        watcher.join()
    assert status == 413, text
    assert "MiB" in text and "--max-upload-mb" in text
    assert peak[0] <= (LIMIT_MB + 1) << 20, f"{peak[0]:,} bytes spooled past the limit"
    assert seconds < 20, f"the refusal took {seconds:.1f} s"


def test_an_upload_under_the_limit_still_reaches_the_search(web_process):
    port, _ = web_process
    small = [b'--xyz\r\nContent-Disposition: form-data; name="q"\r\n\r\na red circle\r\n--xyz--\r\n']
    status, text, _ = _post(port, small, {"content-length": str(len(small[0]))})
    assert status != 413 and "request body is over" not in text
