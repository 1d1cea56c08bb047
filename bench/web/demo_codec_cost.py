"""What writing the demo videos as VP8 WebM (which browsers play; `make demo` does it for the
web page) costs against MPEG-4 Part 2 (what the tests and benchmarks use), in one run:
the same rendered demo-world frames written with both, CPU seconds per frame and file size.

    .venv/bin/python bench/web/demo_codec_cost.py --frames 120
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path

import cv2
import numpy as np

from videosearch.demo import world


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write(path: Path, fourcc: str, frames: list[np.ndarray], size: tuple[int, int]) -> tuple[float, int]:
    started = cpu_seconds()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25.0, size)
    if not writer.isOpened():
        raise SystemExit(f"OpenCV cannot write {fourcc} to {path.suffix}")
    for frame in frames:
        writer.write(frame)
    writer.release()
    return cpu_seconds() - started, path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    args = parser.parse_args()
    size = (args.width, args.height)
    rng = np.random.default_rng(0)
    frames = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in world.render_clip("a red circle", args.frames, rng, size=size)]
    with tempfile.TemporaryDirectory() as folder:
        mp4v = write(Path(folder) / "a.mp4", "mp4v", frames, size)
        vp8 = write(Path(folder) / "a.webm", "VP80", frames, size)
    print(f"{args.frames} demo frames at {size[0]}x{size[1]}")
    print(f"{'codec':24s} {'CPU s/frame':>12s} {'KiB/frame':>10s}")
    for name, (seconds, size_bytes) in (("MPEG-4 Part 2 (.mp4)", mp4v), ("VP8 (.webm)", vp8)):
        print(f"{name:24s} {seconds / args.frames:12.4f} {size_bytes / args.frames / 1024:10.1f}")
    print(f"VP8 / MPEG-4 Part 2: {vp8[0] / max(mp4v[0], 1e-9):.1f}x the CPU, {vp8[1] / mp4v[1]:.2f}x the bytes")


if __name__ == "__main__":
    main()
