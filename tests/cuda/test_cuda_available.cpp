// Runs on every machine, with or without a GPU: the CUDA engine's availability check
// answers with a reason and never crashes, create_cuda_engine() returns nullptr when it
// cannot run and an engine when it says it can, and the GPU tests' gate (gpu_gate.h)
// skips only where no GPU is present and nothing requires one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "dtutmo/engine.h"
#include "gpu_gate.h"

using dtutmo_test::decide_gpu_gate;
using dtutmo_test::GpuGate;

TEST(CudaAvailable, AnswersWithAReason) {
  std::string why;
  const bool ok = dtutmo::cuda_engine_available(&why);
  std::string err;
  auto e = dtutmo::create_cuda_engine(0, &err);
  if (ok) {
    // A device is here: the engine must come up on it (else the GPU tests fail, see below).
    EXPECT_NE(e, nullptr) << err;
    return;
  }
  EXPECT_FALSE(why.empty()) << "no reason given for the CUDA engine being unavailable";
  EXPECT_EQ(e, nullptr);
  EXPECT_FALSE(err.empty());
}

TEST(CudaAvailable, NullReasonPointerIsAccepted) {
  const bool a = dtutmo::cuda_engine_available(nullptr);
  const bool b = dtutmo::cuda_engine_available(nullptr);
  EXPECT_EQ(a, b);
  if (!a) {
    EXPECT_EQ(dtutmo::create_cuda_engine(0, nullptr), nullptr);
  }
}

TEST(CudaAvailable, BadDeviceIndexFails) {
  std::string err;
  EXPECT_EQ(dtutmo::create_cuda_engine(-1, &err), nullptr);
  EXPECT_FALSE(err.empty());
  err.clear();
  EXPECT_EQ(dtutmo::create_cuda_engine(1 << 20, &err), nullptr);
  EXPECT_FALSE(err.empty());
}

// The gate's policy, case by case (issue 8: a GPU test that cannot create the engine fails
// when a device is present; DTUTMO_REQUIRE_GPU=1 turns every skip into a failure).
TEST(GpuGate, SkipsOnlyWithoutAnyGpuAndWithoutRequirement) {
  const std::string none = "no CUDA device: cudaErrorNoDevice";
  // CI: no runtime device, no device node, nothing required -> skip with the reason.
  GpuGate g = decide_gpu_gate(false, none, "", false, false);
  EXPECT_EQ(g.kind, GpuGate::kSkip);
  EXPECT_EQ(g.why, none);
  // Required -> fail, saying why.
  g = decide_gpu_gate(false, none, "", false, true);
  EXPECT_EQ(g.kind, GpuGate::kFail);
  EXPECT_NE(g.why.find("DTUTMO_REQUIRE_GPU"), std::string::npos);
  EXPECT_NE(g.why.find(none), std::string::npos);
  // A GPU the kernel driver knows while the runtime finds none (old driver, broken
  // install) -> fail even when nothing is required.
  g = decide_gpu_gate(false, "cudaErrorInsufficientDriver", "", true, false);
  EXPECT_EQ(g.kind, GpuGate::kFail);
  EXPECT_NE(g.why.find("cudaErrorInsufficientDriver"), std::string::npos);
  // A device but no engine (e.g. no kernel image for its architecture) -> fail.
  g = decide_gpu_gate(true, "", "no kernel image for NVIDIA H200", false, false);
  EXPECT_EQ(g.kind, GpuGate::kFail);
  EXPECT_NE(g.why.find("no kernel image"), std::string::npos);
  // A device and an engine -> run, required or not.
  EXPECT_EQ(decide_gpu_gate(true, "", "", true, false).kind, GpuGate::kRun);
  EXPECT_EQ(decide_gpu_gate(true, "", "", true, true).kind, GpuGate::kRun);
}

TEST(GpuGate, RequirementComesFromTheEnvironment) {
  const char* old = std::getenv("DTUTMO_REQUIRE_GPU");
  const std::string saved = old ? old : "";
  setenv("DTUTMO_REQUIRE_GPU", "1", 1);
  EXPECT_TRUE(dtutmo_test::gpu_required());
  setenv("DTUTMO_REQUIRE_GPU", "0", 1);
  EXPECT_FALSE(dtutmo_test::gpu_required());
  unsetenv("DTUTMO_REQUIRE_GPU");
  EXPECT_FALSE(dtutmo_test::gpu_required());
  if (old) setenv("DTUTMO_REQUIRE_GPU", saved.c_str(), 1);
}

// This machine's decision agrees with what the runtime says.
TEST(GpuGate, ThisMachine) {
  std::string why;
  const bool available = dtutmo::cuda_engine_available(&why);
  const GpuGate& g = dtutmo_test::cuda_engine_gate();
  if (available) {
    EXPECT_NE(g.kind, GpuGate::kSkip) << "a device is present: GPU tests must run (or fail)";
  } else if (!dtutmo_test::nvidia_device_node() && !dtutmo_test::gpu_required()) {
    EXPECT_EQ(g.kind, GpuGate::kSkip) << g.why;
  } else {
    EXPECT_EQ(g.kind, GpuGate::kFail) << g.why;
  }
}
