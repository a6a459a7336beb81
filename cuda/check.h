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

// By value, so that it builds against every cuFFT version (names come and go).
inline const char* cufft_error_name(cufftResult r) {
  switch (static_cast<int>(r)) {
    case 0x0: return "CUFFT_SUCCESS";
    case 0x1: return "CUFFT_INVALID_PLAN";
    case 0x2: return "CUFFT_ALLOC_FAILED";
    case 0x3: return "CUFFT_INVALID_TYPE";
    case 0x4: return "CUFFT_INVALID_VALUE";
    case 0x5: return "CUFFT_INTERNAL_ERROR";
    case 0x6: return "CUFFT_EXEC_FAILED";
    case 0x7: return "CUFFT_SETUP_FAILED";
    case 0x8: return "CUFFT_INVALID_SIZE";
    case 0x9: return "CUFFT_UNALIGNED_DATA";
    case 0xA: return "CUFFT_INCOMPLETE_PARAMETER_LIST";
    case 0xB: return "CUFFT_INVALID_DEVICE";
    case 0xC: return "CUFFT_PARSE_ERROR";
    case 0xD: return "CUFFT_NO_WORKSPACE";
    case 0xE: return "CUFFT_NOT_IMPLEMENTED";
    case 0xF: return "CUFFT_LICENSE_ERROR";
    case 0x10: return "CUFFT_NOT_SUPPORTED";
    case 0x11: return "CUFFT_MISSING_DEPENDENCY";
    case 0x12: return "CUFFT_NVRTC_FAILURE";
    case 0x13: return "CUFFT_NVJITLINK_FAILURE";
    case 0x14: return "CUFFT_NVSHMEM_FAILURE";
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
