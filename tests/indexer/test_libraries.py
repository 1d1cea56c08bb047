"""Watched folders (libraries) against real Embedder, Searcher and Indexer servers on port
0: real files created, renamed, overwritten and deleted under a watched folder, changes made
while the Indexer was down, the library's state, and the RPCs' refusals. Every wait is a
polling deadline; nothing sleeps in place of an assertion."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import make_video
from videosearch.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from videosearch.client.indexer import IndexerClient
from videosearch.indexer.library.types import LibraryState
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.client.searcher import SearcherClient

DEADLINE_S = 60.0


def eventually(check: Callable[[], object], what: str, deadline_s: float = DEADLINE_S):
    """Polls ``check`` until it returns something true, and returns that; fails with ``what``
    (and the last value seen) once the deadline passes."""
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    pytest.fail(f"gave up after {deadline_s:g} s waiting for {what}; last saw {last!r}")


@pytest.fixture()
def root(tmp_path) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    return folder


def start_indexer(root: Path, state_dir: Path, embedder, searcher, **settings) -> IndexerApp:
    return IndexerApp(IndexerSettings(
        port=0, allowed_roots=(str(root),), embedder_address=embedder.address, searcher_address=searcher.address,
        workers=1, rpc_timeout_s=30.0, state_dir=str(state_dir), library_rescan_s=1.0, library_settle_s=0.2,
        **settings)).start()


@pytest.fixture()
def indexer(root, tmp_path, embedder, searcher):
    app = start_indexer(root, tmp_path / "state", embedder, searcher)
    yield app
    app.stop(0)


def client_of(app: IndexerApp) -> IndexerClient:
    return IndexerClient(f"127.0.0.1:{app.port}")


def locations(store: SearcherClient) -> dict[str, set[tuple[str, bool]]]:
    """{video id: {(path, missing)}} of every stored video."""
    return {v.video_id: {(loc.path, loc.missing) for loc in v.locations} for v in store.iter_videos()}


def test_a_watched_folder_follows_new_renamed_overwritten_and_deleted_files(root, indexer, searcher, gated_clip):
    folder = root / "library"
    folder.mkdir()
    with client_of(indexer) as client, SearcherClient(searcher.address) as store:
        added = client.add_library(str(folder))
        assert added.path == str(folder) and added.rescan_s == 1.0
        eventually(lambda: client.list_libraries_page()[0][0].last_scan_time, "the first scan")

        first = make_video(folder / "clip.mp4", seed=61)
        stored = eventually(lambda: locations(store), "the new file to be indexed")
        [(video_id, paths)] = stored.items()
        assert paths == {(str(first), False)}
        library = eventually(lambda: next((lib for lib in client.list_libraries()
                                           if lib.files_indexed == 1 and lib.files_queued == 0), None),
                             "the library to count the file")
        assert library.files_seen == 1 and library.state in (LibraryState.IDLE, LibraryState.SCANNING)
        assert library.watching, "inotify notifications arrive for a local folder"
        embedded = [job for job in client.list() if job.path == str(first)]
        assert [job.skipped for job in embedded] == [False]

        # Renamed: the same content, recorded at its new path, not embedded again.
        renamed = folder / "sub" / "renamed.mp4"
        renamed.parent.mkdir()
        forwarded = gated_clip.images_forwarded
        os.rename(first, renamed)
        eventually(lambda: locations(store) == {video_id: {(str(first), True), (str(renamed), False)}},
                   "the new path recorded and the old one marked missing")
        [moved_job] = [job for job in client.list() if job.path == str(renamed)]
        assert moved_job.skipped and moved_job.video_id == video_id and "store" not in moved_job.stage_seconds
        assert gated_clip.images_forwarded == forwarded, "no frame was embedded again"

        # Overwritten: other content at the same path is a new video; the old one has no file left.
        make_video(renamed, seed=62)
        def replaced():
            now = locations(store)
            return now if video_id not in now and len(now) == 1 else None

        after = eventually(replaced, "the new content indexed and the old video pruned")
        [(new_id, new_paths)] = after.items()
        assert new_id != video_id and new_paths == {(str(renamed), False)}

        # Deleted: the video goes.
        renamed.unlink()
        eventually(lambda: locations(store) == {}, "the deleted file's video to be pruned")
        library = eventually(lambda: next((lib for lib in client.list_libraries() if lib.files_pruned >= 2), None),
                             "the library to count what it pruned")
        assert library.files_seen == 0 and library.error_count == 0, library.last_error


def test_a_file_still_being_written_is_indexed_once_it_stops_growing(root, indexer, searcher):
    folder = root / "growing"
    folder.mkdir()
    whole = make_video(root / "outside_library.mp4", seed=63).read_bytes()
    with client_of(indexer) as client, SearcherClient(searcher.address) as store:
        client.add_library(str(folder))
        eventually(lambda: client.list_libraries_page()[0][0].last_scan_time, "the first scan")
        target = folder / "copy.mp4"
        with open(target, "wb") as out:
            for start in range(0, len(whole), 4096):  # written in pieces, as a copy over a slow link
                out.write(whole[start:start + 4096])
                out.flush()
                time.sleep(0.05)
        eventually(lambda: locations(store), "the finished copy to be indexed")
        jobs = [job for job in client.list() if job.path == str(target)]
        assert [job.state.value for job in jobs] == ["succeeded"], "one job, after the copy finished"


def test_libraries_survive_a_restart_and_changes_made_meanwhile_are_found(root, tmp_path, embedder, searcher):
    folder = root / "kept"
    folder.mkdir()
    state = tmp_path / "state"
    app = start_indexer(root, state, embedder, searcher)
    with client_of(app) as client:
        client.add_library(str(folder))
    app.stop(0)

    video = make_video(folder / "while_down.mp4", seed=64)  # no watcher runs now
    with pytest.raises(InvalidArgument, match="--library .*outside the indexer's allowed roots"):
        start_indexer(root, tmp_path / "other-state", embedder, searcher, libraries=(str(tmp_path),))
    # The flag names a folder that is a library already (kept in the state directory): nothing doubles.
    app = start_indexer(root, state, embedder, searcher, libraries=(str(folder),))
    try:
        with client_of(app) as client, SearcherClient(searcher.address) as store:
            [library] = client.list_libraries()
            assert library.path == str(folder)
            stored = eventually(lambda: locations(store), "the file added while the indexer was down")
            assert list(stored.values()) == [{(str(video), False)}]
            client.remove_library(str(folder))
            assert client.list_libraries_page() == ([], "")
    finally:
        app.stop(0)
    assert '"libraries": []' in (state / "libraries.json").read_text()


def test_a_library_rescans_when_no_notification_comes(root, tmp_path, embedder, searcher, monkeypatch):
    """As on a network share: the watcher gets no notifications, the periodic rescan finds the file."""
    import watchfiles

    def no_notifications(*paths, stop_event, **options):
        stop_event.wait()
        return iter(())

    monkeypatch.setattr(watchfiles, "watch", no_notifications)
    folder = root / "share"
    folder.mkdir()
    app = start_indexer(root, tmp_path / "state", embedder, searcher)
    try:
        with client_of(app) as client, SearcherClient(searcher.address) as store:
            client.add_library(str(folder))
            eventually(lambda: client.list_libraries_page()[0][0].last_scan_time, "the first scan")
            video = make_video(folder / "on_share.mp4", seed=65)
            stored = eventually(lambda: locations(store), "the rescan to find the file")
            assert list(stored.values()) == [{(str(video), False)}]
    finally:
        app.stop(0)


def test_an_emptied_folder_is_pruned_but_an_unmounted_one_is_not(root, tmp_path, embedder, searcher):
    """An unmounted share leaves its mount point empty on another device (file system) than
    its files were seen on; the device is remembered in the state directory across restarts.
    A test cannot unmount, so the remembered device is made another one, as it would be."""
    folder = root / "mount"
    folder.mkdir()
    state = tmp_path / "state"
    app = start_indexer(root, state, embedder, searcher)
    with client_of(app) as client, SearcherClient(searcher.address) as store:
        client.add_library(str(folder))
        video = make_video(folder / "clip.mp4", seed=66)
        eventually(lambda: locations(store), "the file to be indexed")
        eventually(lambda: '"device": null' not in (state / "libraries.json").read_text(), "the device remembered")
    app.stop(0)
    saved = json.loads((state / "libraries.json").read_text())
    assert saved["libraries"][0]["device"] == folder.stat().st_dev
    saved["libraries"][0]["device"] += 1  # the share's own file system, now gone
    (state / "libraries.json").write_text(json.dumps(saved))
    os.rename(video, root / "elsewhere.mp4")
    app = start_indexer(root, state, embedder, searcher)
    try:
        with client_of(app) as client, SearcherClient(searcher.address) as store:
            library = eventually(lambda: next((lib for lib in client.list_libraries()
                                               if lib.state is LibraryState.UNAVAILABLE), None), "the library to say so")
            assert "unmounted" in library.last_error and library.error_count >= 1
            assert list(locations(store).values()) == [{(str(video), False)}], "nothing was pruned"

            os.rename(root / "elsewhere.mp4", video)  # mounted again
            eventually(lambda: next((lib for lib in client.list_libraries() if lib.state is LibraryState.IDLE), None),
                       "the library to go on")
            os.unlink(video)  # now emptied on the device its files are on: a deletion
            eventually(lambda: locations(store) == {}, "the deleted file's video to be pruned")
    finally:
        app.stop(0)


def test_library_requests_that_cannot_work_are_refused_with_what_to_do(root, tmp_path, indexer):
    (root / "a").mkdir()
    (root / "b").mkdir()
    (root / "a" / "inner").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    with client_of(indexer) as client:
        for path, error in [("", InvalidArgument), ("relative/dir", InvalidArgument), (str(outside), PermissionDenied),
                            (str(root / "nope"), NotFound), (str(make_video(root / "f.mp4", seed=67)), InvalidArgument)]:
            with pytest.raises(error):
                client.add_library(path)
        client.add_library(str(root / "a"))
        client.add_library(str(root / "b"))
        with pytest.raises(AlreadyExists):
            client.add_library(str(root / "a"))
        with pytest.raises(FailedPrecondition, match="nest"):
            client.add_library(str(root / "a" / "inner"))
        first, token = client.list_libraries_page(page_size=1)
        second, last = client.list_libraries_page(page_size=1, page_token=token)
        assert [lib.path for lib in first + second] == [str(root / "a"), str(root / "b")] and last == ""
        with pytest.raises(InvalidArgument):
            client.list_libraries_page(page_token=token[:-2] + "xx")
        with pytest.raises(InvalidArgument):
            client.list_libraries_page(page_size=-1)
        with pytest.raises(NotFound):
            client.remove_library(str(root / "nope"))
        with pytest.raises(InvalidArgument):
            client.remove_library("")
        with pytest.raises(PermissionDenied):
            client.prune(str(outside))
        with pytest.raises(InvalidArgument):
            client.prune("relative")


def test_prune_locations_checks_only_the_folder_asked_for(root, indexer, searcher):
    kept, gone = make_video(root / "x" / "kept.mp4", seed=68), make_video(root / "y" / "gone.mp4", seed=69)
    with client_of(indexer) as client, SearcherClient(searcher.address) as store:
        jobs = [client.wait(client.submit(str(path)).job_id) for path in (kept, gone)]
        assert all(job.state.value == "succeeded" for job in jobs)
        kept.unlink()
        gone.unlink()
        only_y = client.prune(str(root / "y"), dry_run=True)
        assert only_y.removed == [(jobs[1].video_id, [str(gone)])] and only_y.locations_checked == 1
        assert len(locations(store)) == 2, "a dry run changes nothing"
        done = client.prune(str(root / "y"))
        assert [video_id for video_id, _ in done.removed] == [jobs[1].video_id]
        assert set(locations(store)) == {jobs[0].video_id}


def test_a_big_scan_keeps_only_a_few_jobs_in_flight(root, indexer, searcher, gated_clip, monkeypatch):
    from videosearch.indexer.library import watcher

    monkeypatch.setattr(watcher, "JOBS_IN_FLIGHT", 1)
    folder = root / "many"
    for i in range(3):
        make_video(folder / f"clip_{i}.mp4", seed=80 + i)
    gated_clip.gate.clear()  # the first job holds in its embedding stage
    try:
        with client_of(indexer) as client:
            client.add_library(str(folder))
            def unfinished():
                return [job for job in client.list() if not job.state.finished]

            eventually(lambda: len(unfinished()) == 1, "the first job to be submitted")
            [library] = client.list_libraries()
            assert library.files_queued == 3, "one job in flight and two files waiting"
            # Scans go on while files wait (every settle time); after two more, still one job.
            seen = library.last_scan_time
            eventually(lambda: client.list_libraries_page()[0][0].last_scan_time > seen, "another scan")
            seen = client.list_libraries_page()[0][0].last_scan_time
            eventually(lambda: client.list_libraries_page()[0][0].last_scan_time > seen, "yet another scan")
            assert len(unfinished()) == 1, "the library waits its turn instead of filling the indexer's queue"
    finally:
        gated_clip.gate.set()
    with SearcherClient(searcher.address) as store:
        eventually(lambda: len(locations(store)) == 3, "all three files indexed, one after the other")


def test_a_link_in_a_library_is_indexed_as_its_target_and_the_library_settles(root, indexer, searcher):
    folder = root / "linked"
    folder.mkdir()
    target = make_video(root / "originals" / "clip.mp4", seed=90)
    (folder / "link.mp4").symlink_to(target)
    with client_of(indexer) as client, SearcherClient(searcher.address) as store:
        client.add_library(str(folder))
        stored = eventually(lambda: locations(store), "the link's target to be indexed")
        assert list(stored.values()) == [{(str(target), False)}]
        library = eventually(lambda: next((lib for lib in client.list_libraries()
                                           if lib.files_indexed == 1 and lib.files_queued == 0), None),
                             "the library to settle with nothing in flight")
        assert library.files_seen == 1
        jobs_now = len(list(client.list()))
        seen = library.last_scan_time
        eventually(lambda: client.list_libraries_page()[0][0].last_scan_time > seen, "a rescan")
        assert len(list(client.list())) == jobs_now, "an unchanged link is not submitted again"


def test_a_file_that_is_not_a_video_fails_once_and_is_not_retried_until_it_changes(root, indexer):
    folder = root / "broken"
    folder.mkdir()
    with client_of(indexer) as client:
        client.add_library(str(folder))
        eventually(lambda: client.list_libraries_page()[0][0].last_scan_time, "the first scan")
        bad = folder / "not_a_video.mp4"
        bad.write_bytes(b"this is text, not a video" * 100)
        library = eventually(lambda: next((lib for lib in client.list_libraries()
                                           if lib.error_count and lib.files_queued == 0), None),
                             "the failure to be shown, with nothing left in flight")
        assert "not_a_video.mp4" in library.last_error
        seen = library.last_scan_time
        eventually(lambda: client.list_libraries_page()[0][0].last_scan_time > seen, "a rescan")
        assert [job.state.value for job in client.list() if job.path == str(bad)] == ["failed"], "not retried"

        bad.write_bytes(b"still not a video" * 100)  # changed: one more try
        eventually(lambda: len([job for job in client.list() if job.path == str(bad)]) == 2, "a second try")
