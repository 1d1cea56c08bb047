"""A model directory's caveat about itself, shown beside every search it answers.

A directory may hold ``videosearch.json`` with a ``"notice"`` string, for example the demo
model's "knows only the toy world of coloured shapes". Hub ids and directories without the
file have no notice. A broken file is logged and ignored: a caveat must never stop a model
from serving.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

NOTICE_FILE = "videosearch.json"
MAX_NOTICE_CHARS = 500


def read_notice(source: str | Path) -> str:
    """The ``notice`` of ``source``/videosearch.json, or "" when there is none."""
    if not source:
        return ""
    path = Path(source) / NOTICE_FILE
    if not path.is_file():
        return ""
    try:
        notice = json.loads(path.read_text(encoding="utf-8")).get("notice", "")
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("ignoring %s: %s", path, exc)
        return ""
    if not isinstance(notice, str):
        log.warning("ignoring %s: its notice is not a string", path)
        return ""
    return notice.strip()[:MAX_NOTICE_CHARS]
