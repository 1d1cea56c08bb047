"""What a search hit carries beside its scores: a URI that opens the file at the moment,
and on request the explanation (every sampled frame's score, the best one first named)."""

from __future__ import annotations

import math
from urllib.parse import quote

import numpy as np

from videosearch.searcher.types import FrameScore, HitExplanation, SampledFrame


def open_uri(uri: str, start_seconds: float) -> str:
    """``file:///path#t=START`` for a path (a W3C media fragment, which browsers, VLC and mpv's
    URL handling understand); another URI gets ``#t=START`` appended (any earlier fragment replaced)."""
    start = f"{max(start_seconds, 0.0):.3f}".rstrip("0").rstrip(".") if math.isfinite(start_seconds) else "0"
    if uri.startswith("/"):
        return f"file://{quote(uri, safe='/')}#t={start}"
    return f"{uri.split('#', 1)[0]}#t={start}"


def explain(stored: tuple[list[SampledFrame], np.ndarray] | None, query: np.ndarray) -> HitExplanation:
    """Scores of a moment's sampled frames (stored as float16) against the unit query."""
    if stored is None or not stored[0]:
        return HitExplanation(best_frame_index=-1)
    frames, vectors = stored
    scores = vectors.astype(np.float32) @ query
    return HitExplanation(
        best_frame_index=int(np.argmax(scores)),
        frames=tuple(FrameScore(f.frame, f.seconds, float(score)) for f, score in zip(frames, scores)),
    )
