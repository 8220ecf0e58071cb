#!/usr/bin/env bash
# Where each proxy's cycles go under the keep-alive load: `perf record` on the proxy's
# processes while wrk runs (core 1), then the shares by object (kernel, the proxy's own
# binary, libc, OpenSSL) and the proxy's top user-space symbols. Appends to profile.csv
# (proxy,kind,name,percent); run.sh calls it with the peers running.
#   usage: bench/profile.sh seconds NAME PORT PIDS [NAME PORT PIDS]...   (PIDS comma-separated)
set -uo pipefail
cd "$(dirname "$0")"
D=$1; shift
command -v perf >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf; }
[ -f profile.csv ] || echo "proxy,kind,name,percent" > profile.csv
while [ $# -ge 3 ]; do
  name=$1 port=$2 pids=$3; shift 3
  data=logs/perf-$name.data
  taskset -c 1 wrk -t1 -c"${CONNS:-50}" -d"$((D + 2))s" "http://127.0.0.1:$port/" > "logs/perf-wrk-$name.txt" 2>&1 &
  w=$!
  sleep 1
  perf record -q -F 2999 -p "$pids" -o "$data" -- sleep "$D" > /dev/null 2>&1
  wait $w
  # Shares by object; user space is every object but the kernel's.
  perf report -i "$data" --stdio --sort dso 2>/dev/null |
    awk -v px="$name" '/^ *[0-9.]+%/ {gsub("%","",$1); $1=$1+0; n=$2; for(i=3;i<=NF;i++) n=n" "$i;
                        printf "%s,dso,%s,%.2f\n", px, n, $1}' >> profile.csv
  perf report -i "$data" --stdio --sort dso,sym 2>/dev/null | grep -v '\[k\]' |
    awk -v px="$name" '/^ *[0-9.]+%/ && c < 12 {gsub("%","",$1); s=$4; for(i=5;i<=NF;i++) s=s" "$i;
                        gsub(",",";",s); printf "%s,sym,%s %s,%.2f\n", px, $2, s, $1; c++}' >> profile.csv
done
