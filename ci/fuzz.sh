#!/usr/bin/env bash
# Full fuzz run of the GGUF and safetensors readers: N corrupted variants of real files
# (default 10,000; CI runs a seeded share through the normal test run). Extra args go to Maven.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh
iterations="${1:-10000}"
shift || true
mvn -B -ntp -pl java-api -am verify -Dtest='*Fuzz*' -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtessera.fuzz.iterations="$iterations" "$@"
