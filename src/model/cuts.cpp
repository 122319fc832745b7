// Cut selection by spec ("stages", "blocks", "all", or a list of ids/names). Torch-free.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/model/model.hpp"

namespace partplan::model {
namespace {

std::string valid_names(const ModelSummary& s) {
  std::vector<std::string> names;
  for (const auto& c : s.cuts) names.push_back(c.name);
  return common::first_names(names, 12) + (names.size() > 12 ? "; see partplan inspect" : "");
}

// Spatial size of a cut tensor [N,C,h,w] with h*w > 4, else 0 (flat, tokens, tiny maps).
int64_t spatial(const CutPoint& c) {
  if (c.shape.size() != 4 || c.shape[2] * c.shape[3] <= 4) return 0;
  return c.shape[2] * c.shape[3];
}

std::vector<CutPoint> stage_cuts(const ModelSummary& s) {
  std::vector<CutPoint> pool;
  for (const auto& c : s.cuts)
    if (c.is_block) pool.push_back(c);
  if (pool.empty()) pool = s.cuts;
  if (pool.empty()) return pool;
  std::vector<CutPoint> out{pool.front()};
  auto add = [&](const CutPoint& c) {
    if (std::none_of(out.begin(), out.end(), [&](const CutPoint& o) { return o.id == c.id; })) out.push_back(c);
  };
  for (size_t i = 0; i < pool.size(); ++i)
    if (i + 1 == pool.size() || spatial(pool[i + 1]) != spatial(pool[i])) add(pool[i]);
  if (s.classifier_input_cut) add(s.cuts.at(static_cast<size_t>(*s.classifier_input_cut)));
  std::sort(out.begin(), out.end(), [](const CutPoint& a, const CutPoint& b) { return a.id < b.id; });
  if (out.size() <= kMaxStageCuts) return out;
  // Too many stages: keep the first and last, and the ones nearest to even steps of front FLOPs.
  std::vector<CutPoint> thin{out.front()};
  const double lo = out.front().front_flops, hi = out.back().front_flops;
  for (size_t k = 1; k + 1 < kMaxStageCuts; ++k) {
    const double target = lo + (hi - lo) * static_cast<double>(k) / static_cast<double>(kMaxStageCuts - 1);
    const auto best = std::min_element(out.begin(), out.end(), [&](const CutPoint& a, const CutPoint& b) {
      return std::abs(a.front_flops - target) < std::abs(b.front_flops - target);
    });
    if (std::none_of(thin.begin(), thin.end(), [&](const CutPoint& o) { return o.id == best->id; }))
      thin.push_back(*best);
  }
  if (thin.back().id != out.back().id) thin.push_back(out.back());
  std::sort(thin.begin(), thin.end(), [](const CutPoint& a, const CutPoint& b) { return a.id < b.id; });
  return thin;
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
  if (spec == "stages") return stage_cuts(s);
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
