// The assessment's context and shared helpers (context.hpp).
#include "src/pipeline/phases/context.hpp"

#include <fmt/format.h>

#include "partplan/common/error.hpp"
#include "partplan/data/dataset.hpp"
#include "partplan/data/preprocess.hpp"

namespace partplan::pipeline::phases {

Context make_context(const model::Model& model, const AssessOptions& o, const ProgressFn& progress,
                     PhaseClock* clock) {
  if (o.device == "auto") throw UsageError("assess needs a resolved device (cpu, cuda:N), not 'auto'");
  const auto& summary = model.summary();
  const common::Shape sample(summary.input_shape.begin() + 1, summary.input_shape.end());
  if (sample.size() != 3 && !data::is_csv_source(o.data.source))
    throw UsageError(
        fmt::format("'{}' takes input {}, not an image [N,C,H,W]: assess rebuilds images, or the records "
                    "of a CSV data source (--data FILE.csv, see docs/data.md)",
                    summary.path, common::format_shape(summary.input_shape)));
  auto pre = data::preprocess_for(sample, o.data);
  return Context{model, o, progress, torch::Device(o.device), sample, pre, data::ModelInput(pre, sample), clock};
}

std::vector<int> ids_of(const std::vector<model::CutPoint>& cuts) {
  std::vector<int> ids;
  for (const auto& c : cuts) ids.push_back(c.id);
  return ids;
}

std::vector<double> to_vector(const at::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

common::Image8 to_image8(const at::Tensor& images) {
  common::Image8 out;
  if (!images.defined() || images.size(0) == 0) return out;
  auto t = images.detach().clamp(0, 1).mul(255).round().to(torch::kCPU, torch::kByte).contiguous();
  out.n = t.size(0);
  out.c = t.size(1);
  out.h = t.size(2);
  out.w = t.size(3);
  out.pixels.assign(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel());
  return out;
}

}  // namespace partplan::pipeline::phases
