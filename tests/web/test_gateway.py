"""The gateway's pages, media and actions against the three real services (one
indexed demo video), through Starlette's TestClient."""

from __future__ import annotations

import io
import json
import os
import re
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image
from videosearch.client.indexer import IndexerClient
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SceneRecord, VideoLocation, VideoRecord

from tests.web.conftest import csrf

pytestmark = pytest.mark.timeout(300)


def tiles(html: str) -> list[tuple[str, int, float]]:
    """(video id, scene, start seconds) of every tile, in page order."""
    return [(m[0], int(m[1]), float(m[2])) for m in
            re.findall(r'class="tile" data-video-id="([^"]+)" data-scene="(\d+)" data-start="([^"]+)"', html)]


# -- search ------------------------------------------------------------------------------------
def test_text_search_groups_scene_tiles_by_video(web, indexed_video):
    page = web.get("/search", params={"q": "a red circle"})
    assert page.status_code == 200
    # Other tests of this module index more videos; the tiny random CLIP ranks them anyhow.
    found = [tile for tile in tiles(page.text) if tile[0] == indexed_video.video_id]
    assert found
    starts = {s["index"]: s["start_time"] for s in indexed_video.truth["scenes"]}
    for _, scene, start in found:
        assert start == pytest.approx(starts[scene], abs=0.05), "a tile plays from its scene's start"
    assert f'data-media="/media/{indexed_video.video_id}"' in page.text
    assert "score" in page.text and "three-scenes.webm" in page.text


def test_htmx_gets_only_the_results(web, indexed_video):
    fragment = web.get("/search", params={"q": "a blue square"}, headers={"hx-request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and tiles(fragment.text)


def test_thumbnails_are_the_scenes_jpegs(web, indexed_video):
    for scene in range(len(indexed_video.truth["scenes"])):
        answer = web.get(f"/thumb/{indexed_video.video_id}/{scene}")
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
        image = Image.open(io.BytesIO(answer.content))
        assert image.format == "JPEG" and max(image.size) <= 320
    missing = web.get(f"/thumb/{indexed_video.video_id}/99")
    assert missing.status_code == 404 and missing.headers["content-type"] == "image/svg+xml"
    assert web.get("/thumb/0123456789abcdef/0").status_code == 404


def test_more_like_this_leaves_out_the_scene_itself(web, indexed_video):
    page = web.get("/search", params={"video_id": indexed_video.video_id, "scene": "1"})
    assert page.status_code == 200 and "Showing scenes like scene 1" in page.text  # from 0, as the CLI
    found = tiles(page.text)
    assert found and (indexed_video.video_id, 1) not in {(v, s) for v, s, _ in found}


def test_similar_videos_leaves_out_the_video_itself(web, live_services, indexed_video):
    other = VideoRecord("00000000000f0002", "/x/similar.mp4", 2.0, Fraction(25), 50, 16, 16, "0" * 64,
                        live_services.model_id, live_services.dim)
    with SearcherClient(live_services.addresses["searcher"]) as searcher:
        searcher.upsert_video(other, [SceneRecord(0, 0, 50, 0.0, 2.0)], _unit_rows(1, live_services.dim))
        try:
            page = web.get("/search", params={"video_id": indexed_video.video_id})
            assert page.status_code == 200 and "Showing videos like three-scenes.webm" in page.text
            found = {video for video, _, _ in tiles(page.text)}
            assert other.video_id in found and indexed_video.video_id not in found
            assert f'href="/search?video_id={other.video_id}">Similar videos' in page.text
        finally:
            searcher.delete_video(other.video_id)


def test_image_search_takes_an_upload_and_refuses_what_is_not_an_image(web, indexed_video):
    buffer = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), (220, 30, 30), np.uint8)).save(buffer, "PNG")
    answer = web.post("/search", files={"image": ("query.png", buffer.getvalue(), "image/png")},
                      headers=csrf(web) | {"hx-request": "true"})
    assert answer.status_code == 200 and tiles(answer.text)
    bad = web.post("/search", files={"image": ("query.png", b"not a picture", "image/png")},
                   headers=csrf(web) | {"hx-request": "true"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text


def test_filters_reach_the_searcher(web, indexed_video):
    kept = web.get("/search", params={"q": "a red circle", "folder": str(indexed_video.path.parent)})
    assert tiles(kept.text)
    gone = web.get("/search", params={"q": "a red circle", "folder": "/nowhere", "min_duration": "0"})
    assert gone.status_code == 200 and not tiles(gone.text) and "No matches" in gone.text
    short = web.get("/search", params={"q": "a red circle", "max_duration": "0.5"})
    assert not tiles(short.text)
    bad = web.get("/search", params={"q": "a red circle", "min_duration": "soon"})
    assert bad.status_code == 400 and "must be a number" in bad.text
    crossed = web.get("/search", params={"q": "x", "min_duration": "10", "max_duration": "1"})
    assert crossed.status_code == 400, "the Searcher's INVALID_ARGUMENT is the page's 400"


# -- the player's file ---------------------------------------------------------------------------
def test_media_serves_the_indexed_file_with_ranges(web, indexed_video):
    data = indexed_video.path.read_bytes()
    whole = web.get(f"/media/{indexed_video.video_id}")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "video/webm" and whole.headers["accept-ranges"] == "bytes"
    part = web.get(f"/media/{indexed_video.video_id}", headers={"range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = web.get(f"/media/{indexed_video.video_id}", headers={"range": f"bytes={len(data) - 10}-"})
    assert tail.content == data[-10:]
    assert web.get(f"/media/{indexed_video.video_id}", headers={"range": f"bytes={len(data) + 5}-"}).status_code == 416


@pytest.mark.parametrize("name", [
    "..%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "0123456789abcdef", "a" * 65,
    "%00", "abc%00def", "..%5C..%5Cetc%5Cpasswd",
])
def test_media_answers_404_to_anything_but_an_indexed_video_id(web, indexed_video, name):
    answer = web.get(f"/media/{name}")
    assert answer.status_code == 404 and b"root:" not in answer.content


@pytest.mark.parametrize("path", ["/media/..", "/media/../../../etc/passwd", "/media/....//....//etc//passwd",
                                  "/media//etc/passwd"])
def test_media_paths_with_slashes_never_reach_a_file(web, indexed_video, path):
    answer = web.get(path)  # the client or the router makes these another page, or none
    assert not answer.headers["content-type"].startswith("video/") and b"root:" not in answer.content


def test_media_refuses_a_stored_path_outside_the_roots_or_changed(web, live_services, indexed_video, tmp_path):
    """A write-token holder can store any path in a video record; the page plays only
    regular files under its roots, of the size they were indexed at."""
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"secret" * 100)
    link = live_services.root / "link-out.mp4"
    link.symlink_to(outside)
    changed = live_services.root / "changed.mp4"
    changed.write_bytes(b"x" * 50)
    cases = {"0000000000000a01": [VideoLocation("/etc/passwd")], "0000000000000a02": [VideoLocation(str(outside))],
             "0000000000000a03": [VideoLocation(str(link))], "0000000000000a04": [VideoLocation(str(live_services.root))],
             "0000000000000a05": [VideoLocation(str(changed), size_bytes=999)],
             "0000000000000a06": [VideoLocation(str(indexed_video.path), missing=True)]}
    with SearcherClient(live_services.addresses["searcher"]) as searcher:
        for video_id, locations in cases.items():
            video = VideoRecord(video_id, locations[0].path, 2.0, Fraction(25), 50, 16, 16, "0" * 64,
                                live_services.model_id, live_services.dim, locations=tuple(locations))
            searcher.upsert_video(video, [SceneRecord(0, 0, 50, 0.0, 2.0)], _unit_rows(1, live_services.dim))
        try:
            for video_id in cases:
                answer = web.get(f"/media/{video_id}")
                assert answer.status_code == 404, video_id
                assert b"secret" not in answer.content and b"root:" not in answer.content
        finally:
            for video_id in cases:
                searcher.delete_video(video_id)


def _unit_rows(n: int, dim: int) -> np.ndarray:
    rows = np.random.default_rng(0).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_watch_page_starts_the_player_at_the_scene(web, indexed_video):
    scene = indexed_video.truth["scenes"][2]
    page = web.get(f"/watch/{indexed_video.video_id}", params={"scene": 2, "t": scene["start_time"]})
    assert page.status_code == 200
    assert f'src="/media/{indexed_video.video_id}#t={scene["start_time"]}"' in page.text
    assert web.get("/watch/0123456789abcdef").status_code == 404


# -- library -------------------------------------------------------------------------------------
def test_library_shows_every_scene_as_a_filmstrip(web, indexed_video):
    page = web.get("/library")
    assert page.status_code == 200
    scenes = [s for v, s, _ in tiles(page.text) if v == indexed_video.video_id]
    assert scenes == list(range(len(indexed_video.truth["scenes"])))
    assert f'hx-post="/library/{indexed_video.video_id}/delete"' in page.text


def test_delete_needs_the_csrf_token_and_then_deletes(web, live_services, tmp_path):
    with SearcherClient(live_services.addresses["searcher"]) as searcher:
        video = VideoRecord("00000000000d0001", "/x/doomed.mp4", 2.0, Fraction(25), 50, 16, 16, "0" * 64,
                            live_services.model_id, live_services.dim)
        searcher.upsert_video(video, [SceneRecord(0, 0, 50, 0.0, 2.0)], _unit_rows(1, live_services.dim))
        web.get("/library")  # the session gets its cookie
        assert web.post(f"/library/{video.video_id}/delete").status_code == 403
        assert web.post(f"/library/{video.video_id}/delete", headers={"x-csrf-token": "forged"}).status_code == 403
        cross = csrf(web) | {"origin": "https://evil.example"}
        assert web.post(f"/library/{video.video_id}/delete", headers=cross).status_code == 403
        assert searcher.get_video(video.video_id)[0].video_id == video.video_id, "a refused delete deletes nothing"
        done = web.post(f"/library/{video.video_id}/delete", headers=csrf(web) | {"hx-request": "true"})
        assert done.status_code == 200 and "Deleted doomed.mp4 (1 scene)" in done.text
        assert video.video_id not in {v.video_id for v in searcher.iter_videos()}
        again = web.post(f"/library/{video.video_id}/delete", headers=csrf(web) | {"hx-request": "true"})
        assert again.status_code == 404 and again.headers["hx-retarget"] == "#messages"


def test_the_csrf_cookie_is_httponly_and_strict(live_services):
    from starlette.testclient import TestClient
    from videosearch.web.app import create_app

    from tests.web.conftest import web_settings

    with TestClient(create_app(web_settings(live_services))) as client:
        cookie = client.get("/").headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "default-src 'self'" in client.get("/").headers["content-security-policy"]


# -- indexing ------------------------------------------------------------------------------------
def test_browse_lists_folders_and_videos_only_under_the_roots(web, live_services, indexed_video, tmp_path):
    (live_services.root / "notes.txt").write_text("not a video")
    (tmp_path / "outside.mp4").write_bytes(b"0")
    (live_services.root / "escape").symlink_to(tmp_path, target_is_directory=True)
    page = web.get("/index", params={"path": str(live_services.root)})
    assert page.status_code == 200
    assert "clips/" in page.text and "notes.txt" not in page.text and "escape" not in page.text
    inside = web.get("/index", params={"path": str(indexed_video.path.parent)})
    assert "three-scenes.webm" in inside.text
    for path in (str(live_services.root / ".." / ".."), "/etc", str(live_services.root / "escape"), str(tmp_path)):
        refused = web.get("/index", params={"path": path})
        assert refused.status_code == 403 and "passwd" not in refused.text
    assert web.get("/index", params={"path": str(live_services.root) + "\x00"}).status_code == 400


def test_the_index_form_sends_its_decode_mode_and_refuses_an_unknown_one(web, live_services):
    page = web.get("/index", params={"path": str(live_services.root)})
    assert 'name="decode_mode"' in page.text and 'value="keyframes"' in page.text and 'value="sparse"' in page.text
    refused = web.post("/index/jobs", data={"path": str(live_services.root), "decode_mode": "fastest"},
                       headers=csrf(web) | {"hx-request": "true"})
    assert refused.status_code == 400 and "use all" in refused.text and "keyframes" in refused.text


def test_index_a_folder_and_follow_its_jobs_as_server_sent_events(web, live_services):
    from videosearch.demo.videos import generate_demo_video

    folder = live_services.root / "new"
    for n, captions in enumerate((["a red star", "a blue circle"], ["an orange cross", "a green square"])):
        generate_demo_video(folder / f"new-{n}.mp4", captions, np.random.default_rng(n), size=(96, 64),
                            frames_per_scene=(16, 18))
    refused = web.post("/index/jobs", data={"path": "/etc"}, headers=csrf(web) | {"hx-request": "true"})
    assert refused.status_code == 403 and refused.headers["hx-retarget"] == "#messages"
    answer = web.post("/index/jobs", data={"path": str(folder)}, headers=csrf(web) | {"hx-request": "true"})
    assert answer.status_code == 200
    job_ids = re.findall(r'data-job-id="([^"]+)"', answer.text)
    assert len(job_ids) == 2
    events = []
    with web.stream("GET", "/index/events", params=[("job", j) for j in job_ids]) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: "):
                events.append((event, json.loads(line[len("data: "):])))
            if event == "end":
                break
    jobs = [data for event, data in events if event == "job"]
    finished = {job["job_id"]: job for job in jobs if job["finished"]}
    assert set(finished) == set(job_ids) and {j["state"] for j in finished.values()} == {"succeeded"}
    assert any(not job["finished"] for job in jobs), "progress arrives before the end"
    for job_id in job_ids:  # each job's percent never goes back
        percents = [job["percent"] for job in jobs if job["job_id"] == job_id]
        assert percents == sorted(percents) and percents[-1] == 100.0
    cancel = web.post(f"/index/jobs/{job_ids[0]}/cancel", headers=csrf(web) | {"hx-request": "true"})
    assert cancel.status_code == 409, "a finished job cannot be cancelled: the Indexer's FAILED_PRECONDITION"
    assert web.get("/index/events", params={"job": "../x"}).status_code == 400
    assert web.get("/index/events").status_code == 400


def test_cancel_a_queued_job_from_the_page(web, live_services):
    from videosearch.demo.videos import generate_demo_video

    folder = live_services.root / "to-cancel"
    for n in range(3):  # one worker: the later jobs wait in the queue
        generate_demo_video(folder / f"c-{n}.mp4", ["a red star", "a blue circle"], np.random.default_rng(10 + n),
                            size=(96, 64), frames_per_scene=(16, 18))
    answer = web.post("/index/jobs", data={"path": str(folder)}, headers=csrf(web) | {"hx-request": "true"})
    *others, last = re.findall(r'data-job-id="([^"]+)"', answer.text)
    cancelled = web.post(f"/index/jobs/{last}/cancel", headers=csrf(web) | {"hx-request": "true"})
    assert cancelled.status_code == 200 and 'data-state="cancelled"' in cancelled.text
    jobs_page = web.get("/index")
    assert f'id="job-{last}"' in jobs_page.text
    # The jobs left running store their videos: wait for them, or a later test of this module
    # (the services are shared) sees the collection change under it (a search paged while a
    # video lands shows one video twice: offset pages).
    with IndexerClient(live_services.addresses["indexer"]) as indexer:
        assert {indexer.wait(job_id).state.value for job_id in others} == {"succeeded"}


def test_pages_say_when_a_service_is_down(live_services):
    from starlette.testclient import TestClient
    from videosearch.web.app import create_app

    from tests.web.conftest import web_settings

    settings = web_settings(live_services, searcher_address="127.0.0.1:1", indexer_address="127.0.0.1:1",
                            rpc_timeout_s=2.0)
    with TestClient(create_app(settings)) as client:
        for url in ("/search?q=a+red+circle", "/library", "/index"):
            page = client.get(url)
            assert page.status_code == 503 and "unreachable" in page.text and 'role="alert"' in page.text
        assert client.get("/healthz").status_code == 200, "the gateway itself stays up"


def test_an_rpc_the_services_do_not_offer_says_so(live_services):
    """A server without the Searcher's service (here the Embedder) answers UNIMPLEMENTED:
    the page says the services do not offer it, and a thumbnail becomes a placeholder."""
    from starlette.testclient import TestClient
    from videosearch.web.app import create_app

    from tests.web.conftest import web_settings

    settings = web_settings(live_services, searcher_address=live_services.addresses["embedder"])
    with TestClient(create_app(settings)) as client:
        page = client.get("/search", params={"q": "a red circle"})
        assert page.status_code == 501 and "do not offer this yet (UNIMPLEMENTED)" in page.text
        thumb = client.get("/thumb/0123456789abcdef/0")
        assert thumb.status_code == 501 and b"thumbnail unavailable" in thumb.content


def test_clip_of_a_scene(web, indexed_video, tmp_path):
    """The scene as an MP4 the browser plays (the CLI's clip export, issue 9), exactly its
    frames; never a clip of a video or scene that is not indexed."""
    import cv2

    answer = web.get(f"/clip/{indexed_video.video_id}/1")
    assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
    assert "three-scenes-scene2.mp4" in answer.headers["content-disposition"]
    clip = tmp_path / "clip-from-the-page.mp4"
    clip.write_bytes(answer.content)
    capture = cv2.VideoCapture(str(clip))
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    codec = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode()
    capture.release()
    scene = indexed_video.truth["scenes"][1]
    assert frames == scene["end_frame"] - scene["start_frame"] and codec in ("avc1", "h264")
    assert web.get(f"/clip/{indexed_video.video_id}/99").status_code == 404
    assert web.get("/clip/0123456789abcdef/0").status_code == 404
    assert web.get(f"/clip/{indexed_video.video_id}/-1").status_code == 404


def test_bad_search_requests_get_400_with_what_to_do(web, indexed_video):
    two = web.post("/search", files=[("image", ("a.png", b"1", "image/png")), ("image", ("b.png", b"2", "image/png"))],
                   headers=csrf(web))
    assert two.status_code == 400
    altered = web.get("/search", params={"q": "a red circle", "page_token": "not-a-token"})
    assert altered.status_code == 400 and "page_token" in altered.text
    assert web.get("/search", params={"video_id": indexed_video.video_id, "scene": "two"}).status_code == 400
    unknown = web.get("/search", params={"video_id": "0123456789abcdef", "scene": "0"})
    assert unknown.status_code == 404
    assert web.get("/search", params={"q": "x" * 1001}).status_code == 400
    assert web.get("/search", params={"q": "a", "indexed_after": "yesterday"}).status_code == 400


def test_more_results_pages_on_without_repeating_a_video(live_services, indexed_video):
    from starlette.testclient import TestClient
    from videosearch.web.app import create_app

    from tests.web.conftest import web_settings

    other = VideoRecord("00000000000f0001", "/x/other.mp4", 2.0, Fraction(25), 50, 16, 16, "0" * 64,
                        live_services.model_id, live_services.dim)
    searcher = SearcherClient(live_services.addresses["searcher"])
    searcher.upsert_video(other, [SceneRecord(0, 0, 50, 0.0, 2.0)], _unit_rows(1, live_services.dim))
    with searcher, TestClient(create_app(web_settings(live_services, results_per_page=1))) as client:
        seen = []
        url = "/search?q=a+red+circle"
        while url and len(seen) < 10:
            page = client.get(url)
            assert page.status_code == 200
            seen.append({video for video, _, _ in tiles(page.text)})
            link = re.search(r'class="more-results"><a href="([^"]+)"', page.text)
            url = link[1].replace("&amp;", "&") if link else ""
        assert len(seen) >= 2 and all(len(videos) == 1 for videos in seen)
        flat = [video for videos in seen for video in videos]
        assert len(flat) == len(set(flat)), "each page brings other videos"
        assert {indexed_video.video_id, other.video_id} <= set(flat)
        searcher.delete_video(other.video_id)


def test_a_malformed_cookie_of_another_app_does_not_hide_the_csrf_token(web, live_services):
    web.get("/")
    token = csrf(web)["x-csrf-token"]
    headers = {"cookie": f'other="unterminated; vs_csrf={token}; x=[1,2]', "x-csrf-token": token,
               "hx-request": "true"}
    answer = web.post("/index/jobs", headers=headers, data={"path": str(live_services.root / "nothing-here")})
    # Past the CSRF check, the path (missing) is what is refused.
    assert "security token" not in answer.text and "allowed roots" in answer.text
