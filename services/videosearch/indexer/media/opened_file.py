"""A job's video file, opened once and checked by what was opened, not by its name.

The path was checked at submit (videosearch.indexer.paths), but a job may run much later,
and by then the file, or a folder above it, may have been swapped for a symbolic link to
a file outside the allowed roots. So the job opens the path once (not following a final
symbolic link, not blocking on a FIFO), checks the open descriptor (a regular file whose
real location lies under a root), and from then on hashes and decodes only that descriptor,
through ``/proc/self/fd/N``: a later swap changes nothing the job reads. A file refused
here is never read, so a failed job reveals nothing of its content.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from videosearch.common.errors import PermissionDenied
from videosearch.indexer.media.facade import FileMissingError, FileNotReadableError
from videosearch.indexer.paths import AllowedRoots

_SWAPPED = (
    "the indexer reads only files under its allowed roots, checked when the job opens the file; "
    "submit the file itself, not a link to it"
)


class OpenedFile:
    """An open, checked, read-only descriptor of a job's file; close it when the job ends."""

    def __init__(self, fd: int, path: str) -> None:
        self.fd = fd
        self.path = path  # as submitted: what messages call the file
        # The descriptor as a path: opening it opens the same file, whatever the name now points to.
        self.reader_path = f"/proc/self/fd/{fd}"

    @classmethod
    def open(cls, path: str, roots: AllowedRoots | None) -> "OpenedFile":
        """Opens ``path`` for a job; a file that is not (any longer) a regular file under
        ``roots`` (None: anywhere) is refused with a FileNotReadableError before any byte is read."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise FileNotReadableError(
                    f"{path} was replaced by a symbolic link after it was submitted; {_SWAPPED}"
                ) from None
            if exc.errno == errno.ENOENT:
                raise FileMissingError(f"{path} disappeared after it was submitted; check the path") from None
            if exc.errno == errno.EACCES:
                raise FileNotReadableError(
                    f"{path} is not readable by the indexer's user; fix the file's permissions"
                ) from None
            raise FileNotReadableError(f"{path} could not be opened ({exc.strerror}); check the file") from None
        try:
            cls._check(fd, path, roots)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path)

    @staticmethod
    def _check(fd: int, path: str, roots: AllowedRoots | None) -> None:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileNotReadableError(
                f"{path} is no longer a regular file (a FIFO, socket, device or folder was put "
                "in its place after it was submitted); submit a video file"
            )
        if roots is None:
            return
        try:
            roots.check_links(path, info)  # a hard link made after submit
        except PermissionDenied as exc:
            raise FileNotReadableError(str(exc)) from None
        # Where the opened file really is (the kernel's name for it, no links left): a folder
        # above it swapped for a link shows here.
        real = Path(os.readlink(f"/proc/self/fd/{fd}").removesuffix(" (deleted)"))
        if not roots.contains(real):
            raise FileNotReadableError(
                f"{path} now resolves to a file outside the allowed roots ({roots.describe()}), "
                f"a folder on its path having been replaced by a symbolic link; {_SWAPPED}"
            )

    @property
    def size(self) -> int:
        return os.fstat(self.fd).st_size

    @contextlib.contextmanager
    def named(self):
        """Errors raised within name the file as submitted, not as /proc/self/fd/N."""
        try:
            yield
        except Exception as exc:
            if exc.args and isinstance(exc.args[0], str) and self.reader_path in exc.args[0]:
                exc.args = (exc.args[0].replace(self.reader_path, self.path), *exc.args[1:])
            raise

    def named_iter(self, iterator):
        """Yields from ``iterator``, its errors named as in :meth:`named`."""
        with self.named():
            yield from iterator

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "OpenedFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
