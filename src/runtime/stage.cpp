// A worker stage as one argv word, and back (worker.hpp). Torch-free.
#include <fmt/format.h>

#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/runtime/wire.hpp"
#include "partplan/runtime/worker.hpp"

namespace partplan::runtime {
namespace {

constexpr char kSep = '\x1f';

std::string shape_word(const std::vector<int64_t>& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

}  // namespace

std::string encode_stage(const StageSpec& s) {
  const std::vector<std::string> fields = {s.name,     s.file,     s.sha256,   std::to_string(s.in_fd),
                                           std::to_string(s.out_fd), s.upstream, s.downstream,
                                           std::to_string(s.slot), shape_word(s.sample_shape)};
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].find(kSep) != std::string::npos)
      throw UsageError("stage field '" + fields[i] + "' holds a \\x1f byte: rename the file");
    out += (i ? std::string(1, kSep) : "") + fields[i];
  }
  return out;
}

StageSpec decode_stage(const std::string& word) {
  std::vector<std::string> f;
  size_t start = 0;
  for (size_t at; (at = word.find(kSep, start)) != std::string::npos; start = at + 1) f.push_back(word.substr(start, at - start));
  f.push_back(word.substr(start));
  if (f.size() != 9) throw UsageError(fmt::format("a worker stage has 9 fields, not {}", f.size()));
  StageSpec s;
  try {
    s.name = f[0], s.file = f[1], s.sha256 = f[2];
    s.in_fd = std::stoi(f[3]), s.out_fd = std::stoi(f[4]);
    s.upstream = f[5], s.downstream = f[6];
    s.slot = std::stoi(f[7]);
    for (const auto& d : common::split(f[8], 'x')) s.sample_shape.push_back(std::stoll(d));
  } catch (const std::logic_error&) {
    throw UsageError("a worker stage has a malformed number: '" + word + "'");
  }
  if (s.slot < 0 || s.slot >= kMaxStages) throw UsageError(fmt::format("stage slot {} out of range", s.slot));
  return s;
}

}  // namespace partplan::runtime
