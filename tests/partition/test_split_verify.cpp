// torch before Catch, then drop glog's CHECK so that Catch's wins.
#include <torch/script.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/hash.hpp"
#include "partplan/common/interrupt.hpp"
#include "partplan/model/model.hpp"
#include "partplan/partition/partition.hpp"
#include "partplan/report/report.hpp"
#include "tiny_models.hpp"

namespace fs = std::filesystem;
using namespace partplan;
using partplan::testing::temp_dir;

namespace {

struct Fixture {
  std::string dir = temp_dir("split");
  std::string model_path = dir + "/tiny.pt";
  model::Model model;
  Fixture() {
    partplan::testing::save_tiny_net(model_path, "[1, 2, 8, 8]", /*seed=*/3);
    model = model::Model::load(model_path);
  }
  partition::PartitionManifest split(const std::vector<int>& ids, const std::string& out) {
    common::StagedDir staged(out);
    auto m = partition::export_parts(model, ids, staged);
    common::write_file_atomic(staged.add("partition.json"), report::partition_to_json(m));
    staged.commit();
    return m;
  }
};

at::Tensor run_parts(const std::string& dir, const partition::PartitionManifest& m, at::Tensor x) {
  for (const auto& p : m.parts) {
    auto part = torch::jit::load(dir + "/" + p.file);
    x = part.forward({x}).toTensor();
  }
  return x;
}

}  // namespace

TEST_CASE("every 2-way split composes to exactly the original, at another batch size", "[partition]") {
  Fixture f;
  torch::NoGradGuard ng;
  auto original = torch::jit::load(f.model_path);
  torch::manual_seed(7);
  const auto x = torch::rand({3, 2, 8, 8});  // the probe ran at batch 1
  const auto ref = original.forward({x}).toTensor();
  for (const auto& cut : f.model.summary().cuts) {
    const std::string out = f.dir + "/bin" + std::to_string(cut.id);
    auto m = f.split({cut.id}, out);
    REQUIRE(m.parts.size() == 2);
    CHECK(m.parts[0].role == "enclave");
    CHECK(m.parts[1].role == "untrusted");
    CHECK(m.parts[0].output_shape == cut.shape);
    CHECK(torch::equal(run_parts(out, m, x), ref));
  }
}

TEST_CASE("3-way split: front and back in the enclave, exact composition", "[partition]") {
  Fixture f;
  torch::NoGradGuard ng;
  const std::string out = f.dir + "/tern";
  auto m = f.split({3, 0}, out);  // order does not matter
  REQUIRE(m.parts.size() == 3);
  CHECK(m.cuts[0].name == "stem");
  CHECK(m.cuts[1].name == "res");
  CHECK(m.parts[0].role == "enclave");
  CHECK(m.parts[1].role == "untrusted");
  CHECK(m.parts[2].role == "enclave");
  torch::manual_seed(8);
  const auto x = torch::rand({2, 2, 8, 8});
  CHECK(torch::equal(run_parts(out, m, x), torch::jit::load(f.model_path).forward({x}).toTensor()));
  CHECK_THROWS_AS(f.split({1, 1}, f.dir + "/same"), UsageError);
  CHECK_THROWS_AS(f.split({0, 1, 2}, f.dir + "/many"), UsageError);
}

TEST_CASE("sidecar records hashes that match the files, and round-trips", "[partition]") {
  Fixture f;
  const std::string out = f.dir + "/hash";
  auto m = f.split({2}, out);
  for (const auto& p : m.parts) CHECK(p.sha256 == common::sha256_file(out + "/" + p.file));
  CHECK(m.model_sha256 == common::sha256_file(f.model_path));
  auto back = report::partition_from_json(common::read_file(out + "/partition.json"), "partition.json");
  CHECK(back.parts.size() == 2);
  CHECK(back.parts[1].sha256 == m.parts[1].sha256);
  CHECK(back.cuts[0].name == "body");
  CHECK(back.input_shape == common::Shape{1, 2, 8, 8});
  CHECK(back.tool_version == m.tool_version);
  CHECK_FALSE(back.torch_version.empty());
}

TEST_CASE("verify passes on a fresh split and refuses a tampered part", "[partition]") {
  Fixture f;
  const std::string out = f.dir + "/verify";
  auto m = f.split({1, 3}, out);
  auto r = partition::verify_partition(m, out, {});
  CHECK(r.passed);
  CHECK(r.bit_exact);
  CHECK(r.max_abs_error == 0.0);
  CHECK(r.files_checked.size() == 4);

  { std::ofstream(out + "/middle.pt", std::ios::app) << "x"; }
  CHECK_THROWS_AS(partition::verify_partition(m, out, {}), IntegrityError);
  try {
    partition::verify_partition(m, out, {});
  } catch (const Error& e) {
    CHECK(e.exit_code() == kExitIntegrity);
    CHECK(std::string(e.what()).find("middle.pt") != std::string::npos);
  }
}

TEST_CASE("a sha256 known answer", "[partition]") {
  CHECK(common::sha256_bytes("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(common::sha256_bytes("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("a failed split leaves the output directory as it was", "[partition]") {
  Fixture f;
  const std::string out = f.dir + "/atomic";
  {
    common::StagedDir staged(out);
    partition::export_parts(f.model, {2}, staged);
    // No commit: e.g. the sidecar write failed.
  }
  CHECK_FALSE(fs::exists(out));  // created by the attempt, removed again

  fs::create_directories(out);
  { std::ofstream(out + "/keep.txt") << "user file"; }
  {
    common::StagedDir staged(out);
    CHECK_THROWS_AS(partition::export_parts(f.model, {}, staged), UsageError);
  }
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(out)) left.push_back(e.path().filename().string());
  CHECK(left == std::vector<std::string>{"keep.txt"});
}

TEST_CASE("an interrupt removes the directories partplan created for an output, and says which", "[partition]") {
  Fixture f;
  const std::string out = f.dir + "/new/nested/split";  // three directories that do not exist yet
  common::StagedDir staged(out);
  partition::export_parts(f.model, {2}, staged);  // staged, not committed: an interrupt now
  const auto removed = common::remove_partials();  // what the SIGINT/SIGTERM handler runs
  REQUIRE(removed.size() == 4);
  CHECK(removed[0].find("/new/nested/split/.partplan-staging-") != std::string::npos);
  CHECK(removed[1] == fs::absolute(f.dir + "/new/nested/split").lexically_normal().string());
  CHECK(removed[3] == fs::absolute(f.dir + "/new").lexically_normal().string());
  CHECK_FALSE(fs::exists(f.dir + "/new"));
  CHECK(fs::exists(f.dir));  // what existed before stays
}

TEST_CASE("an output path under a regular file is refused", "[partition]") {
  const auto dir = temp_dir("unwritable");
  { std::ofstream(dir + "/file") << "x"; }
  CHECK_THROWS_AS(common::StagedDir(dir + "/file/sub"), IoError);
  CHECK_THROWS_AS(common::write_file_atomic(dir + "/file/sub/x.json", "{}"), IoError);
}

TEST_CASE("partition.json that is not ours is refused with the field at fault", "[partition]") {
  CHECK_THROWS_WITH(report::partition_from_json("{", "p.json"), Catch::Contains("not valid JSON"));
  CHECK_THROWS_WITH(report::partition_from_json("{\"kind\": \"other\"}", "p.json"),
                    Catch::Contains("not a partplan partition.json"));
  CHECK_THROWS_WITH(report::partition_from_json("{\"kind\": \"partplan.partition\", \"schema_version\": 99}", "p.json"),
                    Catch::Contains("schema_version 99"));
}

namespace {

// A well-formed binary sidecar, as partition_to_json writes it, to break one field at a time.
nlohmann::json valid_sidecar() {
  partition::PartitionManifest m;
  m.model_path = "/models/m.pt";
  m.model_sha256 = std::string(64, '0');
  m.input_shape = {1, 1, 28, 28};
  m.output_shape = {1, 10};
  m.cuts.push_back({2, "pool1", "", "aten::max_pool2d", {1, 16, 14, 14}, 12544});
  m.parts.push_back({"front", "enclave", "front.pt", std::string(64, '1'), 10, {1, 1, 28, 28}, {1, 16, 14, 14}});
  m.parts.push_back({"back", "untrusted", "back.pt", std::string(64, '2'), 20, {1, 16, 14, 14}, {1, 10}});
  return nlohmann::json::parse(report::partition_to_json(m));
}

}  // namespace

// Inputs found by fuzz/fuzz_partition.cpp (scripts/fuzz.sh) or in its review: each was an
// uncaught nlohmann exception, a conversion with undefined behaviour or an unbounded
// allocation, and is now a UsageError naming the file and the field.
TEST_CASE("partition.json readers refuse malformed values with a UsageError (fuzz regressions)", "[partition]") {
  using Catch::Contains;
  const auto refuses = [](const std::string& text, const std::string& fragment) {
    INFO(text.substr(0, 200));
    CHECK_THROWS_AS(report::partition_from_json(text, "p.json"), UsageError);
    CHECK_THROWS_WITH(report::partition_from_json(text, "p.json"), Contains("'p.json'") && Contains(fragment));
  };
  REQUIRE_NOTHROW(report::partition_from_json(valid_sidecar().dump(), "p.json"));
  // A number beyond a double: json::parse throws out_of_range, not parse_error (fuzzer).
  refuses("{\"kind\": \"partplan.partition\", \"schema_version\": 1e3084}", "is not valid JSON (");
  refuses(std::string(100000, '[') + std::string(100000, ']'), "nested deeper than 64 levels");
  refuses("{\"kind\": 5}", "field 'kind' has the wrong type");
  auto j = valid_sidecar();
  j["tool"] = 3;
  refuses(j.dump(), "no field 'version'");
  j = valid_sidecar();
  j["cuts"][0]["scope"] = 7;
  refuses(j.dump(), "field 'scope' has the wrong type");
  j = valid_sidecar();
  j["schema_version"] = 1e300;  // json::get<int> would convert it with undefined behaviour
  refuses(j.dump(), "field 'schema_version' has the wrong type or range (1e+300)");
  j = valid_sidecar();
  j["parts"][1]["bytes"] = -1e300;
  refuses(j.dump(), "field 'bytes' has the wrong type or range");
  j = valid_sidecar();
  j["model"]["input_shape"] = {1, 100000, 100000, 100000};  // verify would draw inputs of it
  refuses(j.dump(), "model.input_shape 1x100000x100000x100000 is not a shape of positive sizes");
  j["model"]["input_shape"] = {1, -3};
  refuses(j.dump(), "model.input_shape 1x-3");
}
