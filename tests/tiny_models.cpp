#include "tiny_models.hpp"

#include <torch/script.h>

#include <cmath>
#include <filesystem>
#include <random>

namespace partplan::testing {
namespace {

using torch::jit::Module;

void save(Module& m, const std::string& path, const std::string& input_shape_json) {
  torch::jit::ExtraFilesMap extra;
  if (!input_shape_json.empty()) extra["partplan.json"] = "{\"input_shape\": " + input_shape_json + "}";
  m.save(path, extra);
}

}  // namespace

void save_tiny_net(const std::string& path, const std::string& input_shape_json, uint64_t seed) {
  torch::manual_seed(seed);
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  Module stem(c10::QualifiedName("__torch__.Stem"), cu, true);
  stem.register_parameter("w", torch::randn({4, 2, 3, 3}) * 0.3, false);
  stem.register_parameter("b", torch::randn({4}) * 0.1, false);
  stem.define("def forward(self, x):\n    return torch.conv2d(x, self.w, self.b, [1, 1], [1, 1])\n");

  Module body(c10::QualifiedName("__torch__.Body"), cu, true);
  body.register_parameter("w", torch::randn({4, 4, 3, 3}) * 0.3, false);
  body.define("def forward(self, x):\n    return torch.relu(torch.conv2d(x, self.w, None, [1, 1], [1, 1]))\n");

  Module res(c10::QualifiedName("__torch__.Res"), cu, true);
  res.register_parameter("w", torch::randn({4, 4, 3, 3}) * 0.3, false);
  res.define(
      "def forward(self, x):\n    y = torch.relu(torch.conv2d(x, self.w, None, [1, 1], [1, 1]))\n    return y + x\n");

  Module head(c10::QualifiedName("__torch__.Head"), cu, true);
  head.register_parameter("w", torch::randn({3, 256}) * 0.05, false);
  head.register_parameter("b", torch::zeros({3}), false);
  head.define("def forward(self, x):\n    return torch.linear(torch.flatten(x, 1), self.w, self.b)\n");

  Module net(c10::QualifiedName("__torch__.TinyNet"), cu, true);
  net.register_module("stem", stem);
  net.register_module("body", body);
  net.register_module("res", res);
  net.register_module("head", head);
  net.define(
      "def forward(self, x):\n    x = self.stem.forward(x)\n    x = self.body.forward(x)\n    x = self.res.forward(x)\n"
      "    return self.head.forward(x)\n");
  net.eval();
  save(net, path, input_shape_json);
}

void save_tiny_mnist_net(const std::string& path) {
  torch::manual_seed(11);
  Module m(c10::QualifiedName("__torch__.TinyMnist"));
  m.register_parameter("w1", torch::randn({8, 1, 3, 3}) * 0.4, false);
  m.register_parameter("b1", torch::zeros({8}), false);
  m.register_parameter("w2", torch::randn({10, 1568}) * 0.03, false);
  m.define(
      "def forward(self, x):\n"
      "    y = torch.relu(torch.conv2d(x, self.w1, self.b1, [1, 1], [1, 1]))\n"
      "    y = torch.max_pool2d(y, [2, 2])\n"
      "    return torch.linear(torch.flatten(y, 1), self.w2, None)\n");
  save(m, path, "[1, 1, 28, 28]");
}

void save_guarded_net(const std::string& path) {
  torch::manual_seed(12);
  Module m(c10::QualifiedName("__torch__.Guarded"));
  m.register_parameter("w1", torch::randn({4, 1, 3, 3}) * 0.4, false);
  m.register_parameter("w2", torch::randn({10, 4 * 64}) * 0.05, false);
  // A value set in one branch while the other raises: TorchScript gives the raising branch a
  // top-level prim::Uninitialized for it, as in nn.TransformerEncoder's scripted forward.
  m.define(
      "def forward(self, x):\n"
      "    if x.dim() == 4:\n"
      "        y = torch.relu(torch.conv2d(x, self.w1, None, [1, 1], [1, 1]))\n"
      "    else:\n"
      "        assert False, 'expected a 4-D input'\n"
      "    z = torch.relu(y)\n"
      "    return torch.linear(torch.flatten(z, 1), self.w2, None)\n");
  save(m, path, "[1, 1, 8, 8]");
}

void save_transposed_conv_net(const std::string& path) {
  torch::manual_seed(13);
  Module m(c10::QualifiedName("__torch__.ConvT"));
  m.register_parameter("w", torch::randn({4, 2, 3, 3}) * 0.3, false);  // [in, out, k, k]: transposed
  // The op a traced ConvTranspose2d records: _convolution with transposed = True (argument 6).
  m.define(
      "def forward(self, x):\n"
      "    y = torch._convolution(x, self.w, None, [2, 2], [0, 0], [1, 1], True, [0, 0], 1, False, False, True, True)\n"
      "    return torch.relu(y)\n");
  save(m, path, "[1, 4, 4, 4]");
}

void save_mlp(const std::string& path) {
  torch::manual_seed(1);
  Module m(c10::QualifiedName("__torch__.Mlp"));
  m.register_parameter("w1", torch::randn({8, 5}), false);
  m.register_parameter("w2", torch::randn({2, 8}), false);
  m.define(
      "def forward(self, x):\n    return torch.linear(torch.relu(torch.linear(x, self.w1, None)), self.w2, None)\n");
  save(m, path, "");
}

void save_record_mlp(const std::string& path, int64_t features) {
  torch::manual_seed(2);
  Module m(c10::QualifiedName("__torch__.RecordMlp"));
  m.register_parameter("w1", torch::randn({64, features}) / std::sqrt(static_cast<double>(features)), false);
  m.register_parameter("b1", torch::zeros({64}), false);
  m.register_parameter("w2", torch::randn({16, 64}) / 8.0, false);
  m.register_parameter("w3", torch::randn({2, 16}) / 4.0, false);
  m.define(
      "def forward(self, x):\n"
      "    h = torch.relu(torch.linear(x, self.w1, self.b1))\n"
      "    return torch.linear(torch.relu(torch.linear(h, self.w2, None)), self.w3, None)\n");
  save(m, path, "[1, " + std::to_string(features) + "]");
}

void save_two_input(const std::string& path) {
  Module m(c10::QualifiedName("__torch__.TwoIn"));
  m.define("def forward(self, x, y):\n    return x + y\n");
  save(m, path, "[1, 3]");
}

void save_tuple_output(const std::string& path) {
  Module m(c10::QualifiedName("__torch__.TupleOut"));
  m.define("def forward(self, x):\n    return (torch.relu(x), x)\n");
  save(m, path, "[1, 3]");
}

std::string temp_dir(const std::string& tag) {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("partplan-test-" + tag + "-" + std::to_string(rd()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace partplan::testing
