"""The lexical index at scale: memory, build time and query latency over synthetic transcripts
(issue 22 part 7).

    python bench/text/lexical_scale.py                       # 100,000 videos x 10 cues
    python bench/text/lexical_scale.py --videos 100000 --cues 10 --write-docs

Each video gets ``--cues`` spoken cues of 6-16 words drawn from a Zipf-distributed vocabulary
of 30,000 made-up English words (one video in ten speaks Mandarin instead: words of jieba's
dictionary), and one on-screen sign. The index is built in this process through its public
``put`` (as the Searcher does at start-up from the store), then queried with one-word,
two-word, quoted-phrase and Chinese queries drawn from the indexed text. Memory is the
process's resident set growth over the build (psutil) and the index's own count of its arrays.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402
import numpy as np  # noqa: E402

SECTION = "## Said and written: the lexical index at 100k videos"


def vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"]
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables, int(rng.integers(2, 4)))))
    return sorted(words)


def chinese_words(count: int) -> list[str]:
    from videosearch.searcher.lexical.tokens import _segmenter

    freq = _segmenter().dt.FREQ
    two = sorted((w for w, f in freq.items() if len(w) == 2 and f > 0 and "\u4e00" <= w[0] <= "\u9fff"),
                 key=lambda w: -freq[w])
    return two[:count]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--cues", type=int, default=10, help="spoken cues per video")
    parser.add_argument("--queries", type=int, default=300, help="queries per query kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)

    import psutil

    from videosearch.searcher.lexical.index import LexicalIndex
    from videosearch.searcher.lexical.tokens import parse_query
    from videosearch.searcher.types import TextSpan

    rng = np.random.default_rng(args.seed)
    english = vocabulary(rng, 30_000)
    chinese = chinese_words(5_000)
    # Zipf-distributed word draws: the cumulative weights, searched with uniform draws.
    zipf = np.cumsum(1.0 / np.arange(1, len(english) + 1) ** 1.07)
    zipf /= zipf[-1]
    zh_zipf = np.cumsum(1.0 / np.arange(1, len(chinese) + 1) ** 1.07)
    zh_zipf /= zh_zipf[-1]
    step = max(args.videos // args.queries, 10)
    process = psutil.Process()
    index = LexicalIndex()
    gc.collect()
    rss_before = process.memory_info().rss
    samples = {"one word": [], "two words": [], "quoted phrase": [], "Chinese": []}
    build_s = build_cpu_s = 0.0
    spans_total = words_total = 0
    for v in range(args.videos):
        zh = v % 10 == 9
        spans = []
        for c in range(args.cues):
            n = int(rng.integers(6, 17))
            if zh:
                words = [chinese[i] for i in np.searchsorted(zh_zipf, rng.random(n))]
                text = "".join(words)
            else:
                words = [english[i] for i in np.searchsorted(zipf, rng.random(n))]
                text = " ".join(words)
            spans.append(TextSpan("said", c * 6.0, c * 6.0 + 5.0, text, "zh" if zh else "en", "speech"))
            words_total += n
            if (v // 10) % max(step // 10, 1) == 0 and v % 10 in (0, 9) and c == 0:  # an English and a Chinese one
                at = int(rng.integers(0, n - 1))
                if zh:
                    samples["Chinese"].append(words[at] + words[at + 1])
                else:
                    samples["one word"].append(words[at])
                    samples["two words"].append(f"{words[at]} {words[at + 1]}")
                    samples["quoted phrase"].append(f'"{words[at]} {words[at + 1]}"')
        spans.append(TextSpan("written", 1.0, 4.0, f"EXIT {english[int(rng.integers(len(english)))].upper()}", "en", "ocr"))
        started, started_cpu = time.perf_counter(), time.process_time()
        index.put(f"video{v:07d}", spans, [0.0, 20.0, 40.0])
        build_s += time.perf_counter() - started
        build_cpu_s += time.process_time() - started_cpu
        spans_total += len(spans)
    gc.collect()
    rss_growth = process.memory_info().rss - rss_before
    latency = {}
    for kind, texts in samples.items():
        times, cpu = [], []
        for text in texts:
            query = parse_query(text)
            t0, c0 = time.perf_counter(), time.process_time()
            index.search(query, ["said", "written"], 200)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        latency[kind] = (1e3 * np.median(times), 1e3 * np.percentile(times, 99), len(times), 1e3 * np.median(cpu))

    def render(command: str) -> str:
        lines = [SECTION, "",
                 f"`{command}` (bench/text/lexical_scale.py): {args.videos:,} videos, {spans_total:,} spans "
                 f"({args.cues} spoken cues of 6-16 words and one sign per video; one video in ten in Mandarin), "
                 f"{words_total:,} words, {index.term_count:,} distinct terms.", "",
                 f"- memory: the index's arrays and term table {index.memory_bytes() / 2**20:,.0f} MiB; the process's "
                 f"resident set grew {rss_growth / 2**20:,.0f} MiB over the build "
                 f"({rss_growth / spans_total:,.0f} B a span, {rss_growth / args.videos / 1024:,.1f} KiB a video)",
                 f"- build (tokenize and index, what a Searcher does at start-up from the store): {build_s:,.1f} s "
                 f"wall, {build_cpu_s:,.1f} s CPU ({spans_total / build_cpu_s:,.0f} spans per CPU second, one thread)",
                 "", "| query | queries | median ms (wall) | p99 ms (wall) | median ms (CPU) |", "|---|---|---|---|---|"]
        lines += [f"| {kind} | {n} | {median:.2f} | {p99:.2f} | {cpu:.2f} |"
                  for kind, (median, p99, n, cpu) in latency.items()]
        lines += ["", "Search is the lexical index alone (the best 200 spans of both kinds, as a fused search asks "
                  "for), in process. Machine: " + benchlib.machine() + "; shared with other sessions' work at the "
                  "time, so the times are upper bounds."]
        return "\n".join(lines) + "\n"

    benchlib.publish(SECTION, "bench/text/lexical_scale.py", render, argv, write=args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
