"""Moment retrieval on demo corpora that mix hard-cut videos and long takes (subjects
changing through dissolves, fades through black and pans; see videosearch.demo.longtakes).

Scoring: one query per subject, its caption. A video is relevant when it shows a subject
with that caption. Video R@1 asks whether the top video is relevant. The *best hit* is
the top video's best-matching moment (what a user sees first); it counts as found when
its temporal IoU with a true range of that caption in that video (the frames where the
subject alone is on screen) is at least 0.5. Figures are given for all queries and for
the long takes' and the hard-cut videos' subjects apart, with what indexing cost: frames
embedded, moments stored and wall time per minute of video.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from videosearch.demo.quality import index_files, iou
from videosearch.client.indexer import SubmitOptions
from videosearch.indexer.types import Job
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SearchParams

IOU_FOUND = 0.5


@dataclass(frozen=True)
class KindReport:
    queries: int
    video_r1: float
    iou_found: float  # share of queries whose best hit has IoU >= 0.5 with the subject's range
    mean_iou: float


@dataclass(frozen=True)
class MomentReport:
    by_kind: dict[str, KindReport]  # "all", "long_take", "hard_cut"
    video_minutes: float
    frames_embedded: int
    moments: int
    scenes: int
    index_wall_s: float

    def table(self) -> str:
        lines = ["| queries on | queries | video R@1 | best hit IoU >= 0.5 | mean IoU |", "|---|---|---|---|---|"]
        for kind, r in self.by_kind.items():
            lines.append(f"| {kind} | {r.queries} | {r.video_r1:.3f} | {r.iou_found:.3f} | {r.mean_iou:.3f} |")
        per_minute = 1.0 / self.video_minutes if self.video_minutes else 0.0
        lines += [
            "",
            f"Indexed {self.video_minutes:.2f} min of video: {self.scenes} scenes, {self.moments} moments, "
            f"{self.frames_embedded} frames embedded ({self.frames_embedded * per_minute:.1f} frames and "
            f"{self.moments * per_minute:.1f} moments per minute of video), {self.index_wall_s:.1f} s of indexing "
            f"wall time ({self.index_wall_s * per_minute:.1f} s per minute of video, jobs run 2 at a time).",
        ]
        return "\n".join(lines)


def evaluate_moments(searcher: SearcherClient, corpus: dict, jobs: dict[str, Job], index_wall_s: float) -> MomentReport:
    by_id = {jobs[v["file"]].video_id: v for v in corpus["videos"]}
    results: dict[str, list[tuple[bool, float]]] = {"long_take": [], "hard_cut": []}
    for video in corpus["videos"]:
        for subject in video["subjects"]:
            caption = subject["caption"]
            relevant = {vid for vid, v in by_id.items() if any(s["caption"] == caption for s in v["subjects"])}
            ranked = searcher.search(text=caption, params=SearchParams(top_k=1, scenes_per_video=1)).videos
            top = ranked[0] if ranked else None
            hit = top is not None and top.video.video_id in relevant
            overlap = 0.0
            if top is not None and hit and top.scenes:
                best = top.scenes[0]
                where = best.moment or best.scene
                spans = [
                    (s["start_frame"], s["end_frame"])
                    for s in by_id[top.video.video_id]["subjects"]
                    if s["caption"] == caption
                ]
                overlap = max(iou((where.start_frame, where.end_frame), span) for span in spans)
            results[video["kind"]].append((hit, overlap))
    results["all"] = results["long_take"] + results["hard_cut"]

    def summary(rows: list[tuple[bool, float]]) -> KindReport:
        n = len(rows) or 1
        return KindReport(
            len(rows),
            sum(h for h, _ in rows) / n,
            sum(i >= IOU_FOUND for _, i in rows) / n,
            sum(i for _, i in rows) / n,
        )

    return MomentReport(
        by_kind={kind: summary(results[kind]) for kind in ("all", "long_take", "hard_cut")},
        video_minutes=sum(v["duration_seconds"] for v in corpus["videos"]) / 60.0,
        frames_embedded=sum(j.frames_embedded for j in jobs.values()),
        moments=sum(j.moments_found for j in jobs.values()),
        scenes=sum(j.scenes_found for j in jobs.values()),
        index_wall_s=index_wall_s,
    )


def index_and_evaluate(
    cluster_addresses: dict[str, str], corpus_dir: Path, corpus: dict, options: SubmitOptions = SubmitOptions()
) -> MomentReport:
    started = time.perf_counter()
    jobs = index_files(cluster_addresses["indexer"], [corpus_dir / v["file"] for v in corpus["videos"]], options)
    wall = time.perf_counter() - started
    with SearcherClient(cluster_addresses["searcher"]) as searcher:
        return evaluate_moments(searcher, corpus, jobs, wall)
