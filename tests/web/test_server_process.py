"""videosearch-web as a process: settings from flags and VIDEOSEARCH_WEB_* variables, port
0 with a port file, a clear refusal of a port in use, a clean exit on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from videosearch.web.settings import ENV_PREFIX, WebSettings, load

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(120)


def test_console_script_and_settings():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["videosearch-web"] == "videosearch.web.server:main"
    settings = load(["--port", "0", "--allowed-roots", "/a,/b"])
    assert settings.port == 0 and settings.allowed_roots == ("/a", "/b")
    assert WebSettings().port == 8080


def test_environment_sets_a_setting(monkeypatch):
    monkeypatch.setenv(f"{ENV_PREFIX}_SEARCHER_ADDRESS", "searcher:50053")
    assert load([]).searcher_address == "searcher:50053"


def test_starts_on_port_0_answers_and_stops_on_sigterm(tmp_path):
    port_file = tmp_path / "web.port"
    env = {**os.environ, f"{ENV_PREFIX}_ALLOWED_ROOTS": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "videosearch.web.server", "--port", "0", "--port-file",
                                str(port_file)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read().decode()
            time.sleep(0.05)
        port = int(port_file.read_text())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/htmx-2.0.11.min.js", timeout=10) as answer:
            assert answer.status == 200 and b"htmx" in answer.read(2000), "htmx ships with the package"
        taken = subprocess.run([sys.executable, "-m", "videosearch.web.server", "--port", str(port)],
                               capture_output=True, text=True, timeout=60)
        assert taken.returncode == 2 and "pick another --port" in taken.stderr
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_every_static_asset_is_local():
    """No CDN at run time: every script and stylesheet the templates load is under /static."""
    templates = (ROOT / "services" / "videosearch" / "web" / "templates").glob("*.html")
    for template in templates:
        text = template.read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, template.name
