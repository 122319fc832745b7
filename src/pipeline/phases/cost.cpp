// Phase "cost": what a split at each cut costs per inference (docs/cost-model.md).
#include <algorithm>

#include "partplan/partition/extractor.hpp"
#include "src/pipeline/phases/phases.hpp"

namespace partplan::pipeline {

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

namespace phases {
namespace {

/// --profile: the split's parts timed, the enclave's on the CPU, the untrusted one on the GPU
/// when the run has one (else the CPU time over gpu_speedup).
void profile(const Context& ctx, const model::Model& cpu, const CutSelection& sel, const model::CutPoint& cut,
             CutCost& c) {
  const auto& o = ctx.options;
  const bool tern = sel.back_cut && sel.back_cut->id != cut.id;
  std::vector<int> ids{cut.id};
  if (tern) ids.push_back(sel.back_cut->id);
  const auto t = partition::time_parts(cpu, ids, "cpu");
  c.enclave_seconds = o.cost.tee_slowdown * (t.front() + (tern ? t.back() : 0));
  const double untrusted = tern ? t[1] : t.back();
  if (ctx.device.is_cuda()) {
    const auto g = partition::time_parts(ctx.model, ids, o.device);
    c.untrusted_seconds = tern ? g[1] : g.back();
  } else {
    c.untrusted_seconds = untrusted / o.cost.gpu_speedup;
  }
  c.profiled = true;
}

/// cost.timings: the times partplan run measured at the split it served, in place of the
/// estimate (the enclave's at native speed, so times tee_slowdown as every enclave time here).
void apply_measured(const Context& ctx, const CutSelection& sel, const model::CutPoint& cut, CutCost& c) {
  const auto& o = ctx.options.cost;
  if (!o.measured || o.measured->cut_ids.empty() || o.measured->cut_ids.front() != cut.id) return;
  const bool tern = sel.back_cut && sel.back_cut->id != cut.id;
  if (tern != (o.measured->cut_ids.size() == 2) || (tern && o.measured->cut_ids.back() != sel.back_cut->id)) return;
  const auto& m = *o.measured;
  c.enclave_seconds = o.tee_slowdown * m.enclave_native_seconds;
  c.untrusted_seconds = m.untrusted_on_cpu && !ctx.device.is_cuda() ? m.untrusted_seconds / o.gpu_speedup : m.untrusted_seconds;
  c.transfer_seconds = m.transfer_seconds;
  c.profiled = false;
  c.from_runtime = true;
}

}  // namespace

CostResult cost_phase(const Context& ctx, const CutSelection& sel, const std::vector<model::CutPoint>& assessed) {
  const auto& summary = ctx.model.summary();
  const auto& o = ctx.options;
  ctx.report(Progress::of(Phase::kCost).with_cuts(0, static_cast<int>(sel.cuts.size())));
  const model::Model cpu = ctx.model.on_cpu();
  const bool gpu = ctx.device.is_cuda();
  CostResult r;
  r.timed_on = "cpu";
  r.untrusted_timed_on = gpu ? o.device : "cpu";
  r.gpu_speedup_applied = !gpu;
  r.whole_model_seconds = partition::time_parts(cpu, {}, "cpu").at(0);
  r.untrusted_whole_model_seconds = gpu ? partition::time_parts(ctx.model, {}, o.device).at(0) : r.whole_model_seconds;
  r.all_enclave_seconds = o.cost.tee_slowdown * r.whole_model_seconds;
  CostInputs in;
  in.total_flops = summary.total_flops;
  in.total_param_bytes = summary.total_param_bytes;
  in.output_bytes = summary.output_bytes;  // at the output's own dtype
  in.whole_model_seconds = r.whole_model_seconds;
  in.untrusted_whole_model_seconds = gpu ? r.untrusted_whole_model_seconds : 0;
  in.back_cut = sel.back_cut;
  in.options = o.cost;
  for (const auto& cut : assessed) {
    r.costs.push_back(estimate_cost(cut, in));
    if (o.cost.profile) profile(ctx, cpu, sel, cut, r.costs.back());
    apply_measured(ctx, sel, cut, r.costs.back());
  }
  return r;
}

}  // namespace phases
}  // namespace partplan::pipeline
