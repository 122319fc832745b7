// Phase "data": load the data set, split it, pick the modality; and how phases draw samples.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/data/preprocess.hpp"
#include "partplan/partition/extractor.hpp"
#include "src/pipeline/phases/phases.hpp"

namespace partplan::pipeline::phases {
namespace {

/// An eval set below this many images gives a 95% CI wider than +-0.02 at an SSIM standard
/// deviation of 0.1 (1.96 * 0.1 / sqrt(n) > 0.02).
constexpr int64_t kEvalForNarrowCi = 97;

data::Splits split(const Context& ctx, const data::Dataset& ds, bool prescreen) {
  const auto& o = ctx.options;
  data::Splits splits;
  if (prescreen) {
    if (ds.size() < o.oracle.images)
      throw UsageError(
          fmt::format("the oracle pre-screen scores oracle.images = {} images, but '{}' has {}: add "
                      "images or lower oracle.images",
                      o.oracle.images, o.data.source, ds.size()));
    splits.eval.resize(static_cast<size_t>(ds.size()));
    std::iota(splits.eval.begin(), splits.eval.end(), int64_t{0});
    return splits;
  }
  const auto sizes = data::fit_split_sizes(ds.size(), o.data.split_policy());
  if (!ds.groups.defined()) return data::make_splits(ds.size(), sizes, o.seed);
  const auto g = ds.groups.contiguous();
  return data::make_group_splits(std::vector<int64_t>(g.data_ptr<int64_t>(), g.data_ptr<int64_t>() + g.numel()),
                                 sizes, o.seed);
}

/// Whether the model's output is a classifier's [N, K>1] (one forward of one sample).
bool is_classifier(const Samples& s) {
  partition::ModelRunner runner(s.ctx.model);
  const auto out = runner(s.input(s.unit({s.data.splits.eval.front()})));
  return out.dim() == 2 && out.size(1) > 1;
}

}  // namespace

LoadedData load_data(const Context& ctx, const AttackPlan& attacks) {
  const auto& o = ctx.options;
  ctx.report(Progress::of(Phase::kData));
  const bool prescreen = !attacks.any();
  data::LoadOptions lo;
  lo.sample_shape = ctx.model_sample;
  lo.csv = o.data.csv;
  lo.record_features = ctx.model.summary().record_features.value_or(0);
  lo.seed = o.seed;
  lo.crops_per_image = o.data.crops_per_image;
  // A pre-screen scores oracle.images eval images and loads only those.
  lo.max_samples = prescreen ? o.oracle.images : o.data.split_policy().samples_to_load();
  LoadedData d;
  d.ds = data::load(o.data.source, lo);
  d.modality = d.ds.record_features > 0
                   ? record_modality(record_fields(d.ds), common::numel(ctx.model_sample), o.records.tolerance)
                   : image_modality(ctx.model_sample);
  d.splits = split(ctx, d.ds, prescreen);
  if (!prescreen && d.n_eval() < kEvalForNarrowCi)
    log::warn(
        "only {} eval samples: at a typical SSIM spread (0.1) the 95% CI is wider than +-0.02; use a larger "
        "data set (or data.crops_per_image for a few large photos) for tighter scores",
        d.n_eval());
  d.batch = std::min(effective_batch_size(o.budget, d.modality->target_shape()), std::max<int64_t>(d.n_train(), 1));
  d.augment = o.data.augment && d.ds.is_image_folder;
  d.classifier = is_classifier(Samples(ctx, d));
  return d;
}

at::Tensor Samples::unit(const std::vector<int64_t>& idx) const {
  return modality().shaped(ctx.to_device(data::gather_unit(data.ds, idx)));
}

at::Tensor Samples::input(const at::Tensor& unit) const { return ctx.model_input(modality().layout(unit)); }

int64_t Samples::pass_batch(const std::vector<int>& ids) const {
  // The input, the cut tensors handed out, and about two of the forward's largest activations.
  const auto& cuts = ctx.model.summary().cuts;
  int64_t peak = 0;
  for (const auto& c : cuts) peak = std::max(peak, c.front_peak_activation_bytes);
  double bytes = static_cast<double>(common::numel(ctx.model_sample)) * 4 + 2.0 * static_cast<double>(peak);
  for (int id : ids) bytes += static_cast<double>(cuts.at(static_cast<size_t>(id)).activation_bytes);
  return std::clamp<int64_t>(static_cast<int64_t>(kPassBytes / std::max(bytes, 1.0)), 1, 256);
}

}  // namespace partplan::pipeline::phases
