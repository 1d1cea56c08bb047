"""`videosearch index --prune`: check every stored path on this machine, mark the files
that are gone as missing (and ones that came back as present), and remove the videos
whose files are all gone."""

from __future__ import annotations

import os
from dataclasses import dataclass

from videosearch.common.errors import NotFound
from videosearch.searcher.client import SearcherClient
from videosearch.searcher.types import VideoLocation, VideoRecord
from videosearch_cli.output import console, short_path, video_json


@dataclass(frozen=True)
class PrunePlan:
    """What a check of every stored location found."""

    marked: list[tuple[str, str]]  # (video id, path) newly gone
    found_again: list[tuple[str, str]]  # (video id, path) marked missing but back
    removed: list[VideoRecord]  # videos whose files are all gone


def plan_prune(videos: list[VideoRecord]) -> PrunePlan:
    marked, found_again, removed = [], [], []
    for video in videos:
        present = {location.path: os.path.exists(location.path) for location in video.locations}
        if not any(present.values()):
            removed.append(video)
            continue
        for location in video.locations:
            if location.missing == present[location.path]:
                (found_again if present[location.path] else marked).append((video.video_id, location.path))
    return PrunePlan(marked, found_again, removed)


def prune(searcher: SearcherClient, *, dry_run: bool, json_output: bool) -> dict:
    """Checks every stored location on this machine: marks the gone ones missing (and
    ones back as present), deletes videos whose files are all gone."""
    plan = plan_prune(list(searcher.iter_videos(page_size=1000)))
    verb = "would " if dry_run else ""
    if not dry_run:
        for video_id, path in plan.marked + plan.found_again:
            present = (video_id, path) in plan.found_again
            stat = os.stat(path) if present else None
            location = VideoLocation(path, stat.st_size, stat.st_mtime_ns) if stat else VideoLocation(path, missing=True)
            searcher.update_locations(video_id, [location])
        for video in plan.removed:
            try:
                searcher.delete_video(video.video_id)
            except NotFound:
                pass  # deleted by someone else meanwhile: the outcome is the same
    if not json_output:
        for video_id, path in plan.marked:
            console.print(f"{verb}mark missing  {video_id}  {path}")
        for video_id, path in plan.found_again:
            console.print(f"{verb}mark present  {video_id}  {path}")
        for video in plan.removed:
            console.print(f"{verb}remove  {video.video_id}  {', '.join(short_path(l.path) for l in video.locations)}")
        console.print(f"prune: {verb}remove {len(plan.removed)} video{'s' * (len(plan.removed) != 1)} whose files are "
                      f"all gone, {verb}mark {len(plan.marked)} path{'s' * (len(plan.marked) != 1)} missing")
    return {
        "dry_run": dry_run,
        "removed": [video_json(v) for v in plan.removed],
        "marked_missing": [{"video_id": v, "path": p} for v, p in plan.marked],
        "marked_present": [{"video_id": v, "path": p} for v, p in plan.found_again],
    }

