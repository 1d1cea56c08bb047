#!/usr/bin/env bash
# Prepares what bench/device/gpu_decode.sh needs on a lent GPU machine. Run it HERE (no device
# needed, a few minutes on 2 cores), in the repository's checkout that the device tool sends:
#
#     bash bench/device/gpu_decode_prepare.sh
#
# It fills .whl/ (ignored through .git/info/exclude, as the device README asks), which the run
# then names in `carry`:
#   .whl/site.tar.xz   the Python packages the device image lacks, installed for its Python 3.12
#                      (`python3 -m pip install --target`, below) and packed with xz -9;
#   .whl/testvideo.mp4 the footage the bench encodes its files from (2.4 MB);
#   .whl/commit.txt    the commit prepared at (the device's copy of the tree has no .git).
# Why not the wheels themselves: they are 58 MB (av alone 36 MB), which with the working tree
# (about 9 MiB) passes the 64 MiB a call may carry; the installed tree packed with xz is 40 MB.
# The wheels (`--no-deps`: their other needs -- numpy, opencv, anyio, tqdm, click,
# typing-extensions -- are in the device image; KINDS.md lists it) are the project's pins from
# requirements.txt:
#   av (PyAV, with FFmpeg's cuda hwaccel and the libx264/libx265 encoders the bench makes its files
#   with: the device has no ffmpeg binary, and imageio-ffmpeg's wheel alone is 68 MB),
#   grpcio, grpcio-health-checking, grpcio-reflection, protobuf (the generated code needs
#   grpcio >= 1.85.1 and protobuf >= 7.35.1; the image's own may be older), plyvel (the
#   Searcher's LevelDB), usearch and numkong (the Searcher's vector tiers, imported at start),
#   watchfiles (the Indexer's watched folders), scenedetect and platformdirs (its CLI's need).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
PY=${PY:-python3}
SOURCE=${SOURCE:-/work/shared/videos/testvideo.mp4}
WHEELS="av==18.1.0 grpcio==1.85.1 grpcio-health-checking==1.85.1 grpcio-reflection==1.85.1 protobuf==7.36.2
plyvel==1.5.1 usearch==2.26.6 numkong==7.8.6 watchfiles==1.3.0 scenedetect==0.7.2 platformdirs==4.14.9"
PLATFORMS="--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_26_x86_64
--platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any"
exclude="$(git rev-parse --git-common-dir)/info/exclude"
grep -qxF '/.whl/' "$exclude" 2>/dev/null || echo /.whl/ >>"$exclude"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p .whl
# shellcheck disable=SC2086  # the lists split into words on purpose
$PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp $PLATFORMS \
    -d "$work/wheels" $WHEELS
# shellcheck disable=SC2086
$PY -m pip install -q --no-index --no-deps --no-compile --only-binary=:all: --python-version 3.12 \
    --implementation cp $PLATFORMS --target "$work/site" "$work"/wheels/*.whl
tar -C "$work/site" -cf - . | xz -T0 -9 >.whl/site.tar.xz.part
mv .whl/site.tar.xz.part .whl/site.tar.xz
install -m 0644 "$SOURCE" .whl/testvideo.mp4
# The device gets the tree without .git: the commit prepared at, for the report.
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- bench services || echo +changes) (prepared)" >.whl/commit.txt

# What one call carries: tracked and untracked-not-ignored files, and .whl.
tree=$( (git ls-files -z; git ls-files -z -o --exclude-standard) | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
carried=$(du -cb .whl | tail -1 | cut -f1)
total=$((tree + carried))
echo "working tree $((tree / 1048576)) MiB + .whl $((carried / 1048576)) MiB = $((total / 1048576)) MiB of 64"
if ((total >= 64 * 1048576)); then
    echo "too much to carry: 64 MiB at most" >&2
    exit 1
fi
ls -l .whl
