// Phase "cuts": which cuts this run assesses, and how shards share them out.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "src/pipeline/phases/phases.hpp"

namespace partplan::pipeline {
namespace phases {
namespace {

/// The ternary split's back cut: the named one, or the classifier's input.
model::CutPoint back_cut_of(const model::ModelSummary& summary, const AssessOptions& o) {
  if (!o.back_cut.empty()) return model::find_cut(summary, o.back_cut);
  if (summary.classifier_input_cut) return summary.cuts.at(static_cast<size_t>(*summary.classifier_input_cut));
  throw UsageError("'" + summary.path +
                   "' has no cut before its final weight layer: name the back cut with --back-cut");
}

/// The cuts of shard o.shard_index of o.shard_count (all of them for one shard).
std::vector<model::CutPoint> shard_cuts(const std::vector<model::CutPoint>& cuts, const common::Shape& image_shape,
                                        const AssessOptions& o) {
  if (o.shard_count <= 1 && o.shard_index == 0) return cuts;
  if (o.shard_index < 0 || o.shard_index >= o.shard_count)
    throw UsageError(
        fmt::format("--shard {}/{}: the index must be in 0..{}", o.shard_index, o.shard_count, o.shard_count - 1));
  std::vector<double> costs;
  for (const auto& c : cuts) costs.push_back(estimated_cut_cost(c, image_shape, o.cgan));
  const auto shard_of = assign_shards(costs, o.shard_count);
  std::vector<model::CutPoint> mine;
  for (size_t i = 0; i < cuts.size(); ++i)
    if (shard_of[i] == o.shard_index) mine.push_back(cuts[i]);
  log::info("shard {}/{}: {} of the {} candidate cuts", o.shard_index, o.shard_count, mine.size(), cuts.size());
  if (mine.empty())
    throw UsageError(fmt::format("shard {}/{} has no cut: there are only {} candidate cuts; use --shard with N <= {}",
                                 o.shard_index, o.shard_count, cuts.size(), cuts.size()));
  return mine;
}

}  // namespace

CutSelection select_cuts(const Context& ctx) {
  const auto& summary = ctx.model.summary();
  const auto& o = ctx.options;
  CutSelection sel;
  auto cuts = model::select_cuts(summary, o.cuts_spec);
  if (cuts.empty())
    throw UsageError("--cuts '" + o.cuts_spec + "' selects no cut of '" + summary.path + "'; try --cuts all");
  if (o.ternary) {
    // The host of a ternary split sees the middle part only: cuts up to the back cut.
    const auto back = back_cut_of(summary, o);
    sel.back_cut = back;
    const auto before = cuts.size();
    cuts.erase(std::remove_if(cuts.begin(), cuts.end(), [&](const model::CutPoint& c) { return c.id > back.id; }),
               cuts.end());
    if (cuts.size() < before)
      log::warn("ternary split: {} selected cut(s) after the back cut '{}' dropped (they run in the enclave)",
                before - cuts.size(), back.name);
    if (std::none_of(cuts.begin(), cuts.end(), [&](const model::CutPoint& c) { return c.id == back.id; }))
      cuts.push_back(back);  // the host sees the middle part's output: it is measured too
  }
  sel.candidates = cuts;
  sel.cuts = shard_cuts(cuts, ctx.model_sample, o);
  return sel;
}

AttackPlan attack_plan(const AssessOptions& o) {
  AttackPlan p;
  for (const auto& a : o.attacks) {
    if (a == "whitebox")
      p.whitebox = true;
    else if (a != "oracle")
      p.trained.push_back(a);
  }
  return p;
}

}  // namespace phases

double estimated_cut_cost(const model::CutPoint& cut, const common::Shape& image_shape,
                          const attacks::CganOptions& cgan) {
  const double cut_elements = static_cast<double>(common::numel(common::Shape(cut.shape.begin() + 1, cut.shape.end())));
  const double pixels = static_cast<double>(common::numel(image_shape)) / static_cast<double>(image_shape.at(0));
  const double width = static_cast<double>(cgan.min_width);
  const double generator = 2 * cut_elements * static_cast<double>(cgan.width) + 2 * 2 * 9 * pixels * width * width;
  return cut.front_flops + 3 * generator;
}

std::vector<int64_t> assign_shards(const std::vector<double>& costs, int64_t count) {
  if (count < 1) throw UsageError(fmt::format("--shard N must be at least 1, got {}", count));
  std::vector<size_t> order(costs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(static_cast<size_t>(count), 0.0);
  std::vector<int64_t> out(costs.size(), 0);
  for (size_t i : order) {
    const auto least = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    out[i] = static_cast<int64_t>(least);
    load[least] += costs[i];
  }
  return out;
}

}  // namespace partplan::pipeline
