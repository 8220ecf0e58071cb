// Internal: the ingress-nginx forms that have a Gateway API filter, shared by the writer
// (migrate.cc) and the proof (proof.cc), so the proof knows what the writer could not say.
#pragma once

#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::controller::migrate_detail {

// The Gateway API statusCodes of HTTPRequestRedirectFilter.
inline bool redirect_code(unsigned code) { return code == 301 || code == 302 || code == 303 || code == 307 || code == 308; }

// A redirect URL template of ingress-nginx ("https://new.example.com$request_uri") as the
// fields of an HTTPRequestRedirectFilter, when it is one of the forms it can say.
struct RedirectFields {
  std::string scheme, hostname, full_path;
  uint16_t port = 0;
};
inline std::optional<RedirectFields> redirect_fields(const std::string& url) {
  RedirectFields f;
  std::string_view rest = url;
  size_t sep = rest.find("://");
  if (sep == std::string_view::npos) {
    // A path alone: the same scheme and host.
    if (!rest.starts_with("/") || rest.find_first_of("$?#") != std::string_view::npos) return std::nullopt;
    f.full_path = std::string(rest);
    return f;
  }
  std::string_view scheme = rest.substr(0, sep);
  if (scheme == "http" || scheme == "https") f.scheme = std::string(scheme);
  else if (scheme != "$scheme") return std::nullopt;
  rest.remove_prefix(sep + 3);
  if (rest.starts_with("$host") && (rest.size() == 5 || rest[5] == '/' || rest[5] == '$')) {
    rest.remove_prefix(5);
  } else {
    size_t end = rest.find_first_of("/$?");
    std::string_view authority = rest.substr(0, end);
    rest.remove_prefix(authority.size());
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      std::string_view text = authority.substr(colon + 1);
      unsigned port = 0;
      auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), port);
      if (err != std::errc{} || end != text.data() + text.size() || port == 0 || port > 65535) return std::nullopt;
      f.port = static_cast<uint16_t>(port);
      authority = authority.substr(0, colon);
    }
    if (authority.empty()) return std::nullopt;
    f.hostname = std::string(authority);
  }
  if (rest == "$request_uri") return f;
  if (rest.empty()) rest = "/";
  if (!rest.starts_with("/") || rest.find_first_of("$?#") != std::string_view::npos) return std::nullopt;
  f.full_path = std::string(rest);
  return f;
}

// rewrite-target's classic form: path "P(/|$)(.*)" and target "/$2" (or "X/$2"), which is
// PathPrefix P with ReplacePrefixMatch. `pattern` is the Ingress regex as translated,
// "(?i)(?:P(/|$)(.*)).*".
struct PrefixRewrite {
  std::string prefix, replacement;
};
inline std::optional<PrefixRewrite> prefix_rewrite(const std::string& pattern, const std::string& target) {
  static const std::string head = "(?i)(?:", tail = "(/|$)(.*)).*";
  if (!pattern.starts_with(head) || !pattern.ends_with(tail) || pattern.size() <= head.size() + tail.size()) return std::nullopt;
  std::string prefix = pattern.substr(head.size(), pattern.size() - head.size() - tail.size());
  // A literal only: '.' and every other regex character would match more than itself.
  if (!prefix.starts_with("/")) return std::nullopt;
  for (char c : prefix)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '-' && c != '_' && c != '~') return std::nullopt;
  if (!target.ends_with("$2")) return std::nullopt;
  std::string replacement = target.substr(0, target.size() - 2);
  if (!replacement.starts_with("/") || !replacement.ends_with("/") || replacement.find('$') != std::string::npos)
    return std::nullopt;
  if (replacement.size() > 1) replacement.pop_back();
  return PrefixRewrite{prefix, replacement};
}

// A RegexReplace rewrite-target that URLRewrite can say: the classic prefix form, or a
// target without captures (nginx's rewrite replaces the whole path).
inline bool rewrite_expressible(const std::string& pattern, const std::string& target) {
  return prefix_rewrite(pattern, target) || target.find('$') == std::string::npos;
}

}  // namespace gantry::controller::migrate_detail
