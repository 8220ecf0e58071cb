#!/usr/bin/env bash
# The whole test suite again, built by clang with AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer, into build-san/; the libFuzzer targets are built there too
# (scripts/fuzz.sh runs them). Any sanitizer report fails the test it happens in.
#   scripts/sanitize.sh            build and run every test
#   scripts/sanitize.sh --build    build only
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --sanitizers
# -fno-sanitize=function: clang 14 cannot emit that check in coroutines ("Cannot
# represent a difference across sections"); the other UBSan checks stay on.
flags="-fsanitize=address,undefined -fno-sanitize=function -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
flags+=" -fsanitize=fuzzer-no-link"
cmake -S . -B build-san -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DGANTRY_BUILD_BENCH=OFF -DGANTRY_FUZZ=ON >/dev/null
cmake --build build-san -j "$(nproc)"
[ "${1:-}" = "--build" ] && exit 0
# A 16 MiB quarantine (of 256) keeps the memory-bound tests' figures about the proxy.
export ASAN_OPTIONS="detect_leaks=1:quarantine_size_mb=16"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd build-san
# The soak's memory check runs in the plain build only: ASan's quarantine holds freed
# memory on purpose, so RSS under it says nothing about the proxy's.
ctest --output-on-failure -j "$(nproc)" --timeout 900 -E '^Soak\.'

