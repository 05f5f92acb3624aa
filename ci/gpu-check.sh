#!/usr/bin/env bash
# GPU check: builds the CUDA library, runs its tests and benchmarks, writes a report.
#
#   bash ci/gpu-check.sh OUT_DIR        (e.g. bash ci/gpu-check.sh "$OUT")
#
# For a machine with an NVIDIA GPU (sm_80 or newer), its driver, nvcc (CUDA 12.x/13.x),
# CMake >= 3.25, Ninja or make, gcc and python3 (optional: used only to list the embedded
# GPU code). Nothing is downloaded: it runs from a plain checkout. Java is optional (4b-4e):
# with TESSERA_GPU_BUNDLE=DIR (made by ci/gpu-bundle.sh: a jlink'd JDK 25 runtime, the JUnit
# console launcher, the CUDA Java tests; with cli/target/lib carried too) the Java backend runs
# its tests and the models on the GPU; DIR/native/cuda then also serves as the prebuilt library.
# Without nvcc there, build elsewhere with `bash ci/cuda-build.sh build-gpu` and bring
# build-gpu/ along (a few MiB that matter: native/cuda/); the script then skips step 1
# (also forced by TESSERA_GPU_PREBUILT=1). The CUDA runtime is linked statically, so the
# driver must support the toolkit that built it (CUDA 13 needs driver >= 580; else the tests
# report "the NVIDIA driver supports CUDA up to X.Y, this library was built with 13.0" and the check fails:
# build on the machine).
# Tests are run as plain programs (not through ctest), so a moved build folder works.
# Steps, each logged into OUT_DIR:
#   1. configure + build with -DTESSERA_CUDA=ON into build-gpu/ (build.log; ~1-2 min on 16 cores)
#   2. list the GPU code in libtessera_cuda.so (archs.txt: sm_80/sm_90 machine code, sm_90 PTX)
#   3. native/cuda/test_cuda_*: every CUDA op against the CPU kernels (tests.log; < 1 min)
#   4. native/cuda/bench/tsc_bench (bench.json, bench.md; ~1-2 min): copy bandwidth, Q4_0/Q8_0/F16
#      matvec 4096x14336 both ways, a LLaMA-7B-shaped multi-GiB weight set, batched matmul
#      M=512, attention at CLIP ViT-L/14 and SD 1.5 shapes
#   4b. optional: `tessera info --devices` from Java when cli/target/lib (mvn package) and a
#      JDK 25 are there (java-devices.txt): the library must load and list the GPU; with the
#      bundle also 4c-4f: CudaBackendTest, generate on cpu = cuda = cuda with CUDA graphs,
#      bench-model (stories260K and a 7B shape: launched, also without programmatic dependent
#      launch, without the fused activation quantizing and with a kernel per matmul and add (no
#      tsc_matmul_parts fusion), without grouped steps, with resident warps, as CUDA graphs of 16
#      ops and whole), the host's
#      time per op launched and recorded (CudaHostCost, host-cost.txt), CLIP
#   5. report.json + report.md summarising all of it, with every tuning variant beside its
#      default (ci/bench-variants.py, where python3 is) (+ nvidia-smi.txt when nvidia-smi exists)
# Then, optionally, ci/gpu-profile.sh: compute-sanitizer and Nsight Compute where installed.
# Designed to finish in under 8 minutes on an H100. TESSERA_GPU_CHECK_SECONDS (default 480)
# bounds it: each step's timeout is cut to the time left (less 15 s for the report), and a step
# with none left is skipped and named in the report, so a lent machine's time limit never
# costs the report. Exit status: 0 when the build passed, every CUDA test passed (none
# skipped: on a GPU machine a skip means the device was not usable) and no step ran out of
# time, 1 otherwise; the report is written either way.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: ci/gpu-check.sh OUT_DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
T0=$(date +%s)
BUNDLE=${TESSERA_GPU_BUNDLE:-}
BUILD=${TESSERA_GPU_BUILD_DIR:-build-gpu}
if [ -n "$BUNDLE" ] && [ -f "$BUNDLE/native.txz" ] && [ ! -d "$BUNDLE/native" ]; then tar xJf "$BUNDLE/native.txz" -C "$BUNDLE"; fi
if [ -n "$BUNDLE" ] && [ -f "$BUNDLE/native/cuda/libtessera_cuda.so" ]; then BUILD=$BUNDLE; export TESSERA_GPU_PREBUILT=1; fi
JOBS=$(nproc 2>/dev/null || echo 4)
if ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && PATH="$d:$PATH" && break; done
fi
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
status=0

log() { echo "[gpu-check $(( $(date +%s) - T0 ))s] $*"; }
DEADLINE=$(( T0 + ${TESSERA_GPU_CHECK_SECONDS:-480} - 15 ))
: >"$OUT/out-of-time.txt"
# tmo SECONDS CMD...: timeout SECONDS CMD, cut to the time left; 124 without running CMD when
# none is left, recorded in out-of-time.txt (a file: some steps run in subshells)
tmo() {
  local want=$1 left=$(( DEADLINE - $(date +%s) ))
  shift
  if [ "$left" -lt 5 ]; then
    echo "$*" >>"$OUT/out-of-time.txt"
    echo "[gpu-check] out of time, skipped: $*" >&2
    return 124
  fi
  local t=$(( want < left ? want : left )) rc
  timeout "$t" "$@"
  rc=$?
  if [ $rc -eq 124 ] && [ "$t" -lt "$want" ]; then echo "$* (cut short at ${t} s)" >>"$OUT/out-of-time.txt"; fi
  return $rc
}

# 1. build (or use a prebuilt folder)
LIBDIR="$BUILD/native/cuda"
B0=$(date +%s)
if [ "${TESSERA_GPU_PREBUILT:-0}" = 1 ] || { ! command -v nvcc >/dev/null && [ -f "$LIBDIR/libtessera_cuda.so" ]; }; then
  log "using the prebuilt $LIBDIR (no build)"
  echo "prebuilt $LIBDIR" >"$OUT/build.log"
  if [ -f "$LIBDIR/libtessera_cuda.so" ]; then build_ok=true; else build_ok=false; status=1; fi
else
  log "configure + build into $BUILD"
  if cmake -S . -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DTESSERA_CUDA=ON -DTESSERA_CUDA_EMU=OFF >"$OUT/build.log" 2>&1 &&
     cmake --build "$BUILD" --parallel "$JOBS" >>"$OUT/build.log" 2>&1; then
    build_ok=true
  else
    build_ok=false; status=1
    tail -30 "$OUT/build.log"
  fi
fi
BUILD_S=$(( $(date +%s) - B0 ))
log "build ok=$build_ok in ${BUILD_S}s"
LIB="$LIBDIR/libtessera_cuda.so"
export LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

command -v nvidia-smi >/dev/null && nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1

# 2. embedded GPU code
if $build_ok && command -v python3 >/dev/null; then
  python3 ci/cuda-archs.py "$LIB" --require 80,90 >"$OUT/archs.txt" 2>&1 || status=1
fi

# 3. tests: exit 0 = passed, 77 = skipped (no usable device), anything else = failed
passed=0; failed=0; skipped=0
: >"$OUT/tests.log"
if $build_ok; then
  for t in "$LIBDIR"/test_cuda_*; do
    [ -x "$t" ] || continue
    case $t in *_emu) continue ;; esac # the CPU-emulated twins: CI runs those
    name=$(basename "$t")
    log "$name"
    echo "=== $name" >>"$OUT/tests.log"
    tmo 90 "$t" >>"$OUT/tests.log" 2>&1
    rc=$?
    case $rc in
      0) r=Passed; passed=$((passed + 1)) ;;
      77) r=Skipped; skipped=$((skipped + 1)) ;;
      *) r="Failed (exit $rc)"; failed=$((failed + 1)) ;;
    esac
    echo "=== $name: $r" >>"$OUT/tests.log"
  done
  [ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$passed" -gt 0 ] || status=1
  log "tests: $passed passed, $failed failed, $skipped skipped"
fi

# 4. benchmarks
bench_ok=false
if $build_ok; then
  log "tsc_bench"
  if tmo 240 "$LIBDIR/tsc_bench" "$OUT" >"$OUT/bench.log" 2>&1; then bench_ok=true; else status=1; fi
  cat "$OUT/bench.log"
fi

# 4b. Java (optional): `tessera info --devices` through the CLI's jars when they were built
# (cli/target/lib, e.g. carried along) and a JDK 25 is there: the library loads from Java.
java_devices=skipped; java_tests=skipped; java_generate=skipped; java_bench=skipped; java_clip=skipped
if [ -n "$BUNDLE" ] && [ -f "$BUNDLE/jrt.txz" ]; then
  mkdir -p /tmp/tessera-jrt && tar xJf "$BUNDLE/jrt.txz" -C /tmp/tessera-jrt && JAVA_HOME=/tmp/tessera-jrt/jrt
fi
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
export TESSERA_CUDA_LIBRARY="$PWD/$LIB"
JAVA_LIB=cli/target/lib
if [ -n "$BUNDLE" ] && [ -d "$BUNDLE/lib" ]; then JAVA_LIB=$BUNDLE/lib; touch "$JAVA_LIB/.complete"; fi
if $build_ok && [ -f "$JAVA_LIB/.complete" ] && "$JAVA" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
  CP=$(ls "$PWD/$JAVA_LIB"/*.jar | paste -sd:)
  TESSERA=("$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" dev.tessera.cli.TesseraCli)
  log "java: tessera info --devices"
  tmo 60 "${TESSERA[@]}" info --devices >"$OUT/java-devices.txt" 2>&1
  if grep -qE '^cuda: [0-9]+ device' "$OUT/java-devices.txt"; then java_devices=ok; else java_devices=failed; status=1; fi
  cat "$OUT/java-devices.txt"
  # 4c. the Java CUDA backend's tests (CPU vs GPU graphs, stories260K logits and tokens)
  if [ -n "$BUNDLE" ] && [ -f "$BUNDLE/junit-console.jar" ]; then
    log "java: CudaBackendTest"
    (cd java-api && tmo 120 "$JAVA" --enable-native-access=ALL-UNNAMED -jar "$OLDPWD/$BUNDLE/junit-console.jar" execute \
      --disable-banner --disable-ansi-colors --details=tree --class-path "$OLDPWD/$BUNDLE/test-classes:$OLDPWD/java-api/src/test/resources:$CP" \
      --select-class dev.tessera.runtime.CudaBackendTest) >"$OUT/java-tests.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && grep -qE '\[ +[1-9][0-9]* tests successful' "$OUT/java-tests.log" && grep -qE "\\[ +0 tests aborted" "$OUT/java-tests.log" && grep -qE "\\[ +0 containers aborted" "$OUT/java-tests.log"; then
      java_tests=ok
    else java_tests=failed; status=1; fi
    tail -40 "$OUT/java-tests.log"
  fi
  # 4d. the main job on both devices: the same greedy text
  log "java: generate on cpu and cuda"
  args=(generate -m models/stories260K.gguf -p "Once upon a time" -n 64 --temp 0)
  tmo 60 "${TESSERA[@]}" "${args[@]}" --device cpu >"$OUT/gen-cpu.txt" 2>"$OUT/gen-cpu.err"
  tmo 60 "${TESSERA[@]}" "${args[@]}" --device cuda >"$OUT/gen-cuda.txt" 2>"$OUT/gen-cuda.err"
  tmo 60 "${TESSERA[@]}" "${args[@]}" --device cuda --cuda-graphs >"$OUT/gen-cuda-graphs.txt" 2>"$OUT/gen-cuda-graphs.err"
  if [ -s "$OUT/gen-cuda.txt" ] && cmp -s "$OUT/gen-cpu.txt" "$OUT/gen-cuda.txt" && cmp -s "$OUT/gen-cpu.txt" "$OUT/gen-cuda-graphs.txt"; then
    java_generate=ok
  else java_generate=failed; status=1; fi
  cat "$OUT/gen-cuda.txt" "$OUT/gen-cuda.err" "$OUT/gen-cuda-graphs.err"
  # 4e. decode speed: stories260K and a LLaMA-7B-shaped random Q4_0 model written here (3.6 GiB);
  # --profile adds one untimed run whose per-op host times (enqueueing) and wait for the device
  # per token go to bench-model.err: whether decode is bound by the host's launches or the GPU.
  # Variants (one JSON line each, named in bench-model.variants in the same order): kernels
  # launched one by one, the same without programmatic dependent launch (TSC_PDL=0), the same
  # with norms and GLUs leaving the activation quantizing to the matmul (TSC_FUSED_QUANTIZE=0),
  # the same with q/k/v, gate/up and each projection with its residual add as a kernel apiece
  # instead of one (TSC_MATVEC_KERNEL=apart), the same with no grouped steps at all (matmuls,
  # RoPE of q and k, K/V stores each a node of its own: TESSERA_CUDA_GROUPS=0), the same with the
  # matvecs' warps resident over several rows (TSC_MATVEC_BLOCKS=4), CUDA graphs of 16 ops (the
  # default), each step as one CUDA graph; then the 7B shape in Q4_K once, launched: its prompt
  # of 512 runs the K-quant tensor-core GEMM, its decode the K-quant matvec
  log "java: bench-model on cuda"
  variants=("launched" "launched, TSC_PDL=0" "launched, TSC_FUSED_QUANTIZE=0" "launched, TSC_MATVEC_KERNEL=apart"
    "launched, TESSERA_CUDA_GROUPS=0" "launched, TSC_MATVEC_BLOCKS=4" "--cuda-graphs" "--cuda-graphs --cuda-graph-ops 0")
  : >"$OUT/bench-model.variants"
  # one JSON line per run, {} where a run printed none (failed, timed out): lines stay paired
  # with bench-model.variants
  json_line() { local o none='{}'; o=$("$@" | grep '^{' | tail -n 1); echo "${o:-$none}"; }
  {
    for model in stories 7b; do
      for v in "${variants[@]}"; do
        env=(); flags=()
        case $v in launched) ;; "launched, "*) env=("${v#launched, }") ;; *) read -ra flags <<<"$v" ;; esac
        echo "$model: $v" >>"$OUT/bench-model.variants"
        echo "== $model: $v" >&2
        if [ $model = stories ]; then
          json_line tmo 120 env "${env[@]}" "${TESSERA[@]}" bench-model -m models/stories260K.gguf -p 128 -n 128 --device cuda "${flags[@]}" --json --profile
        else
          json_line tmo 150 env "${env[@]}" "${TESSERA[@]}" bench-model --synthetic llama-7b -m /tmp/tessera-llama7b-q4_0.gguf -p 512 -n 64 \
            --device cuda "${flags[@]}" --json --profile
        fi
      done
    done
    echo "7b q4_K: launched" >>"$OUT/bench-model.variants"
    echo "== 7b q4_K: launched" >&2
    json_line tmo 150 "${TESSERA[@]}" bench-model --synthetic llama-7b --type q4_k -m /tmp/tessera-llama7b-q4_k.gguf -p 512 -n 64 \
      --device cuda --json
  } >"$OUT/bench-model.jsonl" 2>"$OUT/bench-model.err"
  if [ "$(grep -c generated_tokens_per_second "$OUT/bench-model.jsonl")" -eq $((2 * ${#variants[@]} + 1)) ]; then java_bench=ok; else java_bench=failed; status=1; fi
  paste -d' ' "$OUT/bench-model.variants" <(sed -E 's/.*("generated_tokens_per_second":[0-9.]*).*/\1/; t; s/.*/(no result)/' "$OUT/bench-model.jsonl")
  tail -30 "$OUT/bench-model.err"
  # the host's time per op of a 7B decode step, launched and recorded for a CUDA graph
  log "java: CudaHostCost"
  tmo 60 "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" dev.tessera.bench.CudaHostCost >"$OUT/host-cost.txt" 2>&1
  cat "$OUT/host-cost.txt"
  # 4f. CLIP images/s and texts/s (random weights of the real shapes)
  log "java: ClipBenchmarks on cuda"
  tmo 120 "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" dev.tessera.bench.ClipBenchmarks --shapes B/32,L/14 \
    --types F16,Q8_0 --batches 1,16 --seconds 1 --device cuda >"$OUT/clip-bench.txt" 2>&1
  if [ "$(grep -c 'images/s' "$OUT/clip-bench.txt")" -eq 8 ]; then java_clip=ok; else java_clip=failed; status=1; fi
  cat "$OUT/clip-bench.txt"
fi

# 5. report
skipped_steps=$(wc -l <"$OUT/out-of-time.txt")
if [ "$skipped_steps" -gt 0 ]; then status=1; fi
TOTAL_S=$(( $(date +%s) - T0 ))
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
{
  echo "{"
  echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\", \"commit\": \"$commit\", \"steps_out_of_time\": $skipped_steps,"
  echo "  \"build_ok\": $build_ok, \"build_seconds\": $BUILD_S, \"total_seconds\": $TOTAL_S,"
  echo "  \"tests\": {\"passed\": $passed, \"failed\": $failed, \"skipped\": $skipped},"
  echo "  \"bench_ok\": $bench_ok, \"java_devices\": \"$java_devices\", \"java_tests\": \"$java_tests\","
  echo "  \"java_generate\": \"$java_generate\", \"java_bench\": \"$java_bench\", \"java_clip\": \"$java_clip\","
  echo -n "  \"bench\": "
  if [ -s "$OUT/bench.json" ]; then cat "$OUT/bench.json"; else echo "null"; fi
  echo "}"
} >"$OUT/report.json"
{
  echo "# Tessera GPU check"
  echo
  echo "$(date -u +%Y-%m-%d\ %H:%M) UTC, commit \`$commit\`, status **$([ $status -eq 0 ] && echo PASS || echo FAIL)**, ${TOTAL_S}s in all (build ${BUILD_S}s)."
  if [ "$skipped_steps" -gt 0 ]; then
    echo; echo "Out of time (TESSERA_GPU_CHECK_SECONDS=${TESSERA_GPU_CHECK_SECONDS:-480}), not run:"; echo
    sed 's/.*/- `&`/' "$OUT/out-of-time.txt"
  fi
  echo
  echo "## Tests (native/cuda/test_cuda_*)"
  echo
  echo "$passed passed, $failed failed, $skipped skipped."
  echo
  echo '```'
  grep -hE '^===|worst error|^ok |CHECK\(|checks, [0-9]+ failures|skipped|^device|^memory' "$OUT/tests.log" 2>/dev/null | head -150
  echo '```'
  echo; echo "Java \`tessera info --devices\`: $java_devices; CudaBackendTest: $java_tests; generate cpu = cuda: $java_generate; bench-model: $java_bench; CLIP: $java_clip"
  if [ -s "$OUT/bench-model.jsonl" ]; then echo; echo '```'; paste -d'\n' "$OUT/bench-model.variants" "$OUT/bench-model.jsonl"; echo '```'; fi
  if grep -q '^generation profile' "$OUT/bench-model.err" 2>/dev/null; then
    echo; echo "Decode profiles (stories260K, then the 7B shape, variants as above; host time per op type, then the wait for the GPU):"
    echo; echo '```'; grep -E '^(== |benchmarking|generation profile|op  |[A-Z(][A-Za-z0-9(), +]+ +[0-9]+ +[0-9.]+ +[0-9.]+%)' "$OUT/bench-model.err"; echo '```'
  fi
  if [ -s "$OUT/host-cost.txt" ]; then echo; echo '```'; cat "$OUT/host-cost.txt"; echo '```'; fi
  if [ -s "$OUT/clip-bench.txt" ]; then echo; echo '```'; cat "$OUT/clip-bench.txt"; echo '```'; fi
  if [ -s "$OUT/java-devices.txt" ]; then echo; echo '```'; cat "$OUT/java-devices.txt"; echo '```'; fi
  if [ -s "$OUT/archs.txt" ]; then
    echo; echo "## GPU code in libtessera_cuda.so"; echo; echo '```'; cat "$OUT/archs.txt"; echo '```'
  fi
  if command -v python3 >/dev/null; then
    echo; echo "## Tuning variants against the defaults (ci/bench-variants.py)"; echo
    python3 ci/bench-variants.py "$OUT" 2>&1
  fi
  echo
  echo "## Benchmarks"
  echo
  if [ -s "$OUT/bench.md" ]; then cat "$OUT/bench.md"; else echo "not run (see bench.log)"; fi
} >"$OUT/report.md"
log "report: $OUT/report.md, $OUT/report.json (status $status)"
exit $status
