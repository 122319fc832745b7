// Phase "reference": one pass over eval for the model's predictions, the grid originals and
// the baselines (guesses that need no feature).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "partplan/common/log.hpp"
#include "partplan/partition/extractor.hpp"
#include "src/pipeline/exposure.hpp"
#include "src/pipeline/phases/phases.hpp"
#include "src/pipeline/phases/score.hpp"

namespace partplan::pipeline::phases {
namespace {

/// A baseline's guess for a batch: the blank sample, the mean sample, or the prototype of the
/// class the model predicts (`logits` the model's output on `unit`).
at::Tensor guess_for(const BaselineSpec& spec, const Statistics* st, const at::Tensor& unit, const at::Tensor& logits) {
  switch (spec.guess) {
    case BaselineSpec::Guess::kZeros: return torch::zeros_like(unit);
    case BaselineSpec::Guess::kMean: return st->mean_sample.expand_as(unit).contiguous();
    case BaselineSpec::Guess::kPrototype: return st->prototypes.index_select(0, logits.argmax(1));
  }
  return {};
}

/// The baselines that can be scored: the mean needs the stats pass, a prototype also a classifier.
std::vector<BaselineSpec> available_baselines(const Samples& s, const Statistics* st) {
  std::vector<BaselineSpec> out;
  if (!s.ctx.options.baselines) return out;
  std::vector<std::string> left_out;
  for (auto& spec : s.modality().baselines()) {
    const bool ok = spec.guess == BaselineSpec::Guess::kZeros ||
                    (spec.guess == BaselineSpec::Guess::kMean && st && st->mean_sample.defined()) ||
                    (spec.guess == BaselineSpec::Guess::kPrototype && st && st->prototypes.defined());
    if (ok)
      out.push_back(std::move(spec));
    else if (!st)
      left_out.push_back(spec.name);
  }
  if (!left_out.empty())
    log::info("baselines {} left out: they need the attacker-train pass, which a pre-screen does not run",
              fmt::format("{}", fmt::join(left_out, ", ")));
  return out;
}

}  // namespace

Reference reference_pass(const Samples& s, const Statistics* st) {
  partition::ModelRunner runner(s.ctx.model);
  const int64_t k = std::min<int64_t>(s.ctx.options.grid_images, s.data.n_eval());
  const bool pool = s.modality().needs_eval_pool();
  const auto specs = available_baselines(s, st);
  std::vector<ScoreAccumulator> acc;
  for (size_t i = 0; i < specs.size(); ++i) acc.emplace_back(s, 0, nullptr);
  std::vector<at::Tensor> logits, originals, eval_pool;
  for_batches(s.data.splits.eval, s.pass_batch({}), [&](int64_t first, const std::vector<int64_t>& b) {
    const auto unit = s.unit(b);
    const auto out = runner(s.input(unit));
    logits.push_back(out);
    if (pool)
      eval_pool.push_back(unit);
    else if (first < k)
      originals.push_back(unit.narrow(0, 0, std::min<int64_t>(k - first, unit.size(0))));
    for (size_t i = 0; i < specs.size(); ++i) acc[i].add(first, guess_for(specs[i], st, unit, out), unit, out);
  });
  Reference ref;
  ref.eval_logits = torch::cat(logits, 0);
  if (pool) ref.eval_pool = torch::cat(eval_pool, 0);
  if (!originals.empty()) ref.originals = to_image8(torch::cat(originals, 0));
  for (size_t i = 0; i < specs.size(); ++i) {
    ref.baselines.push_back(to_baseline(specs[i], acc[i].finish(specs[i].name, ref.eval_pool)));
    // The host of a two-way split sees the prediction; it can always answer with the
    // average auxiliary sample of the predicted class.
    if (specs[i].guess == BaselineSpec::Guess::kPrototype) ref.label_floor = ref.baselines.back().headline().mean;
  }
  if (s.data.classifier && !s.modality().no_oracle()) {  // the oracle's reference
    const auto uniform = torch::zeros_like(ref.eval_logits);
    ref.oracle_reference_kl = kl_per_image(ref.eval_logits, uniform).mean().item<double>();
  }
  return ref;
}

}  // namespace partplan::pipeline::phases
