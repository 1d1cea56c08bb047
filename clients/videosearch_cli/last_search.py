"""The last search run from this account, kept so that `search --next` shows its next page
and `export --hit N` cuts out one of its hits without retyping anything.

A small JSON file under $XDG_CACHE_HOME/videosearch (~/.cache/videosearch): the search's
arguments, its next page token and, per hit shown, what `export` needs (video id, path,
scene and moment frames and times).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from videosearch_cli.indexing import CliError


def state_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "videosearch" / "last-search.json"


def save(argv: list[str], next_page_token: str, hits: list[dict], first_rank: int = 1) -> None:
    """``first_rank``: the rank of the page's first hit (pages after the first continue the count)."""
    path = state_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(
            json.dumps({"argv": argv, "next_page_token": next_page_token, "hits": hits, "first_rank": first_rank})
        )
        temporary.replace(path)
    except OSError:  # a read-only home must not fail the search itself
        pass


def load() -> dict:
    try:
        return json.loads(state_file().read_text())
    except (OSError, ValueError):
        raise CliError("no earlier search is remembered here; run `videosearch search ...` first") from None
