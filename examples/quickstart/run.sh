#!/usr/bin/env bash
# Builds Gantry, starts five gantry-echo backends and gantry serving this folder, prints
# the curl lines that show it working, and runs until Ctrl-C.
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"

# The HTTPS listener's certificate: self-signed for app.example.com.
tls_secret app-example-tls default app.example.com
mv "$secrets/app-example-tls.crt" "$secrets/app.crt"
echoes 3101 default app users orders shop-stable shop-canary
"$bin/cmd/gantry" serve --manifests "$here" "$secrets" --port-map 80:18080,443:18443 --admin 127.0.0.1:9901 \
  --ingress-http 127.0.0.1:18081 --ingress-https 127.0.0.1:18444 &
pids+=($!)

wait_ready 9901

(cat <<'MSG'

Gantry is serving examples/quickstart on 127.0.0.1:18080, HTTPS on 18443, its Ingress on
127.0.0.1:18081 (admin on 127.0.0.1:9901).
Try, in another terminal:

  # host routing: app.example.com -> app
  curl -s -H 'Host: app.example.com' http://127.0.0.1:18080/hello
  # path routing on api.example.com: /users -> users, /orders -> orders
  curl -s -H 'Host: api.example.com' http://127.0.0.1:18080/users/42
  curl -s -H 'Host: api.example.com' http://127.0.0.1:18080/orders/7
  # the 70/30 canary split on shop.example.com, counted over 100 requests
  for i in $(seq 100); do curl -s -H 'Host: shop.example.com' http://127.0.0.1:18080/ | grep -o '"pod":"shop-[a-z]*'; done | sort | uniq -c
  # an Ingress (ingress-nginx style) with a canary by header, on the ingress listener
  curl -s -H 'Host: legacy.example.com' http://127.0.0.1:18081/ | grep -o '"pod":"shop-[a-z]*'
  curl -s -H 'Host: legacy.example.com' -H 'X-Canary: always' http://127.0.0.1:18081/ | grep -o '"pod":"shop-[a-z]*'
  # no route: a readable 404
  curl -si -H 'Host: nobody.example.com' http://127.0.0.1:18080/
  # HTTPS on app.example.com, the certificate checked against the one run.sh made
  curl -s --cacert SECRETS/app.crt --resolve app.example.com:18443:127.0.0.1 https://app.example.com:18443/hello
  # what gantry thinks: object status, the live routing table, counters
  curl -s http://127.0.0.1:9901/status
  curl -s http://127.0.0.1:9901/config_dump
  curl -s http://127.0.0.1:9901/metrics

Edit a file in examples/quickstart and the change is live within a second. Ctrl-C stops everything.
MSG
) | sed "s#SECRETS#$secrets#"
wait "${pids[@]}"
