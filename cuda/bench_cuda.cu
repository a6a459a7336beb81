// dtutmo-bench-cuda -- CUDA engine benchmark: CUDA events per stage and in total, for
// 3840x2160 and 1920x1080, fast and balanced profiles, P010 PQ BT.2020 in, NV12 SDR out,
// frames in device memory (the zero-copy path: no PCIe transfer in the timings), plus the
// device memory the engine holds per pixel. Prints a table; exits 77 with a message when
// there is no usable CUDA device, 1 when the engine fails on any frame (timed ones
// included), 3 when it ran but missed a target.
//
//   dtutmo-bench-cuda [--frames N] [--warmup N] [--precision fp16|fp32] [--size WxH]...
//                     [--profile fast|balanced]... [--host] [--streams N[,N...]]
//   --host      also time host frames (pinned staging + PCIe both ways), wall clock
//   --streams   also run N engines at once (the first size, each on its own stream, one
//               process), frames enqueued round robin: aggregate and per-stream fps
//
// Targets (issue 8's goal, engine time on an H100/H200): 4K fast <= 0.5 ms, 4K balanced
// <= 2 ms.
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "dtutmo/convert.h"
#include "dtutmo/engine.h"
#include "dtutmo/scenes.h"
#include "dtutmo/transfer.h"
#include "engine_cuda.h"

using namespace dtutmo;

namespace {

struct Size {
  int w, h;
};

double target_ms(const Size& s, Profile p) {
  if (s.w != 3840 || s.h != 2160) return 0.0;  // no stated goal for other sizes
  if (p == Profile::Fast) return 0.5;
  if (p == Profile::Balanced) return 2.0;
  return 0.0;
}

#define BENCH_CHECK(expr)                                                                  \
  do {                                                                                     \
    const cudaError_t e_ = (expr);                                                         \
    if (e_ != cudaSuccess) {                                                               \
      std::fprintf(stderr, "dtutmo-bench-cuda: %s failed: %s\n", #expr, cudaGetErrorString(e_)); \
      std::exit(1);                                                                        \
    }                                                                                      \
  } while (0)

std::vector<uint8_t> make_p010(int w, int h) {
  std::vector<float> rgb(std::size_t(w) * h * 3);
  render_scene(Scene::Interior, w, h, 0.0, rgb.data(), std::ptrdiff_t(w) * 3, Primaries::BT2020);
  for (float& v : rgb) v = pq_inv_eotf(v);
  std::vector<uint8_t> buf(packed_size(PixelFormat::P010_10LE, w, h));
  SignalDesc sig;
  pack_rows(rgb.data(), std::ptrdiff_t(w) * 3, packed_view(PixelFormat::P010_10LE, w, h, buf.data()), sig, 0,
            h, false);
  return buf;
}

// P010 PQ BT.2020 in, NV12 BT.1886 BT.709 out.
StreamConfig bench_config(const Size& sz) {
  StreamConfig c;
  c.width = sz.w;
  c.height = sz.h;
  c.in_format = PixelFormat::P010_10LE;
  c.in.transfer = Transfer::PQ;
  c.in.primaries = Primaries::BT2020;
  c.in.matrix = YuvMatrix::BT2020NC;
  c.out_format = PixelFormat::NV12;
  c.out.transfer = Transfer::BT1886;
  c.out.primaries = Primaries::BT709;
  c.out.matrix = YuvMatrix::BT709;
  return c;
}

// A frame through the engine; on failure the benchmark stops with the engine's message
// (a timed loop that ignored errors would time nothing and print it as fast).
#define BENCH_FRAME(call)                                                                  \
  do {                                                                                     \
    std::string err_;                                                                      \
    if (!(call)) {                                                                         \
      std::fprintf(stderr, "dtutmo-bench-cuda: frame failed: %s\n", err_.c_str());         \
      std::exit(1);                                                                        \
    }                                                                                      \
  } while (0)

// One engine per stream, each fed by its own host thread (as GStreamer's streaming
// threads would), frames enqueued with process_async and synchronised once at the end.
// Returns frames per second, all streams together.
double run_streams(const Size& sz, Profile prof, Precision prec, int n, int frames, int warmup) {
  struct One {
    std::unique_ptr<Engine> e;
    uint8_t *din = nullptr, *dout = nullptr;
    FrameView vin, vout;
  };
  std::vector<One> ones(n);
  const std::vector<uint8_t> in_host = make_p010(sz.w, sz.h);
  const std::size_t out_bytes = packed_size(PixelFormat::NV12, sz.w, sz.h);
  for (One& o : ones) {
    std::string err;
    o.e = create_cuda_engine(0, &err);
    Params p = params_for_profile(prof);
    p.precision = prec;
    if (!o.e || !o.e->set_params(p, &err) || !o.e->configure(bench_config(sz), &err)) {
      std::fprintf(stderr, "dtutmo-bench-cuda: %s\n", err.c_str());
      std::exit(1);
    }
    BENCH_CHECK(cudaMalloc(&o.din, in_host.size()));
    BENCH_CHECK(cudaMalloc(&o.dout, out_bytes));
    BENCH_CHECK(cudaMemcpy(o.din, in_host.data(), in_host.size(), cudaMemcpyHostToDevice));
    o.vin = packed_view(PixelFormat::P010_10LE, sz.w, sz.h, o.din);
    o.vout = packed_view(PixelFormat::NV12, sz.w, sz.h, o.dout);
    o.vin.device_memory = o.vout.device_memory = true;
    for (int f = 0; f < warmup; ++f) BENCH_FRAME(o.e->process(o.vin, o.vout, f / 60.0, &err_));
  }
  BENCH_CHECK(cudaDeviceSynchronize());
  std::atomic<int> failed{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (One& o : ones)
    threads.emplace_back([&o, &failed, frames, warmup] {
      std::string err;
      for (int f = 0; f < frames; ++f)
        if (!o.e->process_async(o.vin, o.vout, (warmup + f) / 60.0, &err)) {
          std::fprintf(stderr, "dtutmo-bench-cuda: frame failed: %s\n", err.c_str());
          failed++;
          return;
        }
      if (cudaStreamSynchronize(static_cast<cudaStream_t>(o.e->cuda_stream())) != cudaSuccess) failed++;
    });
  for (std::thread& t : threads) t.join();
  const auto t1 = std::chrono::steady_clock::now();
  if (failed) std::exit(1);
  for (One& o : ones) {
    o.e.reset();
    cudaFree(o.din);
    cudaFree(o.dout);
  }
  return double(n) * frames / std::chrono::duration<double>(t1 - t0).count();
}

struct Result {
  Size size;
  Profile profile;
  std::vector<std::pair<std::string, float>> stages;  // mean ms
  double total_ms = 0, wall_ms = 0, host_ms = -1, enqueue_ms = 0;
  double bytes_per_px = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int frames = 100, warmup = 20;
  Precision prec = Precision::FP16;
  bool host = false;
  std::vector<int> streams;
  std::vector<Size> sizes;
  std::vector<Profile> profiles;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "dtutmo-bench-cuda: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--frames") frames = std::max(1, std::atoi(next()));
    else if (a == "--warmup") warmup = std::max(0, std::atoi(next()));
    else if (a == "--precision") prec = std::string(next()) == "fp32" ? Precision::FP32 : Precision::FP16;
    else if (a == "--host") host = true;
    else if (a == "--streams") {
      for (const char* p = next(); *p;) {
        const int n = std::atoi(p);
        if (n < 1 || n > 64) {
          std::fprintf(stderr, "dtutmo-bench-cuda: --streams N[,N...] with 1 <= N <= 64\n");
          return 2;
        }
        streams.push_back(n);
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
      }
    }
    else if (a == "--size") {
      Size s{};
      if (std::sscanf(next(), "%dx%d", &s.w, &s.h) != 2 || s.w < 1 || s.h < 1) {
        std::fprintf(stderr, "dtutmo-bench-cuda: --size WxH\n");
        return 2;
      }
      sizes.push_back(s);
    } else if (a == "--profile") {
      const std::string p = next();
      profiles.push_back(p == "balanced" ? Profile::Balanced : p == "quality" ? Profile::Quality : Profile::Fast);
    } else {
      std::fprintf(stderr,
                   "usage: dtutmo-bench-cuda [--frames N] [--warmup N] [--precision fp16|fp32] "
                   "[--size WxH]... [--profile fast|balanced]... [--host] [--streams N[,N...]]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (sizes.empty()) sizes = {{3840, 2160}, {1920, 1080}};
  if (profiles.empty()) profiles = {Profile::Fast, Profile::Balanced};

  std::string why;
  if (!cuda_engine_available(&why)) {
    std::fprintf(stderr, "dtutmo-bench-cuda: no usable CUDA device, nothing to measure (%s)\n", why.c_str());
    return 77;
  }
  cudaDeviceProp prop{};
  BENCH_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (sm_%d%d, %d SMs, %.1f GiB)\n", prop.name, prop.major, prop.minor,
              prop.multiProcessorCount, prop.totalGlobalMem / 1073741824.0);
  std::printf("input P010 PQ BT.2020 (interior scene), output NV12 BT.1886 BT.709, device frames, %s, "
              "%d frames after %d warm-up\n\n",
              prec == Precision::FP16 ? "fp16" : "fp32", frames, warmup);

  std::vector<Result> results;
  for (const Size& sz : sizes)
    for (Profile prof : profiles) {
      Result R;
      R.size = sz;
      R.profile = prof;
      std::string err;
      std::unique_ptr<Engine> e = create_cuda_engine(0, &err);
      if (!e) {
        std::fprintf(stderr, "dtutmo-bench-cuda: %s\n", err.c_str());
        return 1;
      }
      auto* ce = static_cast<cuda::CudaEngine*>(e.get());
      Params p = params_for_profile(prof);
      p.precision = prec;
      if (!e->set_params(p, &err) || !e->configure(bench_config(sz), &err)) {
        std::fprintf(stderr, "dtutmo-bench-cuda: %s\n", err.c_str());
        return 1;
      }
      const std::vector<uint8_t> in_host = make_p010(sz.w, sz.h);
      std::vector<uint8_t> out_host(packed_size(PixelFormat::NV12, sz.w, sz.h));
      uint8_t *din = nullptr, *dout = nullptr;
      BENCH_CHECK(cudaMalloc(&din, in_host.size()));
      BENCH_CHECK(cudaMalloc(&dout, out_host.size()));
      BENCH_CHECK(cudaMemcpy(din, in_host.data(), in_host.size(), cudaMemcpyHostToDevice));
      FrameView vin = packed_view(PixelFormat::P010_10LE, sz.w, sz.h, din);
      FrameView vout = packed_view(PixelFormat::NV12, sz.w, sz.h, dout);
      vin.device_memory = vout.device_memory = true;
      auto stream = static_cast<cudaStream_t>(e->cuda_stream());

      double t = 0.0;
      for (int f = 0; f < warmup; ++f, t += 1.0 / 60) BENCH_FRAME(e->process(vin, vout, t, &err_));
      // per-stage: events between stages, averaged over the frames
      ce->set_profiling(true);
      std::map<std::string, double> acc;
      std::vector<std::string> order;
      for (int f = 0; f < frames; ++f, t += 1.0 / 60) {
        BENCH_FRAME(e->process(vin, vout, t, &err_));
        for (const auto& st : ce->stage_times_ms()) {
          if (!acc.count(st.first)) order.push_back(st.first);
          acc[st.first] += st.second;
        }
      }
      ce->set_profiling(false);
      for (const std::string& n : order) {
        if (n == "total") R.total_ms = acc[n] / frames;
        else if (n != "upload") R.stages.emplace_back(n, float(acc[n] / frames));
      }
      // throughput: frames back to back on the stream, one sync at the end
      BENCH_CHECK(cudaStreamSynchronize(stream));
      const auto w0 = std::chrono::steady_clock::now();
      for (int f = 0; f < frames; ++f, t += 1.0 / 60) BENCH_FRAME(e->process_async(vin, vout, t, &err_));
      const auto we = std::chrono::steady_clock::now();
      BENCH_CHECK(cudaStreamSynchronize(stream));
      const auto w1 = std::chrono::steady_clock::now();
      R.wall_ms = std::chrono::duration<double, std::milli>(w1 - w0).count() / frames;
      // host time to enqueue a frame: when it is close to the GPU time, launches are the
      // bottleneck and CUDA graph capture would pay off
      R.enqueue_ms = std::chrono::duration<double, std::milli>(we - w0).count() / frames;
      if (host) {
        FrameView hin = packed_view(PixelFormat::P010_10LE, sz.w, sz.h, const_cast<uint8_t*>(in_host.data()));
        FrameView hout = packed_view(PixelFormat::NV12, sz.w, sz.h, out_host.data());
        const auto h0 = std::chrono::steady_clock::now();
        for (int f = 0; f < frames; ++f, t += 1.0 / 60) BENCH_FRAME(e->process(hin, hout, t, &err_));
        const auto h1 = std::chrono::steady_clock::now();
        R.host_ms = std::chrono::duration<double, std::milli>(h1 - h0).count() / frames;
      }
      R.bytes_per_px = double(ce->device_bytes()) / (double(sz.w) * sz.h);
      cudaFree(din);
      cudaFree(dout);
      results.push_back(R);

      std::printf("== %dx%d %s ==\n", sz.w, sz.h, profile_name(prof));
      for (const auto& st : R.stages) std::printf("  %-18s %8.3f ms\n", st.first.c_str(), st.second);
      std::printf("  %-18s %8.3f ms   (events, one frame at a time)\n", "total", R.total_ms);
      std::printf("  %-18s %8.3f ms   (%.0f fps back to back)\n", "wall per frame", R.wall_ms, 1000.0 / R.wall_ms);
      std::printf("  %-18s %8.3f ms   (host time to enqueue one frame)\n", "enqueue", R.enqueue_ms);
      if (R.host_ms >= 0) std::printf("  %-18s %8.3f ms\n", "host frames", R.host_ms);
      std::printf("  %-18s %8.1f B/px (%.1f MiB)\n\n", "device memory", R.bytes_per_px,
                  R.bytes_per_px * sz.w * sz.h / 1048576.0);
    }

  std::printf("%-11s %-9s %10s %10s %10s %8s  %s\n", "size", "profile", "total ms", "wall ms", "target ms",
              "B/px", "");
  int missed = 0;
  for (const Result& r : results) {
    const double tgt = target_ms(r.size, r.profile);
    const char* verdict = tgt <= 0 ? "" : (r.total_ms <= tgt ? "met" : "MISSED");
    if (tgt > 0 && r.total_ms > tgt) ++missed;
    char sz[32];
    std::snprintf(sz, sizeof sz, "%dx%d", r.size.w, r.size.h);
    std::printf("%-11s %-9s %10.3f %10.3f %10s %8.1f  %s\n", sz, profile_name(r.profile), r.total_ms, r.wall_ms,
                tgt > 0 ? std::to_string(tgt).substr(0, 4).c_str() : "-", r.bytes_per_px, verdict);
  }
  if (std::strstr(prop.name, "H100") == nullptr && std::strstr(prop.name, "H200") == nullptr)
    std::printf("\n(targets are for an H100/H200; this device is a %s)\n", prop.name);

  if (!streams.empty()) {
    const Size sz = sizes[0];
    std::printf("\nconcurrent streams at %dx%d, one engine, stream and host thread each, %d frames after "
                "%d warm-up:\n%-9s %8s %12s %14s\n",
                sz.w, sz.h, frames, warmup, "profile", "streams", "total fps", "fps per stream");
    for (Profile prof : profiles)
      for (int n : streams) {
        const double fps = run_streams(sz, prof, prec, n, frames, warmup);
        std::printf("%-9s %8d %12.1f %14.1f\n", profile_name(prof), n, fps, fps / n);
      }
  }
  return missed ? 3 : 0;
}
