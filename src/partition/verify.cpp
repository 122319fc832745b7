// Verifies an exported partition: hashes first (integrity), then the composed parts
// against the original model on random inputs (numerics).
#include <torch/script.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "partplan/common/error.hpp"
#include "partplan/common/hash.hpp"
#include "partplan/partition/partition.hpp"
#include "src/partition/load_part.hpp"

namespace fs = std::filesystem;

namespace partplan::partition {
namespace {

void check_hash(const std::string& path, const std::string& expected, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw IoError(
        fmt::format("{} '{}' not found: re-run partplan split, or keep the files next to partition.json", what, path));
  const std::string got = common::sha256_file(path);
  if (got != expected)
    throw IntegrityError(
        fmt::format("{} '{}' does not match its recorded SHA-256 (expected {}..., got {}...): it changed after "
                    "the split; re-run partplan split",
                    what, path, expected.substr(0, 12), got.substr(0, 12)));
}

torch::jit::Module load_part(const std::string& path) {
  try {
    auto m = torch::jit::load(path, torch::kCPU);
    m.eval();
    return m;
  } catch (const std::exception& e) {
    throw ModelError("cannot load '" + path + "': " + first_line(e.what()));
  }
}

/// A part as an enclave runtime loads it (load_part.hpp).
torch::jit::Module load_enclave_part(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "': check that it exists and is readable");
  return load_enclave_module(in, path);
}

}  // namespace

VerifyResult verify_partition(const PartitionManifest& m, const std::string& base_dir, const VerifyOptions& opt) {
  if (opt.samples < 1) throw UsageError(fmt::format("--samples {} must be at least 1", opt.samples));
  if (!(opt.tolerance >= 0)) throw UsageError(fmt::format("--tolerance {} must be >= 0", opt.tolerance));
  VerifyResult r;
  std::vector<std::string> part_paths;
  for (const auto& p : m.parts) {
    const std::string path = (fs::path(base_dir) / p.file).string();
    check_hash(path, p.sha256, "part");
    part_paths.push_back(path);
    r.files_checked.push_back(path);
  }
  check_hash(m.model_path, m.model_sha256, "source model");
  r.files_checked.push_back(m.model_path);

  torch::NoGradGuard no_grad;
  torch::manual_seed(opt.seed);
  common::Shape shape = m.input_shape;
  shape[0] = opt.samples;
  at::Tensor x = torch::rand(shape);

  auto original = load_part(m.model_path);
  at::Tensor ref;
  try {
    ref = original.forward({x}).toTensor();
  } catch (const std::exception& e) {
    throw VerificationError(fmt::format("the source model '{}' failed to run on input {}: {}", m.model_path,
                                        common::format_shape(shape), first_line(e.what())));
  }
  at::Tensor y = x;
  for (size_t i = 0; i < part_paths.size(); ++i) {
    auto part = load_enclave_part(part_paths[i]);  // every part is written from a CPU copy
    try {
      y = part.forward({y}).toTensor();
    } catch (const std::exception& e) {
      throw VerificationError(fmt::format("part '{}' failed to run: {}", m.parts[i].file, first_line(e.what())));
    }
    const auto& want = m.parts[i].output_shape;
    bool same = y.dim() == static_cast<int64_t>(want.size());
    for (int64_t d = 1; same && d < y.dim(); ++d) same = y.size(d) == want[static_cast<size_t>(d)];
    if (!same)
      throw VerificationError(fmt::format("part '{}' output shape {} differs from the recorded {}", m.parts[i].file,
                                          common::format_shape(common::Shape(y.sizes().begin(), y.sizes().end())),
                                          common::format_shape(want)));
  }
  if (!y.sizes().equals(ref.sizes()))
    throw VerificationError("composed parts output shape differs from the original model's");
  r.samples = opt.samples;
  r.bit_exact = torch::equal(y, ref);
  r.max_abs_error = (y - ref).abs().max().item<double>();
  const double scale = std::max(ref.abs().max().item<double>(), 1e-30);
  r.max_rel_error = r.max_abs_error / scale;
  r.passed = r.max_rel_error <= opt.tolerance;
  return r;
}

}  // namespace partplan::partition
