// partplan assess MODEL --data SRC: the main job. Settings resolve as the embedded quick
// preset < --config < flags (and --set KEY=VALUE); the plan records the effective settings.
#include <filesystem>
#include <memory>
#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/common/log.hpp"
#include "partplan/config/settings.hpp"
#include "partplan/model/device.hpp"
#include "partplan/model/model.hpp"
#include "partplan/partition/partition.hpp"
#include "partplan/pipeline/assess.hpp"
#include "partplan/plan/assessment.hpp"
#include "partplan/report/assess_report.hpp"
#include "partplan/report/report.hpp"
#include "partplan/store/run_store.hpp"
#include "partplan/common/hash.hpp"
#include "src/cli/commands.hpp"
#include "src/cli/progress.hpp"

namespace fs = std::filesystem;

namespace partplan::cli {
namespace {

struct AssessCmdOptions {
  std::string model_path;
  std::string config;
  std::optional<std::string> data, cuts, attack, device, input_shape;
  std::optional<int64_t> seed, steps;
  std::optional<double> threshold, fail_above, enclave_memory_mib, tee_slowdown;
  std::optional<std::string> back_cut;
  bool ternary = false, profile = false, accept_unconverged = false, deterministic = false;
  std::vector<std::string> sets;
  std::string out = "plan.json";
  std::string export_dir, report_dir, run_dir;
  bool resume = false, print_config = false;
  std::optional<std::string> shard;  ///< "I/N"
  std::vector<std::string> argv;
  // Set by `merge`: every cut comes from the run directory, whose fingerprint is this.
  std::optional<std::string> merge_fingerprint;
  std::optional<config::Settings> merge_settings;
  std::optional<std::string> merge_model_sha256;
};

/// "I/N" -> (I, N). Throws UsageError naming the value.
std::pair<int64_t, int64_t> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  try {
    if (slash != std::string::npos) {
      size_t a = 0, b = 0;
      const auto i = std::stoll(text.substr(0, slash), &a);
      const auto n = std::stoll(text.substr(slash + 1), &b);
      if (a == slash && b == text.size() - slash - 1 && n >= 1 && i >= 0 && i < n) return {i, n};
    }
  } catch (const std::exception&) {
  }
  throw UsageError("--shard '" + text +
                   "' must be I/N with 0 <= I < N, e.g. --shard 0/4 (Slurm: "
                   "--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)");
}

// --set a.b=VALUE: VALUE is one JSON value, or a string when it is not JSON; the key must
// exist and keep its kind (Settings::assign).
void apply_assignment(config::Settings& settings, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError("--set '" + assignment + "' must be KEY=VALUE, e.g. --set budget.steps=100");
  settings.assign(assignment.substr(0, eq), assignment.substr(eq + 1), "--set " + assignment);
}

int run_assess(const AssessCmdOptions& o, Io& io) {
  // Settings: defaults (the quick preset) < --config < flags.
  auto settings = o.merge_settings ? *o.merge_settings : pipeline::default_settings();
  if (!o.config.empty()) settings.merge(config::Settings::load(o.config), "--config " + o.config);
  if (o.data) settings.set("data.source", *o.data);
  if (o.cuts) settings.set("cuts", *o.cuts);
  if (o.attack) settings.set("attacks", common::split(*o.attack, ','));
  if (o.device) settings.set("device", *o.device);
  if (o.deterministic) settings.set("deterministic", true);
  if (o.seed) settings.set("seed", *o.seed);
  if (o.steps) settings.set("budget.steps", *o.steps);
  if (o.threshold) settings.set("threshold", *o.threshold);
  if (o.fail_above) settings.set("fail_above", *o.fail_above);
  if (o.accept_unconverged) settings.set("accept_unconverged", true);
  if (o.ternary) settings.set("ternary", true);
  if (o.back_cut) settings.set("back_cut", *o.back_cut);
  if (o.profile) settings.set("cost.profile", true);
  if (o.enclave_memory_mib) settings.set("cost.enclave_memory_mib", *o.enclave_memory_mib);
  if (o.tee_slowdown) settings.set("cost.tee_slowdown", *o.tee_slowdown);
  for (const auto& a : o.sets) apply_assignment(settings, a);

  auto options = pipeline::options_from_settings(settings);
  if (o.print_config) {
    io.out << settings.dump() << "\n";  // before the device is resolved: what the user asked for
    return 0;
  }
  options.device = model::resolve_device(options.device);
  settings.set("device", options.device);
  const std::string numerics = model::configure_numerics(options.device, options.deterministic);
  if (options.device != "cpu") log::info("numerics: {}", numerics);
  if (o.shard) {
    std::tie(options.shard_index, options.shard_count) = parse_shard(*o.shard);
    if (o.run_dir.empty())
      throw UsageError("--shard needs --run-dir DIR: each shard writes its finished cuts there for partplan merge");
    if (std::all_of(options.attacks.begin(), options.attacks.end(), [](const std::string& a) { return a == "oracle"; }))
      throw UsageError(
          "--shard shards trained attackers; an oracle pre-screen (--attack oracle) is cheap: run it "
          "without --shard");
    if (!o.report_dir.empty() || !o.export_dir.empty())
      throw UsageError(
          "--shard writes no plan, report or export of its own: pass --report and --export to "
          "partplan merge DIR");
  }
  plan::Policy policy;
  policy.threshold = options.threshold;
  policy.fail_above = options.fail_above;
  policy.accept_unconverged = options.accept_unconverged;
  policy.enclave_memory_bytes = options.cost.enclave_memory_mib * 1048576.0;

  // Fail fast on outputs before hours of training.
  const bool json_stdout = o.out == "-";
  if (!json_stdout && !o.shard) common::check_can_create(o.out, /*is_dir=*/false);
  if (!o.report_dir.empty()) common::check_can_create(o.report_dir, true);
  if (!o.export_dir.empty()) {
    common::check_can_create(o.export_dir, true);
    if (fs::exists(fs::path(o.export_dir) / "partition.json"))
      throw UsageError("'" + o.export_dir + "/partition.json' already exists: choose another --export directory");
  }

  model::LoadOptions lo;
  if (o.input_shape) lo.input_shape = common::parse_shape(*o.input_shape);
  lo.device = options.device;
  log::info("loading {} on {}", o.model_path, options.device);
  auto model = model::Model::load(o.model_path, lo);
  if (o.merge_model_sha256 && model.summary().sha256 != *o.merge_model_sha256)
    throw UsageError(
        fmt::format("'{}' is not the model the shards assessed (sha256 {}…, they recorded {}…): pass "
                    "the same file with --model",
                    o.model_path, model.summary().sha256.substr(0, 12), o.merge_model_sha256->substr(0, 12)));

  ProgressLine line;
  auto on_progress = [&](const pipeline::Progress& p) {
    if (p.phase == "data") {
      line.update("loading data " + options.data.source, true);
    } else if (p.phase == "stats") {
      line.update(fmt::format("feature statistics and baselines (one forward for all cuts) {}/{}", p.step, p.steps));
    } else if (p.phase == "score") {
      line.update(
          fmt::format("scoring {} finished cut(s) from {} on eval {}/{}", p.cut_count, p.cut_name, p.step, p.steps));
    } else if (p.phase == "whitebox") {
      line.update(fmt::format("white-box attack at {}: image {}/{}", p.cut_name, p.step, p.steps));
    } else if (p.phase == "oracle" || p.phase == "probe") {
      line.update(fmt::format("{} {}/{} {}", p.phase, p.cut_index + 1, p.cut_count, p.cut_name));
    } else if (p.phase == "cost") {
      line.update("timing the model for the cost model", true);
    } else if (p.phase == "train") {
      line.update(fmt::format(
          "training {} of {} cuts in lockstep: step {}/{} {:.2f} steps/s, best val SSIM {}, "
          "ETA {}",
          p.cut_index, p.cut_count, p.step, p.steps, p.steps_per_second,
          p.val_ssim < 0 ? std::string("-") : fmt::format("{:.3f}", p.val_ssim), format_duration(p.eta_seconds)));
    }
  };
  std::optional<store::RunStore> run_store;
  pipeline::CutStore store;
  std::string fingerprint;
  if (!o.run_dir.empty()) {
    fingerprint = o.merge_fingerprint ? *o.merge_fingerprint : store::run_fingerprint(model.summary().sha256, settings);
    // Shards share the directory (and the merge reads it): each writes only its own cuts.
    run_store.emplace(o.run_dir, fingerprint, o.resume || o.merge_fingerprint.has_value(), o.shard.has_value());
    store.load = [&](const model::CutPoint& c) {
      auto loaded = run_store->load(c);
      if (!loaded && o.merge_fingerprint)
        throw UsageError(
            fmt::format("'{}' has no result for cut {} '{}': rerun the shard that holds it", o.run_dir, c.id, c.name));
      return loaded;
    };
    store.save = [&](const pipeline::CutAssessment& c) { run_store->save(c); };
  } else if (o.resume) {
    throw UsageError("--resume needs --run-dir DIR: the directory whose finished cuts to reuse");
  }
  auto result = pipeline::assess(model, options, on_progress, store);
  line.finish();
  if (o.shard) {
    // No plan: the manifest says what this shard did, for partplan merge.
    std::vector<int> mine;
    for (const auto& c : result.cuts) mine.push_back(c.cut.id);
    store::ShardManifest m;
    m.index = options.shard_index;
    m.count = options.shard_count;
    m.model_path = fs::absolute(o.model_path).lexically_normal().string();
    m.model_sha256 = model.summary().sha256;
    m.settings_json = settings.dump();
    for (const auto& c : result.candidate_cuts) m.candidates.emplace_back(c.id, c.name);
    m.cuts = mine;
    run_store->write_shard(m);
    io.out << fmt::format("shard {}/{}: {} of {} cuts in {} ({:.0f} s); when every shard is done: partplan merge {}\n",
                          options.shard_index, options.shard_count, mine.size(), result.candidate_cuts.size(),
                          o.run_dir, result.seconds, o.run_dir);
    return 0;
  }

  const plan::PlanResult decided = plan::decide_assessment(result, policy);

  report::PlanContext ctx;
  ctx.model = &model.summary();
  ctx.result = &result;
  ctx.plan = &decided;
  ctx.fail_above = policy.fail_above;
  ctx.plan_policy_memory_bytes = policy.enclave_memory_bytes.value_or(0);
  ctx.effective_config_json = settings.dump();
  ctx.seed = options.seed;
  ctx.plan_path = json_stdout ? std::string("(stdout)") : o.out;
  ctx.data_source = options.data.source;
  for (const auto& a : o.argv) ctx.command_line += (ctx.command_line.empty() ? "" : " ") + a;

  if (!o.export_dir.empty()) {
    std::vector<int> ids;
    if (decided.decision.cut_id) {
      ids.push_back(*decided.decision.cut_id);
      if (result.back_cut && result.back_cut->id != ids[0]) ids.push_back(result.back_cut->id);
    }
    // Parts come from a CPU copy whatever --device is: an enclave runtime loads them plainly.
    if (auto e = report::export_chosen_split(model.on_cpu(), ids, o.export_dir)) {
      ctx.exported = e->manifest;
      ctx.export_dir = e->dir;
      ctx.verification = e->verification;
      log::info("exported the chosen split to {} (verify: max rel error {:.2e})", o.export_dir,
                e->verification.max_rel_error);
    } else {
      log::warn("no safe cut: nothing exported to {}", o.export_dir);
    }
  }
  const std::string plan_text = report::plan_json(ctx);
  if (json_stdout) {
    io.out << plan_text;
  } else {
    common::write_file_atomic(o.out, plan_text);
    io.out << report::assess_text(ctx);
    io.out << "plan: " << o.out << "\n";
  }
  if (!o.report_dir.empty()) {
    report::write_report_dir(ctx, o.report_dir, plan_text);
    if (!json_stdout) io.out << "report: " << o.report_dir << "/summary.md\n";
  }
  if (decided.decision.gate_failed) {
    io.err << "gate failed: " << decided.decision.gate_reason << "\n";
    return kExitGate;
  }
  return 0;
}

/// -o/--out, --report and --export, as assess and merge both write a plan.
void add_plan_outputs(CLI::App& sub, std::string& out, std::string& report_dir, std::string& export_dir) {
  sub.add_option("-o,--out", out, "plan file; '-' prints the plan JSON on stdout")->capture_default_str();
  sub.add_option("--report", report_dir, "write report.html, summary.md, leakage.png and per-cut grids here");
  sub.add_option("--export", export_dir, "write the chosen split's parts and partition.json here");
}

/// The command as parsed ("partplan assess MODEL --steps=100 ..."), recorded in the plan.
std::vector<std::string> command_line(const CLI::App& sub) {
  std::vector<std::string> argv{"partplan", sub.get_name()};
  for (const auto* o : sub.get_options())
    for (const auto& r : o->results()) argv.push_back(o->nonpositional() ? o->get_name() + "=" + r : r);
  return argv;
}

struct MergeCmdOptions {
  std::string dir;
  std::string out = "plan.json";
  std::string report_dir, export_dir, model_path;
  std::optional<std::string> device;
  std::optional<double> fail_above;
  bool accept_unconverged = false;
  std::vector<std::string> argv;
};

/// Check that the shards in m.dir make one complete run, then plan it as one process would:
/// the same assess path, every cut taken from the run directory.
int run_merge(const MergeCmdOptions& m, Io& io) {
  const auto shards = store::RunStore::read_shards(m.dir);
  if (shards.empty())
    throw UsageError(
        fmt::format("'{}' holds no shard manifest (shard-I-of-N.json): run partplan assess MODEL "
                    "--shard I/N --run-dir {} for each shard first",
                    m.dir, m.dir));
  const auto& first = shards.front();
  const int64_t n = first.count;
  auto label = [](const store::ShardManifest& s) {
    return fmt::format("shard {}/{} ('{}')", s.index, s.count, s.file);
  };
  for (const auto& s : shards)
    if (s.count != n)
      throw UsageError(
          fmt::format("{} and {} split the run differently: remove the manifests of the sharding you "
                      "abandoned",
                      label(first), label(s)));
  for (int64_t i = 0; i < n; ++i)
    if (std::none_of(shards.begin(), shards.end(), [&](const auto& s) { return s.index == i; }))
      throw UsageError(
          fmt::format("shard {0}/{1} has not finished (no {2}/shard-{0}-of-{1}.json): run it, or rerun "
                      "it with --resume, then merge again",
                      i, n, m.dir));
  const auto reference = store::result_leaves(first.settings_json, first.file);
  for (const auto& s : shards) {
    if (s.model_sha256 != first.model_sha256)
      throw UsageError(fmt::format("{} assessed another model (sha256 {}…) than {} ({}…): rerun it on '{}'", label(s),
                                   s.model_sha256.substr(0, 12), label(first), first.model_sha256.substr(0, 12),
                                   first.model_path));
    const auto mine = store::result_leaves(s.settings_json, s.file);
    for (const auto& [k, v] : reference) {
      auto it = mine.find(k);
      const std::string other = it == mine.end() ? std::string("(unset)") : it->second;
      if (other != v)
        throw UsageError(
            fmt::format("{} was run with setting '{}' = {}, {} with {}: rerun it with the same settings "
                        "and seed",
                        label(s), k, other, label(first), v));
    }
    if (s.candidates != first.candidates)
      throw UsageError(fmt::format("{} saw other candidate cuts than {}: rerun it with the same model and --cuts",
                                   label(s), label(first)));
  }
  for (const auto& [id, name] : first.candidates) {
    const auto owner = std::find_if(shards.begin(), shards.end(), [&, id = id](const auto& s) {
      return std::find(s.cuts.begin(), s.cuts.end(), id) != s.cuts.end();
    });
    if (owner == shards.end())
      throw UsageError(
          fmt::format("cut {} '{}' was assessed by no shard: rerun the shards with the same --shard N", id, name));
    if (!fs::exists(store::RunStore::cut_path(m.dir, id)))
      throw UsageError(
          fmt::format("cut {} '{}' has no result in '{}': rerun {} with --resume", id, name, m.dir, label(*owner)));
  }
  log::info("merging {} shards: {} cuts of '{}'", n, first.candidates.size(), first.model_path);
  AssessCmdOptions o;
  o.model_path = m.model_path.empty() ? first.model_path : m.model_path;
  o.run_dir = m.dir;
  o.resume = true;
  o.merge_fingerprint = first.fingerprint;
  o.merge_settings = config::Settings::parse(first.settings_json, first.file);
  o.merge_model_sha256 = first.model_sha256;
  o.out = m.out;
  o.report_dir = m.report_dir;
  o.export_dir = m.export_dir;
  // The merge's own passes (baselines, oracle, timing) run where it runs: not necessarily on
  // the shards' GPUs.
  o.device = m.device ? *m.device : std::string("auto");
  o.fail_above = m.fail_above;
  o.accept_unconverged = m.accept_unconverged;
  o.argv = m.argv;
  return run_assess(o, io);
}

}  // namespace

void setup_merge(CLI::App& app, Dispatch& dispatch) {
  auto opt = std::make_shared<MergeCmdOptions>();
  auto* sub = app.add_subcommand(
      "merge",
      "Merge a sharded assessment (assess --shard I/N --run-dir DIR): check that every shard used the same model, "
      "settings and seed and that every candidate cut is there, then write the plan exactly as one assess would.");
  sub->add_option("DIR", opt->dir, "the --run-dir the shards wrote to")->required()->check(CLI::ExistingDirectory);
  add_plan_outputs(*sub, opt->out, opt->report_dir, opt->export_dir);
  sub->add_option("--model", opt->model_path,
                  "the model, when it moved since the shards ran (default: the path they "
                  "recorded; its sha256 must match)");
  sub->add_option("--device", opt->device,
                  "device for the merge's own passes: baselines, oracle, timing (default "
                  "auto; the cuts' numbers come from the shards)");
  sub->add_option("--fail-above", opt->fail_above, "CI gate, as for assess")->check(CLI::Range(0.0, 1.0));
  sub->add_flag("--accept-unconverged", opt->accept_unconverged, "as for assess");
  sub->callback([opt, &dispatch, sub]() {
    opt->argv = command_line(*sub);
    dispatch = [opt](Io& io) { return run_merge(*opt, io); };
  });
}

void setup_assess(CLI::App& app, Dispatch& dispatch) {
  auto opt = std::make_shared<AssessCmdOptions>();
  auto* sub = app.add_subcommand(
      "assess",
      "The main job: train inversion attackers at each candidate cut, score their reconstructions (SSIM/PSNR for "
      "images; re-identification and field recovery for CSV records), apply the envelope and threshold, and write "
      "the partition plan.");
  sub->add_option("MODEL", opt->model_path, "TorchScript model (.pt)")->required();
  sub->add_option("--data", opt->data,
                  "data source: builtin:fashion-mnist, an image folder, or a TON_IoT-style .csv whose records feed a "
                  "flat [1,F] or 1xHxW model (columns: data.csv.*; default: the config's data.source, "
                  "builtin:fashion-mnist)");
  sub->add_option("--config", opt->config,
                  "preset (quick, thorough) or JSON file layered over the quick defaults; see docs/config.md");
  sub->add_option("--cuts", opt->cuts,
                  "candidate cuts: stages (default: the first cut, each resolution stage's output and the classifier "
                  "input, at most 12), blocks, all, or a comma list of ids/names");
  sub->add_option(
      "--attack", opt->attack,
      "attackers, comma list (default cgan,whitebox): cgan, inverse, whitebox (optimises the image through the "
      "front's weights); 'oracle' alone is a pre-screen without training. The worst case is the max over them");
  sub->add_option("--device", opt->device, "auto (default), cpu, cuda or cuda:N");
  sub->add_flag("--deterministic", opt->deterministic,
                "on CUDA, deterministic cuDNN and algorithms, TF32 off: bit-identical reruns, slower (setting "
                "'deterministic'; the CPU is deterministic either way)");
  sub->add_option("--seed", opt->seed, "seed of the data splits and the attackers (default 0)");
  sub->add_option("--steps", opt->steps, "attacker training steps per cut (budget.steps)");
  sub->add_option("--threshold", opt->threshold,
                  "a cut is safe when its envelope <= this: the mean SSIM for images, the share of "
                  "records re-identified for CSV records (default 0.3)")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--fail-above", opt->fail_above,
                  "CI gate: exit 3 when no cut is safe, the chosen cut's leakage (as --threshold) exceeds this, or its "
                  "safety is "
                  "a lower bound (see --accept-unconverged)")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_flag("--accept-unconverged", opt->accept_unconverged,
                "let the gate pass a chosen cut that is safe only as a lower bound (an attacker was still improving "
                "when its budget ran out); without it such a plan fails --fail-above");
  sub->add_option("--input-shape", opt->input_shape, kInputShapeHelp);
  sub->add_flag("--ternary", opt->ternary,
                "three-way split: enclave | untrusted | enclave; the output layers stay in the enclave too");
  sub->add_option("--back-cut", opt->back_cut,
                  "ternary: the cut where the enclave takes over again (default: the input of the final weight layer)");
  sub->add_flag("--profile", opt->profile, "time every candidate split's parts instead of scaling FLOPs");
  sub->add_option("--enclave-memory-mib", opt->enclave_memory_mib,
                  "enclave memory budget for weights + activations (default 93, SGX1's usable EPC)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--tee-slowdown", opt->tee_slowdown,
                  "enclave time / native CPU time (default 4; an assumption: calibrate it on your TEE)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--set", opt->sets,
                  "override any setting, KEY=VALUE (repeatable; VALUE is one JSON value or a plain string), e.g. "
                  "--set budget.batch_size=64; keys in docs/config.md");
  add_plan_outputs(*sub, opt->out, opt->report_dir, opt->export_dir);
  sub->add_option("--run-dir", opt->run_dir, "keep each finished cut's result here (for --resume)");
  sub->add_flag("--resume", opt->resume, "reuse the finished cuts in --run-dir (same model and settings)");
  sub->add_option("--shard", opt->shard,
                  "I/N: assess shard I of N of the candidate cuts (balanced by estimated cost) into --run-dir, and "
                  "write no plan; then partplan merge DIR (docs/scale-out.md)");
  sub->add_flag("--print-config", opt->print_config,
                "print the effective settings (defaults < --config < flags) as JSON and exit; MODEL is not read");
  // A later flag wins over an earlier one, so scripts can append overrides.
  for (auto* o : sub->get_options())
    if (o->get_name() != "--set") o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  sub->callback([opt, &dispatch, sub]() {
    opt->argv = command_line(*sub);
    dispatch = [opt](Io& io) { return run_assess(*opt, io); };
  });
}

}  // namespace partplan::cli
