"""The files the page may touch, all under the allowed roots: folders it lists for
indexing, and the video files it plays. Every path is resolved (symbolic links followed)
before it is checked, so neither ``..`` nor a link leads out of a root; a path from a
stored video is only served when it is a regular file under a root."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from videosearch.common.errors import InvalidArgument, NotFound, PermissionDenied
from videosearch.searcher.types import VideoRecord
from videosearch_cli.indexing import VIDEO_SUFFIXES, expand_paths

MAX_ENTRIES = 2000  # a listing stops here and says so


def under_a_root(path: Path, roots: tuple[Path, ...]) -> Path | None:
    """``path`` resolved, if that lies in one of ``roots`` (already resolved); else None."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return resolved if any(resolved == root or resolved.is_relative_to(root) for root in roots) else None


@dataclass(frozen=True)
class Entry:
    name: str
    path: str
    is_dir: bool
    size_bytes: int = 0


@dataclass(frozen=True)
class Listing:
    path: str  # the folder listed, resolved
    parent: str  # "" at a root
    entries: list[Entry]
    truncated: bool


def list_folder(requested: str, roots: tuple[Path, ...]) -> Listing:
    """The sub-folders and video files of a folder under a root, folders first, by name."""
    if "\x00" in requested:
        raise InvalidArgument("the path holds a NUL byte; pick a folder from the list")
    folder = under_a_root(Path(requested), roots)
    if folder is None:
        raise PermissionDenied(
            f"{requested} is not a folder under the allowed roots "
            f"({', '.join(map(str, roots))}); pick one from the list"
        )
    if not folder.is_dir():
        raise InvalidArgument(f"{requested} is not a folder")
    entries: list[Entry] = []
    truncated = False
    with os.scandir(folder) as scan:
        for item in sorted(scan, key=lambda e: e.name):
            if item.name.startswith("."):
                continue
            inside = under_a_root(Path(item.path), roots)
            if inside is None:  # a link out of the roots
                continue
            if len(entries) >= MAX_ENTRIES:
                truncated = True
                break
            if inside.is_dir():
                entries.append(Entry(item.name, str(inside), True))
            elif inside.is_file() and inside.suffix.lower() in VIDEO_SUFFIXES:
                entries.append(Entry(item.name, str(inside), False, inside.stat().st_size))
    entries.sort(key=lambda e: (not e.is_dir, e.name))
    parent = "" if folder in roots else str(folder.parent)
    return Listing(str(folder), parent, entries, truncated)


def playable_file(video: VideoRecord, roots: tuple[Path, ...]) -> Path:
    """The file to play for an indexed video: its first location that is still a regular
    file under a root, of the size it was indexed at (when that is known). NotFound
    otherwise, whatever path the stored record names."""
    for location in video.locations:
        if location.missing or "\x00" in location.path:
            continue
        path = under_a_root(Path(location.path), roots)
        if path is None:
            continue
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            continue
        if location.size_bytes and info.st_size != location.size_bytes:
            continue  # changed since it was indexed: not the content the scenes describe
        return path
    raise NotFound(
        f"no file of video {video.video_id} is under the allowed roots any more; index it again from where it is now"
    )


def files_to_index(requested: list[str], roots: tuple[Path, ...]) -> list[Path]:
    """The files picked, and the video files under the folders picked, all under a root."""
    for path in requested:
        if "\x00" in path or under_a_root(Path(path), roots) is None:
            raise PermissionDenied(f"{path} is not under the allowed roots; pick files from the list")
    return [path for path in expand_paths(requested) if under_a_root(path, roots) is not None]
