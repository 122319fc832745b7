// Phase "stats": one pass over attacker-train with every cut and the model's output.
#include "partplan/attacks/trainer.hpp"
#include "partplan/common/log.hpp"
#include "partplan/partition/extractor.hpp"
#include "src/pipeline/phases/phases.hpp"

namespace partplan::pipeline::phases {
namespace {

/// Sums per predicted class, for the class prototypes.
struct ClassSums {
  at::Tensor sum, count;
  std::vector<at::Tensor> preds;
  void add(const at::Tensor& unit, const at::Tensor& logits) {
    const auto pred = logits.argmax(1);
    preds.push_back(pred);
    if (!sum.defined()) {
      auto shape = unit.sizes().vec();
      shape[0] = logits.size(1);
      sum = torch::zeros(shape, unit.options());
      count = torch::zeros({logits.size(1)}, unit.options());
    }
    sum.index_add_(0, pred, unit);
    count.index_add_(0, pred, torch::ones({pred.size(0)}, unit.options()));
  }
  /// Each class's mean sample, or `mean` for a class never predicted.
  at::Tensor prototypes(const at::Tensor& mean) const {
    std::vector<int64_t> view(static_cast<size_t>(sum.dim()), 1);
    view[0] = sum.size(0);
    const auto c = count.view(view);
    return torch::where(c > 0, sum / c.clamp_min(1), mean.expand_as(sum));
  }
};

}  // namespace

Statistics stats_pass(const Samples& s, const CutSelection& sel) {
  const auto& cuts = sel.cuts;
  const auto& idx = s.data.splits.attacker_train;
  const auto target = s.modality().target_shape();
  partition::FeatureExtractor ex(s.ctx.model, ids_of(cuts), /*include_output=*/true);
  std::vector<attacks::FeatureStatsAccumulator> acc(cuts.size());
  std::vector<attacks::LinearInverseAccumulator> lin;
  for (const auto& cut : cuts) lin.emplace_back(common::Shape(cut.shape.begin() + 1, cut.shape.end()), target);
  at::Tensor sum;
  ClassSums classes;
  std::vector<at::Tensor> kept;  // attacker-train's samples, when the modality asks for them
  int64_t done = 0;
  for_batches(idx, s.pass_batch(ex.cut_ids()), [&](int64_t, const std::vector<int64_t>& b) {
    const auto unit = s.unit(b);
    const auto outs = ex(s.input(unit));
    for (size_t k = 0; k < cuts.size(); ++k) {
      acc[k].add(outs[k]);
      lin[k].add(outs[k], unit);
    }
    if (s.modality().needs_train_samples()) kept.push_back(unit);
    const auto part = unit.sum(0, /*keepdim=*/true);
    sum = sum.defined() ? sum + part : part;
    if (s.data.classifier) classes.add(unit, outs.back());
    done += static_cast<int64_t>(b.size());
    s.ctx.advance(Phase::kStats, 0, static_cast<double>(done) / static_cast<double>(idx.size()));
    s.ctx.report(Progress::of(Phase::kStats).with_cuts(0, static_cast<int>(cuts.size())).with_steps(
        done, static_cast<int64_t>(idx.size())));
  });
  Statistics st;
  for (size_t k = 0; k < cuts.size(); ++k) {
    st.feature_stats.push_back(acc[k].result());
    st.linear_inverse.push_back(lin[k].result(st.feature_stats.back()));
    if (!st.linear_inverse.back().empty())
      log::info("cut {:<16} linear inverse explains {:.3f} of the pixel variance{}", cuts[k].name,
                st.linear_inverse.back().r2,
                st.linear_inverse.back().adoptable(s.ctx.options.cgan.linear_min_r2) ? " (adopted)" : "");
  }
  st.mean_sample = sum / static_cast<double>(idx.size());
  if (s.data.classifier) {
    st.prototypes = classes.prototypes(st.mean_sample);
    st.train_pred = torch::cat(classes.preds, 0);
  }
  if (s.modality().needs_train_samples())
    s.modality().adjust_prototypes(torch::cat(kept, 0), st.train_pred, st.mean_sample, st.prototypes);
  return st;
}

}  // namespace partplan::pipeline::phases
