#!/usr/bin/env bash
# Live reconfiguration figures: with N = 100, 1000 and 5000 routes of each kind loaded,
# 100 new routes, 100 route moves and 100 EndpointSlice moves on Gantry, each timed from the
# file's rename into place to the first answer that shows it (bench/reload_latency.cc);
# then the same 100 new host routes on nginx (`nginx -s reload`) and HAProxy (runtime API
# `add map`) with the same N routes. RSS before and after. Writes reload.csv; bench/run.sh
# puts it into BENCHMARKS.md.
#   usage: bench/reload.sh [sizes="100 1000 5000"]
set -uo pipefail
cd "$(dirname "$0")"
SIZES=${1:-"100 1000 5000"}
../scripts/deps.sh
missing=()
for p in nginx-light haproxy; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; fi
../scripts/build.sh gantry reload_latency >/dev/null
mkdir -p run logs
[ -f run/backend.pid ] || nginx -p "$PWD/" -c conf/backend.conf
stop_peers() {
  for f in run/nginx-proxy.pid run/haproxy.pid; do [ -f $f ] && kill "$(cat $f)" 2>/dev/null; rm -f $f; done
  sleep 0.5
}
trap '[ -f run/reload-gantry.pid ] && kill "$(cat run/reload-gantry.pid)" 2>/dev/null; rm -f run/reload-gantry.pid; stop_peers' EXIT
rss() { local t=0 p; for p in "$@"; do [ -r /proc/$p/status ] && t=$((t+$(awk '/VmRSS/{print $2}' /proc/$p/status))); done; echo $t; }
stop_peers  # bench/run.sh's, built for its own route count
echo "routes,mode,changes,p50,p99,max,failures,rss_start_kb,rss_end_kb" > reload.csv
for n in $SIZES; do
  # A directory of its own: no other gantry watching it.
  ./gen-routes.sh "$n"
  rm -rf run/reload && mkdir -p run/reload && cp run/gantry/*.yaml run/reload/
  {
    for s in be-a:8081 be-b:8082; do
      printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\nspec: {ports: [{name: http, port: 8080}]}\n' "${s%%:*}"
      printf -- '---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: %s-1, namespace: default, labels: {kubernetes.io/service-name: %s}}\naddressType: IPv4\nendpoints: [{addresses: [127.0.0.1]}]\nports: [{name: http, port: %s}]\n' "${s%%:*}" "${s%%:*}" "${s##*:}"
    done
  } > run/reload/reload-services.yaml
  taskset -c 0 ../build/cmd/gantry serve --manifests run/reload --workers 1 --admin 127.0.0.1:9906 --access-log off > logs/reload-gantry-$n.log 2>&1 &
  echo $! > run/reload-gantry.pid
  for _ in $(seq 300); do curl -sf http://127.0.0.1:9906/readyz >/dev/null && break; sleep 0.1; done
  pid=$(cat run/reload-gantry.pid); start=$(rss "$pid")
  lines=()
  for mode in add move endpoints; do
    lines+=("$(taskset -c 1 ../build/bench/reload_latency --dir run/reload --mode $mode --changes 100 --backend-ports 8081,8082)")
  done
  sleep 2  # malloc's free lists go back to the system after 1 s without changes
  end=$(rss "$pid")
  for l in "${lines[@]}"; do echo "$n,$l,$start,$end" | tee -a reload.csv; done
  kill "$pid"; wait "$pid" 2>/dev/null; rm -f run/reload-gantry.pid

  # The peers on the same N routes (gen-routes.sh wrote their files too), one at a time.
  nginx -p "$PWD/" -c conf/nginx-proxy.conf
  haproxy -D -f conf/haproxy.cfg 2>logs/reload-haproxy.start
  for _ in $(seq 300); do curl -s -o /dev/null http://127.0.0.1:9013/ && curl -s -o /dev/null http://127.0.0.1:9023/ && break; sleep 0.1; done
  for peer in nginx haproxy; do
    pids() { if [ $peer = nginx ]; then m=$(cat run/nginx-proxy.pid); echo "$m $(pgrep -P "$m")"; else cat run/haproxy.pid; fi; }
    start=$(rss $(pids))
    line=$(taskset -c 1 ../build/bench/reload_latency --peer-dir "$PWD" --mode add-$peer --changes 100)
    sleep 1; end=$(rss $(pids))
    echo "$n,$line,$start,$end" | tee -a reload.csv
  done
  stop_peers
done
