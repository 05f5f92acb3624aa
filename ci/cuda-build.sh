#!/usr/bin/env bash
# CI step for the CUDA library where nvcc exists (no GPU needed): builds libtessera_cuda
# and its tests with -DTESSERA_CUDA=ON into build-cuda/, checks that it carries machine
# code for sm_80 and sm_90, and runs the CUDA tests: "skipped" without a GPU (ci/gpu-check.sh
# runs them for real on a GPU machine), and the same tests against the CPU emulation of the
# library (test_cuda_*_emu) with the per-file kernel emulators. Prints the build time.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && PATH="$d:$PATH" && break; done
fi
command -v nvcc >/dev/null || { echo "ci/cuda-build.sh: no nvcc: CUDA build skipped"; exit 0; }
BUILD=${1:-build-cuda}
t0=$(date +%s)
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTESSERA_CUDA=ON --log-level=NOTICE
cmake --build "$BUILD" --parallel -- --quiet
echo "ci/cuda-build.sh: configure + build $(( $(date +%s) - t0 ))s"
python3 ci/cuda-archs.py "$BUILD/native/cuda/libtessera_cuda.so" --require 80,90
(cd "$BUILD" && ctest -L cuda -j 2 --output-on-failure)
