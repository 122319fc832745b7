#include <algorithm>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "partplan/common/error.hpp"
#include "partplan/model/model.hpp"
#include "tiny_models.hpp"

using namespace partplan;
using partplan::testing::temp_dir;

namespace {

std::string saved_tiny_net(const std::string& dir, const std::string& shape = "[1, 2, 8, 8]") {
  const std::string path = dir + "/tiny.pt";
  partplan::testing::save_tiny_net(path, shape);
  return path;
}

std::vector<std::string> names(const std::vector<model::CutPoint>& cuts) {
  std::vector<std::string> out;
  for (const auto& c : cuts) out.push_back(c.name);
  return out;
}

}  // namespace

TEST_CASE("straight chain with a residual block has exactly the expected cuts", "[model]") {
  const auto dir = temp_dir("cuts");
  auto m = model::Model::load(saved_tiny_net(dir));
  const auto& s = m.summary();
  CHECK(names(s.cuts) == std::vector<std::string>{"stem", "body:conv2d", "body", "res", "head:flatten"});
  std::vector<bool> block;
  for (const auto& c : s.cuts) block.push_back(c.is_block);
  CHECK(block == std::vector<bool>{true, false, true, true, false});
  CHECK(s.input_shape_source == "archive");
  CHECK(s.output_shape == common::Shape{1, 3});
}

TEST_CASE("no cut inside a residual block", "[model]") {
  const auto dir = temp_dir("res");
  auto m = model::Model::load(saved_tiny_net(dir));
  for (const auto& c : m.summary().cuts) {
    // The block's conv and relu run while its input is still live for the skip connection.
    const bool inside_res = c.scope == "res" && c.op != "aten::add";
    CHECK_FALSE(inside_res);
  }
  const auto& res = model::find_cut(m.summary(), "res");
  CHECK(res.op == "aten::add");
}

TEST_CASE("shapes, bytes, FLOPs and weights of the front part are exact for conv and linear", "[model]") {
  const auto dir = temp_dir("flops");
  auto m = model::Model::load(saved_tiny_net(dir));
  const auto& stem = model::find_cut(m.summary(), "stem");
  CHECK(stem.shape == common::Shape{1, 4, 8, 8});
  CHECK(stem.activation_bytes == 4 * 8 * 8 * 4);
  // 2 FLOPs per multiply-add: out elements (4*8*8) x (2 in-channels x 3 x 3).
  CHECK(stem.front_flops == Approx(2.0 * 256 * 18));
  CHECK(stem.front_flops_approx == 0);
  CHECK(stem.front_param_bytes == (4 * 2 * 9 + 4) * 4);
  const auto& flat = model::find_cut(m.summary(), "head:flatten");
  CHECK(flat.shape == common::Shape{1, 256});
  // Weights of every layer before the head: stem (72+4) + body (144) + res (144) floats.
  CHECK(flat.front_param_bytes == (76 + 144 + 144) * 4);
  CHECK(m.summary().total_param_bytes == (76 + 144 + 144 + 768 + 3) * 4);
  CHECK(flat.front_flops > stem.front_flops);
  CHECK(flat.front_flops_approx > 0);  // relu and add are estimated
}

TEST_CASE("a transposed convolution's FLOPs scale with its input (flag read by name)", "[model]") {
  const auto dir = temp_dir("convt");
  partplan::testing::save_transposed_conv_net(dir + "/convt.pt");
  auto m = model::Model::load(dir + "/convt.pt");
  const auto& cuts = m.summary().cuts;
  const auto it = std::find_if(cuts.begin(), cuts.end(), [](const auto& c) { return c.op == "aten::_convolution"; });
  REQUIRE(it != cuts.end());
  CHECK(it->shape == common::Shape{1, 2, 9, 9});
  // 2 x input elements (4*4*4) x (2 x 3 x 3) = 2304; counted as a plain convolution it would be
  // 2 x output elements (2*9*9) x (2 x 3 x 3) = 5832.
  CHECK(it->front_flops == Approx(2.0 * 64 * 18));
}

TEST_CASE("per-sample bytes do not depend on the probe batch", "[model]") {
  const auto dir = temp_dir("batch");
  model::LoadOptions lo;
  lo.input_shape = common::Shape{5, 2, 8, 8};
  auto m = model::Model::load(saved_tiny_net(dir), lo);
  CHECK(m.summary().input_shape_source == "flag");
  const auto& stem = model::find_cut(m.summary(), "stem");
  CHECK(stem.shape == common::Shape{5, 4, 8, 8});
  CHECK(stem.activation_bytes == 4 * 8 * 8 * 4);
  CHECK(stem.front_flops == Approx(2.0 * 256 * 18));
}

TEST_CASE("cut selection by spec, id, name, exited module", "[model]") {
  const auto dir = temp_dir("select");
  auto m = model::Model::load(saved_tiny_net(dir));
  const auto& s = m.summary();
  CHECK(model::select_cuts(s, "all").size() == 5);
  CHECK(names(model::select_cuts(s, "blocks")) == std::vector<std::string>{"stem", "body", "res"});
  CHECK(names(model::select_cuts(s, "res,0,stem")) == std::vector<std::string>{"stem", "res"});
  CHECK(model::find_cut(s, "3").name == "res");
  CHECK_THROWS_AS(model::find_cut(s, "nope"), UsageError);
  CHECK_THROWS_WITH(model::find_cut(s, "nope"), Catch::Contains("valid: stem, body:conv2d"));
  CHECK_THROWS_AS(model::find_cut(s, "99"), UsageError);
  CHECK_THROWS_AS(model::select_cuts(s, "stem,,res"), UsageError);
}

TEST_CASE("input shape is inferred from a first linear layer, and asked for otherwise", "[model]") {
  const auto dir = temp_dir("infer");
  partplan::testing::save_mlp(dir + "/mlp.pt");
  auto m = model::Model::load(dir + "/mlp.pt");
  CHECK(m.summary().input_shape == common::Shape{1, 5});
  CHECK(m.summary().input_shape_source == "inferred");
  CHECK(m.summary().cuts.size() == 2);  // after linear 1 and after relu

  partplan::testing::save_tiny_net(dir + "/noshape.pt", "");
  CHECK_THROWS_WITH(model::Model::load(dir + "/noshape.pt"), Catch::Contains("--input-shape 1,2,H,W"));
}

TEST_CASE("bad models are refused with a one-line reason", "[model]") {
  const auto dir = temp_dir("bad");
  CHECK_THROWS_AS(model::Model::load(dir + "/missing.pt"), IoError);

  { std::ofstream(dir + "/text.pt") << "this is not a zip archive"; }
  CHECK_THROWS_WITH(model::Model::load(dir + "/text.pt"), Catch::Contains("not a TorchScript archive"));

  const std::string good = saved_tiny_net(dir);
  {
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(dir + "/truncated.pt", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  CHECK_THROWS_AS(model::Model::load(dir + "/truncated.pt"), ModelError);

  partplan::testing::save_two_input(dir + "/two.pt");
  CHECK_THROWS_WITH(model::Model::load(dir + "/two.pt"), Catch::Contains("takes 2 inputs"));

  partplan::testing::save_tuple_output(dir + "/tuple.pt");
  CHECK_THROWS_WITH(model::Model::load(dir + "/tuple.pt"), Catch::Contains("returns (Tensor, Tensor)"));

  model::LoadOptions lo;
  lo.input_shape = common::Shape{1, 3, 8, 8};  // TinyNet takes 2 channels
  CHECK_THROWS_AS(model::Model::load(good, lo), UsageError);
  CHECK_THROWS_WITH(model::Model::load(good, lo), Catch::Contains("rejects input shape 1x3x8x8"));
}

TEST_CASE("shape parsing", "[model]") {
  CHECK(common::parse_shape("1,3,224,224") == common::Shape{1, 3, 224, 224});
  CHECK(common::parse_shape("2x1x28x28") == common::Shape{2, 1, 28, 28});
  CHECK_THROWS_AS(common::parse_shape("1,3,,4"), UsageError);
  CHECK_THROWS_AS(common::parse_shape("1,-3"), UsageError);
  CHECK_THROWS_AS(common::parse_shape("7"), UsageError);
}

TEST_CASE("a forward with a raising guard (scripted transformers) is inspected", "[model]") {
  const auto dir = temp_dir("guarded");
  const std::string path = dir + "/guarded.pt";
  partplan::testing::save_guarded_net(path);
  auto m = model::Model::load(path);  // threw "Expected Tensor but got Uninitialized" before
  const auto& s = m.summary();
  CHECK(s.output_shape == common::Shape{1, 10});
  REQUIRE_FALSE(s.cuts.empty());
  for (const auto& c : s.cuts) CHECK(c.shape.size() >= 2);  // only real tensors are cuts
}
