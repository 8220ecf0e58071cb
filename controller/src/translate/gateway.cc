// GatewayClass and Gateway: which ones are ours, where each binds, which listeners are
// valid. Routes attach afterwards (httproute.cc), then Gateway status is written.
#include <algorithm>
#include <arpa/inet.h>

#include "context.h"
#include "gantry/tls/cert_bundle.h"

namespace gantry::controller::translate_detail {
namespace {

std::string ipv4_text(uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

bool is_ip(const std::string& s) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, s.c_str(), &a4) == 1 || inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

// A pool address is a hash of the Gateway's name, probed past ones taken, so a
// Gateway keeps its address when others come and go.
std::string pool_address(const AddressPool& pool, const std::string& key, std::set<std::string>& taken) {
  uint32_t size = pool.prefix >= 31 ? 1 : (1u << (32 - pool.prefix)) - 2;  // skip network, broadcast
  uint32_t first = pool.prefix >= 31 ? pool.network : pool.network + 1;
  uint64_t start = fnv1a(key) % size;
  for (uint32_t i = 0; i < size; ++i) {
    std::string a = ipv4_text(first + static_cast<uint32_t>((start + i) % size));
    if (taken.insert(a).second) return a;
  }
  return {};
}

bool supported_protocol(const std::string& p) { return p == "HTTP" || p == "HTTPS" || p == "TLS"; }

// The route kinds a listener of this protocol serves.
bool kind_fits(const std::string& protocol, const std::string& kind) {
  if (protocol == "TLS") return kind == "TLSRoute";
  return kind == "HTTPRoute" || kind == "GRPCRoute";
}

// GatewayTLSConfig.certificateRefs of an HTTPS listener: Secrets in the Gateway's namespace,
// or in another one that a ReferenceGrant opens to Gateways of this namespace. The first
// bad reference decides the reason, as the conformance cases expect.
bool resolve_certificates(const Context& ctx, const Gateway& gw, const GatewayListener& l,
                          std::vector<routing::TlsCertificate>& out, std::string& reason, std::string& message) {
  reason = "InvalidCertificateRef";
  if (!l.tls || l.tls->certificate_refs.empty()) {
    message = "an HTTPS listener needs tls.certificateRefs";
    return false;
  }
  for (const SecretObjectReference& ref : l.tls->certificate_refs) {
    const std::string ns = ref.ns.value_or(gw.meta.ns);
    const std::string what = "certificateRef " + ns + "/" + ref.name;
    if (!ref.group.empty() || ref.kind != "Secret") {
      message = what + ": only core Secrets are supported, not " + (ref.group.empty() ? "core" : ref.group) + "/" + ref.kind;
      return false;
    }
    if (ns != gw.meta.ns &&
        !reference_granted(ctx.store, kGatewayGroup, "Gateway", gw.meta.ns, "", "Secret", ns, ref.name)) {
      reason = "RefNotPermitted";
      message = what + ": no ReferenceGrant in " + ns + " lets Gateways of " + gw.meta.ns + " use it";
      return false;
    }
    auto it = ctx.store.secrets.find(ns + "/" + ref.name);
    if (it == ctx.store.secrets.end()) {
      message = what + ": Secret not found";
      return false;
    }
    const auto& data = it->second.data;
    auto crt = data.find("tls.crt"), key = data.find("tls.key");
    if (crt == data.end() || key == data.end()) {
      message = what + ": the Secret needs tls.crt and tls.key";
      return false;
    }
    auto bundle = tls::parse_cert_bundle(crt->second, key->second);
    if (!bundle) {
      message = what + ": " + bundle.error().message;
      return false;
    }
    out.push_back({std::move(bundle->cert_pem), std::move(bundle->key_pem), std::move(bundle->dns_names)});
  }
  return true;
}

}  // namespace

void translate_gateway_classes(Context& ctx, json::array& out) {
  for (const auto& [name, gc] : ctx.store.gateway_classes) {
    if (gc.controller_name != ctx.options.controller_name) continue;
    ctx.classes.insert(name);
    json::array conds{condition("Accepted", true, "Accepted", "handled by " + gc.controller_name, gc.meta.generation)};
    out.push_back(status_item("GatewayClass", gc.meta, json::object{{"conditions", std::move(conds)}}));
  }
}

void translate_gateways(Context& ctx) {
  std::vector<const Gateway*> ours;
  for (const auto& [key, gw] : ctx.store.gateways)
    if (ctx.classes.count(gw.gateway_class_name)) ours.push_back(&gw);
  // The earlier Gateway keeps a contested address and port (creation time, then name).
  std::stable_sort(ours.begin(), ours.end(), [](const Gateway* a, const Gateway* b) {
    return std::tie(a->meta.creation_timestamp, a->meta.ns, a->meta.name) <
           std::tie(b->meta.creation_timestamp, b->meta.ns, b->meta.name);
  });

  std::set<std::string> taken;
  for (const Gateway* gw : ours)
    for (const auto& a : gw->addresses) taken.insert(a.value);

  for (const Gateway* gw : ours) {
    const int64_t gen = gw->meta.generation;
    GatewayState& state = ctx.gateways[key_of(gw->meta)];
    state.gateway = gw;
    bool address_ok = true;
    bool unassigned = false;  // a valid address this data plane does not have
    std::string address_problem;
    // Gantry defines no parameters kind, so any parametersRef names something it cannot use.
    const bool params_ok = !gw->parameters_ref;
    if (!params_ok) {
      address_ok = false;
      address_problem = "spec.infrastructure.parametersRef " + gw->parameters_ref->group + "/" +
                        gw->parameters_ref->kind + " " + gw->parameters_ref->name + " is not supported";
    } else if (ctx.options.merge_gateways) {
      // One data plane for every Gateway: the published Service's addresses are theirs,
      // and an address asked for that is not among them cannot be given (GEP-1651:
      // Programmed=False, AddressNotAssigned).
      state.address = "0.0.0.0";
      const auto published = published_addresses(ctx);
      for (const GatewayAddress& a : gw->addresses) {
        const bool have = published && std::any_of(published->begin(), published->end(),
                                                   [&](const auto& p) { return p.second == a.value; });
        if (!have) {
          address_ok = false;
          unassigned = true;
          address_problem = "address " + a.value + " is not an address of the published Service" +
                            (ctx.options.publish_service.empty() ? "" : " " + ctx.options.publish_service);
          break;
        }
      }
    } else if (!gw->addresses.empty()) {
      const GatewayAddress& a = gw->addresses.front();
      if (a.type != "IPAddress") {
        address_ok = false;
        address_problem = "address type " + a.type + " is not supported; use IPAddress";
      } else if (!is_ip(a.value)) {
        address_ok = false;
        address_problem = "address " + a.value + " is not an IP address";
      } else {
        state.address = a.value;
      }
    } else if (ctx.options.address_pool) {
      state.address = pool_address(*ctx.options.address_pool, key_of(gw->meta), taken);
      if (state.address.empty()) {
        address_ok = false;
        address_problem = "the address pool has no free address";
      }
    } else {
      state.address = "0.0.0.0";
    }

    // Listener conflicts within the Gateway: same port, same hostname.
    std::map<std::pair<int64_t, std::string>, int> seen;
    for (const auto& l : gw->listeners) seen[{l.port, l.hostname.value_or("")}]++;

    bool any_programmed = false;
    std::string port_problem;
    for (const GatewayListener& l : gw->listeners) {
      ListenerState ls;
      ls.spec = &l;
      bool kinds_ok = true;
      if (l.allowed_routes.kinds) {
        for (const auto& k : *l.allowed_routes.kinds) {
          if (k.group == kGatewayGroup && kind_fits(l.protocol, k.kind)) ls.supported_kinds.push_back(k);
          else kinds_ok = false;
        }
      } else if (l.protocol == "TLS") {
        ls.supported_kinds.push_back({kGatewayGroup, "TLSRoute"});
      } else if (supported_protocol(l.protocol)) {
        ls.supported_kinds.push_back({kGatewayGroup, "HTTPRoute"});
        ls.supported_kinds.push_back({kGatewayGroup, "GRPCRoute"});
      }
      bool conflicted = seen[{l.port, l.hostname.value_or("")}] > 1;
      const bool https = l.protocol == "HTTPS";
      // TLS listeners pass TLS through (TLSRoute); terminating them is not built.
      const bool passthrough = l.protocol == "TLS" && l.tls && l.tls->mode == "Passthrough";
      bool protocol_ok = supported_protocol(l.protocol) && !(https && l.tls && l.tls->mode != "Terminate") &&
                         (l.protocol != "TLS" || passthrough);
      bool port_ok = l.port >= 1 && l.port <= 65535;
      bool accepted = protocol_ok && port_ok && address_ok;
      std::vector<routing::TlsCertificate> certificates;
      std::string refs_reason, refs_message;
      bool refs_ok = kinds_ok;
      if (!kinds_ok) {
        refs_reason = "InvalidRouteKinds";
        refs_message = l.protocol == "TLS" ? "only TLSRoute of gateway.networking.k8s.io is supported on a TLS listener"
                                           : "only HTTPRoute and GRPCRoute of gateway.networking.k8s.io are supported on "
                                             "this listener";
      } else if (https && protocol_ok) {
        refs_ok = resolve_certificates(ctx, *gw, l, certificates, refs_reason, refs_message);
      }

      if (!protocol_ok)
        ls.conditions.push_back(condition("Accepted", false, "UnsupportedProtocol",
                                          l.protocol == "TLS"
                                              ? "a TLS listener needs tls.mode Passthrough (terminating TLS for "
                                                "TLSRoutes is not supported)"
                                          : supported_protocol(l.protocol)
                                              ? "tls.mode " + l.tls->mode + " does not terminate TLS; HTTPS needs Terminate"
                                              : "protocol " + l.protocol + " is not supported; use HTTP, HTTPS or TLS",
                                          gen));
      else if (!port_ok)
        ls.conditions.push_back(condition("Accepted", false, "PortUnavailable", "port must be 1-65535", gen));
      else
        ls.conditions.push_back(condition("Accepted", true, "Accepted", "listener accepted", gen));
      const size_t conflicted_at = ls.conditions.size();
      ls.conditions.push_back(conflicted ? condition("Conflicted", true, "HostnameConflict",
                                                     "another listener has the same port and hostname", gen)
                                         : condition("Conflicted", false, "NoConflicts", "no conflicts", gen));
      ls.conditions.push_back(refs_ok ? condition("ResolvedRefs", true, "ResolvedRefs", "references resolved", gen)
                                      : condition("ResolvedRefs", false, refs_reason, refs_message, gen));

      // Routes attach to (and are counted on) an accepted listener even while its
      // certificate is unresolved; they are served once it is programmed.
      ls.attachable = accepted && !conflicted;
      bool programmed = false;
      std::string why = address_ok ? "listener is not accepted" : address_problem;
      if (accepted && !conflicted && !refs_ok) {
        why = refs_message;
      } else if (accepted && !conflicted) {
        uint16_t port = static_cast<uint16_t>(l.port);
        if (auto it = ctx.options.port_map.find(port); it != ctx.options.port_map.end()) port = it->second;
        std::string bind = state.address.find(':') != std::string::npos
                               ? "[" + state.address + "]:" + std::to_string(port)
                               : state.address + ":" + std::to_string(port);
        const std::string scope_name = key_of(gw->meta) + "/" + l.name;
        auto owner = ctx.bound_owner.try_emplace(bind, key_of(gw->meta)).first->second;
        if (ctx.options.merge_gateways && ctx.gateways.count(owner)) owner = key_of(gw->meta);  // shared, not held
        // Merged Gateways share a port; a hostname on it belongs to the oldest claim.
        const std::string claim = bind + " " + l.hostname.value_or("");
        const std::string claimant = ctx.options.merge_gateways ? ctx.claimed.try_emplace(claim, scope_name).first->second
                                                                : scope_name;
        if (claimant != scope_name) {
          why = "hostname " + (l.hostname ? "'" + *l.hostname + "'" : std::string("(any)")) + " on port " +
                std::to_string(l.port) + " is claimed by the older listener " + claimant;
          ls.conditions[conflicted_at] = condition("Conflicted", true, "HostnameConflict", why, gen);
          ls.conditions.push_back(condition("Programmed", false, "Invalid", why, gen));
          ls.attachable = false;
          state.listeners.push_back(std::move(ls));
          continue;
        } else if (owner != key_of(gw->meta)) {
          why = bind + " is held by Gateway " + owner;
          port_problem = why;
        } else {
          auto [it, inserted] = ctx.bound.try_emplace(bind, static_cast<uint32_t>(ctx.listeners.size()));
          if (inserted) {
            routing::Listener listener;
            listener.name = bind;
            listener.address = state.address;
            listener.port = port;
            listener.tls = https;
            listener.passthrough = passthrough;
            ctx.listeners.push_back(std::move(listener));
          }
          routing::Listener& listener = ctx.listeners[it->second];
          if (listener.tls != https || listener.passthrough != passthrough) {
            // One port terminates TLS, passes it through, or speaks plain HTTP.
            why = bind + " already serves " + (listener.passthrough ? "TLS passthrough" : listener.tls ? "HTTPS" : "HTTP") +
                  " for another listener";
            ls.conditions[conflicted_at] = condition("Conflicted", true, "ProtocolConflict", why, gen);
            ls.conditions.push_back(condition("Programmed", false, "Invalid", why, gen));
            ls.attachable = false;
            state.listeners.push_back(std::move(ls));
            continue;
          }
          ls.snapshot_listener = it->second;
          ls.scope = static_cast<uint32_t>(listener.scopes.size());
          routing::ListenerScope scope;
          scope.name = scope_name;
          scope.hostname = l.hostname.value_or("");
          scope.port = static_cast<uint16_t>(l.port);
          scope.certificates = std::move(certificates);
          listener.scopes.push_back(std::move(scope));
          programmed = true;
          ls.valid = true;
        }
      } else if (conflicted) {
        why = "listener conflicts with another listener";
      }
      ls.conditions.push_back(programmed ? condition("Programmed", true, "Programmed", "listener programmed", gen)
                                         : condition("Programmed", false, "Invalid", why, gen));
      any_programmed = any_programmed || programmed;
      state.listeners.push_back(std::move(ls));
    }

    bool all_valid = std::all_of(state.listeners.begin(), state.listeners.end(),
                                 [](const ListenerState& ls) { return ls.valid; });
    if (!params_ok)
      state.conditions.push_back(condition("Accepted", false, "InvalidParameters", address_problem, gen));
    else if (!address_ok && !unassigned)
      state.conditions.push_back(condition("Accepted", false, "UnsupportedAddress", address_problem, gen));
    else if (unassigned)
      state.conditions.push_back(condition("Accepted", true, "Accepted", "gateway accepted", gen));
    else if (!all_valid && !any_programmed)
      state.conditions.push_back(condition("Accepted", false, "ListenersNotValid", "no listener is valid", gen));
    else if (!all_valid)
      state.conditions.push_back(condition("Accepted", true, "ListenersNotValid", "some listeners are not valid", gen));
    else
      state.conditions.push_back(condition("Accepted", true, "Accepted", "gateway accepted", gen));
    if (any_programmed)
      state.conditions.push_back(condition("Programmed", true, "Programmed", "gateway programmed", gen));
    else if (!address_ok)
      state.conditions.push_back(condition("Programmed", false, params_ok ? "AddressNotAssigned" : "Invalid",
                                           address_problem, gen));
    else
      state.conditions.push_back(condition("Programmed", false, port_problem.empty() ? "Invalid" : "AddressNotUsable",
                                           port_problem.empty() ? "no listener is programmed" : port_problem, gen));
  }
}

std::optional<std::vector<std::pair<std::string, std::string>>> published_addresses(const Context& ctx) {
  using Addresses = std::vector<std::pair<std::string, std::string>>;
  if (!ctx.options.publish_service.empty()) {
    const size_t slash = ctx.options.publish_service.find('/');
    const Service* svc = ctx.store.find_service(ctx.options.publish_service.substr(0, slash),
                                                ctx.options.publish_service.substr(slash + 1));
    return svc ? svc->load_balancer : Addresses{};  // none yet: the load balancer is still coming
  }
  if (!ctx.options.publish_status_address.empty())
    return Addresses{{is_ip(ctx.options.publish_status_address) ? "IPAddress" : "Hostname",
                      ctx.options.publish_status_address}};
  return std::nullopt;
}

void write_gateway_status(const Context& ctx, json::array& out) {
  const auto published = published_addresses(ctx);
  for (const auto& [key, state] : ctx.gateways) {
    json::array listeners;
    for (const ListenerState& ls : state.listeners) {
      json::array kinds;
      for (const auto& k : ls.supported_kinds) kinds.push_back(json::object{{"group", k.group}, {"kind", k.kind}});
      listeners.push_back(json::object{{"name", ls.spec->name},
                                       {"supportedKinds", std::move(kinds)},
                                       {"attachedRoutes", ls.attached_routes},
                                       {"conditions", ls.conditions}});
    }
    // Copied, not moved: a routes-only translation writes this status again (attachedRoutes).
    json::object status{{"conditions", state.conditions}, {"listeners", std::move(listeners)}};
    json::array addresses;
    if (published)
      for (const auto& [type, value] : *published) addresses.push_back(json::object{{"type", type}, {"value", value}});
    else if (!state.address.empty())
      addresses.push_back(json::object{{"type", "IPAddress"}, {"value", state.address}});
    status["addresses"] = std::move(addresses);
    out.push_back(status_item("Gateway", state.gateway->meta, std::move(status)));
  }
}

}  // namespace gantry::controller::translate_detail
