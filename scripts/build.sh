#!/usr/bin/env bash
# Configures and builds Gantry into build/ (Ninja, ccache when present).
#   scripts/build.sh [target...]     no target: everything, tests included
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
if [ $# -gt 0 ]; then
  for t in "$@"; do cmake --build build -j "$(nproc)" --target "$t"; done
else
  cmake --build build -j "$(nproc)"
fi
