#include "request_rules.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <vector>

namespace gantry::proxy {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One path segment with its percent-encoding normalized (RFC 3986 §6.2.2.2).
std::string normalize_segment(std::string_view seg) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(seg.size());
  for (size_t i = 0; i < seg.size(); ++i) {
    if (seg[i] != '%' || i + 2 >= seg.size()) {  // the parser has checked every %XX
      out += seg[i];
      continue;
    }
    const int hi = hex(seg[i + 1]), lo = hex(seg[i + 2]);
    const auto c = static_cast<unsigned char>(hi * 16 + lo);
    if (unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    i += 2;
  }
  return out;
}

// Host as RFC 9110 §7.2 and RFC 3986 §3.2.2 allow it: a reg-name, an IPv4 address or
// an [IPv6] literal, then an optional port. Anything else (spaces, '@', '/', '\') is 400.
bool valid_host(std::string_view h) {
  if (h.empty()) return true;  // an empty Host is allowed (no authority)
  for (unsigned char c : h)
    if (!(std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '[' || c == ']' ||
          c == '%' || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
          c == ',' || c == ';' || c == '='))
      return false;
  return true;
}

}  // namespace

size_t head_end(std::string_view bytes, size_t from) {
  for (size_t i = bytes.find('\n', from); i != std::string_view::npos; i = bytes.find('\n', i + 1)) {
    if (i + 1 < bytes.size() && bytes[i + 1] == '\n') return i + 2;
    if (i + 2 < bytes.size() && bytes[i + 1] == '\r' && bytes[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

bool has_folded_line(std::string_view head) {
  for (size_t i = head.find('\n'); i != std::string_view::npos && i + 1 < head.size(); i = head.find('\n', i + 1))
    if (head[i + 1] == ' ' || head[i + 1] == '\t') return true;
  return false;
}

std::optional<Refusal> check_head(const Request& req, const RequestLimits& limits) {
  size_t fields = 0, hosts = 0, lengths = 0;
  bool transfer_encoding = false;
  std::string_view last_coding;
  bool other_coding = false;
  for (const auto& f : req) {
    ++fields;
    if (f.name() == http::field::host) {
      ++hosts;
      if (!valid_host(f.value())) return Refusal{ProxyError::BadRequest, "Host is not a valid host and port"};
    } else if (f.name() == http::field::content_length) {
      ++lengths;
    } else if (f.name() == http::field::transfer_encoding) {
      transfer_encoding = true;
      std::string_view v = f.value();
      // A list of codings (RFC 9110 §5.6.1); several fields are one list.
      for (size_t start = 0; start <= v.size();) {
        size_t comma = v.find(',', start);
        if (comma == std::string_view::npos) comma = v.size();
        std::string_view coding = trim(v.substr(start, comma - start));
        if (!coding.empty()) {
          if (!last_coding.empty() && !iequals(last_coding, "chunked")) other_coding = true;
          else if (!last_coding.empty()) return Refusal{ProxyError::BadRequest, "chunked must be the last transfer coding, applied once"};
          last_coding = coding;
        }
        start = comma + 1;
      }
    }
  }
  if (fields > limits.max_headers) return Refusal{ProxyError::HeadersTooLarge, "too many header fields"};
  if (hosts > 1) return Refusal{ProxyError::BadRequest, "more than one Host"};
  if (lengths > 1) return Refusal{ProxyError::BadRequest, "more than one Content-Length"};
  if (transfer_encoding) {
    if (req.version() < 11) return Refusal{ProxyError::BadRequest, "Transfer-Encoding in an HTTP/1.0 request"};
    if (last_coding.empty() || !iequals(last_coding, "chunked"))
      return Refusal{ProxyError::BadRequest, "Transfer-Encoding must end in chunked"};
    if (other_coding) return Refusal{ProxyError::NotImplemented, "only the chunked transfer coding is implemented"};
  }
  if (req.target().size() > limits.max_target) return Refusal{ProxyError::UriTooLong, {}};
  return std::nullopt;
}

bool take_absolute_form(Request& req) {
  std::string_view target = req.target();
  if (target.empty() || target.front() == '/' || target == "*") return true;
  auto uri = boost::urls::parse_absolute_uri(target);
  if (!uri || !uri->has_authority() || uri->encoded_host().empty()) return false;
  if (!iequals(uri->scheme(), "http") && !iequals(uri->scheme(), "https")) return false;
  if (uri->has_userinfo()) return false;  // RFC 9110 §4.2.4: never in http(s) URIs
  std::string origin = uri->encoded_path().empty() ? "/" : std::string(uri->encoded_path());
  if (uri->has_query()) origin += "?" + std::string(uri->encoded_query());
  const std::string authority(uri->encoded_host_and_port());
  req.set(http::field::host, authority);
  req.target(origin);
  return true;
}

bool normalize_target(std::string_view target, bool merge_slashes, std::string& out) {
  out.clear();
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  // Most paths have nothing to normalize: no percent sign, no dot segment, no "//".
  if (path.find('%') == std::string_view::npos && path.find("/.") == std::string_view::npos &&
      (!merge_slashes || path.find("//") == std::string_view::npos))
    return true;
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return false;  // bad percent-encoding or characters a path cannot hold
  std::vector<std::string> kept;
  bool trailing = false;
  const auto segments = parsed->encoded_segments();
  size_t i = 0, n = segments.size();
  for (auto it = segments.begin(); it != segments.end(); ++it, ++i) {
    const bool last = i + 1 == n;
    std::string seg = normalize_segment(std::string_view((*it).data(), (*it).size()));
    if (seg == ".") {
      trailing = last;
    } else if (seg == "..") {
      if (kept.empty()) return false;  // above the root
      kept.pop_back();
      trailing = last;
    } else if (seg.empty() && merge_slashes && !last) {
      continue;
    } else {
      kept.push_back(std::move(seg));
      trailing = false;
    }
  }
  std::string normalized = "/";
  for (size_t k = 0; k < kept.size(); ++k) normalized += (k ? "/" : "") + kept[k];
  if (trailing && !kept.empty()) normalized += "/";
  if (q != std::string_view::npos) normalized += target.substr(q);
  if (normalized != target) out = std::move(normalized);
  return true;
}

std::string_view find_field(const void* fields, std::string_view lower_name, bool& found) {
  const auto& f = *static_cast<const Fields*>(fields);
  auto it = f.find(lower_name);
  found = it != f.end();
  return found ? std::string_view(it->value()) : std::string_view{};
}

}  // namespace gantry::proxy
