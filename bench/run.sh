#!/usr/bin/env bash
# Side-by-side benchmark: nginx, HAProxy and Gantry in front of one backend, one worker
# each pinned to core 0, load (wrk) and backend on core 1, interleaved rounds. Writes
# results.csv, idle.csv, churn.csv and ../BENCHMARKS.md.
#   usage: bench/run.sh [rounds=3] [seconds=8]     env: ROUTES=10000 IDLE_CONNS=10000 CONNS=50
set -uo pipefail
cd "$(dirname "$0")"
ROUNDS=${1:-3}; D=${2:-8}; C=${CONNS:-50}; N=${ROUTES:-10000}; IDLE=${IDLE_CONNS:-10000}
export ROUTES=$N

# --- peers and tools -----------------------------------------------------------------
../scripts/deps.sh
peers=(nginx-light haproxy wrk nghttp2-client python3 socat bc linux-perf)
missing=()
for p in "${peers[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; fi
systemctl stop nginx haproxy 2>/dev/null || true
../scripts/build.sh >/dev/null
GANTRY=../build/cmd/gantry; IDLE_BIN=../build/bench/idle_conns

mkdir -p run logs tls
if [ ! -f tls/cert.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout tls/key.pem \
    -out tls/cert.pem -days 30 -subj /CN=localhost 2>/dev/null
  cat tls/cert.pem tls/key.pem > tls/combined.pem
fi
./gen-routes.sh "$N"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

stop_all() {
  [ -f run/nginx-proxy.pid ] && kill "$(cat run/nginx-proxy.pid)" 2>/dev/null
  [ -f run/backend.pid ] && kill "$(cat run/backend.pid)" 2>/dev/null
  [ -f run/haproxy.pid ] && kill "$(cat run/haproxy.pid)" 2>/dev/null
  [ -f run/gantry.pid ] && kill "$(cat run/gantry.pid)" 2>/dev/null
  sleep 0.5
  rm -f run/*.pid
}
stop_all
trap stop_all EXIT

nginx -p "$PWD/" -c conf/backend.conf
nginx -p "$PWD/" -c conf/nginx-proxy.conf
haproxy -D -f conf/haproxy.cfg 2>logs/haproxy.start
taskset -c 0 $GANTRY serve --manifests run/gantry --workers 1 --admin 127.0.0.1:9904 --scan-interval 20 --access-log off \
  > logs/gantry.log 2>&1 &
echo $! > run/gantry.pid
for _ in $(seq 600); do curl -sf http://127.0.0.1:9904/readyz >/dev/null && break; sleep 0.1; done
for port in 8080 9001 9002 9003 9011 9013 9015 9017 9021 9023 9025 9027 9031 9033 9035 9037; do
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/" || echo "warning: nothing answers on $port" >&2
done

ticks() { local t=0 p; for p in "$@"; do [ -r /proc/$p/stat ] && t=$((t+$(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
rss()   { local t=0 p; for p in "$@"; do [ -r /proc/$p/status ] && t=$((t+$(awk '/VmRSS/{print $2}' /proc/$p/status))); done; echo $t; }
pids_of() { case $1 in nginx) pgrep -P "$(cat run/nginx-proxy.pid)";; haproxy) cat run/haproxy.pid;;
            gantry) cat run/gantry.pid;; backend) pgrep -P "$(cat run/backend.pid)";; esac; }
# measure round proxy scenario core url [wrk args...]
measure() {
  local r=$1 px=$2 sc=$3 core=$4 url=$5; shift 5
  local P; P=$(pids_of "$px"); local out=logs/wrk-$r-$px-$sc.txt
  local t0; t0=$(ticks $P); local s0; s0=$(date +%s%N)
  taskset -c "$core" wrk -t1 -c"$C" -d"${D}"s --latency "$@" "$url" > "$out" 2>&1
  local s1; s1=$(date +%s%N); local t1; t1=$(ticks $P)
  local rps; rps=$(awk '/Requests\/sec/{print $2}' "$out"); rps=${rps:-0}
  local cpu; cpu=$(echo "($t1-$t0)*100/$(getconf CLK_TCK)/(($s1-$s0)/1000000000)" | bc -l)
  local eff; eff=$(echo "if ($cpu > 0) $rps*100/$cpu else 0" | bc -l)
  local err; err=$(awk '/Socket errors/{gsub(",","");s=$4+$6+$8+$10} /Non-2xx/{n=$4} END{print s+n+0}' "$out")
  printf "%s,%s,%s,%.0f,%s,%s,%.1f,%.0f,%s,%s\n" "$r" "$px" "$sc" "$rps" "$(awk '$1=="50%"{print $2}' "$out")" \
    "$(awk '$1=="99%"{print $2}' "$out")" "$cpu" "$eff" "$err" "$(rss $P)" | tee -a results.csv
}

echo "round,proxy,scenario,rps,p50,p99,proxy_cpu_pct,req_per_proxy_core_s,errors,proxy_rss_kb" > results.csv
measure 0 backend warmup 0 http://127.0.0.1:8080/ > /dev/null
# name:plain:tls:prefix:hosts:regex:headers
TARGETS="nginx:9001:9443:9011:9013:9015:9017 haproxy:9002:9444:9021:9023:9025:9027 gantry:9003:9445:9031:9033:9035:9037"
for r in $(seq 1 "$ROUNDS"); do
  measure "$r" backend direct 0 http://127.0.0.1:8080/
  for t in $TARGETS; do
    IFS=: read -r px pl tl pf hs rg hd <<< "$t"
    measure "$r" "$px" http-ka 1 "http://127.0.0.1:$pl/"
    measure "$r" "$px" http-new 1 "http://127.0.0.1:$pl/" -H 'Connection: close'
    if [ "$tl" != "-" ]; then
      measure "$r" "$px" tls-ka 1 "https://127.0.0.1:$tl/"
      measure "$r" "$px" tls-new 1 "https://127.0.0.1:$tl/" -H 'Connection: close'
    fi
    measure "$r" "$px" r10k-prefix 1 "http://127.0.0.1:$pf/" -s lua/randpath.lua
    measure "$r" "$px" r10k-hosts 1 "http://127.0.0.1:$hs/" -s lua/randhost.lua
    measure "$r" "$px" r10k-regex 1 "http://127.0.0.1:$rg/" -s lua/randregex.lua
    measure "$r" "$px" r10k-headers 1 "http://127.0.0.1:$hd/" -s lua/randheader.lua
  done
done

# --- where the cycles go (perf, keep-alive load) ---------------------------------------
rm -f profile.csv
./profile.sh "$D" nginx 9001 "$(pids_of nginx | paste -sd,)" haproxy 9002 "$(pids_of haproxy)" \
  gantry 9003 "$(pids_of gantry)"

# --- idle memory per connection (plain and TLS) ----------------------------------------
rm -f idle.csv
./idle.sh "$IDLE"

# --- route change under load ---------------------------------------------------------
echo "mode,iteration,first200_ms" > churn.csv
echo "mode,rps,errors" > churn-load.csv
churn() { # mode port iterations
  local mode=$1 port=$2 iters=$3
  taskset -c 1 wrk -t1 -c"$C" -d$((iters * 2 + 3))s -s lua/randpath.lua "http://127.0.0.1:$port/" > logs/churn-$mode.txt 2>&1 &
  local w=$!
  sleep 1.5
  for i in $(seq 1 "$iters"); do
    local r="/new$i-$RANDOM/"; local t0; t0=$(date +%s%N)
    case $mode in
      nginx-reload) sed -i "\$s#^}\$#  location $r { proxy_pass http://be; }\n}#" conf/routes-prefix.inc
                    nginx -p "$PWD/" -c conf/nginx-proxy.conf -s reload 2>/dev/null ;;
      haproxy-api)  echo "add map conf/paths.map $r be" | socat - UNIX-CONNECT:run/haproxy.sock > /dev/null ;;
      gantry)       printf 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: churn-%s, namespace: default}\nspec:\n  parentRefs: [{name: bench, sectionName: prefix}]\n  rules: [{matches: [{path: {type: PathPrefix, value: "%s"}}], backendRefs: [{name: be, port: 8080}]}]\n' "$i" "$r" > run/gantry/.churn.tmp
                    mv run/gantry/.churn.tmp "run/gantry/churn-$i.yaml" ;;
    esac
    local tries=0
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port${r}x")" = 200 ] || [ $tries -ge 5000 ]; do
      sleep 0.002; tries=$((tries + 1)); done
    local t2; t2=$(date +%s%N)
    echo "$mode,$i,$(( (t2 - t0) / 1000000 ))" | tee -a churn.csv
    sleep 1
  done
  wait $w
  echo "$mode,$(awk '/Requests\/sec/{print $2}' logs/churn-$mode.txt),$(awk '/Socket errors/{gsub(",","");s=$4+$6+$8+$10} /Non-2xx/{n=$4} END{print s+n+0}' logs/churn-$mode.txt)" | tee -a churn-load.csv
}
churn nginx-reload 9011 5
churn haproxy-api 9021 5
churn gantry 9031 5
rm -f run/gantry/churn-*.yaml

# --- live reconfiguration (Gantry alone: the gantry above would translate every change too)
[ -f run/gantry.pid ] && kill "$(cat run/gantry.pid)" 2>/dev/null && rm -f run/gantry.pid
./reload.sh

# --- router micro-benchmark ----------------------------------------------------------
../build/bench/route_match_bench --benchmark_min_time=0.1 --benchmark_format=csv > route_match.csv 2>/dev/null
taskset -c 0 ../build/bench/translate_bench --benchmark_min_time=0.5 --benchmark_format=csv > translate.csv 2>/dev/null

python3 report.py "$ROUNDS" "$D" "$C" "$N" "$IDLE"
echo "wrote ../BENCHMARKS.md"
