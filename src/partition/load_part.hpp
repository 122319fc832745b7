#pragma once
// Internal to partition: loading a part the way an enclave runtime does.
#include <torch/script.h>

#include <istream>
#include <string>

namespace partplan::partition {

/// Load TorchScript from `in` plainly, with no map location, and refuse a module holding any
/// tensor off the CPU (VerificationError naming `path`); ModelError when it cannot load.
torch::jit::Module load_enclave_module(std::istream& in, const std::string& path);

}  // namespace partplan::partition
