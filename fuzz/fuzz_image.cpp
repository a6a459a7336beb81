// Fuzz target: dtutmo-image's readers (OpenEXR, PFM, Radiance, TIFF; picked by content)
// on arbitrary bytes. Every input must end in an image or a clear error: no crash, no
// sanitizer report, no allocation beyond the limits given here (the driver's
// --rss-limit-mb and ASan's allocation limit catch a memory bomb).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hdr_io.h"

namespace {
std::string g_path;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The readers take a path (OpenEXR and OpenImageIO read files), so each input is written
  // to one file of a private folder.
  char tmpl[] = "/tmp/dtutmo-fuzz-image-XXXXXX";
  const char* d = mkdtemp(tmpl);
  if (!d) std::abort();
  g_path = std::string(d) + "/input";
  std::atexit([] {
    unlink(g_path.c_str());
    rmdir(g_path.substr(0, g_path.rfind('/')).c_str());
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_path.empty()) LLVMFuzzerInitialize(nullptr, nullptr);
  FILE* f = std::fopen(g_path.c_str(), "wb");
  if (!f) std::abort();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  dtutmo::image::ReadLimits lim;
  lim.max_pixels = uint64_t(1) << 22;  // 4 Mpixel: 48 MB of float RGB at most
  lim.max_side = 1 << 14;
  dtutmo::image::Image im;
  std::string err;
  const bool ok = dtutmo::image::read_hdr(g_path, &im, &err, lim);
  // A success is a whole image; a failure says something.
  if (ok && (im.width < 1 || im.height < 1 || im.rgb.size() != size_t(im.width) * size_t(im.height) * 3)) std::abort();
  if (!ok && err.empty()) std::abort();
  // Touch every sample (uninitialised or out-of-bounds data shows under the sanitizers).
  volatile float sum = 0.0f;
  for (float v : im.rgb) sum = sum + v;
  return 0;
}
