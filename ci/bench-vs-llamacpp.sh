#!/usr/bin/env bash
# Tessera and llama.cpp measured back to back on this machine, for BENCHMARKS.md.
#
#   ci/bench-vs-llamacpp.sh OUT_DIR [LLAMA_BUILD]
#
# Runs `tessera bench --ops --json` (kernels, attention, convolution, machine limits),
# `tessera bench-model` on models/stories260K.gguf and, if SYNTH is set to a path, on a
# LLaMA-7B-shaped random Q4_0 model written there (3.5 GiB); then, if LLAMA_BUILD names a
# llama.cpp build folder, its test-backend-ops perf for MUL_MAT 4096x4096 (n = 1 and 512),
# FLASH_ATTN_EXT and CONV_2D, and `ll-bench` (a llama-bench work-alike over llama.h) on
# stories260K. llama.cpp is never part of this repository: build it yourself (test-backend-ops
# needs the 4096x4096 perf cases added, see BENCHMARKS.md). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: ci/bench-vs-llamacpp.sh OUT_DIR [LLAMA_BUILD]}"
llama="${2:-}"
mkdir -p "$out"
uptime > "$out/uptime-start.txt"
bin/tessera bench --ops --json --seconds "${SECONDS_PER_CASE:-0.5}" > "$out/tessera-bench.json"
bin/tessera bench-model -m models/stories260K.gguf -p 128 -n 64 -r 5 --json > "$out/tessera-stories260K.json"
if [ -n "${SYNTH:-}" ]; then
  TESSERA_JAVA_OPTS=-Xmx2g bin/tessera bench-model -m "$SYNTH" --synthetic llama-7b --type q4_0 -p 32 -n 16 -r 2 --json \
    > "$out/tessera-llama7b-q4_0.json"
fi
if [ -n "$llama" ]; then
  tbo="$llama/bin/test-backend-ops"
  "$tbo" perf -b CPU -o MUL_MAT -p 'type_b=f32,m=4096,n=(1|512),k=4096,' > "$out/llamacpp-MUL_MAT.log" 2>&1 || true
  "$tbo" perf -b CPU -o FLASH_ATTN_EXT \
    -p '^hsk=(40|64|80|128),hsv=[0-9]+,nh=8,nr23=\[1,1\],kv=(512|1024|4096),nb=(1|512|1024|4096),mask=1,sinks=0' \
    > "$out/llamacpp-FLASH_ATTN_EXT.log" 2>&1 || true
  "$tbo" perf -b CPU -o CONV_2D > "$out/llamacpp-CONV_2D.log" 2>&1 || true
  if [ -x "$llama/ll-bench" ]; then
    "$llama/ll-bench" -m models/stories260K.gguf -p 128 -n 64 -t 2 -r 5 > "$out/llamacpp-stories260K.txt" 2>&1 || true
  fi
fi
uptime > "$out/uptime-end.txt"
echo "results in $out" >&2
