"""Weighted reciprocal-rank fusion of the seen, said and written rankings of moments.

Each list ranks moments (video id, moment index) best first. A moment's fused score is

    sum over lists L that hold it:  weight(L) * quality / (k + rank in L)

with k = 60 (Cormack et al., 2009), quality 1 for the seen list and, for a said or written
match, the share of the query's IDF weight its span holds with its words near other query words,
each at its proximity weight (index.py's SpanMatch.held_share: 1 as in the query, less the farther
apart; a near match of a misheard word counts its weight too).
Ranks, not raw scores, are fused because cosines and BM25 scores live on unrelated scales.
Words a span holds only scattered answer no part of the query and add nothing here ("the red
team ... circle back" for "a red circle": a visual query ranks by its look alone; they still
order the spans within their list), while a span holding the whole query, or the part of it
that is not about the look, counts fully. Said and written weigh 1.5 by default against 1 for
seen: a moment first in a text list with full coverage then beats the visual list's first
moment, whose rank alone says little when the query names words rather
than a look. Spans with equal scores share the better rank (their order says nothing). A
text-matched moment's seen rank may be restated: its rank for the query without the words its
spans hold (residual.py), the caller's ``restated``. docs/searcher-notes.md shows the arithmetic
and the bench (bench/text/quality.py) measures it.
"""

from __future__ import annotations

from dataclasses import dataclass

from videosearch.searcher.types import MatchKind

MomentKey = tuple[str, int]  # (video id, moment index)
DEFAULT_RRF_K = 60
DEFAULT_SEEN_WEIGHT = 1.0
DEFAULT_TEXT_WEIGHT = 1.5
DEFAULT_QUALITY_POWER = 1.0  # the held share counts as it is (2 squared it when scattered words counted)


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
    seen_scores: list[float] | None = None,
) -> list[FusedMoment]:
    """Fused ranking of ``seen`` (moments best first) and ``text`` (per kind: (moment, quality,
    the score its list is ordered by) best first; equal scores share the better rank). Only
    moments in ``seen_matched`` say they matched by what is seen (the caller picks those a
    seen-only search would show), so "seen" is not claimed for every moment of a small library
    although every moment has a visual rank. ``restated``: moments whose seen
    rank is their rank for the rest of the query once their spans' words are taken out
    (residual.py), in place of their place in ``seen`` (None: not ranked for it).
    ``seen_scores``: the seen list's cosines; moments that look the same share the better rank."""
    restated = restated or {}
    scores: dict[MomentKey, float] = {}
    kinds: dict[MomentKey, list[MatchKind]] = {}
    seen_rank: dict[MomentKey, int] = {}
    ranks = [
        (rank, key) for rank, key in zip(shared_ranks(seen_scores or range(len(seen))), seen) if key not in restated
    ]
    ranks += [(rank, key) for key, rank in restated.items() if rank is not None]
    for rank, key in ranks:
        scores[key] = scores.get(key, 0.0) + weights.seen / (weights.k + rank)
        seen_rank[key] = rank
        if key in seen_matched:
            kinds.setdefault(key, []).append("seen")
    for kind in ("said", "written"):
        found = text.get(kind, [])
        for rank, (key, quality, _score) in zip(shared_ranks([score for _, _, score in found]), found):
            scores[key] = scores.get(key, 0.0) + weights.of(kind) * quality**weights.quality_power / (weights.k + rank)
            kinds.setdefault(key, []).append(kind)
    # Equal scores (a span holding only scattered words, in a lexical-only search): the better look, then the text list's order.
    text_place: dict[MomentKey, int] = {}
    for found in text.values():
        for place, (key, _, _) in enumerate(found):
            text_place[key] = min(place, text_place.get(key, place))
    order = sorted(
        scores, key=lambda key: (-scores[key], seen_rank.get(key, len(seen) + 1), text_place.get(key, len(text_place)))
    )
    return [FusedMoment(key, scores[key], tuple(kinds.get(key, ()))) for key in order]


def shared_ranks(scores) -> list[int]:
    """Ranks from 1 of a list ordered best first, equal scores sharing the better rank (their
    order says nothing): [0.9, 0.5, 0.5, 0.1] -> [1, 2, 2, 4]."""
    ranks: list[int] = []
    last = None
    for place, score in enumerate(scores, 1):
        ranks.append(place if score != last or not ranks else ranks[-1])
        last = score
    return ranks
