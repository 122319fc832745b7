// Parts as deployments load them: the bytes are read once and hashed, and torch parses only
// bytes whose hash matched (no window between the check and the load). An enclave part is
// loaded plainly and must hold every tensor on the CPU; an untrusted part is mapped onto its
// device.
#include "partplan/partition/part.hpp"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/script.h>

#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/hash.hpp"
#include "partplan/common/shape.hpp"
#include "src/partition/load_part.hpp"

namespace partplan::partition {
namespace {

/// The first tensor of `m` (parameter, buffer, or a constant of its forward graph) that is not
/// on the CPU, as "name on device", or "".
std::string first_off_cpu(const torch::jit::Module& m) {
  for (const auto& p : m.named_parameters(/*recurse=*/true))
    if (!p.value.device().is_cpu()) return p.name + " on " + p.value.device().str();
  for (const auto& b : m.named_buffers(/*recurse=*/true))
    if (!b.value.device().is_cpu()) return b.name + " on " + b.value.device().str();
  for (const auto* node : m.get_method("forward").graph()->nodes()) {
    if (node->kind() != c10::prim::Constant || node->outputs().size() != 1) continue;
    const auto v = torch::jit::toIValue(node->output());
    if (v && v->isTensor() && !v->toTensor().device().is_cpu())
      return "a constant of its graph on " + v->toTensor().device().str();
  }
  return "";
}

}  // namespace

torch::jit::Module load_enclave_module(std::istream& in, const std::string& path) {
  torch::jit::Module m;
  try {
    m = torch::jit::load(in);
  } catch (const std::exception& e) {
    const std::string what = first_line(e.what());
    if (what.find("CUDA") != std::string::npos)
      throw VerificationError("'" + path + "' holds CUDA tensors, so a CPU enclave runtime cannot load it (" + what +
                              "): re-export it with this partplan (parts are written from a CPU copy)");
    throw ModelError("cannot load '" + path + "': " + what);
  }
  if (const auto where = first_off_cpu(m); !where.empty())
    throw VerificationError("'" + path + "' holds a tensor off the CPU (" + where +
                            "), so a CPU enclave runtime cannot load it plainly: re-export it with this partplan");
  m.eval();
  return m;
}

struct Part::Impl {
  std::string path;
  torch::jit::Module module;
  torch::Device device{torch::kCPU};
};

Part::Part(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Part::Part(Part&&) noexcept = default;
Part& Part::operator=(Part&&) noexcept = default;
Part::~Part() = default;
const std::string& Part::path() const { return impl_->path; }

Part Part::load(const std::string& path, const std::string& sha256, const std::string& device) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw IoError(fmt::format("part '{}' not found: keep the exported parts where the plan names them, or re-run "
                              "partplan assess with --export DIR",
                              path));
  const std::string bytes = common::read_file(path);
  const std::string got = common::sha256_bytes(bytes);
  if (got != sha256)
    throw IntegrityError(fmt::format("part '{}' does not match the plan's SHA-256 (plan {}, file {}): it changed after "
                                     "the export; nothing was run (exit {})",
                                     path, sha256, got, static_cast<int>(kExitIntegrity)));
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  std::istringstream in(bytes);
  if (device == "cpu") {
    impl->module = load_enclave_module(in, path);
  } else {
    try {
      impl->device = torch::Device(device);
      impl->module = torch::jit::load(in, impl->device);
      impl->module.eval();
    } catch (const std::exception& e) {
      throw ModelError(fmt::format("cannot load '{}' onto {}: {}", path, device, first_line(e.what())));
    }
  }
  return Part(std::move(impl));
}

at::Tensor Part::forward(const at::Tensor& input) const {
  torch::NoGradGuard no_grad;
  try {
    auto x = input.device() == impl_->device ? input : input.to(impl_->device);
    auto y = impl_->module.forward({x}).toTensor();
    return y.to(torch::kCPU, torch::kFloat32).contiguous();
  } catch (const std::exception& e) {
    throw ModelError(fmt::format("part '{}' failed on input {}: {}", impl_->path,
                                 common::format_shape(common::Shape(input.sizes().begin(), input.sizes().end())),
                                 first_line(e.what())));
  }
}

}  // namespace partplan::partition
