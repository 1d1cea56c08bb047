"""`videosearch index --prune`: the Indexer checks every stored path on its machine, marks
the files that are gone as missing (and ones that came back as present), and removes the
videos whose files are all gone (PruneLocations; the rules live in the Indexer)."""

from __future__ import annotations

from rich.markup import escape

from videosearch.client.indexer import IndexerClient
from videosearch.client.fleet import IndexerFleet
from videosearch_cli.output import console, short_path


def prune(indexer: IndexerClient | IndexerFleet, *, dry_run: bool, json_output: bool) -> dict:
    result = indexer.prune(dry_run=dry_run)
    verb = "would " if dry_run else ""
    if not json_output:
        for video_id, path in result.marked_missing:
            console.print(f"{verb}mark missing  {video_id}  {escape(path)}")
        for video_id, path in result.marked_present:
            console.print(f"{verb}mark present  {video_id}  {escape(path)}")
        for video_id, paths in result.removed:
            console.print(f"{verb}remove  {video_id}  {escape(', '.join(short_path(p) for p in paths))}")
        removed, marked = len(result.removed), len(result.marked_missing)
        console.print(
            f"prune: {verb}remove {removed} video{'s' * (removed != 1)} whose files are "
            f"all gone, {verb}mark {marked} path{'s' * (marked != 1)} missing"
        )
    return {
        "dry_run": dry_run,
        "removed": [{"video_id": video_id, "paths": paths} for video_id, paths in result.removed],
        "marked_missing": [{"video_id": v, "path": p} for v, p in result.marked_missing],
        "marked_present": [{"video_id": v, "path": p} for v, p in result.marked_present],
    }
