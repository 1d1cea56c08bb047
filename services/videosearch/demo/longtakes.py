"""Demo-world videos with gradual changes: long takes whose subject changes through dissolves,
fades through black and camera pans (as well as hard cuts), with flashes and fast motion that
are not scene changes, and each subject's true frame range as ground truth.

    PYTHONPATH=services python -m videosearch.demo.longtakes --out /tmp/moments --long-takes 2

Subjects are rendered by :mod:`videosearch.demo.world` (what the demo CLIP knows); as in
:mod:`videosearch.demo.videos`, consecutive subjects differ in colour and shape, and across a
hard cut the background flips between dark and light so ContentDetector sees every cut.

Ground truth, one entry per video (``corpus.json`` holds ``{"params": ..., "videos": [...]}``)::

    {"file": "take_000.mp4", "kind": "long_take" | "hard_cut", "fps": 25.0, "frame_count": N,
     "duration_seconds": D,
     "subjects": [{"caption": "a red circle", "start_frame": a, "end_frame": b,
                   "start_seconds": a / fps, "end_seconds": b / fps}],
     "transitions": [{"kind": "cut" | "dissolve" | "fade" | "pan", "start_frame": a, "end_frame": b}],
     "cuts": [first frame of the new subject at each hard cut],
     "gradual": [middle frame of each gradual transition],
     "distractors": [{"kind": "flash" | "fast_motion", "start_frame": a, "end_frame": b}]}

A subject's range holds the frames where it alone is on screen: transition frames are
excluded, distractor frames are not (the subject is still there). Ends are exclusive; a cut's
transition is empty (``start_frame == end_frame`` = the cut).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

from videosearch.common.errors import InvalidArgument
from videosearch.demo import world
from videosearch.demo.encoding import VideoEncoder
from videosearch.demo.videos import BG_SPREAD, DARK_LEVELS, LIGHT_LEVELS, generate_demo_video, random_scenes

TRANSITIONS: tuple[str, ...] = ("cut", "dissolve", "fade", "pan")
GENERATOR_VERSION = 1  # bump when the rendering changes, so cached corpora are regenerated

_DISTRACTOR_MARGIN_SECONDS = Fraction(1, 2)  # distractors stay this far from a subject's range ends
_FAST_SPEED = 0.07  # central-square sides per frame (25 px at 360p): a jump no tracker would smooth
_CHUNK = 16  # frames rendered per numpy batch (world.render_params is vectorised)


def _frames(seconds: float, fps: Fraction) -> int:
    return round(Fraction(str(seconds)) * fps)


def _round6(value: Fraction) -> float:
    return round(float(value), 6)


def default_transitions(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` transitions cycling through a shuffled order of all kinds, so each appears once ``n >= 4``."""
    order = list(TRANSITIONS)
    rng.shuffle(order)
    return [order[i % len(order)] for i in range(n)]


def _check_subjects(subjects: list[str], transitions: list[str]) -> None:
    if not subjects:
        raise InvalidArgument("a long take needs at least one subject (a demo-world caption such as 'a red circle')")
    for caption in subjects:
        try:
            world.parse_caption(caption)
        except ValueError as exc:
            raise InvalidArgument(f"{exc}; use one of videosearch.demo.world.CAPTIONS") from None
    for a, b in itertools.pairwise(subjects):
        (ca, sa), (cb, sb) = world.parse_caption(a), world.parse_caption(b)
        if ca == cb or sa == sb:
            raise InvalidArgument(
                f"consecutive subjects {a!r} and {b!r} must differ in colour and shape "
                "(videosearch.demo.videos.random_scenes picks such lists)"
            )
    if len(transitions) != len(subjects) - 1:
        raise InvalidArgument(f"{len(subjects)} subjects need {len(subjects) - 1} transitions, got {len(transitions)}")
    unknown = sorted(set(transitions) - set(TRANSITIONS))
    if unknown:
        raise InvalidArgument(f"unknown transitions {unknown}; use {', '.join(TRANSITIONS)}")


def _plan(subjects, transitions, alone, between):
    """(subject ranges, transition ranges) in frames, laid end to end."""
    ranges, changes, pos = [], [], 0
    for i in range(len(subjects)):
        ranges.append((pos, pos + alone))
        pos += alone
        if i < len(transitions):
            length = 0 if transitions[i] == "cut" else between
            changes.append((transitions[i], pos, pos + length))
            pos += length
    return ranges, changes


def _place_distractors(ranges, flashes, fast_motion, fps, rng):
    """One distractor per chosen subject, inside its range, at least half a second from its ends."""
    if flashes < 0 or fast_motion < 0:
        raise InvalidArgument("flashes and fast_motion are counts of distractors: 0 or more")
    if flashes + fast_motion > len(ranges):
        raise InvalidArgument(
            f"at most one distractor per subject: {flashes} flashes + {fast_motion} fast motions "
            f"need as many subjects, the take has {len(ranges)}"
        )
    margin = max(1, round(_DISTRACTOR_MARGIN_SECONDS * fps))
    kinds = ["flash"] * flashes + ["fast_motion"] * fast_motion
    out = []
    for subject, kind in zip(rng.permutation(len(ranges)), kinds, strict=False):
        a, b = ranges[int(subject)]
        length = int(rng.integers(2, 4)) if kind == "flash" else max(2, round(fps * Fraction(4, 5)))
        room = (b - margin) - (a + margin) - length
        if room < 0:
            raise InvalidArgument(
                f"subjects of {b - a} frames are too short for a {kind} distractor; "
                "raise subject_seconds or ask for fewer distractors"
            )
        start = a + margin + int(rng.integers(room + 1))
        out.append({"kind": kind, "start_frame": start, "end_frame": start + length, "subject": int(subject)})
    return sorted(out, key=lambda d: d["start_frame"])


def _bounce(start: float, steps: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Positions after cumulative ``steps`` from ``start``, reflected at ``lo`` and ``hi``."""
    span = max(hi - lo, 1e-6)
    pos = np.mod(start - lo + np.concatenate([[0.0], np.cumsum(steps)[:-1]]), 2 * span)
    return lo + np.where(pos > span, 2 * span - pos, pos)


class _Subject:
    """The frames of one subject over the frames it is visible (its range plus the transitions
    on either side), rendered in small batches on demand."""

    def __init__(
        self,
        caption: str,
        first: int,
        count: int,
        bg_level: float,
        fast: list[tuple[int, int]],
        size: tuple[int, int],
        rng: np.random.Generator,
    ) -> None:
        self.first = first
        self._size = size
        self._rng = rng
        self._p = world.clip_params(caption, count, rng, bg_level=bg_level, bg_spread=BG_SPREAD)
        for a, b in fast:  # a stretch of fast motion: same heading, several times the speed
            self._speed_up(a - first, b - first)
        self._batch: list[np.ndarray] = []
        self._batch_start = 0

    def _speed_up(self, a: int, b: int) -> None:
        p = self._p
        margin = float(p["radius"].max()) * 1.06
        heading = self._rng.uniform(0, 2 * np.pi)
        for key, direction in (("cx", np.cos(heading)), ("cy", np.sin(heading))):
            steps = np.diff(p[key], append=p[key][-1])
            steps[a:b] = _FAST_SPEED * direction
            p[key] = _bounce(float(p[key][0]), steps, margin, 1 - margin)

    def frame(self, index: int) -> np.ndarray:
        """RGB frame at global frame ``index``; indices must come in increasing order."""
        local = index - self.first
        while local >= self._batch_start + len(self._batch):
            self._batch_start += len(self._batch)
            sub = {k: v[self._batch_start : self._batch_start + _CHUNK] for k, v in self._p.items()}
            self._batch = list(world.render_params(sub, self._size[1], self._size[0], self._rng))
        return self._batch[local - self._batch_start]


def _blend(kind: str, old: np.ndarray, new: np.ndarray, k: int, length: int) -> np.ndarray:
    """Frame ``k`` of a ``length``-frame gradual transition from ``old`` to ``new``."""
    if kind == "dissolve":
        a = (k + 1) / (length + 1)
        return (old * (1 - a) + new * a + 0.5).astype(np.uint8)
    if kind == "fade":  # down to black over the first half, back up over the second
        level = abs(2 * k + 1 - length) / length
        return ((old if 2 * k + 1 < length else new) * level + 0.5).astype(np.uint8)
    if kind == "pan":  # the camera pans right: the old subject leaves left, the new enters right
        t = (k + 1) / (length + 1)
        shift = round(old.shape[1] * t * t * (3 - 2 * t))  # smoothstep: the pan eases in and out
        return np.concatenate([old[:, shift:], new[:, :shift]], axis=1)
    raise AssertionError(kind)


def _flash(frame: np.ndarray, strength: float) -> np.ndarray:
    return (frame + (255.0 - frame) * strength + 0.5).astype(np.uint8)


def _backgrounds(transitions: list[str], rng: np.random.Generator) -> list[float]:
    """Across a cut the background flips dark <-> light (a strong hard cut, as in videos.py);
    across a gradual change it is any level, as a real scene would be."""
    levels = [float(rng.uniform(*(DARK_LEVELS if rng.integers(2) else LIGHT_LEVELS)))]
    for kind in transitions:
        if kind == "cut":
            band = LIGHT_LEVELS if levels[-1] < 128 else DARK_LEVELS
            levels.append(float(rng.uniform(*band)))
        else:
            levels.append(float(rng.uniform(DARK_LEVELS[0], LIGHT_LEVELS[1])))
    return levels


def generate_long_take(
    path: str | Path,
    subjects: list[str],
    *,
    transitions: list[str] | None = None,
    subject_seconds: float = 4.0,
    transition_seconds: float = 2.0,
    fps: Fraction | int | float = 25,
    size: tuple[int, int] = (640, 360),
    seed: int = 0,
    flashes: int = 0,
    fast_motion: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Writes an mp4 (H.264, demo.encoding) showing ``subjects`` in turn and returns its ground truth entry.

    ``transitions[i]`` (default: a seeded mix of all kinds) joins subject i and i + 1; gradual
    ones last ``transition_seconds``, cuts none. ``flashes`` and ``fast_motion`` put that many
    distractors (2-3 bright frames; 0.8 s of an object racing across the frame) inside distinct
    subjects' ranges. Deterministic for a given ``seed``. ``progress(frames_written, total)``
    is called after every frame.
    """
    rng = np.random.default_rng(seed)
    fps = Fraction(fps).limit_denominator(1001)
    transitions = default_transitions(len(subjects) - 1, rng) if transitions is None else list(transitions)
    _check_subjects(subjects, transitions)
    alone, between = _frames(subject_seconds, fps), _frames(transition_seconds, fps)
    if alone < 1 or between < 2:
        raise InvalidArgument(
            f"subject_seconds and transition_seconds must give at least 1 and 2 frames at {fps} fps, "
            f"got {alone} and {between}"
        )
    ranges, changes = _plan(subjects, transitions, alone, between)
    distractors = _place_distractors(ranges, flashes, fast_motion, fps, rng)
    levels = _backgrounds(transitions, rng)
    total = ranges[-1][1]

    def visible(i: int) -> tuple[int, int]:
        return (changes[i - 1][1] if i else 0), (changes[i][2] if i < len(changes) else total)

    def new_subject(i: int) -> _Subject:
        first, end = visible(i)
        fast = [
            (d["start_frame"], d["end_frame"]) for d in distractors if d["subject"] == i and d["kind"] == "fast_motion"
        ]
        return _Subject(subjects[i], first, end - first, levels[i], fast, size, rng)

    flash_at = {
        f: float(rng.uniform(0.55, 0.8))
        for d in distractors
        if d["kind"] == "flash"
        for f in range(d["start_frame"], d["end_frame"])
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    report = (lambda written: progress(written, total)) if progress is not None else None
    with VideoEncoder(path, fps, size, progress=report) as writer:
        current, following = new_subject(0), None
        for i, (kind, a, b) in enumerate([*changes, ("end", total, total)]):
            for f in range(ranges[i][0], ranges[i][1]):
                frame = current.frame(f)
                writer.write(_flash(frame, flash_at[f]) if f in flash_at else frame)
            if kind == "end":
                break
            following = new_subject(i + 1)
            for f in range(a, b):
                mixed = _blend(kind, current.frame(f), following.frame(f), f - a, b - a)
                writer.write(mixed)
            current = following
    return _truth(path.name, "long_take", fps, total, subjects, ranges, changes, distractors)


def _truth(file, kind, fps, total, subjects, ranges, changes, distractors) -> dict:
    return {
        "file": file,
        "kind": kind,
        "fps": float(fps),
        "frame_count": total,
        "duration_seconds": _round6(total / fps),
        "subjects": [
            {
                "caption": c,
                "start_frame": a,
                "end_frame": b,
                "start_seconds": _round6(a / fps),
                "end_seconds": _round6(b / fps),
            }
            for c, (a, b) in zip(subjects, ranges, strict=True)
        ],
        "transitions": [{"kind": k, "start_frame": a, "end_frame": b} for k, a, b in changes],
        "cuts": [a for k, a, _ in changes if k == "cut"],
        "gradual": [a + (b - a) // 2 for k, a, b in changes if k != "cut"],
        "distractors": [{k: d[k] for k in ("kind", "start_frame", "end_frame")} for d in distractors],
    }


def generate_hard_cut_video(path: Path, scenes: list[str], rng, fps: Fraction | int = 25, size=(640, 360)) -> dict:
    """An ordinary demo video (videos.generate_demo_video) with its truth in this module's format."""
    fps = Fraction(fps).limit_denominator(1001)
    gt = generate_demo_video(path, scenes, rng, fps=fps, size=size)
    ranges = [(s["start_frame"], s["end_frame"]) for s in gt["scenes"]]
    changes = [("cut", a, a) for a, _ in ranges[1:]]
    return _truth(path.name, "hard_cut", fps, gt["frame_count"], scenes, ranges, changes, [])


def generate_moment_corpus(
    out_dir: str | Path,
    *,
    long_takes: int = 4,
    hard_cut_videos: int = 4,
    subjects_per_take: int = 8,
    seed: int = 0,
    subject_seconds: float = 4.0,
    transition_seconds: float = 2.0,
    flashes_per_take: int = 2,
    fast_motion_per_take: int = 2,
    fps: Fraction | int = 25,
    size: tuple[int, int] = (640, 360),
) -> dict:
    """Writes ``take_NNN.mp4`` long takes (a mix of all transitions, with flashes and fast
    motion) and ``cuts_NNN.mp4`` hard-cut videos (videos.generate_demo_video) into ``out_dir``
    with ``corpus.json``. A corpus generated before with the same parameters is reused."""
    out = Path(out_dir)
    fps = Fraction(fps).limit_denominator(1001)
    params = {
        "generator": GENERATOR_VERSION,
        "long_takes": long_takes,
        "hard_cut_videos": hard_cut_videos,
        "subjects_per_take": subjects_per_take,
        "seed": seed,
        "subject_seconds": subject_seconds,
        "transition_seconds": transition_seconds,
        "flashes_per_take": flashes_per_take,
        "fast_motion_per_take": fast_motion_per_take,
        "fps": str(fps),
        "size": list(size),
    }
    index_path = out / "corpus.json"
    if index_path.exists():
        cached = json.loads(index_path.read_text())
        if cached.get("params") == params and all((out / v["file"]).is_file() for v in cached["videos"]):
            return cached
    rng = np.random.default_rng(seed)
    videos = []
    for i in range(long_takes):
        subjects = random_scenes(subjects_per_take, rng)
        videos.append(
            generate_long_take(
                out / f"take_{i:03d}.mp4",
                subjects,
                subject_seconds=subject_seconds,
                transition_seconds=transition_seconds,
                fps=fps,
                size=size,
                seed=int(rng.integers(2**31)),
                flashes=flashes_per_take,
                fast_motion=fast_motion_per_take,
            )
        )
    for i in range(hard_cut_videos):
        videos.append(
            generate_hard_cut_video(out / f"cuts_{i:03d}.mp4", random_scenes(subjects_per_take, rng), rng, fps, size)
        )
    corpus = {"params": params, "videos": videos}
    index_path.write_text(json.dumps(corpus, indent=1) + "\n")
    return corpus


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--long-takes", type=int, default=4)
    ap.add_argument("--hard-cut-videos", type=int, default=4)
    ap.add_argument("--subjects", type=int, default=8, help="subjects per video")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    corpus = generate_moment_corpus(
        args.out,
        long_takes=args.long_takes,
        hard_cut_videos=args.hard_cut_videos,
        subjects_per_take=args.subjects,
        seed=args.seed,
    )
    for v in corpus["videos"]:
        kinds = ", ".join(t["kind"] for t in v["transitions"])
        print(f"{Path(args.out) / v['file']}: {v['frame_count']} frames ({kinds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
