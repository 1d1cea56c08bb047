"""AllowedRoots: only existing files under the configured roots, symlinks resolved."""

from __future__ import annotations

import os

import pytest
from videosearch.common.errors import InvalidArgument, NotFound, PermissionDenied
from videosearch.indexer.paths import AllowedRoots


def test_allowed_missing_outside_and_symlink_escape(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir(), outside.mkdir()
    inside = root / "a.mp4"
    inside.write_bytes(b"x")
    secret = outside / "s.mp4"
    secret.write_bytes(b"x")
    os.symlink(secret, root / "link.mp4")
    roots = AllowedRoots([str(root)])

    assert roots.resolve(str(inside)) == str(inside.resolve())
    with pytest.raises(NotFound):
        roots.resolve(str(root / "missing.mp4"))
    with pytest.raises(PermissionDenied, match="allowed roots"):
        roots.resolve(str(secret))
    with pytest.raises(PermissionDenied):
        roots.resolve(str(root / "link.mp4"))
    with pytest.raises(PermissionDenied):
        roots.resolve(str(root / ".." / "outside" / "s.mp4"))
    with pytest.raises(InvalidArgument, match="directory"):
        roots.resolve(str(root))
    with pytest.raises(InvalidArgument, match="empty"):
        roots.resolve("  ")
    with pytest.raises(InvalidArgument, match="relative"):
        roots.resolve("a.mp4")
