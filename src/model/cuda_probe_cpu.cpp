// The CPU build's stand-in for cuda_probe.cu: there is no device code to probe.
#include <string>

#include "partplan/model/model.hpp"

namespace partplan::model {
std::string cuda_kernel_probe(int /*device*/) { return "not a CUDA build"; }
}  // namespace partplan::model
