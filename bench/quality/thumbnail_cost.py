"""What scene thumbnails add to indexing time, on real videos.

    python bench/quality/thumbnail_cost.py [VIDEO ...]     # default: the shared test videos

Indexes each video through the real services (demo CLIP) and prints, from the job's stage
timings, the seconds spent making thumbnails (reading each scene's middle sampled frame back
and encoding a JPEG) beside the job's whole wall time. CPU timings on a shared machine are noisy.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchlib  # noqa: E402
from videosearch.demo.quality import index_files  # noqa: E402
from videosearch.launcher import ClusterConfig, LocalCluster  # noqa: E402
from videosearch.client.searcher import SearcherClient  # noqa: E402

SHARED = benchlib.REPO.parent / "shared" / "videos"


def main(argv=None) -> int:
    paths = [Path(p).resolve() for p in (argv if argv is not None else sys.argv[1:])] or sorted(SHARED.glob("*.mp4"))
    with tempfile.TemporaryDirectory() as data:
        config = ClusterConfig(model=str(benchlib.REPO / "models" / "demo-clip"), data_dir=data,
                               allowed_roots=tuple(sorted({str(p.parent) for p in paths})),
                               embedder_port=0, searcher_port=0, indexer_port=0, extra_env={"HF_HUB_OFFLINE": "1"})
        with LocalCluster(config) as cluster:
            jobs = index_files(cluster.address("indexer"), paths)
            with SearcherClient(cluster.address("searcher")) as searcher:
                scenes = {name: searcher.get_video(job.video_id)[0].scene_count for name, job in jobs.items()}
    print(f"{'video':<24} {'scenes':>6} {'thumbnails s':>12} {'job wall s':>10} {'share':>6}   ({benchlib.machine()})")
    for name, job in jobs.items():
        thumbs, total = job.stage_seconds.get("thumbnails", 0.0), job.stage_seconds.get("total_wall", 0.0)
        print(f"{name:<24} {scenes[name]:>6} {thumbs:>12.3f} {total:>10.2f} {thumbs / total if total else 0:>6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
