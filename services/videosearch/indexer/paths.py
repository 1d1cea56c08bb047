"""Which files the Indexer may read: only those under its configured roots."""

from __future__ import annotations

import os
from pathlib import Path

from videosearch.common import defaults
from videosearch.common.errors import InvalidArgument, NotFound, PermissionDenied


_NAME_MAX = defaults.MAX_PATH_NAME_BYTES
_PATH_MAX = defaults.MAX_PATH_BYTES


class AllowedRoots:
    """The roots, and whether a file with more than one hard link may be read.

    A hard link has no direction: a link inside a root to a file outside it is the same
    inode as that file, and nothing on the path shows it. Comparing device and inode with
    every file of the roots' trees would cost a walk of the trees per job; instead a file with
    more than one link is refused unless ``allow_hard_links`` (the operator vouches for them)."""

    def __init__(self, roots: tuple[str, ...] | list[str], *, allow_hard_links: bool = False) -> None:
        if not roots:
            raise ValueError("at least one allowed root is needed; set --allowed-roots")
        self.roots = tuple(Path(os.path.realpath(r)) for r in roots)
        self.allow_hard_links = allow_hard_links

    def check_links(self, path: str, info: os.stat_result) -> None:
        """Refuses a file with more than one hard link (see the class doc)."""
        if info.st_nlink > 1 and not self.allow_hard_links:
            raise PermissionDenied(
                f"{path} has {info.st_nlink} hard links, and a hard link may lead to a file outside the allowed roots; "
                "index a copy of the file, or start the Indexer with --allow-hard-links if every link is yours"
            )

    def contains(self, real: Path) -> bool:
        """Whether the real (symbolic-link free) path ``real`` lies under a root."""
        return any(real == root or root in real.parents for root in self.roots)

    def describe(self) -> str:
        return ", ".join(str(r) for r in self.roots)

    def resolve(self, path: str) -> str:
        """The real absolute path of ``path`` if it is an existing file under a root.

        Symbolic links are resolved first, so a link inside a root cannot point outside it.
        This is the check at submit; the job checks again what it actually opens
        (videosearch.indexer.media.opened_file), since the path may change in between.
        """
        if not path or not path.strip():
            raise InvalidArgument("path is empty; give the path of a video file")
        if "\x00" in path:
            raise InvalidArgument("path contains a NUL byte; give the path of a video file as plain text")
        too_long = [part for part in path.split("/") if len(os.fsencode(part)) > _NAME_MAX]
        if too_long or len(os.fsencode(path)) >= _PATH_MAX:
            raise InvalidArgument(
                f"path is too long for the file system (each name at most {_NAME_MAX} bytes, the whole path under "
                f"{_PATH_MAX}); check the path"
            )
        if not os.path.isabs(path):
            raise InvalidArgument(f"path {path!r} is relative; give an absolute path on the indexer's machine")
        named_a_folder = path.endswith("/")
        real = Path(os.path.realpath(path))
        if not self.contains(real):
            raise PermissionDenied(
                f"{path} is outside the indexer's allowed roots ({self.describe()}); "
                "move the file under one of them or add its folder to --allowed-roots"
            )
        if not real.exists():
            raise NotFound(f"{path} does not exist; check the path")
        if real.is_dir():
            raise InvalidArgument(
                f"{path} is a directory; submit its video files one by one (the CLI does this for you)"
            )
        if not real.is_file():
            # A FIFO would block the reader forever, a device never ends; only regular files are videos.
            raise InvalidArgument(f"{path} is not a regular file (a FIFO, socket or device); submit a video file")
        if named_a_folder:
            raise InvalidArgument(
                f"{path} ends with '/', which names a folder, but it is a file; drop the trailing slash"
            )
        self.check_links(path, real.stat())
        if not os.access(real, os.R_OK):
            raise PermissionDenied(f"{path} is not readable by the indexer; fix its permissions")
        return str(real)
