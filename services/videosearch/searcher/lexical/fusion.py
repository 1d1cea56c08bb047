"""Weighted reciprocal-rank fusion of the seen, said and written rankings of moments.

Each list ranks moments (video id, moment index) best first. A moment's fused score is

    sum over lists L that hold it:  weight(L) * quality / (k + rank in L)

with k = 60 (Cormack et al., 2009), quality 1 for the seen list and q^2 for a said or written
match, where q is the span's match quality (index.py: the share of the query's IDF weight it
holds with its words beside each other as in the query, scattered words counting a quarter).
Ranks, not raw scores, are fused because cosines and BM25 scores live on unrelated scales; the
quality factor keeps a span that shares words with a visual query ("the red team ... circle
back" for "a red circle") from outranking the moment that looks right, while a span holding the
whole query, or the part of it that is not about the look, counts fully. Said and written weigh
1.5 by default against 1 for seen: a moment first in a text list with full coverage then beats
the visual list's first moment, whose rank alone says little when the query names words rather
than a look. docs/searcher-notes.md shows the arithmetic and the bench (bench/text_quality.py)
measures it.
"""

from __future__ import annotations

from dataclasses import dataclass

from videosearch.searcher.types import MatchKind

MomentKey = tuple[str, int]  # (video id, moment index)
DEFAULT_RRF_K = 60
DEFAULT_SEEN_WEIGHT = 1.0
DEFAULT_TEXT_WEIGHT = 1.5
DEFAULT_QUALITY_POWER = 2.0


@dataclass(frozen=True)
class FusionWeights:
    """Per-kind weights of the fusion and its rank constant k."""

    seen: float = DEFAULT_SEEN_WEIGHT
    said: float = DEFAULT_TEXT_WEIGHT
    written: float = DEFAULT_TEXT_WEIGHT
    k: int = DEFAULT_RRF_K
    quality_power: float = DEFAULT_QUALITY_POWER

    def of(self, kind: MatchKind) -> float:
        return getattr(self, kind)


@dataclass(frozen=True)
class FusedMoment:
    key: MomentKey
    score: float
    kinds: tuple[MatchKind, ...]  # the lists that hold it, in MATCH_KINDS order


def fuse(
    seen: list[MomentKey],
    text: dict[MatchKind, list[tuple[MomentKey, float, float]]],
    weights: FusionWeights,
    seen_matched: set[MomentKey],
    restated: dict[MomentKey, int | None] | None = None,
) -> list[FusedMoment]:
    """Fused ranking of ``seen`` (moments best first) and ``text`` (per kind: (moment, quality,
    the score its list is ordered by) best first; equal scores share the better rank). Only moments in ``seen_matched`` say they matched by what is seen (the caller
    picks those a seen-only search would show), so "seen" is not claimed for every moment of a
    small library although every moment has a visual rank. ``restated``: moments whose seen
    rank is their rank for the rest of the query once their spans' words are taken out
    (residual.py), in place of their place in ``seen`` (None: not ranked for it)."""
    restated = restated or {}
    scores: dict[MomentKey, float] = {}
    kinds: dict[MomentKey, list[MatchKind]] = {}
    seen_rank: dict[MomentKey, int] = {}
    ranks = [(rank, key) for rank, key in enumerate(seen, 1) if key not in restated]
    ranks += [(rank, key) for key, rank in restated.items() if rank is not None]
    for rank, key in ranks:
        scores[key] = scores.get(key, 0.0) + weights.seen / (weights.k + rank)
        seen_rank[key] = rank
        if key in seen_matched:
            kinds.setdefault(key, []).append("seen")
    for kind in ("said", "written"):
        rank, last = 0, None
        for place, (key, quality, score) in enumerate(text.get(kind, ()), 1):
            if score != last:  # spans scoring the same share a rank: their order says nothing
                rank, last = place, score
            scores[key] = scores.get(key, 0.0) + weights.of(kind) * quality**weights.quality_power / (weights.k + rank)
            kinds.setdefault(key, []).append(kind)
    order = sorted(scores, key=lambda key: (-scores[key], seen_rank.get(key, len(seen) + 1)))
    return [FusedMoment(key, scores[key], tuple(kinds.get(key, ()))) for key in order]
