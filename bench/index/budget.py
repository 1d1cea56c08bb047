"""Where indexing's CPU time goes: seconds per stage of the Indexer's decode pass, each stage
alone, and the bound they put on the realtime factor of 2 cores.

    python bench/index/budget.py                  # testvideo.mp4 and the cached 5 min synthetic 720p video

Per video: the decode pass (SceneReader, exactly as the Indexer runs it: its default decoder)
with a single decoder thread, so each stage's busy seconds are its CPU seconds (decode in its own thread, detection
and sampling in the reader's; 2 cores, nothing else of this process running); then every
sampled frame embedded by the CLIP with ViT-B/32's architecture in-process (float32, 2 torch
threads, batches of 16), timed in CPU seconds of the process. Storing is a single upsert
(under 0.1 s in bench/index/run.py) and left out. With embedding reuse
(videosearch.indexer.media.reuse) only the frames whose crops changed are embedded; the table shows
both counts. Bound: 2 cores can do at most 2 CPU seconds of work per second, so the realtime
factor is at most video seconds / (CPU seconds / 2), with perfect overlap and no other work.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import numpy as np  # noqa: E402
from bench.index.run import OUT, SHARED, TARGET_DECODE_FRACTION, TARGET_REALTIME, synthetic_video  # noqa: E402
from videosearch.indexer.media.decoding import DecoderSettings  # noqa: E402
from videosearch.indexer.media.reuse import DEFAULT_MAX_DIFFERENCE, embedding_sources  # noqa: E402
from videosearch.indexer.media.scenes import SceneReader  # noqa: E402

SECTION = "## Indexing time budget"
BATCH = 16


def budget(path: Path, embedder) -> dict:
    reader = SceneReader(path, preprocessing=embedder.preprocessing, decoder=replace(DecoderSettings(), threads=1))
    began = time.perf_counter()
    scenes = list(reader)
    decode_pass_wall = time.perf_counter() - began
    pixels = np.concatenate([s.pixels for s in scenes])
    kept = sum(len(set(embedding_sources(s.pixels, DEFAULT_MAX_DIFFERENCE))) for s in scenes)
    cpu, wall = time.process_time(), time.perf_counter()
    for at in range(0, len(pixels), BATCH):
        embedder.embed_images(pixels[at : at + BATCH])
    embed_cpu, embed_wall = time.process_time() - cpu, time.perf_counter() - wall
    seconds = reader.frame_times.duration_seconds
    stages = {name: reader.clock.seconds.get(name, 0.0) for name in ("decode", "detect", "preprocess")}
    per_frame = embed_cpu / len(pixels)
    return {"seconds": seconds, "frames": reader.video_info.frame_count, "stages": stages, "samples": len(pixels),
            "kept": kept, "embed_cpu": embed_cpu, "embed_wall": embed_wall, "embed_cpu_kept": per_frame * kept,
            "decode_pass_wall": decode_pass_wall}


def render(results: dict, command: str) -> str:
    lines = [SECTION, "",
             f"`{command}` on {benchlib.machine()}. "
             "Decode pass (SceneReader as the Indexer runs it, with its default decoder: PyAV, frames shrunk before the colour conversion) with one decoder thread, so busy seconds ≈ CPU "
             "seconds; every sampled frame then embedded in-process (CLIP with ViT-B/32's architecture, float32, batches "
             f"of {BATCH}, CPU seconds of both torch threads). Storing (one upsert, < 0.1 s) is left out. Bound = video "
             "seconds / (CPU seconds / 2 cores): the fastest the 2 cores could index with perfect overlap.", "",
             "| video | video s | frames | decode CPU s | detect s | sample+preprocess s | sampled frames | "
             "embed CPU s (all sampled) | ms per forward pass | total CPU s | bound: realtime × | frames embedded with "
             f"reuse (< {DEFAULT_MAX_DIFFERENCE:g} levels) | total CPU s with reuse | bound with reuse |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        s = r["stages"]
        pass_cpu = s["decode"] + s["detect"] + s["preprocess"]
        total, total_kept = pass_cpu + r["embed_cpu"], pass_cpu + r["embed_cpu_kept"]
        lines.append(
            f"| {name} | {r['seconds']:.0f} | {r['frames']} | {s['decode']:.1f} | {s['detect']:.1f} | {s['preprocess']:.1f} | "
            f"{r['samples']} | {r['embed_cpu']:.1f} | {1000 * r['embed_cpu'] / r['samples']:.0f} | {total:.1f} | "
            f"{r['seconds'] / (total / 2):.1f}× | {r['kept']} | {total_kept:.1f} | {r['seconds'] / (total_kept / 2):.1f}× |")
    lines += ["", "What this says about issue 12's goals on these 2 cores:", ""]
    for name, r in results.items():
        s = r["stages"]
        total_kept = s["decode"] + s["detect"] + s["preprocess"] + r["embed_cpu_kept"]
        lines.append(
            f"- {name}: {TARGET_REALTIME:g}× realtime allows {2 * r['seconds'] / TARGET_REALTIME:.1f} CPU s; decoding alone "
            f"takes {s['decode']:.1f} (at most {r['seconds'] / (s['decode'] / 2):.1f}× even with nothing else to do) and "
            f"the whole pass with reuse {total_kept:.1f}, so at most {r['seconds'] / (total_kept / 2):.1f}×. Were decoding "
            f"alone to keep both cores busy, the pipeline could run at most at decode CPU / total CPU = "
            f"{s['decode'] / total_kept:.2f} of its speed (goal {TARGET_DECODE_FRACTION}), CLIP's "
            f"{r['embed_cpu_kept']:.1f} CPU s sharing the same 2 cores; it gets above that only as far as decoding alone "
            "leaves a core idle (FFmpeg's threads do not scale perfectly).")
    lines += ["", "With the Embedder on another machine (a GPU; the Indexer's 2 cores then decode, detect and sample "
              "only), from the same CPU seconds (arithmetic, not measured end to end here):", ""]
    for name, r in results.items():
        s = r["stages"]
        pass_cpu = s["decode"] + s["detect"] + s["preprocess"]
        lines.append(f"- {name}: at most {r['seconds'] / (pass_cpu / 2):.1f}× realtime, and at most "
                     f"{s['decode'] / pass_cpu:.2f} of decode-only speed.")
    return "\n".join(lines) + "\n"


def video_bench_args(argv, doc: str, lengths: str) -> argparse.Namespace:
    """``--lengths`` (synthetic 720p videos, minutes) and ``--write-docs``: the options of the
    per-video benches here (this one and bench/index/reuse.py)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default=lengths, help="synthetic 720p lengths in minutes (cached videos)")
    parser.add_argument("--write-docs", action="store_true", help="record the table in docs/performance.md")
    args = parser.parse_args(argv)
    args.lengths = [float(x) for x in args.lengths.split(",") if x]
    return args


def main(argv=None) -> int:
    args = video_bench_args(argv, __doc__, "5")
    from videosearch.embedder.model import ClipEmbedder

    embedder = ClipEmbedder(str(benchlib.build_vit_b32(OUT.parent / "models" / "vit-b32-random")), dtype="float32")
    videos = [("testvideo.mp4 (24 s, 720p)", SHARED / "testvideo.mp4")]
    videos += [(f"synthetic {m:g} min 720p", synthetic_video(m, OUT / f"synthetic_{m:g}min.mp4"))
               for m in args.lengths]
    results = {}
    for name, path in videos:
        print(f"{name} ...", flush=True)
        results[name] = budget(path, embedder)
    benchlib.publish(SECTION, "bench/index/budget.py", lambda command: render(results, command), argv, write=args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
