// GPU tests (label gpu; CUDA builds only, skipped with one line where no GPU is visible):
// the CUDA path computes what the CPU path computes, trains as strong an attacker, makes no
// host round trip in a training step, and exports parts a CPU enclave loads plainly.
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "attacks/adam.hpp"
#include "partplan/attacks/attacker.hpp"
#include "partplan/attacks/trainer.hpp"
#include "partplan/data/dataset.hpp"
#include "partplan/data/preprocess.hpp"
#include "partplan/metrics/psnr.hpp"
#include "partplan/metrics/ssim.hpp"
#include "partplan/model/device.hpp"
#include "partplan/model/model.hpp"
#include "partplan/partition/extractor.hpp"
#include "partplan/pipeline/assess.hpp"
#include "tests/cli/run_cli.hpp"
#include "tests/tiny_models.hpp"

using namespace partplan;
namespace fs = std::filesystem;

namespace partplan::testing {
std::string gpu_missing() {
  if (!torch::cuda::is_available()) return "no GPU visible to LibTorch (torch::cuda::is_available() is false)";
  return "";
}
}  // namespace partplan::testing

namespace {

const std::string kGpu = "cuda:0";

std::string tiny_mnist(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("partplan-gpu-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto path = (dir / "tiny_mnist.pt").string();
  partplan::testing::save_tiny_mnist_net(path);
  return path;
}

double rel_error(const at::Tensor& a, const at::Tensor& b) {
  return ((a.cpu().to(torch::kDouble) - b.cpu().to(torch::kDouble)).abs().max() /
          b.cpu().to(torch::kDouble).abs().max().clamp_min(1e-30))
      .item<double>();
}

struct Pairs {
  at::Tensor train, val, eval;  // [N,1,28,28] in [0,1], CPU
};

Pairs fashion() {
  data::LoadOptions lo;
  lo.max_samples = 1400;
  lo.seed = 5;
  auto unit = data::to_unit(data::load("builtin:fashion-mnist:test", lo).samples);
  return {unit.narrow(0, 0, 1000), unit.narrow(0, 1000, 150), unit.narrow(0, 1150, 250)};
}

}  // namespace

TEST_CASE("SSIM and PSNR on CUDA equal the CPU's within 1e-5", "[gpu]") {
  model::configure_numerics(kGpu, /*deterministic=*/false);  // as an assessment runs: TF32 on
  torch::manual_seed(1);
  const auto x = torch::rand({16, 3, 64, 64});
  const auto y = (x + 0.1 * torch::randn_like(x)).clamp(0, 1);
  const auto s_cpu = metrics::ssim(x, y), s_gpu = metrics::ssim(x.to(kGpu), y.to(kGpu));
  CHECK(s_gpu.device().is_cuda());
  CHECK((s_cpu - s_gpu.cpu()).abs().max().item<double>() < 1e-5);
  const auto p_cpu = metrics::psnr(x, y).psnr_db, p_gpu = metrics::psnr(x.to(kGpu), y.to(kGpu)).psnr_db;
  CHECK((p_cpu - p_gpu.cpu()).abs().max().item<double>() < 1e-5);
}

TEST_CASE("the extractor's cut tensors on CUDA equal the CPU's", "[gpu]") {
  model::configure_numerics(kGpu, /*deterministic=*/true);  // TF32 off: float32 against float32
  const auto path = tiny_mnist("extractor");
  model::LoadOptions on_gpu;
  on_gpu.device = kGpu;
  const auto cpu = model::Model::load(path), gpu = model::Model::load(path, on_gpu);
  std::vector<int> ids;
  for (const auto& c : cpu.summary().cuts) ids.push_back(c.id);
  torch::manual_seed(2);
  const auto x = torch::rand({8, 1, 28, 28});
  const auto a = partition::FeatureExtractor(cpu, ids)(x);
  const auto b = partition::FeatureExtractor(gpu, ids)(x.to(kGpu));
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("cut " << ids[i]);
    CHECK(b[i].device().is_cuda());
    CHECK(rel_error(b[i], a[i]) < 1e-5);
  }
  model::configure_numerics(kGpu, /*deterministic=*/false);
}

TEST_CASE("an attacker trained on CUDA reaches the CPU's SSIM band", "[gpu]") {
  const auto d = fashion();
  torch::manual_seed(0);
  const auto w = torch::randn({8, 1, 3, 3}) * 0.5;
  auto feat = [&](const at::Tensor& x) { return torch::relu(torch::conv2d(x, w.to(x.device()), {}, 1, 1)); };
  attacks::TrainBudget b;
  b.steps = 200;
  b.batch_size = 32;
  b.eval_every = 50;
  b.patience = 0;
  auto score = [&](const std::string& device) {
    const auto tr = d.train.to(device), va = d.val.to(device), ev = d.eval.to(device);
    attacks::AttackerSpec s;
    s.feature_shape = {8, 28, 28};
    s.image_shape = {1, 28, 28};
    s.feature_stats = attacks::feature_stats(feat(tr));
    s.device = device;
    s.seed = 1;
    s.cgan.width = 64;
    s.cgan.disc_width = 32;
    auto a = attacks::create_attacker("cgan", s);
    attacks::train_on_pairs(*a, {feat(tr), tr}, {feat(va), va}, b, /*seed=*/3);
    return metrics::ssim(a->reconstruct(feat(ev)), ev).mean().item<double>();
  };
  const double cpu = score("cpu"), gpu = score(kGpu);
  INFO("eval SSIM: CPU " << cpu << ", CUDA " << gpu);
  CHECK(gpu > 0.85);  // the CPU test's bar (tests/attacks)
  CHECK(std::abs(gpu - cpu) < 0.03);
}

TEST_CASE("the sync counter sees a host round trip", "[gpu]") {
  model::SyncCounter syncs(kGpu);
  REQUIRE(syncs.active());
  const auto t = torch::rand({4}, torch::TensorOptions().device(kGpu));
  (void)t.sum().item<double>();  // a device-to-host copy
  CHECK(syncs.count() >= 1);
  syncs.pause(true);
  const auto before = syncs.count();
  (void)t.sum().item<double>();
  CHECK(syncs.count() == before);
}

TEST_CASE("attacker steps on CUDA make no host round trip", "[gpu]") {
  const auto d = fashion();
  const auto images = d.train.narrow(0, 0, 32).to(kGpu);
  const auto w = torch::randn({8, 1, 3, 3}, torch::TensorOptions().device(kGpu));
  const auto f = torch::relu(torch::conv2d(images, w, {}, 1, 1));
  for (const std::string name : {"cgan", "inverse"}) {
    attacks::AttackerSpec s;
    s.feature_shape = {8, 28, 28};
    s.image_shape = {1, 28, 28};
    s.feature_stats = attacks::feature_stats(f);
    s.device = kGpu;
    auto a = attacks::create_attacker(name, s);
    a->step(f, images);  // the first step allocates; it may initialise lazily
    torch::cuda::synchronize();
    model::SyncCounter syncs(kGpu);
    std::vector<at::Tensor> losses;
    for (int i = 0; i < 5; ++i) losses.push_back(a->step(f, images));
    INFO(name);
    CHECK(syncs.count() == 0);
    CHECK(losses.back().device().is_cuda());
  }
}

TEST_CASE("an assessment on CUDA makes no host round trip in its training steps", "[gpu]") {
  const auto path = tiny_mnist("assess");
  model::LoadOptions lo;
  lo.device = kGpu;
  const auto m = model::Model::load(path, lo);
  auto o = pipeline::options_from_settings(pipeline::default_settings());
  o.device = kGpu;
  o.data.source = "builtin:fashion-mnist:test";
  o.data.attacker_train = 300;
  o.data.attacker_val = 40;
  o.data.eval = 60;
  o.budget.steps = 40;
  o.budget.eval_every = 20;
  o.cgan.width = 32;
  o.cgan.disc_width = 16;
  o.cuts_spec = "all";
  o.attacks = {"cgan", "inverse"};
  const auto r = pipeline::assess(m, o, nullptr);
  CHECK(r.train_step_syncs == 0);
  CHECK(r.timed_on == "cpu");
  CHECK(r.untrusted_timed_on == kGpu);
  CHECK_FALSE(r.gpu_speedup_applied);
  REQUIRE_FALSE(r.cuts.empty());
  CHECK(r.cuts.front().leak > 0.5);  // the first cut leaks on CUDA as on the CPU
}

TEST_CASE("assess --device cuda --export writes CPU parts and a plan that records cuda:0", "[gpu]") {
  const auto path = tiny_mnist("export");
  const auto dir = fs::path(path).parent_path();
  const auto r = partplan::testing::run_cli(
      {"-q", "assess", path, "--device", "cuda", "--data", "builtin:fashion-mnist:test", "--steps", "20", "--set",
       "data.attacker_train=300", "--set", "data.attacker_val=40", "--set", "data.eval=60", "--set",
       "budget.eval_every=10", "--set", "cgan.width=32", "--set", "cgan.disc_width=16", "--attack", "cgan",
       "--threshold", "1", "-o", (dir / "plan.json").string(), "--export", (dir / "parts").string()});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  std::ifstream in(dir / "plan.json");
  const auto plan = nlohmann::json::parse(in);
  CHECK(plan["device"] == kGpu);
  CHECK(plan["cost_model"]["timed_on"] == "cpu");
  CHECK(plan["cost_model"]["untrusted_timed_on"] == kGpu);
  // The front as a CPU enclave runtime loads it: no map location, every tensor on the CPU.
  auto front = torch::jit::load((dir / "parts" / "front.pt").string());
  for (const auto& p : front.parameters()) CHECK(p.device().is_cpu());
  const auto y = front.forward({torch::rand({2, 1, 28, 28})}).toTensor();
  CHECK(y.device().is_cpu());
  CHECK(y.size(0) == 2);
}

TEST_CASE("assess --deterministic on CUDA runs through the attackers' resizes", "[gpu]") {
  // Deterministic algorithms with warn_only=false throw on the first operation that has no
  // deterministic CUDA kernel, the bilinear resize's backward in every attacker here.
  const auto path = tiny_mnist("deterministic");
  const auto dir = fs::path(path).parent_path();
  const auto r = partplan::testing::run_cli(
      {"-q", "assess", path, "--device", "cuda", "--deterministic", "--data", "builtin:fashion-mnist:test", "--steps",
       "20", "--set", "data.attacker_train=300", "--set", "data.attacker_val=40", "--set", "data.eval=60", "--set",
       "budget.eval_every=10", "--set", "cgan.width=32", "--set", "cgan.disc_width=16", "--attack", "cgan,whitebox",
       "--set", "whitebox.images=8", "--set", "whitebox.iterations=20", "-o", (dir / "plan.json").string()});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  std::ifstream in(dir / "plan.json");
  const auto plan = nlohmann::json::parse(in);
  CHECK(plan["config"]["deterministic"] == true);
  CHECK(plan["cuts"].size() >= 2);
}

TEST_CASE("fused Adam on CUDA steps as torch::optim::Adam does", "[gpu]") {
  torch::manual_seed(3);
  auto a = torch::randn({64, 32}, torch::Device(kGpu)).requires_grad_();
  auto b = a.detach().clone().requires_grad_();
  const auto start = a.detach().clone();
  attacks::Adam fused({a}, 2e-4, 0.5, 0.999, /*fused=*/true);
  attacks::Adam plain({b}, 2e-4, 0.5, 0.999, /*fused=*/false);
  CHECK(fused.fused());  // torch 2.x has aten::_fused_adam_
  CHECK_FALSE(plain.fused());
  for (int i = 0; i < 20; ++i) {
    const auto g = torch::randn_like(a);
    fused.zero_grad();
    plain.zero_grad();
    a.mutable_grad() = g.clone();
    b.mutable_grad() = g.clone();
    fused.step();
    plain.step();
  }
  CHECK((a.detach() - start).abs().max().item<double>() > 1e-3);  // 20 steps of 2e-4 moved it
  CHECK(rel_error(a.detach(), b.detach()) < 1e-6);
}
