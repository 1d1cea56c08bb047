"""An in-memory inverted index over text spans, ranked by BM25 (Robertson/Sparck Jones, k1 1.2,
b 0.75) with exact phrases.

A document is one span (a subtitle cue, a transcript segment, a piece of on-screen text).
Each term keeps one flat ``array('i')`` of (document, position) pairs in document order, so the
index costs about 8 bytes per indexed word plus a small record per span, and a query touches
only its terms' postings (numpy over the arrays, no Python loop per posting). A replaced or
deleted video's spans are marked dead and skipped; the postings are compacted once dead spans
outnumber the living. The index keeps no text: highlights are made from the stored spans of the
hits that are shown.

Not thread-safe for writers: the Searcher serializes writes; a reader works on the arrays as
they were when it started (appends only grow them, and compaction swaps in new ones).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from videosearch.searcher.lexical.tokens import ParsedQuery, scan, tokenize
from videosearch.searcher.lexical.tolerant import MAX_NEAR, NearMatch, Vocabulary
from videosearch.searcher.types import TextKind, TextSpan

K1 = 1.2
B = 0.75
KIND_CODES: dict[TextKind, int] = {"said": 0, "written": 1}


# What a query word found alone (not near another query word) counts for in a span's match
# quality: "the red team ... circle back" holds both words of "a red circle" but not the phrase,
# and should not count as if it said it.
SCATTERED_WEIGHT = 0.25
# Proximity: two query words found in a line count, in the share the fusion counts, by how their
# distance there compares with their distance in the query (a graded bonus for closeness, from 1
# as in the query down to nothing past MAX_GAP_WORDS; every matched word still counts in BM25).
# One word more or fewer between them, or swapped ("ferry Tasmania", "Tasmania ferry" for "the
# ferry to Tasmania"; "library is on your right" for a heard "library yes onur right"): keywords of
# that line, NEAR_PAIR_WEIGHT of as in the query.
NEAR_PAIR_WEIGHT = 0.9
# In the query's order with 2, 3 words more (or fewer) between them than typed: GAP_PAIR_WEIGHTS
# per extra word in a query of GAP_MIN_KEYWORDS or more indexed words (the typed summary of a
# sentence, whose own words stand between the keywords: "remember plants away" for "please
# remember to water the plants while I am away"), TWO_KEYWORD_GAP_WEIGHTS with two keywords
# ("snowman park" for "the children built a snowman in the park"). Two keywords a gap apart count
# less and only two words more apart: they must not outrank a line saying them together that the
# picture ranks lower (the demo's "discuss the quarterly budget at the meeting", first in the
# picture ranking, against "the budget meeting moved" for "budget meeting": docs/searcher-notes.md
# has the arithmetic), and three more is a coincidence ("the red team won, we circle back" for "a
# red circle"). Beyond MAX_GAP_WORDS words more they stay scattered.
GAP_PAIR_WEIGHTS = (0.75, 0.65)
TWO_KEYWORD_GAP_WEIGHTS = (0.5,)
MAX_GAP_WORDS = 1 + len(GAP_PAIR_WEIGHTS)
GAP_MIN_KEYWORDS = 3
# Query words this many places apart in the query's word list are paired too (neighbours, and the
# next but one): a keyword missing from the line, misheard past tolerance, leaves the two around it
# paired at their query distance ("doctor Tuesday afternoon" in a heard "doctor on use day afternoon").
PAIR_REACH = 2

# Where a span's words came from a recognizer that mishears or misreads them: only there does a
# query word also find its near spellings (tolerant.py). Subtitles are exact text.
RECOGNIZED_SOURCES = frozenset({"speech", "ocr"})
NEAR_MAX_SHARE = 0.01  # a near term in more of the spans than this is a common word, not a mishearing
NEAR_ALWAYS_SPANS = 1000  # ... but a term in fewer spans than this always counts (small libraries)

Tolerated = dict[str, list[NearMatch]]  # query term -> the near matches it may have been recognized as


def is_recognized(span: TextSpan) -> bool:
    """True when ``span``'s text came from speech recognition or OCR (on-screen text of an
    unknown source too: only a recognizer reads it)."""
    return span.source in RECOGNIZED_SOURCES or (span.source == "" and span.kind == "written")


@dataclass(frozen=True)
class SpanMatch:
    """A span that matched a query: its video, its place in the video's stored spans, the
    moment its start falls in, its BM25 score and its match quality (0..1): of the query's IDF
    weight, the share it holds with each word near another query word (each word counting its
    best pair's proximity weight: 1 as in the query, less the farther apart; _held_near),
    plus SCATTERED_WEIGHT of the share it holds anywhere. Spans rank by score x quality^2.
    ``held``: the query's terms it holds near another query word (a one-word query: the word),
    exactly or as a near match, and ``held_share`` their proximity-weighted share of the query's
    IDF weight (a near match counting its weight too): what the fusion counts (scattered words
    answer no part of the query), and the moment's look is ranked by the rest of the query
    (residual.py)."""

    video_id: str
    span_index: int
    moment_index: int
    kind: TextKind
    score: float
    quality: float
    held: frozenset[str] = frozenset()
    held_share: float = 0.0  # of the query's IDF weight, the share held near other query words (no scattered words)

    @property
    def rank_score(self) -> float:
        """What spans are ordered by: BM25 x quality^2."""
        return self.score * self.quality * self.quality


class LexicalIndex:
    def __init__(self, tolerant: bool = True) -> None:
        self.tolerant = tolerant  # near spellings of query words count in recognized spans
        self._reset()

    def _reset(self) -> None:
        self._postings: dict[str, array] = {}
        self._doc_video = array("i")  # document -> video slot
        self._doc_span = array("i")  # document -> index of the span in its video's stored spans
        self._doc_moment = array("i")  # document -> moment its start lies in
        self._doc_kind = array("b")  # document -> KIND_CODES
        self._doc_length = array("i")  # document -> indexed words
        self._doc_alive = bytearray()
        self._doc_recognized = bytearray()  # document -> 1 when its text came from a recognizer
        self._vocabulary = Vocabulary()
        self._video_ids: list[str] = []  # slot -> video id
        self._slot: dict[str, int] = {}  # video id -> slot
        self._docs_of: dict[int, tuple[int, int]] = {}  # slot -> [first, end) documents
        self._alive = 0
        self._alive_words = 0

    # -- writes ----------------------------------------------------------------------

    def put(self, video_id: str, spans: Iterable[TextSpan], moment_starts: Iterable[float]) -> None:
        """Indexes a video's spans (in stored order), replacing what it had. ``moment_starts``
        are its moments' start times in order: a span belongs to the moment its start lies in."""
        self.delete(video_id)
        starts = np.asarray(list(moment_starts), dtype=np.float64)
        spans = list(spans)
        if not spans:
            return
        slot = self._slot.get(video_id)
        if slot is None:
            slot = self._slot[video_id] = len(self._video_ids)
            self._video_ids.append(video_id)
        first = len(self._doc_video)
        all_postings = self._postings
        for span_index, span in enumerate(spans):
            doc = len(self._doc_video)
            tokens = scan(span.text)
            for term, _start, _end, position in tokens:
                postings = all_postings.get(term)
                if postings is None:
                    postings = all_postings[term] = array("i")
                    self._vocabulary.add(term)
                postings.extend((doc, position))
            moment = int(np.searchsorted(starts, span.start_seconds, side="right")) - 1 if len(starts) else 0
            self._doc_video.append(slot)
            self._doc_span.append(span_index)
            self._doc_moment.append(max(moment, 0))
            self._doc_kind.append(KIND_CODES[span.kind])
            self._doc_length.append(len(tokens))
            self._doc_alive.append(1)
            self._doc_recognized.append(is_recognized(span))
            self._alive_words += len(tokens)
        self._docs_of[slot] = (first, len(self._doc_video))
        self._alive += len(spans)

    def delete(self, video_id: str) -> None:
        slot = self._slot.get(video_id)
        docs = self._docs_of.pop(slot, None) if slot is not None else None
        if docs is None:
            return
        for doc in range(*docs):
            self._doc_alive[doc] = 0
            self._alive_words -= self._doc_length[doc]
        self._alive -= docs[1] - docs[0]
        if len(self._doc_alive) - self._alive > max(self._alive, 10_000):
            self.compact()

    def clear(self) -> None:
        self._reset()

    def compact(self) -> None:
        """Drops dead documents from the postings and renumbers the living."""
        alive = np.frombuffer(bytes(self._doc_alive), dtype=np.uint8).astype(bool)
        renumber = np.cumsum(alive) - 1
        postings = {}
        for term, pairs in self._postings.items():
            flat = np.frombuffer(pairs, dtype=np.int32).reshape(-1, 2)
            kept = flat[alive[flat[:, 0]]]
            if len(kept):
                kept = kept.copy()
                kept[:, 0] = renumber[kept[:, 0]]
                postings[term] = array("i", kept.ravel().tobytes())
        self._postings = postings
        self._vocabulary = Vocabulary()
        for term in postings:
            self._vocabulary.add(term)

        def keep(column: array) -> array:
            values = np.frombuffer(column, dtype=np.dtype(column.typecode))[alive] if len(column) else []
            return array(column.typecode, bytes(np.ascontiguousarray(values).data) if len(column) else b"")

        self._doc_video, self._doc_span, self._doc_moment = (
            keep(self._doc_video),
            keep(self._doc_span),
            keep(self._doc_moment),
        )
        self._doc_kind, self._doc_length = keep(self._doc_kind), keep(self._doc_length)
        self._doc_alive = bytearray(b"\x01" * int(alive.sum()))
        self._doc_recognized = bytearray(np.frombuffer(bytes(self._doc_recognized), dtype=np.uint8)[alive].tobytes())
        self._docs_of = {
            slot: (int(renumber[first]), int(renumber[end - 1]) + 1) for slot, (first, end) in self._docs_of.items()
        }

    # -- reads -----------------------------------------------------------------------

    @property
    def span_count(self) -> int:
        return self._alive

    @property
    def term_count(self) -> int:
        return len(self._postings)

    def memory_bytes(self) -> int:
        """What the arrays and the term table hold (a lower bound of the process's cost)."""
        import sys

        arrays = sum(a.buffer_info()[1] * a.itemsize for a in self._postings.values())
        per_term = sum(sys.getsizeof(t) + 64 for t in self._postings)  # the array object and the dict slot
        columns = sum(
            len(c) * c.itemsize
            for c in (self._doc_video, self._doc_span, self._doc_moment, self._doc_kind, self._doc_length)
        ) + 2 * len(self._doc_alive)
        return (
            self._vocabulary.memory_bytes()
            + arrays
            + per_term
            + columns
            + sum(sys.getsizeof(v) for v in self._video_ids)
            + 200 * len(self._docs_of)
        )

    def tolerated(self, query: ParsedQuery) -> Tolerated:
        """The near matches of the query's words (tolerant.py), none for a word of a quoted phrase
        (exact by request) or when tolerance is off."""
        if not self.tolerant:
            return {}
        exact = {term for phrase in query.phrases for term, _ in phrase}
        known = self._postings.__contains__
        out: Tolerated = {}
        for term in query.terms:
            if term in exact:
                continue
            best: dict[tuple[str, ...], NearMatch] = {}
            candidates = [
                match
                for spelling in (term, *(surface for of, surface in query.surfaces if of == term))
                for match in self._vocabulary.near_matches(spelling, known)
            ]
            candidates += [
                match
                for of, word, joined in query.joined
                if of == term
                for match in self._vocabulary.near_joined(word, joined, known)
            ]
            for match in candidates:
                if match.terms != (term,) and match.weight > getattr(best.get(match.terms), "weight", 0.0):
                    best[match.terms] = match
            if best:
                out[term] = sorted(best.values(), key=lambda match: -match.weight)[:MAX_NEAR]
        return out

    def search(
        self, query: ParsedQuery, kinds: Iterable[TextKind], limit: int, tolerated: Tolerated | None = None
    ) -> list[SpanMatch]:
        """The best spans of the given kinds for ``query``, best first, at most one per moment
        and kind (its best span) and ``limit`` in all. A span must contain every quoted phrase.
        In recognized spans a query word's near matches (``tolerated``, by default
        :meth:`tolerated`) count as the word, at their weight."""
        wanted_kinds = [KIND_CODES[k] for k in kinds]
        if not query.terms or not self._alive or not wanted_kinds:
            return []
        if tolerated is None:
            tolerated = self.tolerated(query)
        n = self._alive
        average_length = max(self._alive_words / n, 1.0)
        alive = np.frombuffer(self._doc_alive, dtype=np.uint8)
        recognized = np.frombuffer(self._doc_recognized, dtype=np.uint8) & alive
        lengths = np.frombuffer(self._doc_length, dtype=np.int32)
        docs_parts, score_parts, weight_parts = [], [], []
        total_weight = 0.0
        pairs_of: dict[str, np.ndarray] = {}
        idf_of: dict[str, float] = {}
        held_of: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term -> (its documents, their match weights)
        for term in query.terms:
            flat = self._pairs(term, alive)
            # The word's document frequency is its exact one: near matches lend it no weight of its own.
            frequency = len(_runs(flat[:, 0])[0])
            idf = math.log(1.0 + (n - frequency + 0.5) / (frequency + 0.5))
            weights = np.ones(len(flat))
            if tolerated.get(term):
                flat, weights = self._with_near(flat, tolerated[term], recognized)
            pairs_of[term] = flat
            idf_of[term] = idf
            total_weight += idf
            docs, counts, starts = _runs_at(flat[:, 0])
            if not len(docs):
                continue
            doc_weight = np.maximum.reduceat(weights, starts)
            held_of[term] = (docs, doc_weight)
            norm = K1 * (1.0 - B + B * lengths[docs] / average_length)
            docs_parts.append(docs)
            score_parts.append(idf * counts * (K1 + 1.0) / (counts + norm) * doc_weight)
            weight_parts.append(idf * doc_weight)
        if not docs_parts:
            return []
        # Sums per span by counting into one bin per span: linear in the postings touched (a sort of
        # them, np.unique, cost 2-3x more at 1M spans).
        every = np.concatenate(docs_parts)
        all_scores = np.bincount(every, np.concatenate(score_parts), minlength=len(alive))
        docs = np.flatnonzero(all_scores)
        scores = all_scores[docs]
        coverage = np.bincount(every, np.concatenate(weight_parts), minlength=len(alive))[docs] / max(
            total_weight, 1e-9
        )
        kinds_of = np.frombuffer(self._doc_kind, dtype=np.int8)[docs]
        keep = np.isin(kinds_of, wanted_kinds)
        for phrase in query.phrases:
            keep &= _contains_phrase(docs, phrase, pairs_of)
        docs, scores, coverage = docs[keep], scores[keep], np.minimum(coverage[keep], 1.0)
        near, held = _held_near(docs, query, pairs_of, idf_of, held_of)
        quality = SCATTERED_WEIGHT * coverage + (1.0 - SCATTERED_WEIGHT) * near
        order = np.argsort(-(scores * quality * quality), kind="stable")
        out: list[SpanMatch] = []
        seen: set[tuple[int, int, int]] = set()
        for at in order:
            doc = int(docs[at])
            slot, moment, kind = self._doc_video[doc], self._doc_moment[doc], self._doc_kind[doc]
            if (slot, moment, kind) in seen:
                continue
            seen.add((slot, moment, kind))
            out.append(
                SpanMatch(
                    self._video_ids[slot],
                    self._doc_span[doc],
                    moment,
                    "said" if kind == 0 else "written",
                    float(scores[at]),
                    float(quality[at]),
                    frozenset(term for (term, _), holds in zip(query.words, held[:, at]) if holds > 0),
                    float(near[at]),
                )
            )
            if len(out) >= limit:
                break
        return out

    def _pairs(self, term: str, alive: np.ndarray) -> np.ndarray:
        """(n, 2) the living (document, position) pairs of ``term``."""
        postings = self._postings.get(term)
        flat = np.frombuffer(postings, dtype=np.int32).reshape(-1, 2) if postings else np.empty((0, 2), np.int32)
        return flat[alive[flat[:, 0]] == 1]

    def _with_near(
        self, exact: np.ndarray, near: list[NearMatch], recognized: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The word's exact pairs with its near matches' pairs in recognized documents added,
        in (document, position) order, and each pair's weight (1 for exact; a position matched
        twice keeps its best). A near term in more than NEAR_MAX_SHARE of the spans is a common
        word of its own, not a mishearing, and is left out (its postings would cost the most)."""
        common = max(NEAR_MAX_SHARE * self._alive, NEAR_ALWAYS_SPANS)
        key_parts = [exact[:, 0].astype(np.int64) * _POSITIONS + exact[:, 1]]
        weight_parts = [np.ones(len(exact))]
        for match in near:
            if any(len(self._postings.get(term, ())) > 2 * common for term in match.terms):
                continue
            first = self._pairs(match.terms[0], recognized)
            keys = first[:, 0].astype(np.int64) * _POSITIONS + first[:, 1]
            if len(match.terms) == 2:  # two adjacent words: both positions count
                second = self._pairs(match.terms[1], recognized)
                keys = _sorted_common(keys, second[:, 0].astype(np.int64) * _POSITIONS + second[:, 1] - 1)
                keys = np.concatenate([keys, keys + 1])
            key_parts.append(keys)
            weight_parts.append(np.full(len(keys), match.weight))
        keys, weights = np.concatenate(key_parts), np.concatenate(weight_parts)
        order = np.argsort(keys, kind="stable")  # sorted runs: a merge
        keys, weights = keys[order], weights[order]
        if not len(keys):
            return np.empty((0, 2), np.int32), weights
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        keys, weights = keys[starts], np.maximum.reduceat(weights, starts)
        return np.stack([keys // _POSITIONS, keys % _POSITIONS], axis=1).astype(np.int32), weights


def _runs(sorted_docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct documents of a posting list (in document order) and how often each occurs."""
    docs, counts, _starts = _runs_at(sorted_docs)
    return docs, counts


def _runs_at(sorted_docs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_runs` and where each document's run starts."""
    if not len(sorted_docs):
        return sorted_docs, np.empty(0, np.int64), np.empty(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_docs[1:] != sorted_docs[:-1]])
    return sorted_docs[starts], np.diff(np.r_[starts, len(sorted_docs)]), starts


_POSITIONS = 1 << 16  # more than any span's words (spans are at most MAX_TEXT_SPAN_CHARS characters)


def _contains_phrase(
    docs: np.ndarray, phrase: tuple[tuple[str, int], ...], pairs_of: dict[str, np.ndarray]
) -> np.ndarray:
    """(len(docs),) bool: the document has the phrase's terms at the phrase's relative positions."""
    empty = np.empty((0, 2), np.int32)
    starts: np.ndarray | None = None  # doc * _POSITIONS + position of the phrase's first word, narrowed term by term
    for term, offset in phrase:
        pairs = pairs_of.get(term, empty).astype(np.int64)
        pairs = pairs[pairs[:, 1] >= offset]
        # Postings are in (span, position) order, so these keys are already sorted.
        keys = pairs[:, 0] * _POSITIONS + pairs[:, 1] - offset
        starts = keys if starts is None else _sorted_common(starts, keys)
    assert starts is not None, "a phrase has at least one term"
    return _sorted_member(docs, starts // _POSITIONS)


def _sorted_common(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values of sorted ``a`` also in sorted ``b``, by binary search of the shorter in the longer."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a) or not len(b):
        return a[:0]
    at = np.minimum(np.searchsorted(b, a), len(b) - 1)
    return a[b[at] == a]


def _sorted_member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """(len(values),) bool: each value is in ``sorted_set`` (sorted, repeats allowed)."""
    if not len(sorted_set):
        return np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def _held_near(
    docs: np.ndarray,
    query: ParsedQuery,
    pairs_of: dict[str, np.ndarray],
    idf_of: dict[str, float],
    held_of: dict[str, tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """(len(docs),) the IDF-weighted share of the query's words that each document holds near
    another query word (up to PAIR_REACH places apart in the query), each word counting the best
    proximity weight of its pairs (_pair_weights: 1 as in the query) times the lesser match
    weight of the two (a near match of a misheard word counts its weight); a one-word query: the
    word itself. And (len(query.words), len(docs)): what each word counts for in each document
    (0: not held so)."""
    words = query.words
    weights = np.array([idf_of.get(term, 0.0) for term, _ in words])
    held = np.zeros((len(words), len(docs)))
    if not len(words) or weights.sum() <= 0:
        return np.zeros(len(docs)), held
    found_weight: dict[str, np.ndarray] = {}

    def weight_in(term: str) -> np.ndarray:
        if term not in found_weight:
            found = held_of.get(term)
            if found is None or not len(found[0]):
                found_weight[term] = np.zeros(len(docs))
            else:
                at = np.minimum(np.searchsorted(found[0], docs), len(found[0]) - 1)
                found_weight[term] = np.where(found[0][at] == docs, found[1][at], 0.0)
        return found_weight[term]

    if len(words) == 1:
        held[0] = weight_in(words[0][0])
    gaps = GAP_PAIR_WEIGHTS if len(words) >= GAP_MIN_KEYWORDS else TWO_KEYWORD_GAP_WEIGHTS
    for i in range(len(words) - 1):
        for j in range(i + 1, min(len(words), i + 1 + PAIR_REACH)):
            (first, at), (second, other_at) = words[i], words[j]
            pair = _pair_weights(docs, first, second, other_at - at, pairs_of, gaps)
            if not pair.any():
                continue
            beside = pair * np.minimum(weight_in(first), weight_in(second))
            held[i] = np.maximum(held[i], beside)
            held[j] = np.maximum(held[j], beside)
    return (weights[:, None] * held).sum(axis=0) / weights.sum(), held


def _pair_weights(
    docs: np.ndarray,
    first: str,
    second: str,
    offset: int,
    pairs_of: dict[str, np.ndarray],
    gaps: tuple[float, ...],
) -> np.ndarray:
    """(len(docs),) the best proximity weight of ``first`` and ``second`` in each document, whose
    distance in the query is ``offset`` positions: 1 at that distance in order; NEAR_PAIR_WEIGHT
    one position more or fewer, or swapped (``second`` ``offset`` positions, one more or one
    fewer, before ``first``); ``gaps[e - 2]`` in order ``e`` (2 to 1 + len(gaps)) positions more or
    fewer; 0 otherwise or when the document lacks either word."""
    empty = np.empty((0, 2), np.int32)
    a, b = pairs_of.get(first, empty), pairs_of.get(second, empty)
    out = np.zeros(len(docs))
    if not len(a) or not len(b):
        return out
    both = _sorted_common(_runs(a[:, 0])[0], _runs(b[:, 0])[0])  # documents holding both: usually few
    if not len(both):
        return out
    a, b = a[_sorted_member(a[:, 0], both)].astype(np.int64), b[_sorted_member(b[:, 0], both)].astype(np.int64)
    a_keys, b_keys = a[:, 0] * _POSITIONS + a[:, 1], b[:, 0] * _POSITIONS + b[:, 1]
    shift_weight: dict[int, float] = {}

    def offer(shift: int, weight: float) -> None:
        if shift != 0 and weight > shift_weight.get(shift, 0.0):
            shift_weight[shift] = weight

    offer(offset, 1.0)
    for shift in (offset - 1, offset + 1, -offset - 1, -offset, -offset + 1):
        offer(shift, NEAR_PAIR_WEIGHT)
    for extra, weight in enumerate(gaps, 2):
        offer(offset + extra, weight)
        if offset - extra > 0:
            offer(offset - extra, weight)
    found_docs, found_weights = [], []
    for shift, weight in shift_weight.items():
        found = _sorted_common(a_keys + shift, b_keys) // _POSITIONS
        found_docs.append(found)
        found_weights.append(np.full(len(found), weight))
    every = np.concatenate(found_docs)
    if not len(every):
        return out
    order = np.argsort(every, kind="stable")
    every, weights = every[order], np.concatenate(found_weights)[order]
    starts = np.flatnonzero(np.r_[True, every[1:] != every[:-1]])
    unique, best = every[starts], np.maximum.reduceat(weights, starts)
    at = np.minimum(np.searchsorted(unique, docs), len(unique) - 1)
    return np.where(unique[at] == docs, best[at], 0.0)


def highlights(text: str, query: ParsedQuery, near_terms: Iterable[str] = ()) -> tuple[tuple[int, int], ...]:
    """[start, end) code-point ranges of ``text`` holding the query's terms or ``near_terms``
    (the indexed words the query's words were tolerated as); neighbours only whitespace apart
    are merged into one (a matched phrase is one highlight)."""
    wanted = set(query.terms) | set(near_terms)
    ranges = sorted((t.start, t.end) for t in tokenize(text) if t.term in wanted)
    merged: list[list[int]] = []
    for start, end in ranges:
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip()):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((a, b) for a, b in merged)
