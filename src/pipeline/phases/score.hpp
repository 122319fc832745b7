#pragma once
// One score accumulator for every attacker and every baseline: the modality's measures plus,
// for a classifier, the semantic leakage of the reconstructions. Internal to src/pipeline.

#include <memory>
#include <optional>
#include <string>

#include "partplan/partition/extractor.hpp"
#include "src/pipeline/phases/phases.hpp"

namespace partplan::pipeline::phases {

class ScoreAccumulator {
 public:
  /// `runner`: the model, for the semantic measures (top-1 agreement and KL against
  /// `ref.eval_logits`); null leaves them out (baselines).
  ScoreAccumulator(const Samples& s, int64_t grid_images, const partition::ModelRunner* runner);
  /// rec: the reconstructions of eval samples [first, first+n), truth those samples, both
  /// [n, ...] in [0,1] on the device; logits: the model's output on the truth [n, K].
  void add(int64_t first, const at::Tensor& rec, const at::Tensor& truth, const at::Tensor& logits);
  /// The score over everything added: measures, samples scored, semantic leakage. eval_pool:
  /// Reference::eval_pool (records are re-identified among it).
  AttackScore finish(std::string attack, const at::Tensor& eval_pool) const;
  /// The first grid_images reconstructions, on the host; undefined when none were kept.
  at::Tensor grid() const { return measures_->grid(); }

 private:
  const Samples& s_;
  const partition::ModelRunner* runner_;
  std::unique_ptr<MeasureAccumulator> measures_;
  int64_t count_ = 0, agree_ = 0;
  double kl_ = 0;
};

/// The score of a baseline, from its accumulator's.
Baseline to_baseline(const BaselineSpec& spec, const AttackScore& score);

}  // namespace partplan::pipeline::phases
