"""Embedding reuse (videosearch.indexer.media.reuse): forward passes saved, and how close a reused
embedding is to the one CLIP computes for that frame, on real and generated video.

    python bench/index/reuse.py --write-docs

Per video, the Indexer's decode pass (SceneReader, the model's preprocessing) yields each scene's
sampled crops; every crop is embedded (in-process, float32), and for each threshold the samples
that would reuse an embedding are those ``embedding_sources`` points elsewhere. Reported: samples,
forward passes saved, and the lowest cosine between a reused embedding and the frame's own. Two
models: demo-clip (trained on the demo world: its embeddings react to what the pictures show) and
the benches' CLIP with ViT-B/32's architecture (random weights: the speed model, whose embeddings
hardly move between frames, so its cosines flatter reuse and only demo-clip's decide).
Groups: the shared real videos (each by name), the demo world's corpora (bench/quality and
bench/quality/moments generate them, cached) and the synthetic 720p videos of bench/index/run.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import numpy as np  # noqa: E402
from bench.index.budget import video_bench_args  # noqa: E402
from bench.index.run import OUT, SHARED, synthetic_video  # noqa: E402
from videosearch.indexer.media.reuse import DEFAULT_MAX_DIFFERENCE, embedding_sources  # noqa: E402
from videosearch.indexer.media.scenes import SceneReader  # noqa: E402

SECTION = "## Fewer forward passes (embedding reuse)"
THRESHOLDS = (6.0, DEFAULT_MAX_DIFFERENCE, 24.0)
MIN_COSINE = 0.99  # a reused embedding against the frame's own, for the default to stand
BATCH = 32


def measure(path: Path, embedder) -> dict:
    """Per threshold: (samples, reused, lowest cosine of a reused embedding to its frame's own)."""
    scenes = list(SceneReader(path, preprocessing=embedder.preprocessing))
    out = {t: [0, 0, 1.0] for t in THRESHOLDS}
    for scene in scenes:
        vectors = np.concatenate([embedder.embed_images(scene.pixels[at : at + BATCH])
                                  for at in range(0, len(scene.pixels), BATCH)])
        for threshold in THRESHOLDS:
            sources = embedding_sources(scene.pixels, threshold)
            row = out[threshold]
            row[0] += len(sources)
            for i, source in enumerate(sources):
                if source != i:
                    row[1] += 1
                    row[2] = min(row[2], float(vectors[i] @ vectors[source]))
    return out


def groups(lengths: list[float]) -> list[tuple[str, list[Path]]]:
    found = [(f"{p.name} (real)", [p]) for p in sorted(SHARED.glob("*.mp4"))]
    for label, pattern in (("demo world: retrieval corpus (24 hard-cut videos)", "quality/corpus-*/demo_*.mp4"),
                           ("demo world: long takes and dissolves", "moments/corpus-*/[td]*.mp4"),
                           ("demo world: hard-cut videos of the moment corpus", "moments/corpus-*/cuts_*.mp4")):
        paths = sorted((OUT.parent).glob(pattern))
        if paths:
            found.append((label, paths))
    found += [(f"synthetic {m:g} min 720p", [synthetic_video(m, OUT / f"synthetic_{m:g}min.mp4")]) for m in lengths]
    return found


def render(results: dict, command: str) -> str:
    lines = [SECTION, "", f"`{command}` on {benchlib.machine()}. Not a timing: counts and cosines only.",
             "A sampled frame reuses its scene's last embedded frame's embedding when no cell of a 16 × 16 grid over "
             "its CLIP crop is that many 8-bit levels away (videosearch.indexer.media.reuse; "
             f"`--embedding-reuse-difference`, default {DEFAULT_MAX_DIFFERENCE:g}, 0 turns it off). Every sampled frame "
             "is also embedded, so each reused embedding is compared with the frame's own: lowest cosine shown "
             "(1 where nothing was reused). demo-clip is the model whose embeddings react to the pictures; the random "
             "ViT-B/32 stand-in hardly tells frames apart and is shown for the passes it saves.", "",
             "| video | model | sampled frames | " + " | ".join(
                 f"difference < {t:g}: passes saved | lowest cosine" for t in THRESHOLDS) + " |",
             "|---|---|---|" + "---|---|" * len(THRESHOLDS)]
    worst = {t: 1.0 for t in THRESHOLDS}
    for label, per_model in results.items():
        for model, out in per_model.items():
            samples = out[THRESHOLDS[0]][0]
            cells = []
            for t in THRESHOLDS:
                _, reused, cosine = out[t]
                if model == "demo-clip":
                    worst[t] = min(worst[t], cosine)
                cells.append(f"{reused} ({100 * reused / max(samples, 1):.0f} %) | {cosine:.4f}")
            lines.append(f"| {label} | {model} | {samples} | " + " | ".join(cells) + " |")
    verdict = "holds" if worst[DEFAULT_MAX_DIFFERENCE] >= MIN_COSINE else "FAILS"
    lines += ["", f"Lowest cosine of a reused embedding with demo-clip, over every video: " + ", ".join(
        f"{worst[t]:.4f} at < {t:g}" for t in THRESHOLDS) + f". The default ({DEFAULT_MAX_DIFFERENCE:g}) {verdict} "
        f"the bar of cosine ≥ {MIN_COSINE}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = video_bench_args(argv, __doc__, "1,5")
    from videosearch.embedder.model import ClipEmbedder

    models = {"demo-clip": ClipEmbedder(str(benchlib.REPO / "models" / "demo-clip"), dtype="float32"),
              "ViT-B/32 (random)": ClipEmbedder(str(benchlib.build_vit_b32(OUT.parent / "models" / "vit-b32-random")),
                                                dtype="float32")}
    results: dict[str, dict[str, dict]] = {}
    for label, paths in groups(args.lengths):
        print(f"{label} ...", flush=True)
        results[label] = {}
        for model, embedder in models.items():
            total = {t: [0, 0, 1.0] for t in THRESHOLDS}
            for path in paths:
                for t, (samples, reused, cosine) in measure(path, embedder).items():
                    total[t] = [total[t][0] + samples, total[t][1] + reused, min(total[t][2], cosine)]
            results[label][model] = total
    benchlib.publish(SECTION, "bench/index/reuse.py", lambda command: render(results, command), argv, write=args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
