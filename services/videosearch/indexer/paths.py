"""Which files the Indexer may read: only those under its configured roots."""

from __future__ import annotations

import os
from pathlib import Path

from videosearch.common.errors import InvalidArgument, NotFound, PermissionDenied


# Linux's limits (NAME_MAX, PATH_MAX); longer paths fail with ENAMETOOLONG deep inside a call.
_NAME_MAX = 255
_PATH_MAX = 4096


class AllowedRoots:
    def __init__(self, roots: tuple[str, ...] | list[str]) -> None:
        if not roots:
            raise ValueError("at least one allowed root is needed; set --allowed-roots")
        self.roots = tuple(Path(os.path.realpath(r)) for r in roots)

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
        real = Path(os.path.realpath(path))
        if not self.contains(real):
            raise PermissionDenied(
                f"{path} is outside the indexer's allowed roots ({self.describe()}); "
                "move the file under one of them or add its folder to --allowed-roots"
            )
        if not real.exists():
            raise NotFound(f"{path} does not exist; check the path")
        if real.is_dir():
            raise InvalidArgument(f"{path} is a directory; submit its video files one by one (the CLI does this for you)")
        if not real.is_file():
            # A FIFO would block the reader forever, a device never ends; only regular files are videos.
            raise InvalidArgument(f"{path} is not a regular file (a FIFO, socket or device); submit a video file")
        if not os.access(real, os.R_OK):
            raise PermissionDenied(f"{path} is not readable by the indexer; fix its permissions")
        return str(real)
