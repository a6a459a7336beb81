// Exit 0 when the CUDA engine can run here, 77 (meson's "skipped") when no GPU is present
// and none is required, 1 when a GPU is present but the engine cannot run on it or when
// DTUTMO_REQUIRE_GPU=1 (the same policy as the GPU tests, gpu_gate.h).
#include <cstdio>
#include <string>

#include "dtutmo/engine.h"
#include "gpu_gate.h"

int main() {
  const dtutmo_test::GpuGate& g = dtutmo_test::cuda_engine_gate();
  switch (g.kind) {
    case dtutmo_test::GpuGate::kRun: return 0;
    case dtutmo_test::GpuGate::kSkip: std::printf("SKIP: %s\n", g.why.c_str()); return 77;
    case dtutmo_test::GpuGate::kFail: break;
  }
  std::printf("FAIL: %s\n", g.why.c_str());
  return 1;
}
