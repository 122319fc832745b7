// pipeline::assess as the list of its phases (src/pipeline/phases/phases.hpp): cuts, data,
// stats (attacker-train), reference (eval), oracle, train in lockstep with each group of
// stopped cuts scored at once (score, whitebox), probe (ternary) and cost. No phase keeps a
// feature per sample, except the ternary probe, bounded by limits.feature_memory_mib.
// To add an attacker, register it in attacks/ and name it in the config's "attacks" list.
#include "partplan/pipeline/assess.hpp"

#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "partplan/attacks/attacker.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/config/fields.hpp"
#include "partplan/pipeline/time_plan.hpp"
#include "src/pipeline/phases/phases.hpp"

namespace partplan::pipeline {
namespace {

/// What the result says about the data, from the data phase.
void describe_data(const phases::LoadedData& d, const phases::AttackPlan& attacks, AssessResult& r) {
  r.data_description = d.ds.description;
  r.data_size = d.ds.size();
  r.data_notes = d.ds.report.notes;
  r.measure = d.modality->measure();
  if (r.records()) r.record_columns = d.ds.report.columns;
  r.n_train = d.n_train();
  r.n_val = d.n_val();
  r.n_eval = d.n_eval();
  r.batch_size = d.batch;
  r.augmented = d.augment && !attacks.trained.empty();
}

void take_reference(phases::Reference& ref, AssessResult& r) {
  r.baselines = ref.baselines;
  r.label_floor = ref.label_floor;
  r.eval_originals = std::move(ref.originals);
  r.oracle_reference_kl = ref.oracle_reference_kl;
}

/// Cuts finished by an earlier run (--run-dir/--resume) are taken as they are; a pre-screen's
/// cuts have no attacker score. Returns the indices left to train; the others go to `done`.
std::vector<size_t> take_resumed(const phases::Samples& s, const phases::CutSelection& sel, bool trained,
                                 const CutStore& store, std::vector<CutAssessment>& done) {
  std::vector<size_t> to_train;
  for (size_t i = 0; i < sel.cuts.size(); ++i) {
    std::optional<CutAssessment> loaded;
    if (trained && store.load) loaded = store.load(sel.cuts[i]);
    if (loaded) {
      log::info("cut {:<16} resumed: {} {:.3f} ({})", sel.cuts[i].name, s.modality().verb(), loaded->leak,
                loaded->worst_attack);
      loaded->resumed = true;
      done.push_back(std::move(*loaded));
    } else if (!trained) {
      CutAssessment ca;
      ca.cut = sel.cuts[i];
      ca.leak = -1;
      done.push_back(std::move(ca));
    } else {
      to_train.push_back(i);
    }
  }
  return to_train;
}

/// The oracle's score of each cut taken as it was (resumed, or a pre-screen's).
void attach_oracle(const phases::CutSelection& sel, const std::vector<OracleScore>& oracle,
                   std::vector<CutAssessment>& done) {
  for (auto& ca : done)
    for (size_t i = 0; i < sel.cuts.size(); ++i)
      if (sel.cuts[i].id == ca.cut.id) ca.oracle = oracle[i];
}

void take_probe(const phases::ProbeResult& p, const phases::CutSelection& sel, AssessResult& r) {
  r.probe_chance = p.chance;
  r.back_probe_accuracy = p.back;
  for (size_t i = 0; i < sel.cuts.size(); ++i)
    for (auto& ca : r.cuts)
      if (ca.cut.id == sel.cuts[i].id) ca.probe_accuracy = p.accuracy[i];
}

void take_cost(const phases::CostResult& c, AssessResult& r) {
  r.whole_model_seconds = c.whole_model_seconds;
  r.untrusted_whole_model_seconds = c.untrusted_whole_model_seconds;
  r.timed_on = c.timed_on;
  r.untrusted_timed_on = c.untrusted_timed_on;
  r.gpu_speedup_applied = c.gpu_speedup_applied;
  r.all_enclave_seconds = c.all_enclave_seconds;
  for (size_t i = 0; i < r.cuts.size(); ++i) r.cuts[i].cost = c.costs[i];
}

std::vector<model::CutPoint> cut_points(const std::vector<CutAssessment>& cuts) {
  std::vector<model::CutPoint> out;
  for (const auto& ca : cuts) out.push_back(ca.cut);
  return out;
}

}  // namespace

const char* to_string(Phase phase) {
  switch (phase) {
    case Phase::kData: return "data";
    case Phase::kCalibrate: return "calibrate";
    case Phase::kStats: return "stats";
    case Phase::kOracle: return "oracle";
    case Phase::kTrain: return "train";
    case Phase::kScore: return "score";
    case Phase::kWhitebox: return "whitebox";
    case Phase::kProbe: return "probe";
    case Phase::kCost: return "cost";
  }
  return "?";
}

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
  if (!o.time_budget.empty()) parse_duration(o.time_budget);  // a bad duration fails before any work
  return o;
}

int64_t effective_whitebox_images(const attacks::WhiteboxOptions& whitebox, const common::Shape& image_shape) {
  if (whitebox.images > 0) return whitebox.images;
  const int64_t pixels = image_shape.size() == 3 ? image_shape[1] * image_shape[2] : 0;
  if (pixels <= 64 * 64) return 64;
  return std::max<int64_t>(16, 64 * 64 * 64 / pixels);
}

int64_t effective_batch_size(const attacks::TrainBudget& budget, const common::Shape& image_shape) {
  if (budget.batch_size > 0) return budget.batch_size;
  const int64_t pixels = image_shape.size() == 3 ? image_shape[1] * image_shape[2] : 0;
  if (pixels <= 64 * 64) return 32;
  return std::max<int64_t>(8, 32 * 64 * 64 / pixels);
}

AssessResult assess(const model::Model& model, const AssessOptions& options, const ProgressFn& progress,
                    const CutStore& store) {
  using namespace phases;
  const auto t_start = Clock::now();
  torch::NoGradGuard no_grad;
  AssessOptions o = options;  // a time budget lowers the white-box settings; ctx sees them
  PhaseClock clock;
  RunTime rt;
  rt.elapsed = [t_start] { return seconds_since(t_start); };
  if (!o.time_budget.empty()) rt.budget_seconds = parse_duration(o.time_budget);
  rt.step_limit = o.budget.steps;
  rt.whitebox_iterations_requested = o.whitebox.iterations;
  Context ctx = make_context(model, o, progress, &clock);
  ctx.run_time = &rt;
  // timed(phase, fn): fn's seconds go to phase (a phase that fn enters stops its clock).
  const auto timed = [&ctx](Phase phase, auto&& fn) {
    const auto scope = ctx.time(phase);
    return fn();
  };
  AssessResult r;
  r.device = o.device;
  r.ternary = o.ternary;

  const CutSelection sel = select_cuts(ctx);
  r.candidate_cuts = sel.candidates;
  r.back_cut = sel.back_cut;
  const AttackPlan attacks = attack_plan(o);
  r.trained = attacks.any();

  const LoadedData data = timed(Phase::kData, [&] { return load_data(ctx, attacks); });
  describe_data(data, attacks, r);
  const Samples s(ctx, data);
  std::vector<CutAssessment> done;
  const auto to_train = take_resumed(s, sel, r.trained, store, done);
  if (!to_train.empty()) {  // the rates behind the ETA and the time budget
    const auto cal = timed(Phase::kCalibrate, [&] { return calibrate(s, sel, attacks, to_train); });
    auto w = workload_of(s, sel, attacks, cal);
    if (rt.budget_seconds) w = fit_to_budget(ctx, o, rt, w, rt.elapsed());
    plan_eta(sel, to_train, w, rt.eta);
    r.estimated_seconds = rt.elapsed() + total_seconds(estimate_phases(w));
  }
  const std::optional<Statistics> stats =
      r.trained ? std::optional<Statistics>(timed(Phase::kStats, [&] { return stats_pass(s, sel); })) : std::nullopt;
  Reference ref = timed(Phase::kScore, [&] { return reference_pass(s, stats ? &*stats : nullptr); });
  take_reference(ref, r);
  rt.eta.finish(Phase::kStats);
  rt.eta.progress(Phase::kScore, 0, 1.0);  // the reference pass
  const auto oracle = timed(Phase::kOracle, [&] { return oracle_phase(s, sel, ref); });
  rt.eta.finish(Phase::kOracle);
  attach_oracle(sel, oracle, done);
  if (!to_train.empty()) {  // only a trained assessment has cuts to train, so `stats` is there
    torch::AutoGradMode grad(true);
    r.train_step_syncs = timed(Phase::kTrain, [&] {
      return train_phase(s, sel, *stats, attacks, to_train, [&](std::vector<TrainedCut>& group) {
        const auto scoring = ctx.time(Phase::kScore);
        for (auto& ca : score_cuts(s, sel, *stats, ref, attacks, group, oracle)) {
          if (store.save) store.save(ca);
          done.push_back(std::move(ca));
        }
      });
    });
  }
  std::sort(done.begin(), done.end(),
            [](const CutAssessment& a, const CutAssessment& b) { return a.cut.id < b.cut.id; });
  r.cuts = std::move(done);

  rt.eta.finish(Phase::kTrain);
  rt.eta.finish(Phase::kScore);
  rt.eta.finish(Phase::kWhitebox);
  if (o.ternary && data.classifier && r.trained)
    take_probe(timed(Phase::kProbe, [&] { return probe_phase(s, sel, *stats, ref); }), sel, r);
  take_cost(timed(Phase::kCost, [&] { return cost_phase(ctx, sel, cut_points(r.cuts)); }), r);
  r.phase_seconds = clock.totals();
  r.time_budget = rt.report;
  r.seconds = seconds_since(t_start);
  return r;
}

}  // namespace partplan::pipeline
