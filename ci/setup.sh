#!/usr/bin/env bash
# Installs what a fresh machine of this kind lacks for the build and the tests.
# Runs as root in CI; elsewhere it only reports what is missing.
set -euo pipefail

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v ninja >/dev/null || need+=(ninja-build)
command -v gcc >/dev/null || need+=(gcc)
command -v mvn >/dev/null || need+=(maven)
# ARM64 kernels are cross-compiled and their C tests run under qemu (ci/native-aarch64.sh).
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
[ -f /usr/aarch64-linux-gnu/include/stdio.h ] || need+=(libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)

if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ci/setup.sh: missing packages (install them as root): ${need[*]}" >&2
  exit 1
fi
echo "ci/setup.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
