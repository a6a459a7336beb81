// dtutmo tests -- when a GPU test runs, skips or fails. Every GPU test (tests/cuda,
// tests/gst/test_cuda_memory.cpp) starts with DTUTMO_NEED_GPU():
//   - no CUDA device (CI): the test skips, with the runtime's reason;
//   - a CUDA device, or an NVIDIA GPU the kernel driver knows (/dev/nvidia0) while the
//     runtime finds none: the test runs, and a CUDA engine that cannot be created is a
//     FAILURE (a broken driver, a build without this GPU's architecture), never a skip;
//   - DTUTMO_REQUIRE_GPU=1 (scripts/gpu-check.sh): whatever would skip fails instead.
// Further needs of one test that are not the device (a GStreamer element, a tool) use
// DTUTMO_SKIP_OR_FAIL(why): a skip, or a failure under DTUTMO_REQUIRE_GPU=1.
// Header-only, plain C++ (included by g++ and nvcc test sources alike); the macros need
// <gtest/gtest.h>, the rest does not (cuda-has-device uses the gate without GoogleTest).
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "dtutmo/engine.h"

namespace dtutmo_test {

// DTUTMO_REQUIRE_GPU set to anything but "" or "0".
inline bool gpu_required() {
  const char* v = std::getenv("DTUTMO_REQUIRE_GPU");
  return v && *v && std::strcmp(v, "0") != 0;
}

// An NVIDIA GPU known to the kernel driver, whatever the CUDA runtime says.
inline bool nvidia_device_node() {
  struct stat st;
  return stat("/dev/nvidia0", &st) == 0;
}

struct GpuGate {
  enum Kind { kRun, kSkip, kFail };
  Kind kind = kSkip;
  std::string why;
};

// Decided once per process: creating the CUDA engine on device 0 is the test of "usable".
inline GpuGate decide_gpu_gate(bool engine_available, const std::string& unavailable_why,
                               const std::string& create_error, bool device_node,
                               bool required) {
  if (engine_available) {
    if (!create_error.empty())
      return {GpuGate::kFail,
              "a CUDA device is present but the CUDA engine cannot be created: " + create_error};
    return {GpuGate::kRun, ""};
  }
  if (device_node)
    return {GpuGate::kFail,
            "an NVIDIA GPU is present (/dev/nvidia0) but the CUDA runtime finds no usable "
            "device: " + unavailable_why};
  if (required) return {GpuGate::kFail, "DTUTMO_REQUIRE_GPU=1 but " + unavailable_why};
  return {GpuGate::kSkip, unavailable_why};
}

inline const GpuGate& cuda_engine_gate() {
  static const GpuGate gate = [] {
    std::string why, err;
    const bool available = dtutmo::cuda_engine_available(&why);
    if (available && !dtutmo::create_cuda_engine(0, &err) && err.empty())
      err = "create_cuda_engine(0) returned nothing";
    return decide_gpu_gate(available, why, err, nvidia_device_node(), gpu_required());
  }();
  return gate;
}

inline bool gpu_runs() { return cuda_engine_gate().kind == GpuGate::kRun; }

}  // namespace dtutmo_test

// First statement of every GPU test (a void function: FAIL and GTEST_SKIP return).
#define DTUTMO_NEED_GPU()                                                        \
  do {                                                                           \
    const ::dtutmo_test::GpuGate& dtutmo_gate_ = ::dtutmo_test::cuda_engine_gate(); \
    if (dtutmo_gate_.kind == ::dtutmo_test::GpuGate::kFail) FAIL() << dtutmo_gate_.why; \
    if (dtutmo_gate_.kind == ::dtutmo_test::GpuGate::kSkip) GTEST_SKIP() << dtutmo_gate_.why; \
  } while (0)

// A need of a GPU test other than the device: skip, or fail under DTUTMO_REQUIRE_GPU=1.
#define DTUTMO_SKIP_OR_FAIL(why)                                                 \
  do {                                                                           \
    const std::string dtutmo_why_ = (why);                                       \
    if (::dtutmo_test::gpu_required()) FAIL() << "DTUTMO_REQUIRE_GPU=1: " << dtutmo_why_; \
    GTEST_SKIP() << dtutmo_why_;                                                 \
  } while (0)
