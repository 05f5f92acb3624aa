#!/usr/bin/env bash
# The CUDA kernels' CPU emulation (ctest label cuda, native/cuda/emu) built with AddressSanitizer
# and UndefinedBehaviorSanitizer and run: reads or writes outside an allocation and undefined
# behaviour in the kernels (as the emulator runs them) and in the host entry points, which no
# GPU run here can show. Not part of ci/test.sh (it doubles the CUDA build's time); run it after
# changing a kernel. Needs nvcc (the CUDA build must be configured), CMake and Ninja.
# Usage: ci/emu-sanitize.sh [build-dir]   (default: build/emu-sanitize)
set -euo pipefail
cd "$(dirname "$0")/.."

build="${1:-build/emu-sanitize}"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTESSERA_CUDA=ON \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
mapfile -t emus < <(cd "$build" && ctest -N -L cuda | sed -n 's/^ *Test *#[0-9]*: \(.*_emu\)$/\1/p')
if [ ${#emus[@]} -eq 0 ]; then
  echo "ci/emu-sanitize.sh: no emulated CUDA tests configured (is nvcc on PATH?)" >&2
  exit 1
fi
cmake --build "$build" --target "${emus[@]}"
# The emulator switches stacks between a block's threads itself: ASan's use-after-return
# detection does not follow that. Leaks are the pool's chunks, kept until the process ends.
ASAN_OPTIONS=detect_stack_use_after_return=0:detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$build" -L cuda -R '_emu(_sm80)?$' --output-on-failure
