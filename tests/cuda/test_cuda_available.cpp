// Runs on every machine, with or without a GPU: the CUDA engine's availability check
// answers with a reason and never crashes, and create_cuda_engine() returns nullptr when
// it cannot run.
#include <gtest/gtest.h>

#include <string>

#include "dtutmo/engine.h"

TEST(CudaAvailable, AnswersWithAReason) {
  std::string why;
  const bool ok = dtutmo::cuda_engine_available(&why);
  if (ok) {
    EXPECT_TRUE(why.empty() || !why.empty());  // a device is here: nothing more to say
    return;
  }
  EXPECT_FALSE(why.empty()) << "no reason given for the CUDA engine being unavailable";
  std::string err;
  auto e = dtutmo::create_cuda_engine(0, &err);
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
