// The shared feature extractor: one submodule over the frozen graph's nodes up to the
// deepest selected cut, returning every selected cut tensor (cloned) as a tuple.
#include "partplan/partition/extractor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "partplan/common/error.hpp"
#include "partplan/model/device.hpp"
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
  return run(x);
}

std::vector<at::Tensor> FeatureExtractor::differentiable(const at::Tensor& x) const {
  torch::AutoGradMode grad(true);
  return run(x);
}

std::vector<at::Tensor> FeatureExtractor::run(const at::Tensor& x) const {
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

struct ModelRunner::Impl {
  torch::jit::Module module;
};

ModelRunner::ModelRunner(const model::Model& model) : impl_(std::make_shared<Impl>()) {
  const auto& mi = model.impl();
  impl_->module =
      model::build_submodule(mi, 0, mi.nodes.size(), mi.graph->inputs()[1], {mi.graph->outputs()[0]}, "Runner");
}

at::Tensor ModelRunner::operator()(const at::Tensor& x) const {
  torch::NoGradGuard no_grad;
  try {
    return impl_->module.forward({x}).toTensor();
  } catch (const std::exception& e) {
    throw ModelError("model forward failed: " + first_line(e.what()));
  }
}

std::vector<double> time_parts(const model::Model& model, const std::vector<int>& cut_ids, const std::string& device,
                               int repeats) {
  const auto& mi = model.impl();
  std::vector<int> ids = cut_ids;
  std::sort(ids.begin(), ids.end());
  if (ids.size() > 2) throw UsageError("time_parts takes at most two cuts");
  torch::NoGradGuard no_grad;
  const torch::Device dev(device);
  std::vector<double> out;
  torch::jit::Value* input = mi.graph->inputs()[1];
  size_t begin = 0;
  common::Shape shape = mi.summary.input_shape;
  shape[0] = 1;
  at::Tensor x = torch::rand(shape).to(dev);
  for (size_t k = 0; k <= ids.size(); ++k) {
    const bool last = k == ids.size();
    const auto* cut = last ? nullptr : &mi.summary.cuts.at(static_cast<size_t>(ids[k]));
    torch::jit::Value* output = last ? mi.graph->outputs()[0] : mi.cut_values.at(static_cast<size_t>(cut->id));
    const size_t end = last ? mi.nodes.size() : static_cast<size_t>(cut->position) + 1;
    auto part = model::build_submodule(mi, begin, end, input, {output}, "Timed");
    auto run = [&]() { return part.forward({x}).toTensor(); };
    // Warm up: TorchScript's profiling executor optimises a graph only after its first runs,
    // and thread pools start lazily; without this one run measured 50x the next.
    at::Tensor y = run();
    for (int w = 0; w < 3; ++w) run();
    std::vector<double> t;
    for (int r = 0; r < std::max(1, repeats); ++r) {
      model::RegionTimer timer(device);  // CUDA events on a GPU, a steady clock on the CPU
      timer.start();
      run();
      timer.stop();
      t.push_back(timer.seconds());
    }
    std::sort(t.begin(), t.end());
    out.push_back(t[t.size() / 2]);
    x = y;
    input = output;
    begin = end;
  }
  return out;
}

}  // namespace partplan::partition
