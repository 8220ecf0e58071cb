#!/usr/bin/env bash
# Runs each libFuzzer target (tests/fuzz/) for a bounded time from its checked-in seed
# corpus, under ASan and UBSan; any crash, leak, hang or sanitizer report fails. New
# inputs found go to build-san/fuzz-corpus/, never into the checked-in seeds.
#   scripts/fuzz.sh [SECONDS]      default 60 per target
# The seed is fixed (FUZZ_SEED, default 1), so CI's run repeats the one made before a
# change lands instead of finding something new at random; FUZZ_SEED=0 lets libFuzzer pick.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
seed="${FUZZ_SEED:-1}"
[ -x build-san/tests/fuzz/fuzz_request ] || scripts/sanitize.sh --build
export ASAN_OPTIONS="detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for target in request manifest route_match client_hello; do
  work="build-san/fuzz-corpus/$target"
  mkdir -p "$work" build-san/fuzz-artifacts
  log="build-san/fuzz-$target.log"
  echo "fuzz_$target: ${seconds}s"
  if ! build-san/tests/fuzz/fuzz_$target -max_total_time="$seconds" -seed="$seed" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix=build-san/fuzz-artifacts/ "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    echo "fuzz_$target FAILED:"
    tail -60 "$log"
    status=1
    continue
  fi
  # The last status line: executions, coverage (cov: edges, ft: features), corpus size.
  grep -E "^#[0-9]+.*(DONE|pulse|NEW|REDUCE)" "$log" | tail -1
  grep -E "stat::(number_of_executed_units|average_exec_per_sec)" "$log"
done
exit $status
