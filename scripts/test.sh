#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test (unit, golden, integration).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600
