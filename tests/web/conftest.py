"""The gateway against the three real services on port 0 (tests/system's live_services:
the tiny CLIP, a fresh Searcher store, an Indexer whose allowed root is a fresh folder),
with one small indexed video; headless Chromium (Debian's package, driven by Playwright)
for the browser tests."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient
from videosearch.client.indexer import IndexerClient
from videosearch.web.app import create_app
from videosearch.web.csrf import COOKIE as CSRF_COOKIE
from videosearch.web.settings import WebSettings

from tests.conftest import _in_ci
from tests.system.conftest import live_services  # noqa: F401  (the fixture, re-exported)

CHROMIUM = Path(os.environ.get("VIDEOSEARCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        if _in_ci():
            pytest.fail(f"{CHROMIUM} is missing; CI must have Debian's chromium (make browser-deps installs it)")
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (make browser-deps) to run the browser tests")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class IndexedVideo:
    video_id: str
    path: Path
    truth: dict


@pytest.fixture(scope="module")
def indexed_video(live_services) -> IndexedVideo:  # noqa: F811
    from videosearch.demo.videos import generate_demo_video

    path = live_services.root / "clips" / "three-scenes.webm"
    truth = generate_demo_video(path, ["a red circle", "a blue square", "a green triangle"],
                                np.random.default_rng(3), size=(160, 96), frames_per_scene=(20, 24))
    indexer = IndexerClient(live_services.addresses["indexer"])
    job = indexer.wait(indexer.submit(str(path)).job_id)
    indexer.close()
    assert job.state.value == "succeeded", job.error
    return IndexedVideo(job.video_id, path, truth)


def web_settings(live_services, **overrides) -> WebSettings:  # noqa: F811
    return WebSettings(**{
        "indexer_address": live_services.addresses["indexer"],
        "searcher_address": live_services.addresses["searcher"],
        "allowed_roots": (str(live_services.root),),
        "rpc_timeout_s": 20.0,
    } | overrides)


@pytest.fixture
def web(live_services):  # noqa: F811
    """A fresh browser session (cookies) on a gateway to the live services."""
    with TestClient(create_app(web_settings(live_services))) as client:
        yield client


def csrf(client: TestClient) -> dict[str, str]:
    """The header a page of this session sends with a POST (after one GET set the cookie)."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/healthz")
    return {"x-csrf-token": client.cookies[CSRF_COOKIE]}


@contextlib.contextmanager
def running_web(settings: WebSettings):
    """The web page on a real HTTP server (uvicorn, port 0) in a thread; yields its base URL."""
    import uvicorn

    running = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline, "the web server did not start in 30 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{running.servers[0].sockets[0].getsockname()[1]}"
    finally:
        running.should_exit = True
        thread.join(10)
