// Cut selection by spec ("blocks", "all", or a list of ids/names). Torch-free.
#include <fmt/format.h>

#include <algorithm>

#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/model/model.hpp"

namespace partplan::model {
namespace {

std::string valid_names(const ModelSummary& s) {
  std::vector<std::string> names;
  for (const auto& c : s.cuts) names.push_back(c.name);
  const size_t kShow = 12;
  std::string out = fmt::format("{}", fmt::join(names.begin(), names.begin() + std::min(kShow, names.size()), ", "));
  if (names.size() > kShow) out += fmt::format(", ... ({} in all; see partplan inspect)", names.size());
  return out;
}

}  // namespace

const CutPoint& find_cut(const ModelSummary& s, const std::string& token) {
  if (!token.empty() && std::all_of(token.begin(), token.end(), ::isdigit)) {
    const long id = std::stol(token);
    if (id >= 0 && id < static_cast<long>(s.cuts.size())) return s.cuts[static_cast<size_t>(id)];
    throw UsageError(fmt::format("cut id {} out of range: '{}' has cuts 0..{}", token, s.path,
                                 static_cast<long>(s.cuts.size()) - 1));
  }
  for (const auto& c : s.cuts)
    if (c.name == token) return c;
  const CutPoint* by_scope = nullptr;
  int matches = 0;
  for (const auto& c : s.cuts)
    if (std::find(c.exits.begin(), c.exits.end(), token) != c.exits.end() || c.scope == token) {
      by_scope = &c;
      ++matches;
    }
  if (matches == 1) return *by_scope;
  throw UsageError(fmt::format("cut '{}' not found{}; valid: {}", token,
                               matches > 1 ? " as a unique cut (it names several; use an id)" : "", valid_names(s)));
}

std::vector<CutPoint> select_cuts(const ModelSummary& s, const std::string& spec) {
  std::vector<CutPoint> out;
  if (spec == "all") return s.cuts;
  if (spec == "blocks") {
    for (const auto& c : s.cuts)
      if (c.is_block) out.push_back(c);
    return out;
  }
  for (const auto& tok : common::split(spec, ',')) {
    if (tok.empty())
      throw UsageError("cut list '" + spec + "' has an empty entry: write ids or names separated by commas");
    const CutPoint& c = find_cut(s, tok);
    if (std::none_of(out.begin(), out.end(), [&](const CutPoint& o) { return o.id == c.id; })) out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const CutPoint& a, const CutPoint& b) { return a.id < b.id; });
  return out;
}

}  // namespace partplan::model
