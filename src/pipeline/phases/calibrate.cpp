// Phase "calibrate": the rates behind the ETA and --time-budget (time_plan.hpp), measured on
// one attacker-train batch with throwaway attackers.
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <mutex>

#include "partplan/attacks/trainer.hpp"
#include "partplan/attacks/whitebox.hpp"
#include "partplan/common/log.hpp"
#include "partplan/model/device.hpp"
#include "partplan/partition/extractor.hpp"
#include "src/pipeline/phases/phases.hpp"

namespace partplan::pipeline::phases {
namespace {

/// torch's global CPU generator as it was at construction, restored at destruction: the
/// throwaway attackers seed it (AttackerSpec::seed) and nothing after may notice.
class KeepCpuGenerator {
 public:
  KeepCpuGenerator() : gen_(at::detail::getDefaultCPUGenerator()) {
    std::lock_guard<std::mutex> lock(gen_.mutex());
    state_ = gen_.get_state();
  }
  ~KeepCpuGenerator() {
    std::lock_guard<std::mutex> lock(gen_.mutex());
    gen_.set_state(state_);
  }
  KeepCpuGenerator(const KeepCpuGenerator&) = delete;
  KeepCpuGenerator& operator=(const KeepCpuGenerator&) = delete;

 private:
  at::Generator gen_;
  at::Tensor state_;
};

/// Seconds of fn() on `device`, after one untimed run.
template <class Fn>
double timed_once(const std::string& device, Fn&& fn) {
  fn();
  model::RegionTimer timer(device);
  timer.start();
  fn();
  timer.stop();
  return timer.seconds();
}

/// One white-box iteration of one image from one start at `cut`, on the first eval images.
double whitebox_rate(const Samples& s, const model::CutPoint& cut) {
  const auto& o = s.ctx.options;
  const int64_t n = std::min<int64_t>({o.whitebox.batch > 0 ? o.whitebox.batch : s.data.batch,
                                       effective_whitebox_images(o.whitebox, s.modality().target_shape()),
                                       s.data.n_eval()});
  if (n < 1) return 0;
  const std::vector<int64_t> idx(s.data.splits.eval.begin(), s.data.splits.eval.begin() + n);
  partition::FeatureExtractor ex(s.ctx.model, {cut.id});
  const attacks::FrontFn front = [&](const at::Tensor& x) { return ex.differentiable(s.input(x))[0]; };
  const auto unit = s.unit(idx);
  const auto observed = ex(s.input(unit))[0];
  auto wo = o.whitebox;
  wo.iterations = 2;
  const auto start = torch::full_like(unit, 0.5);
  return timed_once(o.device, [&] { attacks::whitebox_invert(front, observed, start, wo); }) /
         (2.0 * static_cast<double>(n));
}

}  // namespace

Calibration calibrate(const Samples& s, const CutSelection& sel, const AttackPlan& attacks,
                      const std::vector<size_t>& to_train) {
  const auto& o = s.ctx.options;
  const KeepCpuGenerator keep;
  Calibration c;
  const int64_t b = std::min<int64_t>(s.data.batch, s.data.n_train());
  if (b < 1 || to_train.empty()) return c;
  const std::vector<int64_t> idx(s.data.splits.attacker_train.begin(), s.data.splits.attacker_train.begin() + b);
  std::vector<int> ids;
  for (auto i : to_train) ids.push_back(sel.cuts[i].id);
  partition::FeatureExtractor ex(s.ctx.model, ids, /*include_output=*/true);
  const auto unit = s.unit(idx);
  const auto input = s.input(unit);
  std::vector<at::Tensor> feats;
  c.forward = timed_once(o.device, [&] { feats = ex(input); }) / static_cast<double>(b);
  const double total_flops = std::max(s.ctx.model.summary().total_flops, 1.0);
  const auto& sorted = ex.cut_ids();
  for (size_t k = 0; k < to_train.size(); ++k) {
    const auto& cut = sel.cuts[to_train[k]];
    s.ctx.report(Progress::of(Phase::kCalibrate).with_cuts(static_cast<int>(k), static_cast<int>(to_train.size()), cut.name));
    const auto slot = static_cast<size_t>(std::find(sorted.begin(), sorted.end(), cut.id) - sorted.begin());
    const auto& f = feats[slot];
    CutRates r;
    r.front_fraction = std::clamp(cut.front_flops / total_flops, 0.0, 1.0);
    r.attackers = static_cast<int64_t>(attacks.trained.size());
    for (size_t a = 0; a < attacks.trained.size(); ++a) {
      auto attacker = attacks::create_attacker(
          attacks.trained[a], attacker_spec(s, cut, attacks::feature_stats(f), attacks::LinearInverse{}, a));
      {
        torch::AutoGradMode grad(true);
        r.step += timed_once(o.device, [&] { attacker->step(f, unit); });
      }
      r.reconstruct += timed_once(o.device, [&] { attacker->reconstruct(f); }) / static_cast<double>(b);
    }
    if (attacks.whitebox && !whitebox_skip_note(o, attacks, sel, cut)) {
      r.whitebox = whitebox_rate(s, cut);
      r.whitebox_starts = attacks.trained.empty() ? 1 : 2;
    }
    log::debug("calibrate {:<16} step {:.3f} s, reconstruct {:.4f} s/sample, white-box {:.4f} s/image/iteration",
               cut.name, r.step, r.reconstruct, r.whitebox);
    c.cuts.push_back(r);
  }
  return c;
}

}  // namespace partplan::pipeline::phases
