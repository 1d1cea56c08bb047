"""Helpers shared by the benchmarks: the ViT-B/32 stand-in model, a machine
description, and writing one section of docs/performance.md."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO / "services", REPO / "clients"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

PERFORMANCE_DOC = REPO / "docs" / "performance.md"


def vit_b32_config(tokenizer):
    """openai/clip-vit-base-patch32's architecture, written out by hand (no download possible)."""
    from transformers import CLIPConfig

    text = dict(
        vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
        num_attention_heads=8, max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    vision = dict(
        hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
        image_size=224, patch_size=32, num_channels=3, hidden_act="quick_gelu", projection_dim=512,
    )
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=512, logit_scale_init_value=2.6592)


def build_vit_b32(out_dir: Path) -> Path:
    """A CLIP with ViT-B/32's architecture and fixed-seed random weights (speed does not
    depend on the weights), saved in the Hugging Face layout; reused when already there."""
    import torch
    from transformers import CLIPModel
    from videosearch.demo.tokenizer import (
        DEFAULT_WORDS,
        build_clip_processor,
        save_processor,
    )

    out_dir = Path(out_dir)
    if (out_dir / "config.json").exists() and (out_dir / "preprocessor_config.json").exists():
        return out_dir
    processor = build_clip_processor(list(DEFAULT_WORDS), 224)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = CLIPModel(vit_b32_config(processor.tokenizer)).eval()
    model.save_pretrained(out_dir)
    save_processor(processor, out_dir)
    return out_dir


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores visible, torch {torch.__version__} "
        f"({torch.get_num_threads()} intra-op threads), Python {platform.python_version()}; "
        f"load average at the end {load}"
    )


def write_section(title: str, body: str, path: Path = PERFORMANCE_DOC) -> None:
    """Replaces only the section headed ``title`` (e.g. "## Indexing speed") in docs/performance.md."""
    section = body if body.startswith(title) else f"{title}\n\n{body}"
    text = path.read_text() if path.exists() else "# Performance\n"
    start = text.find(title)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(title))
        text = text[:start] + section.rstrip("\n") + "\n" + ("" if end == -1 else text[end:])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n")


def publish(section: str, script: str, render, argv=None, *, write: bool) -> str:
    """Renders a bench's report with the command that ran it (``render(command)``), prints it,
    and, when ``write``, records it as ``section`` of docs/performance.md."""
    command = " ".join([f"python {script}", *(sys.argv[1:] if argv is None else argv)])
    report = render(command)
    print("\n" + report, flush=True)
    if write:
        write_section(section, report)
    return report


def cluster_cpu_seconds(cluster, names=("indexer", "embedder", "searcher")) -> float:
    """CPU seconds (user + system, all threads) the cluster's service processes have used so far:
    differences of these are a job's CPU cost, steadier than its wall time on a shared machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for name in names:
        process = cluster.processes.get(name)
        if process is None:
            continue
        fields = Path(f"/proc/{process.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def process_tree_cpu(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) of each root process and every process below it, by name
    (a service and, e.g., the Embedder's speech-recognizer worker), read from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    usage: dict[int, float] = {}
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        usage[pid] = (int(fields[11]) + int(fields[12])) / ticks
        children.setdefault(int(fields[1]), []).append(pid)
    totals = {}
    for name, root in roots.items():
        todo, total = [root], 0.0
        while todo:
            pid = todo.pop()
            total += usage.get(pid, 0.0)
            todo += children.get(pid, [])
        totals[name] = total
    return totals
