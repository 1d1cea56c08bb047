"""Issue 24 part 3 at the HTTP level, against the real services: file names where ids were,
scene numbers from 0 as the CLI shows them, the jobs table (folder, start, duration, clear
finished, a cancelled job storing nothing, "1 scene"), already-indexed marks in the folder
browser, the library's count after a delete, the watch page's details, and the favicon."""

from __future__ import annotations

import datetime as dt
import re
from fractions import Fraction

import numpy as np
from videosearch.indexer.types import IndexOptions, Job, JobState
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SceneRecord, VideoLocation, VideoRecord
from videosearch.web.view import counted, job_view, took

from tests.web.conftest import csrf


def a_job(state: JobState, **fields) -> Job:
    start = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    return Job("j1", "/videos/2024/beach.mp4", IndexOptions(), state=state, create_time=start,
               update_time=start + dt.timedelta(seconds=125), **fields)


def test_job_rows_say_folder_start_duration_and_what_was_stored():
    done = job_view(a_job(JobState.SUCCEEDED, scenes_found=1))
    assert (done["name"], done["folder"], done["detail"], done["took"]) == ("beach.mp4", "/videos/2024", "1 scene",
                                                                          "2 min 05 s")
    assert done["started"] == "2026-01-02T03:04:05+00:00"
    cancelled = job_view(a_job(JobState.CANCELLED, scenes_found=6))
    assert cancelled["detail"] == "cancelled; nothing stored", "a cancelled job stored none of its 6 scenes"
    assert job_view(a_job(JobState.RUNNING))["took"] == "", "a running job has no duration yet"
    assert (counted(1, "scene"), counted(0, "scene"), counted(6, "scene")) == ("1 scene", "0 scenes", "6 scenes")
    assert took(4.25) == "4.2 s"


def test_more_like_this_names_the_file_and_counts_scenes_from_0(web, indexed_video):
    page = web.get("/search", params={"video_id": indexed_video.video_id, "scene": 1})
    assert page.status_code == 200
    assert "Showing scenes like scene 1 of\n    three-scenes.webm." in page.text
    assert f'like scene 1 of video' not in page.text and "Start over" in page.text
    listed = web.get("/search", params={"q": "a red circle"}).text
    scene = re.search(r'data-scene="(\d+)"', listed)[1]
    assert f'More like this<span\n       class="visually-hidden">: scene {scene} of three-scenes.webm</span>' in listed
    assert f"(scene {scene})" in listed, "the thumbnail's text numbers scenes as the CLI does"


def test_the_jobs_table_and_clear_finished(web, live_services, indexed_video):
    page = web.get("/index").text
    assert "<th scope=\"col\">Folder</th>" in page and "<th scope=\"col\">Started</th>" in page
    row = re.search(r'<tr class="job".*?</tr>', page, re.S)[0]
    assert "three-scenes.webm" in row and str(indexed_video.path.parent) in row
    assert re.search(r'<time class="job-started" datetime="[^"]+">\d\d:\d\d:\d\d UTC</time>', row)
    assert re.search(r'class="job-took">\d+\.\d s<', row), "a finished job says how long it took"
    cleared = web.post("/index/jobs/clear-finished", headers=csrf(web) | {"hx-request": "true"})
    assert cleared.status_code == 200 and "three-scenes.webm" not in cleared.text
    assert "three-scenes.webm" not in web.get("/index").text, "cleared stays cleared in this browser"


def test_the_folder_browser_marks_files_already_indexed(web, live_services, indexed_video):
    from videosearch.demo.videos import generate_demo_video

    fresh = indexed_video.path.parent / "not-yet.mp4"
    generate_demo_video(fresh, ["a red star", "a blue circle"], np.random.default_rng(5), size=(96, 64),
                        frames_per_scene=(16, 18))
    page = web.get("/index", params={"path": str(indexed_video.path.parent)}).text
    marks = dict(re.findall(r'value="[^"]*/([^"/]+)"> [^<]+</label>\s*(<span class="indexed-mark">)?', page))
    assert marks["three-scenes.webm"] and not marks["not-yet.mp4"], marks


def test_delete_names_the_file_and_updates_the_count(web, live_services):
    with SearcherClient(live_services.addresses["searcher"]) as searcher:
        video = VideoRecord("00000000000d0024", "/x/gone-soon.mp4", 2.0, Fraction(25), 50, 16, 16, "1" * 64,
                            live_services.model_id, live_services.dim)
        rows = np.ones((1, live_services.dim), np.float32) / np.sqrt(live_services.dim)
        searcher.upsert_video(video, [SceneRecord(0, 0, 50, 0.0, 2.0)], rows)
        _, _, before = searcher.list_videos(1, "")
    assert f'id="library-count">{before} video' in web.get("/library").text
    done = web.post(f"/library/{video.video_id}/delete", headers=csrf(web) | {"hx-request": "true"})
    assert "Deleted gone-soon.mp4 (1 scene)" in done.text
    after = before - 1
    assert re.search(rf'<span class="count" id="library-count" hx-swap-oob="true">{after} videos?</span>', done.text)


def test_the_watch_page_shows_path_duration_size_scenes_and_moments(web, live_services, indexed_video):
    page = web.get(f"/watch/{indexed_video.video_id}").text
    truth = indexed_video.truth
    assert str(indexed_video.path) in page
    assert f"{truth['frame_count'] / 25:.1f} s ({truth['frame_count']} frames at 25 fps)" in page
    assert f"{truth['width']}×{truth['height']}, " in page and re.search(r"\d+ KiB|\d+\.\d MiB", page)
    assert f"{len(truth['scenes'])} scenes, " in page and re.search(r"\d+ moments?</dd>", page)
    assert 'id="close-player"' in page, "the player can be closed"


def test_a_favicon_instead_of_a_404(web):
    icon = web.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert '<link rel="icon" href="/static/favicon.svg"' in web.get("/").text


def test_best_moments_mode_ranks_moments_and_stays_in_the_url(web, indexed_video):
    page = web.get("/search", params={"q": "a red circle", "mode": "scenes"}).text
    assert re.search(r"\d+ strong match(es)?\s+· \d+ weak", page)
    scores = [float(s) for s in re.findall(r'<span class="score">relevance (\d\.\d+)</span></p>', page)]
    assert len(scores) == len(indexed_video.truth["scenes"]) and scores == sorted(scores, reverse=True)
    assert '<option value="scenes" selected>' in page
    assert web.get("/search", params={"q": "x", "mode": "frames"}).status_code == 400
