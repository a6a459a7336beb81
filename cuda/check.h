// dtutmo CUDA -- error checks that turn CUDA and cuFFT failures into strings.
//
// Every CUDA runtime and cuFFT call in cuda/ goes through one of these. Functions that
// can fail return `std::string` (empty = success), so a launcher's caller can append
// context and hand the message up to Engine::process() without exceptions.
//
//   DTUTMO_CUDA_TRY(cudaMemsetAsync(...));     // returns the message from the function
//   DTUTMO_CUFFT_TRY(cufftExecR2C(...));
//   DTUTMO_LAUNCH_CHECK("decode");             // after a <<<>>> launch
#pragma once

#include <cuda_runtime.h>
#include <cufft.h>

#include <string>

namespace dtutmo {
namespace cuda {

inline const char* cufft_error_name(cufftResult r) {
  switch (r) {
    case CUFFT_SUCCESS: return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN: return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED: return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE: return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE: return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR: return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED: return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED: return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE: return "CUFFT_INVALID_SIZE";
    case CUFFT_INCOMPLETE_PARAMETER_LIST: return "CUFFT_INCOMPLETE_PARAMETER_LIST";
    case CUFFT_INVALID_DEVICE: return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE: return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED: return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED: return "CUFFT_NOT_SUPPORTED";
    default: return "cuFFT error";
  }
}

inline std::string cuda_error_string(cudaError_t e, const char* what, const char* file, int line) {
  return std::string(what) + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
         ") at " + file + ":" + std::to_string(line);
}

inline std::string cufft_error_string(cufftResult r, const char* what, const char* file, int line) {
  return std::string(what) + " failed: " + cufft_error_name(r) + " at " + file + ":" +
         std::to_string(line);
}

}  // namespace cuda
}  // namespace dtutmo

// Evaluate a cudaError_t expression; on failure return its message (function returns
// std::string).
#define DTUTMO_CUDA_TRY(expr)                                                              \
  do {                                                                                     \
    const cudaError_t dtutmo_e_ = (expr);                                                  \
    if (dtutmo_e_ != cudaSuccess)                                                          \
      return ::dtutmo::cuda::cuda_error_string(dtutmo_e_, #expr, __FILE__, __LINE__);      \
  } while (0)

// Evaluate a cufftResult expression; on failure return its message.
#define DTUTMO_CUFFT_TRY(expr)                                                             \
  do {                                                                                     \
    const cufftResult dtutmo_r_ = (expr);                                                  \
    if (dtutmo_r_ != CUFFT_SUCCESS)                                                        \
      return ::dtutmo::cuda::cufft_error_string(dtutmo_r_, #expr, __FILE__, __LINE__);     \
  } while (0)

// After a kernel launch: catches bad launch configurations (not asynchronous faults,
// which surface at the next synchronising call and are checked there).
#define DTUTMO_LAUNCH_CHECK(name)                                                          \
  do {                                                                                     \
    const cudaError_t dtutmo_e_ = cudaGetLastError();                                      \
    if (dtutmo_e_ != cudaSuccess)                                                          \
      return ::dtutmo::cuda::cuda_error_string(dtutmo_e_, "launch of " name, __FILE__,     \
                                                __LINE__);                                 \
  } while (0)

// Propagate the message of a call that returns std::string.
#define DTUTMO_TRY(expr)                                                                   \
  do {                                                                                     \
    std::string dtutmo_m_ = (expr);                                                        \
    if (!dtutmo_m_.empty()) return dtutmo_m_;                                              \
  } while (0)
