// The shared feature extractor: one submodule over the frozen graph's nodes up to the
// deepest selected cut, returning every selected cut tensor (cloned) as a tuple.
#include "partplan/partition/extractor.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "partplan/common/error.hpp"
#include "partplan/model/jit_graph.hpp"

namespace partplan::partition {

struct FeatureExtractor::Impl {
  torch::jit::Module module;
  size_t outputs = 0;
};

FeatureExtractor::FeatureExtractor(const model::Model& model, std::vector<int> cut_ids, bool include_output)
    : impl_(std::make_shared<Impl>()) {
  const auto& mi = model.impl();
  std::sort(cut_ids.begin(), cut_ids.end());
  cut_ids.erase(std::unique(cut_ids.begin(), cut_ids.end()), cut_ids.end());
  if (cut_ids.empty()) throw UsageError("no cuts selected for feature extraction");
  std::vector<torch::jit::Value*> outs;
  size_t end = 0;
  for (int id : cut_ids) {
    if (id < 0 || id >= static_cast<int>(mi.cut_values.size()))
      throw UsageError(fmt::format("cut id {} out of range (0..{})", id, mi.cut_values.size() - 1));
    outs.push_back(mi.cut_values[static_cast<size_t>(id)]);
    end = std::max(end, static_cast<size_t>(mi.summary.cuts[static_cast<size_t>(id)].position) + 1);
  }
  if (include_output) {
    outs.push_back(mi.graph->outputs()[0]);
    end = mi.nodes.size();
  }
  impl_->module = model::build_submodule(mi, 0, end, mi.graph->inputs()[1], outs, "Extractor",
                                         /*clone_outputs=*/true);
  impl_->outputs = outs.size();
  ids_ = std::move(cut_ids);
}

std::vector<at::Tensor> FeatureExtractor::operator()(const at::Tensor& x) const {
  torch::NoGradGuard no_grad;
  c10::IValue out;
  try {
    out = impl_->module.forward({x});
  } catch (const std::exception& e) {
    throw ModelError("feature extraction failed: " + first_line(e.what()));
  }
  std::vector<at::Tensor> result;
  if (impl_->outputs == 1) {
    result.push_back(out.toTensor());
  } else {
    for (const auto& v : out.toTuple()->elements()) result.push_back(v.toTensor());
  }
  return result;
}

}  // namespace partplan::partition
