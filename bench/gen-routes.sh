#!/usr/bin/env bash
# Writes the same N prefix, host, regex and header-match routes for nginx, HAProxy and Gantry.
set -euo pipefail
N=${1:-10000}
cd "$(dirname "$0")"
mkdir -p conf run/gantry
{ echo "server { listen 127.0.0.1:9011 backlog=4096;"
  for i in $(seq 0 $((N-1))); do echo "  location /svc$i/ { proxy_pass http://be; }"; done; echo "}"; } > conf/routes-prefix.inc
{ for i in $(seq 0 $((N-1))); do
    echo "server { listen 127.0.0.1:9013; server_name h$i.example.com; location / { proxy_pass http://be; } }"; done; } > conf/routes-hosts.inc
{ echo "server { listen 127.0.0.1:9015 backlog=4096;"
  for i in $(seq 0 $((N-1))); do echo "  location ~ ^/re$i/[0-9]+\$ { proxy_pass http://be; }"; done; echo "}"; } > conf/routes-regex.inc
# Header matches: a route per value of x-tenant. nginx looks the value up in a map (a
# hash), HAProxy in a map file; neither scans.
{ echo "map \$http_x_tenant \$tenant_known {"; echo "  default 0;"
  for i in $(seq 0 $((N-1))); do echo "  t$i 1;"; done; echo "}"
  echo "server { listen 127.0.0.1:9017 backlog=4096;"
  echo "  location / { if (\$tenant_known = 0) { return 404; } proxy_pass http://be; } }"; } > conf/routes-headers.inc
for i in $(seq 0 $((N-1))); do echo "t$i be"; done > conf/tenants.map
for i in $(seq 0 $((N-1))); do echo "/svc$i/ be"; done > conf/paths.map
for i in $(seq 0 $((N-1))); do echo "h$i.example.com be"; done > conf/hosts.map
for i in $(seq 0 $((N-1))); do echo "^/re$i/[0-9]+\$ be"; done > conf/regex.map

# Gantry: one Gateway with a listener per scenario; HTTPRoutes of 16 rules each (the
# Gateway API's limit per route).
g=run/gantry
rm -f $g/*.yaml
cat > $g/gateway.yaml <<YAML
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
  - {name: plain, port: 9003, protocol: HTTP}
  - {name: prefix, port: 9031, protocol: HTTP}
  - {name: hosts, port: 9033, protocol: HTTP}
  - {name: regex, port: 9035, protocol: HTTP}
  - {name: headers, port: 9037, protocol: HTTP}
  - {name: tls, port: 9445, protocol: HTTPS, tls: {certificateRefs: [{name: bench-cert}]}}
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
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: plain, namespace: default}
spec:
  parentRefs: [{name: bench, sectionName: plain}, {name: bench, sectionName: tls}]
  rules: [{backendRefs: [{name: be, port: 8080}]}]
YAML
awk -v N="$N" 'BEGIN {
  for (r = 0; r * 16 < N; r++) {
    printf "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: prefix-%d, namespace: default}\nspec:\n  parentRefs: [{name: bench, sectionName: prefix}]\n  rules:\n", r
    for (i = r * 16; i < (r + 1) * 16 && i < N; i++)
      printf "  - matches: [{path: {type: PathPrefix, value: /svc%d/}}]\n    backendRefs: [{name: be, port: 8080}]\n", i
  }
  for (r = 0; r * 16 < N; r++) {
    printf "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: regex-%d, namespace: default}\nspec:\n  parentRefs: [{name: bench, sectionName: regex}]\n  rules:\n", r
    for (i = r * 16; i < (r + 1) * 16 && i < N; i++)
      printf "  - matches: [{path: {type: RegularExpression, value: \"/re%d/[0-9]+\"}}]\n    backendRefs: [{name: be, port: 8080}]\n", i
  }
  for (r = 0; r * 16 < N; r++) {
    printf "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: headers-%d, namespace: default}\nspec:\n  parentRefs: [{name: bench, sectionName: headers}]\n  rules:\n", r
    for (i = r * 16; i < (r + 1) * 16 && i < N; i++)
      printf "  - matches: [{headers: [{name: x-tenant, value: t%d}]}]\n    backendRefs: [{name: be, port: 8080}]\n", i
  }
  for (i = 0; i < N; i++)
    printf "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: host-%d, namespace: default}\nspec:\n  parentRefs: [{name: bench, sectionName: hosts}]\n  hostnames: [h%d.example.com]\n  rules: [{backendRefs: [{name: be, port: 8080}]}]\n", i, i
}' > $g/routes.yaml
