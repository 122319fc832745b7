// The application layer in process: a request in, an outcome out, progress through the
// callback and diagnostics through the log sink; no file descriptor is redirected.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "partplan/app/assess.hpp"
#include "partplan/common/error.hpp"
#include "tiny_models.hpp"

namespace fs = std::filesystem;
using partplan::testing::temp_dir;
namespace app = partplan::app;
namespace plog = partplan::log;
using partplan::pipeline::Phase;

namespace {

/// Small and fast: 2 cuts x 20 steps on 120 images, on the CPU.
app::AssessRequest small_request(const std::string& model, const std::string& dir) {
  app::AssessRequest req;
  req.model_path = model;
  auto& s = req.settings;
  s.set("device", "cpu");
  s.set("data.source", "builtin:fashion-mnist:test");
  s.set("budget.steps", int64_t{20});
  s.set("budget.eval_every", int64_t{10});
  s.set("data.attacker_train", int64_t{120});
  s.set("data.attacker_val", int64_t{20});
  s.set("data.eval", int64_t{30});
  s.set("cgan.width", int64_t{16});
  s.set("cgan.disc_width", int64_t{8});
  s.set("whitebox.images", int64_t{4});
  s.set("whitebox.iterations", int64_t{5});
  s.set("cuts", "0,1");
  req.plan_out = dir + "/plan.json";
  req.command_line = "test_app";
  return req;
}

/// Sets the log level for a scope.
struct LevelScope {
  explicit LevelScope(plog::Level l) : before(plog::level()) { plog::set_level(l); }
  ~LevelScope() { plog::set_level(before); }
  plog::Level before;
};

}  // namespace

TEST_CASE("app::assess returns and writes the plan, with progress and log lines through the request hooks",
          "[app]") {
  const auto dir = temp_dir("app-assess");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  auto req = small_request(model, dir);
  std::vector<Phase> phases;
  std::vector<std::string> lines;
  req.progress = [&](const partplan::pipeline::Progress& p) {
    if (phases.empty() || phases.back() != p.phase) phases.push_back(p.phase);
  };
  req.log = [&](plog::Level, const std::string& text, bool raw) {
    if (!raw) lines.push_back(text);
  };
  const LevelScope info(plog::Level::kInfo);
  const auto out = app::assess(req);

  REQUIRE_FALSE(out.shard);
  const auto plan = nlohmann::json::parse(out.plan_json);
  CHECK(plan.at("cuts").size() == 2);
  CHECK(plan.at("command") == "test_app");
  std::ifstream in(req.plan_out);
  CHECK(std::string((std::istreambuf_iterator<char>(in)), {}) == out.plan_json);
  CHECK(out.summary.find("baseline label-prototype") != std::string::npos);
  CHECK(out.gate_failed == false);
  // The phases in the order they run: each one's first report after the one before.
  auto first = [&](Phase p) { return std::find(phases.begin(), phases.end(), p) - phases.begin(); };
  CHECK(phases.front() == Phase::kData);
  CHECK(first(Phase::kData) < first(Phase::kStats));
  CHECK(first(Phase::kStats) < first(Phase::kOracle));
  CHECK(first(Phase::kOracle) < first(Phase::kScore));
  CHECK(first(Phase::kOracle) < first(Phase::kTrain));  // train reports every second and at its end
  CHECK(first(Phase::kScore) < first(Phase::kWhitebox));
  CHECK(first(Phase::kWhitebox) < static_cast<long>(phases.size()));
  CHECK(phases.back() == Phase::kCost);
  // The diagnostics went to the sink: the model's loading and each cut's score.
  CHECK(std::any_of(lines.begin(), lines.end(), [](const auto& l) { return l.rfind("loading ", 0) == 0; }));
  CHECK(std::count_if(lines.begin(), lines.end(), [](const auto& l) { return l.find(" SSIM ") != std::string::npos; }) >=
        4);  // 2 cuts x (cgan, whitebox)
}

TEST_CASE("app::assess with a plan on stdout (-) only returns it, and a bad request writes nothing", "[app]") {
  const auto dir = temp_dir("app-stdout");
  const std::string model = dir + "/tiny.pt";
  partplan::testing::save_tiny_mnist_net(model);
  auto req = small_request(model, dir);
  req.plan_out = "-";
  req.settings.set("attacks", std::vector<std::string>{"oracle"});
  const auto out = app::assess(req);
  CHECK(nlohmann::json::parse(out.plan_json).at("cuts").size() == 2);
  CHECK(out.summary.empty());
  CHECK_FALSE(fs::exists(dir + "/plan.json"));

  auto bad = small_request(model, dir);
  bad.resume = true;  // without a run directory
  CHECK_THROWS_WITH(app::assess(bad), Catch::Contains("--resume needs --run-dir"));
  bad = small_request(model, dir);
  bad.shard = std::make_pair(int64_t{0}, int64_t{2});  // without a run directory
  CHECK_THROWS_WITH(app::assess(bad), Catch::Contains("--shard needs --run-dir"));
  CHECK_FALSE(fs::exists(dir + "/plan.json"));
}

TEST_CASE("app::merge_request refuses a directory without a complete shard set", "[app]") {
  const auto dir = temp_dir("app-merge");
  CHECK_THROWS_AS(app::merge_request(dir), partplan::UsageError);
  CHECK_THROWS_WITH(app::merge_request(dir), Catch::Contains("holds no run"));
}
