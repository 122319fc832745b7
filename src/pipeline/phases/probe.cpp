// Phase "probe" (ternary splits): a linear probe on each cut's features.
#include <fmt/format.h>

#include "partplan/common/error.hpp"
#include "partplan/partition/extractor.hpp"
#include "src/pipeline/exposure.hpp"
#include "src/pipeline/phases/phases.hpp"

namespace partplan::pipeline::phases {

ProbeResult probe_phase(const Samples& s, const CutSelection& sel, const Statistics& st, const Reference& ref) {
  const auto& cuts = sel.cuts;
  const auto& o = s.ctx.options;
  double per_sample = 0;
  for (const auto& c : cuts) per_sample += static_cast<double>(c.activation_bytes);
  const double n = static_cast<double>(s.data.n_train() + s.data.n_eval());
  const double limit = static_cast<double>(o.feature_memory_mib) * 1048576.0;
  if (per_sample * n > limit)
    throw UsageError(fmt::format(
        "the ternary split's linear probe holds the {} cuts' features for {} samples, {:.0f} MiB, above "
        "limits.feature_memory_mib = {}: select fewer cuts (--cuts), lower data.attacker_train, or raise the limit",
        cuts.size(), static_cast<int64_t>(n), per_sample * n / 1048576.0, o.feature_memory_mib));
  partition::FeatureExtractor ex(s.ctx.model, ids_of(cuts));
  auto collect = [&](const std::vector<int64_t>& idx) {
    std::vector<std::vector<at::Tensor>> parts(cuts.size());
    for_batches(idx, s.pass_batch(ex.cut_ids()), [&](int64_t, const std::vector<int64_t>& b) {
      const auto outs = ex(s.input(s.unit(b)));
      for (size_t k = 0; k < outs.size(); ++k) parts[k].push_back(outs[k]);
    });
    std::vector<at::Tensor> out;
    for (auto& p : parts) out.push_back(torch::cat(p, 0));
    return out;
  };
  const auto train = collect(s.data.splits.attacker_train);
  const auto eval = collect(s.data.splits.eval);
  const int64_t classes = ref.eval_logits.size(1);
  const auto train_labels = st.train_pred.to(s.ctx.device), eval_labels = ref.eval_logits.argmax(1);
  ProbeResult p;
  p.chance =
      (torch::bincount(eval_labels, {}, classes).max().to(torch::kDouble) / static_cast<double>(eval_labels.size(0)))
          .item<double>();
  for (size_t i = 0; i < cuts.size(); ++i) {
    s.ctx.report(Progress::of(Phase::kProbe).with_cuts(static_cast<int>(i), static_cast<int>(cuts.size()), cuts[i].name));
    p.accuracy.push_back(linear_probe_accuracy(train[i], train_labels, eval[i], eval_labels, classes,
                                               o.seed + static_cast<uint64_t>(cuts[i].id)));
    if (sel.back_cut && cuts[i].id == sel.back_cut->id) p.back = p.accuracy.back();
  }
  return p;
}

}  // namespace partplan::pipeline::phases
