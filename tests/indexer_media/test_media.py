"""Probing, hashing and the errors a bad file gives."""

from __future__ import annotations

import hashlib
import os
from fractions import Fraction

import numpy as np
import pytest
from videosearch.common.errors import InvalidArgument, NotFound, PermissionDenied
from videosearch.indexer.media import facade as media


def test_probe_landscape(videos):
    info = media.probe(videos / "testvideo.mp4")
    assert info.fps == Fraction(30000, 1001)
    assert (info.width, info.height, info.frame_count) == (1280, 720, 720)
    assert not info.frame_count_exact
    assert info.duration_seconds == pytest.approx(24.024)
    assert str(info.timecode(30)) == "00:00:01.001"


def test_probe_applies_rotation(videos):
    info = media.probe(videos / "issue-134-rotate.mp4")
    assert (info.width, info.height) == (544, 1280)  # as players show it
    assert info.fps == Fraction(24000, 1001)


def test_missing_file(tmp_path):
    with pytest.raises(media.UnreadableFileError, match="does not exist") as caught:
        media.probe(tmp_path / "nope.mp4")
    assert isinstance(caught.value, NotFound) and isinstance(caught.value, media.MediaError)
    assert caught.value.reason == "UNREADABLE" and caught.value.status == "NOT_FOUND"
    with pytest.raises(media.FileMissingError):
        media.sha256_file(tmp_path / "nope.mp4")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file(tmp_path):
    locked = tmp_path / "locked.mp4"
    locked.write_bytes(b"x")
    locked.chmod(0)
    with pytest.raises(media.UnreadableFileError, match="permissions") as caught:
        media.probe(locked)
    assert isinstance(caught.value, PermissionDenied) and caught.value.reason == "UNREADABLE"


@pytest.mark.parametrize(
    "name, content",
    [("random.mp4", np.random.default_rng(0).bytes(100_000)), ("notes.txt", b"just some text\n" * 100),
     ("empty.mp4", b"")],
)
def test_not_a_video(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(media.NotAVideoError, match="not a video (PyAV|OpenCV) can decode.*ffmpeg") as caught:
        media.probe(path)
    assert isinstance(caught.value, InvalidArgument)
    assert caught.value.reason == "NOT_A_VIDEO" and caught.value.status == "INVALID_ARGUMENT"


def test_directory_is_not_a_video(tmp_path):
    with pytest.raises(media.NotAVideoError, match="directory"):
        media.probe(tmp_path)


def test_sha256_with_progress(tmp_path):
    data = np.random.default_rng(2).bytes(1_000_003)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    calls = []
    digest = media.sha256_file(path, chunk_size=65_536, on_progress=lambda d, t: calls.append((d, t)))
    assert digest == hashlib.sha256(data).hexdigest()
    assert len(calls) == 16 and calls[-1] == (1_000_003, 1_000_003)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_sha256_of_a_shared_video(videos):
    path = videos / "delayed_start.mp4"
    assert media.sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()
