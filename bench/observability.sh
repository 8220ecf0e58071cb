#!/usr/bin/env bash
# The cost of metrics and the access log on the keep-alive benchmark: Gantry with the
# access log off and on (to a file), next to a baseline binary (BASELINE=path, e.g. a
# build of the commit before a metrics change) and nginx, interleaved rounds, one proxy
# worker pinned to core 0, wrk and the backend on core 1. Prints requests per proxy
# core-second per variant (median of the rounds) and the ratios.
#   usage: BASELINE=../old/build/cmd/gantry bench/observability.sh [rounds=5] [seconds=8]
set -uo pipefail
cd "$(dirname "$0")"
ROUNDS=${1:-5}; D=${2:-8}; C=${CONNS:-50}
../scripts/deps.sh
for p in nginx-light wrk bc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p"; }
done
systemctl stop nginx 2>/dev/null || true
../scripts/build.sh gantry >/dev/null
GANTRY=../build/cmd/gantry
mkdir -p tls
if [ ! -f tls/cert.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout tls/key.pem \
    -out tls/cert.pem -days 30 -subj /CN=localhost 2>/dev/null
  cat tls/cert.pem tls/key.pem > tls/combined.pem
fi
ROUTES=${ROUTES:-10} ./gen-routes.sh "${ROUTES:-10}" >/dev/null
mkdir -p run logs
ulimit -n 65536 2>/dev/null || true

stop() { [ -f "run/$1.pid" ] && kill "$(cat "run/$1.pid")" 2>/dev/null; rm -f "run/$1.pid"; sleep 0.3; }
trap 'stop gantry-obs; stop nginx-proxy; stop backend' EXIT
stop backend; stop nginx-proxy
nginx -p "$PWD/" -c conf/backend.conf
nginx -p "$PWD/" -c conf/nginx-proxy.conf

ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }
start_gantry() { # binary access-log
  taskset -c 0 "$1" serve --manifests run/gantry --workers 1 --admin 127.0.0.1:9905 --scan-interval 20 \
    --access-log "$2" > logs/gantry-obs.log 2>&1 &
  echo $! > run/gantry-obs.pid
  for _ in $(seq 300); do curl -sf http://127.0.0.1:9905/readyz >/dev/null && return; sleep 0.1; done
  echo "gantry did not become ready" >&2
}
# Prints requests per proxy core-second of the pids given after the URL.
measure() { # url pids...
  local url=$1; shift
  local t0 s0 t1 s1 out=logs/obs-wrk.txt
  t0=$(ticks "$@"); s0=$(date +%s%N)
  taskset -c 1 wrk -t1 -c"$C" -d"${D}s" "$url" > $out 2>&1
  s1=$(date +%s%N); t1=$(ticks "$@")
  local rps; rps=$(awk '/Requests\/sec/{print $2}' $out)
  echo "${rps:-0} * ($s1 - $s0) / 1000000000 / (($t1 - $t0) / $(getconf CLK_TCK))" | bc -l
}

echo "round,variant,req_per_proxy_core_s" > observability.csv
variants="gantry-log-off gantry-log-file nginx"
[ -n "${BASELINE:-}" ] && variants="baseline-log-off $variants"
for r in $(seq 1 "$ROUNDS"); do
  for v in $variants; do
    case $v in
      nginx) e=$(measure http://127.0.0.1:9001/ $(pgrep -P "$(cat run/nginx-proxy.pid)")) ;;
      *)
        bin=$GANTRY; [ "${v%%-*}" = baseline ] && bin=$BASELINE
        log=off; [ "$v" = gantry-log-file ] && { log=logs/obs-access.log; rm -f "$log"; }
        start_gantry "$bin" "$log"
        e=$(measure http://127.0.0.1:9003/ "$(cat run/gantry-obs.pid)")
        stop gantry-obs ;;
    esac
    printf "%s,%s,%.0f\n" "$r" "$v" "$e" | tee -a observability.csv
  done
done

median() { sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
col() { awk -F, -v v="$1" '$2==v{print $3}' observability.csv | median; }
# The ratio of two variants within each round (they ran minutes apart at most), then the
# median over rounds: the machine's drift between rounds cancels out.
ratio() { awk -F, -v a="$1" -v b="$2" '$2==a{x[$1]=$3} $2==b{y[$1]=$3} END{for (r in x) if (y[r] > 0) print x[r]/y[r]}' \
            observability.csv | median; }
echo
echo "median requests per proxy core-second ($ROUNDS rounds of ${D}s, $C connections); ratios are medians of per-round ratios"
printf "  gantry, access log off   %8.0f   %.3f x nginx\n" "$(col gantry-log-off)" "$(ratio gantry-log-off nginx)"
printf "  gantry, access log file  %8.0f   %.3f x access log off\n" "$(col gantry-log-file)" "$(ratio gantry-log-file gantry-log-off)"
[ -n "${BASELINE:-}" ] &&
  printf "  baseline, log off        %8.0f   gantry (log off) is %.3f x the baseline\n" "$(col baseline-log-off)" \
    "$(ratio gantry-log-off baseline-log-off)"
printf "  nginx                    %8.0f\n" "$(col nginx)"
python3 observability_report.py  # the section of ../BENCHMARKS.md
