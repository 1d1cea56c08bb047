"""Cut detectors compared on demo-world videos with ground truth: hard cuts, dissolves, fades
through black, pans, flashes and fast motion.

    python bench/detectors/run.py                    # 8 long takes + 4 hard-cut videos at 480x270
    python bench/detectors/run.py --long-takes 4 --write-docs

The corpus comes from videosearch.demo.longtakes (cached per parameters in bench/out/detectors).
Each video is decoded once and every frame goes to every setting of
videosearch.indexer.media.detectors.DETECTORS (each downscales for itself, as in the Indexer).

Scoring, one-to-one (each truth matches at most one detection, the nearest):
* a hard cut is found by a detection within +-CUT_TOLERANCE frames;
* a gradual transition [a, b) by a detection in [a - GRADUAL_TOLERANCE, b + GRADUAL_TOLERANCE);
* "hard" scores hard cuts only (detections in gradual transitions are not counted either way),
  "gradual" scores dissolves and fades (detections at hard cuts are not counted), "overall"
  scores cuts, dissolves and fades together. Pans are never counted: the engine finds those
  by frame embeddings; the pan column says how many a detector happens to find anyway;
* every other detection is a false positive; "FP flash" and "FP fast" count those inside a
  flash or a stretch of fast motion (widened by GRADUAL_TOLERANCE).
The default is the setting with the best overall F1 among those with hard-cut recall >= 0.99
(on a tie, the one with fewer members: it is cheaper and reports cuts sooner).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402  (sets up sys.path for the project's packages)
from videosearch.demo.longtakes import generate_moment_corpus  # noqa: E402
from videosearch.indexer.media.detector_settings import DEFAULT_DETECTOR, DETECTORS, DetectorSettings  # noqa: E402
from videosearch.indexer.media.detectors import make_cut_detector  # noqa: E402
from videosearch.indexer.media.facade import open_video  # noqa: E402

SECTION = "## Cut detectors"
CUT_TOLERANCE = 2
GRADUAL_TOLERANCE = 3
MIN_HARD_RECALL = 0.99


def detect_all(path: Path) -> tuple[dict[str, list[int]], dict[str, float], float, int]:
    """One decode pass feeding every setting: (cuts, detect seconds per setting, decode seconds, frames)."""
    capture, info, frame = open_video(path)
    detectors = {name: make_cut_detector(DetectorSettings(name), info) for name in DETECTORS}
    cuts: dict[str, list[int]] = defaultdict(list)
    busy: dict[str, float] = defaultdict(float)
    decode = 0.0
    index = 0
    try:
        while frame is not None:
            for name, detector in detectors.items():
                start = time.perf_counter()
                cuts[name] += detector.process(index, frame)
                busy[name] += time.perf_counter() - start
            index += 1
            start = time.perf_counter()
            ok, frame = capture.read()
            decode += time.perf_counter() - start
            frame = frame if ok else None
    finally:
        capture.release()
    for name, detector in detectors.items():
        cuts[name] += detector.finish(index - 1)
    return dict(cuts), dict(busy), decode, index


def _match(found: list[int], windows: list[tuple[int, int, int]]) -> tuple[int, set[int]]:
    """Greedy one-to-one matching of detections to truth windows (lo, hi, centre), hi exclusive:
    (truths matched, indices of the detections used)."""
    used: set[int] = set()
    matched = 0
    for lo, hi, centre in windows:
        candidates = [i for i, c in enumerate(found) if lo <= c < hi and i not in used]
        if candidates:
            used.add(min(candidates, key=lambda i: abs(found[i] - centre)))
            matched += 1
    return matched, used


class Score:
    """Counts for one setting over the corpus."""

    def __init__(self) -> None:
        self.n = defaultdict(int)

    def add(self, found: list[int], truth: dict) -> None:
        hard = [(c - CUT_TOLERANCE, c + CUT_TOLERANCE + 1, c) for c in truth["cuts"]]
        gradual = {kind: [(t["start_frame"] - GRADUAL_TOLERANCE, t["end_frame"] + GRADUAL_TOLERANCE,
                           (t["start_frame"] + t["end_frame"]) // 2)
                          for t in truth["transitions"] if t["kind"] == kind] for kind in ("dissolve", "fade", "pan")}
        inside = lambda c, windows: any(lo <= c < hi for lo, hi, _ in windows)  # noqa: E731
        counted = gradual["dissolve"] + gradual["fade"]
        for task, windows, ignored in (
            ("hard", hard, counted + gradual["pan"]),
            ("gradual", counted, hard + gradual["pan"]),
            ("overall", hard + counted, gradual["pan"]),
        ):
            matched, used = _match(found, windows)
            false = [c for i, c in enumerate(found) if i not in used and not inside(c, ignored)]
            self.n[f"{task}_tp"] += matched
            self.n[f"{task}_truth"] += len(windows)
            self.n[f"{task}_fp"] += len(false)
        for kind, windows in gradual.items():
            self.n[f"{kind}_found"] += _match(found, windows)[0]
            self.n[f"{kind}_truth"] += len(windows)
        _, used = _match(found, hard + counted + gradual["pan"])
        false = [c for i, c in enumerate(found) if i not in used]
        for d in truth["distractors"]:
            lo, hi = d["start_frame"] - GRADUAL_TOLERANCE, d["end_frame"] + GRADUAL_TOLERANCE
            self.n[f"fp_{d['kind']}"] += sum(lo <= c < hi for c in false)

    def prf(self, task: str) -> tuple[float | None, float, float]:
        """(precision, None without detections; recall; F1)."""
        tp, truth, fp = self.n[f"{task}_tp"], self.n[f"{task}_truth"], self.n[f"{task}_fp"]
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / truth if truth else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
        return precision, recall, f1


def table(scores: dict[str, Score], busy: dict[str, float], videos: int) -> str:
    head = (f"{'detector':<20}{'hard P   R    F1':>18}{'gradual P   R    F1':>21}{'overall P   R    F1':>21}"
            f"{'dissolve':>10}{'fade':>7}{'pan':>7}{'FP flash':>10}{'FP fast':>9}{'ms/video':>10}")
    lines = [head, "-" * len(head)]
    for name, s in scores.items():
        cells = "".join(f"{'  '.join('   -' if v is None else f'{v:.2f}' for v in s.prf(task)):>{18 if task == 'hard' else 21}}"
                        for task in ("hard", "gradual", "overall"))
        kinds = "".join(f"{s.n[k + '_found']:>{w - 3}}/{s.n[k + '_truth']:<2}" for k, w in (("dissolve", 10), ("fade", 7), ("pan", 7)))
        lines.append(f"{name:<20}{cells}{kinds}{s.n['fp_flash']:>10}{s.n['fp_fast_motion']:>9}"
                     f"{1000 * busy[name] / videos:>10.0f}")
    return "\n".join(lines)


def choose(scores: dict[str, Score]) -> str:
    eligible = [n for n, s in scores.items() if s.prf("hard")[1] >= MIN_HARD_RECALL] or list(scores)
    return max(eligible, key=lambda n: (scores[n].prf("overall")[2], -len(DetectorSettings(n).members)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--long-takes", type=int, default=8)
    parser.add_argument("--hard-cut-videos", type=int, default=4)
    parser.add_argument("--subjects", type=int, default=6, help="subjects per video")
    parser.add_argument("--subject-seconds", type=float, default=3.0)
    parser.add_argument("--transition-seconds", type=float, default=2.0)
    parser.add_argument("--size", default="480x270", help="WxH; detection runs on 256 px wide frames either way")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--write-docs", action="store_true", help="record the table in docs/performance.md")
    args = parser.parse_args(argv)

    size = tuple(int(v) for v in args.size.lower().split("x"))
    out = benchlib.REPO / "bench" / "out" / "detectors" / f"corpus-{args.seed}"
    started = time.perf_counter()
    print(f"corpus in {out} (generated unless cached) ...", flush=True)
    corpus = generate_moment_corpus(
        out, long_takes=args.long_takes, hard_cut_videos=args.hard_cut_videos, subjects_per_take=args.subjects,
        seed=args.seed, subject_seconds=args.subject_seconds, transition_seconds=args.transition_seconds, size=size,
    )
    generated = time.perf_counter() - started
    scores = {name: Score() for name in DETECTORS}
    busy: dict[str, float] = defaultdict(float)
    decode = frames = 0
    for entry in corpus["videos"]:
        cuts, seconds, decode_s, count = detect_all(out / entry["file"])
        assert count == entry["frame_count"], (entry["file"], count)
        decode, frames = decode + decode_s, frames + count
        for name in DETECTORS:
            scores[name].add(cuts[name], entry)
            busy[name] += seconds[name]
        print(f"  {entry['file']}: {count} frames, truth cuts {entry['cuts']} gradual {entry['gradual']}; "
              f"{DEFAULT_DETECTOR}: {cuts[DEFAULT_DETECTOR]}", flush=True)

    videos = len(corpus["videos"])
    kinds = defaultdict(int)
    for entry in corpus["videos"]:
        for t in entry["transitions"]:
            kinds[t["kind"]] += 1
        for d in entry["distractors"]:
            kinds[d["kind"]] += 1
    best = choose(scores)
    text = "\n".join([
        f"{videos} videos ({args.long_takes} long takes, {args.hard_cut_videos} hard-cut), {frames} frames at "
        f"{size[0]}x{size[1]} 25 fps; {', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}",
        f"tolerances: hard cut +-{CUT_TOLERANCE} frames, gradual transition widened by {GRADUAL_TOLERANCE} frames; "
        f"decode {1000 * decode / videos:.0f} ms/video",
        "",
        table(scores, busy, videos),
        "",
        f"best overall F1 with hard-cut recall >= {MIN_HARD_RECALL}: {best} (DEFAULT_DETECTOR is {DEFAULT_DETECTOR})",
    ])
    print("\n" + text)
    print(f"\ncorpus {generated:.0f} s, total {time.perf_counter() - started:.0f} s")
    if args.write_docs:
        command = " ".join(["python bench/detectors/run.py", *(argv if argv is not None else sys.argv[1:])]).replace(" --write-docs", "")
        notes = (
            f"P, R, F1: precision, recall, F1 (scoring rules in the bench's doc; pans are never counted). "
            f"dissolve/fade/pan: transitions of that kind with a detected cut inside. FP flash/fast: false cuts "
            f"on flashes and on fast motion. ms/video: detection only, {frames // videos} frames a video on "
            f"average, each setting downscaling for itself. Why the default is what it is, and when to pick "
            f"content+threshold instead: docs/moments-notes.md, \"Which cut detector\"."
        )
        benchlib.write_section(SECTION, f"`{command}` on {benchlib.machine()}:\n\n```\n{text}\n```\n\n{notes}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
