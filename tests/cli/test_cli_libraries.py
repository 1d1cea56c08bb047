"""`videosearch libraries add|list|remove` against the real services: a folder added from
the CLI is watched (its new video indexed with no other command), listed with its state,
and removed; refusals come back as the Indexer's messages."""

from __future__ import annotations

import json
import time

from tests.cli.conftest import make_video


def wait_for(check, what: str, deadline_s: float = 60.0):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def test_a_library_added_from_the_cli_is_watched_listed_and_removed(cli, services):
    folder = services.videos / "cli-library"
    folder.mkdir()
    added = cli("libraries", "add", str(folder))
    assert added.code == 0 and f"watching {folder}" in added.out

    video = make_video(folder / "arrived.mp4", seed=71)

    def indexed():
        listed = json.loads(cli("videos", "list", "--all", "--json").out)["videos"]
        return [v for v in listed if v["path"] == str(video)]

    wait_for(indexed, "the new file to be indexed by the watcher")
    [library] = wait_for(lambda: [lib for lib in json.loads(cli("libraries", "list", "--json").out)["libraries"]
                                  if lib["files_indexed"] == 1], "the library to count it")
    assert library["path"] == str(folder) and library["files_seen"] == 1 and library["state"] in ("idle", "scanning")
    table = cli("libraries", "list")
    assert table.code == 0 and "cli-library" in table.out
    assert "count since the Indexer started" in " ".join(table.out.split()), "the counters say what they count"

    again = cli("libraries", "add", str(folder))
    assert again.code == 1 and "already a library" in again.err
    assert cli("libraries", "remove", str(folder)).code == 0
    assert json.loads(cli("libraries", "list", "--json").out)["libraries"] == []
    gone = cli("libraries", "remove", str(folder))
    assert gone.code == 1 and "is not a library" in gone.err


def test_libraries_name_one_indexer(cli, services):
    result = cli("--indexer-address", f"{services.indexer},{services.indexer}", "libraries", "list")
    assert result.code == 1 and "one Indexer" in result.err
