"""Composite queries: one or more weighted terms become a single query vector.

Scoring (also in docs/searcher-notes.md): every term i becomes an L2-normalized embedding e_i

* text: the Embedder's text tower;
* image (JPEG or PNG bytes): decoded and preprocessed like an indexed frame, then the
  Embedder's image tower (videosearch.searcher.image_query);
* a stored scene: the normalized mean of the moment embeddings covering it, each weighted by
  the frames it shares with the scene (a scene is usually one moment; a long take several;
  a moment joined across a cut may cover a short scene entirely);
* a stored video: the normalized mean of its scenes' vectors, each scene counting once;
* a vector: normalized as given.

The query is q = sum_i(w_i * e_i) / ||sum_i(w_i * e_i)||, with weight 0 read as 1 and a
negative weight making the term a negative one ("a dog" minus "grass"). A moment scores
cos(q, m); since every vector is unit length this is sum_i(w_i * cos(e_i, m)) divided by
the constant ||sum_i(w_i * e_i)||, so the ranking is exactly the weighted sum of the terms'
own cosine scores. Terms that cancel out (the sum is nearly zero) are refused.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from videosearch.common.errors import InvalidArgument, NotFound
from videosearch.searcher import validation
from videosearch.searcher.types import MomentRecord, QueryTerm, SceneRecord

MAX_TERMS = 16
MAX_WEIGHT = 100.0
# Below this norm the weighted sum has no direction left to search in.
_CANCELLED_NORM = 1e-4


class TermSources(Protocol):
    """Where term embeddings come from (the Searcher provides them)."""

    def embed_texts(self, texts: list[str]) -> np.ndarray: ...

    def embed_images(self, images: list[bytes]) -> np.ndarray: ...

    def stored_video(self, video_id: str) -> tuple[list[SceneRecord], list[MomentRecord], np.ndarray]:
        """Scenes, moments and moment embeddings; NotFound for an unknown video."""
        ...


@dataclass(frozen=True)
class ComposedQuery:
    vector: np.ndarray  # unit float32
    # Examples to leave out of the hits: video id -> moment indexes (None: the whole video).
    examples: dict[str, tuple[int, ...] | None]
    embed_ms: float
    # Each term's unit vector, in the terms' order (the fusion recomposes the query without some words).
    term_vectors: tuple[np.ndarray, ...] = ()


def validate_terms(terms: list[QueryTerm]) -> list[QueryTerm]:
    """Checks each term's shape and weight; returns them with weight 0 read as 1 and texts stripped."""
    if not terms:
        raise InvalidArgument("the query is empty; set text, embedding or at least one term")
    if len(terms) > MAX_TERMS:
        raise InvalidArgument(f"{len(terms)} query terms; send at most {MAX_TERMS}")
    checked = []
    for position, term in enumerate(terms):
        where = f"terms[{position}]"
        if not term.kind:
            raise InvalidArgument(
                f"{where} is empty or has several kinds; set exactly one of text, image, scene, video_id or embedding"
            )
        if not math.isfinite(term.weight) or abs(term.weight) > MAX_WEIGHT:
            raise InvalidArgument(
                f"{where}.weight is {term.weight}; give a finite weight between -{MAX_WEIGHT:g} and "
                f"{MAX_WEIGHT:g} (0 means 1, negative for a term to avoid)"
            )
        if term.text is not None and not term.text.strip():
            raise InvalidArgument(f"{where}.text is empty; describe what to find, e.g. 'a dog on a beach'")
        if term.scene is not None:
            validation.validate_video_id(term.scene.video_id)
            if term.scene.scene_index < 0:
                raise InvalidArgument(f"{where}.scene.scene_index is {term.scene.scene_index}; scenes count from 0")
        if term.video_id is not None:
            validation.validate_video_id(term.video_id)
        checked.append(
            replace(term, weight=term.weight or 1.0, text=term.text.strip() if term.text is not None else None)
        )
    return checked


def compose(terms: list[QueryTerm], sources: TermSources, dim: int) -> ComposedQuery:
    """The unit query vector of validated terms (see the module doc)."""
    vectors: list[np.ndarray | None] = [None] * len(terms)
    examples: dict[str, tuple[int, ...] | None] = {}
    started = time.perf_counter()
    texts = [(i, t.text) for i, t in enumerate(terms) if t.text is not None]
    if texts:
        embedded = sources.embed_texts([text for _, text in texts])
        for (i, _), row in zip(texts, embedded):
            vectors[i] = validation.query_vector(row, dim)
    images = [(i, t.image) for i, t in enumerate(terms) if t.image is not None]
    if images:
        embedded = sources.embed_images([image for _, image in images])
        for (i, _), row in zip(images, embedded):
            vectors[i] = validation.query_vector(row, dim)
    embed_ms = (time.perf_counter() - started) * 1e3
    for i, term in enumerate(terms):
        if term.vector is not None:
            vectors[i] = validation.query_vector(term.vector, dim)
        elif term.scene is not None:
            scenes, moments, rows = sources.stored_video(term.scene.video_id)
            if term.scene.scene_index >= len(scenes):
                raise NotFound(
                    f"video {term.scene.video_id} has {len(scenes)} scenes, no scene {term.scene.scene_index}; "
                    "scene indexes count from 0 (`videosearch videos show ID`, the GetVideo call, lists them)"
                )
            covering = moments_covering(scenes[term.scene.scene_index], moments)
            vectors[i] = scene_vector(scenes[term.scene.scene_index], moments, rows)
            previous = examples.get(term.scene.video_id, ())
            if previous is not None:
                examples[term.scene.video_id] = tuple(sorted({*previous, *covering}))
        elif term.video_id is not None:
            scenes, moments, rows = sources.stored_video(term.video_id)
            vectors[i] = unit(np.stack([scene_vector(scene, moments, rows) for scene in scenes]).mean(axis=0))
            examples[term.video_id] = None
    total = np.zeros(dim, dtype=np.float64)
    for term, vector in zip(terms, vectors):
        assert vector is not None, "validated: every term has a text, an image, a vector, a scene or a video"
        total += term.weight * vector.astype(np.float64)
    norm = float(np.linalg.norm(total))
    if norm < _CANCELLED_NORM:
        raise InvalidArgument("the query terms cancel out (their weighted sum is zero); change a weight or drop a term")
    return ComposedQuery((total / norm).astype(np.float32), examples, embed_ms, tuple(vectors))  # type: ignore[arg-type]


def moments_covering(scene: SceneRecord, moments: list[MomentRecord]) -> list[int]:
    """Indexes of the moments sharing frames with ``scene``."""
    return [m.index for m in moments if m.start_frame < scene.end_frame and m.end_frame > scene.start_frame]


def scene_vector(scene: SceneRecord, moments: list[MomentRecord], rows: np.ndarray) -> np.ndarray:
    """A scene's unit vector: its covering moments' mean, weighted by the frames each shares with it."""
    covering = moments_covering(scene, moments)
    weights = np.array(
        [min(moments[i].end_frame, scene.end_frame) - max(moments[i].start_frame, scene.start_frame) for i in covering],
        dtype=np.float64,
    )
    return unit((rows[covering].astype(np.float64) * weights[:, None]).sum(axis=0))


def unit(vector: np.ndarray) -> np.ndarray:
    return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)
