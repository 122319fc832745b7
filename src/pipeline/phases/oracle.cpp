// Phase "oracle": the model-as-oracle exposure of each cut (docs/cost-model.md).
#include "partplan/partition/extractor.hpp"
#include "src/pipeline/exposure.hpp"
#include "src/pipeline/phases/phases.hpp"

namespace partplan::pipeline::phases {

std::vector<OracleScore> oracle_phase(const Samples& s, const CutSelection& sel, const Reference& ref) {
  const auto& cuts = sel.cuts;
  if (const auto why = s.modality().no_oracle()) {
    OracleScore none;
    none.note = *why;
    return std::vector<OracleScore>(cuts.size(), none);
  }
  partition::ModelRunner runner(s.ctx.model);
  const ModelFn model_fn = [&](const at::Tensor& x) { return runner(x); };
  const int64_t n = std::min<int64_t>(s.ctx.options.oracle.images, s.data.n_eval());
  const std::vector<int64_t> idx(s.data.splits.eval.begin(), s.data.splits.eval.begin() + n);
  partition::FeatureExtractor ex(s.ctx.model, ids_of(cuts));
  const auto unit = s.unit(idx);
  const auto feats = ex(s.input(unit));
  const auto logits = ref.eval_logits.narrow(0, 0, n);
  std::vector<OracleScore> out(cuts.size());
  for (size_t i = 0; i < cuts.size(); ++i) {
    s.ctx.report(Progress::of(Phase::kOracle).with_cuts(static_cast<int>(i), static_cast<int>(cuts.size()), cuts[i].name));
    out[i] = oracle_exposure(feats[i], unit, logits, model_fn, s.ctx.pre, s.ctx.model_sample,
                             s.ctx.options.oracle.max_channels);
    s.ctx.advance(Phase::kOracle, i, 1.0);
  }
  return out;
}

}  // namespace partplan::pipeline::phases
