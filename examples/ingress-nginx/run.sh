#!/usr/bin/env bash
# Builds Gantry, starts three gantry-echo backends and gantry serving these Ingresses on
# 127.0.0.1:18090 (HTTPS 18453), prints the curl lines, and runs until Ctrl-C.
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"

tls_secret store-tls shop store.example.com   # store.example.com's certificate
mv "$secrets/store-tls.crt" "$secrets/store.crt"
echoes 3201 shop store store-next api
"$bin/cmd/gantry" serve --manifests "$here" "$secrets" --admin 127.0.0.1:9902 \
  --ingress-http 127.0.0.1:18090 --ingress-https 127.0.0.1:18453 &
pids+=($!)

wait_ready 9902

(cat <<'MSG'

Gantry is serving examples/ingress-nginx on 127.0.0.1:18090, HTTPS on 18453 (admin 127.0.0.1:9902).
Try, in another terminal:

  # ssl-redirect: a host with TLS answers 308 to https
  curl -si -H 'Host: store.example.com' http://127.0.0.1:18090/cart/ | grep -i '^location'
  # HTTPS with the Secret's certificate, chosen by SNI; app-root sends / to /home
  curl -s --cacert SECRETS/store.crt --resolve store.example.com:18453:127.0.0.1 https://store.example.com:18453/cart
  curl -si --cacert SECRETS/store.crt --resolve store.example.com:18453:127.0.0.1 https://store.example.com:18453/ | grep -i '^location'
  # the canary: by header, and 20 % by weight
  curl -s --cacert SECRETS/store.crt --resolve store.example.com:18453:127.0.0.1 -H 'X-Canary: always' https://store.example.com:18453/cart | grep -o '"pod":"[^"]*"'
  for i in $(seq 100); do curl -s --cacert SECRETS/store.crt --resolve store.example.com:18453:127.0.0.1 https://store.example.com:18453/x | grep -o '"pod":"[^"]*"'; done | sort | uniq -c
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
