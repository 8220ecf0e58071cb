#include "gantry/common/prometheus.h"

#include <cmath>
#include <cstdio>

namespace gantry::prom {
namespace {

// Label values escape '\', '"' and newlines; HELP text escapes '\' and newlines.
void append_escaped(std::string& out, std::string_view s, bool quotes) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quotes) out += "\\\"";
    else out += c;
  }
}

void append_double(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  out += buf;
}

}  // namespace

uint64_t Histogram::count() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

void Histogram::add(const Histogram& other) {
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  sum += other.sum;
}

size_t bucket_of_us(uint64_t us) {
  size_t i = 0;
  // Bounds in whole microseconds; the bound itself belongs to its bucket (le: less or equal).
  static constexpr auto kUs = [] {
    std::array<uint64_t, kSecondsBounds.size()> b{};
    for (size_t j = 0; j < b.size(); ++j) b[j] = static_cast<uint64_t>(kSecondsBounds[j] * 1e6 + 0.5);
    return b;
  }();
  while (i < kUs.size() && us > kUs[i]) ++i;
  return i;
}

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void Exposition::head(std::string_view name, Labels labels, std::string_view extra_name, std::string_view extra) {
  out_ += name;
  if (labels.size() == 0 && extra_name.empty()) {
    out_ += ' ';
    return;
  }
  out_ += '{';
  bool first = true;
  auto label = [&](std::string_view k, std::string_view v) {
    if (!first) out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    append_escaped(out_, v, true);
    out_ += '"';
  };
  for (const auto& [k, v] : labels) label(k, v);
  if (!extra_name.empty()) label(extra_name, extra);
  out_ += "} ";
}

void Exposition::sample(std::string_view name, Labels labels, uint64_t value) {
  head(name, labels);
  out_ += std::to_string(value);
  out_ += '\n';
}

void Exposition::sample(std::string_view name, Labels labels, double value) {
  head(name, labels);
  append_double(out_, value);
  out_ += '\n';
}

void Exposition::histogram(std::string_view name, Labels labels, const Histogram& h) {
  std::string bucket(name), sum(name), count(name);
  bucket += "_bucket";
  sum += "_sum";
  count += "_count";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
    std::string le;
    if (i < kSecondsBounds.size()) append_double(le, kSecondsBounds[i]);
    else le = "+Inf";
    head(bucket, labels, "le", le);
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  head(sum, labels);
  append_double(out_, h.sum);
  out_ += '\n';
  head(count, labels);
  out_ += std::to_string(cumulative);
  out_ += '\n';
}

void Exposition::single(std::string_view name, std::string_view type, std::string_view help, uint64_t value) {
  family(name, type, help);
  sample(name, {}, value);
}

void Exposition::single(std::string_view name, std::string_view type, std::string_view help, double value) {
  family(name, type, help);
  sample(name, {}, value);
}

}  // namespace gantry::prom
