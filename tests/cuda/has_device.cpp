// Exit 0 when the CUDA engine can run here, 77 (meson's "skipped") when it cannot.
#include <cstdio>
#include <string>

#include "dtutmo/engine.h"

int main() {
  std::string why;
  if (dtutmo::cuda_engine_available(&why)) return 0;
  std::printf("SKIP: %s\n", why.c_str());
  return 77;
}
