"""Spoken sentences among demo distractors, through the real services (issue 22, "done means"):
is each spoken sentence's video ranked first, and when not, is the miss one of recognition or
of ranking?

    python bench/text/spoken_probe.py --work /tmp/spoken     # builds, indexes, queries
    python bench/text/spoken_probe.py --work /tmp/spoken     # again: reuses the index, queries only
    python bench/text/spoken_probe.py --work /tmp/spoken --speech-model /tmp/candidate  # other weights:
        # the same videos, indexed again into a folder of their own beside the default's

The three services run as `make demo` runs them (the demo CLIP, speech read by
``ctc:models/demo-speech``, on-screen text by OCR); the library is the demo videos and the demo's
talking videos (distractors) and 8 videos made here with espeak-ng, each speaking one everyday
English sentence over a moving ball (tests/system/test_outside_probe.py's helpers). Queries: each
whole sentence and two queries of a few of its content words. Per query it prints whether the
sentence's video is first (fused ranking, videos mode), the first three videos' fused scores
and cosines, the said-only ranking, and the transcript the recognizer made of the sentence. For
the sentence's line it prints, from a lexical index of the library's stored spans built here
(lexical/index.py, tolerant matching on, as the Searcher matches): ``anywhere`` (the share of
the query's IDF weight the line holds at all, near matches of misheard words at their weight)
and ``held`` (the share held near other query words, at their proximity weights: what the fusion counts). A miss is
RANKING when the line holds most of the query (anywhere > 0.5) yet another video wins, else
RECOGNITION (the transcript lacks most of the query's words, even allowing near matches).

False positives of tolerant matching: per query, the distractors' lines (every other video's
spans, said and written) that hold a share the fusion counts only through near matches (held with
tolerance, less without), and whether any of them holds as much as the sentence's own line (then
tolerance could let it outrank the true video); the summary counts both.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

MOST = 0.5  # a line holding more than this share of the query (anywhere) should have been found

SENTENCES = {  # name: (sentence, espeak-ng voice, words a minute, the content-word queries)
    "museum": ("The museum will open a new dinosaur exhibition next month.", "en-us", 150,
               ("dinosaur exhibition", "museum next month")),
    "garden": ("My grandmother grows tomatoes in her garden every summer.", "en-gb", 175,
               ("grandmother grows tomatoes", "tomatoes in her garden")),
    "plants": ("Please remember to water the plants while I am away.", "en-us", 150,
               ("water the plants", "remember plants away")),
    "train": ("The train to the airport leaves every twenty minutes.", "en-gb", 160,
              ("train to the airport", "airport twenty minutes")),
    "fence": ("Our neighbour painted his fence bright yellow last weekend.", "en-us", 150,
              ("painted his fence", "fence bright yellow")),
    "snowman": ("The children built a snowman in the park this morning.", "en-gb", 170,
                ("children built a snowman", "snowman park")),
    "milk": ("Could you bring some milk and eggs from the shop tonight?", "en-us", 150,
             ("milk and eggs", "bring milk shop")),
    "doctor": ("I have an appointment with the doctor on Tuesday afternoon.", "en-gb", 165,
               ("appointment with the doctor", "doctor Tuesday afternoon")),
}


def build(work: Path) -> None:
    import numpy as np  # noqa: F401  (the helpers need it)
    from videosearch.demo.talking import generate_talking_videos
    from videosearch.demo.videos import generate_demo_corpus

    from tests.system.test_outside_probe import _encode, _speech

    library = work / "library"
    generate_demo_corpus(library / "demo", 3, (3, 4), seed=2024, size=(320, 180), frames_per_scene=(30, 50))
    generate_talking_videos(library / "demo")
    spoken, scratch = library / "spoken", work / "scratch"
    spoken.mkdir(parents=True)
    scratch.mkdir()
    for seed, (name, (sentence, voice, speed, _)) in enumerate(SENTENCES.items(), 30):
        _speech(scratch / f"{name}.wav", sentence, 4.0, 14, voice, speed)
        _encode(spoken / f"{name}.mp4", 14, seed, inputs=["-i", str(scratch / f"{name}.wav")],
                maps=["-map", "1:a", "-c:a", "aac"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="folder for the videos and the index (kept)")
    parser.add_argument("--speech-model", type=Path, default=ROOT / "models" / "demo-speech",
                        help="the demo recognizer's weights to hear the speech with (a candidate before adopting it)")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is missing (make text-deps installs it)")
    from videosearch.client.searcher import SearcherClient
    from videosearch.launcher import ClusterConfig, LocalCluster
    from videosearch.searcher.lexical.index import SCATTERED_WEIGHT, LexicalIndex
    from videosearch.searcher.lexical.tokens import parse_query
    from videosearch.searcher.types import SearchParams
    from videosearch_cli import main as cli

    if not (args.work / "library").exists():
        build(args.work)
    library = args.work / "library"
    model = args.speech_model.resolve()
    default = model == (ROOT / "models" / "demo-speech").resolve()
    data = args.work / ("data" if default else "data-" + "-".join(model.parts[-2:]))
    fresh = not data.exists()
    config = ClusterConfig(
        model=str(ROOT / "models" / "demo-clip"), data_dir=str(data), allowed_roots=(str(library),),
        embedder_port=0, searcher_port=0, indexer_port=0, log_dir=str(args.work / "logs"),
        extra_env={"HF_HUB_OFFLINE": "1", "VIDEOSEARCH_INDEXER_SPEECH": "true",
                   "VIDEOSEARCH_INDEXER_ON_SCREEN_TEXT": "true",
                   "VIDEOSEARCH_EMBEDDER_SPEECH_RECOGNIZER": f"ctc:{model}"},
    )
    first = total = 0
    with LocalCluster(config) as cluster:
        if fresh:
            addresses = ["--indexer-address", cluster.address("indexer"), "--searcher-address", cluster.address("searcher")]
            assert cli.main([*addresses, "index", str(library)]) == 0
        with SearcherClient(cluster.address("searcher")) as searcher:
            names = {v.video_id: Path(v.uri).name for v in searcher.list_videos(1000, "")[0]}
            lexical, exact = LexicalIndex(), LexicalIndex(tolerant=False)
            for video_id in names:
                lexical.put(video_id, searcher.get_text_spans(video_id), [0.0])
                exact.put(video_id, searcher.get_text_spans(video_id), [0.0])
            gained = rivals = 0
            for name, (sentence, _, _, queries) in SENTENCES.items():
                video_id = next(i for i, n in names.items() if n == f"{name}.mp4")
                heard = " | ".join(s.text for s in searcher.get_text_spans(video_id) if s.kind == "said")
                print(f"\n{name}: said {sentence!r}\n  heard {heard!r}")
                for query in (sentence, *queries):
                    fused = searcher.search(text=query, params=SearchParams(top_k=5, scenes_per_video=1)).videos
                    said = searcher.search(text=query, params=SearchParams(top_k=5, kinds=("said",))).videos
                    ranked = [names[v.video.video_id] for v in fused]
                    said_ranked = [names[v.video.video_id] for v in said]
                    ok = bool(ranked) and ranked[0] == f"{name}.mp4"
                    first += ok
                    total += 1
                    line = next((m for m in lexical.search(parse_query(query), ["said"], 1000) if m.video_id == video_id),
                                None)
                    # quality = SCATTERED_WEIGHT x anywhere + (1 - SCATTERED_WEIGHT) x in order (index.py)
                    anywhere = 0.0 if line is None else (line.quality - (1 - SCATTERED_WEIGHT) * line.held_share) / SCATTERED_WEIGHT
                    held = 0.0 if line is None else line.held_share
                    verdict = "first" if ok else ("RANKING miss" if anywhere > MOST else "RECOGNITION miss")
                    parsed = parse_query(query)
                    without = {(m.video_id, m.span_index): m.held_share for m in exact.search(parsed, ["said", "written"], 1000)}
                    near_only = [m for m in lexical.search(parsed, ["said", "written"], 1000)
                                 if m.video_id != video_id and m.held_share > without.get((m.video_id, m.span_index), 0.0)]
                    gained += len(near_only)
                    rivals += any(m.held_share >= held for m in near_only)
                    if near_only:
                        print(f"      tolerance gave {len(near_only)} distractor line(s) a share: " + ", ".join(
                            f"{names[m.video_id]} {m.held_share:.2f} {sorted(m.held)}" for m in near_only[:3]))
                    scores = [f"{names[v.video.video_id]}:{v.scenes[0].fused_score:.4f}/{v.scenes[0].score:.3f}"
                              for v in fused[:3]]
                    marked = said[0].scenes[0].text_matches[0].span.text if said and said[0].scenes[0].text_matches else ""
                    print(f"  {verdict:17s} {query!r}  line holds anywhere {anywhere:.2f}, held {held:.2f}\n"
                          f"      fused (score/cosine) {scores}\n"
                          f"      said-only {said_ranked[:3]} best line {marked!r}")
    print(f"\n{first}/{total} queries put the spoken sentence's video first")
    print(f"tolerant matching gave {gained} distractor line(s) a share the fusion counts, in {rivals} of "
          f"{total} queries one holding as much as the sentence's line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
