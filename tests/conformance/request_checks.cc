// Request entries: send, check the answer against `expect`, repeat until consistent;
// then the load-generating forms (weighted, mirrored_to, repeat).
#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <future>
#include <map>
#include <random>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "checks.h"
#include "http_client.h"
#include "../integration/h2_client.h"

namespace gantry::conformance {
namespace {

std::string y(const YAML::Node& n, const char* key, std::string fallback = "") {
  return n && n[key] ? n[key].as<std::string>() : fallback;
}

std::string uuid() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[40];
  uint64_t a = rng(), b = rng();
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>(a & 0xffff), static_cast<unsigned>((a >> 16) & 0xfff),
                static_cast<unsigned>(b & 0xfff), static_cast<unsigned long long>(b >> 16) & 0xffffffffffffull);
  return buf;
}

std::string lower(std::string v) {
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v;
}

struct Target {
  std::string address;
  uint16_t port = 0;       // where to connect
  int logical_port = 80;   // what the Gateway listener says
  bool https = false;
  std::string trust_pem;   // the case's tls_trust certificate
};

struct Sent {
  bool https = false;
  std::string protocol;  // "", "H2" (over TLS, ALPN h2) or "H2C_PRIOR_KNOWLEDGE"
  std::string sni;
  std::string method, path, host;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Echo {
  bool ok = false;  // the body was echo JSON
  std::string path, host, method, ns, pod;
  json::object headers;
  std::string header(const std::string& name) const {  // values joined with ","
    for (const auto& kv : headers) {
      if (lower(std::string(kv.key())) != lower(name)) continue;
      std::string out;
      for (const auto& v : kv.value().as_array()) out += (out.empty() ? "" : ",") + std::string(v.as_string());
      return out;
    }
    return {};
  }
  bool has(const std::string& name) const {
    for (const auto& kv : headers)
      if (lower(std::string(kv.key())) == lower(name)) return true;
    return false;
  }
};

Echo parse_echo(const HttpResponse& r, const Sent& sent) {
  Echo e;
  e.method = sent.method;
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return e;
  const auto& o = v.as_object();
  auto s = [&](const char* k) {
    const auto* x = o.if_contains(k);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  e.ok = true;
  e.path = s("path");
  e.host = s("host");
  e.method = s("method");
  e.ns = s("namespace");
  e.pod = s("pod");
  if (const auto* h = o.if_contains("headers"); h && h->is_object()) e.headers = h->as_object();
  return e;
}

std::vector<int> statuses(const YAML::Node& expect) {
  std::vector<int> out;
  if (!expect || !expect["status"]) return {200};
  if (expect["status"].IsSequence())
    for (const auto& s : expect["status"]) out.push_back(s.as<int>());
  else
    out.push_back(expect["status"].as<int>());
  return out;
}

std::string strip_spaces(std::string v) {
  v.erase(std::remove(v.begin(), v.end(), ' '), v.end());
  return v;
}

std::string check_redirect(const YAML::Node& want, const HttpResponse& r, const Sent& sent) {
  std::string loc = r.header("Location");
  if (loc.empty()) return "no Location header";
  std::string scheme = "http", host, port, path;
  size_t p = loc.find("://");
  std::string rest = loc;
  if (p != std::string::npos) {
    scheme = loc.substr(0, p);
    rest = loc.substr(p + 3);
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    rest = slash == std::string::npos ? "/" : rest.substr(slash);
    size_t colon = authority.rfind(':');
    if (colon != std::string::npos && authority.find(']') == std::string::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    } else {
      host = authority;
    }
  }
  path = rest.substr(0, rest.find('?'));
  std::string want_scheme = y(want, "scheme", sent.https ? "https" : "http");
  if (scheme != want_scheme) return "Location " + loc + ": scheme " + scheme + ", want " + want_scheme;
  if (want["host"] && host != want["host"].as<std::string>()) return "Location " + loc + ": host " + host + ", want " + want["host"].as<std::string>();
  if (want["port"]) {
    if (port != want["port"].as<std::string>()) return "Location " + loc + ": port '" + port + "', want " + want["port"].as<std::string>();
  } else if (!port.empty() && !(port == "80" && scheme == "http") && !(port == "443" && scheme == "https")) {
    return "Location " + loc + ": unexpected port " + port;
  }
  std::string want_path = want["path"] ? want["path"].as<std::string>() : sent.path.substr(0, sent.path.find('?'));
  if (path != want_path) return "Location " + loc + ": path " + path + ", want " + want_path;
  return {};
}

// One try: "" when the response is what `expect` says.
std::string check_response(const YAML::Node& entry, const HttpResponse& r, const Sent& sent) {
  const YAML::Node expect = entry["expect"];
  if (!r.error.empty()) return r.error;
  auto want = statuses(expect);
  bool status_ok = std::find(want.begin(), want.end(), r.status) != want.end();
  bool timeout_alias = (r.status == 408 || r.status == 504) &&
                       (std::find(want.begin(), want.end(), 408) != want.end() ||
                        std::find(want.begin(), want.end(), 504) != want.end());
  if (!status_ok && !timeout_alias) return "status " + std::to_string(r.status) + ", want " + std::to_string(want[0]);
  if (r.status >= 300 && r.status <= 308) return expect["redirect"] ? check_redirect(expect["redirect"], r, sent) : "";
  if (r.status != 200 && r.status != 204) return {};

  Echo e = parse_echo(r, sent);
  if (expect["not_forwarded"] && expect["not_forwarded"].as<bool>() && e.ok) return "the request reached a backend";
  if (expect["backend"] && !e.pod.starts_with(expect["backend"].as<std::string>()))
    return "answered by pod '" + e.pod + "', want " + expect["backend"].as<std::string>();
  if (expect["namespace"] && e.ns != expect["namespace"].as<std::string>())
    return "namespace '" + e.ns + "', want " + expect["namespace"].as<std::string>();
  if (expect["pod_prefix_from_request_header"]) {
    std::string h = expect["pod_prefix_from_request_header"].as<std::string>();
    std::string v = e.header(h);
    if (v.empty() || v.find(',') != std::string::npos || !e.pod.starts_with(v)) return "pod " + e.pod + " vs header " + h + "=" + v;
  }
  if (!(expect["not_forwarded"] && expect["not_forwarded"].as<bool>())) {
    if (const YAML::Node seen = expect["request_seen_by_backend"]) {
      std::string want_path = y(seen, "path");
      // add_request_id: the same parameter is expected on the path the backend saw.
      if (size_t id = sent.path.find("gateway-api-conformance-request-id="); id != std::string::npos)
        want_path += (want_path.find('?') == std::string::npos ? "?" : "&") + sent.path.substr(id);
      if (e.path != want_path) return "backend saw path " + e.path + ", want " + want_path;
      if (seen["host"] && e.host != y(seen, "host")) return "backend saw host " + e.host + ", want " + y(seen, "host");
      if (e.method != y(seen, "method", "GET")) return "backend saw method " + e.method;
      for (const auto& h : seen["headers"]) {
        std::string name = h.first.as<std::string>(), v = h.second.as<std::string>();
        if (e.header(name) != v) return "backend saw " + name + ": '" + e.header(name) + "', want '" + v + "'";
      }
      for (const auto& h : seen["absent_headers"])
        if (e.has(h.as<std::string>())) return "backend saw " + h.as<std::string>() + " (must be absent)";
    } else if (e.ok || !(expect["backend"] || expect["namespace"])) {
      if (e.path != sent.path) return "backend saw path '" + e.path + "', want " + sent.path;
      if (e.method != sent.method) return "backend saw method " + e.method + ", want " + sent.method;
      if (entry["request"]["host"] && e.host != sent.host) return "backend saw host " + e.host + ", want " + sent.host;
      for (const auto& h : entry["request"]["headers"]) {
        std::string name = h.first.as<std::string>(), v = h.second.as<std::string>();
        if (e.header(name) != v) return "backend saw " + name + ": '" + e.header(name) + "', want '" + v + "'";
      }
    }
  }
  bool ignore_ws = expect["ignore_whitespace"] && expect["ignore_whitespace"].as<bool>();
  for (const auto& h : expect["response_headers"]) {
    std::string name = h.first.as<std::string>(), v = h.second.as<std::string>(), got = r.header(name);
    if (ignore_ws ? strip_spaces(got) != strip_spaces(v) : got != v)
      return "response header " + name + ": '" + got + "', want '" + v + "'";
  }
  for (const auto& h : expect["response_header_alternatives"]) {
    std::string name = h.first.as<std::string>(), got = r.header(name);
    bool any = false;
    for (const auto& alt : h.second) any = any || (ignore_ws ? strip_spaces(got) == strip_spaces(alt.as<std::string>()) : got == alt.as<std::string>());
    if (!any) return "response header " + name + ": '" + got + "' is none of the alternatives";
  }
  for (const auto& h : expect["absent_response_headers"])
    if (r.has(h.as<std::string>())) return "response header " + h.as<std::string>() + " must be absent";
  return {};
}

Sent make_request(const YAML::Node& entry, const Target& t, std::string* request_id) {
  const YAML::Node req = entry["request"];
  Sent s;
  s.method = y(req, "method", "GET");
  s.path = y(req, "path", "/");
  for (size_t p = s.path.find("{uuid}"); p != std::string::npos; p = s.path.find("{uuid}")) s.path.replace(p, 6, uuid());
  if (req["add_request_id"] && req["add_request_id"].as<bool>()) {
    std::string id = request_id && !request_id->empty() ? *request_id : uuid();
    if (request_id) *request_id = id;
    s.path += (s.path.find('?') == std::string::npos ? "?" : "&") + std::string("gateway-api-conformance-request-id=") + id;
  }
  s.https = t.https;
  s.protocol = y(req, "protocol");
  s.sni = y(req, "tls_sni");
  s.host = req["host"] ? req["host"].as<std::string>()
                       : t.address + (t.logical_port == (t.https ? 443 : 80) ? "" : ":" + std::to_string(t.logical_port));
  s.headers.emplace_back("Host", s.host);
  for (const auto& h : req["headers"]) s.headers.emplace_back(h.first.as<std::string>(), h.second.as<std::string>());
  std::string echo_set;
  for (const auto& h : req["backend_set_response_headers"])
    echo_set += (echo_set.empty() ? "" : ",") + h.first.as<std::string>() + ":" + h.second.as<std::string>();
  s.headers.emplace_back("X-Echo-Set-Header", echo_set);
  return s;
}

HttpResponse send(const Target& t, const Sent& s) {
  if (s.protocol == "H2" || s.protocol == "H2C_PRIOR_KNOWLEDGE") {
    // One connection per request, as upstream's client makes; Host becomes :authority.
    test::H2Client::Tls tls{s.sni.empty() ? s.host : s.sni, t.trust_pem};
    test::H2Client client(t.address, t.port, s.https ? &tls : nullptr, std::chrono::seconds(10));
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [k, v] : s.headers) {
      std::string name = k;
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      if (name != "host" && !v.empty()) headers.emplace_back(name, v);
    }
    test::H2Response h2 = client.request(s.method, s.host, s.path, headers);
    HttpResponse r;
    r.status = h2.status;
    r.headers = std::move(h2.headers);
    r.body = std::move(h2.body);
    r.error = h2.error;
    if (r.error.empty() && h2.reset) r.error = "stream reset with code " + std::to_string(h2.reset);
    return r;
  }
  if (!s.https) return http_request(t.address, t.port, s.method, s.path, s.headers, std::chrono::seconds(10));
  TlsClient tls{s.sni, t.trust_pem};
  return http_request(t.address, t.port, s.method, s.path, s.headers, std::chrono::seconds(10), &tls);
}

std::string consistent(const YAML::Node& entry, const Target& t, const Limits& limits, std::string* request_id) {
  auto deadline = std::chrono::steady_clock::now() + limits.consistency;
  int streak = 0;
  std::string last;
  while (streak < limits.consecutive) {
    Sent s = make_request(entry, t, request_id);
    last = check_response(entry, send(t, s), s);
    if (last.empty()) {
      ++streak;
      continue;
    }
    streak = 0;
    if (std::chrono::steady_clock::now() > deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return {};
}

std::string weighted(const YAML::Node& entry, const Target& t) {
  const YAML::Node w = entry["weighted"];
  int samples = w["samples"].as<int>(), concurrency = w["concurrency"] ? w["concurrency"].as<int>() : 10;
  double tolerance = w["tolerance"].as<double>();
  int attempts = w["attempts"] ? w["attempts"].as<int>() : 1;
  std::string failure;
  for (int a = 0; a < attempts; ++a) {
    std::map<std::string, int> counts;
    std::mutex m;
    failure.clear();
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < concurrency; ++c)
      threads.emplace_back([&] {
        while (next++ < samples) {
          Sent s = make_request(entry, t, nullptr);
          HttpResponse r = send(t, s);
          std::string e = check_response(entry, r, s);
          std::lock_guard lock(m);
          if (!e.empty() && failure.empty()) failure = e;
          std::string pod = parse_echo(r, s).pod;
          for (int cut = 0; cut < 2 && pod.rfind('-') != std::string::npos; ++cut) pod = pod.substr(0, pod.rfind('-'));
          counts[pod]++;
        }
      });
    for (auto& th : threads) th.join();
    if (!failure.empty()) continue;
    for (const auto& d : w["distribution"]) {
      std::string backend = d.first.as<std::string>();
      double want = d.second.as<double>(), got = counts[backend] / static_cast<double>(samples);
      if (want == 0 && counts[backend] > 0) failure = backend + " answered though its weight is 0";
      else if (std::abs(got - want) > tolerance)
        failure = backend + " got " + std::to_string(got) + " of the traffic, want " + std::to_string(want);
      if (!failure.empty()) break;
    }
    if (failure.empty()) return {};
  }
  return failure;
}

bool echo_logged(const Environment& env, const std::string& backend, const std::string& ns, const std::string& needle) {
  for (const auto& e : env.echoes()) {
    if (e->deployment != backend || (!ns.empty() && e->ns != ns)) continue;
    std::ifstream in(e->log);
    std::string line;
    while (std::getline(in, line))
      if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string websocket(const YAML::Node& entry, const Target& t) {
  namespace asio = boost::asio;
  namespace ws = boost::beast::websocket;
  const YAML::Node w = entry["websocket"];
  try {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address(t.address), t.port});
    ws::stream<asio::ip::tcp::socket> stream(std::move(socket));
    std::string origin = y(w, "origin");
    stream.set_option(ws::stream_base::decorator([origin](ws::request_type& req) {
      if (!origin.empty()) req.set(boost::beast::http::field::origin, origin);
    }));
    stream.handshake(t.address, y(w, "path", "/"));
    for (const auto& x : w["exchange"]) {
      std::string msg = x["text"] ? x["text"].as<std::string>() : y(x, "binary");
      stream.text(static_cast<bool>(x["text"]));
      stream.write(asio::buffer(msg));
      boost::beast::flat_buffer buf;
      stream.read(buf);
      if (boost::beast::buffers_to_string(buf.data()) != msg) return "websocket echo differs";
    }
    stream.close(ws::close_code::normal);
  } catch (const std::exception& e) {
    return std::string("websocket: ") + e.what();
  }
  return {};
}

}  // namespace

std::string run_request(const Environment& env, const YAML::Node& kase, const YAML::Node& entry, const Limits& limits) {
  YAML::Node gw = entry["gateway"] ? entry["gateway"] : kase["gateway"];
  Target t;
  t.address = env.gateway_address(y(gw, "namespace"), y(gw, "name"));
  if (t.address.empty()) return "Gateway " + y(gw, "name") + " has no address";
  t.logical_port = entry["port"] ? entry["port"].as<int>() : (kase["port"] ? kase["port"].as<int>() : 80);
  t.port = env.mapped_port(t.logical_port);
  t.https = y(entry, "listener", y(kase, "listener")) == "https";
  if (YAML::Node trust = kase["tls_trust"]) t.trust_pem = env.certificate(y(trust, "namespace"), y(trust, "name"));

  if (entry["websocket"]) {
    auto deadline = std::chrono::steady_clock::now() + limits.consistency;
    std::string e;
    while (!(e = websocket(entry, t)).empty() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return e;
  }
  if (entry["repeat"]) {
    int n = entry["repeat"].as<int>();
    for (int i = 0; i < n; ++i) {
      Sent s = make_request(entry, t, nullptr);
      HttpResponse r = send(t, s);
      if (entry["expect"] && entry["expect"]["status"])
        if (auto e = check_response(entry, r, s); !e.empty()) return "repeat " + std::to_string(i) + ": " + e;
    }
    return {};
  }
  std::string request_id;
  if (auto e = consistent(entry, t, limits, &request_id); !e.empty()) return e;
  if (entry["weighted"]) return weighted(entry, t);
  if (entry["mirrored_to"]) {
    auto deadline = std::chrono::steady_clock::now() + limits.consistency;
    for (const auto& m : entry["mirrored_to"]) {
      std::string needle = "gateway-api-conformance-request-id=" + request_id;
      while (!echo_logged(env, y(m, "backend"), y(m, "namespace"), needle)) {
        if (std::chrono::steady_clock::now() > deadline) return "no mirrored copy reached " + y(m, "backend");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  return {};
}

}  // namespace gantry::conformance
