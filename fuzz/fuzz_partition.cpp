// The partition.json reader (report::partition_from_json: `verify`), and the summary that
// reads the manifest back.
#include "fuzz/fuzz_common.hpp"
#include "partplan/common/error.hpp"
#include "partplan/report/report.hpp"

using namespace partplan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(fuzz::as_text(data, size));
  try {
    const auto m = report::partition_from_json(text, "partition.json");
    if (m.parts.size() < 2 || m.parts.size() > 3 || m.cuts.size() + 1 != m.parts.size())
      fuzz::contract_broken("a partition of other than 2+1 or 3+2 parts and cuts");
    (void)report::split_summary(m, "dir");
  } catch (const Error&) {
  }
  return 0;
}
