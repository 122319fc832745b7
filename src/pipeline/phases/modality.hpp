#pragma once
// One interface for what differs between images and CSV records: what the attackers
// rebuild, how it is laid out for the model, how a reconstruction is scored, which
// baselines exist and what the log calls the measure. The phases hold a Modality and never
// branch on the kind of data themselves. Internal to src/pipeline (it includes torch).

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "partplan/data/dataset.hpp"
#include "partplan/metrics/records.hpp"
#include "partplan/pipeline/assess.hpp"

namespace partplan::pipeline::phases {

/// The measures of one attacker (or baseline) over eval, gathered batch by batch.
class MeasureAccumulator {
 public:
  virtual ~MeasureAccumulator() = default;
  /// rec and truth: [n, ...] in [0,1], the reconstructions of eval samples [first, first+n).
  virtual void add(int64_t first, const at::Tensor& rec, const at::Tensor& truth) = 0;
  /// Writes the measures into `score` (SSIM/PSNR, or the record measures). `eval_pool` is
  /// the eval samples [n_eval, F] a record is re-identified among (undefined for images);
  /// the reconstructions added must be of the first eval samples, from the start.
  virtual void finish(AttackScore& score, const at::Tensor& eval_pool) const = 0;
  /// The first grid_images reconstructions, on the host; undefined when none were kept.
  virtual at::Tensor grid() const = 0;
};

/// A guess that needs no feature (docs/metrics.md, baselines).
struct BaselineSpec {
  enum class Guess { kZeros, kMean, kPrototype };
  std::string name;
  std::string note;
  Guess guess;
};

class Modality {
 public:
  virtual ~Modality() = default;
  /// The headline measure as plan.json spells it: kMeasureSsim or kMeasureReidentification.
  virtual const char* measure() const = 0;
  /// What the attackers rebuild per sample: [C,H,W], or [F] encoded record features.
  virtual common::Shape target_shape() const = 0;
  /// Gathered samples [n, ...] in [0,1] as the attackers see them.
  virtual at::Tensor shaped(const at::Tensor& unit) const = 0;
  /// Attacker-view samples laid out as the model's samples, before normalisation.
  virtual at::Tensor layout(const at::Tensor& unit) const = 0;
  /// A fresh accumulator keeping the first `grid_images` reconstructions (images only).
  virtual std::unique_ptr<MeasureAccumulator> accumulator(int64_t grid_images) const = 0;
  /// Every baseline this kind of data has, in report order.
  virtual std::vector<BaselineSpec> baselines() const = 0;
  /// Whether the scores need the eval samples as a pool (re-identification among them).
  virtual bool needs_eval_pool() const = 0;
  /// Whether the stats pass keeps attacker-train's samples for adjust_prototypes.
  virtual bool needs_train_samples() const = 0;
  /// After the stats pass: replace the mean sample [1, ...] and the class prototypes
  /// [K, ...] (undefined when the model is no classifier) where a mean of codes is wrong.
  /// train: attacker-train's samples [n, ...]; train_pred: their predicted classes [n].
  virtual void adjust_prototypes(const at::Tensor& train, const at::Tensor& train_pred, at::Tensor& mean,
                                 at::Tensor& prototypes) const = 0;
  /// Why the model-as-oracle exposure does not apply, or nullopt when it does.
  virtual std::optional<std::string> no_oracle() const = 0;
  /// The log's words for a score: "SSIM 0.912 [...]  PSNR 21.3 dB" style.
  virtual std::string verb() const = 0;
  /// What the attacker-val score (metrics::similarity) is: "SSIM" or "closeness".
  virtual const char* val_label() const = 0;
  virtual std::string detail(const AttackScore& score) const = 0;
};

/// Images `image_shape` [C,H,W] scored by SSIM and PSNR in [0,1] pixel space.
std::unique_ptr<Modality> image_modality(common::Shape image_shape);

/// CSV records: the attackers rebuild the encoded record [F] whatever the model's layout; a
/// record is laid out row-major and zero-padded to the model's `model_cells` inputs.
std::unique_ptr<Modality> record_modality(std::vector<metrics::RecordField> fields, int64_t model_cells,
                                          double tolerance);

/// The record fields of a CSV data set, per encoded feature (data::Dataset::report).
std::vector<metrics::RecordField> record_fields(const data::Dataset& ds);

}  // namespace partplan::pipeline::phases
