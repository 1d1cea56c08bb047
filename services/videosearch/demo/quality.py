"""Retrieval quality on demo corpora: index demo videos through the services,
query every scene's caption, and score the answers against the ground truth.

Scoring (every query has a well-defined answer): a query is the caption of one
ground-truth scene. A *video* is relevant when it holds any scene with that
caption, so when several videos share the caption, any of them is a hit at rank
1, and MRR uses the first relevant video. For the top *scene* (scene mode), the
answer is right when it lies in a relevant video and overlaps a scene of that
video with the queried caption; its temporal IoU is taken against the best
overlapping such scene. Cut recall counts true cuts that the detector found
within ±1 frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from videosearch.demo import world
from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.indexer.types import Job, JobState
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SearchParams


@dataclass(frozen=True)
class QualityReport:
    queries: int
    videos: int
    scenes: int
    video_r1: float
    video_r5: float
    video_mrr: float
    scene_r1: float
    top_scene_iou_ok: float  # share of queries whose top scene has IoU >= 0.8 with a true scene
    cut_recall: float
    true_cuts: int
    found_cuts: int
    query_ms_p50: float

    def table(self) -> str:
        rows = [
            ("queries (one per scene caption)", f"{self.queries}"),
            ("videos / scenes in the corpus", f"{self.videos} / {self.scenes}"),
            ("video R@1", f"{self.video_r1:.3f}"),
            ("video R@5", f"{self.video_r5:.3f}"),
            ("video MRR", f"{self.video_mrr:.3f}"),
            ("scene R@1", f"{self.scene_r1:.3f}"),
            ("top scene IoU >= 0.8", f"{self.top_scene_iou_ok:.3f}"),
            ("cut recall (±1 frame)", f"{self.cut_recall:.3f} ({self.found_cuts}/{self.true_cuts})"),
            ("search latency p50 (ms, text included)", f"{self.query_ms_p50:.1f}"),
        ]
        return two_column_table(rows)


def two_column_table(rows: list[tuple[str, str]]) -> str:
    """A report's rows as name and value, the names padded to one width."""
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def index_files(indexer_address: str, paths: list[Path], options: SubmitOptions = SubmitOptions()) -> dict[str, Job]:
    """Indexes files through the Indexer (all submitted at once); returns file name -> finished job."""
    with IndexerClient(indexer_address) as indexer:
        jobs = {path.name: indexer.submit(str(path.resolve()), options) for path in paths}
        finished = {}
        for name, job in jobs.items():
            job = indexer.wait(job.job_id)
            if job.state is not JobState.SUCCEEDED:
                raise RuntimeError(f"indexing {name} failed: {job.error}")
            finished[name] = job
    return finished


def index_corpus(indexer_address: str, corpus_dir: Path, corpus: dict) -> dict[str, str]:
    """Indexes every video of the corpus through the Indexer; returns video file -> video id."""
    jobs = index_files(indexer_address, [corpus_dir / video["video"] for video in corpus["videos"]])
    return {name: job.video_id for name, job in jobs.items()}


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union else 0.0


def query_text(caption: str, language: str) -> str:
    """The query for a ground-truth (English) caption in ``language`` ("en" or "zh")."""
    return world.CAPTIONS_BY_LANGUAGE[language][world.caption_index(caption)]


def evaluate(
    searcher: SearcherClient,
    corpus: dict,
    video_ids: dict[str, str],
    *,
    max_queries: int | None = None,
    language: str = "en",
) -> QualityReport:
    """Scores one query per ground-truth scene, phrased in ``language`` (the truth stays English)."""
    truth_by_id = {video_ids[v["video"]]: v for v in corpus["videos"]}
    queries = [(v, s) for v in corpus["videos"] for s in v["scenes"]][:max_queries]
    hits1 = hits5 = scene_hits = iou_ok = 0
    reciprocal = 0.0
    latencies = []
    for _, scene in queries:
        caption = scene["caption"]
        relevant = {vid for vid, v in truth_by_id.items() if any(s["caption"] == caption for s in v["scenes"])}
        text = query_text(caption, language)
        started = time.perf_counter()
        ranked = searcher.search(text=text, params=SearchParams(top_k=5, mode="videos"))
        latencies.append(1000 * (time.perf_counter() - started))
        order = [hit.video.video_id for hit in ranked.videos]
        first = next((rank for rank, vid in enumerate(order, 1) if vid in relevant), None)
        hits1 += first == 1
        hits5 += first is not None and first <= 5
        reciprocal += 1.0 / first if first else 0.0

        top = searcher.search(text=text, params=SearchParams(top_k=1, mode="scenes")).scenes[0]
        if top.video_id in relevant:
            spans = [
                (s["start_frame"], s["end_frame"])
                for s in truth_by_id[top.video_id]["scenes"]
                if s["caption"] == caption
            ]
            best = max(iou((top.scene.start_frame, top.scene.end_frame), span) for span in spans)
            scene_hits += best > 0
            iou_ok += best >= 0.8

    true_cuts = found = 0
    for vid, video in truth_by_id.items():
        _, stored = searcher.get_video(vid)
        detected = [s.start_frame for s in stored[1:]]
        for scene in video["scenes"][1:]:
            true_cuts += 1
            found += any(abs(cut - scene["start_frame"]) <= 1 for cut in detected)

    n = len(queries)
    latencies.sort()
    return QualityReport(
        queries=n,
        videos=len(truth_by_id),
        scenes=sum(len(v["scenes"]) for v in corpus["videos"]),
        video_r1=hits1 / n,
        video_r5=hits5 / n,
        video_mrr=reciprocal / n,
        scene_r1=scene_hits / n,
        top_scene_iou_ok=iou_ok / n,
        cut_recall=found / true_cuts if true_cuts else 1.0,
        true_cuts=true_cuts,
        found_cuts=found,
        query_ms_p50=latencies[len(latencies) // 2],
    )


@dataclass(frozen=True)
class ThresholdRow:
    """Precision and recall of keeping only hits at or above one relevance threshold."""

    threshold: float
    kept: int  # hits at or above the threshold, over all queries
    precision: float  # share of kept hits that show the queried caption
    recall: float  # share of the corpus's scenes with the queried caption that a kept hit lies in


def threshold_effect(
    searcher: SearcherClient,
    corpus: dict,
    video_ids: dict[str, str],
    *,
    language: str = "en",
    thresholds: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9),
) -> list[ThresholdRow]:
    """What a relevance threshold does on labelled demo queries: one scene-mode query per
    distinct caption of the corpus, every moment ranked; a hit is relevant when the
    ground-truth scene it overlaps most has the queried caption."""
    truth_by_id = {video_ids[v["video"]]: v for v in corpus["videos"]}
    captions = sorted({s["caption"] for v in corpus["videos"] for s in v["scenes"]})
    moments = sum(len(searcher.get_video_moments(vid)[2]) for vid in truth_by_id)
    judged: list[tuple[float, bool, tuple[str, str, int] | None]] = []  # (relevance, relevant, scene found)
    wanted = 0
    for caption in captions:
        wanted += sum(s["caption"] == caption for v in truth_by_id.values() for s in v["scenes"])
        ranked = searcher.search(
            text=query_text(caption, language), params=SearchParams(top_k=min(moments, 1000), mode="scenes")
        )
        for hit in ranked.scenes:
            scene = _overlapping_scene(truth_by_id[hit.video_id], hit.scene.start_frame, hit.scene.end_frame)
            relevant = scene["caption"] == caption
            judged.append((hit.relevance, relevant, (caption, hit.video_id, scene["index"]) if relevant else None))
    rows = []
    for threshold in thresholds:
        kept = [j for j in judged if j[0] >= threshold]
        found = {j[2] for j in kept if j[2] is not None}
        rows.append(
            ThresholdRow(
                threshold,
                len(kept),
                sum(j[1] for j in kept) / len(kept) if kept else 1.0,
                len(found) / wanted if wanted else 1.0,
            )
        )
    return rows


def threshold_table(rows: list[ThresholdRow]) -> str:
    return two_column_table(
        [("relevance threshold", "hits kept  precision  recall")]
        + [(f">= {row.threshold:.1f}", f"{row.kept:>9}  {row.precision:>9.3f}  {row.recall:>6.3f}") for row in rows]
    )


def _overlapping_scene(truth: dict, start_frame: int, end_frame: int) -> dict:
    return max(truth["scenes"], key=lambda s: min(end_frame, s["end_frame"]) - max(start_frame, s["start_frame"]))
