#!/usr/bin/env bash
# mallocs and frees per proxied keep-alive request, counted by uprobes on libc's malloc
# and free while wrk runs (one worker, 50 connections). Unlike requests per core-second,
# the count does not move with the machine's load, so it tells an allocation change
# apart from noise. BASELINE=path counts an older binary too.
#   usage: [BASELINE=../old/build/cmd/gantry] bench/allocs.sh [seconds=4]
set -uo pipefail
cd "$(dirname "$0")"
D=${1:-4}
../scripts/deps.sh
for p in nginx-light wrk linux-perf; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p"; }
done
../scripts/build.sh gantry >/dev/null
ROUTES=10 ./gen-routes.sh 10 >/dev/null
mkdir -p run logs
libc=$(ldd ../build/cmd/gantry | awk '/libc\.so/{print $3}')
for fn in malloc free; do
  perf probe -l 2>/dev/null | grep -q "probe_libc:$fn" || perf probe -q -x "$libc" "$fn" || exit 1
done

stop() { [ -f "run/$1.pid" ] && kill "$(cat "run/$1.pid")" 2>/dev/null; rm -f "run/$1.pid"; sleep 0.3; }
trap 'stop gantry-allocs; stop backend' EXIT
stop backend
nginx -p "$PWD/" -c conf/backend.conf

count() { # binary -> "mallocs frees" per request
  taskset -c 0 "$1" serve --manifests run/gantry --workers 1 --admin 127.0.0.1:9906 --scan-interval 20 \
    --access-log off > logs/gantry-allocs.log 2>&1 &
  echo $! > run/gantry-allocs.pid
  local pid=$!
  for _ in $(seq 300); do curl -sf http://127.0.0.1:9906/readyz >/dev/null && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c50 -d1s http://127.0.0.1:9003/ >/dev/null  # warm: pools filled
  perf stat -x, -e probe_libc:malloc -e probe_libc:free -p "$pid" -o logs/allocs-stat.txt &
  local perf_pid=$!
  sleep 0.3
  taskset -c 1 wrk -t1 -c50 -d"${D}s" http://127.0.0.1:9003/ > logs/allocs-wrk.txt
  sleep 0.3
  kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null
  stop gantry-allocs
  local n; n=$(awk '/requests in/{print $1}' logs/allocs-wrk.txt)
  awk -F, -v n="$n" '/probe_libc:malloc/{m=$1} /probe_libc:free/{f=$1} END{printf "%.1f %.1f\n", m/n, f/n}' \
    logs/allocs-stat.txt
}

printf "%-10s %8s %8s   per proxied keep-alive request\n" "" mallocs frees
read -r m f < <(count ../build/cmd/gantry)
printf "%-10s %8s %8s\n" gantry "$m" "$f"
if [ -n "${BASELINE:-}" ]; then
  read -r m f < <(count "$BASELINE")
  printf "%-10s %8s %8s\n" baseline "$m" "$f"
fi
