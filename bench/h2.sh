#!/usr/bin/env bash
# HTTP/2 and gRPC side by side (issue: HTTP/2, gRPC and TLS passthrough, "Measured"):
# h2load over TLS (ALPN h2) against nginx (http2 on), HAProxy and Gantry in front of the
# same HTTP/1.1 backend, and gRPC unary calls (h2load POSTs of one length-prefixed
# message, content-type application/grpc) through nginx (grpc_pass), HAProxy and Gantry
# (GRPCRoute) to the same h2c backend (gantry-echo's gRPC echo). One worker each pinned
# to core 0, load and backends on core 1, interleaved rounds. Prints requests per proxy
# core-second and p99 (from h2load's per-request log), as ratios to the better peer, and
# writes the "HTTP/2 and gRPC" section of ../BENCHMARKS.md.
#   usage: bench/h2.sh [rounds=3] [seconds=8]     env: H2_CLIENTS=20 H2_STREAMS=10
set -uo pipefail
cd "$(dirname "$0")"
ROUNDS=${1:-3}; D=${2:-8}; C=${H2_CLIENTS:-20}; M=${H2_STREAMS:-10}

../scripts/deps.sh
peers=(nginx-light haproxy nghttp2-client python3 bc)
missing=()
for p in "${peers[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; fi
systemctl stop nginx haproxy 2>/dev/null || true
../scripts/build.sh >/dev/null
GANTRY=../build/cmd/gantry; ECHO=../build/tools/echo/gantry-echo

mkdir -p run/h2 logs tls
if [ ! -f tls/cert.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout tls/key.pem \
    -out tls/cert.pem -days 30 -subj /CN=localhost 2>/dev/null
  cat tls/cert.pem tls/key.pem > tls/combined.pem
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# Gantry: an HTTPS listener to the HTTP/1.1 backend, a plain one with a GRPCRoute to the h2c echo.
cat > run/h2/all.yaml <<YAML
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gantry}
spec: {controllerName: gantry.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bench, namespace: default}
spec:
  gatewayClassName: gantry
  addresses: [{type: IPAddress, value: 127.0.0.1}]
  listeners:
  - {name: tls, port: 9545, protocol: HTTPS, tls: {certificateRefs: [{name: bench-cert}]}}
  - {name: grpc, port: 9551, protocol: HTTP}
---
apiVersion: v1
kind: Secret
metadata: {name: bench-cert, namespace: default}
type: kubernetes.io/tls
stringData:
  tls.crt: |
$(sed 's/^/    /' tls/cert.pem)
  tls.key: |
$(sed 's/^/    /' tls/key.pem)
---
apiVersion: v1
kind: Service
metadata: {name: be, namespace: default}
spec: {ports: [{name: http, port: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: be-1, namespace: default, labels: {kubernetes.io/service-name: be}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1]}]
ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: grpc, namespace: default}
spec: {ports: [{name: grpc, port: 8090}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: grpc-1, namespace: default, labels: {kubernetes.io/service-name: grpc}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1]}]
ports: [{name: grpc, port: 8090}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: plain, namespace: default}
spec:
  parentRefs: [{name: bench, sectionName: tls}]
  rules: [{backendRefs: [{name: be, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: bench, sectionName: grpc}]
  rules: [{matches: [{method: {service: bench.Echo}}], backendRefs: [{name: grpc, port: 8090}]}]
YAML
# One gRPC message: uncompressed, 5 bytes of payload.
printf '\x00\x00\x00\x00\x05hello' > run/h2/grpc-message

stop_all() {
  for f in run/nginx-h2.pid run/haproxy-h2.pid run/backend.pid run/h2/gantry.pid run/h2/echo.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
  done
  sleep 0.5
  rm -f run/nginx-h2.pid run/haproxy-h2.pid run/backend.pid run/h2/*.pid
}
stop_all
trap stop_all EXIT

nginx -p "$PWD/" -c conf/backend.conf
taskset -c 1 $ECHO --port 8091 --h2c-port 8090 --pod bench > logs/h2-echo.log 2>&1 &
echo $! > run/h2/echo.pid
nginx -p "$PWD/" -c conf/h2/nginx.conf
haproxy -D -f conf/h2/haproxy.cfg 2>logs/haproxy-h2.start
taskset -c 0 $GANTRY serve --manifests run/h2 --workers 1 --admin 127.0.0.1:9905 --access-log off \
  > logs/gantry-h2.log 2>&1 &
echo $! > run/h2/gantry.pid
for _ in $(seq 600); do curl -sf http://127.0.0.1:9905/readyz >/dev/null && break; sleep 0.1; done

ticks() { local t=0 p; for p in "$@"; do [ -r /proc/$p/stat ] && t=$((t+$(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
pids_of() { case $1 in nginx) pgrep -P "$(cat run/nginx-h2.pid)";; haproxy) cat run/haproxy-h2.pid;;
            gantry) cat run/h2/gantry.pid;; esac; }
HZ=$(getconf CLK_TCK)
declare -A port_h2=([nginx]=9543 [haproxy]=9544 [gantry]=9545) port_grpc=([nginx]=9550 [haproxy]=9552 [gantry]=9551)

# Checks first: each proxy answers both scenarios (a gRPC status 0 in the trailers).
for px in nginx haproxy gantry; do
  out=$(nghttp -n -s "https://127.0.0.1:${port_h2[$px]}/" 2>&1 | tail -1)
  g=$(nghttp -v -H 'content-type: application/grpc' -H 'te: trailers' -d run/h2/grpc-message \
      "http://127.0.0.1:${port_grpc[$px]}/bench.Echo/Say" 2>&1 | grep -c 'grpc-status: 0')
  echo "check $px: h2 ${out:-no answer}; grpc-status 0 seen: $g"
done

# measure round proxy scenario
echo "round,proxy,scenario,requests,ok,cpu_s,per_core_s,p99_ms" > run/h2/results.csv
measure() {
  local r=$1 px=$2 sc=$3 P; P=$(pids_of "$px")
  local log=logs/h2load-$r-$px-$sc.log tsv=run/h2/times-$r-$px-$sc.tsv
  local t0; t0=$(ticks $P)
  if [ "$sc" = h2 ]; then
    taskset -c 1 h2load -c "$C" -m "$M" -D "$D" --log-file="$tsv" \
      "https://127.0.0.1:${port_h2[$px]}/" > "$log" 2>&1
  else
    taskset -c 1 h2load -c "$C" -m "$M" -D "$D" --log-file="$tsv" -d run/h2/grpc-message \
      -H 'content-type: application/grpc' -H 'te: trailers' "http://127.0.0.1:${port_grpc[$px]}/bench.Echo/Say" > "$log" 2>&1
  fi
  local t1; t1=$(ticks $P)
  local done_n ok; done_n=$(awk '/^requests:/{print $8}' "$log"); ok=$(awk '/^status codes:/{print $3}' "$log")
  local cpu; cpu=$(echo "scale=3; ($t1-$t0)/$HZ" | bc)
  # h2load's log: start (us), status, duration (us) per request; the p99 of the durations.
  local p99; p99=$(awk '{print $3}' "$tsv" | sort -n | awk '{a[NR]=$1} END {if (NR) printf "%.2f", a[int(NR*0.99)]/1000; else print "nan"}')
  local per; per=$(echo "scale=0; ${ok:-0}/($cpu+0.001)" | bc)
  echo "$r,$px,$sc,${done_n:-0},${ok:-0},$cpu,$per,$p99" >> run/h2/results.csv
  echo "round $r $px $sc: ${ok:-0} ok, proxy cpu ${cpu}s, ${per}/core-s, p99 ${p99} ms"
}
for r in $(seq "$ROUNDS"); do
  for sc in h2 grpc; do
    for px in nginx haproxy gantry; do measure "$r" "$px" "$sc"; done
  done
done

python3 - "$ROUNDS" "$D" "$C" "$M" "$(git rev-parse --short HEAD)" <<'PY'
import csv, statistics, sys, re
rounds, secs, conns, streams, rev = sys.argv[1:6]
rows = list(csv.DictReader(open("run/h2/results.csv")))
def med(px, sc, key):
    vals = [float(r[key]) for r in rows if r["proxy"] == px and r["scenario"] == sc and r[key] not in ("nan", "")]
    return statistics.median(vals) if vals else float("nan")
out = [f"## HTTP/2 and gRPC (bench/h2.sh)\n",
       f"`bench/h2.sh {rounds} {secs}` on {rev}: h2load, {conns} connections x {streams} streams, {rounds} interleaved rounds "
       f"of {secs} s; one proxy worker on core 0, h2load and the backends on core 1. **h2**: GET over TLS (ALPN h2) to the "
       f"HTTP/1.1 backend. **gRPC**: unary calls over h2c (nginx `grpc_pass`, HAProxy `proto h2`, Gantry GRPCRoute) to "
       f"gantry-echo's gRPC echo. Medians; ratios are Gantry's over the better peer (per core-second: higher is better; "
       f"p99: lower is better). The machine is shared and drifts between rounds: the per-round column is the median "
       f"(and range) of each round's own ratio, the three proxies of a round having run back to back.\n",
       "| scenario | nginx /core-s | HAProxy /core-s | Gantry /core-s | ratio | per-round ratio | nginx p99 ms | HAProxy p99 ms | Gantry p99 ms | p99 ratio |",
       "|---|---|---|---|---|---|---|---|---|---|"]
def round_ratios(sc):
    by = {}
    for r in rows:
        if r["scenario"] == sc and r["per_core_s"] not in ("nan", ""):
            by.setdefault(r["round"], {})[r["proxy"]] = float(r["per_core_s"])
    ratios = [v["gantry"] / max(v.get("nginx", 0), v.get("haproxy", 0))
              for v in by.values() if "gantry" in v and max(v.get("nginx", 0), v.get("haproxy", 0)) > 0]
    if not ratios:
        return "n/a"
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
for sc in ("h2", "grpc"):
    n, h, g = (med(p, sc, "per_core_s") for p in ("nginx", "haproxy", "gantry"))
    pn, ph, pg = (med(p, sc, "p99_ms") for p in ("nginx", "haproxy", "gantry"))
    best = max(v for v in (n, h) if v == v) if (n == n or h == h) else float("nan")
    bestp = min(v for v in (pn, ph) if v == v) if (pn == pn or ph == ph) else float("nan")
    out.append(f"| {sc} | {n:.0f} | {h:.0f} | {g:.0f} | {g/best:.2f}x | {round_ratios(sc)} | {pn:.2f} | {ph:.2f} | {pg:.2f} | {pg/bestp:.2f}x |")
section = "\n".join(out) + "\n"
print(section)
try:
    text = open("../BENCHMARKS.md").read()
except FileNotFoundError:
    text = "# Benchmarks\n"
text = re.sub(r"## HTTP/2 and gRPC \(bench/h2.sh\)\n.*?(?=\n## |\Z)", "", text, flags=re.S).rstrip("\n") + "\n\n"
open("../BENCHMARKS.md", "w").write(text + section)
PY
