"""Decoding alone, for bench/index/run.py: the Indexer's decoder reading every frame of a file
and doing nothing else (the floor under the indexing pipeline's wall time), and decoder
variants measured by speed, cuts and embeddings (``--decoders``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from videosearch.indexer.media import nvdec
from videosearch.indexer.media.decoding import DecoderSettings, hardware_decoding
from videosearch.indexer.media.detector_settings import DetectorSettings
from videosearch.indexer.media.detectors import CutDetector
from videosearch.embedder.preprocessing import ReducedFrame
from videosearch.indexer.media.scenes import SceneReader, decoder_shrink, read_frame
from videosearch.indexer.media.video_file import open_video

DECODING_SECTION = "## Decoding"
MIN_COSINE = 0.99  # a decoder variant's embeddings against the default decode's, to become the default


def decode_only(path: Path, decoder: DecoderSettings = DecoderSettings(), shrink=None, max_seconds: float = 0.0) -> dict:
    """Wall and CPU seconds to open ``path`` and decode every frame to BGR, as the Indexer's
    decoder delivers them (shrunk by ``shrink`` where the decoder shrinks), and nothing else;
    with ``max_seconds``, only the frames before that time. ``seconds``: the video decoded (the
    last frame's time plus one frame)."""
    began, cpu = time.perf_counter(), time.process_time()
    capture, info, _ = open_video(path, decoder, shrink)
    frames, last = 1, 0.0
    try:
        while (item := read_frame(capture, frames - 1, info.frame_count)) is not None:
            frames, last = frames + 1, item[1] / 1000
            if max_seconds and last + 1 / float(info.fps) >= max_seconds:
                break
    finally:
        capture.release()
    return {"wall": time.perf_counter() - began, "cpu": time.process_time() - cpu, "frames": frames,
            "seconds": last + 1 / float(info.fps)}


# -- decoder variants: speed, cuts against PySceneDetect, embeddings against a full decode --------
#
# OpenCV's FFmpeg backend passes FFmpeg only threads and hardware acceleration; PyAV (the Indexer's
# other decoder library, videosearch.indexer.media.pyav_capture) passes codec options too, and converts
# frames straight to a smaller size where asked to.

SAMPLE_EVERY_SECONDS = 1.0  # frames compared by embedding: one per second, as the Indexer samples


@dataclass(frozen=True)
class Variant:
    name: str
    settings: DecoderSettings


def variants() -> list[Variant]:
    opencv, pyav = DecoderSettings(library="opencv"), DecoderSettings(library="pyav", shrink=False)
    return [  # the reference first: OpenCV's full decode, PySceneDetect's decoder (the others' embeddings are compared with its)
        Variant("OpenCV, 2 threads (one per core)", opencv),
        Variant("OpenCV, 1 thread", replace(opencv, threads=1)),
        Variant("OpenCV, hardware decoding (any)", replace(opencv, hw_acceleration="any")),
        Variant("PyAV, thread type auto", pyav),
        Variant("PyAV, thread type frame", replace(pyav, thread_type="frame")),
        Variant("PyAV, thread type slice", replace(pyav, thread_type="slice")),
        Variant("PyAV, skip_loop_filter", replace(pyav, skip_loop_filter=True)),
        Variant("PyAV, shrink", replace(pyav, shrink=True)),
        Variant("PyAV, lowres + shrink", replace(pyav, lowres=True, shrink=True)),
        *nvdec_variants(),
    ]


NVDEC_VARIANT = "PyAV, NVDEC (cuda) + shrink"


def nvdec_variants() -> list[Variant]:
    """NVDEC, the Indexer's --decoder-hw-acceleration cuda, listed only where a CUDA device opens."""
    if nvdec.device_error() is not None:
        return []
    return [Variant(NVDEC_VARIANT, DecoderSettings(library="pyav", shrink=True, hw_acceleration="cuda"))]


def frames_of(path: Path, settings: DecoderSettings, shrink=None) -> Iterator[np.ndarray]:
    """Every frame of ``path`` as the decoder delivers it (shrunk where ``settings`` and ``shrink`` allow)."""
    capture, info, frame = open_video(path, settings, shrink)
    try:
        index = 0
        while frame is not None:
            yield frame
            item = read_frame(capture, index, info.frame_count)
            frame, index = (item[0] if item else None), index + 1
    finally:
        capture.release()


def decode_seconds(path: Path, settings: DecoderSettings, shrink) -> float:
    began = time.perf_counter()
    for _ in frames_of(path, settings, shrink):
        pass
    return time.perf_counter() - began


def decode_pass_seconds(path: Path, settings: DecoderSettings, preprocessing) -> tuple[float, float]:
    """(wall, CPU) seconds of the Indexer's whole decode pass (detection, sampling, candidates;
    no embedding) with this decoder. CPU counts: in the Indexer CLIP wants the same cores."""
    began, cpu = time.perf_counter(), time.process_time()
    for _ in SceneReader(path, preprocessing=preprocessing, decoder=settings):
        pass
    return time.perf_counter() - began, time.process_time() - cpu


def cuts_and_samples(path: Path, variant: Variant, info, preprocessor) -> tuple[list[int], dict[int, np.ndarray]]:
    """The Indexer's cut detector (ContentDetector, downscaled as PySceneDetect does) on this
    variant's frames, and the CLIP crops of one frame per second (of a shrunk frame as the
    decode pass makes them: resized with the geometry of the full frame)."""
    detector = CutDetector.from_settings(DetectorSettings(), info)
    every = max(1, round(float(info.fps) * SAMPLE_EVERY_SECONDS))
    cuts, samples, index = [], {}, 0
    for index, frame in enumerate(frames_of(path, variant.settings, decoder_shrink(preprocessor))):
        cuts += detector.process(index, frame)
        if index % every == 0:
            shrunk = frame.shape[:2] != (info.height, info.width)
            samples[index] = preprocessor.finish(ReducedFrame(frame, info.height, info.width)) if shrunk else preprocessor(frame)
    cuts += detector.finish(index)
    return sorted({c for c in cuts if 0 < c <= index}), samples


def pyscenedetect_cuts(path: Path) -> list[int]:
    from scenedetect import ContentDetector, detect

    return [start.frame_num for start, _ in detect(str(path), ContentDetector())[1:]]


def compare_variants(timed: list[tuple[str, Path]], shared: list[Path], embedder_address: str, repeats: int = 3) -> dict:
    """Per variant: decode seconds and decode-pass seconds on each timed video (median of
    ``repeats`` rounds, the variants alternating within a round, so load drifting between
    rounds weighs on all), cut agreement with PySceneDetect on the timed and the shared videos,
    and the lowest cosine of its frames' embeddings to OpenCV's default decode (the Indexer's
    frames) on all of them."""
    from videosearch.client.embedder import EmbedderClient
    from videosearch.embedder.preprocessing import FramePreprocessor

    with EmbedderClient(embedder_address, timeout=300) as embedder:
        preprocessing = embedder.model_info().preprocessing
        shrink = decoder_shrink(FramePreprocessor(preprocessing))
        result: dict = {"variants": [v.name for v in variants()], "seconds": {}, "pass_seconds": {}, "cuts": {},
                        "cosine": {}, "hardware": {}, "durations": {}, "nvdec_missing": nvdec.device_error()}
        if result["nvdec_missing"] is not None:
            print(f"  decoder variant {NVDEC_VARIANT}: skipped: no CUDA device ({result['nvdec_missing']})", flush=True)
        references = {p: pyscenedetect_cuts(p) for p in [path for _, path in timed] + shared}
        baseline: dict[Path, dict[int, np.ndarray]] = {}
        rounds = {v.name: {name: [] for name, _ in timed} for v in variants()}
        pass_rounds = {v.name: {name: [] for name, _ in timed} for v in variants()}
        cpu_rounds = {v.name: {name: [] for name, _ in timed} for v in variants()}
        for round_ in range(repeats):
            print(f"  decode timing round {round_ + 1}/{repeats}", flush=True)
            for variant in variants():
                for name, path in timed:
                    rounds[variant.name][name].append(decode_seconds(path, variant.settings, shrink))
                    wall, cpu = decode_pass_seconds(path, variant.settings, preprocessing)
                    pass_rounds[variant.name][name].append(wall)
                    cpu_rounds[variant.name][name].append(cpu)
        result["seconds"] = {v: {name: statistics.median(t) for name, t in per.items()} for v, per in rounds.items()}
        result["pass_seconds"] = {v: {name: statistics.median(t) for name, t in per.items()} for v, per in pass_rounds.items()}
        result["pass_cpu"] = {v: {name: statistics.median(t) for name, t in per.items()} for v, per in cpu_rounds.items()}
        result["rounds"], result["pass_rounds"], result["repeats"] = rounds, pass_rounds, repeats
        for variant in (variants_in_order := variants()):
            print(f"  decoder variant: {variant.name}", flush=True)
            if variant.settings.hw_acceleration != "none":
                capture, _, _ = open_video(timed[0][1], variant.settings)
                result["hardware"][variant.name] = hardware_decoding(capture)
                capture.release()
            agree, worst = [], 1.0
            for path in [p for _, p in timed] + shared:
                capture, info, _ = open_video(path)
                capture.release()
                result["durations"][path] = info.duration_seconds
                preprocessor = FramePreprocessor(preprocessing).for_pixel_aspect(info.pixel_aspect)
                cuts, samples = cuts_and_samples(path, variant, info, preprocessor)
                agree.append((path.name, cuts == references[path], len(cuts), len(references[path])))
                frames = sorted(samples)
                vectors = embedder.embed_images(np.stack([samples[f] for f in frames]))
                if variant is variants_in_order[0]:
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
        f"`{command}` on {machine}. **Shared machine** (another helper's work on the same 2 cores at times): "
        "compare within a column.",
        f"Decode s: every frame of the file as the decoder delivers it (BGR; shrunk where the variant shrinks), nothing "
        f"else. Decode pass s: the Indexer's whole decode pass with that decoder (detection, sampling, candidate frames; "
        f"no embedding), with its CPU seconds (what CLIP, sharing the cores in the Indexer, cannot use). All the median of {result['repeats']} rounds, the decoders alternating within each round. "
        "Cuts: ContentDetector (the Indexer's detector, downscaled as PySceneDetect does) on the variant's frames against "
        "`scenedetect.detect(path, ContentDetector())`, on the timed videos and on every shared video. Cosine: the lowest "
        "cosine between the embeddings of the same frames (one per second, every video) decoded by the variant and by "
        "OpenCV's full decode (the first row: PySceneDetect's decoder, the Indexer's default before this table), the model being the bench's CLIP with ViT-B/32's "
        "architecture (random weights).",
        "", "| decoder | " + " | ".join(f"{name}: decode s (realtime ×) | {name}: decode pass s (CPU s)" for name, _ in timed) +
        " | same cuts as PySceneDetect | lowest cosine to the default decode |",
        "|---|" + "---|" * (2 * len(timed) + 2),
    ]
    for variant in result["variants"]:
        seconds, passes, cpu = result["seconds"][variant], result["pass_seconds"][variant], result["pass_cpu"][variant]
        cells = [f"{seconds[name]:.2f} ({result['durations'][path] / seconds[name]:.1f}×) | {passes[name]:.2f} ({cpu[name]:.2f})"
                 for name, path in timed]
        agree = result["cuts"][variant]
        same = f"{sum(ok for _, ok, _, _ in agree)}/{len(agree)} videos" + "".join(
            f"; {name}: {got} vs {want} cuts" for name, ok, got, want in agree if not ok)
        cosine = "– (the reference)" if variant == result["variants"][0] else f"{result['cosine'][variant]:.4f}"
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {same} | {cosine} |")
    default = result["pass_seconds"][result["variants"][0]]
    faster = [v for v in result["variants"][1:]
              if all(result["pass_seconds"][v][name] < 0.9 * default[name] for name, _ in timed)
              and all(ok for _, ok, _, _ in result["cuts"][v]) and result["cosine"][v] >= MIN_COSINE]
    lines += ["", f"Decode pass faster than the default's by more than 10 % on every timed video, with PySceneDetect's cuts "
              f"on every video and cosine ≥ {MIN_COSINE}: " + (", ".join(faster) if faster else "none") + ". "
              "The generated videos are MPEG-4 Part 2, which has `lowres` but no in-loop deblocking filter: "
              "`skip_loop_filter` can only act on the H.264 videos (testvideo.mp4, counter.mp4, issue-134-rotate.mp4), "
              "which in turn have no `lowres`. `shrink` box-shrinks the 4:2:0 planes to the size the decode pass keeps "
              "candidate frames at (an integer fraction, at least 1.5× CLIP's input) and converts that small picture to "
              "BGR (videosearch.indexer.media.pyav_capture.shrunk_bgr): it replaces the full-size BGR conversion and the pass's "
              "own box shrink of candidates, and detection downscales from the smaller frame."]
    lines += ["", "Indexer settings (videosearch.indexer.media.decoding): `--decoder-library` (`pyav`, the default, or `opencv`), "
              "`--decoder-threads` (default 0: one per core), `--decoder-hw-acceleration` (`none`, `any`; PyAV also "
              "`cuda`: NVDEC, see \"GPU decoding (NVDEC)\"), and "
              "for PyAV `--decoder-thread-type`, `--decoder-skip-loop-filter`, `--decoder-lowres`, `--decoder-shrink` (on by "
              "default). "
              "Threads, hardware decoding and the library change no decoded pixel (tests/indexer_media/test_decoding.py)."]
    hardware = result["hardware"]
    lines += ["", "Hardware decoding: " + "; ".join(
        f"{name}: {'a hardware decoder was used' if used else 'software (no hardware decoder opened)'}"
        for name, used in hardware.items()) + "."]
    if result.get("nvdec_missing"):
        lines += ["", f"{NVDEC_VARIANT}: skipped: no CUDA device ({result['nvdec_missing']})."]
    return "\n".join(lines) + "\n"
