// partplan assess MODEL --data SRC: the main job. Settings resolve as the embedded quick
// preset < --config < flags (and --set KEY=VALUE); the plan records the effective settings.
#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "partplan/app/assess.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/config/settings.hpp"
#include "partplan/pipeline/assess.hpp"
#include "src/cli/commands.hpp"
#include "src/cli/progress.hpp"

namespace partplan::cli {
namespace {

struct AssessCmdOptions {
  std::string model_path;
  std::string config;
  std::optional<std::string> data, cuts, attack, device, input_shape, time_budget;
  std::optional<int64_t> seed, steps;
  std::optional<double> threshold, fail_above, enclave_memory_mib, tee_slowdown;
  std::optional<std::string> timings;
  bool confidential_gpu = false;
  std::optional<std::string> back_cut;
  bool ternary = false, profile = false, accept_unconverged = false, deterministic = false;
  std::vector<std::string> sets;
  std::string out = "plan.json";
  std::string export_dir, report_dir, run_dir;
  bool resume = false, print_config = false;
  std::optional<std::string> shard;  ///< "I/N"
  std::vector<std::string> argv;
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

/// Settings: defaults (the quick preset) < --config < flags.
config::Settings layered_settings(const AssessCmdOptions& o) {
  auto settings = pipeline::default_settings();
  if (!o.config.empty()) settings.merge(config::Settings::load(o.config), "--config " + o.config);
  if (o.data) settings.set("data.source", *o.data);
  if (o.cuts) settings.set("cuts", *o.cuts);
  if (o.attack) settings.set("attacks", common::split(*o.attack, ','));
  if (o.device) settings.set("device", *o.device);
  if (o.deterministic) settings.set("deterministic", true);
  if (o.seed) settings.set("seed", *o.seed);
  if (o.steps) settings.set("budget.steps", *o.steps);
  if (o.time_budget) settings.set("time_budget", *o.time_budget);
  if (o.threshold) settings.set("threshold", *o.threshold);
  if (o.fail_above) settings.set("fail_above", *o.fail_above);
  if (o.accept_unconverged) settings.set("accept_unconverged", true);
  if (o.ternary) settings.set("ternary", true);
  if (o.back_cut) settings.set("back_cut", *o.back_cut);
  if (o.profile) settings.set("cost.profile", true);
  if (o.enclave_memory_mib) settings.set("cost.enclave_memory_mib", *o.enclave_memory_mib);
  if (o.tee_slowdown) settings.set("cost.tee_slowdown", *o.tee_slowdown);
  if (o.timings) settings.set("cost.timings", *o.timings);
  if (o.confidential_gpu) settings.set("cost.confidential_gpu", true);
  for (const auto& a : o.sets) apply_assignment(settings, a);
  return settings;
}

std::string joined(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
  return line;
}

/// The progress line of an assessment, drawn from the application's progress events.
pipeline::ProgressFn progress_printer(ProgressLine& line, const std::string& source) {
  return [&line, source](const pipeline::Progress& p) {
    using pipeline::Phase;
    const auto show = [&line, &p](const std::string& text, bool force = false) {
      line.update(text + whole_run_time(p.elapsed_seconds, p.eta_seconds), force);
    };
    switch (p.phase) {
      case Phase::kData: show("loading data " + source, true); break;
      case Phase::kCalibrate:
        show(fmt::format("calibrating: one training step and white-box iteration at cut {}/{} {}", p.cut_index + 1,
                         p.cut_count, p.cut_name));
        break;
      case Phase::kStats:
        show(fmt::format("feature statistics and baselines (one forward for all cuts) {}/{}", p.step, p.steps));
        break;
      case Phase::kScore:
        show(
            fmt::format("scoring {} finished cut(s) from {} on eval {}/{}", p.cut_count, p.cut_name, p.step, p.steps));
        break;
      case Phase::kWhitebox:
        show(fmt::format("white-box attack at {}: image {}/{}", p.cut_name, p.step, p.steps));
        break;
      case Phase::kOracle:
      case Phase::kProbe:
        show(fmt::format("{} {}/{} {}", to_string(p.phase), p.cut_index + 1, p.cut_count, p.cut_name));
        break;
      case Phase::kCost: show("timing the model for the cost model", true); break;
      case Phase::kTrain:
        show(fmt::format(
            "training {} of {} cuts in lockstep: step {}/{} {:.2f} steps/s, best val {} {}", p.cut_index,
            p.cut_count, p.step, p.steps, p.steps_per_second, p.val_label,
            p.best_val < 0 ? std::string("-") : fmt::format("{:.3f}", p.best_val)));
        break;
    }
  };
}

/// Runs the request with a progress line and prints its outcome; the gate's exit code.
int run_request(app::AssessRequest req, Io& io) {
  ProgressLine line;
  req.progress = progress_printer(line, req.settings.string("data.source"));
  const auto out = app::assess(req);
  line.finish();
  if (log::level() >= log::Level::kInfo) log::write_raw(phase_table(out.phase_seconds, out.seconds));
  if (out.shard) {
    const auto& s = *out.shard;
    io.out << fmt::format("shard {}/{}: {} of {} cuts in {} ({:.0f} s); when every shard is done: partplan merge {}\n",
                          s.index, s.count, s.cuts, s.candidates, req.run_dir, s.seconds, req.run_dir);
    return 0;
  }
  if (req.plan_out == "-") {
    io.out << out.plan_json;
  } else {
    io.out << out.summary << "plan: " << req.plan_out << "\n";
    if (!req.report_dir.empty()) io.out << "report: " << req.report_dir << "/summary.md\n";
  }
  if (out.gate_failed) {
    io.err << "gate failed: " << out.gate_reason << "\n";
    return kExitGate;
  }
  return 0;
}

int run_assess(const AssessCmdOptions& o, Io& io) {
  auto settings = layered_settings(o);
  pipeline::options_from_settings(settings);  // every setting checked, even for --print-config
  if (o.print_config) {
    io.out << settings.dump() << "\n";  // before the device is resolved: what the user asked for
    return 0;
  }
  app::AssessRequest req;
  req.model_path = o.model_path;
  req.input_shape = o.input_shape;
  req.settings = std::move(settings);
  req.plan_out = o.out;
  req.report_dir = o.report_dir;
  req.export_dir = o.export_dir;
  req.run_dir = o.run_dir;
  req.resume = o.resume;
  if (o.shard) req.shard = parse_shard(*o.shard);
  req.command_line = joined(o.argv);
  return run_request(std::move(req), io);
}

/// -o/--out, --report and --export, as assess and merge both write a plan.
void add_plan_outputs(CLI::App& sub, std::string& out, std::string& report_dir, std::string& export_dir) {
  sub.add_option("-o,--out", out, "plan file; '-' prints the plan JSON on stdout")->capture_default_str();
  sub.add_option("--report", report_dir, "write report.html, summary.md, leakage.png and per-cut grids here");
  sub.add_option("--export", export_dir, "write the chosen split's parts and partition.json here");
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

/// Plan the sharded run in m.dir as one process would: the application checks the shard set
/// in the run directory and takes every cut from there.
int run_merge(const MergeCmdOptions& m, Io& io) {
  auto req = app::merge_request(m.dir, m.model_path);
  if (m.device) req.settings.set("device", *m.device);
  if (m.fail_above) req.settings.set("fail_above", *m.fail_above);
  if (m.accept_unconverged) req.settings.set("accept_unconverged", true);
  pipeline::options_from_settings(req.settings);
  req.plan_out = m.out;
  req.report_dir = m.report_dir;
  req.export_dir = m.export_dir;
  req.command_line = joined(m.argv);
  return run_request(std::move(req), io);
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
  sub->add_option("--time-budget", opt->time_budget,
                  "wall-clock budget, e.g. 15m, 90s, 1h30m (setting 'time_budget'): after a short calibration the "
                  "white-box images, then the training steps, then the white-box iterations are lowered until the run "
                  "is estimated to end by 90% of it; stderr and the plan's 'time' say what was reduced, and a "
                  "cut-short attacker's verdict is a lower bound (see --accept-unconverged)");
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
  sub->add_flag("--confidential-gpu", opt->confidential_gpu,
                "the untrusted GPU runs in confidential-computing mode (H100/H200 CC): the decision says when no split "
                "is needed for confidentiality");
  sub->add_option("--timings", opt->timings,
                  "runtime.json from partplan run: its measured times replace the estimates at the split it served");
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
