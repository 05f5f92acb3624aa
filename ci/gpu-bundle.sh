#!/usr/bin/env bash
# Prepares, on a build machine (JDK 25, Maven, nvcc), what ci/gpu-check.sh needs on a GPU
# machine that has no JDK or Maven and cannot download anything:
#   .gpu/native.txz        libtessera_cuda + its C tests and tsc_bench (built here in build-gpu/)
#   .gpu/lib/              the CLI's jars (mvn package) but JMH's
#   .gpu/jrt.txz           a jlink'd, stripped Java 25 runtime of the modules the CLI needs apart
#                          from java.desktop (images: not used by the GPU check), ~18 MiB
#   .gpu/junit-console.jar the JUnit console launcher (from the local Maven repository)
#   .gpu/test-classes/     the CUDA Java tests (dev.tessera.runtime.CudaBackendTest and what it uses)
# Then carry .gpu alone (64 MiB travel with the checkout), and run there
#   TESSERA_GPU_BUNDLE=.gpu bash ci/gpu-check.sh OUT
# .gpu/ is ignored by git (.git/info/exclude, added here) so that it travels only when carried.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh
B=.gpu
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF "/$B/" "$exclude" 2>/dev/null || echo "/$B/" >>"$exclude"
rm -rf "$B"
mkdir -p "$B/test-classes"
mvn -B -q -o package -DskipTests -Dtessera.ctest.skip=true
touch cli/target/lib/.complete
mvn -B -q -o -pl java-api -am test-compile -Dtessera.ctest.skip=true
(cd java-api/target/test-classes && cp --parents dev/tessera/runtime/CudaBackendTest*.class dev/tessera/io/TestFiles.class \
  "$OLDPWD/$B/test-classes/")
jar=$(ls ~/.m2/repository/org/junit/platform/junit-platform-console-standalone/*/junit-platform-console-standalone-*.jar 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$jar" ]; then
  mvn -B -q dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:6.1.3
  jar=$(ls ~/.m2/repository/org/junit/platform/junit-platform-console-standalone/*/junit-platform-console-standalone-*.jar | sort -V | tail -1)
fi
cp "$jar" "$B/junit-console.jar"
# What travels to the GPU machine is limited to 64 MiB with the checkout (~33 MiB): hence no
# java.desktop, a stripped libjvm and xz.
modules=$(jdeps --multi-release 25 --ignore-missing-deps --print-module-deps --class-path 'cli/target/lib/*' cli/target/lib/tessera-*.jar \
  | tr ',' '\n' | grep -v '^java.desktop$' | paste -sd,)
rm -rf /tmp/tessera-jrt && jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=zip-9 --output /tmp/tessera-jrt/jrt
strip --strip-unneeded /tmp/tessera-jrt/jrt/lib/server/libjvm.so
tar cJf "$B/jrt.txz" -C /tmp/tessera-jrt jrt
# Built every time (incremental): a build-gpu/ left by an older checkout would carry a library
# of another ABI and tests of other code. The emulation stays out (it runs in CI, not there).
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DTESSERA_CUDA=ON -DTESSERA_CUDA_EMU=OFF --log-level=NOTICE
cmake --build build-gpu --parallel -- --quiet
python3 ci/cuda-archs.py build-gpu/native/cuda/libtessera_cuda.so --require 80,90
mkdir -p "$B/native/cuda" "$B/lib"
# the GPU test programs, not their emulated twins (test_cuda_*_emu run here, on the CPU)
cp build-gpu/native/cuda/libtessera_cuda.so build-gpu/native/cuda/tsc_bench "$B/native/cuda/"
for t in build-gpu/native/cuda/test_cuda_*; do case $t in *_emu) ;; *) cp "$t" "$B/native/cuda/" ;; esac; done
tar cJf "$B/native.txz" -C "$B" native && rm -rf "$B/native"
# The CLI's jars without the JMH harness and its math library (not used by the GPU check).
for j in cli/target/lib/*.jar; do
  case $(basename "$j") in jmh-core-*|commons-math3-*|jopt-simple-*) ;; *) cp "$j" "$B/lib/" ;; esac
done
# gpu-check loads libtessera_cuda from native/cuda (TESSERA_CUDA_LIBRARY): the jar's copy (~4 MiB
# zipped) need not travel.
zip -q -d "$B"/lib/tessera-bindings-*.jar 'native/*/libtessera_cuda.so'
du -sh "$B"
echo "with the checkout: $(( ($(git ls-files -z | xargs -0 stat -c %s | paste -sd+ | bc) + $(du -sb "$B" | cut -f1)) >> 20 )) MiB travel (limit 64)"
