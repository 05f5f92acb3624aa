#!/usr/bin/env bash
# Cross-builds the native library for aarch64 Linux and runs its C tests (ctest) under
# qemu-user: the NEON kernels and, as qemu's default CPU reports asimddp, the dotprod
# level; then once more on an ARMv8.0 CPU model, where neon is the best level. Only the C
# library can be tested on ARM here (no aarch64 JDK >= 22).
# Usage: ci/native-aarch64.sh [build-dir]   (default: build/native-aarch64)
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
command -v cmake >/dev/null || missing+=(cmake)
command -v ninja >/dev/null || missing+=(ninja-build)
if [ ${#missing[@]} -ne 0 ]; then
  echo "ci/native-aarch64.sh: missing tools; install them with: apt-get install -y ${missing[*]}" >&2
  echo "(ci/setup.sh does that when run as root)" >&2
  exit 1
fi
if [ ! -d /usr/aarch64-linux-gnu/lib ]; then
  echo "ci/native-aarch64.sh: no aarch64 sysroot at /usr/aarch64-linux-gnu (package libc6-dev-arm64-cross)" >&2
  exit 1
fi

build="${1:-build/native-aarch64}"
# -O2 rather than Release's -O3: Debian's aarch64-linux-gnu-gcc 12 crashes (ICE in
# vect_transform_reduction) on some reduction loops at -O3 (seen in tests/test_quants.c).
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
  --toolchain "$PWD/native/cmake/aarch64-linux-gnu.cmake"
cmake --build "$build"
ctest --test-dir "$build" --output-on-failure
# Again on an ARMv8.0 core (no dotprod, no fp16 arithmetic): the neon level is then the best
# one, and any instruction newer than its baseline in neon-level code would SIGILL here.
echo "== ctest again under QEMU_CPU=cortex-a57 (ARMv8.0)"
QEMU_CPU=cortex-a57 ctest --test-dir "$build" --output-on-failure
