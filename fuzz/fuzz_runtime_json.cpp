// runtime.json's reader (report::runtime_from_json, what `assess --timings` reads): a document
// that reads must write back to a fixed point, and its table must render.
#include "fuzz/fuzz_common.hpp"
#include "partplan/common/error.hpp"
#include "partplan/report/runtime_document.hpp"

using namespace partplan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(fuzz::as_text(data, size));
  try {
    const auto doc = report::runtime_from_json(text, "runtime.json");
    const auto written = report::to_json(doc);
    if (report::to_json(report::runtime_from_json(written, "runtime.json")) != written)
      fuzz::contract_broken("a runtime document written and read back is not the same document");
    (void)report::runtime_table(doc);
  } catch (const Error&) {
  }
  return 0;
}
