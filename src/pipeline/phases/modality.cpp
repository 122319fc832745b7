// The image and the record modality (modality.hpp).
#include "src/pipeline/phases/modality.hpp"

#include <fmt/format.h>

#include <numeric>

#include "partplan/metrics/psnr.hpp"
#include "partplan/metrics/ssim.hpp"
#include "src/pipeline/phases/context.hpp"

namespace partplan::pipeline::phases {
namespace {

class ImageMeasures final : public MeasureAccumulator {
 public:
  explicit ImageMeasures(int64_t grid_images) : grid_images_(grid_images) {}
  void add(int64_t first, const at::Tensor& rec, const at::Tensor& truth) override {
    const auto s = to_vector(metrics::ssim(rec, truth));
    const auto p = metrics::psnr(rec, truth);
    const auto pv = to_vector(p.psnr_db);
    ssim_.insert(ssim_.end(), s.begin(), s.end());
    psnr_.insert(psnr_.end(), pv.begin(), pv.end());
    capped_ += p.capped.sum().item<int64_t>();
    if (first < grid_images_)
      grid_.push_back(rec.narrow(0, 0, std::min<int64_t>(grid_images_ - first, rec.size(0))).cpu());
  }
  void finish(AttackScore& score, const at::Tensor&) const override {
    score.ssim = metrics::mean_ci(ssim_);
    score.psnr_db = metrics::mean_ci(psnr_);
    score.psnr_capped = capped_;
  }
  at::Tensor grid() const override { return grid_.empty() ? at::Tensor() : torch::cat(grid_, 0); }

 private:
  int64_t grid_images_;
  std::vector<double> ssim_, psnr_;
  int64_t capped_ = 0;
  std::vector<at::Tensor> grid_;
};

class ImageModality final : public Modality {
 public:
  explicit ImageModality(common::Shape image_shape) : shape_(std::move(image_shape)) {}
  const char* measure() const override { return kMeasureSsim; }
  common::Shape target_shape() const override { return shape_; }
  at::Tensor shaped(const at::Tensor& unit) const override { return unit; }
  at::Tensor layout(const at::Tensor& unit) const override { return unit; }
  std::unique_ptr<MeasureAccumulator> accumulator(int64_t grid_images) const override {
    return std::make_unique<ImageMeasures>(grid_images);
  }
  std::vector<BaselineSpec> baselines() const override {
    return {{"blank", "all-zero image", BaselineSpec::Guess::kZeros},
            {"mean-image", "mean attacker-train image: knows only the data distribution", BaselineSpec::Guess::kMean},
            {"label-prototype",
             "average attacker-train image of the class the model predicts: available to the host of any two-way "
             "split",
             BaselineSpec::Guess::kPrototype}};
  }
  bool needs_eval_pool() const override { return false; }
  bool needs_train_samples() const override { return false; }
  void adjust_prototypes(const at::Tensor&, const at::Tensor&, at::Tensor&, at::Tensor&) const override {}
  std::optional<std::string> no_oracle() const override { return std::nullopt; }
  std::string verb() const override { return "SSIM"; }
  const char* val_label() const override { return "SSIM"; }
  std::string detail(const AttackScore& s) const override { return fmt::format("PSNR {:.1f} dB", s.psnr_db.mean); }

 private:
  common::Shape shape_;
};

class RecordMeasures final : public MeasureAccumulator {
 public:
  RecordMeasures(const std::vector<metrics::RecordField>& fields, double tolerance)
      : fields_(fields), tolerance_(tolerance) {}
  void add(int64_t, const at::Tensor& rec, const at::Tensor&) override { recs_.push_back(rec); }
  void finish(AttackScore& score, const at::Tensor& eval_pool) const override {
    const auto rec = torch::cat(recs_, 0);
    std::vector<int64_t> own(static_cast<size_t>(rec.size(0)));
    std::iota(own.begin(), own.end(), int64_t{0});
    score.records = metrics::record_scores(rec, eval_pool, own, fields_, tolerance_);
  }
  at::Tensor grid() const override { return {}; }

 private:
  const std::vector<metrics::RecordField>& fields_;
  double tolerance_;
  std::vector<at::Tensor> recs_;
};

class RecordModality final : public Modality {
 public:
  RecordModality(std::vector<metrics::RecordField> fields, int64_t model_cells, double tolerance)
      : fields_(std::move(fields)), cells_(model_cells), tolerance_(tolerance) {}
  const char* measure() const override { return kMeasureReidentification; }
  common::Shape target_shape() const override { return {static_cast<int64_t>(fields_.size())}; }
  at::Tensor shaped(const at::Tensor& unit) const override {
    return unit.flatten(1).narrow(1, 0, static_cast<int64_t>(fields_.size())).contiguous();
  }
  at::Tensor layout(const at::Tensor& unit) const override {
    return cells_ > unit.size(1) ? at::constant_pad_nd(unit, {0, cells_ - unit.size(1)}) : unit;
  }
  std::unique_ptr<MeasureAccumulator> accumulator(int64_t) const override {
    return std::make_unique<RecordMeasures>(fields_, tolerance_);
  }
  // Records have no blank guess: an all-zero record is one more constant guess.
  std::vector<BaselineSpec> baselines() const override {
    return {{"mean-record",
             "attacker-train's mean numeric fields and most common categories: knows only the data distribution "
             "(its categorical accuracy is the majority-class baseline)",
             BaselineSpec::Guess::kMean},
            {"label-prototype",
             "the same record for the class the model predicts: available to the host of any two-way split",
             BaselineSpec::Guess::kPrototype}};
  }
  bool needs_eval_pool() const override { return true; }
  bool needs_train_samples() const override { return true; }
  /// A categorical field's prototype is its most common category, not the mean of its codes.
  void adjust_prototypes(const at::Tensor& train, const at::Tensor& train_pred, at::Tensor& mean,
                         at::Tensor& prototypes) const override {
    mean = metrics::record_prototype(train, fields_).unsqueeze(0);
    if (!prototypes.defined()) return;
    const auto pred = train_pred.to(train.device());
    std::vector<at::Tensor> rows;
    for (int64_t k = 0; k < prototypes.size(0); ++k) {
      const auto mine = torch::nonzero(pred == k).flatten();
      rows.push_back(mine.numel() ? metrics::record_prototype(train.index_select(0, mine), fields_) : mean.squeeze(0));
    }
    prototypes = torch::stack(rows, 0);
  }
  std::optional<std::string> no_oracle() const override {
    return "records: the oracle exposure feeds a cut's channels to the model as images, which a record is not";
  }
  std::string verb() const override { return "re-identified"; }
  const char* val_label() const override { return "closeness"; }
  std::string detail(const AttackScore& s) const override {
    const auto& rs = *s.records;
    auto f = [](const std::optional<metrics::MeanCi>& m) { return m ? fmt::format("{:.3f}", m->mean) : "-"; };
    return fmt::format("fields: numeric error {}, within tolerance {}, categorical accuracy {}", f(rs.numeric_error),
                       f(rs.numeric_within), f(rs.categorical_accuracy));
  }

 private:
  std::vector<metrics::RecordField> fields_;
  int64_t cells_;
  double tolerance_;
};

}  // namespace

std::unique_ptr<Modality> image_modality(common::Shape image_shape) {
  return std::make_unique<ImageModality>(std::move(image_shape));
}

std::unique_ptr<Modality> record_modality(std::vector<metrics::RecordField> fields, int64_t model_cells,
                                          double tolerance) {
  return std::make_unique<RecordModality>(std::move(fields), model_cells, tolerance);
}

std::vector<metrics::RecordField> record_fields(const data::Dataset& ds) {
  std::vector<metrics::RecordField> fields(static_cast<size_t>(ds.record_features));
  for (const auto& c : ds.report.columns)
    if (c.feature >= 0)
      fields[static_cast<size_t>(c.feature)] = {c.name, c.kind != data::ColumnKind::kNumeric, c.categories, c.constant};
  return fields;
}

}  // namespace partplan::pipeline::phases
