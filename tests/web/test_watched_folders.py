"""The library page's watched-folders section: the Indexer's libraries and their state,
from the real services (a note, not an error page, when the Indexer cannot say); and the
index page getting the Indexer's skip-unchanged rule like every client."""

from __future__ import annotations

import re
import socket
import time

from starlette.testclient import TestClient

from tests.cli.conftest import make_video
from tests.web.conftest import csrf, web_settings
from videosearch.client.indexer import IndexerClient
from videosearch.web.app import create_app


def test_the_library_page_shows_the_watched_folders_and_their_state(web, live_services):
    folder = live_services.root / "watched-from-the-page"
    folder.mkdir(exist_ok=True)
    with IndexerClient(live_services.addresses["indexer"]) as indexer:
        indexer.add_library(str(folder))
        try:
            deadline = time.monotonic() + 30
            while not indexer.list_libraries_page()[0][0].last_scan_time and time.monotonic() < deadline:
                time.sleep(0.05)
            page = web.get("/library")
            assert page.status_code == 200
            [row] = re.findall(r'<tr class="library-folder">(.*?)</tr>', page.text, re.S)
            assert str(folder.resolve()) in row
            assert re.search(r"<td>(idle|scanning)", row), row
            assert "not yet" not in row, "the first scan's time is shown"
            # The counters are since the Indexer started (docs/libraries.md), and the page says so.
            assert "<th>indexed since start</th><th>pruned since start</th>" in page.text
            assert "count since the Indexer started" in page.text
        finally:
            indexer.remove_library(str(folder))
    assert 'class="library-folder"' not in web.get("/library").text


def test_the_library_page_lives_without_the_indexer(live_services):
    nobody = socket.socket()
    nobody.bind(("127.0.0.1", 0))  # a port no one listens on while the test runs
    with nobody, TestClient(create_app(web_settings(live_services, indexer_address=f"127.0.0.1:{nobody.getsockname()[1]}",
                                                    rpc_timeout_s=2.0))) as web:
        page = web.get("/library")
    assert page.status_code == 200 and "watched folders unknown:" in page.text and "unreachable" in page.text


def test_indexing_from_the_page_skips_unchanged_files_without_hashing(web, live_services):
    folder = live_services.root / "page-rescan"
    make_video(folder / "clip.mp4", seed=95)
    with IndexerClient(live_services.addresses["indexer"]) as indexer:
        first = web.post("/index/jobs", data={"path": str(folder)}, headers=csrf(web) | {"hx-request": "true"})
        [job_id] = re.findall(r'data-job-id="([^"]+)"', first.text)
        assert indexer.wait(job_id).state.value == "succeeded"
        again = web.post("/index/jobs", data={"path": str(folder)}, headers=csrf(web) | {"hx-request": "true"})
        [second_id] = re.findall(r'data-job-id="([^"]+)"', again.text)
        assert "unchanged" in again.text
        job = indexer.get(second_id)
        assert job.unchanged and job.state.value == "succeeded" and "hash" not in job.stage_seconds
