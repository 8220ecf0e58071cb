#!/usr/bin/env bash
# Installs what Gantry needs to build and test, from Debian's packages (run as root).
#   scripts/deps.sh [--sanitizers]
set -euo pipefail
packages=(
  cmake ninja-build g++ ccache pkg-config git
  libboost1.81-all-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev openssl libre2-dev libyaml-cpp-dev libcpp-httplib-dev libnghttp2-dev nghttp2-client
  googletest libgtest-dev libbenchmark-dev
  curl procps python3-grpcio
)
# scripts/sanitize.sh and scripts/fuzz.sh: clang, its sanitizer and libFuzzer runtimes,
# and llvm-symbolizer for readable reports.
if [ "${1:-}" = "--sanitizers" ]; then
  packages+=(clang libclang-rt-14-dev llvm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
