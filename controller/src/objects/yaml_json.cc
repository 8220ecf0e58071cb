#include "yaml_json.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <cerrno>
#include <cstdlib>
#include <regex>
#include <sstream>

#include "gantry/controller/objects/decode.h"

namespace gantry::controller {
namespace {

// YAML 1.2 core schema for plain (unquoted) scalars.
boost::json::value plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, kInt)) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0) return static_cast<int64_t>(v);
    return boost::json::string(s);
  }
  if (std::regex_match(s, kFloat)) return std::strtod(s.c_str(), nullptr);
  return boost::json::string(s);
}

// yaml-cpp 0.7's LoadAll never returns on a ',' where a document should start (",", or
// "- a\n,"): each round makes an empty document without consuming it, until memory runs
// out (found by tests/fuzz/fuzz_manifest). The event parser walks the text first, and a
// document that starts where the last one did is refused; LoadAll then terminates too.
class DocumentStarts : public YAML::EventHandler {
 public:
  YAML::Mark start;
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

std::vector<YAML::Node> load_all(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  int last = -1;
  for (;;) {
    starts.start = YAML::Mark::null_mark();
    if (!parser.HandleNextDocument(starts)) break;
    if (starts.start.pos <= last) {
      YAML::Mark at = starts.start.pos < 0 ? YAML::Mark::null_mark() : starts.start;
      throw YAML::ParserException(at, "a ',' outside any flow collection");
    }
    last = starts.start.pos;
  }
  return YAML::LoadAll(text);
}

}  // namespace

boost::json::value node_to_json(const YAML::Node& node, size_t& budget, int depth) {
  if (budget == 0) throw YAML::ParserException(node.Mark(), "the document expands to too many values (aliases)");
  // An alias inside the node it names ("a: &a [*a]") is a cycle: without this bound the
  // walk recursed until the stack ran out (found by fuzz_manifest).
  if (depth > kMaxDepth)
    throw YAML::ParserException(node.Mark(), "values nest more than " + std::to_string(kMaxDepth) +
                                                 " deep (or an alias refers to itself)");
  --budget;
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar:
      // Quoted scalars carry the tag "!"; plain ones "?" and are typed by their text.
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return boost::json::string(node.Scalar());
      return plain_scalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      boost::json::array out;
      out.reserve(node.size());
      for (const auto& item : node) out.push_back(node_to_json(item, budget, depth + 1));
      return out;
    }
    case YAML::NodeType::Map: {
      boost::json::object out;
      for (const auto& kv : node) out[kv.first.as<std::string>()] = node_to_json(kv.second, budget, depth + 1);
      return out;
    }
  }
  return nullptr;
}

void record_lines(const YAML::Node& node, const boost::json::value& value, SourceLines& lines, int first_line) {
  lines.line[&value] = first_line + node.Mark().line + 1;
  if (node.IsSequence() && value.is_array()) {
    const auto& arr = value.get_array();
    size_t i = 0;
    for (const auto& item : node) {
      if (i >= arr.size()) break;
      record_lines(item, arr[i++], lines, first_line);
    }
  } else if (node.IsMap() && value.is_object()) {
    const auto& obj = value.get_object();
    for (const auto& kv : node) {
      auto it = obj.find(kv.first.as<std::string>());
      if (it != obj.end()) record_lines(kv.second, it->value(), lines, first_line);
    }
  }
}

Result<boost::json::value> yaml_to_json(const std::string& text) {
  try {
    size_t budget = value_budget(text.size());
    return node_to_json(YAML::Load(text), budget);
  } catch (const YAML::Exception& e) {
    return Error{std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
}

Result<std::vector<boost::json::value>> parse_documents(const std::string& text) {
  try {
    std::vector<boost::json::value> out;
    size_t budget = value_budget(text.size());
    for (const YAML::Node& doc : load_all(text))
      if (!doc.IsNull()) out.push_back(node_to_json(doc, budget));
    return out;
  } catch (const YAML::Exception& e) {
    return Error{std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
}

namespace {

// The documents of a stream, each with the line it starts on (0-based). A line that
// begins with "---" followed by a blank or its end starts a document wherever it is: YAML
// forbids it inside any scalar. Loading one document at a time keeps one document's nodes
// in memory instead of a whole file's (yaml-cpp's nodes weigh ~50 times the text).
std::vector<std::pair<std::string_view, int>> split_documents(std::string_view text) {
  std::vector<std::pair<std::string_view, int>> out;
  size_t start = 0, pos = 0;
  int line = 0, start_line = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    size_t end = eol == std::string_view::npos ? text.size() : eol;
    std::string_view l = text.substr(pos, end - pos);
    if (pos > start && l.starts_with("---") && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r')) {
      out.emplace_back(text.substr(start, pos - start), start_line);
      start = pos;
      start_line = line;
    }
    pos = end + 1;
    ++line;
  }
  if (start < text.size()) out.emplace_back(text.substr(start), start_line);
  return out;
}

}  // namespace

Result<ManifestFile> parse_manifest(std::string_view file, const std::string& text) {
  ManifestFile out;
  int first_line = 0;
  auto where = [&](int line_in_doc) { return std::string(file) + ":" + std::to_string(first_line + line_in_doc + 1); };
  auto take = [&](const YAML::Node& node, const boost::json::value& value, SourceLines& lines) -> Result<bool> {
    if (!value.is_object()) return Error{where(node.Mark().line) + ": a manifest document must be a mapping"};
    auto decoded = decode_object(value, file, &lines);
    if (!decoded) return decoded.error();
    if (!*decoded) {
      const auto* kind = value.get_object().if_contains("kind");
      std::string name = kind && kind->is_string() ? std::string(kind->get_string()) : "<none>";
      out.ignored.push_back(where(node.Mark().line) + ": kind " + name + " ignored");
      return true;
    }
    out.objects.push_back(std::move(**decoded));
    return true;
  };
  for (const auto& [chunk, line] : split_documents(text)) {
    first_line = line;
    std::vector<YAML::Node> docs;
    boost::json::value value;
    try {
      // A chunk is one document, or none (comments, a "..." end marker).
      docs = load_all(std::string(chunk));
    } catch (const YAML::Exception& e) {
      return Error{where(e.mark.line) + ": " + e.msg};
    }
    for (const YAML::Node& doc : docs) {
      if (doc.IsNull()) continue;
      try {
        size_t budget = value_budget(chunk.size());
        value = node_to_json(doc, budget);
      } catch (const YAML::Exception& e) {
        return Error{where(e.mark.line) + ": " + e.msg};
      }
      SourceLines lines;
      record_lines(doc, value, lines, first_line);
      // kind: List (what `kubectl get -o yaml` prints) holds its objects in items.
      const auto* kind = value.is_object() ? value.get_object().if_contains("kind") : nullptr;
      if (kind && kind->is_string() && kind->get_string() == "List") {
        const auto* items = value.get_object().if_contains("items");
        if (items && items->is_array()) {
          size_t i = 0;
          for (const auto& item_node : doc["items"]) {
            auto r = take(item_node, items->get_array()[i++], lines);
            if (!r) return r.error();
          }
        }
        continue;
      }
      auto r = take(doc, value, lines);
      if (!r) return r.error();
    }
  }
  return out;
}

}  // namespace gantry::controller
