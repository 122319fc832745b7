// The assessment pipeline. Data is loaded once and split; one shared extractor forward per
// batch computes every selected cut's features (and the model's prediction) for all three
// splits; then each cut's attackers train and are scored. To add an attacker, register it
// in attacks/ and name it in the config's "attacks" list.
#include "partplan/pipeline/assess.hpp"

#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "partplan/attacks/attacker.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/data/dataset.hpp"
#include "partplan/data/preprocess.hpp"
#include "partplan/data/splits.hpp"
#include "partplan/metrics/psnr.hpp"
#include "partplan/metrics/ssim.hpp"
#include "partplan/partition/extractor.hpp"
#include "src/pipeline/exposure.hpp"

namespace partplan::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

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

struct Split {
  at::Tensor images;                  ///< [n,C,H,W] float32 [0,1] on device
  std::vector<at::Tensor> features;   ///< per cut
  at::Tensor logits;                  ///< model output
};

Split extract(const data::Dataset& ds, const std::vector<int64_t>& idx, const partition::FeatureExtractor& ex,
              const data::Preprocess& pre, const common::Shape& model_sample, const torch::Device& dev,
              const std::function<void(int64_t)>& tick) {
  Split s;
  std::vector<std::vector<at::Tensor>> parts(ex.cut_ids().size() + 1);
  std::vector<at::Tensor> imgs;
  const int64_t batch = 256;
  for (size_t i = 0; i < idx.size(); i += batch) {
    std::vector<int64_t> b(idx.begin() + static_cast<long>(i),
                           idx.begin() + static_cast<long>(std::min(idx.size(), i + batch)));
    auto unit = data::gather_unit(ds, b).to(dev);
    auto x = data::to_model_input(unit, pre, model_sample);
    auto outs = ex(x);
    for (size_t k = 0; k < outs.size(); ++k) parts[k].push_back(outs[k]);
    imgs.push_back(unit);
    tick(static_cast<int64_t>(b.size()));
  }
  s.images = torch::cat(imgs, 0);
  for (size_t k = 0; k + 1 < parts.size(); ++k) s.features.push_back(torch::cat(parts[k], 0));
  s.logits = torch::cat(parts.back(), 0);
  return s;
}

metrics::MeanCi ci(const at::Tensor& per_image) { return metrics::mean_ci(to_vector(per_image)); }

}  // namespace

AssessOptions options_from_settings(const config::Settings& s) {
  AssessOptions o;
  o.data_source = s.string("data.source");
  o.attacker_train = s.integer("data.attacker_train", 0);
  o.attacker_val = s.integer("data.attacker_val", 1);
  o.eval = s.integer("data.eval", 2);
  o.pixel_min = s.number("data.pixel_min");
  o.pixel_max = s.number("data.pixel_max");
  o.mean = s.numbers("data.mean");
  o.std = s.numbers("data.std");
  o.cuts_spec = s.string("cuts");
  o.attacks = s.strings("attacks");
  if (o.attacks.empty())
    throw UsageError("setting 'attacks' is empty: name at least one attacker, e.g. [\"cgan\"], or \"oracle\"");
  o.seed = static_cast<uint64_t>(s.integer("seed", 0));
  auto& c = o.cgan;
  c.width = s.integer("cgan.width", 1, 4096);
  c.min_width = s.integer("cgan.min_width", 1, 4096);
  c.upsample = s.string("cgan.upsample");
  if (c.upsample != "nearest" && c.upsample != "bilinear")
    throw UsageError("setting 'cgan.upsample' = '" + c.upsample + "': use nearest or bilinear");
  c.norm = s.string("cgan.norm");
  if (c.norm != "batch" && c.norm != "instance" && c.norm != "none")
    throw UsageError("setting 'cgan.norm' = '" + c.norm + "': use batch, instance or none");
  c.disc_width = s.integer("cgan.disc_width", 1, 4096);
  c.cond_channels = s.integer("cgan.cond_channels", 1, 1024);
  c.adversarial_loss = s.string("cgan.adversarial_loss");
  if (c.adversarial_loss != "bce" && c.adversarial_loss != "lsgan")
    throw UsageError("setting 'cgan.adversarial_loss' = '" + c.adversarial_loss + "': use bce or lsgan");
  c.lambda_l1 = s.number("cgan.lambda_l1", 0);
  c.lr = s.number("cgan.lr", 1e-8, 1);
  c.beta1 = s.number("cgan.beta1", 0, 0.999999);
  c.beta2 = s.number("cgan.beta2", 0, 0.999999);
  auto& b = o.budget;
  b.steps = s.integer("budget.steps", 1);
  b.batch_size = s.integer("budget.batch_size", 1, 65536);
  b.eval_every = s.integer("budget.eval_every", 1);
  b.patience = s.integer("budget.patience", 0);
  b.min_delta = s.number("budget.min_delta", 0, 1);
  o.baselines = s.boolean("baselines");
  o.grid_images = s.integer("report.grid_images", 0, 64);
  o.feature_memory_mib = s.integer("limits.feature_memory_mib", 1);
  o.ternary = s.boolean("ternary");
  o.back_cut = s.string("back_cut");
  o.oracle_images = s.integer("oracle.images", 1, 4096);
  o.oracle_max_channels = s.integer("oracle.max_channels", 1, 65536);
  o.profile = s.boolean("cost.profile");
  o.tee_slowdown = s.number("cost.tee_slowdown", 1e-3, 1e6);
  o.gpu_speedup = s.number("cost.gpu_speedup", 1e-3, 1e6);
  o.link_mib_per_s = s.number("cost.link_mib_per_s", 1e-6, 1e9);
  return o;
}

AssessResult assess(const model::Model& model, const AssessOptions& o, const ProgressFn& progress,
                    const CutStore& store) {
  const auto t_start = Clock::now();
  torch::NoGradGuard no_grad;
  const auto& summary = model.summary();
  const torch::Device dev(o.device);
  AssessResult r;
  r.device = o.device;

  const common::Shape model_sample(summary.input_shape.begin() + 1, summary.input_shape.end());
  common::Shape image_shape = model_sample;
  if (image_shape.size() != 3)
    throw UsageError(fmt::format("assess reconstructs images, but '{}' takes input {}: a flat-input model "
                                 "needs a CSV source laid out as 1xSxS (see docs/data.md)",
                                 summary.path, common::format_shape(summary.input_shape)));

  auto cuts = model::select_cuts(summary, o.cuts_spec);
  if (cuts.empty()) throw UsageError("--cuts '" + o.cuts_spec + "' selects no cut of '" + summary.path + "'; try --cuts all");
  r.ternary = o.ternary;
  if (o.ternary) {
    // The host of a ternary split sees the middle part only: cuts up to the back cut.
    model::CutPoint back;
    if (!o.back_cut.empty()) {
      back = model::find_cut(summary, o.back_cut);
    } else if (summary.classifier_input_cut) {
      back = summary.cuts.at(static_cast<size_t>(*summary.classifier_input_cut));
    } else {
      throw UsageError("'" + summary.path + "' has no cut before its final weight layer: name the back cut with --back-cut");
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
  }
  std::vector<std::string> trained_attacks;
  for (const auto& a : o.attacks)
    if (a != "oracle") trained_attacks.push_back(a);
  r.trained = !trained_attacks.empty();

  // Data, split deterministically.
  if (progress) progress({"data", 0, static_cast<int>(cuts.size()), "", 0, 0, 0, -1, -1});
  data::LoadOptions lo;
  lo.sample_shape = image_shape;
  lo.seed = o.seed;
  if (o.attacker_train > 0) lo.max_samples = o.attacker_train + o.attacker_val + o.eval;
  const auto ds = data::load(o.data_source, lo);
  r.data_description = ds.description;
  r.data_size = ds.size();
  const auto splits = data::make_splits(ds.size(), {o.attacker_train, o.attacker_val, o.eval}, o.seed);
  r.n_train = static_cast<int64_t>(splits.attacker_train.size());
  r.n_val = static_cast<int64_t>(splits.attacker_val.size());
  r.n_eval = static_cast<int64_t>(splits.eval.size());

  // Memory bound on the features held for every selected cut.
  double per_sample = 0;
  for (const auto& c : cuts) per_sample += static_cast<double>(c.activation_bytes);
  const double total_samples = static_cast<double>(r.n_train + r.n_val + r.n_eval);
  const double limit = static_cast<double>(o.feature_memory_mib) * 1024 * 1024;
  if (per_sample * total_samples > limit)
    throw UsageError(fmt::format(
        "the {} selected cuts' features for {} samples need {:.0f} MiB, above limits.feature_memory_mib = {}: "
        "select fewer cuts (--cuts), lower data.attacker_train (about {} samples fit), or raise the limit",
        cuts.size(), static_cast<int64_t>(total_samples), per_sample * total_samples / 1048576.0,
        o.feature_memory_mib, static_cast<int64_t>(limit / per_sample)));

  data::Preprocess pre = data::Preprocess::defaults_for_channels(image_shape[0]);
  pre.pixel_min = o.pixel_min;
  pre.pixel_max = o.pixel_max;
  if (!o.mean.empty()) pre.mean = o.mean;
  if (!o.std.empty()) pre.std = o.std;
  pre.validate(image_shape[0]);

  // One shared forward per batch: every cut's features and the model's prediction.
  std::vector<int> ids;
  for (const auto& c : cuts) ids.push_back(c.id);
  partition::FeatureExtractor ex(model, ids, /*include_output=*/true);
  int64_t done = 0;
  const auto tick = [&](int64_t n) {
    done += n;
    if (progress) progress({"features", 0, static_cast<int>(cuts.size()), "", done, static_cast<int64_t>(total_samples), 0, -1, -1});
  };
  const auto train = extract(ds, splits.attacker_train, ex, pre, model_sample, dev, tick);
  const auto val = extract(ds, splits.attacker_val, ex, pre, model_sample, dev, tick);
  const auto eval = extract(ds, splits.eval, ex, pre, model_sample, dev, tick);
  const int64_t k = std::min<int64_t>(o.grid_images, r.n_eval);
  r.eval_originals = to_image8(eval.images.narrow(0, 0, k));

  // Baselines: guesses that use no feature.
  const bool classifier = eval.logits.dim() == 2 && eval.logits.size(1) > 1;
  if (o.baselines) {
    auto score = [&](const std::string& name, const at::Tensor& guess, const std::string& note) {
      auto ssim = metrics::ssim(guess, eval.images);
      auto psnr = metrics::psnr(guess, eval.images);
      r.baselines.push_back({name, ci(ssim), ci(psnr.psnr_db), note});
    };
    score("blank", torch::zeros_like(eval.images), "all-zero image");
    score("mean-image", train.images.mean(0, true).expand_as(eval.images).contiguous(),
          "mean attacker-train image: knows only the data distribution");
    if (classifier) {
      // The host of a two-way split sees the prediction; it can always answer with the
      // average auxiliary image of the predicted class.
      const int64_t classes = eval.logits.size(1);
      auto train_pred = train.logits.argmax(1);
      auto protos = torch::zeros({classes, image_shape[0], image_shape[1], image_shape[2]}, train.images.options());
      auto counts = torch::zeros({classes}, train.images.options());
      protos.index_add_(0, train_pred, train.images);
      counts.index_add_(0, train_pred, torch::ones({train_pred.size(0)}, train.images.options()));
      auto fallback = train.images.mean(0);
      protos = torch::where((counts > 0).view({classes, 1, 1, 1}), protos / counts.clamp_min(1).view({classes, 1, 1, 1}),
                            fallback.unsqueeze(0));
      score("label-prototype", protos.index_select(0, eval.logits.argmax(1)),
            "average attacker-train image of the class the model predicts: available to the host of any two-way split");
      r.label_floor_ssim = r.baselines.back().ssim.mean;
    }
  }

  // The model as an oracle: exposure per cut, and the meaning of reconstructions.
  partition::ModelRunner runner(model);
  const ModelFn model_fn = [&](const at::Tensor& x) { return runner(x); };
  const int64_t n_oracle = std::min<int64_t>(o.oracle_images, r.n_eval);
  if (classifier) {
    const auto uniform = torch::zeros_like(eval.logits);
    r.oracle_reference_kl = kl_per_image(eval.logits, uniform).mean().item<double>();
  }
  std::vector<OracleScore> oracle(cuts.size());
  for (size_t i = 0; i < cuts.size(); ++i) {
    if (progress) progress({"oracle", static_cast<int>(i), static_cast<int>(cuts.size()), cuts[i].name, 0, 0, 0, -1, -1});
    oracle[i] = oracle_exposure(eval.features[i].narrow(0, 0, n_oracle), eval.images.narrow(0, 0, n_oracle),
                                eval.logits.narrow(0, 0, n_oracle), model_fn, pre, model_sample, o.oracle_max_channels);
  }

  // Attackers, cut by cut.
  const int64_t total_steps = static_cast<int64_t>(cuts.size() * trained_attacks.size()) * o.budget.steps;
  int64_t steps_done = 0;
  double train_seconds = 0;
  for (size_t ci_idx = 0; ci_idx < cuts.size(); ++ci_idx) {
    const auto& cut = cuts[ci_idx];
    if (store.load) {
      if (auto done = store.load(cut)) {
        log::info("cut {}/{} {:<16} resumed: SSIM {:.3f} ({})", ci_idx + 1, cuts.size(), cut.name, done->leak_ssim,
                  done->worst_attack);
        done->resumed = true;
        steps_done += static_cast<int64_t>(trained_attacks.size()) * o.budget.steps;
        done->oracle = oracle[ci_idx];
        r.cuts.push_back(std::move(*done));
        continue;
      }
    }
    CutAssessment ca;
    ca.cut = cut;
    ca.oracle = oracle[ci_idx];
    ca.leak_ssim = -1;
    const common::Shape feature_shape(cut.shape.begin() + 1, cut.shape.end());
    at::Tensor worst_rec;
    for (size_t ai = 0; ai < trained_attacks.size(); ++ai) {
      attacks::AttackerSpec spec;
      spec.feature_shape = feature_shape;
      spec.image_shape = image_shape;
      spec.device = o.device;
      spec.seed = o.seed * 1000003ULL + static_cast<uint64_t>(cut.id) * 101ULL + ai;
      spec.cgan = o.cgan;
      auto attacker = attacks::create_attacker(trained_attacks[ai], spec);
      const auto t0 = Clock::now();
      const int64_t base_done = steps_done;
      auto on_step = [&](const attacks::TrainProgress& p) {
        if (!progress) return;
        const double elapsed = train_seconds + std::chrono::duration<double>(Clock::now() - t0).count();
        const int64_t now_done = base_done + p.step;
        const double eta = now_done > 0 ? elapsed / static_cast<double>(now_done) * static_cast<double>(total_steps - now_done) : -1;
        progress({"train", static_cast<int>(ci_idx), static_cast<int>(cuts.size()), cut.name + " " + trained_attacks[ai],
                  p.step, p.total_steps, p.steps_per_second, p.val_ssim, eta});
      };
      AttackScore sc;
      sc.attack = attacker->name();
      {
        torch::AutoGradMode grad(true);
        sc.train = attacker->train({train.features[ci_idx], train.images}, {val.features[ci_idx], val.images},
                                   o.budget, on_step);
      }
      train_seconds += sc.train.seconds;
      // Early stopping skips steps: count the whole budget as done for the ETA.
      steps_done += o.budget.steps;
      auto rec = attacker->reconstruct(eval.features[ci_idx]);
      auto ssim = metrics::ssim(rec, eval.images);
      auto psnr = metrics::psnr(rec, eval.images);
      sc.ssim = ci(ssim);
      sc.psnr_db = ci(psnr.psnr_db);
      sc.psnr_capped = psnr.capped.sum().item<int64_t>();
      if (classifier) {
        const auto rec_logits = runner(data::to_model_input(rec, pre, model_sample));
        sc.top1_agreement = (rec_logits.argmax(1) == eval.logits.argmax(1)).to(torch::kFloat).mean().item<double>();
        sc.kl = kl_per_image(eval.logits, rec_logits).mean().item<double>();
      }
      if (ca.scores.empty() || sc.ssim.mean > ca.leak_ssim) {
        ca.leak_ssim = sc.ssim.mean;
        ca.leak_ci = sc.ssim;
        ca.worst_attack = sc.attack;
        worst_rec = rec;
      }
      log::info("cut {}/{} {:<16} {:<8} SSIM {:.3f} [{:.3f}, {:.3f}]  PSNR {:.1f} dB  {} steps{} in {:.1f} s",
                ci_idx + 1, cuts.size(), cut.name, sc.attack, sc.ssim.mean, sc.ssim.low, sc.ssim.high,
                sc.psnr_db.mean, sc.train.steps_run, sc.train.early_stopped ? " (early stop)" : "",
                sc.train.seconds);
      ca.scores.push_back(std::move(sc));
    }
    if (worst_rec.defined()) ca.reconstructions = to_image8(worst_rec.narrow(0, 0, k));
    if (store.save) store.save(ca);
    r.cuts.push_back(std::move(ca));
  }
  // Ternary: what the back cut says about the output, next to the front candidates.
  if (o.ternary && classifier) {
    const int64_t classes = eval.logits.size(1);
    const auto train_labels = train.logits.argmax(1), eval_labels = eval.logits.argmax(1);
    r.probe_chance = (torch::bincount(eval_labels, {}, classes).max().to(torch::kDouble) /
                      static_cast<double>(eval_labels.size(0))).item<double>();
    for (size_t i = 0; i < cuts.size(); ++i) {
      if (progress) progress({"probe", static_cast<int>(i), static_cast<int>(cuts.size()), cuts[i].name, 0, 0, 0, -1, -1});
      r.cuts[i].probe_accuracy = linear_probe_accuracy(train.features[i], train_labels, eval.features[i], eval_labels,
                                                       classes, o.seed + static_cast<uint64_t>(cuts[i].id));
      if (r.back_cut && cuts[i].id == r.back_cut->id) r.back_probe_accuracy = r.cuts[i].probe_accuracy;
    }
  }

  // Cost model: the enclave's share of FLOPs and memory, scaled by measured native time.
  if (progress) progress({"cost", 0, static_cast<int>(cuts.size()), "", 0, 0, 0, -1, -1});
  r.timed_on = o.device;
  r.whole_model_seconds = partition::time_parts(model, {}, o.device).at(0);
  r.all_enclave_seconds = o.tee_slowdown * r.whole_model_seconds;
  const double native_rate = summary.total_flops / std::max(r.whole_model_seconds, 1e-12);
  const double link = o.link_mib_per_s * 1048576.0;
  const int64_t out_bytes = summary.output_shape.empty() ? 0 : common::numel(summary.output_shape) * 4 /
                                                                   std::max<int64_t>(1, summary.output_shape[0]);
  for (auto& ca : r.cuts) {
    auto& c = ca.cost;
    const auto& cut = ca.cut;
    const bool tern = r.back_cut && r.back_cut->id != cut.id;
    const double back_flops = tern ? summary.total_flops - r.back_cut->front_flops : 0;
    const double back_params =
        tern ? static_cast<double>(summary.total_param_bytes - r.back_cut->front_param_bytes) : 0;
    const double back_peak = tern ? static_cast<double>(std::max(r.back_cut->activation_bytes, out_bytes)) : 0;
    c.enclave_flops = cut.front_flops + back_flops;
    c.enclave_param_bytes = static_cast<double>(cut.front_param_bytes) + back_params;
    c.enclave_peak_activation_bytes = std::max(static_cast<double>(cut.front_peak_activation_bytes), back_peak);
    c.enclave_bytes = c.enclave_param_bytes + c.enclave_peak_activation_bytes;
    c.boundary_bytes = static_cast<double>(cut.activation_bytes) + (tern ? r.back_cut->activation_bytes : 0);
    c.transfer_seconds = c.boundary_bytes / link;
    if (o.profile) {
      std::vector<int> ids{cut.id};
      if (tern) ids.push_back(r.back_cut->id);
      const auto t = partition::time_parts(model, ids, o.device);
      const double enclave_native = t.front() + (tern ? t.back() : 0);
      const double middle = tern ? t[1] : t.back();
      c.enclave_seconds = o.tee_slowdown * enclave_native;
      c.untrusted_seconds = middle / o.gpu_speedup;
      c.profiled = true;
    } else {
      c.enclave_seconds = o.tee_slowdown * c.enclave_flops / native_rate;
      c.untrusted_seconds = (summary.total_flops - c.enclave_flops) / native_rate / o.gpu_speedup;
    }
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  return r;
}

}  // namespace partplan::pipeline
