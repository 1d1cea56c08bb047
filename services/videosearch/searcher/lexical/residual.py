"""The rest of a text query once a span's words are taken out: what the moment's look is ranked by.

A query naming a look and words ("a yellow circle EXIT NORTH") finds spans holding some of its
words ("EXIT NORTH" on two signs); whether such a moment is the one asked for is then a question
about the rest of the query ("a yellow circle"). Ranking its look by the whole query asks the
wrong question: the words the span already answered pull the whole query's embedding towards
what they mean to the image model (the demo CLIP ranked the right yellow circle 26th for the
whole query, the decoy, another shape with the same sign, 10th). So each text-matched moment's seen rank is its rank for the
query without the words its spans hold near other query words (SpanMatch.held): the
query's positive text terms with those words cut out (tokens.without_terms), recomposed with its
other terms (images, examples, negative texts) as the query was. Words a span holds only
scattered stay in: "the red team ... circle back" answers no part of "a red circle". When a
span holds every word, nothing is left to look for, and the moment's look is ranked by the whole
query as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from videosearch.searcher.lexical.tokens import without_terms
from videosearch.searcher.types import QueryTerm

# Distinct rests ranked per search (each costs one more visual ranking; their texts are embedded
# in one call): the text-matched moments best in the text lists first, the others keep the whole query's rank.
MAX_RESIDUALS = 4
_NO_DIRECTION = 1e-4  # below this norm a recomposed query has nothing left to search for


@dataclass(frozen=True)
class ResidualQueries:
    """A search's query terms (validated) and their unit vectors as composed, to recompose the
    query without the words a span holds."""

    terms: Sequence[QueryTerm]
    vectors: Sequence[np.ndarray]
    embed_texts: Callable[[list[str]], np.ndarray]

    def without(
        self, held_sets: Sequence[frozenset[str]], limit: int = MAX_RESIDUALS
    ) -> dict[frozenset[str], np.ndarray]:
        """The unit query vector without each set's words, for the first ``limit`` sets that
        change the query and leave a positive term (the others: the whole query ranks)."""
        plans: dict[frozenset[str], list[tuple[float, np.ndarray | str]]] = {}
        texts: dict[str, None] = {}
        for held in held_sets:
            if len(plans) >= limit or held in plans:
                continue
            plan: list[tuple[float, np.ndarray | str]] = []
            changed = False
            for term, vector in zip(self.terms, self.vectors):
                if term.text is not None and term.weight > 0:
                    left = without_terms(term.text, held)
                    if left != term.text:
                        changed = True
                        if left is not None:
                            plan.append((term.weight, left))
                            texts[left] = None
                        continue
                plan.append((term.weight, vector))
            if changed and any(weight > 0 for weight, _ in plan):
                plans[held] = plan
        embedded = dict(zip(texts, self.embed_texts(list(texts)))) if texts else {}
        out: dict[frozenset[str], np.ndarray] = {}
        for held, plan in plans.items():
            total = np.zeros(len(self.vectors[0]) if self.vectors else 0)
            for weight, part in plan:
                total = total + weight * _unit(embedded[part] if isinstance(part, str) else part)
            norm = float(np.linalg.norm(total))
            if norm >= _NO_DIRECTION:
                out[held] = (total / norm).astype(np.float32)
        return out


def _unit(vector: np.ndarray) -> np.ndarray:
    wide = np.asarray(vector, dtype=np.float64).reshape(-1)
    return wide / max(float(np.linalg.norm(wide)), 1e-12)
