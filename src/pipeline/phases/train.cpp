// Phase "train": lockstep training of every cut's attackers, one forward per batch for all
// cuts still training; a group of cuts that stop together is handed on at once.
#include <fmt/format.h>

#include <algorithm>

#include "partplan/attacks/trainer.hpp"
#include "partplan/common/log.hpp"
#include "partplan/data/preprocess.hpp"
#include "partplan/metrics/records.hpp"
#include "partplan/model/device.hpp"
#include "partplan/partition/extractor.hpp"
#include "src/pipeline/phases/phases.hpp"

namespace partplan::pipeline::phases {
namespace {

/// One cut's attackers while they train.
struct CutTraining {
  size_t index = 0;  ///< into CutSelection::cuts
  std::vector<std::unique_ptr<attacks::Attacker>> attackers;
  std::vector<attacks::TrainTracker> trackers;
  std::vector<model::RegionTimer> timers;   ///< each attacker's step time (CUDA events on a GPU)
  std::vector<std::vector<at::Tensor>> l1;  ///< each attacker's step losses not yet read
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
  /// The stopped cut: best weights restored, each attacker's statistics taken.
  TrainedCut finish() {
    read_losses();
    TrainedCut t;
    t.index = index;
    for (size_t a = 0; a < attackers.size(); ++a) {
      attackers[a]->restore_best();
      t.stats.push_back(trackers[a].stats(timers[a].seconds()));
    }
    t.attackers = std::move(attackers);
    return t;
  }
};

CutTraining start_cut(const Samples& s, const CutSelection& sel, const Statistics& st, const AttackPlan& attacks,
                      size_t index, int64_t step_limit) {
  const auto& o = s.ctx.options;
  CutTraining t;
  t.index = index;
  const auto& cut = sel.cuts[index];
  for (size_t ai = 0; ai < attacks.trained.size(); ++ai) {
    const auto spec = attacker_spec(s, cut, st.feature_stats[index], st.linear_inverse[index], ai);
    t.attackers.push_back(attacks::create_attacker(attacks.trained[ai], spec));
    t.trackers.emplace_back(o.budget);
    if (step_limit < o.budget.steps) t.trackers.back().limit_steps(step_limit);
    t.timers.emplace_back(o.device);
    t.l1.emplace_back();
  }
  return t;
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

  explicit TrainBatches(const Samples& s) : s_(s), batch_(s.data.batch), augment_(s.data.augment) {
    const auto& ds = s.data.ds;
    const auto& idx = s.data.splits.attacker_train;
    const auto& ctx = s.ctx;
    n_ = static_cast<int64_t>(idx.size());
    cursor_ = n_;  // the first step starts an epoch
    const auto ids = torch::tensor(idx, torch::kLong);
    const double bytes = static_cast<double>(ds.samples.numel() / std::max<int64_t>(ds.size(), 1) *
                                             ds.samples.element_size()) * static_cast<double>(n_);
    if (ctx.device.is_cuda() && bytes <= kDeviceDataBytes) {
      samples_ = ctx.to_device(ds.samples.index_select(0, ids));
      positions_ = torch::arange(n_, torch::kLong);  // samples_ holds attacker-train only
      log::info("attacker-train on {}: {:.0f} MiB as stored", ctx.options.device, bytes / 1048576.0);
    } else {
      if (ctx.device.is_cuda())
        log::info("attacker-train ({:.0f} MiB) stays on the host: above {:.0f} MiB; batches are copied per step",
                  bytes / 1048576.0, kDeviceDataBytes / 1048576.0);
      samples_ = ds.samples;
      positions_ = ids;
      host_ = ctx.device.is_cuda();
    }
  }

  /// The batch of training step `step` (1-based), in [0,1] on the run's device, augmented
  /// when the run augments.
  at::Tensor next(int64_t step) {
    if (cursor_ + batch_ > n_) new_epoch(step);
    const int64_t k = (cursor_ / batch_);
    const auto pick = order_.narrow(0, cursor_, batch_);
    cursor_ += batch_;
    at::Tensor unit;
    if (host_)
      unit = s_.ctx.to_device(data::to_unit(samples_.index_select(0, pick)));
    else
      unit = data::to_unit(samples_.index_select(0, pick));
    unit = s_.modality().shaped(unit);
    if (augment_) unit = data::augment_with(unit, theta_[k]);
    return unit;
  }

 private:
  void new_epoch(int64_t step) {
    const uint64_t seed = s_.ctx.options.seed;
    const auto perm = data::seeded_permutation(n_, seed * 0x2545f4914f6cdd1dULL + static_cast<uint64_t>(++epoch_));
    auto order = positions_.index_select(0, torch::tensor(perm, torch::kLong));
    order_ = host_ ? order : s_.ctx.to_device(order);
    cursor_ = 0;
    if (!augment_) return;
    // This epoch's steps, each with the matrices augment_crops_flips would draw for it.
    const int64_t steps = n_ / batch_;
    std::vector<at::Tensor> th;
    for (int64_t i = 0; i < steps; ++i)
      th.push_back(data::augment_params(batch_, seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(step + i))));
    theta_ = s_.ctx.to_device(torch::stack(th, 0));
  }

  const Samples& s_;
  int64_t batch_;
  bool augment_;
  int64_t n_ = 0, cursor_ = 0, epoch_ = 0;
  bool host_ = false;  ///< a GPU run whose samples stay on the host
  at::Tensor samples_, positions_, order_, theta_;
};

/// The cuts whose attackers all stopped leave `active`, finished, in their order.
std::vector<TrainedCut> take_finished(std::vector<CutTraining>& active) {
  std::vector<TrainedCut> out;
  for (auto it = active.begin(); it != active.end();) {
    if (it->done()) {
      out.push_back(it->finish());
      it = active.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

/// The attacker-val check of every attacker due one: its mean similarity, one forward per
/// val batch for all cuts; an attacker that improved keeps its weights.
void check_on_val(const Samples& s, const CutSelection& sel, std::vector<CutTraining>& active,
                  const partition::FeatureExtractor& ex) {
  const auto& ids = ex.cut_ids();
  auto slot = [&](const CutTraining& t) {
    return static_cast<size_t>(std::find(ids.begin(), ids.end(), sel.cuts[t.index].id) - ids.begin());
  };
  std::vector<std::vector<double>> sums(active.size());
  for (size_t i = 0; i < active.size(); ++i) sums[i].assign(active[i].attackers.size(), 0.0);
  for_batches(s.data.splits.attacker_val, s.pass_batch(ids), [&](int64_t, const std::vector<int64_t>& vb) {
    const auto vu = s.unit(vb);
    const auto vf = ex(s.input(vu));
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
          active[i].trackers[a].on_check(sums[i][a] / static_cast<double>(s.data.n_val())))
        active[i].attackers[a]->keep_best();
  }
}

/// One step of every attacker still training on one batch; true when a check is due.
bool step_all(const CutSelection& sel, std::vector<CutTraining>& active, const partition::FeatureExtractor& ex,
              const at::Tensor& feats_input, const at::Tensor& unit) {
  const auto feats = ex(feats_input);
  const auto& ids = ex.cut_ids();
  bool check = false;
  for (auto& t : active) {
    const auto slot = static_cast<size_t>(std::find(ids.begin(), ids.end(), sel.cuts[t.index].id) - ids.begin());
    for (size_t a = 0; a < t.attackers.size(); ++a) {
      if (t.trackers[a].done()) continue;
      t.timers[a].start();
      t.l1[a].push_back(t.attackers[a]->step(feats[slot], unit));
      t.timers[a].stop();
      t.trackers[a].on_step();
      check = check || t.trackers[a].check_due();
    }
  }
  return check;
}

/// Under --time-budget, at a check: the steps the run can still afford, from the training
/// time measured so far per step and the ETA of the phases after training; lowers every
/// active tracker's limit when that is below `steps`. Returns the (new) limit.
int64_t refit_steps(const Context& ctx, std::vector<CutTraining>& active, int64_t step, int64_t steps) {
  RunTime* rt = ctx.run_time;
  if (!rt || !rt->budget_seconds || !ctx.clock || !rt->elapsed || active.empty()) return steps;
  const auto spent = ctx.clock->live();
  double after = 0;  // seconds the phases after training still need
  for (const Phase p : {Phase::kScore, Phase::kWhitebox, Phase::kProbe, Phase::kCost})
    after += rt->eta.remaining(p, spent[static_cast<size_t>(p)]);
  const double per_step = spent[static_cast<size_t>(Phase::kTrain)] / static_cast<double>(step);
  const double left = kBudgetPlanShare * *rt->budget_seconds - rt->elapsed() - after;
  const int64_t floor = std::min(ctx.options.budget.steps, ctx.options.budget.eval_every);
  const int64_t fitted = steps_within(left, per_step, step, steps, floor);
  if (fitted >= steps) return steps;
  for (auto& t : active)
    for (auto& tr : t.trackers) tr.limit_steps(fitted);
  const auto sentence = fmt::format("training steps per cut {} -> {} (re-fitted at step {}: {:.2f} s per step)",
                                    steps, fitted, step, per_step);
  log::info("time budget: {}", sentence);
  if (rt->report) {
    rt->report->reductions.push_back(sentence);
    rt->report->steps = fitted;
  }
  rt->step_limit = fitted;
  rt->eta.plan(Phase::kTrain, {rt->eta.estimate(Phase::kTrain) * static_cast<double>(fitted) / static_cast<double>(steps)});
  return fitted;
}

}  // namespace

attacks::AttackerSpec attacker_spec(const Samples& s, const model::CutPoint& cut, attacks::FeatureStats stats,
                                    attacks::LinearInverse linear_inverse, size_t attacker) {
  const auto& o = s.ctx.options;
  attacks::AttackerSpec spec;
  spec.feature_shape = common::Shape(cut.shape.begin() + 1, cut.shape.end());
  spec.image_shape = s.modality().target_shape();
  spec.feature_stats = std::move(stats);
  spec.linear_inverse = std::move(linear_inverse);
  spec.device = o.device;
  spec.seed = o.seed * 1000003ULL + static_cast<uint64_t>(cut.id) * 101ULL + attacker;
  spec.cgan = o.cgan;
  return spec;
}

int64_t train_phase(const Samples& s, const CutSelection& sel, const Statistics& st, const AttackPlan& attacks,
                    const std::vector<size_t>& to_train, const OnTrained& on_trained) {
  if (to_train.empty()) return -1;
  const auto& o = s.ctx.options;
  RunTime* rt = s.ctx.run_time;
  const int64_t limit = rt && rt->step_limit > 0 ? std::min(rt->step_limit, o.budget.steps) : o.budget.steps;
  std::vector<CutTraining> active;
  for (auto i : to_train) active.push_back(start_cut(s, sel, st, attacks, i, limit));
  auto extractor_for = [&]() {
    std::vector<int> ids;
    for (const auto& t : active) ids.push_back(sel.cuts[t.index].id);
    return partition::FeatureExtractor(s.ctx.model, ids);
  };
  auto ex = extractor_for();
  int64_t steps = limit;
  TrainBatches batches(s);
  model::SyncCounter syncs(o.device);
  const auto t0 = Clock::now();
  auto last_report = t0;
  for (int64_t step = 1; !active.empty(); ++step) {
    const auto unit = batches.next(step);
    const bool check = step_all(sel, active, ex, s.input(unit), unit);
    syncs.pause(true);  // checks and scoring read results: they wait for the device
    if (check) {
      check_on_val(s, sel, active, ex);
      steps = refit_steps(s.ctx, active, step, steps);
    }
    s.ctx.advance(Phase::kTrain, 0, static_cast<double>(step) / static_cast<double>(steps));
    auto finished = take_finished(active);
    if (!finished.empty()) {
      on_trained(finished);
      if (!active.empty()) ex = extractor_for();  // the forward now stops at the deepest active cut
    }
    syncs.pause(false);
    const auto now = Clock::now();
    if (std::chrono::duration<double>(now - last_report).count() > 1.0 || active.empty()) {
      last_report = now;
      double best = -1;
      for (const auto& t : active)
        for (const auto& tr : t.trackers) best = std::max(best, tr.latest_val());
      const double rate = static_cast<double>(step) / std::max(seconds_since(t0), 1e-9);
      s.ctx.report(Progress::of(Phase::kTrain)
                       .with_cuts(static_cast<int>(active.size()), static_cast<int>(sel.cuts.size()))
                       .with_steps(step, steps)
                       .with_training(rate, best, s.modality().val_label()));
    }
  }
  if (!syncs.active()) return -1;
  if (syncs.count() > 0)
    log::warn("{} host synchronisation(s) in training steps on {}: each stalls the GPU (a performance bug; "
              "please report it with the model)",
              syncs.count(), o.device);
  return syncs.count();
}

}  // namespace partplan::pipeline::phases
