// One typed source of truth for settings: the option structs' defaults are the quick preset,
// configs/quick.json is their copy on disk, and docs/config.md lists every key with its default.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "partplan/common/error.hpp"
#include "partplan/config/fields.hpp"
#include "partplan/pipeline/assess.hpp"

using namespace partplan;

TEST_CASE("the structs' defaults are the quick preset, key for key", "[pipeline]") {
  const auto defaults = pipeline::default_settings();
  const auto quick = config::Settings::load("quick");
  INFO(defaults.dump());
  CHECK(defaults.equals(quick));
}

TEST_CASE("settings round-trip through the structs, and choices are checked where they are defined", "[pipeline]") {
  auto s = pipeline::default_settings();
  s.assign("cgan.norm", "instance", "test");
  s.assign("budget.steps", "12", "test");
  s.assign("fail_above", "0.4", "test");
  s.assign("data.mean", "[0.5]", "test");
  const auto o = pipeline::options_from_settings(s);
  CHECK(o.cgan.norm == attacks::Norm::kInstance);
  CHECK(o.budget.steps == 12);
  REQUIRE(o.fail_above);
  CHECK(*o.fail_above == Approx(0.4));
  CHECK(o.data.mean == std::vector<double>{0.5});
  CHECK(config::to_settings(o).equals(s));

  s.assign("cgan.upsample", "cubic", "test");
  CHECK_THROWS_WITH(pipeline::options_from_settings(s),
                    Catch::Contains("'cgan.upsample' = 'cubic': use nearest, bilinear"));
  auto t = pipeline::default_settings();
  CHECK_THROWS_WITH(t.assign("budget.steps", "0, \"x\": 1", "--set"),
                    Catch::Contains("'budget.steps' must be a number"));
  t.assign("budget.steps", "0", "--set");
  CHECK_THROWS_WITH(pipeline::options_from_settings(t), Catch::Contains("'budget.steps' = 0 is outside"));
  CHECK_THROWS_WITH(t.assign("budget.stepz", "1", "--set"), Catch::Contains("unknown setting 'budget.stepz'"));
}

TEST_CASE("docs/config.md lists every setting with its default", "[pipeline]") {
  std::ifstream in(PARTPLAN_SOURCE_DIR "/docs/config.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const auto& [key, value] : pipeline::default_settings().leaves()) {
    // A table row: | `key` | default | ...
    const auto row = doc.find("| `" + key + "` |");
    INFO("key " << key << " default " << value);
    REQUIRE(row != std::string::npos);
    const auto end = doc.find('\n', row);
    const std::string line = doc.substr(row, end - row);
    std::string shown = value;
    if (shown.size() >= 2 && shown.front() == '"') shown = shown.substr(1, shown.size() - 2);
    if (shown.empty()) shown = "\"\"";
    INFO(line);
    CHECK(line.find("| " + shown + " |") != std::string::npos);
  }
}

TEST_CASE("the cost model is a pure function with a known answer", "[pipeline]") {
  model::CutPoint cut;
  cut.id = 1;
  cut.front_flops = 2e9;
  cut.front_param_bytes = 1000;
  cut.front_peak_activation_bytes = 4000;
  cut.activation_bytes = 1048576;  // 1 MiB crosses the boundary
  pipeline::CostInputs in;
  in.total_flops = 10e9;
  in.total_param_bytes = 5000;
  in.whole_model_seconds = 0.1;  // native rate 1e11 FLOP/s
  in.options.tee_slowdown = 4;
  in.options.gpu_speedup = 20;
  in.options.link_mib_per_s = 100;
  const auto c = pipeline::estimate_cost(cut, in);
  CHECK(c.enclave_flops == Approx(2e9));
  CHECK(c.enclave_seconds == Approx(4 * 2e9 / 1e11));     // 0.08 s
  CHECK(c.untrusted_seconds == Approx(8e9 / 1e11 / 20));  // 0.004 s
  CHECK(c.transfer_seconds == Approx(0.01));
  CHECK(c.enclave_bytes == Approx(5000));
  CHECK_FALSE(c.profiled);

  model::CutPoint back;  // ternary: the enclave runs the last 1e9 FLOPs too
  back.id = 5;
  back.front_flops = 9e9;
  back.front_param_bytes = 4500;
  back.activation_bytes = 2048;
  in.back_cut = back;
  in.output_bytes = 40;
  const auto t = pipeline::estimate_cost(cut, in);
  CHECK(t.enclave_flops == Approx(3e9));
  CHECK(t.enclave_param_bytes == Approx(1000 + 500));
  CHECK(t.boundary_bytes == Approx(1048576 + 2048));
  CHECK(t.untrusted_seconds == Approx(7e9 / 1e11 / 20));

  // Timed on the untrusted GPU: its own rate, and no assumed speed-up on top.
  in.back_cut.reset();
  in.untrusted_whole_model_seconds = 0.002;  // GPU rate 5e12 FLOP/s
  const auto g = pipeline::estimate_cost(cut, in);
  CHECK(g.untrusted_seconds == Approx(8e9 / 5e12));  // 1.6 ms, not divided by 20
  CHECK(g.enclave_seconds == Approx(c.enclave_seconds));  // the enclave stays a CPU estimate
}

TEST_CASE("the batch follows the image size unless set", "[pipeline]") {
  attacks::TrainBudget b;
  CHECK(pipeline::effective_batch_size(b, {1, 28, 28}) == 32);
  CHECK(pipeline::effective_batch_size(b, {3, 64, 64}) == 32);
  CHECK(pipeline::effective_batch_size(b, {3, 224, 224}) == 8);
  b.batch_size = 5;
  CHECK(pipeline::effective_batch_size(b, {3, 224, 224}) == 5);
}

// Inputs found by fuzz/fuzz_settings.cpp (scripts/fuzz.sh) or in its review: each escaped as
// an nlohmann exception, converted a double with undefined behaviour, or overflowed the stack,
// and is now a UsageError naming the file or the --set.
TEST_CASE("settings refuse numbers beyond range, deep nesting and bytes that are not UTF-8 (fuzz regressions)",
          "[pipeline]") {
  using Catch::Contains;
  // json::parse throws out_of_range, not parse_error, for a number beyond a double (fuzzer).
  CHECK_THROWS_AS(config::Settings::parse("{\"seed\": -1e400}", "c.json"), UsageError);
  CHECK_THROWS_WITH(config::Settings::parse("{\"seed\": -1e400}", "c.json"),
                    Contains("config 'c.json' is not valid JSON") && Contains("number overflow"));
  auto s = pipeline::default_settings();
  CHECK_THROWS_AS(s.assign("seed", "1e400", "--set seed=1e400"), UsageError);
  CHECK_THROWS_WITH(s.assign("seed", "1e400", "--set seed=1e400"),
                    Contains("--set seed=1e400: the value is not usable JSON"));
  // A whole double beyond int64 was cast to int64 (undefined): cgan.min_width = 6.7e98 (fuzzer).
  s.merge(config::Settings::parse("{\"cgan\": {\"min_width\": 6.6e98}}", "c.json"), "c.json");
  CHECK_THROWS_AS(pipeline::options_from_settings(s), UsageError);
  CHECK_THROWS_WITH(pipeline::options_from_settings(s), Contains("setting 'cgan.min_width' = 6.6e+98"));
  // dump() recursed once per level: 100000 nested arrays overflowed the stack.
  const std::string deep = "{\"data\": {\"mean\": " + std::string(100000, '[') + std::string(100000, ']') + "}}";
  CHECK_THROWS_WITH(config::Settings::parse(deep, "deep.json"), Contains("nested deeper than 64 levels"));
  // A string that is not UTF-8 made every later dump() throw json's type_error 316.
  auto t = pipeline::default_settings();
  CHECK_THROWS_AS(t.assign("data.source", "photos-\xff", "--set data.source=photos-\xff"), UsageError);
  CHECK_THROWS_WITH(t.assign("data.source", "photos-\xff", "--set data.source=photos-\xff"),
                    Contains("the key or the value is not UTF-8 text"));
  CHECK_NOTHROW(t.dump());
}
