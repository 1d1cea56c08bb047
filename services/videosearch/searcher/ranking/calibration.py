"""Scores that mean "relevant": a per-model map from raw cosine to a relevance in [0, 1].

Raw scores are not comparable across models: a CLIP's matching image and caption score
about 0.3 and unrelated ones about 0.15, a SigLIP's matches sit near 0.1 and the demo
model's near 0.9. So each model is measured against itself. The *null distribution* is
what the model scores for pairs that do not match:

* text queries: stored moments against reference captions that describe none of them
  (:data:`REFERENCE_CAPTIONS`, everyday scenes in English and Chinese);
* image, scene, video and vector queries: stored moments against moments of other videos.

Relevance is then a logistic curve through the null's 99th percentile (relevance 0.5:
"clearly above what unrelated captions score") and its median (relevance 0.01), so 0.5
means the same for every family, whatever its raw scale. Nothing here needs labels or a
download: the Searcher measures it with the answering model on its first query and again
when the collection has grown or shrunk by half.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

STRONG_RELEVANCE = 0.5
"""Relevance at and above which a hit is a strong match (clients fold weaker ones away)."""

NULL_QUANTILE = 99.0  # the null's percentile that maps to STRONG_RELEVANCE
MEDIAN_RELEVANCE = 0.01  # what the null's median maps to
MAX_SAMPLE_VIDEOS = 64
MAX_MOMENTS_PER_VIDEO = 8
REFIT_GROWTH = 1.5  # refit when the stored moments changed by this factor
CAPTIONS_PER_REQUEST = 8

REFERENCE_CAPTIONS: tuple[str, ...] = (
    "a dog running on the grass",
    "a cat sleeping on a sofa",
    "a city street at night",
    "people walking on a beach",
    "a plate of food on a table",
    "a car driving on a highway",
    "snowy mountains under a blue sky",
    "a man giving a speech",
    "children playing football",
    "a bowl of fruit",
    "an airplane in the sky",
    "a woman cooking in a kitchen",
    "a crowded train station",
    "waves crashing on rocks",
    "a laptop on a desk",
    "a bird sitting on a branch",
    "fireworks over a river",
    "a horse in a field",
    "a bicycle leaning on a wall",
    "a close-up of a flower",
    "an old building with columns",
    "a football stadium",
    "rain on a window",
    "a baby laughing",
    "text on a computer screen",
    "一只在草地上奔跑的狗",
    "一只睡在沙发上的猫",
    "夜晚的城市街道",
    "在海滩上散步的人们",
    "桌子上的一盘食物",
    "一辆在公路上行驶的汽车",
    "蓝天下的雪山",
    "一个正在演讲的男人",
    "踢足球的孩子们",
    "一碗水果",
    "天空中的飞机",
    "在厨房做饭的女人",
    "拥挤的火车站",
    "拍打岩石的海浪",
    "桌子上的笔记本电脑",
)


@dataclass(frozen=True)
class Calibration:
    """One model's null distribution for one query kind, and the relevance curve it gives."""

    query_kind: str  # "text" or "image"
    null_median: float
    null_p99: float
    null_pairs: int

    @property
    def width(self) -> float:
        """The logistic's scale: the null's median lands at MEDIAN_RELEVANCE."""
        return max((self.null_p99 - self.null_median) / math.log(1 / MEDIAN_RELEVANCE - 1), 1e-4)

    def relevance(self, scores: np.ndarray | float) -> np.ndarray:
        z = (np.asarray(scores, dtype=np.float64) - self.null_p99) / self.width
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))

    def raw_score(self, relevance: float) -> float:
        """The raw score whose relevance is ``relevance`` (the inverse of :meth:`relevance`),
        clamped to cosines: -1 for 0 and below, 1 for 1 and above."""
        if relevance <= 0.0:
            return -1.0
        if relevance >= 1.0:
            return 1.0
        return float(min(1.0, max(-1.0, self.null_p99 + self.width * math.log(relevance / (1 - relevance)))))


def fit(query_kind: str, null_scores: np.ndarray) -> Calibration:
    """The calibration of a null distribution (raw scores of pairs that do not match)."""
    scores = np.asarray(null_scores, dtype=np.float64).ravel()
    scores = scores[np.isfinite(scores)]
    if scores.size == 0:  # nothing to measure yet: a curve centred on cosine 0.5
        return Calibration(query_kind, 0.0, 0.5, 0)
    return Calibration(
        query_kind, float(np.median(scores)), float(np.percentile(scores, NULL_QUANTILE)), int(scores.size)
    )


def text_null(moments: np.ndarray, captions: np.ndarray) -> np.ndarray:
    """Raw scores of stored moments (unit rows) against reference caption embeddings."""
    return (np.asarray(moments, np.float32) @ np.asarray(captions, np.float32).T).ravel()


def image_null(moments: np.ndarray, video_of_row: np.ndarray) -> np.ndarray:
    """Raw scores of stored moments against moments of other videos (all moments of one
    video when there is only one: then at least they are not the same moment)."""
    rows = np.asarray(moments, np.float32)
    videos = np.asarray(video_of_row)
    scores = rows @ rows.T
    other = videos[:, None] != videos[None, :]
    if not other.any():
        other = ~np.eye(len(rows), dtype=bool)
    return scores[other]


def query_kind(term_kinds: list[str]) -> str:
    """ "text" when every term of a query is text, else "image"."""
    return "text" if term_kinds and all(kind == "text" for kind in term_kinds) else "image"


class Calibrator:
    """The Searcher's calibrations, per model and query kind, measured when first needed
    and again when the collection changed size by REFIT_GROWTH."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fitted: dict[tuple[str, str], tuple[Calibration, int]] = {}  # -> (calibration, moments then)
        self._captions: dict[str, np.ndarray] = {}  # model id -> reference caption embeddings

    def get(
        self,
        model_id: str,
        kind: str,
        moment_count: int,
        sample: Callable[[], tuple[np.ndarray, np.ndarray]],
        embed_texts: Callable[[list[str]], np.ndarray],
    ) -> Calibration:
        """The calibration for ``kind`` queries; ``sample`` returns (moment rows, video of each
        row) from the stored collection and ``embed_texts`` embeds with the answering model."""
        key = (model_id, kind)
        with self._lock:
            known = self._fitted.get(key)
        if known is not None and _close(known[1], moment_count):
            return known[0]
        rows, videos = sample()
        if kind == "text":
            with self._lock:
                captions = self._captions.get(model_id)
            if captions is None:  # a few small requests: an Embedder may cap the texts per request
                captions = np.concatenate(
                    [
                        embed_texts(list(REFERENCE_CAPTIONS[i : i + CAPTIONS_PER_REQUEST]))
                        for i in range(0, len(REFERENCE_CAPTIONS), CAPTIONS_PER_REQUEST)
                    ]
                )
                with self._lock:
                    self._captions[model_id] = captions
            calibration = fit(kind, text_null(rows, captions) if len(rows) else np.empty(0))
        else:
            calibration = fit(kind, image_null(rows, videos) if len(rows) > 1 else np.empty(0))
        with self._lock:
            self._fitted[key] = (calibration, moment_count)
        return calibration

    def forget(self, model_id: str) -> None:
        """Drops what was measured for a model (its collection was replaced)."""
        with self._lock:
            self._captions.pop(model_id, None)
            for key in [k for k in self._fitted if k[0] == model_id]:
                del self._fitted[key]


def _close(then: int, now: int) -> bool:
    if then == now:
        return True
    low, high = sorted((max(then, 1), max(now, 1)))
    return high / low < REFIT_GROWTH
