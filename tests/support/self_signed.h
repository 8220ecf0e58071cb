// Self-signed certificates for tests, made with the openssl command line (the tool a
// user would reach for), so no test carries a private key in the tree.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace gantry::test {

struct SelfSigned {
  std::string crt_pem;
  std::string key_pem;
};

// A certificate for `dns_names` with subject `subject` ("/CN=x"); an EC P-256 key unless
// `key` says otherwise (e.g. "rsa:2048"). `extra` goes to `openssl req` as is. Nullopt
// when openssl fails.
inline std::optional<SelfSigned> make_self_signed(const std::string& subject, const std::vector<std::string>& dns_names,
                                                  const std::string& key = "ec", const std::string& extra = "") {
  namespace fs = std::filesystem;
  static int counter = 0;
  fs::path base = fs::temp_directory_path() /
                  ("gantry-cert-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::string sans;
  for (const auto& d : dns_names) sans += (sans.empty() ? "DNS:" : ",DNS:") + d;
  std::string newkey = key == "ec" ? "ec -pkeyopt ec_paramgen_curve:prime256v1" : key;
  std::string cmd = "openssl req -x509 -newkey " + newkey + " -nodes -days 2 -subj '" + subject + "'" +
                    (sans.empty() ? "" : " -addext 'subjectAltName=" + sans + "'") + " " + extra + " -keyout '" +
                    base.string() + ".key' -out '" + base.string() + ".crt' >/dev/null 2>&1";
  std::optional<SelfSigned> out;
  if (std::system(cmd.c_str()) == 0) {
    auto slurp = [](const fs::path& p) {
      std::ifstream in(p);
      std::stringstream s;
      s << in.rdbuf();
      return s.str();
    };
    out = SelfSigned{slurp(base.string() + ".crt"), slurp(base.string() + ".key")};
  }
  fs::remove(base.string() + ".crt");
  fs::remove(base.string() + ".key");
  return out;
}

// PEM text indented for a YAML block scalar under `tls.crt: |`.
inline std::string indent_block(const std::string& text, const std::string& pad = "    ") {
  std::string out, line;
  std::istringstream in(text);
  while (std::getline(in, line)) out += pad + line + "\n";
  return out;
}

// A kubernetes.io/tls Secret manifest (namespace default) holding `cert`.
inline std::string tls_secret_manifest(const std::string& name, const SelfSigned& cert) {
  return "---\napiVersion: v1\nkind: Secret\nmetadata: {name: " + name +
         ", namespace: default}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n" + indent_block(cert.crt_pem) +
         "  tls.key: |\n" + indent_block(cert.key_pem);
}

}  // namespace gantry::test
