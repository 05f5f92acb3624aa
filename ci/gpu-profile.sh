#!/usr/bin/env bash
# After ci/gpu-check.sh, on the same GPU machine: what the CUDA toolkit's own tools say of the
# kernels, where those tools are installed (nothing is downloaded; a missing tool is reported
# and skipped).
#
#   bash ci/gpu-profile.sh LIBDIR OUT_DIR [SECONDS]
#
# LIBDIR holds libtessera_cuda.so, the test_cuda_* programs and tsc_bench (build-gpu/native/cuda,
# or .gpu/native/cuda from ci/gpu-bundle.sh); SECONDS (default 150) bounds the whole run: a step
# that would start later is skipped and says so. Writes into OUT_DIR:
#   sanitizer.log  compute-sanitizer memcheck of the fast test programs (out-of-bounds and
#                  misaligned accesses, leaks of device memory), then racecheck of the attention
#                  test (shared-memory hazards), then memcheck of the tensor-core matmul test,
#                  the fused GLU's and the computed weights' (test_cuda_glu, _weights),
#                  each stopped after 60 s, cases above 2e8 multiply-adds skipped (TSC_TEST_WORK)
#   ncu.txt        Nsight Compute on the quantized decode matvecs (tsc_bench --matvec: Q4_0, Q8_0,
#                  Q4_K, Q6_K 14336x4096; default and TSC_MATVEC_BLOCKS=4): memory and issue
#                  throughput, stall reasons, occupancy; why they stream below the copy bandwidth
#   ncu-decode.txt with TESSERA_GPU_BUNDLE (or LIBDIR inside a bundle): GPU time per kernel of
#                  7B decode steps (below; needs 40 s of SECONDS left after the steps above);
#   ncu-decode-summary.txt  the same per kernel and launch shape, with the GPU time per layer
#                  (ci/ncu-summary.py; where python3 is)
#   ncu-mma.txt    Nsight Compute on the batched GEMMs (tsc_bench --mma: Q4_0, Q4_K, Q6_K, F16,
#                  BF16, F32, and Q4_0 and F16 with 16 warps per CTA, at 4096x4096x512) with the
#                  same sections as ncu.txt, if 30 s are left
# Exit status 1 when a sanitizer reports an error, else 0.
set -uo pipefail
LIBDIR=$(cd "${1:?usage: ci/gpu-profile.sh LIBDIR OUT_DIR [SECONDS]}" && pwd)
OUT=${2:?usage: ci/gpu-profile.sh LIBDIR OUT_DIR [SECONDS]}
BUDGET=${3:-150}
mkdir -p "$OUT"
T0=$(date +%s)
export LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
log() { echo "[gpu-profile $(( $(date +%s) - T0 ))s] $*"; }
tool() { command -v "$1" 2>/dev/null || ls /usr/local/cuda/bin/"$1" /usr/local/cuda-*/bin/"$1" /opt/nvidia/*/"$1" 2>/dev/null | head -1; }
left() { echo $(( BUDGET - ($(date +%s) - T0) )); }
status=0

CS=$(tool compute-sanitizer)
: >"$OUT/sanitizer.log"
if [ -z "$CS" ]; then
  log "compute-sanitizer not found: skipped" | tee -a "$OUT/sanitizer.log"
else
  # cases above 2e8 multiply-adds skipped (tsc_test.h): the tools slow kernels down a hundredfold
  export TSC_TEST_WORK=${TSC_TEST_WORK:-2e8}
  for check in "memcheck test_cuda_graph" "memcheck test_cuda_core" "memcheck test_cuda_ops" "memcheck test_cuda_conv" \
               "memcheck test_cuda_attention" "racecheck test_cuda_attention" "memcheck test_cuda_mma" "memcheck test_cuda_glu" \
               "memcheck test_cuda_weights"; do
    set -- $check
    t=$(( $(left) < 60 ? $(left) : 60 ))
    if [ "$t" -lt 15 ]; then log "$1 $2: skipped (time budget spent)" | tee -a "$OUT/sanitizer.log"; continue; fi
    log "$1 $2"
    echo "=== $1 $2" >>"$OUT/sanitizer.log"
    extra=()
    # the tests provoke API errors on purpose (refusals) and check the codes themselves
    [ "$1" = memcheck ] && extra=(--leak-check full --report-api-errors no)
    timeout "$t" "$CS" --tool "$1" "${extra[@]}" --error-exitcode 9 "$LIBDIR/$2" >"$OUT/sanitizer.tmp" 2>&1
    rc=$?
    # the tool's own lines and the test's summary, not its thousands of check lines
    grep -E '^=========|checks, [0-9]+ failures' "$OUT/sanitizer.tmp" | head -60 >>"$OUT/sanitizer.log"
    case $rc in
      0) r="no errors" ;;
      124) r="stopped after ${t}s (no error reported until then)" ;;
      9) r="ERRORS"; status=1 ;;
      *) r="exit $rc" ;;
    esac
    grep -qE '^========= (Invalid|Race|Error|Leaked)' "$OUT/sanitizer.tmp" && { r="ERRORS ($r)"; status=1; }
    echo "=== $1 $2: $r" >>"$OUT/sanitizer.log"
    log "$1 $2: $r"
  done
  rm -f "$OUT/sanitizer.tmp"
  unset TSC_TEST_WORK
fi

NCU=$(tool ncu)
# The Nsight Compute sections of the two kernel profiles (matvecs, batched GEMMs); clocks left as
# they run (--clock-control none), so the figures are those of the timed runs.
NCU_SECTIONS=(--clock-control none --section SpeedOfLight --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis
  --section SchedulerStats --section WarpStateStats --section Occupancy --section LaunchStats)
if [ -z "$NCU" ]; then
  log "ncu not found: skipped" | tee "$OUT/ncu.txt"
elif [ "$(left)" -lt 20 ]; then
  log "ncu: skipped (time budget spent)" | tee "$OUT/ncu.txt"
else
  log "ncu on the decode matvecs"
  mkdir -p "$OUT/ncu-bench"
  timeout "$(left)" "$NCU" "${NCU_SECTIONS[@]}" -k regex:k_matvec "$LIBDIR/tsc_bench" "$OUT/ncu-bench" --matvec >"$OUT/ncu.txt" 2>&1
  log "ncu exit $?"
fi
# The GPU time of each kernel of a LLaMA-7B-shaped Q4_0 decode step (ncu-decode.txt): where a
# step's time goes on the device, kernel by kernel, against the whole step's time that
# bench-model measures. Needs the Java bundle (TESSERA_GPU_BUNDLE, ci/gpu-bundle.sh); the model
# is written first (3.6 GiB of random weights) unless /tmp/tessera-llama7b-q4_0.gguf exists.
# ncu runs the kernels one at a time: the figures are kernel durations without launch gaps.
BUNDLE=${TESSERA_GPU_BUNDLE:-}
# LIBDIR inside a bundle (.gpu/native/cuda): that bundle, unless one was named
[ -z "$BUNDLE" ] && [ -f "$LIBDIR/../../jrt.txz" ] && BUNDLE=$(cd "$LIBDIR/../.." && pwd)
if [ -n "$NCU" ] && [ -n "$BUNDLE" ] && [ -f "$BUNDLE/jrt.txz" ] && [ "$(left)" -ge 40 ]; then
  [ -x /tmp/tessera-jrt/jrt/bin/java ] || { mkdir -p /tmp/tessera-jrt && tar xJf "$BUNDLE/jrt.txz" -C /tmp/tessera-jrt; }
  CP=$(ls "$(cd "$BUNDLE/lib" && pwd)"/*.jar | paste -sd:)
  TESSERA=(/tmp/tessera-jrt/jrt/bin/java --enable-native-access=ALL-UNNAMED -cp "$CP" dev.tessera.cli.TesseraCli)
  export TESSERA_CUDA_LIBRARY="$LIBDIR/libtessera_cuda.so"
  M=/tmp/tessera-llama7b-q4_0.gguf
  log "ncu on the kernels of 7B decode steps"
  [ -f "$M" ] || timeout "$(left)" "${TESSERA[@]}" bench-model --synthetic llama-7b -m "$M" -p 1 -n 1 -r 1 >/dev/null 2>&1
  # the first 1500 kernels: the bandwidth probe's copies, then two decode-shaped steps (the
  # warm-up run's 1 prompt token and first generated one)
  timeout "$(left)" "$NCU" --clock-control none --metrics gpu__time_duration.sum --print-summary per-kernel --launch-count 1500 \
    "${TESSERA[@]}" bench-model -m "$M" -p 1 -n 2 -r 1 --device cuda >"$OUT/ncu-decode.txt" 2>&1
  log "ncu exit $?"
  if command -v python3 >/dev/null; then
    python3 "$(dirname "$0")/ncu-summary.py" "$OUT/ncu-decode.txt" >"$OUT/ncu-decode-summary.txt" 2>&1
    tail -2 "$OUT/ncu-decode-summary.txt"
  fi
fi
# The batched GEMMs, last (the decode profile above is worth more): tensor pipe and FP32 pipe
# utilization, shared-memory and L2 traffic, stalls, occupancy of the quantize/unpack passes and
# of the GEMM kernels.
if [ -n "$NCU" ] && [ "$(left)" -ge 30 ]; then
  log "ncu on the batched GEMMs"
  mkdir -p "$OUT/ncu-bench"
  timeout "$(left)" "$NCU" "${NCU_SECTIONS[@]}" -k regex:k_mma_ "$LIBDIR/tsc_bench" "$OUT/ncu-bench" --mma >"$OUT/ncu-mma.txt" 2>&1
  log "ncu exit $?"
fi
log "done (status $status)"
exit $status
