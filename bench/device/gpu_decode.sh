#!/usr/bin/env bash
# GPU decoding end to end (issue 26, part 3) on a lent GPU machine: one call of at most 6 minutes
# (machine start and transfers aside), so that 15 minutes of device time leave room to run it again.
#
# HERE first, once per session (no device time; about 4 minutes on 2 cores):
#     bash bench/device/gpu_decode_prepare.sh
# which downloads these wheels, the project's pins (`--no-deps`, for the device's Python 3.12):
#     python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#         --platform manylinux_2_28_x86_64 ... --platform any -d WHEELS av==18.1.0 grpcio==1.85.1 \
#         grpcio-health-checking==1.85.1 grpcio-reflection==1.85.1 protobuf==7.36.2 plyvel==1.5.1 \
#         usearch==2.26.6 numkong==7.8.6 watchfiles==1.3.0 scenedetect==0.7.2 platformdirs==4.14.9
# installs them with `python3 -m pip install --no-index --no-deps --no-compile --python-version 3.12
# ... --target SITE WHEELS/*.whl`, and packs SITE into .whl/site.tar.xz (58 MB of wheels would pass
# the 64 MiB a call carries; packed with xz they are 40 MB), beside .whl/testvideo.mp4 (the footage;
# the device has no /work/shared). It prints what a call will carry.
#
# Then the device tool's `run`, with carry [".whl"] and timeout_s 420:
#     bash bench/device/gpu_decode.sh
# On the device this unpacks the packages into /tmp/site (the device image holds torch,
# transformers, numpy, opencv, pillow, the rest), records the environment (GPU, driver, versions,
# the NVIDIA video libraries, and whether PyAV's cuda hwaccel decodes a frame on NVDEC), then runs
#     bench/index/gpu_decode.py --devices cuda --decoders none,cuda --models vit-b32,demo --seconds 60
# (4 files made there with PyAV, 1 minute each; 16 jobs and 8 decodes alone; about 3-4 minutes by
# an estimate from the 2-core figures, not a measurement;
# `cuda` falls back to software per file, as `any` does, so `any` would repeat it), plus
# $GPU_DECODE_ARGS (e.g. "--rounds 2"), stopped at GPU_DECODE_SECONDS (300 s: what was measured by
# then is reported, PARTIAL). It
# writes under $OUT: env.txt, log.txt (everything printed), results.json (every measurement),
# report.txt (the tables), logs.tgz (the services' logs). Call give_back unless rerunning at once.
# Read report.txt; put it in docs/performance.md, "GPU decoding, end to end", with the device named.
# .whl/ is never committed: a session without it runs gpu_decode_prepare.sh (it needs pip's index).
#
# Checked here without a device: `DRY_RUN=1 bash bench/device/gpu_decode.sh` runs the same steps
# with this machine's Python on the CPU (--devices cpu, two 4-second files, the demo CLIP), no
# unpacking, into /tmp/gpu-decode-dry (or $OUT).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
OUT=${OUT:-/tmp/gpu-decode-dry}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
if [[ -n "${DRY_RUN:-}" ]]; then
    PY=${PY:-python3}
    export PYTHONPATH="$PWD/services:$PWD/clients${PYTHONPATH:+:$PYTHONPATH}"
    BENCH=(--devices cpu --decoders "none,any" --models demo --seconds 4
        --files "h264-high-720p-6M,mpeg4-part2-720p-8M" --library "$OUT/files")
    SOURCE_ARGS=()
else
    PY=${PY:-python3}
    mkdir -p /tmp/site
    tar -xJf .whl/site.tar.xz -C /tmp/site || { echo "no .whl/site.tar.xz: run gpu_decode_prepare.sh here and carry .whl" >&2; exit 2; }
    export PYTHONPATH="/tmp/site:$PWD/services:$PWD/clients"
    GPU_DECODE_COMMIT=$(cat .whl/commit.txt 2>/dev/null || echo unknown)
    export GPU_DECODE_COMMIT
    BENCH=(--devices cuda --decoders "none,cuda" --models "vit-b32,demo" --seconds 60 --library /tmp/gpu-decode-files)
    SOURCE_ARGS=(--source .whl/testvideo.mp4)
fi

{
    date -u '+%Y-%m-%d %H:%M:%S UTC'
    git log -1 --format='commit %h %s' 2>/dev/null || echo "commit: no git here; prepared at ${GPU_DECODE_COMMIT:-?}"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi: none"
    echo "CPU cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
    ldconfig -p 2>/dev/null | grep -E 'libnvcuvid|libcuda\.so' || echo "ldconfig: no libnvcuvid/libcuda listed"
    find /usr/local/nvidia /usr/lib/x86_64-linux-gnu -maxdepth 3 -name 'libnvcuvid*' 2>/dev/null | head -3
    "$PY" - "${SOURCE_ARGS[1]:-/work/shared/videos/testvideo.mp4}" <<'PYEOF'
import importlib, sys, time
for name in ("torch", "transformers", "numpy", "cv2", "av", "grpc", "google.protobuf", "plyvel", "usearch", "scenedetect"):
    try:
        module = importlib.import_module(name)
        print(f"{name} {getattr(module, '__version__', '?')} ({module.__file__})")
    except Exception as exc:  # a probe: every failure is printed, none stops it
        print(f"{name}: NOT importable: {exc}")
try:
    import torch
    print("torch.cuda:", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
except Exception as exc:
    print("torch.cuda:", exc)
try:
    import av
    from av.codec.hwaccel import HWAccel, hwdevices_available
    print("PyAV hw devices:", hwdevices_available())
    began = time.perf_counter()
    with av.open(sys.argv[1], hwaccel=HWAccel(device_type="cuda", allow_software_fallback=False)) as container:
        stream = container.streams.video[0]
        frames = [f for _, f in zip(range(60), container.decode(stream))]
        print(f"PyAV cuda hwaccel: {len(frames)} frames of {stream.codec_context.name} in "
              f"{time.perf_counter() - began:.2f} s, frame format {frames[0].format.name}")
except Exception as exc:
    print(f"PyAV cuda hwaccel: FAILED: {type(exc).__name__}: {exc}")
PYEOF
} 2>&1 | tee "$OUT/env.txt"

read -ra EXTRA <<<"${GPU_DECODE_ARGS:-}"
timeout "${GPU_DECODE_SECONDS:-300}" "$PY" bench/index/gpu_decode.py "${BENCH[@]}" "${SOURCE_ARGS[@]}" "${EXTRA[@]}" \
    --results "$OUT/results.json" --report-out "$OUT/report.txt" --logs /tmp/gpu-decode-logs 2>&1 | tee "$OUT/log.txt"
status=${PIPESTATUS[0]}
if [[ ! -s "$OUT/report.txt" && -s "$OUT/results.json" ]]; then  # stopped at the time limit: what was measured
    echo "bench ended with $status before its report: the tables from what it stored" | tee -a "$OUT/log.txt"
    "$PY" bench/index/gpu_decode.py --report --results "$OUT/results.json" --report-out "$OUT/report.txt" 2>&1 |
        tee -a "$OUT/log.txt"
fi
tar -czf "$OUT/logs.tgz" -C /tmp gpu-decode-logs 2>/dev/null
echo "bench exit status $status; under $OUT:" "$OUT"/*
exit "$status"
