// The CUDA engine (placeholder until the kernels land): reports whether a device exists.
#include <cuda_runtime.h>

#include "dtutmo/engine.h"

namespace dtutmo {

bool cuda_engine_available(std::string* why) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    if (why) *why = std::string("no CUDA device: ") + (e != cudaSuccess ? cudaGetErrorString(e) : "none found");
    return false;
  }
  return true;
}

std::unique_ptr<Engine> create_cuda_engine(int, std::string* err) {
  if (!cuda_engine_available(err)) return nullptr;
  if (err) *err = "CUDA engine not implemented yet";
  return nullptr;
}

}  // namespace dtutmo
