// Built when CUDA is not: the CUDA engine is never available, callers use the CPU engine.
#include "dtutmo/engine.h"

namespace dtutmo {

bool cuda_engine_available(std::string* why) {
  if (why) *why = "dtutmo was built without CUDA";
  return false;
}

std::unique_ptr<Engine> create_cuda_engine(int, std::string* err) {
  cuda_engine_available(err);
  return nullptr;
}

}  // namespace dtutmo
