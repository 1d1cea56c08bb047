"""Decoding alone, for bench/index/run.py: the Indexer's decoder reading every frame of a file
and doing nothing else (the floor under the indexing pipeline's wall time), and decoder
variants measured by speed, cuts and embeddings (``--decoders``)."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from videosearch.indexer.decoding import DecoderSettings, hardware_decoding
from videosearch.indexer.detectors import CutDetector, DetectorSettings
from videosearch.indexer.scenes import read_frame
from videosearch.indexer.video_file import open_video

DECODING_SECTION = "## Decoding"


def decode_only(path: Path, decoder: DecoderSettings = DecoderSettings()) -> dict:
    """Wall and CPU seconds to open ``path`` and decode every frame to BGR, as the Indexer does."""
    began, cpu = time.perf_counter(), time.process_time()
    capture, info, _ = open_video(path, decoder)
    frames = 1
    try:
        while read_frame(capture, frames - 1, info.frame_count) is not None:
            frames += 1
    finally:
        capture.release()
    return {"wall": time.perf_counter() - began, "cpu": time.process_time() - cpu, "frames": frames}


# -- decoder variants: speed, cuts against PySceneDetect, embeddings against a full decode --------
#
# OpenCV's FFmpeg backend passes FFmpeg only threads and hardware acceleration; codec options such
# as skip_loop_filter and lowres never reach the codec through it. Those are measured through the
# ffmpeg binary that imageio-ffmpeg ships (another FFmpeg build than OpenCV's, so its plain decode
# is measured too, as their baseline).

SAMPLE_EVERY_SECONDS = 1.0  # frames compared by embedding: one per second, as the Indexer samples


@dataclass(frozen=True)
class Variant:
    name: str
    opencv: DecoderSettings | None = None  # decoded by OpenCV with these settings ...
    ffmpeg_args: tuple[str, ...] = ()  # ... or by the ffmpeg binary with these input options
    threads: int = 2


def variants() -> list[Variant]:
    return [  # the Indexer's default first: the others' embeddings are compared with its
        Variant("OpenCV, 2 threads (default: one per core)", opencv=DecoderSettings()),
        Variant("OpenCV, 1 thread", opencv=DecoderSettings(threads=1), threads=1),
        Variant("OpenCV, 4 threads", opencv=DecoderSettings(threads=4), threads=4),
        Variant("OpenCV, hardware decoding (any)", opencv=DecoderSettings(hw_acceleration="any")),
        Variant("ffmpeg binary, 2 threads", ffmpeg_args=()),
        Variant("ffmpeg binary, skip_loop_filter all", ffmpeg_args=("-skip_loop_filter", "all")),
        Variant("ffmpeg binary, lowres 1 (half size)", ffmpeg_args=("-lowres", "1")),
        Variant("ffmpeg binary, skip_loop_filter + lowres 1", ffmpeg_args=("-skip_loop_filter", "all", "-lowres", "1")),
    ]


def _ffmpeg_command(path: Path, variant: Variant, *extra: str) -> list[str]:
    import imageio_ffmpeg

    return [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-threads", str(variant.threads), *variant.ffmpeg_args,
            "-i", str(path), "-an", *extra]


def _ffmpeg_frames(path: Path, variant: Variant) -> Iterator[np.ndarray]:
    """Every frame as BGR from the ffmpeg binary (its size read from a first one-frame run)."""
    first = subprocess.run(_ffmpeg_command(path, variant, "-frames:v", "1", "-f", "image2pipe", "-c:v", "ppm", "-"),
                           capture_output=True, check=True).stdout
    width, height = (int(v) for v in first.split(b"\n", 3)[1].split())
    process = subprocess.Popen(_ffmpeg_command(path, variant, "-f", "rawvideo", "-pix_fmt", "bgr24", "-"),
                               stdout=subprocess.PIPE, bufsize=0)
    size = width * height * 3
    try:
        while True:
            buffer = bytearray(size)
            view, got = memoryview(buffer), 0
            while got < size and (n := process.stdout.readinto(view[got:])):
                got += n
            if got < size:
                return
            yield np.frombuffer(buffer, np.uint8).reshape(height, width, 3)
    finally:
        process.kill()
        process.wait()


def _opencv_frames(path: Path, settings: DecoderSettings) -> Iterator[np.ndarray]:
    capture, info, frame = open_video(path, settings)
    try:
        index = 0
        while frame is not None:
            yield frame
            item = read_frame(capture, index, info.frame_count)
            frame, index = (item[0] if item else None), index + 1
    finally:
        capture.release()


def frames_of(path: Path, variant: Variant) -> Iterator[np.ndarray]:
    return _opencv_frames(path, variant.opencv) if variant.opencv is not None else _ffmpeg_frames(path, variant)


def decode_seconds(path: Path, variant: Variant) -> float:
    began = time.perf_counter()
    for _ in frames_of(path, variant):
        pass
    return time.perf_counter() - began


def cuts_and_samples(path: Path, variant: Variant, info, preprocessor) -> tuple[list[int], dict[int, np.ndarray]]:
    """The Indexer's cut detector (ContentDetector, downscaled as PySceneDetect does) on this
    variant's frames, and the CLIP crops of one frame per second."""
    detector = CutDetector.from_settings(DetectorSettings(), info)
    every = max(1, round(float(info.fps) * SAMPLE_EVERY_SECONDS))
    cuts, samples, index = [], {}, 0
    for index, frame in enumerate(frames_of(path, variant)):
        cuts += detector.process(index, frame)
        if index % every == 0:
            samples[index] = preprocessor(frame)
    cuts += detector.finish(index)
    return sorted({c for c in cuts if 0 < c <= index}), samples


def pyscenedetect_cuts(path: Path) -> list[int]:
    from scenedetect import ContentDetector, detect

    return [start.frame_num for start, _ in detect(str(path), ContentDetector())[1:]]


def compare_variants(timed: list[tuple[str, Path]], shared: list[Path], embedder_address: str, repeats: int = 3) -> dict:
    """Per variant: decode seconds on each timed video (median of ``repeats`` rounds, the
    variants alternating within a round, so load drifting between rounds weighs on all), cut agreement with PySceneDetect on the
    timed and the shared videos, and the lowest cosine of its frames' embeddings to OpenCV's
    default decode (the Indexer's frames) on the timed videos."""
    from videosearch.embedder.client import EmbedderClient
    from videosearch.indexer.preprocess import FramePreprocessor

    with EmbedderClient(embedder_address, timeout=300) as embedder:
        preprocessing = embedder.model_info().preprocessing
        result: dict = {"variants": [v.name for v in variants()], "seconds": {}, "cuts": {}, "cosine": {},
                        "hardware": None, "durations": {}}
        references = {p: pyscenedetect_cuts(p) for p in [path for _, path in timed] + shared}
        baseline: dict[Path, dict[int, np.ndarray]] = {}
        rounds: dict[str, dict[str, list[float]]] = {v.name: {name: [] for name, _ in timed} for v in variants()}
        for round_ in range(repeats):
            print(f"  decode timing round {round_ + 1}/{repeats}", flush=True)
            for variant in variants():
                for name, path in timed:
                    rounds[variant.name][name].append(decode_seconds(path, variant))
        result["seconds"] = {v: {name: statistics.median(t) for name, t in per.items()} for v, per in rounds.items()}
        result["rounds"], result["repeats"] = rounds, repeats
        for variant in variants():
            print(f"  decoder variant: {variant.name}", flush=True)
            if variant.opencv is not None and variant.opencv.hw_acceleration != "none":
                capture, _, _ = open_video(timed[0][1], variant.opencv)
                result["hardware"] = hardware_decoding(capture)
                capture.release()
            agree, worst = [], 1.0
            for path in [p for _, p in timed] + shared:
                capture, info, _ = open_video(path)
                capture.release()
                result["durations"][path] = info.duration_seconds
                preprocessor = FramePreprocessor(preprocessing).for_pixel_aspect(info.pixel_aspect)
                cuts, samples = cuts_and_samples(path, variant, info, preprocessor)
                agree.append((path.name, cuts == references[path], len(cuts), len(references[path])))
                if path in shared:
                    continue
                frames = sorted(samples)
                vectors = embedder.embed_images(np.stack([samples[f] for f in frames]))
                if variant.opencv == DecoderSettings():
                    baseline[path] = dict(zip(frames, vectors))
                else:
                    common = [(baseline[path][f], v) for f, v in zip(frames, vectors) if f in baseline[path]]
                    worst = min([worst] + [float(a @ b) for a, b in common])
            result["cuts"][variant.name] = agree
            result["cosine"][variant.name] = worst
    return result


def render_variants(result: dict, timed: list[tuple[str, Path]], command: str, machine: str) -> str:
    lines = [
        DECODING_SECTION, "",
        f"`{command}` on {machine}. **Shared machine** (other jobs on the same 2 cores): compare within a column.",
        f"Decode seconds: every frame of the file to BGR, nothing else; median of {result['repeats']} "
        "rounds, the decoders alternating within each round. Cuts: ContentDetector (the Indexer's detector, "
        "downscaled as PySceneDetect does) on the variant's frames against `scenedetect.detect(path, ContentDetector())`, "
        "on the timed videos and on every shared video. Cosine: the lowest cosine between the embeddings of the same "
        "frames (one per second) decoded by the variant and by the Indexer's default decode (OpenCV, one thread per core).",
        "", "| decoder | " + " | ".join(f"{name}: decode s (realtime ×)" for name, _ in timed) +
        " | same cuts as PySceneDetect | lowest cosine to the default decode |",
        "|---|" + "---|" * (len(timed) + 2),
    ]
    for variant in result["variants"]:
        seconds = result["seconds"][variant]
        cells = [f"{seconds[name]:.2f} ({result['durations'][path] / seconds[name]:.1f}×)" for name, path in timed]
        agree = result["cuts"][variant]
        same = f"{sum(ok for _, ok, _, _ in agree)}/{len(agree)} videos" + "".join(
            f"; {name}: {got} vs {want} cuts" for name, ok, got, want in agree if not ok)
        cosine = "– (the reference)" if variant.startswith("OpenCV, 2 threads") else f"{result['cosine'][variant]:.4f}"
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {same} | {cosine} |")
    default = result["seconds"][result["variants"][0]]
    faster = [v for v in result["variants"][1:]
              if all(result["seconds"][v][name] < 0.9 * default[name] for name, _ in timed)
              and all(ok for _, ok, _, _ in result["cuts"][v])]
    lines += ["", "Faster than the default on every timed video by more than 10 % with PySceneDetect's cuts on every video: "
              + (", ".join(faster) if faster else "none") + ". OpenCV's FFmpeg backend gives the codec only a thread count "
              "and hardware acceleration (`OPENCV_FFMPEG_CAPTURE_OPTIONS` reaches the demuxer, not the decoder), so "
              "`skip_loop_filter` and `lowres` are measured through the ffmpeg binary (imageio-ffmpeg's FFmpeg 9, another "
              "build than OpenCV's). The generated videos are MPEG-4 Part 2, which has no in-loop deblocking filter: "
              "`skip_loop_filter` can only act on testvideo.mp4 (H.264), which in turn has no `lowres` (H.264 decoders "
              "do not support it)."]
    lines += ["", "Indexer settings (videosearch.indexer.decoding): `--decoder-threads` (default 0: one per core, at most "
              "16; `VIDEOSEARCH_INDEXER_DECODER_THREADS`) and `--decoder-hw-acceleration` (`none`, the default, or `any`: "
              "a hardware decoder where FFmpeg finds one, else software). Neither changes a decoded pixel (tests/indexer_media/"
              "test_decoding.py), so neither can move a cut."]
    hardware = result["hardware"]
    lines += ["", "Hardware decoding: " + ("none on this machine (`CAP_PROP_HW_ACCELERATION` = any opens a software "
              "decoder: no GPU, no VA-API device here)" if not hardware else "a hardware decoder was used") + "."]
    return "\n".join(lines) + "\n"
