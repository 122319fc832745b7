// app::assess: one assessment from request to outcome (include/partplan/app/assess.hpp).
#include "partplan/app/assess.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/shape.hpp"
#include "partplan/model/device.hpp"
#include "partplan/model/model.hpp"
#include "partplan/plan/assessment.hpp"
#include "partplan/report/assess_report.hpp"
#include "partplan/report/report.hpp"
#include "partplan/report/runtime_document.hpp"
#include "partplan/store/run_store.hpp"

namespace fs = std::filesystem;

namespace partplan::app {
namespace {

/// cost.timings: the measured times of the split a runtime.json served, for the cost phase.
pipeline::CostOptions::Measured measured_timings(const std::string& path) {
  const auto doc = report::runtime_from_json(common::read_file(path), path);
  if (doc.completed < 1 || doc.failure)
    throw UsageError(fmt::format("'{}' records a run that failed or completed no request: use the runtime.json of a "
                                 "run that succeeded for --timings",
                                 path));
  pipeline::CostOptions::Measured m;
  m.cut_ids = doc.cut_ids;
  for (const auto& p : doc.parts)
    (p.role == "enclave" ? m.enclave_native_seconds : m.untrusted_seconds) += p.measured.p50 / 1e3;
  for (const auto& h : doc.hops)
    if (h.from != "client" && h.to != "client") m.transfer_seconds += h.measured.p50 / 1e3;
  for (const auto& w : doc.workers)
    if (w.role == "untrusted") m.untrusted_on_cpu = w.device == "cpu";
  return m;
}

/// The effective options, device resolved, numerics configured, the shard's checks done.
pipeline::AssessOptions resolve_options(const AssessRequest& req, config::Settings& settings) {
  auto options = pipeline::options_from_settings(settings);
  if (!options.cost.timings.empty()) options.cost.measured = measured_timings(options.cost.timings);
  options.device = model::resolve_device(options.device);
  settings.set("device", options.device);
  const std::string numerics = model::configure_numerics(options.device, options.deterministic);
  if (options.device != "cpu") log::info("numerics: {}", numerics);
  if (!req.shard) return options;
  std::tie(options.shard_index, options.shard_count) = *req.shard;
  if (req.run_dir.empty())
    throw UsageError("--shard needs --run-dir DIR: each shard writes its finished cuts there for partplan merge");
  if (std::all_of(options.attacks.begin(), options.attacks.end(), [](const std::string& a) { return a == "oracle"; }))
    throw UsageError(
        "--shard shards trained attackers; an oracle pre-screen (--attack oracle) is cheap: run it "
        "without --shard");
  if (!req.report_dir.empty() || !req.export_dir.empty())
    throw UsageError(
        "--shard writes no plan, report or export of its own: pass --report and --export to "
        "partplan merge DIR");
  return options;
}

/// Fail fast on outputs before hours of training.
void check_outputs(const AssessRequest& req) {
  if (req.plan_out != "-" && !req.shard) common::check_can_create(req.plan_out, /*is_dir=*/false);
  if (!req.report_dir.empty()) common::check_can_create(req.report_dir, true);
  if (!req.export_dir.empty()) {
    common::check_can_create(req.export_dir, true);
    if (fs::exists(fs::path(req.export_dir) / "partition.json"))
      throw UsageError("'" + req.export_dir + "/partition.json' already exists: choose another --export directory");
  }
}

model::Model load_model(const AssessRequest& req, const std::string& device) {
  model::LoadOptions lo;
  if (req.input_shape) lo.input_shape = common::parse_shape(*req.input_shape);
  lo.device = device;
  log::info("loading {} on {}", req.model_path, device);
  auto model = model::Model::load(req.model_path, lo);
  if (req.merge_model_sha256 && model.summary().sha256 != *req.merge_model_sha256)
    throw UsageError(
        fmt::format("'{}' is not the model the shards assessed (sha256 {}…, they recorded {}…): pass "
                    "the same file with --model",
                    req.model_path, model.summary().sha256.substr(0, 12), req.merge_model_sha256->substr(0, 12)));
  return model;
}

/// The run directory, when the request names one, as the assessment's cut store.
struct RunDir {
  std::optional<store::RunStore> store;
  pipeline::CutStore hooks;
};

void open_run_dir(const AssessRequest& req, const model::Model& model, const config::Settings& settings, RunDir& rd) {
  if (req.run_dir.empty()) {
    if (req.resume) throw UsageError("--resume needs --run-dir DIR: the directory whose finished cuts to reuse");
    return;
  }
  const std::string fingerprint =
      req.merge_fingerprint ? *req.merge_fingerprint : store::run_fingerprint(model.summary().sha256, settings);
  // Shards share the directory (and the merge reads it): each writes only its own cuts.
  rd.store.emplace(req.run_dir, fingerprint, req.resume || req.merge_fingerprint.has_value(), req.shard.has_value());
  const bool merging = req.merge_fingerprint.has_value();
  const std::string dir = req.run_dir;
  store::RunStore* s = &*rd.store;
  rd.hooks.load = [s, merging, dir](const model::CutPoint& c) {
    auto loaded = s->load(c);
    if (!loaded && merging)
      throw UsageError(
          fmt::format("'{}' has no result for cut {} '{}': rerun the shard that holds it", dir, c.id, c.name));
    return loaded;
  };
  rd.hooks.save = [s](const pipeline::CutAssessment& c) { s->save(c); };
}

/// No plan: the manifest says what this shard did, for partplan merge.
AssessOutcome write_shard(const AssessRequest& req, const pipeline::AssessOptions& options, const model::Model& model,
                          const config::Settings& settings, const pipeline::AssessResult& result,
                          const store::RunStore& rs) {
  store::ShardManifest m;
  m.index = options.shard_index;
  m.count = options.shard_count;
  m.model_path = fs::absolute(req.model_path).lexically_normal().string();
  m.model_sha256 = model.summary().sha256;
  m.settings_json = settings.dump();
  for (const auto& c : result.candidate_cuts) m.candidates.emplace_back(c.id, c.name);
  for (const auto& c : result.cuts) m.cuts.push_back(c.cut.id);
  rs.write_shard(m);
  AssessOutcome out;
  out.shard = AssessOutcome::Shard{m.index, m.count, m.cuts.size(), m.candidates.size(), result.seconds};
  out.seconds = result.seconds;
  out.phase_seconds = result.phase_seconds;
  return out;
}

/// The chosen split's parts, from a CPU copy whatever the device: an enclave runtime loads
/// them plainly.
void export_split(const AssessRequest& req, const model::Model& model, const pipeline::AssessResult& result,
                  const plan::PlanResult& decided, report::PlanContext& ctx) {
  std::vector<int> ids;
  if (decided.decision.cut_id) {
    ids.push_back(*decided.decision.cut_id);
    if (result.back_cut && result.back_cut->id != ids[0]) ids.push_back(result.back_cut->id);
  }
  if (auto e = report::export_chosen_split(model.on_cpu(), ids, req.export_dir)) {
    ctx.exported = e->manifest;
    ctx.export_dir = e->dir;
    ctx.verification = e->verification;
    log::info("exported the chosen split to {} (verify: max rel error {:.2e})", req.export_dir,
              e->verification.max_rel_error);
  } else {
    log::warn("no safe cut: nothing exported to {}", req.export_dir);
  }
}

AssessOutcome run(const AssessRequest& req) {
  auto settings = req.settings;
  const auto options = resolve_options(req, settings);
  plan::Policy policy;
  policy.threshold = options.threshold;
  policy.fail_above = options.fail_above;
  policy.accept_unconverged = options.accept_unconverged;
  policy.confidential_gpu = options.cost.confidential_gpu;
  policy.enclave_memory_bytes = options.cost.enclave_memory_mib * 1048576.0;
  check_outputs(req);

  const auto model = load_model(req, options.device);
  RunDir rd;
  open_run_dir(req, model, settings, rd);
  const auto result = pipeline::assess(model, options, req.progress, rd.hooks);
  if (req.shard) return write_shard(req, options, model, settings, result, *rd.store);

  const plan::PlanResult decided = plan::decide_assessment(result, policy);
  const bool json_stdout = req.plan_out == "-";
  report::PlanContext ctx;
  ctx.model = &model.summary();
  ctx.result = &result;
  ctx.plan = &decided;
  ctx.fail_above = policy.fail_above;
  ctx.plan_policy_memory_bytes = policy.enclave_memory_bytes.value_or(0);
  ctx.effective_config_json = settings.dump();
  ctx.seed = options.seed;
  ctx.plan_path = json_stdout ? std::string("(stdout)") : req.plan_out;
  ctx.data_source = options.data.source;
  ctx.command_line = req.command_line;
  if (!req.export_dir.empty()) export_split(req, model, result, decided, ctx);

  const auto doc = report::plan_document(ctx);
  AssessOutcome out;
  out.plan_json = report::to_json(doc);
  if (!json_stdout) {
    common::write_file_atomic(req.plan_out, out.plan_json);
    out.summary = report::assess_text(doc);
  }
  if (!req.report_dir.empty())
    report::write_report_dir(doc, report::reconstruction_grids(result), req.report_dir);
  out.gate_failed = decided.decision.gate_failed;
  out.gate_reason = decided.decision.gate_reason;
  out.seconds = result.seconds;
  out.phase_seconds = result.phase_seconds;
  return out;
}

}  // namespace

AssessOutcome assess(const AssessRequest& request) {
  if (!request.log) return run(request);
  const log::ScopedSink sink(request.log);
  return run(request);
}

AssessRequest merge_request(const std::string& dir, const std::string& model_path) {
  const auto first = store::RunStore::complete_shards(dir);
  log::info("merging {} shards: {} cuts of '{}'", first.count, first.candidates.size(), first.model_path);
  AssessRequest req;
  req.model_path = model_path.empty() ? first.model_path : model_path;
  req.settings = config::Settings::parse(first.settings_json, first.file);
  // The merge's own passes (baselines, oracle, timing) run where it runs: not necessarily on
  // the shards' GPUs.
  req.settings.set("device", std::string("auto"));
  req.run_dir = dir;
  req.resume = true;
  req.merge_fingerprint = first.fingerprint;
  req.merge_model_sha256 = first.model_sha256;
  return req;
}

}  // namespace partplan::app
