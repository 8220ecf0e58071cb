#!/usr/bin/env bash
# Idle memory per connection: N keep-alive connections (plain, then TLS) opened to each
# proxy, one request each, then held; the proxy's resident memory before and after.
# Expects the proxies of bench/run.sh to be running (run.sh calls it), or starts the
# backend and Gantry alone when called by hand.
#   usage: bench/idle.sh [connections=10000]    env: IDLE_PROXIES="nginx haproxy gantry" GANTRY=binary
# Appends to idle.csv: proxy,kind,connections,rss_before_kb,rss_after_kb,kb_per_conn
set -uo pipefail
cd "$(dirname "$0")"
N=${1:-${IDLE_CONNS:-10000}}
IDLE_BIN=../build/bench/idle_conns
rss() { local t=0 p; for p in "$@"; do [ -r /proc/$p/status ] && t=$((t+$(awk '/VmRSS/{print $2}' /proc/$p/status))); done; echo $t; }
pids_of() { case $1 in nginx) pgrep -P "$(cat run/nginx-proxy.pid)";; haproxy) cat run/haproxy.pid;; gantry) cat run/gantry.pid;; esac; }

started=()
if [ ! -f run/gantry.pid ]; then
  # By hand: the backend and Gantry, as run.sh starts them.
  [ -f run/gantry/gateway.yaml ] || ./gen-routes.sh "${ROUTES:-10000}"
  mkdir -p run logs
  nginx -p "$PWD/" -c conf/backend.conf && started+=(backend)
  taskset -c 0 "${GANTRY:-../build/cmd/gantry}" serve --manifests run/gantry --workers 1 --admin 127.0.0.1:9904 --access-log off \
    > logs/gantry.log 2>&1 &
  echo $! > run/gantry.pid; started+=(gantry)
  for _ in $(seq 600); do curl -sf http://127.0.0.1:9904/readyz >/dev/null && break; sleep 0.1; done
  IDLE_PROXIES=${IDLE_PROXIES:-gantry}
fi
cleanup() {
  local s pid
  for s in "${started[@]}"; do
    [ -f run/$s.pid ] || continue
    pid=$(cat run/$s.pid); rm -f run/$s.pid
    kill "$pid" 2>/dev/null
    # gone before the next run starts one on the same ports
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}
trap cleanup EXIT
ulimit -n $((N + 1024)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ -f idle.csv ] || echo "proxy,kind,connections,rss_before_kb,rss_after_kb,kb_per_conn" > idle.csv

# proxy:plain-port:tls-port
declare -A PORTS=([nginx]=9001:9443 [haproxy]=9002:9444 [gantry]=9003:9445)
for px in ${IDLE_PROXIES:-nginx haproxy gantry}; do
  IFS=: read -r plain tls <<< "${PORTS[$px]}"
  for kind in plain tls; do
    port=$plain; flag=""
    [ $kind = tls ] && { port=$tls; flag=--tls; }
    P=$(pids_of "$px"); before=$(rss $P)
    fifo=run/idle.fifo; rm -f $fifo; mkfifo $fifo
    taskset -c 1 $IDLE_BIN $flag "$port" "$N" < $fifo > logs/idle-$px-$kind.txt 2>&1 &
    ipid=$!; exec 9> $fifo
    for _ in $(seq 1200); do grep -q ready logs/idle-$px-$kind.txt && break; sleep 0.1; done
    sleep 1; after=$(rss $P); held=$(awk '/ready/{print $2}' logs/idle-$px-$kind.txt)
    exec 9>&-; wait $ipid 2>/dev/null
    echo "$px,$kind,${held:-0},$before,$after,$(echo "if (${held:-0} > 0) ($after-$before)/${held:-1} else 0" | bc -l)" | tee -a idle.csv
    sleep 2
  done
done
