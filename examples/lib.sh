# Sourced by the examples' run.sh: build, start echo backends, make a TLS Secret, wait for
# readiness. Everything started is stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/deps.sh"
"$root/scripts/build.sh" gantry gantry-echo
bin="$root/build"

pids=()
secrets="$(mktemp -d)"
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$secrets"; }
trap cleanup EXIT INT TERM

# tls_secret NAME NAMESPACE HOST: a self-signed certificate for HOST as the
# kubernetes.io/tls Secret NAME, in $secrets (a key does not belong in an example folder);
# the certificate is $secrets/NAME.crt for clients to trust.
tls_secret() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=$3" \
    -addext "subjectAltName=DNS:$3" -keyout "$secrets/$1.key" -out "$secrets/$1.crt" 2>/dev/null
  {
    printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\n' "$1" "$2"
    printf 'type: kubernetes.io/tls\ndata:\n'
    printf '  tls.crt: %s\n' "$(base64 -w0 "$secrets/$1.crt")"
    printf '  tls.key: %s\n' "$(base64 -w0 "$secrets/$1.key")"
  } > "$secrets/$1.yaml"
}

# echoes FIRST_PORT NAMESPACE NAME...: one gantry-echo per NAME on consecutive ports.
echoes() {
  local port=$1 ns=$2
  shift 2
  for backend in "$@"; do
    "$bin/tools/echo/gantry-echo" --port "$port" --namespace "$ns" --pod "$backend-7d9c6b5f4-x2k8q" >/dev/null 2>&1 &
    pids+=($!)
    port=$((port + 1))
  done
}

# wait_ready ADMIN_PORT
wait_ready() {
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "gantry did not become ready" >&2
  exit 1
}
