// The run directory's readers (--resume, merge): run.json's fingerprint, a cut-NNN.json with
// its PNG strip (RunStore::parse_cut, which RunStore::load calls), and a shard manifest with
// its settings (RunStore::parse_shard, store::result_leaves: merge). Input: the JSON text,
// a NUL, then the bytes of the PNG strip it names. The cut is the one the seeds hold.
#include "fuzz/fuzz_common.hpp"
#include "partplan/common/error.hpp"
#include "partplan/store/run_store.hpp"

using namespace partplan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto pieces = fuzz::split_at_nul(fuzz::as_text(data, size), 2);
  const std::string& text = pieces[0];
  const std::string png = pieces.size() > 1 ? pieces[1] : std::string();
  try {
    (void)store::RunStore::parse_run_fingerprint(text, "run/run.json");
  } catch (const Error&) {
  }
  try {
    model::CutPoint cut;
    cut.id = 2;
    cut.name = "pool1";
    const auto ca =
        store::RunStore::parse_cut(text, cut, "run/cut-002.json", [&](const std::string&) { return png; });
    if (ca) {
      const auto& im = ca->reconstructions;
      if (im.n < 0 || im.c < 0 || im.h < 0 || im.w < 0 ||
          im.pixels.size() != static_cast<size_t>(im.n) * static_cast<size_t>(im.c) * static_cast<size_t>(im.h) *
                                  static_cast<size_t>(im.w))
        fuzz::contract_broken("reconstructions whose pixels are not n*c*h*w");
    }
  } catch (const Error&) {
  }
  try {
    const auto m = store::RunStore::parse_shard(text, "run/shard-0-of-2.json", "fingerprint");
    (void)store::result_leaves(m.settings_json, m.file);
  } catch (const Error&) {
  }
  return 0;
}
