"""Demo video generator: mp4 files of demo-world scenes separated by hard cuts, with
ground truth (scene boundaries + captions) as JSON next to each video.

    PYTHONPATH=services python -m videosearch.demo.videos --out /tmp/demo-videos --videos 3 --seed 0

Consecutive scenes always differ strongly (dark <-> light background, a different
colour *and* shape), so PySceneDetect's ``ContentDetector`` at its default threshold
(27) finds every cut and nothing else; within a scene the object moves, rotates and
pulses, and every frame gets fresh grey-level noise.

Ground truth format (``<video>.json``)::

    {"video": "demo_000.mp4", "fps": "25", "fps_float": 25.0, "width": 640, "height": 360,
     "frame_count": 312,
     "scenes": [{"index": 0, "start_frame": 0, "end_frame": 57, "caption": "a red star",
                 "start_time": 0.0, "end_time": 2.28}, ...]}

``end_frame`` is exclusive; times are in seconds (``frame / fps``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

from videosearch.demo import world
from videosearch.demo.encoding import VideoEncoder

DARK_LEVELS = (15.0, 55.0)
LIGHT_LEVELS = (190.0, 240.0)
BG_SPREAD = 20.0


def _fps_str(fps: Fraction) -> str:
    return str(fps.numerator) if fps.denominator == 1 else f"{fps.numerator}/{fps.denominator}"


def random_scenes(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` random captions where consecutive captions differ in colour and shape."""
    out: list[str] = []
    for _ in range(n):
        while True:
            cap = world.CAPTIONS[int(rng.integers(len(world.CAPTIONS)))]
            if not out:
                break
            c0, s0 = world.parse_caption(out[-1])
            c1, s1 = world.parse_caption(cap)
            if c0 != c1 and s0 != s1:
                break
        out.append(cap)
    return out


def generate_demo_video(
    path: str | Path,
    scenes: list[str],
    rng: np.random.Generator,
    fps: Fraction | float = Fraction(25),
    size: tuple[int, int] = (640, 360),
    frames_per_scene: tuple[int, int] = (40, 90),
    codec: str | None = None,
) -> dict:
    """Write a video (H.264 in .mp4, VP9 in .webm, which browsers play; ``codec="mpeg4"`` for
    MPEG-4 Part 2, which they do not) with one scene per caption in ``scenes`` and its ground truth.

    ``size`` is ``(W, H)``; each scene gets ``rng.integers(lo, hi + 1)`` frames for
    ``frames_per_scene=(lo, hi)``. Backgrounds alternate dark/light between scenes so that
    every boundary is a strong hard cut. The ground truth dict is returned and also
    written to ``path.with_suffix(".json")``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fps = Fraction(fps).limit_denominator(1001) if not isinstance(fps, Fraction) else fps
    if not scenes:
        raise ValueError("need at least one scene")
    for cap in scenes:
        world.parse_caption(cap)  # validate early
    w, h = size
    lo, hi = frames_per_scene
    if lo < 16 or hi < lo:
        raise ValueError("frames_per_scene must be (lo, hi) with 16 <= lo <= hi")
    gt_scenes = []
    frame = 0
    dark = bool(rng.integers(2))
    with VideoEncoder(path, fps, (w, h), codec) as writer:
        for i, cap in enumerate(scenes):
            n = int(rng.integers(lo, hi + 1))
            levels = DARK_LEVELS if dark else LIGHT_LEVELS
            level = float(rng.uniform(*levels))
            for img in world.render_clip(cap, n, rng, size=(w, h), bg_level=level, bg_spread=BG_SPREAD):
                writer.write(img)
            gt_scenes.append(
                {
                    "index": i,
                    "start_frame": frame,
                    "end_frame": frame + n,
                    "caption": cap,
                    "start_time": round(float(frame / fps), 6),
                    "end_time": round(float((frame + n) / fps), 6),
                }
            )
            frame += n
            dark = not dark
    gt = {
        "video": path.name,
        "fps": _fps_str(fps),
        "fps_float": float(fps),
        "width": w,
        "height": h,
        "frame_count": frame,
        "scenes": gt_scenes,
    }
    path.with_suffix(".json").write_text(json.dumps(gt, indent=2) + "\n")
    return gt


def generate_demo_corpus(
    out_dir: str | Path,
    n_videos: int,
    scenes_per_video: int | tuple[int, int],
    seed: int,
    *,
    fps: Fraction | int = Fraction(25),
    size: tuple[int, int] = (640, 360),
    frames_per_scene: tuple[int, int] = (40, 90),
    progress: Callable[[int, int, dict], None] | None = None,
) -> dict:
    """Write ``n_videos`` demo videos (``demo_000.mp4`` + ``demo_000.json``, ...; H.264, which
    browsers play) and an ``index.json`` listing them with their ground truth.
    ``scenes_per_video`` is a count or an inclusive ``(lo, hi)`` range; ``progress(done,
    total, ground_truth)`` is called after each video. Deterministic for a given ``seed``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    videos = []
    for v in range(n_videos):
        if isinstance(scenes_per_video, int):
            k = scenes_per_video
        else:
            k = int(rng.integers(scenes_per_video[0], scenes_per_video[1] + 1))
        scenes = random_scenes(k, rng)
        gt = generate_demo_video(
            out / f"demo_{v:03d}.mp4", scenes, rng, fps=fps, size=size, frames_per_scene=frames_per_scene
        )
        videos.append({"file": gt["video"], "ground_truth": f"demo_{v:03d}.json", **gt})
        if progress is not None:
            progress(v + 1, n_videos, gt)
    index = {"seed": seed, "captions": world.CAPTIONS, "videos": videos}
    (out / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    return index


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--videos", type=int, default=3)
    ap.add_argument("--scenes", type=int, default=5, help="scenes per video")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fps", default="25", help="frame rate, e.g. 25 or 30000/1001")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    args = ap.parse_args(argv)
    index = generate_demo_corpus(
        args.out, args.videos, args.scenes, args.seed, fps=Fraction(args.fps), size=(args.width, args.height)
    )
    for v in index["videos"]:
        caps = ", ".join(s["caption"] for s in v["scenes"])
        print(f"{Path(args.out) / v['file']}: {v['frame_count']} frames, {len(v['scenes'])} scenes ({caps})")
    print(f"index: {Path(args.out) / 'index.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
