// dtutmo-bench: frames through the CPU engine, P010 PQ BT.2020 in -> RGBA sRGB BT.709 out.
// Usage: dtutmo-bench [--frames N] [--size WxH] [--profile fast|balanced|quality]
//                     [--threads T] [--scene NAME] [--set name=value]...
//   --set applies a parameter (dtutmo::set_param) after the profile, e.g.
//   --set hue-preserve=false; repeatable.
// Prints fps, ms/frame (mean, min, max), peak RSS and CPU ms per frame (getrusage), the
// engine's memory (resident set after the frames minus before the engine was made, the
// frames and the bench's own scene already resident: bytes per pixel above the frames), and
// which clone of the hot loops runs (common/src/cpu_simd.h: -Davx512=false drops AVX-512).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "dtutmo/convert.h"
#include "dtutmo/engine.h"
#include "dtutmo/scenes.h"
#include "dtutmo/transfer.h"

using namespace dtutmo;

// Resident set of this process now, bytes (/proc/self/statm), 0 where unknown.
static double rss_now() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long size = 0, res = 0;
  const int n = std::fscanf(f, "%ld %ld", &size, &res);
  std::fclose(f);
  return n == 2 ? double(res) * double(sysconf(_SC_PAGESIZE)) : 0;
}

// The clone GCC's resolver picks for the DTUTMO_HOT loops on this CPU and build.
static const char* hot_clone() {
#if defined(__x86_64__)
#if !defined(DTUTMO_NO_AVX512)
  if (__builtin_cpu_supports("x86-64-v4")) return "x86-64-v4 (AVX-512)";
#endif
  if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3 (AVX2+FMA)";
  return "x86-64 (SSE2)";
#else
  return "portable";
#endif
}

int main(int argc, char** argv) {
  int frames = 60, W = 1920, H = 1080, threads = 0;
  std::string profile = "fast", scene = "daylight";
  std::vector<std::pair<std::string, std::string>> sets;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--frames") frames = std::atoi(next());
    else if (a == "--size") { if (std::sscanf(next(), "%dx%d", &W, &H) != 2) return 2; }
    else if (a == "--profile") profile = next();
    else if (a == "--threads") threads = std::atoi(next());
    else if (a == "--scene") scene = next();
    else if (a == "--set") {
      const std::string kv = next();
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "--set needs name=value, got '%s'\n", kv.c_str());
        return 2;
      }
      sets.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    else { std::fprintf(stderr, "usage: %s [--frames N] [--size WxH] [--profile P] [--threads T] [--scene S] [--set name=value]...\n", argv[0]); return 2; }
  }
  if (frames < 1 || threads < 0 || W < 1 || H < 1) {
    std::fprintf(stderr, "--frames must be at least 1, --threads at least 0 (0: every core), --size positive\n");
    return 2;
  }
  Scene sc;
  if (!scene_from_name(scene.c_str(), &sc)) { std::fprintf(stderr, "unknown scene\n"); return 2; }
  // Render the scene in BT.2020, encode to PQ P010 (limited range) through pack_rows.
  std::vector<float> lin(size_t(W) * H * 3);
  render_scene(sc, W, H, 0.0, lin.data(), std::ptrdiff_t(W) * 3, Primaries::BT2020);
  for (float& v : lin) v = pq_inv_eotf(v);
  std::vector<uint8_t> in(packed_size(PixelFormat::P010_10LE, W, H));
  std::vector<uint8_t> out(packed_size(PixelFormat::RGBA, W, H));
  FrameView fi = packed_view(PixelFormat::P010_10LE, W, H, in.data());
  FrameView fo = packed_view(PixelFormat::RGBA, W, H, out.data());
  SignalDesc sin;
  sin.transfer = Transfer::PQ;
  sin.primaries = Primaries::BT2020;
  sin.matrix = YuvMatrix::BT2020NC;
  pack_rows(lin.data(), std::ptrdiff_t(W) * 3, fi, sin, 0, H, false);

  std::memset(out.data(), 0, out.size());  // resident before rss0 (frames are not counted)
  const double rss0 = rss_now();
  auto e = create_cpu_engine(threads);
  Params p;
  std::string err;
  if (!set_param(p, "profile", profile, &err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  for (const auto& kv : sets) {
    if (!set_param(p, kv.first, kv.second, &err)) {
      std::fprintf(stderr, "--set %s=%s: %s\n", kv.first.c_str(), kv.second.c_str(), err.c_str());
      return 2;
    }
  }
  if (!e->set_params(p, &err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  StreamConfig c;
  c.width = W;
  c.height = H;
  c.in_format = PixelFormat::P010_10LE;
  c.out_format = PixelFormat::RGBA;
  c.in = sin;
  c.out.transfer = Transfer::SRGB;
  c.out.primaries = Primaries::BT709;
  if (!e->configure(c, &err)) { std::fprintf(stderr, "configure: %s\n", err.c_str()); return 1; }
  // warm-up frame (first frame allocates balanced buffers lazily)
  if (!e->process(fi, fo, 0.0, &err)) { std::fprintf(stderr, "process: %s\n", err.c_str()); return 1; }
  struct rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  std::vector<double> ms;
  const auto t0 = std::chrono::steady_clock::now();
  for (int f = 1; f <= frames; ++f) {
    const auto a = std::chrono::steady_clock::now();
    if (!e->process(fi, fo, f / 30.0, &err)) { std::fprintf(stderr, "process: %s\n", err.c_str()); return 1; }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  auto cpu_s = [](const struct rusage& r) {
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + 1e-6 * (r.ru_utime.tv_usec + r.ru_stime.tv_usec);
  };
  const double cpu_ms = (cpu_s(ru) - cpu_s(ru0)) * 1000.0 / frames;
  double mean = 0;
  for (double v : ms) mean += v;
  mean /= ms.size();
  std::printf("profile=%s size=%dx%d frames=%d threads=%d scene=%s", profile.c_str(), W, H, frames,
              threads, scene.c_str());
  for (const auto& kv : sets) std::printf(" %s=%s", kv.first.c_str(), kv.second.c_str());
  std::printf(" clone=%s\n", hot_clone());
  std::printf("fps=%.2f ms/frame mean=%.2f min=%.2f max=%.2f peak_rss=%.1f MiB\n", frames / total, mean,
              *std::min_element(ms.begin(), ms.end()), *std::max_element(ms.begin(), ms.end()),
              ru.ru_maxrss / 1024.0);
  // CPU time per frame (all threads): on a loaded machine, cpu_ms / cores is the wall time
  // the engine would take with its cores to itself.
  std::printf("cpu_ms/frame=%.2f (all threads)\n", cpu_ms);
  const double eng = rss_now() - rss0;
  std::printf("engine_rss=%.1f MiB (%.1f bytes/pixel above the frames)\n", eng / 1048576.0,
              eng / (double(W) * H));
  return 0;
}
