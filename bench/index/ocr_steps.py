"""What each saving of on-screen text reading (videosearch.indexer.text.on_screen) saves and what
it costs in text read, measured in this process on the OCR thread alone (CPU seconds of the
thread, so other work on the machine moves them less than wall time):

* ``recall``: a corpus of rendered 960x540 frames (the size a 720p or 1080p video reaches the
  reader at; English and Chinese lines of 8-24 px on flat, gradient and textured backgrounds), each line's words known: the share of
  lines read exactly, per detector input size, smallest box recognized and inference runtime
  (OpenVINO, onnxruntime: videosearch.indexer.text.ocr_runtime), and with the reader's defaults
  (detection in the parts with edges, narrower recognizer inputs), and CPU s per frame;
* ``steps``: a video's sampled frames (one per second, scenes of ``scene_seconds``) read by the
  scene reader with its savings turned on one after another (the runtime, detection of a new
  picture where it has edges, narrower recognizer inputs last): CPU s per video minute, detector
  calls and pixels, boxes recognized and reused, and the lines found against those found with
  every saving off.

Used by bench/index/text_cost.py (which prints both beside the index-time figures); alone:

    python bench/index/ocr_steps.py [video.mp4]
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: F401  (sets up sys.path for the project's packages)
import numpy as np
from videosearch.indexer.text.ocr_runtime import DEFAULT_OCR_RUNTIME, choose_runtime

EN_LINES = [
    "QUARTERLY BUDGET",
    "Platform 7 North",
    "EXIT",
    "Meeting Room B",
    "Annual Safety Review",
    "Server Migration Plan",
    "Gate 12",
    "Open 9am to 5pm",
    "Library Hours",
    "Kitchen Renovation",
]
ZH_LINES = ["季度预算会议", "北门停车场", "安全检查", "图书馆", "服务器迁移", "南门售票处", "会议室", "年度路线图"]
SIZES = (8, 10, 12, 16, 24)  # font size in pixels of the frame the reader gets
DETECT_SIDES = (960, 736, 640, 480)
MIN_HEIGHTS = (0, 8)
OLD_RUNTIME = "onnxruntime"  # what read on-screen text before the OpenVINO runtime


def _font(size: int, chinese: bool):
    from PIL import ImageFont

    paths = (
        ["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"]
        if chinese
        else ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"]
    )
    for path in paths:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    raise SystemExit(f"no font for {'Chinese' if chinese else 'Latin'} text: apt-get install -y fonts-wqy-microhei")


def _background(rng, height: int, width: int, kind: str) -> np.ndarray:
    import cv2

    if kind == "flat":
        return np.full((height, width, 3), rng.integers(30, 225, 3), np.uint8)
    if kind == "gradient":
        ramp = np.linspace(0, 1, width)[None, :, None]
        a, b = rng.integers(0, 255, 3), rng.integers(0, 255, 3)
        return np.broadcast_to(a + (b - a) * ramp, (height, width, 3)).astype(np.uint8).copy()
    noise = (
        rng.normal(128, 50, (height // 8, width // 8, 3)).clip(0, 255).astype(np.uint8)
    )  # textured: a photo-like blur
    return cv2.resize(cv2.GaussianBlur(noise, (5, 5), 0), (width, height), interpolation=cv2.INTER_CUBIC)


@dataclass
class Line:
    text: str
    size: int
    chinese: bool


def recall_corpus(frames: int = 30, seed: int = 7) -> list[tuple[np.ndarray, list[Line]]]:
    """Rendered frames with their lines: three a frame, each on a plate of contrasting colour or
    straight on the background (an outlined caption), at sizes from SIZES; every third frame a
    slide of five lines of one size close together."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    out = []
    for i in range(frames):
        width, height = 960, 540  # what a 720p or 1080p video reaches the reader at (TEXT_FRAME_MAX_SIDE)
        kind = "flat" if i % 3 == 1 else ("gradient", "textured")[i % 2]
        image = Image.fromarray(_background(rng, height, width, kind))
        draw = ImageDraw.Draw(image)
        lines = []
        dense = i % 3 == 1  # a slide's body: five lines close together, one size
        for row in range(5 if dense else 3):
            chinese = bool((i + row) % 3 == 2)
            text = str(rng.choice(ZH_LINES if chinese else EN_LINES))
            size = int(SIZES[i % len(SIZES)] if dense else SIZES[(i + row * 2) % len(SIZES)])
            font = _font(size, chinese)
            if dense:
                x, y = 40, int(40 + row * size * 1.5)
            else:
                x = int(rng.integers(10, max(11, width // 3)))
                y = int(20 + row * height // 3 + rng.integers(0, max(1, height // 3 - size - 30)))
            left, top, right, bottom = draw.textbbox((x, y), text, font=font)
            if dense:
                draw.text((x, y), text, font=font, fill=(20, 20, 30))
            elif row % 2 == 0:  # a sign's plate
                draw.rectangle((left - 6, top - 6, right + 6, bottom + 6), fill=(250, 250, 245))
                draw.text((x, y), text, font=font, fill=(20, 20, 30))
            else:  # a caption straight on the picture, with an outline as burned-in captions have
                draw.text(
                    (x, y),
                    text,
                    font=font,
                    fill=(255, 255, 255),
                    stroke_width=max(1, size // 12),
                    stroke_fill=(0, 0, 0),
                )
            lines.append(Line(text, size, chinese))
        out.append((np.ascontiguousarray(np.asarray(image)[:, :, ::-1]), lines))
    return out


def _key(text: str) -> str:
    from videosearch.indexer.text.on_screen import _key as key

    return key(text)


def recall(
    corpus,
    detect_side: int,
    min_height: float,
    threads: int = 1,
    runtime: str = DEFAULT_OCR_RUNTIME,
    edges_only: bool = False,
    widths: dict | None = None,
) -> dict:
    """Lines read exactly (after case and spacing folding), overall and per size, CPU s per frame
    of this thread (detect, recognize) and wall s per frame (the one figure that counts the
    runtime's other threads when ``threads`` > 1). ``edges_only``: each frame detected in its parts
    with edges only, as the scene reader detects a new picture; ``widths``: the recognizer's
    minimum input widths (default: OLD_WIDTHS)."""
    from videosearch.indexer.text import text_regions as regions
    from videosearch.indexer.text.on_screen import DEFAULT_MIN_CONFIDENCE, detect_in, make_text_recognizer

    recognizer = make_text_recognizer(
        detect_max_side=detect_side, threads=threads, runtime=runtime, **(OLD_WIDTHS if widths is None else widths)
    )
    recognizer.detect(corpus[0][0])  # models load outside the timing
    found, per_size, total = 0, {s: [0, 0] for s in SIZES}, 0
    detect_cpu = recognize_cpu = 0.0
    wall = time.perf_counter()
    for frame, lines in corpus:
        started = time.thread_time()
        areas = regions.content_areas(frame) if edges_only else None
        quads = [q for q in detect_in(recognizer, frame, areas, frame_scale=True) if regions.height(q) >= min_height]
        detected = time.thread_time()
        readings = recognizer.recognize([regions.crop(frame, q) for q in quads])
        recognize_cpu += time.thread_time() - detected
        detect_cpu += detected - started
        read = {_key(t) for t, score in readings if score >= DEFAULT_MIN_CONFIDENCE}
        for line in lines:
            hit = _key(line.text) in read
            found += hit
            per_size[line.size][0] += hit
            per_size[line.size][1] += 1
            total += 1
    return {
        "recall": found / total,
        "per_size": {s: a / max(b, 1) for s, (a, b) in per_size.items()},
        "detect_s": detect_cpu / len(corpus),
        "recognize_s": recognize_cpu / len(corpus),
        "wall_s": (time.perf_counter() - wall) / len(corpus),
    }


def sampled_frames(video: Path, seconds_per_sample: float = 1.0) -> tuple[list[np.ndarray], list[float]]:
    """The frames the decode pass keeps for on-screen text: one per ``seconds_per_sample``, mid
    interval, at most TEXT_FRAME_MAX_SIDE wide."""
    import av
    from videosearch.indexer.media.scenes import text_frame

    frames, times, next_at = [], [], seconds_per_sample / 2
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= next_at:
                frames.append(text_frame(frame.to_ndarray(format="bgr24")))
                times.append(float(frame.time))
                next_at += seconds_per_sample
    return frames, times


OLD_WIDTHS = dict(min_recognition_width=320, filled_min_width=320)  # the models' own minimum, before
STEPS = {  # name -> ReadingSteps keywords, the detector's input side, the runtime and the recognizer's
    # keywords; each adds one saving
    "every saving off (whole frames, onnxruntime, as before)": (
        dict(changed_area_only=False, reuse_unchanged_boxes=False, min_text_height=0, content_areas_only=False),
        960,
        OLD_RUNTIME,
        OLD_WIDTHS,
    ),
    "+ detect in the changed part only": (
        dict(changed_area_only=True, reuse_unchanged_boxes=False, min_text_height=0, content_areas_only=False),
        960,
        OLD_RUNTIME,
        OLD_WIDTHS,
    ),
    "+ unchanged boxes not recognized again": (
        dict(changed_area_only=True, reuse_unchanged_boxes=True, min_text_height=0, content_areas_only=False),
        960,
        OLD_RUNTIME,
        OLD_WIDTHS,
    ),
    "+ boxes under 8 px not recognized": (
        dict(changed_area_only=True, reuse_unchanged_boxes=True, min_text_height=8, content_areas_only=False),
        960,
        OLD_RUNTIME,
        OLD_WIDTHS,
    ),
    "+ detector input 736 long side": (dict(content_areas_only=False), 736, OLD_RUNTIME, OLD_WIDTHS),
    "+ runtime auto: OpenVINO in bf16 where the CPU has it": (
        dict(content_areas_only=False),
        736,
        DEFAULT_OCR_RUNTIME,
        OLD_WIDTHS,
    ),
    "+ a new picture detected only where it has edges": (dict(), 736, DEFAULT_OCR_RUNTIME, OLD_WIDTHS),
    "+ recognizer inputs 256 px wide at least, their own width where the text fills the box (the default)": (
        dict(),
        736,
        DEFAULT_OCR_RUNTIME,
        dict(),
    ),
}


def steps(
    frames: list[np.ndarray], times: list[float], scene_seconds: float, truth: set[str] = frozenset(), rows=STEPS
) -> dict[str, dict]:
    """Each row of ``rows`` read over the frames, scene by scene: CPU s per video minute, counts,
    the lines of ``truth`` (what the video draws) read exactly, and all distinct lines read."""
    from videosearch.indexer.text.on_screen import ReadingSteps, SceneTextReader, make_text_recognizer

    results = {}
    minutes = (times[-1] + (times[1] - times[0] if len(times) > 1 else 1.0)) / 60
    wanted = {_key(t) for t in truth}
    for name, (options, detect_side, runtime, widths) in rows.items():
        recognizer = make_text_recognizer(detect_max_side=detect_side, runtime=runtime, **widths)
        recognizer.detect(frames[0])
        reader = SceneTextReader(recognizer, steps=ReadingSteps(**options))
        words: set[str] = set()
        started = time.thread_time()
        scene: list[int] = []
        for i, at in enumerate(times):
            scene.append(i)
            if i == len(times) - 1 or int(times[i + 1] // scene_seconds) != int(at // scene_seconds):
                end = (int(at // scene_seconds) + 1) * scene_seconds
                words |= {
                    _key(s.text) for s in reader.read_scene([frames[j] for j in scene], [times[j] for j in scene], end)
                }
                scene = []
        cpu = time.thread_time() - started
        results[name] = {
            "cpu_per_minute": cpu / minutes,
            "counts": reader.counts,
            "lines": len(words),
            "found": len(words & wanted),
            "truth": len(wanted),
        }
    return results


def render_recall(corpus) -> list[str]:
    total = sum(len(lines) for _, lines in corpus)
    rows = [
        f"| detector input (long side) | smallest box recognized | runtime | threads | lines read (of {total}) | "
        + " | ".join(f"{s} px" for s in SIZES)
        + " | CPU s per frame: detect / recognize | wall s per frame |",
        "| --- | ---: | --- | ---: | ---: | " + " | ".join("---:" for _ in SIZES) + " | ---: | ---: |",
    ]
    new = DEFAULT_OCR_RUNTIME
    runs = [(DETECT_SIDES[0], height, 1, new) for height in MIN_HEIGHTS] + [
        (side, 0, 1, new) for side in DETECT_SIDES[1:]
    ]
    # the default (736, 8 px) on each runtime side by side, then onnxruntime on two threads
    runs += [(736, 8, 1, new), (736, 8, 1, OLD_RUNTIME), (736, 8, 2, OLD_RUNTIME)]
    runs = [(*run, "", False, None) for run in runs]
    # the scene reader's default: a new picture detected where it has edges, narrower recognizer inputs
    runs += [
        (736, 8, 1, new, ", where it has edges", True, None),
        (736, 8, 1, new, ", where it has edges; inputs from 256 px or own width (the default)", True, {}),
    ]
    for side, min_height, threads, runtime, label, edges_only, widths in runs:
        r = recall(corpus, side, min_height, threads, runtime, edges_only, widths)
        sizes = " | ".join(f"{r['per_size'][s]:.2f}" for s in SIZES)
        rows.append(
            f"| {side}{label} | {min_height} px | {runtime_name(runtime)} | {threads} | {r['recall']:.2f} | {sizes} | "
            f"{r['detect_s']:.3f} / {r['recognize_s']:.3f} | {r['wall_s']:.3f} |"
        )
    return rows


def runtime_name(runtime: str) -> str:
    """The runtime as resolved on this machine: ``auto`` named by what it chose, OpenVINO with its precision."""
    chosen = choose_runtime(runtime)
    if chosen == "openvino":
        from videosearch.indexer.text.ocr_runtime import has_native_bf16

        chosen = f"OpenVINO {'bf16' if has_native_bf16() else 'f32'}"
    return chosen + (" (auto)" if runtime == "auto" else "")


def render_steps(results: dict[str, dict]) -> list[str]:
    rows = [
        "| reading | CPU s per video minute | samples read / skipped | detector calls (Mpixel) | "
        "boxes recognized / reused / too small | drawn lines read | distinct lines read |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        c = r["counts"]
        rows.append(
            f"| {name} | {r['cpu_per_minute']:.2f} | {c.frames_read} / {c.frames_skipped} | {c.detections} "
            f"({c.detected_pixels / 1e6:.1f}) | {c.recognized} / {c.reused} / {c.too_small} | "
            f"{r['found']} of {r['truth']} | {r['lines']} |"
        )
    return rows


if __name__ == "__main__":
    print("\n".join(render_recall(recall_corpus())))
    if len(sys.argv) > 1:
        frames, times = sampled_frames(Path(sys.argv[1]))
        print("\n".join(render_steps(steps(frames, times, 10.0))))
