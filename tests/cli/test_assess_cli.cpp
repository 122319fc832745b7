// `partplan assess` end to end on a tiny model and Debian's Fashion-MNIST, in process.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/run_cli.hpp"
#include "partplan/common/error.hpp"
#include "partplan/imaging/canvas.hpp"
#include "partplan/report/assess_report.hpp"
#include "partplan/report/plan_document.hpp"
#include "partplan/store/run_store.hpp"
#include "tiny_models.hpp"

namespace fs = std::filesystem;
using partplan::testing::temp_dir;

namespace {

partplan::testing::CliResult run(std::vector<std::string> args) {
  args.insert(args.begin(), {"-q", "--threads", "1"});
  return partplan::testing::run_cli(args);
}

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

/// The plan's phase_seconds names, in order; each phase's seconds are >= 0 and they add up to
/// no more than the run's seconds.
std::vector<std::string> phase_names(const nlohmann::json& plan) {
  std::vector<std::string> names;
  double sum = 0;
  for (const auto& p : plan.at("phase_seconds")) {
    names.push_back(p.at("phase"));
    CHECK(p.at("seconds").get<double>() >= 0);
    sum += p.at("seconds").get<double>();
  }
  CHECK(sum <= plan.at("seconds").get<double>() + 1e-9);
  return names;
}

/// The plan document is the plan: read back, it writes the same text, key for key (the tool
/// block and the time included). With `report_dir`, its summary.md renders from the document
/// read back (and the grids there) as assess wrote it.
void check_document_round_trip(const std::string& plan, const std::string& report_dir = {}) {
  const auto doc = partplan::report::plan_from_json(plan, "plan.json");
  CHECK(partplan::report::to_json(doc) == plan);
  if (report_dir.empty()) return;
  partplan::report::GridPngs grids;
  for (const auto& c : doc.cuts)
    if (fs::exists(fmt::format("{}/cut-{:03d}.png", report_dir, c.id))) grids[c.id] = {};
  CHECK(partplan::report::summary_markdown(doc, grids) == slurp(report_dir + "/summary.md"));
}

// Small and fast: 3 cuts x 40 steps on 300 images.
std::vector<std::string> quick(const std::string& model, const std::string& dir) {
  // Pinned to the CPU: these tests compare runs bit for bit, which CUDA's kernels do not promise.
  return {"assess",  model,
          "--device", "cpu",
          "--data",  "builtin:fashion-mnist:test",
          "--steps", "40",
          "--set",   "data.attacker_train=300",
          "--set",   "data.attacker_val=40",
          "--set",   "data.eval=60",
          "--set",   "budget.eval_every=20",
          "--set",   "cgan.width=32",
          "--set",   "cgan.disc_width=16",
          "--cuts",  "all",
          "-o",      dir + "/plan.json"};
}

}  // namespace

TEST_CASE("assess writes a plan, a report and the chosen parts", "[cli][assess]") {
  const auto dir = temp_dir("assess");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  auto args = quick(model, dir);
  args.insert(args.end(), {"--report", dir + "/report", "--export", dir + "/parts", "--threshold", "0.99"});
  auto r = run(args);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const auto plan = slurp(dir + "/plan.json");
  CHECK(plan.find("\"schema_version\": 2") != std::string::npos);
  CHECK(plan.find("\"kind\": \"partplan.plan\"") != std::string::npos);
  CHECK(plan.find("\"label-prototype\"") != std::string::npos);
  // The effective config is recorded: the values the flags set, the defaults they did not.
  const auto config = nlohmann::json::parse(plan).at("config");
  CHECK(config.at("budget").at("steps") == 40);
  CHECK(config.at("budget").at("eval_every") == 20);
  CHECK(config.at("data").at("attacker_train") == 300);
  CHECK(config.at("cgan").at("width") == 32);
  CHECK(config.at("device") == "cpu");
  CHECK(config.at("threshold") == 0.99);
  CHECK(config.at("cgan").at("lambda_l1") == 100.0);  // a default
  CHECK(plan.find("Infinity") == std::string::npos);
  CHECK(plan.find("NaN") == std::string::npos);
  CHECK(fs::exists(dir + "/report/summary.md"));
  CHECK(fs::exists(dir + "/report/leakage.png"));
  CHECK(fs::exists(dir + "/report/cut-000.png"));
  // Threshold 0.99: some cut is safe, so its parts are exported and verified.
  CHECK(fs::exists(dir + "/parts/partition.json"));
  CHECK(plan.find("\"passed\": true") != std::string::npos);
  CHECK(r.out.find("plan: ") != std::string::npos);
  CHECK(run({"verify", dir + "/plan.json"}).rc == 0);  // verify follows a plan to its exported split
  check_document_round_trip(plan, dir + "/report");
}

TEST_CASE("assess -o - prints the plan JSON on stdout, and the gate exits 3", "[cli][assess]") {
  const auto dir = temp_dir("assess-gate");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  auto args = quick(model, dir);
  args.back() = "-";
  args.insert(args.end(), {"--cuts", "0", "--fail-above", "0.05"});
  auto r = run(args);
  CHECK(r.rc == 3);
  CHECK(r.out.rfind("{", 0) == 0);
  std::ofstream(dir + "/gate.json") << r.out;
  auto v = run({"verify", dir + "/gate.json"});  // nothing was exported: a clear usage error
  CHECK(v.rc == 2);
  CHECK(v.err.find("no exported partitions") != std::string::npos);
  CHECK(r.out.find("\"gate_failed\": true") != std::string::npos);
  CHECK(r.err.find("gate failed") != std::string::npos);
}

TEST_CASE("assess refuses bad input before any work, leaving no plan", "[cli][assess]") {
  const auto dir = temp_dir("assess-bad");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  { std::ofstream(dir + "/afile") << "x"; }
  struct Case {
    std::vector<std::string> extra;
    int rc;
    std::string expect;
  };
  for (const auto& c : std::vector<Case>{
           {{"--set", "budget.stepz=3"}, 2, "unknown setting 'budget.stepz'"},
           {{"--set", "budget.steps=\"many\""}, 2, "must be a number"},
           {{"--set", "seed=0, \"threshold\": 0.9"}, 2, "'seed' must be a number"},  // one value, not pasted JSON
           {{"--set", "cgan.norm=layer"}, 2, "use batch, instance, none"},
           {{"--time-budget", "fifteen"}, 2, "time budget 'fifteen' is not a duration"},
           {{"--set", "data..eval=3"}, 2, "not a setting key"},
           {{"--threshold", "1.5"}, 2, "--threshold"},
           {{"--attack", "magic"}, 2, "attack 'magic' is not known"},
           {{"--device", "tpu"}, 2, "--device 'tpu'"},
           {{"--cuts", "nope"}, 2, "cut 'nope' not found"},
           {{"--config", "nosuch"}, 2, "neither a preset"},
           {{"--config", dir + "/missing.json"}, 1, "missing.json"},
           {{"--data", dir + "/no-such-dir"}, 1, "no-such-dir"},
           {{"--report", dir + "/afile/x"}, 1, "afile"},
       }) {
    auto args = quick(model, dir);
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    auto r = run(args);
    INFO(r.err);
    CHECK(r.rc == c.rc);
    CHECK(r.err.find(c.expect) != std::string::npos);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK_FALSE(fs::exists(dir + "/plan.json"));
  }
}

TEST_CASE("a run directory keeps finished cuts and resume reuses them", "[cli][assess]") {
  const auto dir = temp_dir("assess-resume");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  auto args = quick(model, dir);
  args.insert(args.end(), {"--cuts", "0,2", "--run-dir", dir + "/run"});
  REQUIRE(run(args).rc == 0);
  const auto first = slurp(dir + "/plan.json");
  CHECK(fs::exists(dir + "/run/cut-000.json"));
  CHECK(fs::exists(dir + "/run/cut-002.json"));

  auto again = run(args);  // same run dir without --resume: refused, nothing overwritten
  CHECK(again.rc == 2);
  CHECK(again.err.find("--resume") != std::string::npos);

  auto resumed_args = args;
  resumed_args.push_back("--resume");
  REQUIRE(run(resumed_args).rc == 0);
  const auto second = slurp(dir + "/plan.json");
  auto measured = [](const std::string& plan) {
    std::vector<std::string> out;
    for (size_t at = plan.find("\"measured\""); at != std::string::npos;
         at = plan.find("\"measured\"", at + 1))
      out.push_back(plan.substr(at, plan.find(',', at) - at));
    return out;
  };
  CHECK(measured(first) == measured(second));
  CHECK(measured(first).size() == 2);

  auto other = resumed_args;
  other.insert(other.end(), {"--set", "cgan.width=48"});  // other settings: refused
  auto r = run(other);
  CHECK(r.rc == 2);
  CHECK(r.err.find("other settings") != std::string::npos);
}

TEST_CASE("ternary assess exports three verified parts and reports the output-side probe", "[cli][assess]") {
  const auto dir = temp_dir("assess-ternary");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  auto args = quick(model, dir);
  args.insert(args.end(), {"--ternary", "--threshold", "0.99", "--export", dir + "/parts", "--report", dir + "/rep"});
  auto r = run(args);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const auto plan = slurp(dir + "/plan.json");
  CHECK(plan.find("\"kind\": \"ternary\"") != std::string::npos);
  CHECK(plan.find("\"back_probe_accuracy\"") != std::string::npos);
  CHECK(nlohmann::json::parse(plan).at("label_floor").is_number());
  CHECK(plan.find("_ssim\"") == std::string::npos);  // schema_version 2: the generic keys only
  const auto sidecar = slurp(dir + "/parts/partition.json");
  CHECK(sidecar.find("\"split\": \"ternary\"") != std::string::npos);
  CHECK(fs::exists(dir + "/parts/middle.pt"));
  CHECK(run({"verify", dir + "/parts"}).rc == 0);
  CHECK(fs::exists(dir + "/rep/pareto.png"));
  // The back cut is the input of the final linear layer: the flatten output (cut 3).
  CHECK(plan.find("\"back_cut\": {\n      \"id\": 3") != std::string::npos);
  check_document_round_trip(plan, dir + "/rep");
}

TEST_CASE("oracle pre-screen: no training, no decision, exposure per cut", "[cli][assess]") {
  const auto dir = temp_dir("assess-oracle");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  auto args = quick(model, dir);
  args.insert(args.end(), {"--attack", "oracle"});
  auto r = run(args);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const auto plan = slurp(dir + "/plan.json");
  CHECK(plan.find("\"kind\": \"prescreen\"") != std::string::npos);
  CHECK(plan.find("\"kl_min\": 0.") != std::string::npos);  // conv cuts have a score
  CHECK(plan.find("flat cut") != std::string::npos);        // flatten has none
  auto gated = args;
  gated.insert(gated.end(), {"--fail-above", "0.5"});
  CHECK(run(gated).rc == 3);  // a pre-screen never passes a gate
  // No training: the phases that ran are the data, the reference pass (score), the oracle
  // and the cost model, in the order of the phases.
  CHECK(phase_names(nlohmann::json::parse(plan)) == std::vector<std::string>{"data", "oracle", "score", "cost"});
  check_document_round_trip(plan);
  // With progress on (--log), the log ends with the per-phase time table.
  auto logged = args;
  logged.insert(logged.begin(), {"--log", "--threads", "1"});
  const auto l = partplan::testing::run_cli(logged);
  REQUIRE(l.rc == 0);
  CHECK(l.err.find("time per phase:\n  data ") != std::string::npos);
  CHECK(l.err.find("\n  oracle ") != std::string::npos);
  CHECK(l.err.find("\n  total ") != std::string::npos);
}

TEST_CASE("a cut's result does not depend on which other cuts train beside it", "[cli][assess]") {
  // Lockstep training: every active cut steps on the same batch. A cut trained alone must
  // score exactly as it does beside others (what makes --resume and sharding exact).
  const auto dir = temp_dir("assess-lockstep");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  auto both = quick(model, dir);
  both.insert(both.end(), {"--cuts", "0,2", "-o", dir + "/both.json"});
  REQUIRE(run(both).rc == 0);
  auto alone = quick(model, dir);
  alone.insert(alone.end(), {"--cuts", "2", "-o", dir + "/alone.json"});
  REQUIRE(run(alone).rc == 0);
  auto measured_of_cut2 = [](const std::string& plan) {
    const auto at = plan.find("\"measured\"", plan.find("\"id\": 2,"));
    return plan.substr(at, plan.find(',', at) - at);
  };
  CHECK(measured_of_cut2(slurp(dir + "/both.json")) == measured_of_cut2(slurp(dir + "/alone.json")));
}

TEST_CASE("small image folders fit the default split sizes, and a tiny one is refused", "[cli][assess]") {
  const auto dir = temp_dir("assess-folder");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  auto make_folder = [&](const std::string& name, int n) {
    fs::create_directories(dir + "/" + name);
    for (int i = 0; i < n; ++i) {
      partplan::imaging::Canvas img(28, 28, {0, 0, 0});
      const auto disc = static_cast<uint8_t>(60 + (i * 37) % 190), frame = static_cast<uint8_t>(255 - i % 90);
      img.circle({4 + (i * 7) % 20, 4 + (i * 11) % 20}, 3 + i % 6, {disc, disc, disc}, /*filled=*/true);
      img.rectangle({(i * 5) % 14, (i * 3) % 14}, {14 + (i * 5) % 14, 14 + (i * 3) % 14}, {frame, frame, frame});
      const auto png = partplan::imaging::encode_png(partplan::imaging::convert_channels(img.image(), 1));
      std::ofstream(dir + "/" + name + "/" + std::to_string(i) + ".png", std::ios::binary)
          .write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
    }
    return dir + "/" + name;
  };
  const auto folder = make_folder("two-hundred", 200);
  // Without -q: the warning is what a user sees on stderr.
  auto r = partplan::testing::run_cli({"--threads", "1", "assess", model, "--device", "cpu", "--data", folder, "--steps", "10", "--set",
                                       "budget.eval_every=5", "--set", "cgan.width=16", "--set", "cgan.disc_width=8",
                                       "--cuts", "0", "-o", dir + "/plan.json"});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const auto plan = slurp(dir + "/plan.json");
  CHECK(plan.find("\"attacker_train\": 140") != std::string::npos);
  CHECK(plan.find("\"attacker_val\": 20") != std::string::npos);
  CHECK(plan.find("\"eval\": 40") != std::string::npos);
  CHECK(r.err.find("95% CI is wider") != std::string::npos);  // 40 eval images: warned, not refused

  const auto tiny = make_folder("nine", 9);
  auto refused = run({"assess", model, "--device", "cpu", "--data", tiny, "--steps", "10", "-o", dir + "/tiny.json"});
  CHECK(refused.rc == 2);
  CHECK(refused.err.find("9 samples") != std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/tiny.json"));
  // The pre-screen scores oracle.images = 8 images and needs no more.
  auto prescreen = run({"assess", model, "--device", "cpu", "--data", tiny, "--attack", "oracle", "-o", dir + "/pre.json"});
  INFO(prescreen.err);
  CHECK(prescreen.rc == 0);
}

TEST_CASE("the worst case at each cut is the max over attackers, the white-box one included", "[cli][assess]") {
  const auto dir = temp_dir("assess-whitebox");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  auto args = quick(model, dir);
  args.insert(args.end(), {"--attack", "cgan,whitebox", "--set", "whitebox.images=16", "--set",
                           "whitebox.iterations=60", "--report", dir + "/report"});
  auto r = run(args);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const auto plan = nlohmann::json::parse(slurp(dir + "/plan.json"));
  REQUIRE(plan.at("cuts").size() >= 3);
  const double floor = plan.at("label_floor").is_number() ? plan.at("label_floor").get<double>() : -1;
  for (const auto& c : plan.at("cuts")) {
    INFO("cut " << c.at("name"));
    std::vector<std::string> names;
    double best = floor;
    for (const auto& a : c.at("attacks")) {
      names.push_back(a.at("attack"));
      best = std::max(best, a.at("ssim").at("mean").get<double>());
      CHECK(c.at("envelope").get<double>() >= a.at("ssim").at("mean").get<double>());
    }
    CHECK(c.at("measured").get<double>() == best);  // exactly the max, over every attacker
    CHECK(names == std::vector<std::string>{"cgan", "whitebox"});
    CHECK(c.at("attacks").at(1).at("images") == 16);
  }
  // The first cut (a convolution) is rebuilt through the front's weights almost exactly.
  CHECK(plan.at("cuts").at(0).at("attacks").at(1).at("ssim").at("mean").get<double>() > 0.95);
  const auto summary = slurp(dir + "/report/summary.md");
  CHECK(summary.find("| whitebox |") != std::string::npos);
  // Scoring and the white-box attacker are timed apart from the training loop they run in;
  // the oracle exposure runs beside every image assessment; the calibration before the stats.
  CHECK(phase_names(plan) ==
        std::vector<std::string>{"data", "calibrate", "stats", "oracle", "train", "score", "whitebox", "cost"});
  // Without --time-budget: an estimate from the calibration, nothing fitted.
  CHECK(plan.at("time").at("estimated_seconds").get<double>() > 0);
  CHECK(plan.at("time").at("budget").is_null());
}

TEST_CASE("an attacker still improving at the end of its budget makes a lower bound, which fails the gate",
          "[cli][assess]") {
  const auto dir = temp_dir("assess-unconverged");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  // One check, at the last step: nothing shows the attacker had levelled off.
  auto args = quick(model, dir);
  args.insert(args.end(),
              {"--cuts", "0,2", "--set", "budget.eval_every=1000", "--threshold", "0.999", "--fail-above", "0.999"});
  auto r = run(args);
  CHECK(r.rc == 3);
  CHECK(r.err.find("--accept-unconverged") != std::string::npos);
  const auto plan = nlohmann::json::parse(slurp(dir + "/plan.json"));
  REQUIRE(plan.at("decision").at("cut_ids").size() == 1);
  nlohmann::json chosen;
  for (const auto& c : plan.at("cuts"))
    if (c.at("id") == plan.at("decision").at("cut_ids").at(0)) chosen = c;
  REQUIRE(chosen.is_object());
  CHECK(chosen.at("verdict") == "safe (lower bound: attacker still improving)");
  CHECK(chosen.at("lower_bound") == true);
  CHECK(chosen.at("attacks").at(0).at("train").at("still_improving") == true);
  CHECK(plan.at("decision").at("reason").get<std::string>().find("budget.steps") != std::string::npos);
  args.push_back("--accept-unconverged");
  auto accepted = run(args);
  INFO(accepted.err);
  CHECK(accepted.rc == 0);
}

TEST_CASE("a time budget below the run's needs cuts steps and white-box iterations, and the gate fails the cut-short cut",
          "[cli][assess]") {
  const auto dir = temp_dir("assess-time-budget");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  // 10 ms: below any run's floors on any machine, so every reduction applies (the fit's
  // arithmetic has its known answers in tests/pipeline/test_time_plan.cpp).
  auto args = quick(model, dir);
  args.insert(args.end(), {"--cuts", "0,2", "--attack", "cgan,whitebox", "--set", "whitebox.images=16",
                           "--time-budget", "0.01s", "--threshold", "0.999", "--fail-above", "0.999"});
  auto r = run(args);
  INFO(r.err);
  CHECK(r.rc == 3);
  CHECK(r.err.find("cut short by the time budget") != std::string::npos);
  CHECK(r.err.find("--time-budget") != std::string::npos);  // the gate's reason says what to raise
  const auto plan = nlohmann::json::parse(slurp(dir + "/plan.json"));
  const auto& b = plan.at("time").at("budget");
  CHECK(b.at("budget_seconds").get<double>() == Catch::Detail::Approx(0.01));
  CHECK(b.at("steps_requested") == 40);
  CHECK(b.at("steps") == 20);
  CHECK(b.at("whitebox_iterations") == 50);
  CHECK(b.at("fits") == false);
  // 16 images are already one batch: not reduced.
  CHECK(b.at("reductions") == nlohmann::json::array({"training steps per cut 40 -> 20", "white-box iterations 200 -> 50"}));
  for (const auto& c : plan.at("cuts")) {
    INFO("cut " << c.at("name"));
    for (const auto& a : c.at("attacks")) {
      CHECK(a.at("train").at("cut_short") == true);
      CHECK(a.at("train").at("steps_run") == (a.at("attack") == "whitebox" ? 50 : 20));
    }
  }
}

TEST_CASE("sharded and merged equals unsharded, and merge refuses incomplete or mismatched shard sets",
          "[cli][assess]") {
  const auto dir = temp_dir("assess-shards");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  auto one = quick(model, dir);
  one.insert(one.end(), {"-o", dir + "/one.json"});
  REQUIRE(run(one).rc == 0);
  for (const char* shard : {"0/2", "1/2"}) {
    auto args = quick(model, dir);
    args.insert(args.end(), {"--shard", shard, "--run-dir", dir + "/run"});
    auto r = run(args);
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out.find("partplan merge") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(dir + "/plan.json"));  // a shard writes no plan
  auto merged = run({"merge", dir + "/run", "-o", dir + "/merged.json"});
  INFO(merged.err);
  REQUIRE(merged.rc == 0);
  const auto a = nlohmann::json::parse(slurp(dir + "/one.json"));
  const auto b = nlohmann::json::parse(slurp(dir + "/merged.json"));
  REQUIRE(a.at("cuts").size() == b.at("cuts").size());
  for (size_t i = 0; i < a.at("cuts").size(); ++i) {
    const auto &x = a["cuts"][i], &y = b["cuts"][i];
    INFO("cut " << x.at("name"));
    CHECK(x.at("measured") == y.at("measured"));  // bit for bit
    CHECK(x.at("envelope") == y.at("envelope"));
    CHECK(x.at("verdict") == y.at("verdict"));
    CHECK(x.at("attacks").size() == y.at("attacks").size());
    for (size_t k = 0; k < x.at("attacks").size(); ++k)
      for (const char* key : {"attack", "ssim", "psnr_db", "psnr_capped", "images", "top1_agreement", "kl"})
        CHECK(x["attacks"][k].at(key) == y["attacks"][k].at(key));
  }
  CHECK(a.at("decision").at("kind") == b.at("decision").at("kind"));
  CHECK(a.at("decision").at("cut_ids") == b.at("decision").at("cut_ids"));
  CHECK(a.at("decision").at("leakage") == b.at("decision").at("leakage"));

  // A shard whose manifest records other settings is named, with the key.
  fs::copy(dir + "/run", dir + "/tampered", fs::copy_options::recursive);
  auto m = nlohmann::json::parse(slurp(dir + "/tampered/shard-1-of-2.json"));
  m["settings"]["budget"]["steps"] = 41;
  std::ofstream(dir + "/tampered/shard-1-of-2.json") << m.dump();
  auto t = run({"merge", dir + "/tampered", "-o", dir + "/t.json"});
  CHECK(t.rc == 2);
  CHECK(t.err.find("shard 1/2") != std::string::npos);
  CHECK(t.err.find("'budget.steps'") != std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/t.json"));
  // A missing shard, and a missing cut result, name what to rerun.
  fs::copy(dir + "/run", dir + "/partial", fs::copy_options::recursive);
  fs::remove(dir + "/partial/shard-1-of-2.json");
  auto p = run({"merge", dir + "/partial", "-o", dir + "/p.json"});
  CHECK(p.rc == 2);
  CHECK(p.err.find("shard 1/2 has not finished") != std::string::npos);
  fs::copy(dir + "/run", dir + "/nocut", fs::copy_options::recursive);
  fs::remove(dir + "/nocut/cut-000.json");
  auto c = run({"merge", dir + "/nocut", "-o", dir + "/c.json"});
  CHECK(c.rc == 2);
  CHECK(c.err.find("rerun shard") != std::string::npos);
  // A shard run with other settings into the same directory is refused at once.
  auto other = quick(model, dir);
  other.insert(other.end(), {"--shard", "0/2", "--run-dir", dir + "/run", "--steps", "41"});
  auto o = run(other);
  CHECK(o.rc == 2);
  CHECK(o.err.find("every shard needs the same model, settings and seed") != std::string::npos);
}

// The synthetic TON_IoT CSV is generated at build time (tests/data/CMakeLists.txt needs Python 3):
// the record tests are part of every build, never left out.
#ifndef PARTPLAN_TONIOT_CSV
#error "PARTPLAN_TONIOT_CSV is not defined: tests/data/CMakeLists.txt generates the synthetic TON_IoT CSV"
#endif
namespace {
// Records: the synthetic TON_IoT table (600 rows, 44 features after label and type).
std::vector<std::string> records(const std::string& model, const std::string& dir) {
  return {"assess", model, "--device", "cpu", "--data", PARTPLAN_TONIOT_CSV, "--steps", "60", "--set", "budget.eval_every=20",
          "--cuts", "all", "-o",     dir + "/plan.json"};
}
}  // namespace

TEST_CASE("records: a flat model's cuts are scored by re-identification, first cut near 1, falling with depth",
          "[cli][assess][records]") {
  const auto dir = temp_dir("assess-records");
  const std::string model = dir + "/mlp.pt";
  partplan::testing::save_record_mlp(model, 44);
  auto args = records(model, dir);
  args.insert(args.end(), {"--report", dir + "/report"});
  const auto r = run(args);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("re-identified mean") != std::string::npos);
  const auto plan = nlohmann::json::parse(slurp(dir + "/plan.json"));
  CHECK(plan.at("measure") == "reidentification");
  CHECK_FALSE(plan.contains("label_floor_ssim"));
  const auto& cuts = plan.at("cuts");
  REQUIRE(cuts.size() == 4);  // the linear and relu outputs of the hidden layers
  const int64_t n_eval = plan.at("data").at("splits").at("eval");
  const auto& mean_fields = plan.at("baselines").at(0).at("records");
  for (const auto& c : cuts) {
    CHECK_FALSE(c.contains("measured_ssim"));
    double best = 0;
    for (const auto& a : c.at("attacks")) {
      const auto& rec = a.at("records");
      best = std::max(best, rec.at("reidentification").at("mean").get<double>());
      CHECK(rec.at("categorical_accuracy").at("mean").get<double>() <= 1);
    }
    CHECK(c.at("measured").get<double>() >= best);  // the max over its attackers (and the label floor)
  }
  // At the over-complete first cut every attacker rebuilds the fields better than the mean record.
  for (const auto& a : cuts.front().at("attacks")) {
    INFO(a.at("attack"));
    CHECK(a.at("records").at("numeric_error").at("mean").get<double>() <
          0.5 * mean_fields.at("numeric_error").at("mean").get<double>());
  }
  // The first layer is over-complete: its output determines the record.
  CHECK(cuts.front().at("measured").get<double>() >= 0.9);
  CHECK(cuts.back().at("envelope").get<double>() < cuts.front().at("envelope").get<double>());
  const auto& mean_record = plan.at("baselines").at(0);
  CHECK(mean_record.at("name") == "mean-record");
  CHECK(mean_record.at("records").at("reidentification").at("mean").get<double>() < 5.0 / static_cast<double>(n_eval));
  bool type_dropped = false;
  for (const auto& col : plan.at("data").at("columns"))
    type_dropped |= col.at("name") == "type" && col.at("kind") == "dropped";
  CHECK(type_dropped);
  const auto md = slurp(dir + "/report/summary.md");
  CHECK(md.find("How the records were encoded") != std::string::npos);
  CHECK(md.find("re-identified mean [95% CI]") != std::string::npos);
  CHECK(fs::exists(dir + "/report/report.html"));
  check_document_round_trip(slurp(dir + "/plan.json"), dir + "/report");
}

TEST_CASE("records: bad tables and mismatched models are refused, writing nothing", "[cli][assess][records]") {
  const auto dir = temp_dir("assess-records-bad");
  const std::string model = dir + "/mlp.pt";
  partplan::testing::save_record_mlp(model, 44);
  { std::ofstream(dir + "/nan.csv") << "a,b,label\n1,2,0\n3,nan,1\n"; }
  { std::ofstream(dir + "/ragged.csv") << "a,b,label\n1,2,0\n3,1\n"; }
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  for (const auto& c : std::vector<Case>{
           {{"--data", dir + "/nan.csv", "--set", "data.csv.nonfinite=error"}, "nan.csv:3: column 2 'b'"},
           {{"--data", dir + "/ragged.csv"}, "ragged.csv:3: 2 fields"},
           {{"--set", "data.csv.label=verdict"}, "label column 'verdict'"},
           {{"--set", "data.csv.drop=[\"auto\", \"ts\"]"}, "flat vectors of 44 values"},
           {{"--set", "data.csv.keep=[\"ts\"]", "--set", "data.csv.drop=[\"ts\"]"}, "no feature columns"},
           {{"--set", "data.csv.scaling=zscore"}, "use minmax, log-minmax"},
           {{"--data", "builtin:fashion-mnist:test"}, "not an image [N,C,H,W]"},
       }) {
    auto args = records(model, dir);
    if (c.args.front() == "--data") {  // replace the table, wherever records() puts --data
      const auto at = std::find(args.begin(), args.end(), "--data");
      REQUIRE(at + 1 < args.end());
      *(at + 1) = c.args[1];
    }
    for (size_t i = c.args.front() == "--data" ? 2 : 0; i < c.args.size(); ++i) args.push_back(c.args[i]);
    const auto r = run(args);
    INFO(r.err);
    CHECK(r.rc != 0);
    CHECK(r.err.find(c.expect) != std::string::npos);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK_FALSE(fs::exists(dir + "/plan.json"));
  }
}

// Inputs found by fuzz/fuzz_run_store.cpp (scripts/fuzz.sh) or in its review: the readers of
// a run directory's files (--resume, merge) on their text. Each escaped as an nlohmann
// exception, converted a double with undefined behaviour, returned reconstructions whose
// pixels were not n*c*h*w, or would read any file, and is now a UsageError naming the file.
TEST_CASE("run directory files with values of the wrong type, range or size are refused (fuzz regressions)",
          "[cli][assess]") {
  using partplan::store::RunStore;
  using Catch::Contains;
  const auto dir = temp_dir("run-store-fuzz");
  partplan::pipeline::CutAssessment ca;
  ca.cut.id = 2;
  ca.cut.name = "pool1";
  ca.worst_attack = "cgan";
  ca.leak = 0.5;
  ca.reconstructions.n = 2;
  ca.reconstructions.c = 1;
  ca.reconstructions.h = 3;
  ca.reconstructions.w = 4;
  ca.reconstructions.pixels.assign(24, 7);
  RunStore(dir, "fp", /*resume=*/false).save(ca);
  const auto text = slurp(RunStore::cut_path(dir, 2));
  const auto png = slurp(dir + "/cut-002.png");
  const auto sibling = [&](const std::string&) { return png; };
  const auto back = RunStore::parse_cut(text, ca.cut, "run/cut-002.json", sibling);
  REQUIRE(back);
  CHECK(back->reconstructions.pixels == ca.reconstructions.pixels);

  const auto refuses = [&](const nlohmann::json& j, const std::string& fragment) {
    INFO(j.dump());
    CHECK_THROWS_AS(RunStore::parse_cut(j.dump(), ca.cut, "run/cut-002.json", sibling), partplan::UsageError);
    CHECK_THROWS_WITH(RunStore::parse_cut(j.dump(), ca.cut, "run/cut-002.json", sibling),
                      Contains("'run/cut-002.json'") && Contains(fragment));
  };
  auto j = nlohmann::json::parse(text);
  j["leak_ci"]["n"] = 1e300;  // json::get<int64_t> of it is undefined
  refuses(j, "is not a valid cut result ([json.exception.out_of_range.406] number 1e+300 is not a whole number");
  j = nlohmann::json::parse(text);
  j["reconstructions"] = {{"n", -1}, {"c", 1}, {"h", 5}, {"w", -5}, {"pixels_b64", "AAAA"}};
  refuses(j, "records reconstructions of -1x1x5x-5 (n x c x h x w), not a strip");
  j["reconstructions"] = {{"n", 2}, {"c", 1}, {"h", 5}, {"w", 5}, {"pixels_b64", "AAAA"}};
  refuses(j, "holds 3 bytes of pixels for reconstructions of 2x1x5x5, which take 50");
  j["reconstructions"] = {{"n", 2}, {"c", 1}, {"h", 3}, {"w", 4}, {"png", "/dev/zero"}};  // read_file never ends
  refuses(j, "names its reconstruction strip '/dev/zero', not a file of the run directory");

  CHECK_THROWS_WITH(RunStore::parse_run_fingerprint("[1]", "run/run.json"),
                    Contains("'run/run.json' is not a partplan run.json"));
  CHECK_THROWS_WITH(RunStore::parse_run_fingerprint("{\"fingerprint\": 5}", "run/run.json"),
                    Contains("'run/run.json' is not a partplan run.json"));
  CHECK(RunStore::parse_run_fingerprint("{\"fingerprint\": \"fp\"}", "run/run.json") == "fp");
  const std::string shard =
      "{\"kind\": \"partplan.shard\", \"index\": 1e300, \"count\": 2, \"model\": {\"path\": \"m.pt\", \"sha256\": "
      "\"00\"}, \"settings\": {}, \"candidate_cuts\": [], \"cuts\": []}";
  CHECK_THROWS_WITH(RunStore::parse_shard(shard, "run/shard-0-of-2.json", "fp"),
                    Contains("'run/shard-0-of-2.json' is not a valid shard manifest"));
}
