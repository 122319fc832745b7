// The streaming assessment, as named phases: data (load and split), stats (one pass over
// attacker-train: feature statistics per cut, the mean image, class prototypes), reference
// (one pass over eval: the model's predictions and the baselines), oracle, train (lockstep:
// one forward per batch feeds every active cut's attackers), score (eval, batch by batch,
// as soon as a cut's attackers stop), probe (ternary only) and cost. No phase keeps a feature
// per sample, except the ternary probe, which is bounded by limits.feature_memory_mib.
// To add an attacker, register it in attacks/ and name it in the config's "attacks" list.
#include "partplan/pipeline/assess.hpp"

#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "partplan/attacks/attacker.hpp"
#include "partplan/attacks/trainer.hpp"
#include "partplan/attacks/whitebox.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/config/fields.hpp"
#include "partplan/data/dataset.hpp"
#include "partplan/data/preprocess.hpp"
#include "partplan/data/splits.hpp"
#include "partplan/metrics/psnr.hpp"
#include "partplan/metrics/records.hpp"
#include "partplan/metrics/ssim.hpp"
#include "partplan/model/device.hpp"
#include "partplan/partition/extractor.hpp"
#include "src/pipeline/exposure.hpp"

namespace partplan::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

/// Bytes of cut tensors one inference batch may hold (stats, reference and score passes).
constexpr double kPassBytes = 512.0 * 1048576.0;
/// An eval set below this many images gives a 95% CI wider than +-0.02 at an SSIM standard
/// deviation of 0.1 (1.96 * 0.1 / sqrt(n) > 0.02).
constexpr int64_t kEvalForNarrowCi = 97;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

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

metrics::MeanCi ci(const std::vector<double>& v) { return metrics::mean_ci(v); }

/// What the phases share.
struct Run {
  const model::Model& model;
  const AssessOptions& o;
  const ProgressFn& progress;
  torch::Device dev;
  common::Shape model_sample, image_shape;
  data::Preprocess pre;
  data::Dataset ds;
  data::Splits splits;
  std::vector<model::CutPoint> cuts;
  std::vector<std::string> trained_attacks;  ///< the learned ones, in settings order
  bool whitebox = false;                     ///< "whitebox" is among the attacks
  int64_t batch = 0;
  bool augment = false;
  bool classifier = false;
  // CSV records: the attackers rebuild the encoded record [F], whatever the model's layout.
  bool records = false;
  int64_t record_features = 0;
  std::vector<metrics::RecordField> fields{};  ///< per record feature
  at::Tensor eval_records{};                   ///< [n_eval, F] on dev: the re-identification pool
  // From the stats pass over attacker-train.
  std::vector<attacks::FeatureStats> feature_stats{};    ///< per cut
  std::vector<attacks::LinearInverse> linear_inverse{};  ///< per cut; empty for non-spatial cuts
  at::Tensor mean_image{};                               ///< [1,C,H,W], records [1,F] (metrics::record_prototype)
  at::Tensor prototypes{};                               ///< [K,C,H,W] or [K,F] by predicted class
  at::Tensor train_pred{};                               ///< [n_train] the model's labels (ternary probe)
  // From the reference pass over eval.
  at::Tensor eval_logits{};  ///< [n_eval, K], device
  std::optional<data::ModelInput> model_input{};  ///< `pre` with its constants cached per device

  void report(Progress p) const {
    if (progress) progress(p);
  }
  /// Samples per inference batch when extracting `ids` (bounded by kPassBytes, at most 256).
  int64_t pass_batch(const std::vector<int>& ids) const {
    // The input, the cut tensors handed out, and about two of the forward's largest activations.
    int64_t peak = 0;
    for (const auto& c : model.summary().cuts) peak = std::max(peak, c.front_peak_activation_bytes);
    double bytes = static_cast<double>(common::numel(model_sample)) * 4 + 2.0 * static_cast<double>(peak);
    for (int id : ids) bytes += static_cast<double>(model.summary().cuts.at(static_cast<size_t>(id)).activation_bytes);
    return std::clamp<int64_t>(static_cast<int64_t>(kPassBytes / std::max(bytes, 1.0)), 1, 256);
  }
  /// Samples `idx` in [0,1] on dev: images [n,C,H,W], or records [n,F]. Gathered on the host
  /// and copied (pinned, non-blocking) to a GPU; the training steps use TrainBatches instead.
  at::Tensor images(const std::vector<int64_t>& idx) const { return shaped(to_device(data::gather_unit(ds, idx))); }
  /// A host tensor on dev; to a GPU through pinned memory, without waiting.
  at::Tensor to_device(const at::Tensor& t) const {
    return dev.is_cuda() ? t.pin_memory().to(dev, /*non_blocking=*/true) : t;
  }
  /// Gathered samples in [0,1] as the attackers see them: records flattened to [n,F].
  at::Tensor shaped(const at::Tensor& unit) const {
    return records ? unit.flatten(1).narrow(1, 0, record_features).contiguous() : unit;
  }
  /// To the model's input; a record is laid out row-major and zero-padded to the model's cells.
  at::Tensor input(const at::Tensor& unit) const {
    if (!records) return (*model_input)(unit);
    const int64_t cells = common::numel(model_sample);
    const auto x = cells > unit.size(1) ? at::constant_pad_nd(unit, {0, cells - unit.size(1)}) : unit;
    return (*model_input)(x);
  }
  /// Record measures of `rec`, the reconstructions of the first rec.size(0) eval records
  /// (every caller scores eval from its start), each against the whole eval pool.
  metrics::RecordScores record_scores(const at::Tensor& rec) const {
    std::vector<int64_t> own(static_cast<size_t>(rec.size(0)));
    std::iota(own.begin(), own.end(), int64_t{0});
    return metrics::record_scores(rec, eval_records, own, fields, o.records.tolerance);
  }
};

/// Calls fn(first, indices) for consecutive batches of `idx`.
template <class Fn>
void for_batches(const std::vector<int64_t>& idx, int64_t batch, Fn&& fn) {
  for (size_t i = 0; i < idx.size(); i += static_cast<size_t>(batch)) {
    std::vector<int64_t> b(idx.begin() + static_cast<long>(i),
                           idx.begin() + static_cast<long>(std::min(idx.size(), i + static_cast<size_t>(batch))));
    fn(static_cast<int64_t>(i), b);
  }
}

std::vector<int> ids_of(const std::vector<model::CutPoint>& cuts) {
  std::vector<int> ids;
  for (const auto& c : cuts) ids.push_back(c.id);
  return ids;
}

// ---- phase: cuts ---------------------------------------------------------------------------

std::vector<model::CutPoint> resolve_cuts(const model::ModelSummary& summary, const AssessOptions& o, AssessResult& r) {
  auto cuts = model::select_cuts(summary, o.cuts_spec);
  if (cuts.empty())
    throw UsageError("--cuts '" + o.cuts_spec + "' selects no cut of '" + summary.path + "'; try --cuts all");
  r.ternary = o.ternary;
  if (!o.ternary) return cuts;
  // The host of a ternary split sees the middle part only: cuts up to the back cut.
  model::CutPoint back;
  if (!o.back_cut.empty()) {
    back = model::find_cut(summary, o.back_cut);
  } else if (summary.classifier_input_cut) {
    back = summary.cuts.at(static_cast<size_t>(*summary.classifier_input_cut));
  } else {
    throw UsageError("'" + summary.path +
                     "' has no cut before its final weight layer: name the back cut with --back-cut");
  }
  r.back_cut = back;
  const auto before = cuts.size();
  cuts.erase(std::remove_if(cuts.begin(), cuts.end(), [&](const model::CutPoint& c) { return c.id > back.id; }),
             cuts.end());
  if (cuts.size() < before)
    log::warn("ternary split: {} selected cut(s) after the back cut '{}' dropped (they run in the enclave)",
              before - cuts.size(), back.name);
  if (std::none_of(cuts.begin(), cuts.end(), [&](const model::CutPoint& c) { return c.id == back.id; }))
    cuts.push_back(back);  // the host sees the middle part's output: it is measured too
  return cuts;
}

// ---- phase: data ---------------------------------------------------------------------------

void load_data(Run& run, AssessResult& r) {
  const auto& o = run.o;
  run.report({"data", 0, static_cast<int>(run.cuts.size()), "", 0, 0, 0, -1, -1});
  const bool prescreen = run.trained_attacks.empty() && !run.whitebox;
  const auto policy = o.data.split_policy();
  data::LoadOptions lo;
  lo.sample_shape = run.model_sample;
  lo.csv = o.data.csv;
  lo.record_features = run.model.summary().record_features.value_or(0);
  lo.seed = o.seed;
  lo.crops_per_image = o.data.crops_per_image;
  // A pre-screen scores oracle.images eval images and loads only those.
  lo.max_samples = prescreen ? o.oracle.images : policy.samples_to_load();
  run.ds = data::load(o.data.source, lo);
  r.data_description = run.ds.description;
  r.data_size = run.ds.size();
  r.data_notes = run.ds.report.notes;
  if (run.ds.record_features > 0) {
    run.records = true;
    run.record_features = run.ds.record_features;
    run.image_shape = {run.record_features};
    run.fields.resize(static_cast<size_t>(run.record_features));
    for (const auto& c : run.ds.report.columns)
      if (c.feature >= 0)
        run.fields[static_cast<size_t>(c.feature)] = {c.name, c.kind != data::ColumnKind::kNumeric, c.categories, c.constant};
    r.measure = kMeasureReidentification;
    r.record_columns = run.ds.report.columns;
  }
  if (prescreen) {
    if (run.ds.size() < o.oracle.images)
      throw UsageError(
          fmt::format("the oracle pre-screen scores oracle.images = {} images, but '{}' has {}: add "
                      "images or lower oracle.images",
                      o.oracle.images, o.data.source, run.ds.size()));
    run.splits.eval.resize(static_cast<size_t>(run.ds.size()));
    std::iota(run.splits.eval.begin(), run.splits.eval.end(), int64_t{0});
  } else {
    const auto sizes = data::fit_split_sizes(run.ds.size(), policy);
    if (run.ds.groups.defined()) {
      const auto g = run.ds.groups.contiguous();
      run.splits = data::make_group_splits(
          std::vector<int64_t>(g.data_ptr<int64_t>(), g.data_ptr<int64_t>() + g.numel()), sizes, o.seed);
    } else {
      run.splits = data::make_splits(run.ds.size(), sizes, o.seed);
    }
  }
  r.n_train = static_cast<int64_t>(run.splits.attacker_train.size());
  r.n_val = static_cast<int64_t>(run.splits.attacker_val.size());
  r.n_eval = static_cast<int64_t>(run.splits.eval.size());
  if (!prescreen && r.n_eval < kEvalForNarrowCi)
    log::warn(
        "only {} eval samples: at a typical SSIM spread (0.1) the 95% CI is wider than +-0.02; use a larger "
        "data set (or data.crops_per_image for a few large photos) for tighter scores",
        r.n_eval);
  run.batch = std::min(effective_batch_size(o.budget, run.image_shape), std::max<int64_t>(r.n_train, 1));
  run.augment = o.data.augment && run.ds.is_image_folder;
  r.batch_size = run.batch;
  r.augmented = run.augment && !run.trained_attacks.empty();
}

// ---- phase: stats --------------------------------------------------------------------------

/// Records: the mean record and the class prototypes take each categorical field's most common
/// category, not the mean of its codes (metrics::record_prototype). `train` is attacker-train's
/// records [n, F] (small), kept by the stats pass.
void record_prototypes(Run& run, const at::Tensor& train) {
  run.mean_image = metrics::record_prototype(train, run.fields).unsqueeze(0);
  if (!run.classifier) return;
  const auto pred = run.train_pred.to(run.dev);
  std::vector<at::Tensor> rows;
  for (int64_t k = 0; k < run.prototypes.size(0); ++k) {
    const auto mine = torch::nonzero(pred == k).flatten();
    rows.push_back(mine.numel() ? metrics::record_prototype(train.index_select(0, mine), run.fields)
                                : run.mean_image.squeeze(0));
  }
  run.prototypes = torch::stack(rows, 0);
}

/// One pass over attacker-train with every cut and the output: each cut's feature statistics
/// (the attackers' standardiser) and linear inverse, the mean image and the prototype of each
/// predicted class.
void stats_pass(Run& run) {
  const auto& idx = run.splits.attacker_train;
  partition::FeatureExtractor ex(run.model, ids_of(run.cuts), /*include_output=*/true);
  std::vector<attacks::FeatureStatsAccumulator> acc(run.cuts.size());
  std::vector<attacks::LinearInverseAccumulator> lin;
  for (const auto& cut : run.cuts)
    lin.emplace_back(common::Shape(cut.shape.begin() + 1, cut.shape.end()), run.image_shape);
  at::Tensor sum_image, class_sum, class_count;
  std::vector<at::Tensor> preds, train_records;
  int64_t done = 0;
  for_batches(idx, run.pass_batch(ex.cut_ids()), [&](int64_t, const std::vector<int64_t>& b) {
    const auto unit = run.images(b);
    const auto outs = ex(run.input(unit));
    for (size_t k = 0; k < run.cuts.size(); ++k) {
      acc[k].add(outs[k]);
      lin[k].add(outs[k], unit);
    }
    if (run.records) train_records.push_back(unit);
    const auto s = unit.sum(0, /*keepdim=*/true);
    sum_image = sum_image.defined() ? sum_image + s : s;
    const auto& logits = outs.back();
    if (run.classifier) {
      const auto pred = logits.argmax(1);
      preds.push_back(pred);
      if (!class_sum.defined()) {
        auto shape = unit.sizes().vec();
        shape[0] = logits.size(1);
        class_sum = torch::zeros(shape, unit.options());
        class_count = torch::zeros({logits.size(1)}, unit.options());
      }
      class_sum.index_add_(0, pred, unit);
      class_count.index_add_(0, pred, torch::ones({pred.size(0)}, unit.options()));
    }
    done += static_cast<int64_t>(b.size());
    run.report({"stats", 0, static_cast<int>(run.cuts.size()), "", done, static_cast<int64_t>(idx.size()), 0, -1, -1});
  });
  for (size_t k = 0; k < run.cuts.size(); ++k) {
    run.feature_stats.push_back(acc[k].result());
    run.linear_inverse.push_back(lin[k].result(run.feature_stats.back()));
    if (!run.linear_inverse.back().empty())
      log::info("cut {:<16} linear inverse explains {:.3f} of the pixel variance{}", run.cuts[k].name,
                run.linear_inverse.back().r2,
                run.linear_inverse.back().adoptable(run.o.cgan.linear_min_r2) ? " (adopted)" : "");
  }
  run.mean_image = sum_image / static_cast<double>(idx.size());
  if (run.classifier) {
    const int64_t k = class_sum.size(0);
    std::vector<int64_t> view(static_cast<size_t>(class_sum.dim()), 1);
    view[0] = k;
    const auto c = class_count.view(view);
    run.prototypes = torch::where(c > 0, class_sum / c.clamp_min(1), run.mean_image.expand_as(class_sum));
    run.train_pred = torch::cat(preds, 0);
  }
  if (run.records) record_prototypes(run, torch::cat(train_records, 0));
}

// ---- phase: reference ----------------------------------------------------------------------

/// One pass over eval: the model's predictions, the originals for the grids and the baselines.
void reference_pass(Run& run, AssessResult& r) {
  partition::ModelRunner runner(run.model);
  const int64_t k = std::min<int64_t>(run.o.grid_images, r.n_eval);
  std::vector<at::Tensor> logits, originals;
  struct Guess {
    std::string name, note;
    std::vector<double> ssim, psnr;
    std::vector<at::Tensor> rows;  ///< records: the guesses, scored once eval is complete
  };
  std::vector<Guess> guesses;
  const bool baselines = run.o.baselines;
  std::vector<at::Tensor> eval_records;
  if (baselines) {
    // Records have no blank guess: an all-zero record is one more constant guess.
    if (!run.records) guesses.push_back({"blank", "all-zero image", {}, {}, {}});
    if (run.mean_image.defined())
      guesses.push_back(run.records ? Guess{"mean-record",
                                            "attacker-train's mean numeric fields and most common categories: "
                                            "knows only the data distribution (its categorical accuracy is the "
                                            "majority-class baseline)",
                                            {}, {}, {}}
                                    : Guess{"mean-image", "mean attacker-train image: knows only the data "
                                            "distribution", {}, {}, {}});
    if (run.prototypes.defined())
      guesses.push_back({"label-prototype",
                         run.records ? "the same record for the class the model predicts: available to the host of "
                                       "any two-way split"
                                     : "average attacker-train image of the class the model predicts: available to "
                                       "the host of any two-way split",
                         {}, {}, {}});
  }
  for_batches(run.splits.eval, run.pass_batch({}), [&](int64_t first, const std::vector<int64_t>& b) {
    const auto unit = run.images(b);
    const auto out = runner(run.input(unit));
    logits.push_back(out);
    if (run.records)
      eval_records.push_back(unit);
    else if (first < k)
      originals.push_back(unit.narrow(0, 0, std::min<int64_t>(k - first, unit.size(0))));
    for (auto& g : guesses) {
      at::Tensor guess;
      if (g.name == "blank")
        guess = torch::zeros_like(unit);
      else if (g.name == "mean-image" || g.name == "mean-record")
        guess = run.mean_image.expand_as(unit).contiguous();
      else
        guess = run.prototypes.index_select(0, out.argmax(1));
      if (run.records) {
        g.rows.push_back(guess);
        continue;
      }
      const auto ssim = to_vector(metrics::ssim(guess, unit));
      const auto psnr = to_vector(metrics::psnr(guess, unit).psnr_db);
      g.ssim.insert(g.ssim.end(), ssim.begin(), ssim.end());
      g.psnr.insert(g.psnr.end(), psnr.begin(), psnr.end());
    }
  });
  run.eval_logits = torch::cat(logits, 0);
  if (run.records) run.eval_records = torch::cat(eval_records, 0);
  if (!originals.empty()) r.eval_originals = to_image8(torch::cat(originals, 0));
  for (auto& g : guesses) {
    if (run.records) {
      Baseline b;
      b.name = g.name;
      b.note = g.note;
      b.records = run.record_scores(torch::cat(g.rows, 0));
      r.baselines.push_back(b);
    } else {
      r.baselines.push_back({g.name, ci(g.ssim), ci(g.psnr), g.note, std::nullopt});
    }
    // The host of a two-way split sees the prediction; it can always answer with the
    // average auxiliary image of the predicted class.
    if (g.name == "label-prototype") r.label_floor = r.baselines.back().headline().mean;
  }
  if (run.classifier && !run.records) {  // the oracle's reference: records have no oracle exposure
    const auto uniform = torch::zeros_like(run.eval_logits);
    r.oracle_reference_kl = kl_per_image(run.eval_logits, uniform).mean().item<double>();
  }
}

/// Whether the model's output is a classifier's [N, K>1] (one forward of one image).
bool is_classifier(const Run& run) {
  partition::ModelRunner runner(run.model);
  const auto out = runner(run.input(run.images({run.splits.eval.front()})));
  return out.dim() == 2 && out.size(1) > 1;
}

// ---- phase: oracle -------------------------------------------------------------------------

std::vector<OracleScore> oracle_phase(const Run& run, int64_t n_eval) {
  if (run.records) {
    OracleScore none;
    none.note = "records: the oracle exposure feeds a cut's channels to the model as images, which a record is not";
    return std::vector<OracleScore>(run.cuts.size(), none);
  }
  partition::ModelRunner runner(run.model);
  const ModelFn model_fn = [&](const at::Tensor& x) { return runner(x); };
  const int64_t n = std::min<int64_t>(run.o.oracle.images, n_eval);
  const std::vector<int64_t> idx(run.splits.eval.begin(), run.splits.eval.begin() + n);
  partition::FeatureExtractor ex(run.model, ids_of(run.cuts));
  const auto unit = run.images(idx);
  const auto feats = ex(run.input(unit));
  const auto logits = run.eval_logits.narrow(0, 0, n);
  std::vector<OracleScore> out(run.cuts.size());
  for (size_t i = 0; i < run.cuts.size(); ++i) {
    run.report({"oracle", static_cast<int>(i), static_cast<int>(run.cuts.size()), run.cuts[i].name, 0, 0, 0, -1, -1});
    out[i] = oracle_exposure(feats[i], unit, logits, model_fn, run.pre, run.model_sample, run.o.oracle.max_channels);
  }
  return out;
}

// ---- phases: train and score ---------------------------------------------------------------

/// One cut's attackers while they train.
struct CutTraining {
  size_t index = 0;  ///< into run.cuts
  std::vector<std::unique_ptr<attacks::Attacker>> attackers;
  std::vector<attacks::TrainTracker> trackers;
  std::vector<model::RegionTimer> timers;      ///< each attacker's step time (CUDA events on a GPU)
  std::vector<std::vector<at::Tensor>> l1;     ///< each attacker's step losses not yet read
  /// Read the pending losses into the trackers: one device-to-host copy per attacker.
  void read_losses() {
    for (size_t a = 0; a < l1.size(); ++a) {
      if (l1[a].empty()) continue;
      const auto v = torch::stack(l1[a]).to(torch::kCPU, torch::kDouble).contiguous();
      for (int64_t i = 0; i < v.numel(); ++i) trackers[a].add_l1(v.data_ptr<double>()[i]);
      l1[a].clear();
    }
  }
  bool done() const {
    return std::all_of(trackers.begin(), trackers.end(), [](const auto& t) { return t.done(); });
  }
};

CutTraining start_cut(const Run& run, size_t index) {
  CutTraining t;
  t.index = index;
  const auto& cut = run.cuts[index];
  for (size_t ai = 0; ai < run.trained_attacks.size(); ++ai) {
    attacks::AttackerSpec spec;
    spec.feature_shape = common::Shape(cut.shape.begin() + 1, cut.shape.end());
    spec.image_shape = run.image_shape;
    spec.feature_stats = run.feature_stats[index];
    spec.linear_inverse = run.linear_inverse[index];
    spec.device = run.o.device;
    spec.seed = run.o.seed * 1000003ULL + static_cast<uint64_t>(cut.id) * 101ULL + ai;
    spec.cgan = run.o.cgan;
    t.attackers.push_back(attacks::create_attacker(run.trained_attacks[ai], spec));
    t.trackers.emplace_back(run.o.budget);
    t.timers.emplace_back(run.o.device);
    t.l1.emplace_back();
  }
  return t;
}

/// The white-box attacker at one cut, on the first whitebox.images eval images: from the mean
/// image and from `learned`'s reconstruction (when a learned attacker trained here), keeping
/// per image the start that fits the observed features better. Its grid (the first k
/// reconstructions) goes to *grid.
AttackScore whitebox_score(const Run& run, const model::CutPoint& cut, attacks::Attacker* learned,
                           const partition::ModelRunner& runner, const AssessResult& r, at::Tensor* grid) {
  const auto t0 = Clock::now();
  const auto& wo = run.o.whitebox;
  const int64_t n = std::min<int64_t>(wo.images, r.n_eval);
  const std::vector<int64_t> idx(run.splits.eval.begin(), run.splits.eval.begin() + n);
  partition::FeatureExtractor ex(run.model, {cut.id});
  const attacks::FrontFn front = [&](const at::Tensor& x) { return ex.differentiable(run.input(x))[0]; };
  const int64_t k = std::min<int64_t>(run.o.grid_images, n);
  std::vector<double> ssim, psnr;
  int64_t capped = 0, agree = 0;
  double kl = 0;
  std::vector<at::Tensor> grid_parts, recs;
  for_batches(idx, wo.batch > 0 ? wo.batch : run.batch, [&](int64_t first, const std::vector<int64_t>& b) {
    const auto unit = run.images(b);
    const auto observed = ex(run.input(unit))[0];
    std::vector<attacks::WhiteboxResult> fits;
    if (learned && run.dev.is_cuda()) {
      // Both starts in one batch: the objective is per image, so each follows its own path;
      // on a GPU that halves the launches. (On the CPU a doubled batch costs twice the time,
      // so the starts run one after the other there.)
      const int64_t nb = unit.size(0);
      const auto starts = torch::cat({run.mean_image.expand_as(unit), learned->reconstruct(observed)}, 0);
      const auto both = attacks::whitebox_invert(front, torch::cat({observed, observed}, 0), starts, wo);
      for (int64_t k = 0; k < 2; ++k)
        fits.push_back({both.images.narrow(0, k * nb, nb), both.objective.narrow(0, k * nb, nb)});
    } else {
      fits.push_back(attacks::whitebox_invert(front, observed, run.mean_image.expand_as(unit), wo));
      if (learned) fits.push_back(attacks::whitebox_invert(front, observed, learned->reconstruct(observed), wo));
    }
    const auto rec = attacks::keep_best_fit(fits).images;
    if (run.records) {
      recs.push_back(rec);
    } else {
      const auto s = to_vector(metrics::ssim(rec, unit));
      const auto p = metrics::psnr(rec, unit);
      const auto pv = to_vector(p.psnr_db);
      ssim.insert(ssim.end(), s.begin(), s.end());
      psnr.insert(psnr.end(), pv.begin(), pv.end());
      capped += p.capped.sum().item<int64_t>();
      if (first < k) grid_parts.push_back(rec.narrow(0, 0, std::min<int64_t>(k - first, rec.size(0))).cpu());
    }
    if (run.classifier) {
      const auto logits = run.eval_logits.narrow(0, first, static_cast<int64_t>(b.size()));
      const auto rec_logits = runner(run.input(rec));
      agree += (rec_logits.argmax(1) == logits.argmax(1)).sum().item<int64_t>();
      kl += kl_per_image(logits, rec_logits).sum().item<double>();
    }
    run.report({"whitebox", 0, 1, cut.name, first + static_cast<int64_t>(b.size()), n, 0, -1, -1});
  });
  AttackScore sc;
  sc.attack = "whitebox";
  sc.images = n;
  if (run.records) {
    sc.records = run.record_scores(torch::cat(recs, 0));  // the first n eval records
  } else {
    sc.ssim = ci(ssim);
    sc.psnr_db = ci(psnr);
    sc.psnr_capped = capped;
  }
  if (run.classifier) {
    sc.top1_agreement = static_cast<double>(agree) / static_cast<double>(n);
    sc.kl = kl / static_cast<double>(n);
  }
  // An optimisation with a fixed iteration count: nothing to judge convergence by on val.
  sc.train.steps_run = wo.iterations;
  sc.train.seconds = seconds_since(t0);
  if (grid && !grid_parts.empty()) *grid = torch::cat(grid_parts, 0);
  return sc;
}

/// Append an attacker's score to its cut, logging it, and make it the cut's leak (and its
/// grid the cut's) when it is the strongest so far.
void add_score(CutAssessment& ca, AttackScore sc, const at::Tensor& grid, at::Tensor& worst_grid) {
  const auto& h = sc.headline();
  if (ca.scores.empty() || h.mean > ca.leak) {
    ca.leak = h.mean;
    ca.leak_ci = h;
    ca.worst_attack = sc.attack;
    worst_grid = grid;
  }
  std::string detail = fmt::format("PSNR {:.1f} dB", sc.psnr_db.mean);
  if (sc.records) {
    const auto& rs = *sc.records;
    detail = fmt::format("fields: numeric error {}, within tolerance {}, categorical accuracy {}",
                         rs.numeric_error ? fmt::format("{:.3f}", rs.numeric_error->mean) : "-",
                         rs.numeric_within ? fmt::format("{:.3f}", rs.numeric_within->mean) : "-",
                         rs.categorical_accuracy ? fmt::format("{:.3f}", rs.categorical_accuracy->mean) : "-");
  }
  log::info("cut {:<16} {:<8} {} {:.3f} [{:.3f}, {:.3f}]  {}  {} {}{}{} in {:.1f} s", ca.cut.name, sc.attack,
            sc.records ? "re-identified" : "SSIM", h.mean, h.low, h.high, detail, sc.train.steps_run,
            sc.attack == "whitebox" ? "iterations" : "steps", sc.train.early_stopped ? " (early stop)" : "",
            sc.train.still_improving ? " (still improving)" : "", sc.train.seconds);
  ca.scores.push_back(std::move(sc));
}

/// Score finished cuts on eval, batch by batch: one forward for all of them.
std::vector<CutAssessment> score_cuts(const Run& run, std::vector<CutTraining>& group,
                                      const std::vector<OracleScore>& oracle, const AssessResult& r) {
  std::vector<int> ids;
  for (const auto& g : group) ids.push_back(run.cuts[g.index].id);
  partition::FeatureExtractor ex(run.model, ids);
  const std::vector<int>& sorted = ex.cut_ids();
  auto slot = [&](int id) { return static_cast<size_t>(std::find(sorted.begin(), sorted.end(), id) - sorted.begin()); };
  partition::ModelRunner runner(run.model);
  const int64_t k = std::min<int64_t>(run.o.grid_images, r.n_eval);
  struct Acc {
    std::vector<double> ssim, psnr;
    int64_t capped = 0, agree = 0;
    double kl = 0;
    std::vector<at::Tensor> grid, recs;
  };
  std::vector<std::vector<Acc>> acc(group.size());
  for (size_t g = 0; g < group.size(); ++g) acc[g].resize(group[g].attackers.size());
  int64_t done = 0;
  for_batches(run.splits.eval, run.pass_batch(ids), [&](int64_t first, const std::vector<int64_t>& b) {
    const auto unit = run.images(b);
    const auto feats = ex(run.input(unit));
    const auto logits = run.eval_logits.narrow(0, first, static_cast<int64_t>(b.size()));
    for (size_t g = 0; g < group.size(); ++g) {
      const auto& f = feats[slot(run.cuts[group[g].index].id)];
      for (size_t a = 0; a < group[g].attackers.size(); ++a) {
        auto& s = acc[g][a];
        const auto rec = group[g].attackers[a]->reconstruct(f);
        if (run.records) {
          s.recs.push_back(rec);
        } else {
          const auto ssim = to_vector(metrics::ssim(rec, unit));
          const auto psnr = metrics::psnr(rec, unit);
          const auto p = to_vector(psnr.psnr_db);
          s.ssim.insert(s.ssim.end(), ssim.begin(), ssim.end());
          s.psnr.insert(s.psnr.end(), p.begin(), p.end());
          s.capped += psnr.capped.sum().item<int64_t>();
          if (first < k) s.grid.push_back(rec.narrow(0, 0, std::min<int64_t>(k - first, rec.size(0))).cpu());
        }
        if (run.classifier) {
          const auto rec_logits = runner(run.input(rec));
          s.agree += (rec_logits.argmax(1) == logits.argmax(1)).sum().item<int64_t>();
          s.kl += kl_per_image(logits, rec_logits).sum().item<double>();
        }
      }
    }
    done += static_cast<int64_t>(b.size());
    run.report(
        {"score", 0, static_cast<int>(group.size()), run.cuts[group.front().index].name, done, r.n_eval, 0, -1, -1});
  });
  std::vector<CutAssessment> out;
  for (size_t g = 0; g < group.size(); ++g) {
    auto& t = group[g];
    CutAssessment ca;
    ca.cut = run.cuts[t.index];
    ca.oracle = oracle[t.index];
    ca.leak = -1;
    at::Tensor worst_grid;
    for (size_t a = 0; a < t.attackers.size(); ++a) {
      auto& s = acc[g][a];
      AttackScore sc;
      sc.attack = t.attackers[a]->name();
      sc.train = t.trackers[a].stats(t.timers[a].seconds());
      if (run.records) {
        sc.records = run.record_scores(torch::cat(s.recs, 0));
      } else {
        sc.ssim = ci(s.ssim);
        sc.psnr_db = ci(s.psnr);
        sc.psnr_capped = s.capped;
      }
      sc.images = r.n_eval;
      if (run.classifier) {
        sc.top1_agreement = static_cast<double>(s.agree) / static_cast<double>(r.n_eval);
        sc.kl = s.kl / static_cast<double>(r.n_eval);
      }
      add_score(ca, std::move(sc), s.grid.empty() ? at::Tensor() : torch::cat(s.grid, 0), worst_grid);
    }
    const double front_gflops = ca.cut.front_flops / 1e9;
    const double max_gflops = run.o.whitebox.max_front_gflops;
    if (run.whitebox && !t.attackers.empty() && max_gflops > 0 && front_gflops > max_gflops) {
      ca.notes.push_back(
          fmt::format("whitebox skipped: the front costs {:.2f} GFLOPs per image, above "
                      "whitebox.max_front_gflops = {:g} (raise it, best on a GPU)",
                      front_gflops, max_gflops));
      log::info("cut {:<16} {}", ca.cut.name, ca.notes.back());
    } else if (run.whitebox) {
      // It starts from the learned attacker the host would trust most: the best on attacker-val.
      attacks::Attacker* learned = nullptr;
      double best_val = -2;
      for (size_t a = 0; a < t.attackers.size(); ++a)
        if (ca.scores[a].train.best_val_ssim > best_val) {
          best_val = ca.scores[a].train.best_val_ssim;
          learned = t.attackers[a].get();
        }
      at::Tensor grid;
      auto sc = whitebox_score(run, ca.cut, learned, runner, r, &grid);
      add_score(ca, std::move(sc), grid, worst_grid);
    }
    if (worst_grid.defined()) ca.reconstructions = to_image8(worst_grid);
    out.push_back(std::move(ca));
  }
  return out;
}

/// Attacker-train batches for the training steps, on the run's device. On a GPU the
/// attacker-train samples go there once, as stored (uint8 images), when they fit in
/// kDeviceDataBytes; each epoch's order and augmentation matrices go there once per epoch
/// (pinned, non-blocking); a step then only indexes and converts on the device. On the CPU
/// the same batches come straight from the data set. Either way the batches and their
/// augmentation are those of the seeded epoch permutations, identical across devices.
class TrainBatches {
 public:
  static constexpr double kDeviceDataBytes = 8.0 * 1073741824.0;

  explicit TrainBatches(const Run& run) : run_(run) {
    const auto& idx = run.splits.attacker_train;
    n_ = static_cast<int64_t>(idx.size());
    cursor_ = n_;  // the first step starts an epoch
    const auto ids = torch::tensor(idx, torch::kLong);
    const double bytes = static_cast<double>(run.ds.samples.numel() / std::max<int64_t>(run.ds.size(), 1) *
                                             run.ds.samples.element_size()) * static_cast<double>(n_);
    if (run.dev.is_cuda() && bytes <= kDeviceDataBytes) {
      samples_ = run.to_device(run.ds.samples.index_select(0, ids));
      positions_ = torch::arange(n_, torch::kLong);  // samples_ holds attacker-train only
      log::info("attacker-train on {}: {:.0f} MiB as stored", run.o.device, bytes / 1048576.0);
    } else {
      if (run.dev.is_cuda())
        log::info("attacker-train ({:.0f} MiB) stays on the host: above {:.0f} MiB; batches are copied per step",
                  bytes / 1048576.0, kDeviceDataBytes / 1048576.0);
      samples_ = run.ds.samples;
      positions_ = ids;
      host_ = run.dev.is_cuda();
    }
  }

  /// The batch of training step `step` (1-based), in [0,1] on the run's device, augmented
  /// when the run augments.
  at::Tensor next(int64_t step) {
    const int64_t b = run_.batch;
    if (cursor_ + b > n_) new_epoch(step);
    const int64_t k = (cursor_ / b);
    const auto pick = order_.narrow(0, cursor_, b);
    cursor_ += b;
    at::Tensor unit;
    if (host_)
      unit = run_.to_device(data::to_unit(samples_.index_select(0, pick)));
    else
      unit = data::to_unit(samples_.index_select(0, pick));
    unit = run_.shaped(unit);
    if (run_.augment) unit = data::augment_with(unit, theta_[k]);
    return unit;
  }

 private:
  void new_epoch(int64_t step) {
    const auto perm = data::seeded_permutation(
        n_, run_.o.seed * 0x2545f4914f6cdd1dULL + static_cast<uint64_t>(++epoch_));
    auto order = positions_.index_select(0, torch::tensor(perm, torch::kLong));
    order_ = host_ ? order : run_.to_device(order);
    cursor_ = 0;
    if (!run_.augment) return;
    // This epoch's steps, each with the matrices augment_crops_flips would draw for it.
    const int64_t steps = n_ / run_.batch;
    std::vector<at::Tensor> th;
    for (int64_t i = 0; i < steps; ++i)
      th.push_back(data::augment_params(
          run_.batch, run_.o.seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(step + i))));
    theta_ = run_.to_device(torch::stack(th, 0));
  }

  const Run& run_;
  int64_t n_ = 0, cursor_ = 0, epoch_ = 0;
  bool host_ = false;  ///< a GPU run whose samples stay on the host
  at::Tensor samples_, positions_, order_, theta_;
};

/// Lockstep training of every cut not taken from the store; each cut is scored and saved as
/// soon as its attackers stop. Returns the computed cuts. On a GPU a step never waits for
/// the device: losses are read at checks, times are CUDA events, and the host
/// synchronisations outside checks and scoring are counted into *train_step_syncs.
std::vector<CutAssessment> train_phase(const Run& run, std::vector<size_t> todo, const std::vector<OracleScore>& oracle,
                                       const AssessResult& r, const CutStore& store, int64_t* train_step_syncs) {
  std::vector<CutAssessment> finished;
  if (todo.empty()) return finished;
  std::vector<CutTraining> active;
  for (auto i : todo) active.push_back(start_cut(run, i));
  auto extractor_for = [&]() {
    std::vector<int> ids;
    for (const auto& t : active) ids.push_back(run.cuts[t.index].id);
    return partition::FeatureExtractor(run.model, ids);
  };
  auto ex = extractor_for();
  const int64_t steps = run.o.budget.steps;
  TrainBatches batches(run);
  model::SyncCounter syncs(run.o.device);
  const auto t0 = Clock::now();
  auto last_report = t0;
  for (int64_t step = 1; !active.empty(); ++step) {
    const auto unit = batches.next(step);
    const auto feats = ex(run.input(unit));
    const auto& ids = ex.cut_ids();
    auto slot = [&](const CutTraining& t) {
      return static_cast<size_t>(std::find(ids.begin(), ids.end(), run.cuts[t.index].id) - ids.begin());
    };
    bool check = false;
    for (auto& t : active)
      for (size_t a = 0; a < t.attackers.size(); ++a) {
        if (t.trackers[a].done()) continue;
        t.timers[a].start();
        t.l1[a].push_back(t.attackers[a]->step(feats[slot(t)], unit));
        t.timers[a].stop();
        t.trackers[a].on_step();
        check = check || t.trackers[a].check_due();
      }
    syncs.pause(true);  // checks and scoring read results: they wait for the device
    if (check) {
      // attacker-val SSIM of every attacker still training, one forward per val batch.
      std::vector<std::vector<double>> sums(active.size());
      for (size_t i = 0; i < active.size(); ++i) sums[i].assign(active[i].attackers.size(), 0.0);
      for_batches(run.splits.attacker_val, run.pass_batch(ids), [&](int64_t, const std::vector<int64_t>& vb) {
        const auto vu = run.images(vb);
        const auto vf = ex(run.input(vu));
        for (size_t i = 0; i < active.size(); ++i)
          for (size_t a = 0; a < active[i].attackers.size(); ++a)
            if (active[i].trackers[a].check_due())
              sums[i][a] +=
                  metrics::similarity(active[i].attackers[a]->reconstruct(vf[slot(active[i])]), vu).sum().item<double>();
      });
      for (size_t i = 0; i < active.size(); ++i) {
        active[i].read_losses();
        for (size_t a = 0; a < active[i].attackers.size(); ++a)
          if (active[i].trackers[a].check_due() &&
              active[i].trackers[a].on_check(sums[i][a] / static_cast<double>(r.n_val)))
            active[i].attackers[a]->keep_best();
      }
    }
    // Cuts whose attackers all stopped leave the active set and are scored now.
    std::vector<CutTraining> done_now;
    for (auto it = active.begin(); it != active.end();) {
      if (it->done()) {
        it->read_losses();
        for (auto& a : it->attackers) a->restore_best();
        done_now.push_back(std::move(*it));
        it = active.erase(it);
      } else {
        ++it;
      }
    }
    if (!done_now.empty()) {
      for (auto& ca : score_cuts(run, done_now, oracle, r)) {
        if (store.save) store.save(ca);
        finished.push_back(std::move(ca));
      }
      if (!active.empty()) ex = extractor_for();  // the forward now stops at the deepest active cut
    }
    syncs.pause(false);
    const auto now = Clock::now();
    if (std::chrono::duration<double>(now - last_report).count() > 1.0 || active.empty()) {
      last_report = now;
      const double secs = seconds_since(t0);
      double best = -1;
      for (const auto& t : active)
        for (const auto& tr : t.trackers) best = std::max(best, tr.latest_val_ssim());
      const double rate = static_cast<double>(step) / std::max(secs, 1e-9);
      run.report({"train", static_cast<int>(active.size()), static_cast<int>(run.cuts.size()), "", step, steps, rate,
                  best, active.empty() ? 0 : static_cast<double>(steps - step) / std::max(rate, 1e-9)});
    }
  }
  if (syncs.active()) {
    *train_step_syncs = syncs.count();
    if (syncs.count() > 0)
      log::warn("{} host synchronisation(s) in training steps on {}: each stalls the GPU (a performance bug; "
                "please report it with the model)",
                syncs.count(), run.o.device);
  }
  return finished;
}

// ---- phase: probe --------------------------------------------------------------------------

/// Ternary: a linear probe on each cut's features. It holds attacker-train and eval features
/// in memory, bounded by limits.feature_memory_mib.
void probe_phase(const Run& run, AssessResult& r) {
  double per_sample = 0;
  for (const auto& c : run.cuts) per_sample += static_cast<double>(c.activation_bytes);
  const double n = static_cast<double>(r.n_train + r.n_eval);
  const double limit = static_cast<double>(run.o.feature_memory_mib) * 1048576.0;
  if (per_sample * n > limit)
    throw UsageError(fmt::format(
        "the ternary split's linear probe holds the {} cuts' features for {} samples, {:.0f} MiB, above "
        "limits.feature_memory_mib = {}: select fewer cuts (--cuts), lower data.attacker_train, or raise the limit",
        run.cuts.size(), static_cast<int64_t>(n), per_sample * n / 1048576.0, run.o.feature_memory_mib));
  partition::FeatureExtractor ex(run.model, ids_of(run.cuts));
  auto collect = [&](const std::vector<int64_t>& idx) {
    std::vector<std::vector<at::Tensor>> parts(run.cuts.size());
    for_batches(idx, run.pass_batch(ex.cut_ids()), [&](int64_t, const std::vector<int64_t>& b) {
      const auto outs = ex(run.input(run.images(b)));
      for (size_t k = 0; k < outs.size(); ++k) parts[k].push_back(outs[k]);
    });
    std::vector<at::Tensor> out;
    for (auto& p : parts) out.push_back(torch::cat(p, 0));
    return out;
  };
  const auto train = collect(run.splits.attacker_train);
  const auto eval = collect(run.splits.eval);
  const int64_t classes = run.eval_logits.size(1);
  const auto train_labels = run.train_pred.to(run.dev), eval_labels = run.eval_logits.argmax(1);
  r.probe_chance =
      (torch::bincount(eval_labels, {}, classes).max().to(torch::kDouble) / static_cast<double>(eval_labels.size(0)))
          .item<double>();
  for (size_t i = 0; i < run.cuts.size(); ++i) {
    run.report({"probe", static_cast<int>(i), static_cast<int>(run.cuts.size()), run.cuts[i].name, 0, 0, 0, -1, -1});
    const double acc = linear_probe_accuracy(train[i], train_labels, eval[i], eval_labels, classes,
                                             run.o.seed + static_cast<uint64_t>(run.cuts[i].id));
    for (auto& ca : r.cuts)
      if (ca.cut.id == run.cuts[i].id) ca.probe_accuracy = acc;
    if (r.back_cut && run.cuts[i].id == r.back_cut->id) r.back_probe_accuracy = acc;
  }
}

// ---- phase: cost ---------------------------------------------------------------------------

/// Enclave times are CPU times (the enclave is a CPU), from a CPU copy of the model whatever
/// the run's device; the untrusted part is timed on the run's GPU when it has one.
void cost_phase(const Run& run, AssessResult& r) {
  const auto& summary = run.model.summary();
  const auto& o = run.o;
  run.report({"cost", 0, static_cast<int>(run.cuts.size()), "", 0, 0, 0, -1, -1});
  const model::Model cpu = run.model.on_cpu();
  const bool gpu = run.dev.is_cuda();
  r.timed_on = "cpu";
  r.untrusted_timed_on = gpu ? o.device : "cpu";
  r.gpu_speedup_applied = !gpu;
  r.whole_model_seconds = partition::time_parts(cpu, {}, "cpu").at(0);
  r.untrusted_whole_model_seconds = gpu ? partition::time_parts(run.model, {}, o.device).at(0) : r.whole_model_seconds;
  r.all_enclave_seconds = o.cost.tee_slowdown * r.whole_model_seconds;
  CostInputs in;
  in.total_flops = summary.total_flops;
  in.total_param_bytes = summary.total_param_bytes;
  in.output_bytes = summary.output_bytes;  // at the output's own dtype
  in.whole_model_seconds = r.whole_model_seconds;
  in.untrusted_whole_model_seconds = gpu ? r.untrusted_whole_model_seconds : 0;
  in.back_cut = r.back_cut;
  in.options = o.cost;
  for (auto& ca : r.cuts) {
    ca.cost = estimate_cost(ca.cut, in);
    if (!o.cost.profile) continue;
    const bool tern = r.back_cut && r.back_cut->id != ca.cut.id;
    std::vector<int> ids{ca.cut.id};
    if (tern) ids.push_back(r.back_cut->id);
    const auto t = partition::time_parts(cpu, ids, "cpu");
    ca.cost.enclave_seconds = o.cost.tee_slowdown * (t.front() + (tern ? t.back() : 0));
    const double untrusted = tern ? t[1] : t.back();
    if (gpu) {
      const auto g = partition::time_parts(run.model, ids, o.device);
      ca.cost.untrusted_seconds = tern ? g[1] : g.back();
    } else {
      ca.cost.untrusted_seconds = untrusted / o.cost.gpu_speedup;
    }
    ca.cost.profiled = true;
  }
}

}  // namespace

config::Settings default_settings() { return config::to_settings(AssessOptions{}); }

AssessOptions options_from_settings(const config::Settings& s) {
  auto o = config::from_settings<AssessOptions>(s);
  if (o.attacks.empty())
    throw UsageError("setting 'attacks' is empty: name at least one attacker, e.g. [\"cgan\"], or \"oracle\"");
  for (const auto& a : o.attacks)
    if (a != "oracle" && a != "whitebox") {
      const auto names = attacks::attacker_names();
      if (std::find(names.begin(), names.end(), a) == names.end())
        throw UsageError(
            fmt::format("attack '{}' is not known; valid: {}, whitebox, oracle", a, fmt::join(names, ", ")));
    }
  return o;
}

int64_t effective_batch_size(const attacks::TrainBudget& budget, const common::Shape& image_shape) {
  if (budget.batch_size > 0) return budget.batch_size;
  const int64_t pixels = image_shape.size() == 3 ? image_shape[1] * image_shape[2] : 0;
  if (pixels <= 64 * 64) return 32;
  return std::max<int64_t>(8, 32 * 64 * 64 / pixels);
}

double estimated_cut_cost(const model::CutPoint& cut, const common::Shape& image_shape,
                          const attacks::CganOptions& cgan) {
  const double cut_elements = static_cast<double>(common::numel(common::Shape(cut.shape.begin() + 1, cut.shape.end())));
  const double pixels = static_cast<double>(common::numel(image_shape)) / static_cast<double>(image_shape.at(0));
  const double width = static_cast<double>(cgan.min_width);
  const double generator = 2 * cut_elements * static_cast<double>(cgan.width) + 2 * 2 * 9 * pixels * width * width;
  return cut.front_flops + 3 * generator;
}

std::vector<int64_t> assign_shards(const std::vector<double>& costs, int64_t count) {
  if (count < 1) throw UsageError(fmt::format("--shard N must be at least 1, got {}", count));
  std::vector<size_t> order(costs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(static_cast<size_t>(count), 0.0);
  std::vector<int64_t> out(costs.size(), 0);
  for (size_t i : order) {
    const auto least = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    out[i] = static_cast<int64_t>(least);
    load[least] += costs[i];
  }
  return out;
}

CutCost estimate_cost(const model::CutPoint& cut, const CostInputs& in) {
  const auto& o = in.options;
  const double native_rate = in.total_flops / std::max(in.whole_model_seconds, 1e-12);
  const bool tern = in.back_cut && in.back_cut->id != cut.id;
  const double back_flops = tern ? in.total_flops - in.back_cut->front_flops : 0;
  const double back_params = tern ? static_cast<double>(in.total_param_bytes - in.back_cut->front_param_bytes) : 0;
  const double back_peak = tern ? static_cast<double>(std::max(in.back_cut->activation_bytes, in.output_bytes)) : 0;
  CutCost c;
  c.enclave_flops = cut.front_flops + back_flops;
  c.enclave_param_bytes = static_cast<double>(cut.front_param_bytes) + back_params;
  c.enclave_peak_activation_bytes = std::max(static_cast<double>(cut.front_peak_activation_bytes), back_peak);
  c.enclave_bytes = c.enclave_param_bytes + c.enclave_peak_activation_bytes;
  c.boundary_bytes = static_cast<double>(cut.activation_bytes) + (tern ? in.back_cut->activation_bytes : 0);
  c.transfer_seconds = c.boundary_bytes / (o.link_mib_per_s * 1048576.0);
  c.enclave_seconds = o.tee_slowdown * c.enclave_flops / native_rate;
  if (in.untrusted_whole_model_seconds > 0)  // measured on the untrusted GPU: no assumed speed-up
    c.untrusted_seconds =
        (in.total_flops - c.enclave_flops) / (in.total_flops / std::max(in.untrusted_whole_model_seconds, 1e-12));
  else
    c.untrusted_seconds = (in.total_flops - c.enclave_flops) / native_rate / o.gpu_speedup;
  return c;
}

AssessResult assess(const model::Model& model, const AssessOptions& o, const ProgressFn& progress,
                    const CutStore& store) {
  const auto t_start = Clock::now();
  torch::NoGradGuard no_grad;
  const auto& summary = model.summary();
  if (o.device == "auto") throw UsageError("assess needs a resolved device (cpu, cuda:N), not 'auto'");
  Run run{model, o, progress, torch::Device(o.device), {}, {}, {}, {}, {}, {}, {}};
  AssessResult r;
  r.device = o.device;
  run.model_sample = common::Shape(summary.input_shape.begin() + 1, summary.input_shape.end());
  run.image_shape = run.model_sample;
  if (run.model_sample.size() != 3 && !data::is_csv_source(o.data.source))
    throw UsageError(
        fmt::format("'{}' takes input {}, not an image [N,C,H,W]: assess rebuilds images, or the records "
                    "of a CSV data source (--data FILE.csv, see docs/data.md)",
                    summary.path, common::format_shape(summary.input_shape)));
  run.cuts = resolve_cuts(summary, o, r);
  r.candidate_cuts = run.cuts;
  if (o.shard_count > 1 || o.shard_index != 0) {
    if (o.shard_index < 0 || o.shard_index >= o.shard_count)
      throw UsageError(
          fmt::format("--shard {}/{}: the index must be in 0..{}", o.shard_index, o.shard_count, o.shard_count - 1));
    std::vector<double> costs;
    for (const auto& c : run.cuts) costs.push_back(estimated_cut_cost(c, run.image_shape, o.cgan));
    const auto shard_of = assign_shards(costs, o.shard_count);
    std::vector<model::CutPoint> mine;
    for (size_t i = 0; i < run.cuts.size(); ++i)
      if (shard_of[i] == o.shard_index) mine.push_back(run.cuts[i]);
    log::info("shard {}/{}: {} of the {} candidate cuts", o.shard_index, o.shard_count, mine.size(), run.cuts.size());
    if (mine.empty())
      throw UsageError(fmt::format("shard {}/{} has no cut: there are only {} candidate cuts; use --shard with N <= {}",
                                   o.shard_index, o.shard_count, run.cuts.size(), run.cuts.size()));
    run.cuts = std::move(mine);
  }
  for (const auto& a : o.attacks) {
    if (a == "whitebox")
      run.whitebox = true;
    else if (a != "oracle")
      run.trained_attacks.push_back(a);
  }
  r.trained = !run.trained_attacks.empty() || run.whitebox;

  // The model's input channels: a flat input counts as one.
  const int64_t channels = run.model_sample.size() == 3 ? run.model_sample[0] : 1;
  run.pre = data::Preprocess::defaults_for_channels(channels);
  run.pre.pixel_min = o.data.pixel_min;
  run.pre.pixel_max = o.data.pixel_max;
  if (!o.data.mean.empty()) run.pre.mean = o.data.mean;
  if (!o.data.std.empty()) run.pre.std = o.data.std;
  run.pre.validate(channels);
  run.model_input.emplace(run.pre, run.model_sample);

  load_data(run, r);
  run.classifier = is_classifier(run);
  if (r.trained) stats_pass(run);
  reference_pass(run, r);
  const auto oracle = oracle_phase(run, r.n_eval);

  // Cuts finished by an earlier run (--run-dir/--resume) are taken as they are.
  std::vector<size_t> todo;
  std::vector<CutAssessment> done;
  for (size_t i = 0; i < run.cuts.size(); ++i) {
    std::optional<CutAssessment> loaded;
    if (r.trained && store.load) loaded = store.load(run.cuts[i]);
    if (loaded) {
      log::info("cut {:<16} resumed: SSIM {:.3f} ({})", run.cuts[i].name, loaded->leak, loaded->worst_attack);
      loaded->resumed = true;
      loaded->oracle = oracle[i];
      done.push_back(std::move(*loaded));
    } else if (!r.trained) {
      CutAssessment ca;
      ca.cut = run.cuts[i];
      ca.oracle = oracle[i];
      ca.leak = -1;
      done.push_back(std::move(ca));
    } else {
      todo.push_back(i);
    }
  }
  {
    torch::AutoGradMode grad(true);
    for (auto& ca : train_phase(run, todo, oracle, r, store, &r.train_step_syncs)) done.push_back(std::move(ca));
  }
  std::sort(done.begin(), done.end(),
            [](const CutAssessment& a, const CutAssessment& b) { return a.cut.id < b.cut.id; });
  r.cuts = std::move(done);

  if (o.ternary && run.classifier && r.trained) probe_phase(run, r);
  cost_phase(run, r);
  r.seconds = seconds_since(t_start);
  return r;
}

}  // namespace partplan::pipeline
