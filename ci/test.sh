#!/usr/bin/env bash
# The test command named in README.md (and run by .ci/run): installs what is missing,
# then one Maven build compiles the native library with CMake, runs its C tests (ctest)
# and the Java tests (JUnit 5); then the ARM64 build of the native library is tested
# under qemu, and the CUDA library is built (ci/cuda-build.sh). Extra arguments go to Maven (e.g. -Dtessera.fuzz.iterations=10000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
source ci/env.sh
mvn -B -ntp verify "$@"
bash ci/native-aarch64.sh
# The CUDA library where nvcc exists (compiled and its tests skipped without a GPU).
bash ci/cuda-build.sh
