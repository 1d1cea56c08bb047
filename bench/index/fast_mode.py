"""The fast decode modes measured side by side: every frame (``all``, the default), reference
frames only, sparse (keyframes and the reference frames of each GOP's first third), keyframes
only. What they cost in cuts and moments, and what they buy in speed.

    python bench/index/fast_mode.py                 # all four parts, a few minutes on 2 cores
    python bench/index/fast_mode.py --skip-moments  # cuts and speed only
    python bench/index/fast_mode.py --write-docs    # also record the tables in docs/performance.md
    python bench/index/fast_mode.py --skip-intra    # without the intra-only (MJPEG) copies

1. Cuts against the goldens: PySceneDetect's ContentDetector cuts on the shared videos
   (/work/shared/videos/goldens; skipped when absent), scored one-to-one within 2 frames (a cut
   where the default puts it) and within 1 second (a search result that starts at the right shot).
2. Cuts on the detector bench's corpus (bench/detectors/run.py: demo-world long takes and
   hard-cut videos, H.264 with B-frames from x264), scored by its rules: hard cuts, dissolves
   and fades, with the default detector.
3. Moments on the moment bench's corpus (bench/quality/moments.py) through the three services
   with the demo CLIP: video R@1, best hit IoU >= 0.5 and mean IoU, per mode.
4. Speed on an H.264 file as cameras write it: 720p, High profile, 3 B-frames, keyframe every
   250 frames (x264), made from the shared testvideo.mp4 looped to about 2 minutes (cached in
   bench/out/fast_mode/). Decode only (the decode pass's reader: PyAV, frames shrunk as the pass
   keeps them) and the whole pipeline (one job through the three services, demo CLIP), as
   realtime factors; the ratios to ``all`` come from the same run. The machine is shared, so
   absolute figures are lower bounds; read the ratios.
5. Intra-only video (every frame a keyframe, as camera MJPEG and ProRes): parts 1-3 again on
   MJPEG copies of the same videos (same frames, same frame numbers), and decode only on an MJPEG
   copy of the first ``--intra-seconds`` of the speed file, each table printed after its H.264 one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402  (sets up sys.path for the project's packages)
from decoding import decode_only  # noqa: E402  (bench/index/decoding.py)
from detectors.run import Score  # noqa: E402
from videosearch.client.indexer import IndexerClient, SubmitOptions  # noqa: E402
from videosearch.demo.encoding import ffmpeg_exe  # noqa: E402
from videosearch.demo.longtakes import generate_moment_corpus  # noqa: E402
from videosearch.embedder.preprocessing import FramePreprocessor  # noqa: E402
from videosearch.embedder.types import Preprocessing  # noqa: E402
from videosearch.indexer.media.decode_modes import DECODE_MODES  # noqa: E402
from videosearch.indexer.media.decoding import DecoderSettings  # noqa: E402
from videosearch.indexer.media.facade import iter_scenes, open_video  # noqa: E402
from videosearch.indexer.media.scenes import decoder_shrink  # noqa: E402
from videosearch.indexer.types import JobState  # noqa: E402
from videosearch.launcher import ClusterConfig, LocalCluster  # noqa: E402

SECTION = "## Fast mode (reference frames, sparse GOP prefixes or keyframes only)"
SHARED = Path(os.environ.get("VIDEOSEARCH_SHARED_VIDEOS", "/work/shared/videos"))
OUT = benchlib.REPO / "bench" / "out" / "fast_mode"
CLIP_INPUT = Preprocessing(224, 224, 224, 1 / 255, (0.48145466, 0.4578275, 0.40821073),
                           (0.26862954, 0.26130258, 0.27577711), "bicubic")
INTRA_NOTE = "MJPEG copies (ffmpeg mjpeg -q:v 3, every frame a keyframe) of "
MODES = list(DECODE_MODES)  # the modes measured (--modes); "all" first, the others are compared with it
GOALS = "goal: >= 3x the default's pipeline throughput on H.264, moment R@1 within 0.05 of the default"
SPEED: dict[str, float] = {}  # pipeline CPU of all / of the mode, filled by speed_table
R1_VS_ALL: dict[str, float] = {}  # moment R@1 minus the default's, filled by moments_table


def goals_table() -> str:
    """Each fast mode against the goals (when this run measured both speed and moments)."""
    lines = [f"{'mode':<11}{'pipeline CPU vs all':>21}{'>= 3x':>8}{'R@1 vs all':>12}{'within 0.05':>13}", "-" * 65]
    for mode in MODES[1:]:
        speed, r1 = SPEED[mode], R1_VS_ALL[mode]
        lines.append(f"{mode:<11}{speed:>20.2f}x{'met' if speed >= 3 else 'missed':>8}{r1:>+12.3f}"
                     f"{'met' if r1 >= -0.05 else 'missed':>13}")
    return "\n".join(lines)


def intra_copy(path: Path) -> Path:
    """``path`` as intra-only MJPEG in AVI, as cameras write it: the same frames, each a
    keyframe (cached under bench/out/fast_mode/mjpeg/, one folder per source folder)."""
    copy = OUT / "mjpeg" / path.parent.name / f"{path.stem}.avi"
    if not copy.exists():
        copy.parent.mkdir(parents=True, exist_ok=True)
        partial = copy.with_suffix(".part.avi")
        subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(path), "-an", "-c:v", "mjpeg", "-q:v", "3",
                        "-pix_fmt", "yuvj420p", str(partial)], check=True)
        partial.rename(copy)
    return copy


def scenes_in_mode(path: Path, mode: str) -> tuple[list[int], int, int]:
    """(cuts as frame numbers, frames decoded, frames in the video) of the Indexer's decode pass."""
    reader = iter_scenes(path, preprocessing=CLIP_INPUT, decoder=DecoderSettings(decode_mode=mode))
    scenes = list(reader)
    return [s.start_frame for s in scenes[1:]], reader.frames_decoded, reader.video_info.frame_count


def prf(found: list[int], truth: list[int], tolerance: float) -> tuple[int, int, int]:
    """(true positives, false positives, misses), one-to-one, nearest first."""
    used: set[int] = set()
    tp = 0
    for cut in truth:
        near = [i for i, c in enumerate(found) if abs(c - cut) <= tolerance and i not in used]
        if near:
            used.add(min(near, key=lambda i: abs(found[i] - cut)))
            tp += 1
    return tp, len(found) - len(used), len(truth) - tp


def f1_cells(tp: int, fp: int, fn: int) -> str:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"{p:.2f} {r:.2f} {f:.2f}"


def golden_cuts_table(intra: bool = False) -> str:
    goldens = sorted(SHARED.glob("goldens/*.ContentDetector.default.json"))
    if not goldens:
        return f"(no goldens under {SHARED}/goldens: skipped)"
    lines = [f"{'mode':<11}{'decoded':>9}  {'P R F1 within 2 frames':>22}  {'P R F1 within 1 s':>18}", "-" * 66]
    for mode in MODES:
        exact, loose, decoded, total = [0, 0, 0], [0, 0, 0], 0, 0
        for golden in goldens:
            video = SHARED / golden.name.split(".ContentDetector")[0]
            truth = json.loads(golden.read_text())["cuts"]
            found, n_decoded, n_total = scenes_in_mode(intra_copy(video) if intra else video, mode)
            fps = _fps(video)  # one second, in frames
            exact = [a + b for a, b in zip(exact, prf(found, truth, 2))]
            loose = [a + b for a, b in zip(loose, prf(found, truth, fps))]
            decoded, total = decoded + n_decoded, total + n_total
        lines.append(f"{mode:<11}{decoded / total:>8.0%}  {f1_cells(*exact):>22}  {f1_cells(*loose):>18}")
    names = ", ".join(g.name.split(".ContentDetector")[0] for g in goldens)
    return f"{INTRA_NOTE if intra else ''}videos: {names}; decoded: share of the frames the codec decoded\n" + "\n".join(lines)


def _fps(path: Path) -> float:
    capture, info, _ = open_video(path)
    capture.release()
    return float(info.fps)


def detector_corpus_table(seed: int = 2024, intra: bool = False) -> str:
    out = benchlib.REPO / "bench" / "out" / "detectors" / f"corpus-{seed}"
    corpus = generate_moment_corpus(out, long_takes=8, hard_cut_videos=4, subjects_per_take=6, seed=seed,
                                    subject_seconds=3.0, transition_seconds=2.0, size=(480, 270))
    lines = [f"{'mode':<11}{'decoded':>9}{'hard P R F1':>18}{'overall P R F1':>18}{'fade':>7}{'dissolve':>10}", "-" * 73]
    for mode in MODES:
        score, decoded, total = Score(), 0, 0
        for entry in corpus["videos"]:
            path = out / entry["file"]
            cuts, n_decoded, n_total = scenes_in_mode(intra_copy(path) if intra else path, mode)
            score.add(cuts, entry)
            decoded, total = decoded + n_decoded, total + n_total
        cells = ["  ".join("   -" if v is None else f"{v:.2f}" for v in score.prf(task)) for task in ("hard", "overall")]
        lines.append(f"{mode:<11}{decoded / total:>8.0%}{cells[0]:>18}{cells[1]:>18}"
                     f"{score.n['fade_found']:>4}/{score.n['fade_truth']:<2}{score.n['dissolve_found']:>7}/{score.n['dissolve_truth']:<2}")
    note = INTRA_NOTE if intra else ""
    return (f"{note}{len(corpus['videos'])} videos of bench/detectors/run.py's corpus (seed {seed}, 480x270, x264 veryfast: "
            f"3 B-frames, keyframe interval 250 with scene-cut keyframes); scoring as that bench\n" + "\n".join(lines))


def h264_file(seconds: int) -> Path:
    """testvideo.mp4 looped to ``seconds``, as x264 High profile 720p, 3 B-frames, GOP 250 (cached)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"h264-high-bf3-720p-{seconds}s.mp4"
    if not path.exists():
        source = SHARED / "testvideo.mp4"
        if not source.exists():
            raise SystemExit(f"{source} is needed for the speed part (or pass --skip-speed)")
        partial = path.with_suffix(".part.mp4")
        subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-stream_loop", "-1", "-i", str(source), "-t", str(seconds),
                        "-an", "-vf", "scale=1280:720", "-c:v", "libx264", "-profile:v", "high", "-preset", "faster",
                        "-b:v", "6M", "-bf", "3", "-g", "250", "-pix_fmt", "yuv420p", str(partial)], check=True)
        partial.rename(path)
    return path


def pipeline(cluster, path: Path, mode: str) -> tuple[float, dict, float]:
    """(job wall s, stage seconds, CPU s of the three services) of one forced job in ``mode``."""
    cpu = benchlib.cluster_cpu_seconds(cluster)
    with IndexerClient(cluster.address("indexer"), timeout=600) as indexer:
        job = indexer.submit(str(path), SubmitOptions(decode_mode=mode, force=True))
        job = indexer.wait(job.job_id)
    if job.state is not JobState.SUCCEEDED:
        raise RuntimeError(f"indexing {path.name} in {mode} mode failed: {job.error}")
    return job.stage_seconds.get("total_wall", 0.0), dict(job.stage_seconds), benchlib.cluster_cpu_seconds(cluster) - cpu


def cluster_config(model: str, data: str, roots: list[Path]) -> ClusterConfig:
    return ClusterConfig(model=model, data_dir=data, allowed_roots=tuple(str(r) for r in roots), embedder_port=0,
                         searcher_port=0, indexer_port=0,
                         extra_env={"HF_HUB_OFFLINE": "1", "VIDEOSEARCH_EMBEDDER_DTYPE": "float32"})


def speed_table(model: str, seconds: int, repeats: int) -> str:
    path = h264_file(seconds)
    duration = _duration(path)
    shrink = decoder_shrink(FramePreprocessor(CLIP_INPUT))  # frames shrunk as the decode pass keeps them
    tries = [{mode: decode_only(path, DecoderSettings(decode_mode=mode), shrink) for mode in MODES}
             for _ in range(repeats)]  # alternating, so a burst of load on the machine hits every mode alike
    decode = {mode: min((t[mode] for t in tries), key=lambda r: r["wall"]) for mode in MODES}
    with tempfile.TemporaryDirectory() as data, LocalCluster(cluster_config(model, data, [OUT])) as cluster:
        pipeline(cluster, path, "keyframes")  # warm: the model loaded, the first job's start-up paid
        tries = [{mode: pipeline(cluster, path, mode) for mode in MODES} for _ in range(repeats)]
        runs = {mode: min((t[mode] for t in tries), key=lambda r: r[0]) for mode in MODES}
    lines = [f"{'mode':<11}{'frames':>8}{'decode s':>10}{'CPU s':>8}{'x realtime':>12}{'vs all':>8}{'CPU vs all':>11}"
             f"{'pipeline s':>12}{'x realtime':>12}{'vs all':>8}{'CPU s':>8}{'CPU vs all':>11}{'decode/pipeline':>17}", "-" * 144]
    for mode in MODES:
        wall, cpu, frames = decode[mode]["wall"], decode[mode]["cpu"], decode[mode]["frames"]
        job_wall, job_cpu = runs[mode][0], runs[mode][2]
        lines.append(f"{mode:<11}{frames:>8}{wall:>10.2f}{cpu:>8.2f}{duration / wall:>12.1f}{decode['all']['wall'] / wall:>7.2f}x"
                     f"{decode['all']['cpu'] / cpu:>10.2f}x"
                     f"{job_wall:>12.2f}{duration / job_wall:>12.1f}{runs['all'][0] / job_wall:>7.2f}x{job_cpu:>8.2f}"
                     f"{runs['all'][2] / job_cpu:>10.2f}x{wall / job_wall:>17.2f}")
    stages = "\n".join(f"  {mode}: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(runs[mode][1].items()))
                       for mode in MODES)
    SPEED.update({mode: runs["all"][2] / runs[mode][2] for mode in MODES})  # pipeline CPU vs all, for the goals
    return (f"{path.name}: {duration:.1f} s of 1280x720 H.264 High, 3 B-frames, GOP 250 (x264 faster, 6 Mbit/s); "
            f"best of {repeats} (by wall; modes alternate); pipeline = one job through the three services, demo CLIP, "
            f"float32; CPU s: user + system of the decoding process, of the three services for the pipeline\n"
            + "\n".join(lines) + "\nstage seconds of the pipeline runs (busy time; stages overlap):\n" + stages)


def intra_speed_table(seconds: int, repeats: int) -> str:
    """Decode only, per mode, on an MJPEG copy of the speed file's first ``seconds``."""
    path = intra_copy(h264_file(seconds))
    shrink = decoder_shrink(FramePreprocessor(CLIP_INPUT))
    tries = [{mode: decode_only(path, DecoderSettings(decode_mode=mode), shrink) for mode in MODES}
             for _ in range(repeats)]  # alternating, as the H.264 speed part
    decode = {mode: min((t[mode] for t in tries), key=lambda r: r["wall"]) for mode in MODES}
    duration = _duration(path)
    lines = [f"{'mode':<11}{'frames':>8}{'decode s':>10}{'CPU s':>8}{'x realtime':>12}{'vs all':>8}{'CPU vs all':>11}",
             "-" * 68]
    for mode in MODES:
        wall, cpu, frames = decode[mode]["wall"], decode[mode]["cpu"], decode[mode]["frames"]
        lines.append(f"{mode:<11}{frames:>8}{wall:>10.2f}{cpu:>8.2f}{duration / wall:>12.1f}"
                     f"{decode['all']['wall'] / wall:>7.2f}x{decode['all']['cpu'] / cpu:>10.2f}x")
    return (f"{path.name}: {duration:.1f} s of 1280x720 MJPEG (an MJPEG copy of the speed file's first {seconds} s, "
            f"every frame a keyframe); decode only, best of {repeats} (by wall; modes alternate); CPU s: user + "
            f"system of the decoding process\n" + "\n".join(lines))


def _duration(path: Path) -> float:
    capture, info, _ = open_video(path)
    capture.release()
    return info.duration_seconds


def moments_table(model: str, intra: bool = False) -> str:
    sys.path.insert(0, str(benchlib.REPO / "bench" / "quality"))
    from moments import build_corpus  # the moment bench's corpus and its scoring

    from videosearch.demo.moment_quality import index_and_evaluate

    corpus_dir = benchlib.REPO / "bench" / "out" / "moments" / "corpus-2026"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    corpus = build_corpus(corpus_dir, long_takes=4, dissolve_takes=2, hard_cut_videos=4, seed=2026)
    if intra:  # the same corpus, its files MJPEG copies (the scoring finds them by file name)
        copies = [intra_copy(corpus_dir / v["file"]) for v in corpus["videos"]]
        corpus = {**corpus, "videos": [{**v, "file": c.name} for v, c in zip(corpus["videos"], copies)]}
        corpus_dir = copies[0].parent
    lines = [f"{'mode':<11}{'queries':>8}{'video R@1':>11}{'IoU>=0.5':>10}{'mean IoU':>10}{'R@1 vs all':>12}"
             f"{'scenes':>8}{'moments':>9}{'frames':>8}", "-" * 87]
    reports = {}
    with tempfile.TemporaryDirectory() as data, LocalCluster(cluster_config(model, data, [corpus_dir])) as cluster:
        addresses = {"indexer": cluster.address("indexer"), "searcher": cluster.address("searcher")}
        for mode in MODES:  # forced: each mode replaces the previous mode's entries
            reports[mode] = index_and_evaluate(addresses, corpus_dir, corpus, SubmitOptions(decode_mode=mode, force=True))
    if not intra:  # the goals are H.264's
        R1_VS_ALL.update({mode: r.by_kind["all"].video_r1 - reports["all"].by_kind["all"].video_r1
                          for mode, r in reports.items()})
    for mode, report in reports.items():
        r = report.by_kind["all"]
        lines.append(f"{mode:<11}{r.queries:>8}{r.video_r1:>11.3f}{r.iou_found:>10.3f}{r.mean_iou:>10.3f}"
                     f"{r.video_r1 - reports['all'].by_kind['all'].video_r1:>+12.3f}{report.scenes:>8}{report.moments:>9}"
                     f"{report.frames_embedded:>8}")
    note = INTRA_NOTE if intra else ""
    return (f"{note}bench/quality/moments.py's corpus (seed 2026: 4 long takes, 2 of dissolves only, 4 hard-cut videos; "
            "x264 veryfast), demo CLIP, every query a subject's caption\n" + "\n".join(lines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(benchlib.REPO / "models" / "demo-clip"))
    parser.add_argument("--seconds", type=int, default=120, help="length of the H.264 speed file")
    parser.add_argument("--repeats", type=int, default=2, help="speed runs per mode (the best is kept)")
    parser.add_argument("--skip-cuts", action="store_true")
    parser.add_argument("--skip-moments", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-intra", action="store_true", help="leave out the intra-only (MJPEG) copies")
    parser.add_argument("--intra-seconds", type=int, default=30, help="length of the intra-only speed file")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--modes", default=",".join(DECODE_MODES),
                        help="comma-separated decode modes to measure (all is always measured, first)")
    args = parser.parse_args(argv)
    MODES[:] = ["all", *(m for m in args.modes.split(",") if m in DECODE_MODES and m != "all")]
    parts = []
    started = time.perf_counter()
    if not args.skip_cuts:
        parts.append(("Cuts against PySceneDetect's goldens (ContentDetector, shared videos)", golden_cuts_table()))
        print(parts[-1][1] + "\n", flush=True)
        if not args.skip_intra:
            parts.append(("The same, intra-only (MJPEG copies)", golden_cuts_table(intra=True)))
            print(parts[-1][1] + "\n", flush=True)
        parts.append(("Cuts on the detector bench's corpus (default detector)", detector_corpus_table()))
        print(parts[-1][1] + "\n", flush=True)
        if not args.skip_intra:
            parts.append(("The same, intra-only (MJPEG copies)", detector_corpus_table(intra=True)))
            print(parts[-1][1] + "\n", flush=True)
    if not args.skip_moments:
        parts.append(("Moments (moment bench corpus)", moments_table(args.model)))
        print(parts[-1][1] + "\n", flush=True)
        if not args.skip_intra:
            parts.append(("The same, intra-only (MJPEG copies)", moments_table(args.model, intra=True)))
            print(parts[-1][1] + "\n", flush=True)
    if not args.skip_speed:
        parts.append(("Speed on H.264 with B-frames", speed_table(args.model, args.seconds, args.repeats)))
        print(parts[-1][1] + "\n", flush=True)
        if not args.skip_intra:
            parts.append(("Decode speed, intra-only (MJPEG)", intra_speed_table(args.intra_seconds, args.repeats)))
            print(parts[-1][1] + "\n", flush=True)
    if SPEED and R1_VS_ALL:
        parts.append(("Goals (" + GOALS.removeprefix("goal: ") + ")", goals_table()))
        print(parts[-1][1] + "\n", flush=True)
    print(f"{GOALS}\ntotal {time.perf_counter() - started:.0f} s on {benchlib.machine()}")
    if args.write_docs:
        command = " ".join(["python bench/index/fast_mode.py", *(argv if argv is not None else sys.argv[1:])])
        body = "\n\n".join(f"{title}:\n\n```\n{text}\n```" for title, text in parts)
        benchlib.write_section(SECTION, f"`{command.replace(' --write-docs', '')}` on {benchlib.machine()} "
                                        f"(shared machine: absolute times are lower bounds; ratios come from the "
                                        f"same run).\n\n{body}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
