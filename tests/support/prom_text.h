// A strict parser of the Prometheus text exposition format (0.0.4), for tests: it refuses
// what Prometheus would refuse (a sample before its family's TYPE, a bad name, a bad label
// string, a duplicate series, a histogram whose buckets are not cumulative or lack +Inf)
// and checks the naming conventions (counters end in _total, no unit-less durations).
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace gantry::test {

struct PromSample {
  std::string name;  // as written: "x_bucket", "x_sum"
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromFamily {
  std::string help, type;
  std::vector<PromSample> samples;
};

struct PromScrape {
  std::map<std::string, PromFamily> families;
  std::vector<std::string> errors;  // empty when the text is valid

  // The sum of a family's samples named `name` whose labels include `match`.
  double sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    double total = 0;
    for (const auto& [fname, f] : families)
      for (const auto& s : f.samples) {
        if (s.name != name) continue;
        bool ok = true;
        for (const auto& [k, v] : match) {
          auto it = s.labels.find(k);
          if (it == s.labels.end() || it->second != v) ok = false;
        }
        if (ok) total += s.value;
      }
    return total;
  }
};

inline PromScrape parse_prom(const std::string& text) {
  PromScrape out;
  static const std::regex name_re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex label_re("[a-zA-Z_][a-zA-Z0-9_]*");
  std::istringstream in(text);
  std::string line, current;
  std::set<std::string> series;
  int n = 0;
  auto fail = [&](const std::string& why) { out.errors.push_back("line " + std::to_string(n) + ": " + why + ": " + line); };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const bool help = line[2] == 'H';
      std::string rest = line.substr(7);
      size_t sp = rest.find(' ');
      std::string name = rest.substr(0, sp);
      std::string value = sp == std::string::npos ? "" : rest.substr(sp + 1);
      if (!std::regex_match(name, name_re)) fail("bad metric name");
      PromFamily& f = out.families[name];
      if (help) {
        if (!f.help.empty()) fail("second HELP");
        if (!f.type.empty() || !f.samples.empty()) fail("HELP after TYPE or samples");
        f.help = value.empty() ? " " : value;
      } else {
        if (!f.type.empty()) fail("second TYPE");
        if (!f.samples.empty()) fail("TYPE after samples");
        static const std::set<std::string> types = {"counter", "gauge", "histogram", "summary", "untyped"};
        if (!types.count(value)) fail("unknown type");
        f.type = value;
        if (value == "counter" && !name.ends_with("_total")) fail("a counter's name ends in _total");
      }
      current = name;
      continue;
    }
    if (line[0] == '#') continue;
    PromSample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, name_re)) fail("bad sample name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) { fail("label without '='"); break; }
        std::string key = line.substr(i, eq - i);
        if (!std::regex_match(key, label_re)) fail("bad label name '" + key + "'");
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') { fail("label value not quoted"); break; }
        ++i;
        std::string value;
        for (; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) {
            char c = line[++i];
            if (c == 'n') value += '\n';
            else if (c == '\\' || c == '"') value += c;
            else fail("bad escape");
          } else {
            value += line[i];
          }
        }
        if (i >= line.size()) { fail("unterminated label value"); break; }
        ++i;  // the closing quote
        if (s.labels.count(key)) fail("label twice");
        s.labels[key] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) { fail("unterminated label set"); continue; }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') { fail("no value"); continue; }
    std::string value = line.substr(i + 1);
    if (value == "+Inf") s.value = INFINITY;
    else if (value == "-Inf") s.value = -INFINITY;
    else if (value == "NaN") s.value = NAN;
    else {
      char* end = nullptr;
      s.value = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || (*end && *end != ' ')) fail("bad value");
    }
    // The family: the current one, whose samples may add _bucket, _sum, _count.
    auto fit = out.families.find(current);
    bool belongs = fit != out.families.end() &&
                   (s.name == current || (fit->second.type == "histogram" &&
                                          (s.name == current + "_bucket" || s.name == current + "_sum" ||
                                           s.name == current + "_count")));
    if (!belongs || fit->second.type.empty()) {
      fail("sample outside its family's TYPE");
      continue;
    }
    std::string id = s.name + "{";
    for (const auto& [k, v] : s.labels) id += k + "=" + v + ",";
    if (!series.insert(id).second) fail("duplicate series");
    fit->second.samples.push_back(std::move(s));
  }
  // Histograms: per label set, buckets by ascending le, cumulative, +Inf equal to _count.
  for (const auto& [name, f] : out.families) {
    if (f.help.empty()) out.errors.push_back(name + ": no HELP");
    if (f.type != "histogram") continue;
    std::map<std::string, std::vector<std::pair<double, double>>> buckets;
    std::map<std::string, double> counts;
    for (const auto& s : f.samples) {
      auto labels = s.labels;
      std::string le = labels["le"];
      labels.erase("le");
      std::string key;
      for (const auto& [k, v] : labels) key += k + "=" + v + ",";
      if (s.name == name + "_bucket") buckets[key].push_back({le == "+Inf" ? INFINITY : std::atof(le.c_str()), s.value});
      if (s.name == name + "_count") counts[key] = s.value;
    }
    for (const auto& [key, b] : buckets) {
      for (size_t i = 1; i < b.size(); ++i)
        if (b[i].first <= b[i - 1].first || b[i].second < b[i - 1].second)
          out.errors.push_back(name + "{" + key + "}: buckets not ascending and cumulative");
      if (b.empty() || !std::isinf(b.back().first)) out.errors.push_back(name + "{" + key + "}: no +Inf bucket");
      else if (!counts.count(key) || counts[key] != b.back().second)
        out.errors.push_back(name + "{" + key + "}: +Inf bucket differs from _count");
    }
  }
  return out;
}

}  // namespace gantry::test
