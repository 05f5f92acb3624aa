#!/usr/bin/env bash
# The quantized-matmul comparison of BENCHMARKS.md: `tessera bench --json` and llama.cpp's
# test-backend-ops MUL_MAT perf (4096x4096, n = 1 and 512, the five weight types) alternated
# ROUNDS times, so both see the same moments of a noisy machine; then the median and best of
# each side and their ratios as a markdown table (ci/matmul-rounds-summary.py).
#
#   ci/bench-matmul-rounds.sh ROUNDS OUT_DIR LLAMA_BUILD
#
# LLAMA_BUILD is a llama.cpp build folder whose test-backend-ops has the 4096x4096 perf cases
# (BENCHMARKS.md, "How these were made"). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:?usage: ci/bench-matmul-rounds.sh ROUNDS OUT_DIR LLAMA_BUILD}"
out="${2:?usage: ci/bench-matmul-rounds.sh ROUNDS OUT_DIR LLAMA_BUILD}"
tbo="${3:?usage: ci/bench-matmul-rounds.sh ROUNDS OUT_DIR LLAMA_BUILD}/bin/test-backend-ops"
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
  { date -u +%H:%M:%S; cat /proc/loadavg; } > "$out/time$r.txt"
  bin/tessera bench --json > "$out/t$r.json" 2>/dev/null
  "$tbo" perf -b CPU -o MUL_MAT -p 'type_a=(f16|q4_0|q8_0|q4_K|q6_K),type_b=f32,m=4096,n=(1|512),k=4096,' > "$out/l$r.txt" 2>&1
done
python3 ci/matmul-rounds-summary.py "$out"
