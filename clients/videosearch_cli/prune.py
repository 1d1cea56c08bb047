"""`videosearch index --prune`: check every stored path on this machine, mark the files
that are gone as missing (and ones that came back as present), and remove the videos
whose files are all gone."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from rich.markup import escape

from videosearch.common.errors import NotFound
from videosearch.searcher.client import SearcherClient
from videosearch.searcher.types import VideoLocation, VideoRecord
from videosearch_cli.output import console, short_path, video_json


@dataclass(frozen=True)
class PrunePlan:
    """What a check of every stored location found: (video id, location as it should be
    stored) for each change, and the videos to remove."""

    marked: list[tuple[str, VideoLocation]]  # newly gone: missing, keeping the size and time they had
    found_again: list[tuple[str, VideoLocation]]  # marked missing, but back as they were
    removed: list[VideoRecord]  # videos whose files are all gone


def file_is_there(location: VideoLocation) -> bool:
    """Whether the location's file is on this machine. One already marked missing counts
    as back only with the size and modification time it had (or if they were never
    known): a new file at that path is other content until indexed."""
    try:
        stat = os.stat(location.path)
    except OSError:
        return False
    if not location.missing or not location.mtime_ns:
        return True
    return (stat.st_size, stat.st_mtime_ns) == (location.size_bytes, location.mtime_ns)


def plan_prune(videos: list[VideoRecord]) -> PrunePlan:
    marked, found_again, removed = [], [], []
    for video in videos:
        present = {location.path: file_is_there(location) for location in video.locations}
        if not any(present.values()):
            removed.append(video)
            continue
        for location in video.locations:
            if location.missing == present[location.path]:
                changes = found_again if present[location.path] else marked
                changes.append((video.video_id, dataclasses.replace(location, missing=not location.missing)))
    return PrunePlan(marked, found_again, removed)


def prune(searcher: SearcherClient, *, dry_run: bool, json_output: bool) -> dict:
    """Checks every stored location on this machine: marks the gone ones missing (and
    ones back as present), deletes videos whose files are all gone."""
    plan = plan_prune(list(searcher.iter_videos(page_size=1000)))
    verb = "would " if dry_run else ""
    if not dry_run:
        for video_id, location in plan.marked + plan.found_again:
            searcher.update_locations(video_id, [location])
        for video in plan.removed:
            try:
                searcher.delete_video(video.video_id)
            except NotFound:
                pass  # deleted by someone else meanwhile: the outcome is the same
    if not json_output:
        for video_id, location in plan.marked:
            console.print(f"{verb}mark missing  {video_id}  {escape(location.path)}")
        for video_id, location in plan.found_again:
            console.print(f"{verb}mark present  {video_id}  {escape(location.path)}")
        for video in plan.removed:
            console.print(f"{verb}remove  {video.video_id}  {escape(', '.join(short_path(l.path) for l in video.locations))}")
        console.print(f"prune: {verb}remove {len(plan.removed)} video{'s' * (len(plan.removed) != 1)} whose files are "
                      f"all gone, {verb}mark {len(plan.marked)} path{'s' * (len(plan.marked) != 1)} missing")
    return {
        "dry_run": dry_run,
        "removed": [video_json(v) for v in plan.removed],
        "marked_missing": [{"video_id": v, "path": location.path} for v, location in plan.marked],
        "marked_present": [{"video_id": v, "path": location.path} for v, location in plan.found_again],
    }

