// Manifest decoding and translation: arbitrary YAML through the decoder (file:line
// errors), the store and the translator, and the snapshot dump, as `gantry translate`.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gantry/controller/dump.h"
#include "gantry/controller/objects/decode.h"
#include "gantry/controller/store/object_store.h"
#include "gantry/controller/translate/translator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return -1;  // a manifest, not a corpus
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto file = gantry::controller::parse_manifest("fuzz.yaml", text);
  if (!file) {
    if (file.error().message.rfind("fuzz.yaml", 0) != 0) __builtin_trap();  // errors name the file
    return 0;
  }
  gantry::controller::ObjectStore store;
  for (auto& o : file->objects) store.upsert(std::move(o.object));
  store.complete_namespaces();
  auto result = gantry::controller::translate(store, gantry::controller::TranslateOptions{});
  (void)gantry::controller::snapshot_to_json(result.snapshot);
  (void)gantry::controller::to_array(result.status);
  return 0;
}
