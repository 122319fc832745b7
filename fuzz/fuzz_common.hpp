#pragma once
// Shared by the fuzz targets: how one input is cut into the several files or values a reader
// takes, and how a broken contract is reported. A target catches partplan::Error (the
// reader's documented failure) and nothing else, so any other exception escapes and
// libFuzzer records it, as it records a crash, a hang or a sanitizer report.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace partplan::fuzz {

/// The input as text.
inline std::string_view as_text(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

/// `text` cut at every NUL byte: a JSON or CSV text holds none, so the first piece is the
/// document and the rest are side inputs (a PNG strip, --set assignments).
inline std::vector<std::string> split_at_nul(std::string_view text, size_t max_pieces) {
  std::vector<std::string> out;
  size_t at = 0;
  while (out.size() + 1 < max_pieces) {
    const size_t nul = text.find('\0', at);
    if (nul == std::string_view::npos) break;
    out.emplace_back(text.substr(at, nul - at));
    at = nul + 1;
  }
  out.emplace_back(text.substr(at));
  return out;
}

/// A reader returned something that breaks its documented contract: a finding.
[[noreturn]] inline void contract_broken(const char* what) {
  std::fprintf(stderr, "fuzz: contract broken: %s\n", what);
  std::abort();
}

}  // namespace partplan::fuzz
