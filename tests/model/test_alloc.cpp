// dtutmo -- the CPU engine allocates nothing per frame once a stream runs (STYLE.md:
// plans and buffers at configure time, or at the first frame that needs them, never per
// frame). Counted through the global operator new of this test binary, which is what
// every std::vector, std::function and std::string of the engine goes through.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "dtutmo/convert.h"
#include "dtutmo/engine.h"
#include "dtutmo/scenes.h"
#include "dtutmo/transfer.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_news{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace dtutmo;

namespace {

// Frames of `scene` (PQ P010, BT.2020) through the CPU engine with `profile`; returns the
// number of operator new calls during the frames after `warm` warm-up frames.
long news_in_steady_state(const char* profile, const char* scene, PixelFormat out_fmt, int warm,
                          int frames, const char* model_resolution = "auto") {
  const int W = 320, H = 180;
  Scene sc;
  EXPECT_TRUE(scene_from_name(scene, &sc));
  std::vector<float> lin(size_t(W) * H * 3);
  std::vector<uint8_t> in(packed_size(PixelFormat::P010_10LE, W, H));
  std::vector<uint8_t> out(packed_size(out_fmt, W, H));
  FrameView fi = packed_view(PixelFormat::P010_10LE, W, H, in.data());
  FrameView fo = packed_view(out_fmt, W, H, out.data());
  SignalDesc sin;
  sin.transfer = Transfer::PQ;
  sin.primaries = Primaries::BT2020;
  sin.matrix = YuvMatrix::BT2020NC;
  auto e = create_cpu_engine(2);
  Params p;
  std::string err;
  EXPECT_TRUE(set_param(p, "profile", profile, &err)) << err;
  EXPECT_TRUE(set_param(p, "model-resolution", model_resolution, &err)) << err;
  EXPECT_TRUE(e->set_params(p, &err)) << err;
  StreamConfig c;
  c.width = W;
  c.height = H;
  c.in_format = PixelFormat::P010_10LE;
  c.out_format = out_fmt;
  c.in = sin;
  c.out.transfer = Transfer::BT1886;
  c.out.primaries = Primaries::BT709;
  c.out.matrix = YuvMatrix::BT709;
  EXPECT_TRUE(e->configure(c, &err)) << err;
  long news = 0;
  for (int f = 0; f < warm + frames; ++f) {
    // the frame changes (animated scenes), so the statistics and the state move
    render_scene(sc, W, H, f / 30.0, lin.data(), std::ptrdiff_t(W) * 3, Primaries::BT2020);
    for (float& v : lin) v = pq_inv_eotf(v);
    pack_rows(lin.data(), std::ptrdiff_t(W) * 3, fi, sin, 0, H, false);
    const long before = g_news.load();
    g_counting = f >= warm;
    const bool ok = e->process(fi, fo, f / 30.0, &err);
    g_counting = false;
    EXPECT_TRUE(ok) << err;
    news += g_news.load() - before;
  }
  return news;
}

TEST(Alloc, FastAllocatesNothingPerFrame) {
  EXPECT_EQ(news_in_steady_state("fast", "animated", PixelFormat::NV12, 3, 6), 0);
  EXPECT_EQ(news_in_steady_state("fast", "night", PixelFormat::RGBA, 3, 6), 0);
}

TEST(Alloc, BalancedAllocatesNothingPerFrame) {
  EXPECT_EQ(news_in_steady_state("balanced", "animated", PixelFormat::I420, 3, 4), 0);
  EXPECT_EQ(news_in_steady_state("balanced", "colored-lights", PixelFormat::RGBA, 3, 4), 0);
}

// The block model (cpu_half.h: half, quarter) neither: its buffers are made at configure.
TEST(Alloc, HalfResolutionAllocatesNothingPerFrame) {
  EXPECT_EQ(news_in_steady_state("fast", "animated", PixelFormat::NV12, 3, 6, "half"), 0);
  EXPECT_EQ(news_in_steady_state("balanced", "animated", PixelFormat::I420, 3, 4, "half"), 0);
  EXPECT_EQ(news_in_steady_state("fast", "animated", PixelFormat::I420, 3, 6, "quarter"), 0);
  EXPECT_EQ(news_in_steady_state("fast", "night", PixelFormat::NV12, 3, 6, "quarter"), 0);
}

// The counter works: a frame that does allocate is seen (the first one, which makes the
// balanced buffers lazily; DESIGN.md, engine_cpu.cpp ensure_balanced).
TEST(Alloc, CounterSeesTheFirstFramesBuffers) {
  EXPECT_GT(news_in_steady_state("balanced", "animated", PixelFormat::RGBA, 0, 1), 0);
}

}  // namespace
