// The settings parser as `assess` uses it: a --config FILE (Settings::parse) merged over the
// defaults, then --set KEY=VALUE assignments (Settings::assign), read into the options
// structs, and dumped as --print-config and every output file do; also the parsed file on its
// own, as read_plan reads a plan's "config". Input: the config text, then NUL-separated
// assignments.
#include "fuzz/fuzz_common.hpp"
#include "partplan/common/error.hpp"
#include "partplan/config/settings.hpp"
#include "partplan/pipeline/assess.hpp"

using namespace partplan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const config::Settings defaults = pipeline::default_settings();
  const auto pieces = fuzz::split_at_nul(fuzz::as_text(data, size), 9);
  try {
    const auto file = config::Settings::parse(pieces[0], "fuzz.json");
    (void)file.leaves();
    (void)file.dump();
    auto settings = defaults;
    settings.merge(file, "--config fuzz.json");
    for (size_t i = 1; i < pieces.size(); ++i) {
      const auto& a = pieces[i];
      const auto eq = a.find('=');  // cmd_assess's apply_assignment
      if (eq == std::string::npos || eq == 0) continue;
      settings.assign(a.substr(0, eq), a.substr(eq + 1), "--set " + a);
    }
    (void)pipeline::options_from_settings(settings);
    (void)settings.dump();
    (void)settings.leaves();
  } catch (const Error&) {
  }
  return 0;
}
