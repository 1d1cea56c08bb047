"""A text query matched against what is seen, said and written: the visual ranking (any tier
or backend) and the lexical index, fused (fusion.py) into one list of moment hits.

A said or written match names the moment its span starts in; a moment found only by its text
is read from the store (its scene and moment records, and its embedding for the cosine the hit
reports), so only the hits that are shown cost a read.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from videosearch.common.errors import Cancelled, VideoSearchError
from videosearch.searcher.ranking.filters import VideoTable
from videosearch.searcher.ranking.index import Candidates
from videosearch.searcher.lexical.fusion import FusionWeights, MomentKey, fuse, shared_ranks
from videosearch.searcher.lexical.index import LexicalIndex, SpanMatch, Tolerated, highlights, is_recognized
from videosearch.searcher.lexical.residual import ResidualQueries
from videosearch.searcher.lexical.tokens import ParsedQuery, parse_query
from videosearch.searcher.types import MATCH_KINDS, MomentHit, SearchParams, TextMatch

# Moments taken from each list before fusing: a moment ranked below this in every list cannot
# reach the first page of a fused ranking anyway (its best contribution is 1.5 / (60 + 200)).
DEFAULT_FUSION_DEPTH = 200
# What FusedHits.fallbacks names when the rests of the query could not be embedded.
RESIDUAL_FALLBACK = "residual_query"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusedHits:
    """Fused moment hits best first, and per hit the spans that matched (for highlights)."""

    hits: list[MomentHit]
    spans: dict[MomentKey, list[SpanMatch]]
    query: ParsedQuery
    approximate_used: bool = False
    tolerated: Tolerated = dataclasses.field(default_factory=dict)  # the query words' near matches
    # What this search did the lesser way because a part failed (RESIDUAL_FALLBACK); empty normally.
    fallbacks: tuple[str, ...] = ()


class TextSearch:
    def __init__(
        self,
        store,
        index,
        lexical: LexicalIndex,
        weights: FusionWeights = FusionWeights(),
        depth: int = DEFAULT_FUSION_DEPTH,
    ) -> None:
        self.store, self.index, self.lexical, self.weights, self.depth = store, index, lexical, weights, depth

    def rank(
        self,
        text: str,
        vector: np.ndarray | None,
        params: SearchParams,
        candidates: Candidates,
        wanted: int,
        residual: ResidualQueries | None = None,
    ) -> FusedHits:
        """Up to ``wanted`` moment hits (videos mode: enough moments to fill ``wanted`` videos).
        ``residual``: the query's terms, to rank a text-matched moment's look by the query without
        the words its spans hold (residual.py); without it every moment's look is ranked by ``vector``."""
        kinds = params.kinds or MATCH_KINDS
        depth = max(wanted, self.depth)
        seen_hits, approximate = [], False
        if vector is not None and "seen" in kinds:
            ranked = self.index.rank(vector, dataclasses.replace(params, mode="scenes", top_k=depth), candidates)
            seen_hits, approximate = ranked.scenes, ranked.approximate_used
        query = parse_query(text)
        tolerated = self.lexical.tolerated(query) if any(kind in kinds for kind in ("said", "written")) else {}
        text_lists: dict = {}
        spans: dict[MomentKey, list[SpanMatch]] = {}
        for kind in ("said", "written"):
            if kind not in kinds:
                continue
            found = self._allowed(self.lexical.search(query, [kind], depth * 2, tolerated), candidates)[:depth]
            text_lists[kind] = [((m.video_id, m.moment_index), m.held_share, m.rank_score) for m in found]
            for match in found:
                spans.setdefault((match.video_id, match.moment_index), []).append(match)
        seen_keys = [_key(h) for h in seen_hits]
        # "Seen" is claimed by the moments a seen-only search shows up to this page, with a positive cosine.
        seen_matched = {key for key, hit in zip(seen_keys[: wanted - 1], seen_hits) if hit.score > 0}
        restated: dict[MomentKey, int | None] = {}
        fallbacks: tuple[str, ...] = ()
        if residual is not None and seen_hits:
            ranks = self._residual_ranks(text_lists, spans, residual, params, candidates, depth, wanted, seen_matched)
            restated, fallbacks = (ranks, ()) if ranks is not None else ({}, (RESIDUAL_FALLBACK,))
        fused = fuse(seen_keys, text_lists, self.weights, seen_matched, restated, [h.score for h in seen_hits])
        by_key = dict(zip(seen_keys, seen_hits))
        hits: list[MomentHit] = []
        videos: set[str] = set()
        records: dict[str, tuple | None] = {}
        for moment in fused:
            hit = by_key.get(moment.key) or self._hit_of(moment.key, vector, records)
            if hit is None:  # deleted since the lexical index saw it
                continue
            hits.append(dataclasses.replace(hit, matched_kinds=moment.kinds, fused_score=moment.score))
            videos.add(hit.video_id)
            if (len(videos) if params.mode == "videos" else len(hits)) > wanted:
                break
        return FusedHits(hits, spans, query, approximate, tolerated, fallbacks)

    def _residual_ranks(
        self,
        text_lists: dict,
        spans: dict[MomentKey, list[SpanMatch]],
        residual: ResidualQueries,
        params: SearchParams,
        candidates: Candidates,
        depth: int,
        wanted: int,
        seen_matched: set[MomentKey],
    ) -> dict[MomentKey, int | None] | None:
        """Each text-matched moment's seen rank by the query without the words its spans hold
        (None: not among the ``depth`` best for it), for the moments first in the text lists
        whose rest is one of the MAX_RESIDUALS first; updates ``seen_matched`` to claim "seen"
        by that rank. None, with nothing updated, when the rests could not be embedded (the
        Embedder failed on this second call)."""
        held_of: dict[MomentKey, frozenset[str]] = {}
        for rank in range(max((len(found) for found in text_lists.values()), default=0)):
            for found in text_lists.values():
                if rank < len(found):
                    key = found[rank][0]
                    if key not in held_of:
                        held_of[key] = frozenset().union(*(match.held for match in spans[key]))
        try:
            vectors = residual.without([held for held in held_of.values() if held])
        except Cancelled:
            raise
        except VideoSearchError as exc:
            # The rests refine the ranking; without them every look is ranked by the whole query
            # (its first embedding), as before they existed, and the search still answers.
            log.warning("the rest of the query could not be embedded; looks ranked by the whole query: %s", exc)
            return None
        restated: dict[MomentKey, int | None] = {}
        for held, vector in vectors.items():
            ranked = self.index.rank(vector, dataclasses.replace(params, mode="scenes", top_k=depth), candidates)
            ranks = shared_ranks([hit.score for hit in ranked.scenes])
            at = {_key(hit): (rank, hit.score) for rank, hit in zip(ranks, ranked.scenes)}
            for key in (key for key, of in held_of.items() if of == held):
                found = at.get(key)
                restated[key] = found[0] if found is not None else None
                seen_matched.discard(key)
                if found is not None and found[0] < wanted and found[1] > 0:
                    seen_matched.add(key)
        return restated

    def text_matches(self, hit: MomentHit, fused: FusedHits) -> tuple[TextMatch, ...]:
        """The hit's matching spans with their highlights, read from the store (shown hits only)."""
        matches = fused.spans.get(_key(hit))
        if not matches:
            return ()
        stored = self.store.get_text_spans(hit.video_id)
        near = [term for found in fused.tolerated.values() for match in found for term in match.terms]
        out = []
        for match in matches:
            if match.span_index < len(stored):
                span = stored[match.span_index]
                marked = highlights(span.text, fused.query, near if is_recognized(span) else ())
                out.append(TextMatch(span, marked, match.score))
        return tuple(out)

    def _allowed(self, matches: list[SpanMatch], candidates: Candidates) -> list[SpanMatch]:
        """The matches the search's filters and excluded examples let through."""
        kept = []
        for match in matches:
            excluded = candidates.excluded.get(match.video_id, ()) if match.video_id in candidates.excluded else ()
            if excluded is None or match.moment_index in (excluded or ()):
                continue
            kept.append(match)
        if candidates.video_filter is None or not candidates.video_filter.filters_videos or not kept:
            return kept
        ids = sorted({m.video_id for m in kept})
        records = [self.index.video(video_id) for video_id in ids]
        known = [(video_id, r) for video_id, r in zip(ids, records) if r is not None]
        passing = VideoTable([r for _, r in known]).passing(candidates.video_filter)
        ok = {video_id for (video_id, _), passes in zip(known, passing) if passes}
        return [m for m in kept if m.video_id in ok]

    def _hit_of(self, key: MomentKey, vector: np.ndarray | None, records: dict) -> MomentHit | None:
        video_id, moment_index = key
        if video_id not in records:
            found = self.store.get_video_moments(video_id)
            embeddings = self.store.get_embeddings(video_id) if found is not None and vector is not None else None
            records[video_id] = None if found is None else (*found, embeddings)
        record = records[video_id]
        if record is None or moment_index >= len(record[2]):
            return None
        _video, scenes, moments, embeddings = record
        moment = moments[moment_index]
        score = (
            float(np.dot(embeddings[moment_index], vector)) if embeddings is not None and vector is not None else 0.0
        )
        return MomentHit(video_id, scenes[moment.scene_index], score, moment)


def _key(hit: MomentHit) -> MomentKey:
    return hit.video_id, hit.moment.index if hit.moment is not None else hit.scene.index
