// LibTorch version differences that show at run time: turning the interpreter's multi-line
// errors into one line, and telling a model written by a newer torch from a corrupt one.
#include "src/model/torch_compat.hpp"

#include <regex>
#include <sstream>

#include "partplan/common/error.hpp"

namespace partplan::model::compat {
namespace {

// c10::Error's message without its C++ backtrace; what() for anything else.
std::string message_of(const std::exception& e) {
  const auto* ce = dynamic_cast<const c10::Error*>(&e);
  return ce ? ce->what_without_backtrace() : e.what();
}

}  // namespace

std::string error_text(const std::exception& e) {
  // The TorchScript interpreter puts the real cause ("RuntimeError: Given groups=1, ...") on
  // the last line after a traceback; keep that line, without its exception-type prefix.
  const std::string msg = message_of(e);
  std::string best = first_line(msg);
  std::istringstream lines(msg);
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find("Error: ");
    if (at != std::string::npos && line.find(' ') > at) best = first_line(line.substr(at + 7));
    if (best.empty() && !line.empty()) best = line;  // a message that opens with a blank line
  }
  return best;
}

namespace {

// What to do about it depends on which build this is.
std::string which_build() {
#if TORCH_VERSION_MAJOR < 2
  return "use partplan's torch 2.x build (bash scripts/setup_torch2.sh; docs/building.md), or re-export the model "
         "with torch 1.13";
#else
  return "build partplan against a LibTorch at least as new as the torch that saved it (PARTPLAN_TORCH_VERSION, "
         "docs/building.md), or re-export the model with torch " TORCH_VERSION;
#endif
}

}  // namespace

std::optional<std::string> newer_archive_reason(const std::exception& e) {
  const std::string msg = message_of(e);
  std::smatch m;
  // 1.13: "Unknown builtin op: aten::scaled_dot_product_attention." (then suggestions).
  static const std::regex op_re("Unknown builtin op: ([A-Za-z0-9_:.]*[A-Za-z0-9_])");
  if (std::regex_search(msg, m, op_re))
    return "calls operator " + m[1].str() + ", which this partplan's LibTorch " TORCH_VERSION
           " does not have: the model was saved by a newer torch; " + which_build();
  // caffe2's reader: "Attempted to read a PyTorch file with version 99, but the maximum
  // supported version for reading is 10. Your PyTorch installation may be too old."
  static const std::regex version_re("file with version ([0-9]+), but the maximum supported version for reading is ([0-9]+)");
  if (std::regex_search(msg, m, version_re))
    return "has TorchScript file format version " + m[1].str() + ", above the " + m[2].str() +
           " that this partplan's LibTorch " TORCH_VERSION " reads: the model was saved by a newer torch; " +
           which_build();
  return std::nullopt;
}

}  // namespace partplan::model::compat
