// `partplan assess` end to end on a tiny model and Debian's Fashion-MNIST, in process.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/run_cli.hpp"
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

// Small and fast: 3 cuts x 40 steps on 300 images.
std::vector<std::string> quick(const std::string& model, const std::string& dir) {
  return {"assess", model, "--data", "builtin:fashion-mnist:test", "--steps", "40", "--set", "data.attacker_train=300",
          "--set", "data.attacker_val=40", "--set", "data.eval=60", "--set", "budget.eval_every=20",
          "--set", "cgan.width=32", "--set", "cgan.disc_width=16", "--cuts", "all", "-o", dir + "/plan.json"};
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
  CHECK(plan.find("\"schema_version\": 1") != std::string::npos);
  CHECK(plan.find("\"kind\": \"partplan.plan\"") != std::string::npos);
  CHECK(plan.find("\"label-prototype\"") != std::string::npos);
  CHECK(plan.find("\"budget\"") != std::string::npos);  // the effective config is recorded
  CHECK(plan.find("\"steps\": 40") != std::string::npos);
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
    for (size_t at = plan.find("\"measured_ssim\""); at != std::string::npos; at = plan.find("\"measured_ssim\"", at + 1))
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
  CHECK(plan.find("\"label_floor_ssim\"") != std::string::npos);
  const auto sidecar = slurp(dir + "/parts/partition.json");
  CHECK(sidecar.find("\"split\": \"ternary\"") != std::string::npos);
  CHECK(fs::exists(dir + "/parts/middle.pt"));
  CHECK(run({"verify", dir + "/parts"}).rc == 0);
  CHECK(fs::exists(dir + "/rep/pareto.png"));
  // The back cut is the input of the final linear layer: the flatten output (cut 3).
  CHECK(plan.find("\"back_cut\": {\n      \"id\": 3") != std::string::npos);
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
  CHECK(plan.find("\"kl_min\": 0.") != std::string::npos);             // conv cuts have a score
  CHECK(plan.find("flat cut") != std::string::npos);                   // flatten has none
  auto gated = args;
  gated.insert(gated.end(), {"--fail-above", "0.5"});
  CHECK(run(gated).rc == 3);  // a pre-screen never passes a gate
}
