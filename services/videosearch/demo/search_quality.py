"""Quality of the query kinds beyond text on demo corpora (issue 9): image queries, "more like
this" and negative queries, scored against the corpus's ground truth.

* Image queries: for every caption in the corpus, a *fresh* render of it (a new background,
  position, size and tilt: not a frame of any indexed video) is sent as a JPEG; a video is
  relevant when it holds a scene with that caption. Reports video R@1 and MRR.
* More like this: every scene whose caption appears in at least one other scene is the
  query (a stored scene, itself left out); precision@5 is the share of the top 5 scene hits
  showing the same caption, over the best share possible (fewer than 5 other scenes may
  have it).
* Negative queries: for every shape, "a <shape>" as the positive term with "a red <shape>" as
  a negative term (weight -0.5, the CLI's default for --not); a violation is a red scene ranked first. Reports violations
  (target 0) and how often the top scene still shows the shape.

A hit's caption is that of the ground-truth scene it overlaps most.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from videosearch.demo import world
from videosearch.demo.quality import two_column_table
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import QueryTerm, SceneRef, SearchParams

NEGATIVE_WEIGHT = -0.5  # as the CLI's --not: half a positive term


@dataclass(frozen=True)
class SearchFeatureReport:
    image_queries: int
    image_video_r1: float
    image_video_mrr: float
    like_queries: int
    like_precision_at_5: float
    negative_queries: int
    negative_violations: int  # red scenes ranked first despite "not red"
    negative_shape_r1: float  # top scene shows the asked shape

    def table(self) -> str:
        rows = [
            ("image queries (fresh render per caption)", f"{self.image_queries}"),
            ("image query video R@1", f"{self.image_video_r1:.3f}"),
            ("image query video MRR", f"{self.image_video_mrr:.3f}"),
            ("more-like-this queries (one per scene)", f"{self.like_queries}"),
            ("more-like-this precision@5 (same caption)", f"{self.like_precision_at_5:.3f}"),
            ("negative queries ('a <shape>' not 'a red <shape>')", f"{self.negative_queries}"),
            ("negative: red scene ranked first", f"{self.negative_violations}"),
            ("negative: top scene shows the shape", f"{self.negative_shape_r1:.3f}"),
        ]
        return two_column_table(rows)


def render_jpeg(caption: str, rng: np.random.Generator, size: tuple[int, int] = world.DEFAULT_SIZE) -> bytes:
    out = io.BytesIO()
    Image.fromarray(world.render_frame(caption, rng, size)).save(out, "JPEG", quality=90)
    return out.getvalue()


def _caption_at(truth: dict, start_frame: int, end_frame: int) -> str:
    def overlap(scene: dict) -> int:
        return min(end_frame, scene["end_frame"]) - max(start_frame, scene["start_frame"])

    return max(truth["scenes"], key=overlap)["caption"]


def evaluate_search_features(
    searcher: SearcherClient, corpus: dict, video_ids: dict[str, str], *, seed: int = 7
) -> SearchFeatureReport:
    truth_by_id = {video_ids[v["video"]]: v for v in corpus["videos"]}
    rng = np.random.default_rng(seed)

    captions = sorted({s["caption"] for v in corpus["videos"] for s in v["scenes"]})
    hits1, reciprocal = 0, 0.0
    for caption in captions:
        relevant = {vid for vid, v in truth_by_id.items() if any(s["caption"] == caption for s in v["scenes"])}
        ranked = searcher.search(terms=[QueryTerm(image=render_jpeg(caption, rng))], params=SearchParams(top_k=10))
        order = [hit.video.video_id for hit in ranked.videos]
        first = next((rank for rank, vid in enumerate(order, 1) if vid in relevant), None)
        hits1 += first == 1
        reciprocal += 1.0 / first if first else 0.0

    precisions = []
    for vid, video in truth_by_id.items():
        for scene in video["scenes"]:
            others = sum(s["caption"] == scene["caption"] for v in truth_by_id.values() for s in v["scenes"]) - 1
            if others == 0:
                continue
            hits = searcher.search(
                terms=[QueryTerm(scene=SceneRef(vid, scene["index"]))], params=SearchParams(top_k=5, mode="scenes")
            ).scenes
            same = sum(
                _caption_at(truth_by_id[h.video_id], h.scene.start_frame, h.scene.end_frame) == scene["caption"]
                for h in hits
            )
            precisions.append(same / min(5, others))

    shapes = sorted({world.parse_caption(c)[1] for c in captions})
    violations = shape_hits = 0
    for shape_index in shapes:
        shape = world.SHAPES[shape_index]
        terms = [QueryTerm(text=f"a {shape}"), QueryTerm(text=f"a red {shape}", weight=NEGATIVE_WEIGHT)]
        top = searcher.search(terms=terms, params=SearchParams(top_k=1, mode="scenes")).scenes[0]
        color, shown = world.parse_caption(
            _caption_at(truth_by_id[top.video_id], top.scene.start_frame, top.scene.end_frame)
        )
        violations += world.COLOR_NAMES[color] == "red"
        shape_hits += shown == shape_index

    return SearchFeatureReport(
        image_queries=len(captions),
        image_video_r1=hits1 / len(captions),
        image_video_mrr=reciprocal / len(captions),
        like_queries=len(precisions),
        like_precision_at_5=float(np.mean(precisions)) if precisions else 0.0,
        negative_queries=len(shapes),
        negative_violations=violations,
        negative_shape_r1=shape_hits / len(shapes) if shapes else 0.0,
    )
