#include "flags.h"

#include <algorithm>
#include <charconv>
#include <thread>

#include <sched.h>

namespace gantry::cmd {
namespace {

Result<long> number(const std::string& flag, const std::string& text, long min, long max) {
  long v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max)
    return Error{flag + ": '" + text + "' is not a number from " + std::to_string(min) + " to " + std::to_string(max)};
  return v;
}

// --cpu-affinity: "off", "auto" (the CPUs this process may run on, in order), or a list
// such as 0,2,4-7.
Result<std::vector<int>> cpu_list(const std::string& text) {
  std::vector<int> cpus;
  if (text == "off") return cpus;
  if (text == "auto") {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
      for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cpus.push_back(c);
    return cpus;
  }
  const Error bad{"--cpu-affinity: '" + text + "' is not auto, off or a CPU list such as 0,2,4-7"};
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find(',', at);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(at, end - at);
    const size_t dash = item.find('-');
    int lo = 0, hi = 0;
    auto parse = [](std::string_view t, int& v) {
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      return ec == std::errc() && p == t.data() + t.size() && v >= 0 && v < CPU_SETSIZE;
    };
    if (dash == std::string::npos) {
      if (!parse(item, lo)) return bad;
      hi = lo;
    } else if (!parse(std::string_view(item).substr(0, dash), lo) || !parse(std::string_view(item).substr(dash + 1), hi) ||
               hi < lo) {
      return bad;
    }
    for (int c = lo; c <= hi; ++c) cpus.push_back(c);
    at = end + 1;
  }
  return cpus;
}

}  // namespace

std::string serve_help() {
  return R"(usage: gantry serve --manifests PATH... [flags]
       gantry serve --kubeconfig FILE | --in-cluster [flags]

Serves the Gateway API objects and Ingresses in the manifest files under PATH (every *.yaml and
*.yml, recursively, multi-document) and reloads them when they change; or, in cluster mode,
those the API server holds, watched, with their status written back.

  --manifests PATH...          files or directories to read
  --kubeconfig FILE            cluster mode: the API server of FILE's current context
  --in-cluster                 cluster mode: the API server of the pod's service account
  --publish-service NS/NAME    the Service whose status.loadBalancer addresses go into Gateway
                               and Ingress status (cluster mode)
  --leader-elect               only the holder of a coordination.k8s.io Lease writes status;
                               every replica serves traffic
  --leader-election-namespace NS   the Lease's namespace (default: the context's or pod's)
  --leader-election-id NAME    the Lease's name (default gantry-leader)
  --leader-election-lease-duration S   seconds a leader holds the Lease unrenewed (default 15)
  --admin ADDR:PORT            admin server: /healthz /readyz /status /config_dump /metrics
                               (default 127.0.0.1:9901)
  --workers N                  proxy threads, each with its own event loop (default: cores)
  --cpu-affinity auto|off|LIST worker i runs on the i-th CPU of LIST (e.g. 0,2,4-7; wrapping
                               round), or of the CPUs the process may use with auto
                               (default off: the kernel places them)
  --controller-name NAME       the GatewayClass controllerName and IngressClass spec.controller
                               we own (default gantry.dev/gateway-controller)
  --ingress-class NAME         the IngressClass whose Ingresses we serve (default gantry)
  --ingress-http ADDR:PORT     where Ingresses are served over HTTP (default 0.0.0.0:80)
  --ingress-https ADDR:PORT    where Ingresses are served over HTTPS (default 0.0.0.0:443)
  --publish-status-address A   the address written into Ingress status (default: the
                               ingress listener's)
  --port-map FROM:TO,...       bind listener port FROM on TO instead (e.g. 80:18080,443:18443);
                               may be repeated
  --address-pool CIDR          give each Gateway without spec.addresses its own IPv4 address
  --header-timeout MS          whole request header must arrive within (default 10000)
  --idle-timeout MS            keep-alive idle limit between requests (default 60000)
  --connect-timeout MS         upstream connect limit (default 5000)
  --response-timeout MS        upstream response header and body-stall limit (default 60000)
  --drain-timeout MS           on SIGTERM, in-flight requests get this long (default 10000)
  --body-timeout MS            a request body that sends nothing this long is 408 (default 60000)
  --max-body-size BYTES        request bodies larger than this are 413, before a byte of them
                               is forwarded when the length is declared; a route's own limit
                               (ingress-nginx proxy-body-size) wins (default 0: no limit)
  --write-timeout MS           a client that takes no response bytes this long is cut off
                               (slow readers) (default 60000)
  --max-upstream-connections N open connections per upstream endpoint per worker; beyond it
                               another endpoint is tried, else 503 (default 1024; 0: no limit)
  --outlier-failures N         consecutive connect failures, lost or timed-out responses or
                               502/503/504 answers that eject an endpoint from rotation
                               (default 5; 0: never eject)
  --outlier-ejection MS        the first ejection's length; each next one doubles (default 30000)
  --outlier-max-ejection MS    the longest ejection (default 300000)
  --scan-interval MS           changes are seen through inotify; only where inotify cannot be
                               had are the manifests polled, this often (default 250)
  --mirror-body-limit BYTES    RequestMirror copies bodies up to this size; larger requests
                               are not mirrored (default 1048576)
  --access-log off|stdout|FILE one JSON line per request (time, method, authority, path,
                               status, bytes, duration, upstream and its time, route, backend,
                               retries, request_id), written off the request path; a sink
                               too slow loses lines, counted, never delays requests
                               (default stdout; a FILE is appended to)
  --max-connections N          open client connections per worker; more are refused at once
                               (a 503 on plain listeners) (default 20000; 0: no limit)
  --request-buffer BYTES       request bodies up to this size are read whole before an upstream
                               is chosen (framing errors never reach a backend; retries can
                               resend them); larger ones stream (default 65536; 0: always stream)
  --normalize-paths on|off     dot segments removed, percent-encoding normalized, a path above
                               the root refused, before matching and forwarding (default on;
                               off forwards paths verbatim: see the README's Security section)
  --merge-slashes on|off       with --normalize-paths, "//" in a path is "/" (default on)
  --max-header-count N         header fields per request; more is 431 (default 100)
  --max-target BYTES           request-target length; longer is 414 (default 8192)

usage: gantry translate --manifests PATH... [--controller-name NAME] [--ingress-class NAME] [--ingress-http ...]
                        [--ingress-https ...] [--port-map ...] [--address-pool ...]
  prints the routing snapshot and every object's status as YAML, then exits

usage: gantry explain --manifests PATH... --url URL [-H 'Name: value']... [--method M] [--output json]
  which listener, Gateway listener, route rule and backends would serve the request, what the
  filters make of it (redirect Location, rewritten path and Host), the routes that came close
  and why each lost, and the routes whose attachment was refused; same translate flags

usage: gantry diff --manifests OLD... --against NEW...
  what the change from OLD to NEW does to routing: listeners, hosts and routes added, removed
  and changed, requests derived from the routes' matches that now go elsewhere, and status
  conditions that change; exits 0 when nothing changed, 1 when something did

usage: gantry migrate --manifests PATH... [--gateway-name gantry] [--gateway-namespace default]
                      [--gateway-class gantry]
  the Ingresses of our class as Gateway API objects on stdout (a GatewayClass, a Gateway,
  HTTPRoutes, ReferenceGrants for certificates), a comment at each object and a note on
  stderr for what Gateway API cannot say; then both sets are routed on requests derived
  from every Ingress path (at, below and beside each path, with each canary header and
  cookie) and every difference printed; exits 0 when each is one the notes list, 1 when
  not, 2 on bad usage
)";
}

std::string command_help(const std::string& command) {
  std::string all = serve_help();
  size_t from = all.find("usage: gantry " + command + " ");
  if (from == std::string::npos) return all;
  size_t to = all.find("\nusage: gantry ", from + 1);
  return all.substr(from, to == std::string::npos ? std::string::npos : to + 1 - from);
}

bool wants_help(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
}

Result<Flags> parse_flags(const std::vector<std::string>& args) {
  Flags f;
  f.proxy.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= args.size() || args[i + 1].starts_with("--")) return Error{a + " needs a value"};
      return args[++i];
    };
    auto millis = [&](proxy::Millis& out) -> Result<bool> {
      auto v = value();
      if (!v) return v.error();
      auto n = number(a, *v, 1, 86'400'000);
      if (!n) return n.error();
      out = proxy::Millis(*n);
      return true;
    };
    Result<bool> ok = true;
    if (a == "--help" || a == "-h") {
      f.help = true;
    } else if (a == "--manifests") {
      if (i + 1 >= args.size() || args[i + 1].starts_with("--")) return Error{"--manifests needs at least one path"};
      while (i + 1 < args.size() && !args[i + 1].starts_with("--")) f.manifests.push_back(args[++i]);
    } else if (a == "--admin") {
      auto v = value();
      if (!v) return v.error();
      f.admin = *v;
    } else if (a == "--workers") {
      auto v = value();
      if (!v) return v.error();
      auto n = number(a, *v, 1, 256);
      if (!n) return n.error();
      f.proxy.workers = static_cast<int>(*n);
    } else if (a == "--cpu-affinity") {
      auto v = value();
      if (!v) return v.error();
      auto cpus = cpu_list(*v);
      if (!cpus) return cpus.error();
      f.proxy.cpu_affinity = std::move(*cpus);
    } else if (a == "--controller-name") {
      auto v = value();
      if (!v) return v.error();
      f.translate.controller_name = *v;
    } else if (a == "--ingress-class" || a == "--ingress-http" || a == "--ingress-https" ||
               a == "--publish-status-address") {
      auto v = value();
      if (!v) return v.error();
      if (a == "--ingress-class") f.translate.ingress_class = *v;
      else if (a == "--ingress-http") f.translate.ingress_http = *v;
      else if (a == "--ingress-https") f.translate.ingress_https = *v;
      else f.translate.publish_status_address = *v;
    } else if (a == "--port-map") {
      auto v = value();
      if (!v) return v.error();
      auto m = controller::parse_port_map(*v);
      if (!m) return m.error();
      for (const auto& [from, to] : *m) f.translate.port_map[from] = to;  // repeatable: maps add up
    } else if (a == "--address-pool") {
      auto v = value();
      if (!v) return v.error();
      auto p = controller::parse_address_pool(*v);
      if (!p) return p.error();
      f.translate.address_pool = *p;
    } else if (a == "--header-timeout") {
      ok = millis(f.proxy.header_timeout);
    } else if (a == "--idle-timeout") {
      ok = millis(f.proxy.idle_timeout);
    } else if (a == "--connect-timeout") {
      ok = millis(f.proxy.connect_timeout);
    } else if (a == "--response-timeout") {
      ok = millis(f.proxy.response_timeout);
    } else if (a == "--drain-timeout") {
      ok = millis(f.proxy.drain_timeout);
    } else if (a == "--body-timeout") {
      ok = millis(f.proxy.body_timeout);
    } else if (a == "--write-timeout") {
      ok = millis(f.proxy.write_timeout);
    } else if (a == "--outlier-ejection") {
      ok = millis(f.proxy.base_ejection);
    } else if (a == "--outlier-max-ejection") {
      ok = millis(f.proxy.max_ejection);
    } else if (a == "--mirror-body-limit") {
      auto v = value();
      if (!v) return v.error();
      auto n = number(a, *v, 0, int64_t{1} << 30);
      if (!n) return n.error();
      f.proxy.mirror_body_limit = static_cast<size_t>(*n);
    } else if (a == "--kubeconfig" || a == "--publish-service" || a == "--leader-election-namespace" ||
               a == "--leader-election-id") {
      auto v = value();
      if (!v) return v.error();
      if (a == "--kubeconfig") f.kubeconfig = *v;
      else if (a == "--leader-election-namespace") f.leader_election_namespace = *v;
      else if (a == "--leader-election-id") f.leader_election_id = *v;
      else if (v->find('/') == std::string::npos || v->front() == '/' || v->back() == '/')
        return Error{"--publish-service: '" + *v + "' is not NAMESPACE/NAME"};
      else f.publish_service = *v;
    } else if (a == "--normalize-paths" || a == "--merge-slashes") {
      auto v = value();
      if (!v) return v.error();
      if (*v != "on" && *v != "off") return Error{a + ": '" + *v + "' is not on or off"};
      (a == "--normalize-paths" ? f.proxy.normalize_paths : f.proxy.merge_slashes) = *v == "on";
    } else if (a == "--max-upstream-connections" || a == "--outlier-failures") {
      auto v = value();
      if (!v) return v.error();
      auto n = number(a, *v, 0, 1'000'000);
      if (!n) return n.error();
      if (a == "--outlier-failures") f.proxy.eject_after = static_cast<uint32_t>(*n);
      else f.proxy.max_per_endpoint = static_cast<size_t>(*n);
    } else if (a == "--max-connections") {
      auto v = value();
      if (!v) return v.error();
      auto n = number(a, *v, 0, 10'000'000);
      if (!n) return n.error();
      f.proxy.max_connections = static_cast<size_t>(*n);
    } else if (a == "--access-log") {
      auto v = value();
      if (!v) return v.error();
      if (v->empty()) return Error{"--access-log: wants off, stdout or a file"};
      f.access_log = *v;
    } else if (a == "--max-body-size") {
      auto v = value();
      if (!v) return v.error();
      auto n = number(a, *v, 0, 1L << 50);
      if (!n) return n.error();
      f.proxy.max_body_size = static_cast<uint64_t>(*n);
    } else if (a == "--request-buffer") {
      auto v = value();
      if (!v) return v.error();
      auto n = number(a, *v, 0, 64 << 20);
      if (!n) return n.error();
      f.proxy.request_buffer = static_cast<size_t>(*n);
    } else if (a == "--max-header-count" || a == "--max-target") {
      auto v = value();
      if (!v) return v.error();
      auto n = number(a, *v, a == "--max-header-count" ? 1 : 256, a == "--max-header-count" ? 10'000 : 1 << 20);
      if (!n) return n.error();
      (a == "--max-header-count" ? f.proxy.max_headers : f.proxy.max_target) = static_cast<size_t>(*n);
    } else if (a == "--in-cluster") {
      f.in_cluster = true;
    } else if (a == "--leader-elect") {
      f.leader_elect = true;
    } else if (a == "--leader-election-lease-duration") {
      auto v = value();
      if (!v) return v.error();
      auto n = number(a, *v, 2, 3600);
      if (!n) return n.error();
      f.lease_seconds = static_cast<int>(*n);
    } else if (a == "--scan-interval") {
      auto v = value();
      if (!v) return v.error();
      auto n = number(a, *v, 10, 60'000);
      if (!n) return n.error();
      f.scan_interval_ms = static_cast<int>(*n);
    } else {
      return Error{"unknown flag " + a + " (see --help)"};
    }
    if (!ok) return ok.error();
  }
  if (f.in_cluster && !f.kubeconfig.empty()) return Error{"--kubeconfig and --in-cluster exclude each other"};
  if (f.cluster() && !f.manifests.empty())
    return Error{"--manifests and cluster mode (--kubeconfig, --in-cluster) exclude each other"};
  if (!f.help && !f.cluster() && f.manifests.empty())
    return Error{"--manifests PATH is required (or, in cluster mode, --kubeconfig FILE or --in-cluster)"};
  if (!f.cluster() && (f.leader_elect || !f.publish_service.empty()))
    return Error{"--leader-elect and --publish-service need cluster mode (--kubeconfig or --in-cluster)"};
  return f;
}

}  // namespace gantry::cmd
