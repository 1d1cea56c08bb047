"""The README is the map: every design note is linked from it, and the benchmarks name
what they compare against in words a reader cannot mistake (issue 11, part 9)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_design_note_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    notes = sorted(path.name for path in (ROOT / "docs").glob("*-notes.md"))
    assert notes, "docs/*-notes.md is where the design notes live"
    missing = [name for name in notes if f"(docs/{name})" not in readme]
    assert not missing, f"link these from README.md's design notes: {missing}"


def test_benchmarks_call_the_baseline_the_articles_pipeline_not_the_seed():
    # "the seed" read like a random seed; the comparison is with the article's pipeline.
    texts = [ROOT / "README.md", ROOT / "Makefile", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "bench").rglob("*.py"))]
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in texts
        for line in path.read_text().splitlines()
        if re.search(r"\bthe seed\b|\bseed's\b|\|\s*seed\s*\|", line, flags=re.IGNORECASE)
    ]
    assert not offenders, "say \"the article's pipeline\":\n" + "\n".join(offenders)
