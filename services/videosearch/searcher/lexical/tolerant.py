"""Tolerant matching of recognized words: the indexed terms a query word may have been misheard
or misread as ("mountins" for mountains, "bicicl" for bicycle, "light huse" for lighthouse).

Speech recognizers and OCR return near-misses of the words said or shown; a query word that
finds only its near-miss would otherwise count as absent. For a query word of Latin script and
at least ``MIN_LENGTH`` letters, the vocabulary's terms sharing enough character trigrams are
candidates (with its swapped-neighbour spellings, looked up directly: a swap can break every
trigram of a short word), kept when their edit distance (optimal string alignment: a swap of two
neighbours is one edit) is within ``max_edits(length)``; and a long query word is also looked up as two
adjacent indexed words run apart ("light huse"), one side exact and the other within one edit,
and a query word beside a stop word as the two run together ("enapontment" for "an
appointment"), kept only when closer to the two than to the word alone.
Each found term counts with the weight ``NEAR_WEIGHT x similarity`` (similarity: 1 - edits /
the longer length), below an exact match's 1. The index applies these only to spans whose text
came from a recognizer (speech, OCR), never to subtitles, never inside quoted phrases, and
never to Chinese (jieba's words are exact dictionary words).

The vocabulary's trigrams are one ``array('i')`` of term numbers per trigram (about 4 bytes per
trigram of every Latin term), not a set per term.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np

MIN_LENGTH = 4  # shorter query words have too many near neighbours to tell a mishearing from another word
NEAR_WEIGHT = 0.9  # what a near match counts for at similarity 1, against 1 for the exact word
MIN_JOINED_LENGTH = 7  # a query word looked up as two adjacent words ("lighthouse": "light huse")
MIN_PART_LENGTH = 3
MAX_CANDIDATES = 64  # trigram candidates verified by edit distance, most trigrams shared first
MAX_NEAR = 8  # near matches kept per query word, the closest first (each costs a read of its postings)


def max_edits(length: int) -> int:
    """Edits tolerated in a word of ``length`` letters: 1 up to 5, 2 up to 9, then 3."""
    return 1 if length <= 5 else 2 if length <= 9 else 3


def is_latin(term: str) -> bool:
    """Letters of alphabetic scripts only (no Chinese, no digits: "GATE 12" is not near "GATE 13")."""
    return term.isalpha() and all(ord(c) < 0x2E80 for c in term)


def similarity(edits: int, a: str, b: str) -> float:
    return 1.0 - edits / max(len(a), len(b), 1)


def edit_distance(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance of ``a`` and ``b``, or ``bound + 1`` when it exceeds ``bound``."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            best = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, previous2[j - 2] + 1)
            row[j] = best
        if min(row) > bound:
            return bound + 1
        previous2, previous = previous, row
    return previous[-1] if previous[-1] <= bound else bound + 1


def _swaps(word: str) -> set[str]:
    """``word`` with one pair of neighbouring letters swapped, each way (the word itself left out)."""
    return {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)} - {word}


def _trigrams(term: str) -> set[str]:
    padded = f"^{term}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


@dataclass(frozen=True)
class NearMatch:
    """Indexed words that a query word may have been recognized as: one term, or two terms at
    adjacent positions (the word heard as two), and what a match of them counts for (0..1)."""

    terms: tuple[str, ...]
    weight: float


class Vocabulary:
    """The Latin-script terms of the index with their trigrams, for near-spelling lookups."""

    def __init__(self) -> None:
        self._terms: list[str] = []
        self._by_trigram: dict[str, array] = {}

    def __len__(self) -> int:
        return len(self._terms)

    def add(self, term: str) -> None:
        """Adds a new term of the index (each term once)."""
        if len(term) < MIN_PART_LENGTH or not is_latin(term):
            return
        number = len(self._terms)
        self._terms.append(term)
        for gram in _trigrams(term):
            numbers = self._by_trigram.get(gram)
            if numbers is None:
                numbers = self._by_trigram[gram] = array("i")
            numbers.append(number)

    def memory_bytes(self) -> int:
        import sys

        return 8 * len(self._terms) + sum(
            a.buffer_info()[1] * a.itemsize + sys.getsizeof(g) + 64 for g, a in self._by_trigram.items()
        )

    def near(self, word: str, edits: int, known=None) -> list[tuple[str, int]]:
        """Terms other than ``word`` within ``edits`` edits of it, with their distances. ``known``
        (whether a term is indexed), when given, also finds the word's swapped-neighbour
        spellings directly: in a short word a swap can break every trigram ("ubmr" for "umbr")."""
        out = []
        if known is not None and edits >= 1:
            out = [(swapped, 1) for swapped in _swaps(word) if len(swapped) >= MIN_PART_LENGTH and known(swapped)]
        grams = [self._by_trigram[g] for g in _trigrams(word) if g in self._by_trigram]
        if not grams:
            return out
        shared = np.bincount(np.concatenate([np.frombuffer(g, dtype=np.int32) for g in grams]))
        # Each edit breaks at most four of the word's trigrams (q-gram lemma: three for a letter
        # changed, added or dropped, four for two neighbours swapped, which is one edit here).
        needed = max(1, len(word) - 4 * edits)
        candidates = np.flatnonzero(shared >= needed)
        if len(candidates) > MAX_CANDIDATES:
            candidates = candidates[np.argsort(-shared[candidates], kind="stable")[:MAX_CANDIDATES]]
        found = {term for term, _ in out}
        for number in candidates:
            term = self._terms[int(number)]
            if term != word and term not in found:
                distance = edit_distance(word, term, edits)
                if distance <= edits:
                    out.append((term, distance))
        return out

    def near_matches(self, word: str, known) -> list[NearMatch]:
        """What a query ``word`` may have been recognized as (its exact self left out); ``known``
        tells whether a term is indexed. At most ``MAX_NEAR``, the closest first."""
        if len(word) < MIN_LENGTH or not is_latin(word):
            return []
        out = [
            NearMatch((term,), NEAR_WEIGHT * similarity(distance, word, term))
            for term, distance in self.near(word, max_edits(len(word)), known)
        ]
        if len(word) >= MIN_JOINED_LENGTH:
            for cut in range(MIN_PART_LENGTH, len(word) - MIN_PART_LENGTH + 1):
                head, tail = word[:cut], word[cut:]
                heads = [(head, 0)] if known(head) else []
                tails = [(tail, 0)] if known(tail) else []
                if heads and len(tail) >= MIN_LENGTH:
                    tails += self.near(tail, 1, known)
                if tails and len(head) >= MIN_LENGTH:
                    heads += self.near(head, 1, known)
                for first, first_edits in heads:
                    for second, second_edits in tails:
                        if first_edits + second_edits <= 1:
                            joined = first + second
                            weight = NEAR_WEIGHT * similarity(first_edits + second_edits, word, joined)
                            out.append(NearMatch((first, second), weight))
        return sorted(out, key=lambda match: -match.weight)[:MAX_NEAR]

    def near_joined(self, word: str, joined: str, known) -> list[NearMatch]:
        """What a query ``word`` may have been recognized as when run together with its
        neighbouring stop word (``joined``: "anappointment" heard as "enapontment"): the terms
        within ``max_edits(len(joined))`` of ``joined`` (or ``joined`` itself) that are closer
        to it than to ``word`` alone, so the stop word explains part of them ("havean" is not
        "haven": that is one edit from "have" too)."""
        if len(word) < MIN_LENGTH or not is_latin(joined):
            return []
        edits = max_edits(len(joined))
        found = ([(joined, 0)] if known(joined) else []) + self.near(joined, edits, known)
        return [
            NearMatch((term,), NEAR_WEIGHT * similarity(distance, joined, term))
            for term, distance in found
            if term != word and distance < edit_distance(word, term, edits)
        ]
