"""When the services require tokens, the page asks for one, keeps it in an HttpOnly
cookie and forwards it; a read token reads, only a write token deletes."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from starlette.testclient import TestClient
from videosearch.common.auth import new_token_line
from videosearch.common.security import ClientSecurity
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.types import SceneRecord, VideoRecord
from videosearch.web.app import TOKEN_COOKIE, create_app

from tests.web.conftest import csrf, web_settings

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def guarded(live_services, tmp_path_factory):
    """A Searcher that wants tokens, with one video stored; (address, read token, write token)."""
    folder = tmp_path_factory.mktemp("tokens")
    read_token, read_line = new_token_line("read")
    write_token, write_line = new_token_line("write")
    (folder / "tokens.txt").write_text(f"{read_line}\n{write_line}\n")
    (folder / "write.token").write_text(write_token)
    searcher = serve_searcher(SearcherSettings(
        port=0, data_dir=str(folder / "data"), embedder_address=live_services.addresses["embedder"], ann="none",
        tokens_file=str(folder / "tokens.txt")))
    rows = np.eye(1, live_services.dim, dtype=np.float32)
    video = VideoRecord("00000000000e0001", "/x/guarded.mp4", 2.0, Fraction(25), 50, 16, 16, "0" * 64,
                        live_services.model_id, live_services.dim)
    with SearcherClient(searcher.address, security=ClientSecurity(token_file=str(folder / "write.token"))) as client:
        client.upsert_video(video, [SceneRecord(0, 0, 50, 0.0, 2.0)], rows)
    yield searcher.address, read_token, write_token, folder / "write.token"
    searcher.stop(0)


@pytest.fixture
def page(live_services, guarded):
    with TestClient(create_app(web_settings(live_services, searcher_address=guarded[0]))) as client:
        yield client


def test_without_a_token_the_page_asks_for_one(page):
    answer = page.get("/library")
    assert answer.status_code == 401
    assert "The services need a token" in answer.text and 'id="token-input"' in answer.text


def test_a_read_token_reads_but_may_not_delete(page, guarded):
    read_token = guarded[1]
    saved = page.post("/token", data={"token": read_token}, headers=csrf(page))
    assert saved.status_code == 200 and saved.headers["hx-refresh"] == "true"
    cookie = saved.headers["set-cookie"]
    assert cookie.startswith(f"{TOKEN_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    library = page.get("/library")
    assert library.status_code == 200 and "guarded.mp4" in library.text and "Forget token" in library.text
    refused = page.post("/library/00000000000e0001/delete", headers=csrf(page) | {"hx-request": "true"})
    assert refused.status_code == 403 and "may not do this" in refused.text and 'id="token-input"' in refused.text
    assert "guarded.mp4" in page.get("/library").text


def test_an_unknown_token_is_refused_and_can_be_forgotten(page):
    page.post("/token", data={"token": "not-a-real-token"}, headers=csrf(page))
    assert page.get("/library").status_code == 401
    page.post("/token/forget", headers=csrf(page))
    assert TOKEN_COOKIE not in page.cookies


def test_saving_a_token_needs_the_csrf_token_and_a_sane_value(page, guarded):
    assert page.post("/token", data={"token": guarded[1]}).status_code == 403
    assert TOKEN_COOKIE not in page.cookies, "another site cannot plant its token in the visitor's session"
    assert page.post("/token", data={"token": "two\nlines"}, headers=csrf(page)).status_code == 400
    assert page.post("/token", data={"token": "x" * 5000}, headers=csrf(page)).status_code == 400


def test_a_write_token_deletes(page, guarded, live_services):
    address, _, write_token, token_file = guarded
    doomed = VideoRecord("00000000000e0002", "/x/doomed.mp4", 2.0, Fraction(25), 50, 16, 16, "0" * 64,
                         live_services.model_id, live_services.dim)
    with SearcherClient(address, security=ClientSecurity(token_file=str(token_file))) as client:
        client.upsert_video(doomed, [SceneRecord(0, 0, 50, 0.0, 2.0)], np.eye(1, live_services.dim, dtype=np.float32))
        page.post("/token", data={"token": write_token}, headers=csrf(page))
        done = page.post(f"/library/{doomed.video_id}/delete", headers=csrf(page) | {"hx-request": "true"})
        assert done.status_code == 200 and "Deleted doomed.mp4 (1 scene) from the index" in done.text
        assert doomed.video_id not in {v.video_id for v in client.iter_videos()}


def test_many_visitors_tokens_do_not_break_each_others_calls(live_services, guarded):
    """More distinct tokens than the gateway keeps channels for: a visitor whose channels were
    dropped meanwhile still gets answers."""
    from videosearch.web.services import CLIENTS_KEPT, Services

    services = Services(web_settings(live_services, searcher_address=guarded[0]))
    first = services.for_token(guarded[1])
    for n in range(CLIENTS_KEPT + 4):
        services.for_token(f"stranger-{n}")
    assert first.searcher.list_videos(10)[2] >= 1, "the dropped clients still work for a call in flight"
    again = services.for_token(guarded[1])
    assert again is not first and again.searcher.list_videos(10)[2] >= 1
    services.close()


@pytest.fixture(scope="module")
def guarded_indexer(live_services, tmp_path_factory):
    """An Indexer that wants tokens, with a folder of two videos under its (and the page's) root."""
    from videosearch.indexer.server import IndexerApp
    from videosearch.indexer.settings import IndexerSettings

    folder = tmp_path_factory.mktemp("indexer-tokens")
    read_token, read_line = new_token_line("read")
    (folder / "tokens.txt").write_text(f"{read_line}\n")
    secret = live_services.root / "private-folder"
    (secret / "inner-secret-folder").mkdir(parents=True, exist_ok=True)
    (secret / "secret-holiday.mp4").write_bytes(b"\0" * 1000)
    indexer = IndexerApp(IndexerSettings(
        port=0, allowed_roots=(str(live_services.root),), embedder_address=live_services.addresses["embedder"],
        searcher_address=live_services.addresses["searcher"], workers=1,
        tokens_file=str(folder / "tokens.txt"))).start()
    yield f"127.0.0.1:{indexer.port}", read_token, secret
    indexer.stop(0)


@pytest.mark.parametrize("cookie", [None, "a-wrong-token"])
def test_a_refused_visitor_sees_no_folder_listing(live_services, guarded_indexer, cookie):
    """The 401 page of /index?path=… names no entry of the folder (nor of a subfolder)."""
    address, read_token, secret = guarded_indexer
    with TestClient(create_app(web_settings(live_services, indexer_address=address))) as client:
        if cookie:
            client.cookies.set(TOKEN_COOKIE, cookie)
        for folder in (live_services.root, secret):
            answer = client.get("/index", params={"path": str(folder)})
            assert answer.status_code == 401, answer.text
            assert 'id="token-input"' in answer.text
            for name in ("private-folder", "secret-holiday.mp4", "inner-secret-folder", "MiB"):
                assert name not in answer.text, f"{name} shown to a visitor without a valid token"
        client.cookies.set(TOKEN_COOKIE, read_token)
        allowed = client.get("/index", params={"path": str(secret)})
        assert allowed.status_code == 200 and "secret-holiday.mp4" in allowed.text
