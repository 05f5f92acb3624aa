#!/usr/bin/env bash
# The test command named in README.md (and run by .ci/run): installs what is missing,
# then one Maven build compiles the native library with CMake, runs its C tests (ctest)
# and the Java tests (JUnit 5); then the ARM64 build of the native library is tested
# under qemu. Where nvcc exists the Maven build also compiles libtessera_cuda into the jar (its C
# tests report "skipped" without a GPU) and its GPU code is checked here, and the quick part of
# its emulation's race check runs. Extra arguments go to Maven (e.g. -Dtessera.fuzz.iterations=10000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
source ci/env.sh
mvn -B -ntp verify "$@"
bash ci/native-aarch64.sh
python3 ci/bench_variants_test.py # the GPU check's report script, on tsc_bench's and gpu-check's names
# The quick part of the CUDA emulation's race check (ThreadSanitizer; ci/emu-racecheck.sh runs
# all of it, some 80 CPU-minutes): the check's own planted races, the kernels that pass results
# between blocks by tickets (split-KV attention, the fused GLU), products by weights the kernel
# before wrote (dependent launches), graphs and core.
if command -v nvcc >/dev/null; then
  TSC_RACECHECK_TESTS='^race_emu_|^attention_emu$|^test_cuda_(attention|glu|graph|core|weights)_emu$' bash ci/emu-racecheck.sh build/emu-racecheck
fi
# The CUDA library the jar carries (where nvcc was found): sm_80 and sm_90 machine code.
cuda_lib=bindings/target/classes/native/linux-x86_64/libtessera_cuda.so
if [ -f "$cuda_lib" ]; then
  python3 ci/cuda-archs.py "$cuda_lib" --require 80,90
else
  echo "ci/test.sh: no nvcc at build time: the jar carries no CUDA library"
fi
