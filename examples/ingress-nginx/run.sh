#!/usr/bin/env bash
# Builds Gantry, starts three gantry-echo backends and gantry serving these Ingresses on
# 127.0.0.1:18090 (HTTPS 18453), prints the curl lines, and runs until Ctrl-C.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$root/scripts/deps.sh"
"$root/scripts/build.sh" gantry gantry-echo
bin="$root/build"

pids=()
secrets="$(mktemp -d)"
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$secrets"; }
trap cleanup EXIT INT TERM

# store.example.com's certificate, self-signed, as the Secret store-tls (outside this folder).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=store.example.com \
  -addext subjectAltName=DNS:store.example.com -keyout "$secrets/store.key" -out "$secrets/store.crt" 2>/dev/null
{
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: store-tls, namespace: shop}\n'
  printf 'type: kubernetes.io/tls\ndata:\n'
  printf '  tls.crt: %s\n' "$(base64 -w0 "$secrets/store.crt")"
  printf '  tls.key: %s\n' "$(base64 -w0 "$secrets/store.key")"
} > "$secrets/store-tls.yaml"

port=3201
for backend in store store-next api; do
  "$bin/tools/echo/gantry-echo" --port "$port" --namespace shop --pod "$backend-5c8d7f9b6-q7w2x" >/dev/null 2>&1 &
  pids+=($!)
  port=$((port + 1))
done
"$bin/cmd/gantry" serve --manifests "$here" "$secrets" --admin 127.0.0.1:9902 \
  --ingress-http 127.0.0.1:18090 --ingress-https 127.0.0.1:18453 &
pids+=($!)

for _ in $(seq 100); do curl -sf http://127.0.0.1:9902/readyz >/dev/null && break; sleep 0.1; done
curl -sf http://127.0.0.1:9902/readyz >/dev/null || { echo "gantry did not become ready" >&2; exit 1; }

(cat <<'MSG'

Gantry is serving examples/ingress-nginx on 127.0.0.1:18090, HTTPS on 18453 (admin 127.0.0.1:9902).
Try, in another terminal:

  # ssl-redirect: a host with TLS answers 308 to https
  curl -si -H 'Host: store.example.com' http://127.0.0.1:18090/cart/ | grep -i '^location'
  # HTTPS with the Secret's certificate, chosen by SNI; app-root sends / to /home
  curl -s --cacert SECRETS/store.crt --resolve store.example.com:18453:127.0.0.1 https://store.example.com:18453/cart
  curl -si --cacert SECRETS/store.crt --resolve store.example.com:18453:127.0.0.1 https://store.example.com:18453/ | grep -i '^location'
  # the canary: by header, and 20 % by weight
  curl -s --cacert SECRETS/store.crt --resolve store.example.com:18453:127.0.0.1 -H 'X-Canary: always' https://store.example.com:18453/ | grep -o '"pod":"store[a-z-]*'
  for i in $(seq 100); do curl -s --cacert SECRETS/store.crt --resolve store.example.com:18453:127.0.0.1 https://store.example.com:18453/x | grep -o '"pod":"store[a-z-]*'; done | sort | uniq -c
  # rewrite-target with captures: /v1/users/7 reaches the backend as /users/7
  curl -s -H 'Host: api.example.com' http://127.0.0.1:18090/v1/users/7 | grep -o '"path":"[^"]*"'
  # permanent-redirect
  curl -si -H 'Host: old-shop.example.com' http://127.0.0.1:18090/p?q=1 | grep -iE '^(HTTP|location)'
  # a host without a certificate of its own gets the self-signed fallback
  echo | openssl s_client -connect 127.0.0.1:18453 -servername api.example.com 2>/dev/null | grep subject=
  # every Ingress's status, and its warnings (the refused server-snippet among them)
  curl -s http://127.0.0.1:9902/status

Ctrl-C stops everything.
MSG
) | sed "s#SECRETS#$secrets#"
wait "${pids[@]}"
