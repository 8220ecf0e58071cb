#include "head_writer.h"

namespace gantry::proxy {
namespace {

void append_version(unsigned version, std::string& out) {
  const char v[] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + version / 10), '.',
                    static_cast<char>('0' + version % 10)};
  out.append(v, sizeof v);
}

void append_fields(const Fields& f, std::string& out) {
  for (const auto& field : f) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.append(name.data(), name.size());
    out.append(": ", 2);
    out.append(value.data(), value.size());
    out.append("\r\n", 2);
  }
  out.append("\r\n", 2);
}

}  // namespace

void append_head(const http::request_header<Fields>& h, std::string& out) {
  const auto method = h.method_string();
  const auto target = h.target();
  out.append(method.data(), method.size());
  out.push_back(' ');
  out.append(target.data(), target.size());
  out.push_back(' ');
  append_version(h.version(), out);
  out.append("\r\n", 2);
  append_fields(h, out);
}

void append_head(const http::response_header<Fields>& h, std::string& out) {
  append_version(h.version(), out);
  const unsigned code = h.result_int();
  const char status[] = {' ', static_cast<char>('0' + code / 100), static_cast<char>('0' + code / 10 % 10),
                         static_cast<char>('0' + code % 10), ' '};
  out.append(status, sizeof status);
  auto reason = h.reason();
  if (reason.empty()) reason = http::obsolete_reason(h.result());
  out.append(reason.data(), reason.size());
  out.append("\r\n", 2);
  append_fields(h, out);
}

}  // namespace gantry::proxy
