// Phase "score": each trained cut's attackers on eval, then the white-box attacker; and the
// one accumulator that scores attackers and baselines alike.
#include "src/pipeline/phases/score.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "partplan/attacks/whitebox.hpp"
#include "partplan/common/log.hpp"
#include "src/pipeline/exposure.hpp"

namespace partplan::pipeline::phases {

ScoreAccumulator::ScoreAccumulator(const Samples& s, int64_t grid_images, const partition::ModelRunner* runner)
    : s_(s), runner_(runner), measures_(s.modality().accumulator(grid_images)) {}

void ScoreAccumulator::add(int64_t first, const at::Tensor& rec, const at::Tensor& truth, const at::Tensor& logits) {
  measures_->add(first, rec, truth);
  count_ += rec.size(0);
  if (!runner_ || !s_.data.classifier) return;
  const auto rec_logits = (*runner_)(s_.input(rec));
  agree_ += (rec_logits.argmax(1) == logits.argmax(1)).sum().item<int64_t>();
  kl_ += kl_per_image(logits, rec_logits).sum().item<double>();
}

AttackScore ScoreAccumulator::finish(std::string attack, const at::Tensor& eval_pool) const {
  AttackScore sc;
  sc.attack = std::move(attack);
  measures_->finish(sc, eval_pool);
  sc.images = count_;
  if (runner_ && s_.data.classifier) {
    sc.top1_agreement = static_cast<double>(agree_) / static_cast<double>(count_);
    sc.kl = kl_ / static_cast<double>(count_);
  }
  return sc;
}

Baseline to_baseline(const BaselineSpec& spec, const AttackScore& score) {
  return {spec.name, score.ssim, score.psnr_db, spec.note, score.records};
}

namespace {

/// Append an attacker's score to its cut, logging it, and make it the cut's leak (and its
/// grid the cut's) when it is the strongest so far.
void add_score(const Modality& m, CutAssessment& ca, AttackScore sc, const at::Tensor& grid, at::Tensor& worst_grid) {
  const auto& h = sc.headline();
  if (ca.scores.empty() || h.mean > ca.leak) {
    ca.leak = h.mean;
    ca.leak_ci = h;
    ca.worst_attack = sc.attack;
    worst_grid = grid;
  }
  log::info("cut {:<16} {:<8} {} {:.3f} [{:.3f}, {:.3f}]  {}  {} {}{}{}{} in {:.1f} s", ca.cut.name, sc.attack,
            m.verb(), h.mean, h.low, h.high, m.detail(sc), sc.train.steps_run,
            sc.attack == "whitebox" ? "iterations" : "steps", sc.train.early_stopped ? " (early stop)" : "",
            sc.train.still_improving ? " (still improving)" : "",
            sc.train.cut_short ? " (cut short by the time budget: a lower bound)" : "", sc.train.seconds);
  ca.scores.push_back(std::move(sc));
}

/// The white-box attacker at one cut (`item`: its index in CutSelection::cuts, for the ETA),
/// on the first effective_whitebox_images eval images: from the mean
/// sample and from `learned`'s reconstruction (when a learned attacker trained here), keeping
/// per image the start that fits the observed features better. Its grid goes to *grid.
AttackScore whitebox_score(const Samples& s, const model::CutPoint& cut, size_t item, const Statistics& st,
                           const Reference& ref, attacks::Attacker* learned, const partition::ModelRunner& runner,
                           at::Tensor* grid) {
  const auto t0 = Clock::now();
  const auto& o = s.ctx.options;
  const auto& wo = o.whitebox;
  const int64_t n = std::min<int64_t>(effective_whitebox_images(wo, s.modality().target_shape()), s.data.n_eval());
  const std::vector<int64_t> idx(s.data.splits.eval.begin(), s.data.splits.eval.begin() + n);
  partition::FeatureExtractor ex(s.ctx.model, {cut.id});
  const attacks::FrontFn front = [&](const at::Tensor& x) { return ex.differentiable(s.input(x))[0]; };
  ScoreAccumulator acc(s, std::min<int64_t>(o.grid_images, n), &runner);
  for_batches(idx, wo.batch > 0 ? wo.batch : s.data.batch, [&](int64_t first, const std::vector<int64_t>& b) {
    const auto unit = s.unit(b);
    const auto observed = ex(s.input(unit))[0];
    const auto mean = st.mean_sample.expand_as(unit);
    std::vector<attacks::WhiteboxResult> fits;
    if (learned && s.ctx.device.is_cuda()) {
      // Both starts in one batch: the objective is per image, so each follows its own path;
      // on a GPU that halves the launches. (On the CPU a doubled batch costs twice the time,
      // so the starts run one after the other there.)
      const int64_t nb = unit.size(0);
      const auto starts = torch::cat({mean, learned->reconstruct(observed)}, 0);
      const auto both = attacks::whitebox_invert(front, torch::cat({observed, observed}, 0), starts, wo);
      for (int64_t k = 0; k < 2; ++k)
        fits.push_back({both.images.narrow(0, k * nb, nb), both.objective.narrow(0, k * nb, nb)});
    } else {
      fits.push_back(attacks::whitebox_invert(front, observed, mean, wo));
      if (learned) fits.push_back(attacks::whitebox_invert(front, observed, learned->reconstruct(observed), wo));
    }
    acc.add(first, attacks::keep_best_fit(fits).images, unit,
            ref.eval_logits.narrow(0, first, static_cast<int64_t>(b.size())));
    const int64_t done = first + static_cast<int64_t>(b.size());
    s.ctx.advance(Phase::kWhitebox, item, static_cast<double>(done) / static_cast<double>(n));
    s.ctx.report(Progress::of(Phase::kWhitebox).with_cuts(0, 1, cut.name).with_steps(done, n));
  });
  auto sc = acc.finish("whitebox", ref.eval_pool);  // records: the first n eval records
  // An optimisation with a fixed iteration count: nothing to judge convergence by on val.
  sc.train.steps_run = wo.iterations;
  const auto* rt = s.ctx.run_time;
  sc.train.cut_short = rt && wo.iterations < rt->whitebox_iterations_requested;  // the time budget cut them
  sc.train.seconds = seconds_since(t0);
  if (grid) *grid = acc.grid();
  return sc;
}

/// The learned attacker the host would trust most at a cut: the best on attacker-val.
attacks::Attacker* best_learned(TrainedCut& t) {
  attacks::Attacker* learned = nullptr;
  double best_val = -2;
  for (size_t a = 0; a < t.attackers.size(); ++a)
    if (t.stats[a].best_val > best_val) {
      best_val = t.stats[a].best_val;
      learned = t.attackers[a].get();
    }
  return learned;
}

/// The white-box attacker at a trained cut, or the note saying why it was skipped.
void add_whitebox(const Samples& s, const CutSelection& sel, const AttackPlan& attacks, const Statistics& st,
                  const Reference& ref, TrainedCut& t, const partition::ModelRunner& runner, CutAssessment& ca,
                  at::Tensor& worst_grid) {
  if (const auto note = whitebox_skip_note(s.ctx.options, attacks, sel, ca.cut)) {
    ca.notes.push_back(*note);
    log::info("cut {:<16} {}", ca.cut.name, ca.notes.back());
    return;
  }
  const auto timing = s.ctx.time(Phase::kWhitebox);
  at::Tensor grid;
  auto sc = whitebox_score(s, ca.cut, t.index, st, ref, best_learned(t), runner, &grid);
  add_score(s.modality(), ca, std::move(sc), grid, worst_grid);
}

}  // namespace

std::optional<std::string> whitebox_skip_note(const AssessOptions& o, const AttackPlan& attacks,
                                              const CutSelection& sel, const model::CutPoint& cut) {
  if (attacks.trained.empty()) return std::nullopt;
  const double front_gflops = cut.front_flops / 1e9;
  const auto& wo = o.whitebox;
  if (wo.max_front_gflops > 0 && front_gflops > wo.max_front_gflops)
    return fmt::format("whitebox skipped: the front costs {:.2f} GFLOPs per image, above "
                       "whitebox.max_front_gflops = {:g} (raise it, best on a GPU)",
                       front_gflops, wo.max_front_gflops);
  if (wo.max_total_gflops <= 0 || sel.candidates.empty() || sel.candidates.front().id == cut.id) return std::nullopt;
  double total = 0;  // candidates are in depth order; the fronts nest, so each costs more than the last
  for (const auto& c : sel.candidates) {
    total += c.front_flops / 1e9;
    if (c.id == cut.id) break;
  }
  if (total <= wo.max_total_gflops) return std::nullopt;
  return fmt::format("whitebox skipped: with this cut the white-box fronts would sum to {:.2f} GFLOPs per image, "
                     "above whitebox.max_total_gflops = {:g} (the earlier cuts keep it; raise it, best on a GPU)",
                     total, wo.max_total_gflops);
}

std::vector<CutAssessment> score_cuts(const Samples& s, const CutSelection& sel, const Statistics& st,
                                      const Reference& ref, const AttackPlan& attacks, std::vector<TrainedCut>& group,
                                      const std::vector<OracleScore>& oracle) {
  const auto& cuts = sel.cuts;
  std::vector<int> ids;
  for (const auto& g : group) ids.push_back(cuts[g.index].id);
  partition::FeatureExtractor ex(s.ctx.model, ids);
  const std::vector<int>& sorted = ex.cut_ids();
  auto slot = [&](int id) { return static_cast<size_t>(std::find(sorted.begin(), sorted.end(), id) - sorted.begin()); };
  partition::ModelRunner runner(s.ctx.model);
  const int64_t k = std::min<int64_t>(s.ctx.options.grid_images, s.data.n_eval());
  std::vector<std::vector<ScoreAccumulator>> acc(group.size());
  for (size_t g = 0; g < group.size(); ++g)
    for (size_t a = 0; a < group[g].attackers.size(); ++a) acc[g].emplace_back(s, k, &runner);
  int64_t done = 0;
  for_batches(s.data.splits.eval, s.pass_batch(ids), [&](int64_t first, const std::vector<int64_t>& b) {
    const auto unit = s.unit(b);
    const auto feats = ex(s.input(unit));
    const auto logits = ref.eval_logits.narrow(0, first, static_cast<int64_t>(b.size()));
    for (size_t g = 0; g < group.size(); ++g) {
      const auto& f = feats[slot(cuts[group[g].index].id)];
      for (size_t a = 0; a < group[g].attackers.size(); ++a)
        acc[g][a].add(first, group[g].attackers[a]->reconstruct(f), unit, logits);
    }
    done += static_cast<int64_t>(b.size());
    for (const auto& g : group)  // score item 0 is the reference pass; cut i is item 1 + i
      s.ctx.advance(Phase::kScore, 1 + g.index, static_cast<double>(done) / static_cast<double>(s.data.n_eval()));
    s.ctx.report(Progress::of(Phase::kScore)
                     .with_cuts(0, static_cast<int>(group.size()), cuts[group.front().index].name)
                     .with_steps(done, s.data.n_eval()));
  });
  std::vector<CutAssessment> out;
  for (size_t g = 0; g < group.size(); ++g) {
    auto& t = group[g];
    CutAssessment ca;
    ca.cut = cuts[t.index];
    ca.oracle = oracle[t.index];
    ca.leak = -1;
    at::Tensor worst_grid;
    for (size_t a = 0; a < t.attackers.size(); ++a) {
      auto sc = acc[g][a].finish(t.attackers[a]->name(), ref.eval_pool);
      sc.train = t.stats[a];
      add_score(s.modality(), ca, std::move(sc), acc[g][a].grid(), worst_grid);
    }
    if (attacks.whitebox) add_whitebox(s, sel, attacks, st, ref, t, runner, ca, worst_grid);
    if (worst_grid.defined()) ca.reconstructions = to_image8(worst_grid);
    out.push_back(std::move(ca));
  }
  return out;
}

}  // namespace partplan::pipeline::phases
