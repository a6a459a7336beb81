// dtutmo -- host row converters (convert.h) built on the per-pixel pieces of pixel_io.h.
//
// The format is switched once per call (templates per format / container), never per
// pixel, so the inner loops are straight-line and vectorisable.
//
// 4:2:0 chroma siting per SignalDesc (pixel_io.h chroma_phase / chroma_down_weights, the
// kernels' read_rgb / write_block use the same): centre siting ("jpeg") interpolates
// about the block centre (3/4, 1/4) and packs the mean of the 2x2 block; a cosited axis
// ("mpeg2": horizontal, H.264 / HEVC's default) takes the chroma at its luma sample and
// halfway to the next, and packs luma 2i's. Edges replicated. Flat and smooth chroma
// survive a round trip and chroma edges keep their place.
#include "dtutmo/convert.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "dtutmo/pixel_io.h"
#include "cpu_simd.h"  // DTUTMO_HOT

namespace dtutmo {

using namespace pio;

namespace {

// How a Y'CbCr component sits in memory.
enum class Cont { U8, U16Hi, U16Lo };

Cont container_of(PixelFormat f) {
  switch (f) {
    case PixelFormat::P010_10LE:
    case PixelFormat::P012_LE:
    case PixelFormat::P016_LE:
      return Cont::U16Hi;
    case PixelFormat::I420_10LE:
    case PixelFormat::I420_12LE:
    case PixelFormat::Y444_16LE:
      return Cont::U16Lo;
    default:
      return Cont::U8;
  }
}

// True for the two-plane formats whose chroma plane interleaves U, V.
bool interleaved_uv(PixelFormat f) {
  return f == PixelFormat::NV12 || f == PixelFormat::P010_10LE || f == PixelFormat::P012_LE ||
         f == PixelFormat::P016_LE;
}

template <Cont C>
inline uint32_t load_code(const uint8_t* p, int bits) {
  if (C == Cont::U8) return p[0];
  if (C == Cont::U16Hi) return from_high_bits(load_u16(p), bits);
  return from_low_bits(load_u16(p), bits);
}
template <Cont C>
inline void store_code(uint8_t* p, uint32_t code, int bits) {
  if (C == Cont::U8)
    p[0] = static_cast<uint8_t>(code);
  else if (C == Cont::U16Hi)
    store_u16(p, to_high_bits(code, bits));
  else
    store_u16(p, code);
}
constexpr int cont_bytes(Cont c) { return c == Cont::U8 ? 1 : 2; }
// f(std::integral_constant<Cont, C>) for c's container C: the run-time container to the
// template parameter of the row loops (their callers' one switch). Always inlined, and the
// callers' lambdas too, so that an always-inline loop lands in the caller's ISA clone.
template <class F>
inline __attribute__((always_inline)) void with_cont(Cont c, F&& f) {
  switch (c) {
    case Cont::U8: f(std::integral_constant<Cont, Cont::U8>()); break;
    case Cont::U16Hi: f(std::integral_constant<Cont, Cont::U16Hi>()); break;
    case Cont::U16Lo: f(std::integral_constant<Cont, Cont::U16Lo>()); break;
  }
}

// n codes, `step` components apart, into floats. Always inlined, so that the callers'
// ISA clones (DTUTMO_HOT) vectorise it; unit stride (planar rows) has its own loop.
template <Cont C>
inline __attribute__((always_inline)) void read_codes(const uint8_t* __restrict p, int n, int step,
                                                      int bits, float* __restrict out) {
  if (step == 1) {
    for (int i = 0; i < n; ++i) out[i] = static_cast<float>(load_code<C>(p + i * cont_bytes(C), bits));
    return;
  }
  const int sb = step * cont_bytes(C);
  for (int i = 0; i < n; ++i) out[i] = static_cast<float>(load_code<C>(p + i * sb, bits));
}
inline __attribute__((always_inline)) void read_codes(Cont c, const uint8_t* p, int n, int step,
                                                      int bits, float* out) {
  with_cont(c, [&](auto k) __attribute__((always_inline)) { read_codes<decltype(k)::value>(p, n, step, bits, out); });
}

// Two rows' codes (n, `step` components apart) mixed by chroma_mix(a, b, w) into out: the
// 4:2:0 vertical interpolation straight from the codes (read_codes of each row into
// scratch and a mix loop reading both back stored and loaded every value twice more).
template <Cont C>
inline __attribute__((always_inline)) void read_mix(const uint8_t* __restrict p0, const uint8_t* __restrict p1,
                                                    int n, int step, int bits, float w, float* __restrict out) {
  if (step == 1) {
    for (int i = 0; i < n; ++i)
      out[i] = chroma_mix(static_cast<float>(load_code<C>(p0 + i * cont_bytes(C), bits)),
                          static_cast<float>(load_code<C>(p1 + i * cont_bytes(C), bits)), w);
    return;
  }
  const int sb = step * cont_bytes(C);
  for (int i = 0; i < n; ++i)
    out[i] = chroma_mix(static_cast<float>(load_code<C>(p0 + i * sb, bits)),
                        static_cast<float>(load_code<C>(p1 + i * sb, bits)), w);
}
inline __attribute__((always_inline)) void read_mix(Cont c, const uint8_t* p0, const uint8_t* p1, int n, int step,
                                                    int bits, float w, float* out) {
  with_cont(c, [&](auto k) __attribute__((always_inline)) { read_mix<decltype(k)::value>(p0, p1, n, step, bits, w, out); });
}

// The YUV matrix of a row: luma codes read as they are (p, n codes), chroma rows us, vs,
// into planar r, g, b. Without a float luma row stored and loaded back (one store and one
// load per 8 pixels fewer): pass 1's row work -2 to -3 % in a harness (dec12).
template <Cont C>
inline __attribute__((always_inline)) void luma_matrix(const uint8_t* __restrict p, int n, int bits,
                                                       const YuvDecode& dc, const float* __restrict us,
                                                       const float* __restrict vs, float* __restrict r,
                                                       float* __restrict g, float* __restrict b) {
  for (int x = 0; x < n; ++x)
    yuv_to_rgb(dc, static_cast<float>(load_code<C>(p + x * cont_bytes(C), bits)), us[x], vs[x], r[x], g[x], b[x]);
}

// Scratch rows of one call: the caller's (convert_scratch_floats), or else the calling
// thread's, grown on its first use there.
std::size_t padded_width(int w) { return (std::size_t(w) + 15) & ~std::size_t(15); }
std::size_t chroma_pad(int w) { return std::size_t((w + 1) / 2) + 2; }
struct Scratch {
  std::vector<float> v;
  float* get(std::size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }
};
thread_local Scratch t_scratch;
float* scratch_rows(float* given, std::size_t n) { return given ? given : t_scratch.get(n); }

// n bytes from p towards the cache (a hint: one prefetch per 64-byte line).
inline void prefetch_bytes(const uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 64) __builtin_prefetch(p + i);
}

// --- YUV unpack: one row into planar R'G'B' rows ---
// Every loop below is over planar rows with unit stride (or stride 2 for the chroma pairs),
// so that the callers' ISA clones vectorise them; the matrix is the shared yuv_to_rgb.
// `buf`: unpack_scratch_floats(w) floats.
std::size_t unpack_scratch_floats(int w) { return 3 * std::size_t(w) + 2 * chroma_pad(w); }
DTUTMO_HOT
void unpack_yuv_row(const FrameView& in, const FormatInfo& fi, const YuvDecode& d, int y,
                    float* __restrict r, float* __restrict g, float* __restrict b,
                    float* __restrict buf) {
  const int w = in.width, h = in.height;
  const int bits = fi.bits;
  const Cont c = container_of(in.format);
  const int cb = cont_bytes(c);
  const YuvDecode dc = d;  // a local copy: the stores below may alias `d` as far as GCC knows
  float* __restrict us = buf + w;
  float* __restrict vs = buf + 2 * std::size_t(w);
  // The rows of the next luma row into the cache while this one is converted: a row is
  // one 4 KiB page or less (1080p 16-bit: 3840 bytes), where the hardware prefetcher
  // starts again, and the first loads of each row missed (~30 % of this function's
  // samples at 1080p fell on the luma load).
  if (y + 1 < h) {
    const int yn = y + 1, jn = fi.subsampled ? std::min((yn >> 1) + 1, (h + 1) / 2 - 1) : yn;
    const std::size_t cbytes = std::size_t(fi.subsampled ? (w + 1) / 2 : w) * cb * (interleaved_uv(in.format) ? 2 : 1);
    prefetch_bytes(in.data[0] + yn * in.stride[0], std::size_t(w) * cb);
    prefetch_bytes(in.data[1] + jn * in.stride[1], cbytes);
    if (!interleaved_uv(in.format)) prefetch_bytes(in.data[2] + jn * in.stride[2], cbytes);
  }
  if (!fi.subsampled) {  // 4:4:4
    read_codes(c, in.data[1] + y * in.stride[1], w, 1, bits, us);
    read_codes(c, in.data[2] + y * in.stride[2], w, 1, bits, vs);
  } else {
    // 4:2:0: interpolate two chroma rows vertically into a padded row (index 0 and cw+1
    // replicate the edges), then horizontally per luma pixel.
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    const std::size_t pad = chroma_pad(w);
    float* __restrict uc = buf + 3 * std::size_t(w);
    float* __restrict vc = uc + pad;
    // Chroma row j mixed with its neighbour jn by wy (chroma_phase: centre siting, even y
    // -> rows j (3/4), j-1 (1/4), odd y -> j (3/4), j+1 (1/4); cosited, even y -> row j).
    const int j = y >> 1;
    int fdy;
    float wy;
    chroma_phase(y, dc.v_cosited, &fdy, &wy);
    const int jn = std::min(std::max(j + fdy, 0), ch - 1);
    if (interleaved_uv(in.format)) {
      const uint8_t* r0 = in.data[1] + j * in.stride[1];
      const uint8_t* r1 = in.data[1] + jn * in.stride[1];
      read_mix(c, r0, r1, cw, 2, bits, wy, uc + 1);
      read_mix(c, r0 + cb, r1 + cb, cw, 2, bits, wy, vc + 1);
    } else {
      read_mix(c, in.data[1] + j * in.stride[1], in.data[1] + jn * in.stride[1], cw, 1, bits, wy, uc + 1);
      read_mix(c, in.data[2] + j * in.stride[2], in.data[2] + jn * in.stride[2], cw, 1, bits, wy, vc + 1);
    }
    uc[0] = uc[1];
    vc[0] = vc[1];
    uc[cw + 1] = uc[cw];
    vc[cw + 1] = vc[cw];
    // Luma x = 2i and 2i+1 read chroma index i+1 of the padded row mixed with its
    // neighbour (chroma_phase of each parity).
    int fe, fo;
    float we, wo;
    chroma_phase(0, dc.h_cosited, &fe, &we);
    chroma_phase(1, dc.h_cosited, &fo, &wo);
    const int pairs = w / 2;
    // Horizontally cosited ("mpeg2", H.264 / HEVC's default; the element's input caps
    // without a chroma-site): x = 2i sits on chroma sample i, chroma_mix(a, a, 0) = 1 a +
    // 0 a is a exactly (codes: finite), so a copy: half the row's mixes.
    auto upsample = [&](auto on_sample) __attribute__((always_inline)) {
      for (int i = 0; i < pairs; ++i) {
        const int k = i + 1;
        us[2 * i] = decltype(on_sample)::value ? uc[k] : chroma_mix(uc[k], uc[k + fe], we);
        vs[2 * i] = decltype(on_sample)::value ? vc[k] : chroma_mix(vc[k], vc[k + fe], we);
        us[2 * i + 1] = chroma_mix(uc[k], uc[k + fo], wo);
        vs[2 * i + 1] = chroma_mix(vc[k], vc[k + fo], wo);
      }
    };
    if (fe == 0 && we == 0.0f)
      upsample(std::true_type{});
    else
      upsample(std::false_type{});
    if (w & 1) {  // last chroma sample, padded index cw
      us[w - 1] = chroma_mix(uc[cw], uc[cw + fe], we);
      vs[w - 1] = chroma_mix(vc[cw], vc[cw + fe], we);
    }
  }
  // the matrix on the luma codes as read (no ys row stored and loaded back)
  const uint8_t* luma = in.data[0] + y * in.stride[0];
  with_cont(c, [&](auto k) __attribute__((always_inline)) {
    luma_matrix<decltype(k)::value>(luma, w, bits, dc, us, vs, r, g, b);
  });
}

// --- RGB unpack: read_pixel with a compile-time format folds to a straight loop ---
template <PixelFormat F>
void unpack_rgb_row(const FrameView& in, int y, float* r, float* g, float* b) {
  const YuvDecode d{};  // unused for RGB formats
  uint8_t* const planes[4] = {in.data[0] + y * in.stride[0], nullptr, nullptr, nullptr};
  const std::ptrdiff_t strides[4] = {0, 0, 0, 0};
  for (int x = 0; x < in.width; ++x) read_pixel(F, planes, strides, x, 0, d, r[x], g[x], b[x]);
}

// --- RGB pack ---
template <PixelFormat F>
void pack_rgb_rows(const float* rgb, std::ptrdiff_t sf, const FrameView& out, int y0, int y1,
                   bool dither) {
  for (int y = y0; y < y1; ++y) {
    uint8_t* row = out.data[0] + y * out.stride[0];
    const float* s = rgb + (y - y0) * sf;
    float th[8];
    for (int i = 0; i < 8; ++i) th[i] = dither ? bayer8_threshold(i, y) : 0.5f;
    for (int x = 0; x < out.width; ++x)
      write_rgb_pixel(F, row, x, clamp01(s[3 * x]), clamp01(s[3 * x + 1]), clamp01(s[3 * x + 2]),
                      th[x & 7]);
  }
}

// 8-bit RGBA-family pack: one 32-bit store per pixel, straight-line so that it vectorises
// (same arithmetic as write_rgb_pixel: clamp01, quantize with the dither offset).
// clamp01 (NaN -> 0) then v * 255 + t with t in (0, 1): only the top clamp of quantize can
// act, so this is quantize(clamp01(v), 255, t) exactly.
inline __attribute__((always_inline)) uint32_t q8(float v, float t) {
  v = v > 0.0f ? v : 0.0f;
  v = v < 1.0f ? v : 1.0f;
  float c = v * 255.0f + t;
  c = c < 255.0f ? c : 255.0f;
  return uint32_t(int32_t(c));
}
template <bool BGR>
inline __attribute__((always_inline)) uint32_t rgba8_word(uint32_t r, uint32_t g, uint32_t b) {
  return (BGR ? (b | (r << 16)) : (r | (b << 16))) | (g << 8) | 0xff000000u;
}
template <bool BGR>
DTUTMO_HOT
void pack_rgba8_rows(const float* rgb, std::ptrdiff_t sf, const FrameView& out, int y0, int y1,
                     bool dither) {
  const int w = out.width;
  for (int y = y0; y < y1; ++y) {
    uint32_t* __restrict row = reinterpret_cast<uint32_t*>(out.data[0] + y * out.stride[0]);
    const float* __restrict s = rgb + (y - y0) * sf;
    float th[8];
    for (int i = 0; i < 8; ++i) th[i] = dither ? bayer8_threshold(i, y) : 0.5f;
    auto px = [&](int x, float t) __attribute__((always_inline)) {
      const uint32_t v = rgba8_word<BGR>(q8(s[3 * x], t), q8(s[3 * x + 1], t), q8(s[3 * x + 2], t));
      std::memcpy(row + x, &v, 4);
    };
    int x = 0;
    for (; x + 8 <= w; x += 8)
      for (int k = 0; k < 8; ++k) px(x + k, th[k]);
    for (; x < w; ++x) px(x, th[x & 7]);
  }
}
// The same from one planar row (pack_rows_planar): unit-stride loads, no interleaved copy
// (interleave then pack_rgba8_rows, stride-3 loads, took ~3x the samples on the clip).
template <bool BGR>
DTUTMO_HOT
void pack_rgba8_planar(const float* __restrict r, const float* __restrict g, const float* __restrict b,
                       uint8_t* __restrict out_row, int w, int y, bool dither) {
  float th[8];
  for (int i = 0; i < 8; ++i) th[i] = dither ? bayer8_threshold(i, y) : 0.5f;
  auto px = [&](int x, float t) __attribute__((always_inline)) {
    const uint32_t v = rgba8_word<BGR>(q8(r[x], t), q8(g[x], t), q8(b[x], t));
    std::memcpy(out_row + 4 * std::size_t(x), &v, 4);
  };
  int x = 0;
  for (; x + 8 <= w; x += 8)
    for (int k = 0; k < 8; ++k) px(x + k, th[k]);
  for (; x < w; ++x) px(x, th[x & 7]);
}

// --- YUV pack ---
template <Cont C>
void pack_yuv444(const float* rgb, std::ptrdiff_t sf, const FrameView& out, const YuvEncode& e,
                 int bits, int y0, int y1, bool dither) {
  for (int y = y0; y < y1; ++y) {
    const float* s = rgb + (y - y0) * sf;
    uint8_t* py = out.data[0] + y * out.stride[0];
    uint8_t* pu = out.data[1] + y * out.stride[1];
    uint8_t* pv = out.data[2] + y * out.stride[2];
    for (int x = 0; x < out.width; ++x) {
      const float r = clamp01(s[3 * x]), g = clamp01(s[3 * x + 1]), b = clamp01(s[3 * x + 2]);
      const float t = dither ? bayer8_threshold(x, y) : 0.5f;
      float cbv, crv;
      rgb_to_cbcr_code(e, r, g, b, cbv, crv);
      store_code<C>(py + x * cont_bytes(C), quantize_code(rgb_to_y_code(e, r, g, b), e.maxc, t), bits);
      store_code<C>(pu + x * cont_bytes(C), quantize_code(cbv, e.maxc, t), bits);
      store_code<C>(pv + x * cont_bytes(C), quantize_code(crv, e.maxc, t), bits);
    }
  }
}

// quantize_code with the float maxc m hoisted: the same result (NaN -> 0), written as
// max then min, which GCC makes vmaxps, vminps (the nested select took compares, masks
// and blends in the vectorised loops)
inline __attribute__((always_inline)) uint32_t quantize_code_m(float code, float m, float t) {
  float c = code + t;
  c = c > 0.0f ? c : 0.0f;  // NaN -> 0
  c = c < m ? c : m;
  return uint32_t(int32_t(c));
}

// The luma row of a 4:2:0 pair, th: the row's 8 dither offsets. Its own function with
// restrict parameters: as a lambda in pack_yuv420_pair GCC versioned the loop for
// aliasing of the rows with the plane, and its scalar version took ~15 % of the packer's
// samples on the 1080p clip.
template <Cont C>
inline __attribute__((always_inline)) void luma_row(uint8_t* __restrict py, const float* __restrict R,
                                                    const float* __restrict G, const float* __restrict Bp,
                                                    int w, const YuvEncode& ec, int bits, const float* th) {
  constexpr int B = cont_bytes(C);
  const float m = float(ec.maxc);
  float tt[8];  // a local copy (the stores may alias th as far as GCC knows)
  for (int k = 0; k < 8; ++k) tt[k] = th[k];
  auto px = [&](int x, float t) __attribute__((always_inline)) {
    store_code<C>(py + x * B, quantize_code_m(rgb_to_y_code(ec, R[x], G[x], Bp[x]), m, t), bits);
  };
  int x = 0;
  for (; x + 8 <= w; x += 8)  // blocks of 8: the dither offset is a constant per lane
    for (int k = 0; k < 8; ++k) px(x + k, tt[k]);
  for (; x < w; ++x) px(x, tt[x & 7]);
}

#if defined(__x86_64__) || defined(__i386__)
// chroma_down's sums (the same products and order, so the same values: w00 c00 + w01 c01 +
// w10 c10 + w11 c11, w = wv wh) of the 2x2 blocks of n chroma samples (n a multiple of 8)
// from rows p0, p1 (luma 2i, 2i + 1 of each) into out. Each row's even and odd columns by
// one in-lane vshufps each, which leaves the 8 sums in the order 0 1 4 5 2 3 6 7 (one
// vpermpd puts them back); GCC's stride-2 loads took two lane-crossing vpermd and a blend
// per row and column parity (12 of them per 8 samples and channel).
__attribute__((target("avx2,fma"))) static void chroma_down_avx2(const float* __restrict p0,
                                                                 const float* __restrict p1, int n,
                                                                 const float w[4], float* __restrict out) {
  const __m256 w00 = _mm256_set1_ps(w[0]), w01 = _mm256_set1_ps(w[1]), w10 = _mm256_set1_ps(w[2]),
               w11 = _mm256_set1_ps(w[3]);
  for (int k = 0; k < n; k += 8) {
    const __m256 a0 = _mm256_loadu_ps(p0 + 2 * k), a1 = _mm256_loadu_ps(p0 + 2 * k + 8);
    const __m256 b0 = _mm256_loadu_ps(p1 + 2 * k), b1 = _mm256_loadu_ps(p1 + 2 * k + 8);
    __m256 acc = _mm256_mul_ps(w00, _mm256_shuffle_ps(a0, a1, 0x88));
    acc = _mm256_fmadd_ps(w01, _mm256_shuffle_ps(a0, a1, 0xDD), acc);
    acc = _mm256_fmadd_ps(w10, _mm256_shuffle_ps(b0, b1, 0x88), acc);
    acc = _mm256_fmadd_ps(w11, _mm256_shuffle_ps(b0, b1, 0xDD), acc);
    _mm256_storeu_ps(out + k, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(acc), 0xD8)));
  }
}
#endif

// 4:2:0, one row pair: luma of row y (and y + 1 when `two`), and the chroma row of the
// pair when y is even (a band starting at an odd row writes that row's luma only). The
// rows come clamped to [0, 1] and planar (R0 G0 B0 row y, R1 G1 B1 row y + 1, row y's
// again when !two), so that the loops below have unit or stride-2 loads and vectorise.
// The columns [xa, xb) (xa a multiple of 16, xb the frame's width or a multiple of 16:
// the dither's lanes and the chroma blocks stay where the whole row puts them):
// pack_rows_planar's whole row is [0, w); the CPU engine's 4:2:0 block path packs the
// partial last chunk it did not pack itself (pack_pair_span).
template <Cont C>
DTUTMO_HOT
void pack_yuv420_pair(const float* R0, const float* G0, const float* B0, const float* R1,
                      const float* G1, const float* B1, const FrameView& out, const YuvEncode& e,
                      int bits, bool il, int y, bool two, bool dither, int xa, int xb) {
  constexpr int B = cont_bytes(C);
  // A local copy of the coefficients: the byte stores below may alias `e` as far as the
  // compiler knows, which would reload every coefficient per pixel and block vectorising.
  const YuvEncode ec = e;
  const float m = float(ec.maxc);
  float wh[2], wv[2];  // chroma siting (pixel_io.h chroma_down_weights)
  chroma_down_weights(ec.h_cosited, wh);
  chroma_down_weights(ec.v_cosited, wv);
  auto qc = [m](float code, float t) __attribute__((always_inline)) { return quantize_code_m(code, m, t); };
  float tl0[8], tl1[8];  // the luma rows' dither offsets
  for (int i = 0; i < 8; ++i) {
    tl0[i] = dither ? bayer8_threshold(i, y) : 0.5f;
    tl1[i] = dither ? bayer8_threshold(i, y + 1) : 0.5f;
  }
  const int j = y >> 1;
  float th[8];  // the chroma row's
  for (int i = 0; i < 8; ++i) th[i] = dither ? bayer8_threshold(i, j) : 0.5f;
  const int cstep = il ? 2 * B : B;
#if defined(__x86_64__) || defined(__i386__)
  const bool avx2 = cpu::have_avx2();
  const float w4[4] = {wv[0] * wh[0], wv[0] * wh[1], wv[1] * wh[0], wv[1] * wh[1]};
#endif
  const int w = xb - xa;  // the span, w columns from xa
  const int cw = (w + 1) / 2;
  const float *r0 = R0 + xa, *g0 = G0 + xa, *b0 = B0 + xa, *r1 = R1 + xa, *g1 = G1 + xa, *b1 = B1 + xa;
  luma_row<C>(out.data[0] + y * out.stride[0] + xa * B, r0, g0, b0, w, ec, bits, tl0);
  if (two) luma_row<C>(out.data[0] + (y + 1) * out.stride[0] + xa * B, r1, g1, b1, w, ec, bits, tl1);
  if (y & 1) return;
  uint8_t* pu = out.data[1] + j * out.stride[1] + (xa / 2) * cstep;
  uint8_t* pv = il ? pu + B : out.data[2] + j * out.stride[2] + (xa / 2) * B;
  // the R'G'B' of chroma sample i from its 2x2 block per the siting (x1 = x0 + 1, or the
  // last column), into the codes before the dither offset
  auto cpx = [&](int i, int x1, float& cbv, float& crv) __attribute__((always_inline)) {
    const int x0 = 2 * i;
    const float r = chroma_down(r0[x0], r0[x1], r1[x0], r1[x1], wh, wv);
    const float g = chroma_down(g0[x0], g0[x1], g1[x0], g1[x1], wh, wv);
    const float b = chroma_down(b0[x0], b0[x1], b1[x0], b1[x1], wh, wv);
    rgb_to_cbcr_code(ec, r, g, b, cbv, crv);
  };
  // Blocks of full 2x2 blocks (kBlk, then 8) in two loops: the float codes into two small
  // arrays (stride-2 loads, unit-stride stores), then quantised and stored as the luma is
  // (8 offsets, one per lane). In one loop, quantised codes through small arrays of 8, the
  // stores stayed scalar and the loop spilled (~1/3 of the packer's samples on the clip).
  // With AVX2 the blocks' R'G'B' come from chroma_down_avx2 (same sums) into fr, fg, fb,
  // and the codes from them.
  constexpr int kBlk = 64;
  float fu[kBlk], fv[kBlk];
  uint8_t* __restrict qu = pu;
  uint8_t* __restrict qv = pv;
#if defined(__x86_64__) || defined(__i386__)
  float fr[kBlk], fg[kBlk], fb[kBlk];
#endif
  int i = 0;
  auto blocks = [&](auto nb) __attribute__((always_inline)) {
    constexpr int N = decltype(nb)::value;
    for (; i + N <= w / 2; i += N) {
#if defined(__x86_64__) || defined(__i386__)
      if (avx2) {
        chroma_down_avx2(r0 + 2 * i, r1 + 2 * i, N, w4, fr);
        chroma_down_avx2(g0 + 2 * i, g1 + 2 * i, N, w4, fg);
        chroma_down_avx2(b0 + 2 * i, b1 + 2 * i, N, w4, fb);
        for (int k = 0; k < N; ++k) rgb_to_cbcr_code(ec, fr[k], fg[k], fb[k], fu[k], fv[k]);
      } else
#endif
        for (int k = 0; k < N; ++k) cpx(i + k, 2 * (i + k) + 1, fu[k], fv[k]);
      if (il) {
        for (int k0 = 0; k0 < N; k0 += 8)
          for (int k = 0; k < 8; ++k) {
            store_code<C>(qu + (i + k0 + k) * 2 * B, qc(fu[k0 + k], th[k]), bits);
            store_code<C>(qu + (i + k0 + k) * 2 * B + B, qc(fv[k0 + k], th[k]), bits);
          }
      } else {
        for (int k0 = 0; k0 < N; k0 += 8)
          for (int k = 0; k < 8; ++k) {
            store_code<C>(qu + (i + k0 + k) * B, qc(fu[k0 + k], th[k]), bits);
            store_code<C>(qv + (i + k0 + k) * B, qc(fv[k0 + k], th[k]), bits);
          }
      }
    }
  };
  blocks(std::integral_constant<int, kBlk>());
  blocks(std::integral_constant<int, 8>());
  for (; i < cw; ++i) {
    float cbv, crv;
    cpx(i, std::min(2 * i + 1, w - 1), cbv, crv);
    store_code<C>(pu + i * cstep, qc(cbv, th[i & 7]), bits);
    store_code<C>(pv + i * cstep, qc(crv, th[i & 7]), bits);
  }
}

bool clip_rows(const FrameView& f, int& y0, int& y1) {
  y0 = std::max(y0, 0);
  y1 = std::min(y1, f.height);
  return f.width > 0 && y0 < y1 && f.data[0] != nullptr;
}

// One row of any format into planar R'G'B' (unpack_row_planar); `buf`:
// unpack_scratch_floats(w) floats.
void unpack_row(const FrameView& in, const FormatInfo& fi, const SignalDesc& sig, int y, float* r,
                float* g, float* b, float* buf) {
  if (fi.yuv) {
    unpack_yuv_row(in, fi, yuv_decode(sig, fi.bits), y, r, g, b, buf);
    return;
  }
  switch (in.format) {
    case PixelFormat::RGBA64_LE: unpack_rgb_row<PixelFormat::RGBA64_LE>(in, y, r, g, b); break;
    case PixelFormat::RGB10A2_LE: unpack_rgb_row<PixelFormat::RGB10A2_LE>(in, y, r, g, b); break;
    case PixelFormat::BGR10A2_LE: unpack_rgb_row<PixelFormat::BGR10A2_LE>(in, y, r, g, b); break;
    case PixelFormat::RGBA: unpack_rgb_row<PixelFormat::RGBA>(in, y, r, g, b); break;
    case PixelFormat::RGBx: unpack_rgb_row<PixelFormat::RGBx>(in, y, r, g, b); break;
    case PixelFormat::BGRA: unpack_rgb_row<PixelFormat::BGRA>(in, y, r, g, b); break;
    case PixelFormat::BGRx: unpack_rgb_row<PixelFormat::BGRx>(in, y, r, g, b); break;
    case PixelFormat::RGBF32: unpack_rgb_row<PixelFormat::RGBF32>(in, y, r, g, b); break;
    default: break;
  }
}

// Rows [y0, y1) of interleaved R'G'B' (rows sf floats apart) into a format other than
// YUV 4:2:0 (those go through pack_yuv420 from planar rows).
void pack_interleaved(const float* rgb, std::ptrdiff_t sf, const FrameView& out, const FormatInfo& fi,
                      const SignalDesc& sig, int y0, int y1, bool dither) {
  if (fi.yuv) {
    const YuvEncode e = yuv_encode(sig, fi.bits);
    with_cont(container_of(out.format),
              [&](auto k) { pack_yuv444<decltype(k)::value>(rgb, sf, out, e, fi.bits, y0, y1, dither); });
    return;
  }
  switch (out.format) {
    case PixelFormat::RGBA64_LE: pack_rgb_rows<PixelFormat::RGBA64_LE>(rgb, sf, out, y0, y1, false); break;
    case PixelFormat::RGB10A2_LE: pack_rgb_rows<PixelFormat::RGB10A2_LE>(rgb, sf, out, y0, y1, false); break;
    case PixelFormat::BGR10A2_LE: pack_rgb_rows<PixelFormat::BGR10A2_LE>(rgb, sf, out, y0, y1, false); break;
    case PixelFormat::RGBA:
    case PixelFormat::RGBx: pack_rgba8_rows<false>(rgb, sf, out, y0, y1, dither); break;
    case PixelFormat::BGRA:
    case PixelFormat::BGRx: pack_rgba8_rows<true>(rgb, sf, out, y0, y1, dither); break;
    case PixelFormat::RGBF32:
      for (int y = y0; y < y1; ++y)
        std::memcpy(out.data[0] + y * out.stride[0], rgb + (y - y0) * sf,
                    static_cast<std::size_t>(out.width) * 3 * sizeof(float));
      break;
    default:
      break;
  }
}

// One planar row of clamped R, G, B for the 4:2:0 packer (read only).
struct PlanarRow {
  const float *r, *g, *b;
};

// Rows [y0, y1) of 4:2:0 a row pair at a time (a single row where y0 is odd and at an odd
// end): `prep(y, R, G, B)` returns row y clamped and planar, either written into the
// scratch rows R, G, B or the caller's own rows (the packer only reads them).
template <class Prep>
void pack_420(const FrameView& out, const FormatInfo& fi, const SignalDesc& sig, int y0, int y1,
              bool dither, float* scratch, Prep prep) {
  const YuvEncode e = yuv_encode(sig, fi.bits);
  const bool il = interleaved_uv(out.format);
  const std::size_t wp = padded_width(out.width);
  float* const pl = scratch_rows(scratch, 6 * wp);
  for (int y = y0; y < y1;) {
    const int yn = std::min(y1, (y & 1) ? y + 1 : y + 2);
    const bool two = yn == y + 2;
    const PlanarRow a = prep(y, pl, pl + wp, pl + 2 * wp);
    const PlanarRow b = two ? prep(y + 1, pl + 3 * wp, pl + 4 * wp, pl + 5 * wp) : a;
    with_cont(container_of(out.format), [&](auto k) {
      pack_yuv420_pair<decltype(k)::value>(a.r, a.g, a.b, b.r, b.g, b.b, out, e, fi.bits, il, y, two, dither, 0,
                                           out.width);
    });
    y = yn;
  }
}

// interleaved <-> planar, one row of w pixels
void interleave(const float* __restrict r, const float* __restrict g, const float* __restrict b, int w,
                float* __restrict o) {
  for (int x = 0; x < w; ++x) {
    o[3 * x] = r[x];
    o[3 * x + 1] = g[x];
    o[3 * x + 2] = b[x];
  }
}
// clamped to [0, 1] (clamp01) on the way: the packers' input
DTUTMO_HOT
void deinterleave_clamped(const float* __restrict s, int w, float* __restrict r, float* __restrict g,
                          float* __restrict b) {
  for (int x = 0; x < w; ++x) {
    r[x] = clamp01(s[3 * x]);
    g[x] = clamp01(s[3 * x + 1]);
    b[x] = clamp01(s[3 * x + 2]);
  }
}
DTUTMO_HOT
void clamp_rows(const float* __restrict r, const float* __restrict g, const float* __restrict b, int w,
                float* __restrict R, float* __restrict G, float* __restrict B) {
  for (int x = 0; x < w; ++x) {
    R[x] = clamp01(r[x]);
    G[x] = clamp01(g[x]);
    B[x] = clamp01(b[x]);
  }
}

}  // namespace

std::size_t convert_scratch_floats(int width) {
  const std::size_t w = std::size_t(std::max(width, 0));
  // unpack_rows: a planar row and the unpack's; pack_rows: two planar rows (4:2:0);
  // pack_rows_planar: one interleaved row (other formats)
  return std::max({3 * padded_width(width) + unpack_scratch_floats(width), 6 * padded_width(width), 3 * w});
}

void unpack_row_planar(const FrameView& in, const SignalDesc& sig, int y, float* r, float* g,
                       float* b, float* scratch) {
  if (in.width <= 0 || y < 0 || y >= in.height || in.data[0] == nullptr) return;
  unpack_row(in, format_info(in.format), sig, y, r, g, b,
             scratch_rows(scratch, unpack_scratch_floats(in.width)));
}

void unpack_rows(const FrameView& in, const SignalDesc& sig, int y0, int y1, float* rgb,
                 std::ptrdiff_t stride_floats, float* scratch) {
  if (!clip_rows(in, y0, y1)) return;
  const int w = in.width;
  if (in.format == PixelFormat::RGBF32) {
    for (int y = y0; y < y1; ++y)
      std::memcpy(rgb + (y - y0) * stride_floats, in.data[0] + y * in.stride[0],
                  static_cast<std::size_t>(w) * 3 * sizeof(float));
    return;
  }
  const FormatInfo& fi = format_info(in.format);
  const std::size_t wp = padded_width(w);
  float* const buf = scratch_rows(scratch, convert_scratch_floats(w));
  for (int y = y0; y < y1; ++y) {
    unpack_row(in, fi, sig, y, buf, buf + wp, buf + 2 * wp, buf + 3 * wp);
    interleave(buf, buf + wp, buf + 2 * wp, w, rgb + (y - y0) * stride_floats);
  }
}

void pack_rows(const float* rgb, std::ptrdiff_t stride_floats, const FrameView& out,
               const SignalDesc& sig, int y0, int y1, bool dither, float* scratch) {
  if (!clip_rows(out, y0, y1)) return;
  const FormatInfo& fi = format_info(out.format);
  dither = dither && fi.bits <= 8;
  if (!(fi.yuv && fi.subsampled)) {
    pack_interleaved(rgb, stride_floats, out, fi, sig, y0, y1, dither);
    return;
  }
  const int w = out.width;
  pack_420(out, fi, sig, y0, y1, dither, scratch, [&](int y, float* R, float* G, float* B) {
    deinterleave_clamped(rgb + (y - y0) * stride_floats, w, R, G, B);
    return PlanarRow{R, G, B};
  });
}

void pack_rows_planar(const float* rgb, std::ptrdiff_t row_floats, std::ptrdiff_t plane_floats,
                      const FrameView& out, const SignalDesc& sig, int y0, int y1, bool dither,
                      float* scratch, bool in_range) {
  if (!clip_rows(out, y0, y1)) return;
  const FormatInfo& fi = format_info(out.format);
  dither = dither && fi.bits <= 8;
  if (fi.yuv && fi.subsampled) {
    const int w = out.width;
    pack_420(out, fi, sig, y0, y1, dither, scratch, [&](int y, float* R, float* G, float* B) {
      const float* p = rgb + (y - y0) * row_floats;
      if (in_range) return PlanarRow{p, p + plane_floats, p + 2 * plane_floats};  // as they are
      clamp_rows(p, p + plane_floats, p + 2 * plane_floats, w, R, G, B);
      return PlanarRow{R, G, B};
    });
    return;
  }
  const bool bgr = out.format == PixelFormat::BGRA || out.format == PixelFormat::BGRx;
  if (bgr || out.format == PixelFormat::RGBA || out.format == PixelFormat::RGBx) {
    for (int y = y0; y < y1; ++y) {
      const float* p = rgb + (y - y0) * row_floats;
      uint8_t* o = out.data[0] + y * out.stride[0];
      if (bgr) pack_rgba8_planar<true>(p, p + plane_floats, p + 2 * plane_floats, o, out.width, y, dither);
      else pack_rgba8_planar<false>(p, p + plane_floats, p + 2 * plane_floats, o, out.width, y, dither);
    }
    return;
  }
  float* const row = scratch_rows(scratch, 3 * std::size_t(out.width));
  for (int y = y0; y < y1; ++y) {
    const float* p = rgb + (y - y0) * row_floats;
    interleave(p, p + plane_floats, p + 2 * plane_floats, out.width, row);
    pack_interleaved(row, 0, out, fi, sig, y, y + 1, dither);
  }
}

bool yuv420_codes(const FrameView& out, const SignalDesc& sig, bool dither, Yuv420Codes* c) {
  const FormatInfo& fi = format_info(out.format);
  if (!(fi.yuv && fi.subsampled)) return false;
  const YuvEncode e = yuv_encode(sig, fi.bits);
  const Cont k = container_of(out.format);
  c->bits = fi.bits;
  c->bytes = cont_bytes(k);
  c->high = k == Cont::U16Hi;
  c->il = interleaved_uv(out.format);
  c->dither = dither && fi.bits <= 8;
  c->kr = e.kr;
  c->kg = e.kg;
  c->kb = e.kb;
  c->y_off = e.y_off;
  c->y_scale = e.y_scale;
  c->c_off = e.c_off;
  c->cb_mul = e.cb_mul * e.c_scale;
  c->cr_mul = e.cr_mul * e.c_scale;
  c->maxc = float(e.maxc);
  float wh[2], wv[2];
  chroma_down_weights(e.h_cosited, wh);
  chroma_down_weights(e.v_cosited, wv);
  c->w[0] = wv[0] * wh[0];
  c->w[1] = wv[0] * wh[1];
  c->w[2] = wv[1] * wh[0];
  c->w[3] = wv[1] * wh[1];
  return true;
}

void pack_pair_span(const float* rgb, std::ptrdiff_t row_floats, std::ptrdiff_t plane_floats,
                    const FrameView& out, const SignalDesc& sig, int y, int x0, int x1, bool dither) {
  const FormatInfo& fi = format_info(out.format);
  if (x1 <= x0 || !(fi.yuv && fi.subsampled) || y < 0 || y + 1 >= out.height || (y & 1)) return;
  dither = dither && fi.bits <= 8;
  const YuvEncode e = yuv_encode(sig, fi.bits);
  const bool il = interleaved_uv(out.format);
  const float* a = rgb;
  const float* b = rgb + row_floats;
  with_cont(container_of(out.format), [&](auto k) {
    pack_yuv420_pair<decltype(k)::value>(a, a + plane_floats, a + 2 * plane_floats, b, b + plane_floats,
                                         b + 2 * plane_floats, out, e, fi.bits, il, y, true, dither, x0, x1);
  });
}

}  // namespace dtutmo
