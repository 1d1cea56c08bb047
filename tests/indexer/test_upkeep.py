"""The prune rules on real files (no services): which locations a prune checks, and when a
video with files on another machine is removed."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from videosearch.common.errors import InvalidArgument, PermissionDenied
from videosearch.indexer.library.upkeep import plan_prune, prune_scope
from videosearch.indexer.paths import AllowedRoots
from videosearch.searcher.types import VideoLocation, VideoRecord


def video(video_id: str, *locations: VideoLocation) -> VideoRecord:
    return VideoRecord(video_id, locations[0].path, 1.0, Fraction(25), 25, 16, 16, "0" * 64, "m", 4,
                       locations=locations)


def here(path: Path) -> VideoLocation:
    stat = path.stat()
    return VideoLocation(str(path), stat.st_size, stat.st_mtime_ns)


def test_a_prune_checks_only_this_machines_paths_and_removes_what_is_gone_everywhere(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    kept = root / "kept.mp4"
    kept.write_bytes(b"kept")
    roots = AllowedRoots([str(root)])
    checkable = prune_scope(roots.contains, "")
    elsewhere = VideoLocation("/other-machine/clip.mp4", 10, 1)
    videos = [
        video("a" * 16, here(kept), VideoLocation(str(root / "gone.mp4"), 3, 3)),  # one file left
        video("b" * 16, VideoLocation(str(root / "gone2.mp4"), 3, 3)),  # all gone
        video("c" * 16, VideoLocation(str(root / "gone3.mp4"), 3, 3), elsewhere),  # the other machine has not said
        video("d" * 16, VideoLocation(str(root / "gone4.mp4"), 3, 3), VideoLocation(elsewhere.path, 10, 1, missing=True)),
        video("e" * 16, elsewhere),  # nothing here to check
    ]
    report = plan_prune(videos, checkable, dry_run=True)
    assert [v.video_id for v in report.removed] == ["b" * 16, "d" * 16]
    assert [(v, loc.path, loc.missing) for v, loc in report.marked_missing] == [
        ("a" * 16, str(root / "gone.mp4"), True), ("c" * 16, str(root / "gone3.mp4"), True)]
    assert report.locations_checked == 5 and report.marked_present == []


def test_a_path_marked_missing_counts_as_back_only_with_the_size_and_time_it_had(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"same")
    same = here(path)
    checkable = prune_scope(AllowedRoots([str(tmp_path)]).contains, str(tmp_path))
    back = plan_prune([video("a" * 16, VideoLocation(same.path, same.size_bytes, same.mtime_ns, missing=True))],
                      checkable, dry_run=True)
    assert [loc.missing for _, loc in back.marked_present] == [False]
    other = plan_prune([video("a" * 16, VideoLocation(same.path, same.size_bytes + 1, same.mtime_ns, missing=True))],
                       checkable, dry_run=True)
    assert [v.video_id for v in other.removed] == ["a" * 16], "other content at the path is not the video's file"


def test_a_prune_scope_must_be_an_absolute_folder_inside_the_roots(tmp_path):
    roots = AllowedRoots([str(tmp_path / "root")])
    with pytest.raises(InvalidArgument):
        prune_scope(roots.contains, "relative/folder")
    with pytest.raises(PermissionDenied):
        prune_scope(roots.contains, str(tmp_path / "elsewhere"))
    inside = prune_scope(roots.contains, str(tmp_path / "root" / "a"))
    assert inside(str(tmp_path / "root" / "a" / "x.mp4")) and not inside(str(tmp_path / "root" / "ab" / "x.mp4"))
