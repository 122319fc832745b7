// partplan's own CUDA code, compiled only in a CUDA build (CMake's CUDA language, sm_90 SASS
// plus compute_90 PTX; CMakeLists.txt). It proves on a GPU machine that the binary's embedded
// device code loads there: a GPU that can run neither the SASS nor JIT the PTX fails here with
// CUDA's own reason (for example "no kernel image is available for execution on the device").
#include <cuda_runtime.h>

#include <string>

#include "partplan/model/model.hpp"

namespace partplan::model {
namespace {

__global__ void write_answer(int* out) { *out = 42; }

std::string cuda_text(cudaError_t e) { return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e); }

}  // namespace

std::string cuda_kernel_probe(int device) {
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess) return "no GPU visible (" + cuda_text(e) + ")";
  if (device < 0 || device >= count) return "GPU " + std::to_string(device) + " not visible (" + std::to_string(count) + " visible)";
  if (cudaError_t e = cudaSetDevice(device); e != cudaSuccess) return cuda_text(e);
  int* answer = nullptr;
  if (cudaError_t e = cudaMalloc(&answer, sizeof(int)); e != cudaSuccess) return cuda_text(e);
  write_answer<<<1, 1>>>(answer);
  cudaError_t e = cudaGetLastError();
  int host = 0;
  if (e == cudaSuccess) e = cudaMemcpy(&host, answer, sizeof(int), cudaMemcpyDeviceToHost);
  cudaFree(answer);
  if (e != cudaSuccess) return cuda_text(e);
  return host == 42 ? "" : "the probe kernel ran but wrote " + std::to_string(host) + ", not 42";
}

}  // namespace partplan::model
