#!/usr/bin/env bash
# The CUDA kernels' CPU emulation (native/cuda/emu) built with ThreadSanitizer and run: each
# thread of a block is a fiber and only what orders memory on a GPU (barriers, __syncwarp,
# fences with atomics, kernel boundaries) orders it there, so a missing barrier or fence, a
# ring slot refilled while others read it, or two blocks storing one element is reported even
# though the emulator's schedule hides it (cuda_emu.h, "race checking"). race_emu checks the
# check: each planted race must be reported, its ordered twin not. A report fails its test.
# Needs nvcc (the CUDA build must be configured), CMake and Ninja.
# Usage: ci/emu-racecheck.sh [build-dir]   (default: build/emu-racecheck)
# TSC_RACECHECK_TESTS: a ctest regex of the tests to run (default: every emulated one, some 80
# CPU-minutes, test_cuda_matmul_emu alone 36 min and over 15 GB of memory; ci/test.sh runs the
# fast ones). The sm_80 runs are left out: the same kernels with other tilings.
# TSC_TEST_EMU_WORK (default here 2e7 multiply-adds) bounds the cases the C tests run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && PATH="$d:$PATH" && break; done
fi
build="${1:-build/emu-racecheck}"
tests="${TSC_RACECHECK_TESTS:-_emu$|^race_emu_}"
# Only the C++ of the emulation is instrumented: the CPU library and the C tests are the
# host's code, and the races looked for are between a kernel's threads.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTESSERA_CUDA=ON \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
# the selected tests' programs: X_emu runs X_emu, race_emu_CASE_HOW race_emu
mapfile -t programs < <(cd "$build" && ctest -N -L 'cuda|racecheck' -R "$tests" -E '_sm80$' | sed -n 's/^ *Test *#[0-9]*: //p' |
  grep emu | sed -E 's/^race_emu_.*/race_emu/' | sort -u)
if [ ${#programs[@]} -eq 0 ]; then
  echo "ci/emu-racecheck.sh: no emulated CUDA tests match '$tests' (is nvcc on PATH?)" >&2
  exit 1
fi
cmake --build "$build" --target "${programs[@]}"
# One CPU thread for the C tests' references: ThreadSanitizer does not see the uninstrumented
# pool's synchronization.
TSC_TEST_CPU_THREADS=1 TSC_TEST_EMU_WORK=${TSC_TEST_EMU_WORK:-20000000} TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" \
  ctest --test-dir "$build" -L 'cuda|racecheck' -R "$tests" -E '_sm80$' -j "$(nproc)" --output-on-failure
