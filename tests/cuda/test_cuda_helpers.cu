// Every per-pixel helper the CUDA kernels use, evaluated once on the host and once in a
// <<<1,1>>> kernel, against the same expected values (anchors of the standards where they
// exist, otherwise the host result, which the CPU engine shares). The host halves run on
// every machine; the device halves skip without a CUDA device (gpu_gate.h).
#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "dtutmo/convert.h"
#include "dtutmo/csf.h"
#include "dtutmo/optics.h"
#include "gpu_gate.h"
#include "io.cuh"
#include "model.cuh"

using namespace dtutmo;
using namespace dtutmo::cuda;

namespace {

template <class F>
__global__ void k_run1(F f, float* out) {
  f(out);
}

template <class F>
std::vector<float> run_device(F f, int n) {
  std::vector<float> r(n, NAN);
  float* d = nullptr;
  if (cudaMalloc(&d, n * sizeof(float)) != cudaSuccess) {
    ADD_FAILURE() << "cudaMalloc";
    return r;
  }
  cudaMemset(d, 0xff, n * sizeof(float));
  k_run1<<<1, 1>>>(f, d);
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) e = cudaDeviceSynchronize();
  if (e == cudaSuccess) e = cudaMemcpy(r.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost);
  if (e != cudaSuccess) ADD_FAILURE() << "device run: " << cudaGetErrorString(e);
  cudaFree(d);
  return r;
}

float tol_of(float ref, float rel, float abs_tol) { return std::max(abs_tol, rel * std::fabs(ref)); }

// Host run of `fh` against `expect` (or nothing when empty); device run of `fd` against
// `expect` (or the host result when empty). Tolerances: relative `rel`, absolute floor
// `abs_tol` (the device is built with --use_fast_math).
template <class FH, class FD>
void check2(FH fh, FD fd, int n, const std::vector<float>& expect, float rel, float abs_tol) {
  std::vector<float> h(n, NAN);
  fh(h.data());
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(std::isfinite(h[i])) << "host output " << i;
    if (!expect.empty() && !std::isnan(expect[i]))
      EXPECT_NEAR(h[i], expect[i], tol_of(expect[i], rel, abs_tol)) << "host output " << i;
  }
  DTUTMO_NEED_GPU();  // device half (the host half has passed)
  const std::vector<float> d = run_device(fd, n);
  for (int i = 0; i < n; ++i) {
    const float ref = (expect.empty() || std::isnan(expect[i])) ? h[i] : expect[i];
    EXPECT_NEAR(d[i], ref, tol_of(ref, rel, abs_tol)) << "device output " << i;
  }
}
template <class F>
void check(F f, int n, const std::vector<float>& expect, float rel, float abs_tol = 1e-6f) {
  check2(f, f, n, expect, rel, abs_tol);
}

}  // namespace

struct HdCase1 {
  __host__ __device__ void operator()(float* o) const {
    o[0] = pq_eotf(1.0f);
    o[1] = pq_eotf(0.0f);
    o[2] = pq_inv_eotf(10000.0f);
    o[3] = pq_inv_eotf(100.0f);
    o[4] = pq_eotf(pq_inv_eotf(203.0f));
    o[5] = hlg_oetf(1.0f / 12.0f);
    o[6] = hlg_inv_oetf(hlg_oetf(0.3f));
    o[7] = srgb_eotf(1.0f);
    o[8] = srgb_inv_eotf(0.0031308f);
    o[9] = bt1886_eotf(0.5f);
    o[10] = bt1886_inv_eotf(bt1886_eotf(0.7f));
  }
};

TEST(CudaHelpers, TransferAnchors) {
  const HdCase1 f{};
  check(f, 11, {10000.0f, 0.0f, 1.0f, 0.508078f, 203.0f, 0.5f, 0.3f, 1.0f, 0.04045f, 0.189465f, 0.7f},
        3e-4f, 1e-5f);
}

struct HdCase2 {
  __host__ __device__ void operator()(float* o) const {
    const float I[7] = {1e-4f, 1e-2f, 1.0f, 1e2f, 1e4f, 1e5f, 1e6f};
    for (int k = 0; k < 7; ++k) {
      const float p = bleach(I[k], kConeL.b), sg = receptor_sigma(I[k], p, kConeL);
      const float r = receptor_response(I[k], sg, p, kConeL.n);
      o[k] = receptor_inverse(r, sg, p, kConeL.n) / I[k];
    }
    o[7] = bleach(0.5f, kConeL.b);
    o[8] = mesopic_weight(0.01f);
    o[9] = mesopic_weight(10.0f);
    o[10] = mesopic_weight(0.1f);
  }
};

TEST(CudaHelpers, ReceptorRoundTrip) {
  const HdCase2 f{};
  check(f, 11, {1, 1, 1, 1, 1, 1, 1, 1.0f, 1.0f, 0.0f, 2.0f / 3.0f}, 1e-4f, 1e-5f);
}

struct HdCase3 {
  __host__ __device__ void operator()(float* o) const {
    o[0] = pupil_watson_yellott(100.0f, 60.0f * 33.75f, 24.0f, 1);
    o[1] = pupil_watson_yellott(0.01f, 60.0f * 33.75f, 70.0f, 1);
    o[2] = pupil_area_eff(4.0f);
    o[3] = receptor_sigma(1000.0f, bleach(1000.0f, kConeS.b), kConeS);
    o[4] = receptor_sigma(0.1f, bleach(0.1f, kRod.b), kRod);
    // the engine's response form (log2) equals the header's
    const float sp = bleach(500.0f, kConeM.b), ss = receptor_sigma(500.0f, sp, kConeM);
    o[5] = resp_log2(log2f(sp * 300.0f), log2f(ss), kConeM.n);
    o[6] = receptor_response(300.0f, ss, sp, kConeM.n);
    o[7] = smooth_to(1.0f, 2.0f, 0.25f);
    o[8] = smooth_to(1.0f, 1.0f + 1e-7f, 0.25f);
  }
};

TEST(CudaHelpers, ReceptorParity) {
  const HdCase3 f{};
  check(f, 9, {}, 2e-5f, 1e-6f);
}

struct HdCase4 {
  __host__ __device__ void operator()(float* o) const {
    o[0] = soft_knee(0.5f, 0.9f, 1.0f);
    o[1] = soft_knee(2.0f, 0.9f, 1.0f);
    o[2] = smoothstepf(0.0f, 1.0f, 0.5f);
    o[3] = display_adaptation(1000.0f, 100.0f, 0.5f, 1);
    o[4] = display_adaptation(1.0f, 100.0f, 0.5f, 1);
    const Vec3 g = gamut_desaturate({150.0f, -10.0f, 20.0f}, {0.2126f, 0.7152f, 0.0722f}, 100.0f);
    o[5] = g.x;
    o[6] = g.y;
    o[7] = g.z;
    o[8] = 0.2126f * g.x + 0.7152f * g.y + 0.0722f * g.z;  // luminance kept
    o[9] = receptor_inverse(receptor_response(50.0f, 80.0f, 0.9f, 0.74f), 80.0f, 0.9f, 0.74f) / 2.0f;
  }
};

TEST(CudaHelpers, DisplayAndGamut) {
  const HdCase4 f{};
  check(f, 10, {0.5f, NAN, 0.5f, 50.0f, 10.0f, NAN, NAN, NAN, 26.182f, 25.0f}, 1e-4f, 1e-4f);
}

struct HdCase5 {
  __host__ __device__ void operator()(float* o) const {
    const CamCond k = cam_condition(100.0f, 0.69f, 1.0f, 1.2f);
    const Vec3 r[3] = {{0.4f, 0.35f, 0.2f}, {0.1f, 0.3f, 0.5f}, {0.6f, 0.6f, 0.6f}};
    for (int i = 0; i < 3; ++i) {
      const Vec3 b = dtucam_inverse(dtucam_forward(r[i], k), k);
      o[3 * i] = b.x - r[i].x;
      o[3 * i + 1] = b.y - r[i].y;
      o[3 * i + 2] = b.z - r[i].z;
    }
    o[9] = odds_scale(odds_scale(0.3f, 2.0f), 0.5f);
  }
};

TEST(CudaHelpers, DtucamRoundTrip) {
  const HdCase5 f{};
  check(f, 10, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0.3f}, 1e-4f, 2e-4f);
}

struct HdCase6 {
  __host__ __device__ void operator()(float* o) const {
    o[0] = fast_exp2(3.3f);
    o[1] = fast_exp2(-20.25f);
    o[2] = fast_log2(1234.5f);
    o[3] = fast_log2(1e-6f);
    o[4] = fast_pow(2.5f, 1.7f);
  }
};

TEST(CudaHelpers, FastMath) {
  const HdCase6 f{};
  check(f, 5, {9.849155f, 8.019413e-7f, 10.269711f, -19.931569f, 4.747861f}, 2e-6f, 1e-12f);
}

struct HdCase7 {
  __host__ __device__ void operator()(float* o) const {
    o[0] = cie180_psf(1.0f, 24.0f, 0.5f);
    o[1] = cie180_psf(0.01f, 24.0f, 0.5f);  // clamped at 0.1 deg
    o[2] = otf_fc(20.0f);
    o[3] = glare_cell_weight(1.0f, 0.5f, 0.1f, 0.1f, 24.0f, 0.5f, 6);
    o[4] = csf_ratio_gain(4.0f, 100.0f, 100.0f, 60.0f, 0);
    o[5] = csf_ratio_gain(16.0f, 0.01f, 50.0f, 60.0f, 0);
    o[6] = csf_ratio_gain(16.0f, 0.01f, 50.0f, 60.0f, 1);
  }
};

TEST(CudaHelpers, OpticsAndCsf) {
  const HdCase7 f{};
  const float a = 24.0f / 62.5f, a4 = a * a * a * a;
  check(f, 7,
        {10.0f + 5.05f * (1.0f + a4) + 0.00125f, 10000.0f + (500.0f + 0.5f) * (1.0f + a4) + 0.00125f,
         60.0f, NAN, 1.0f, NAN, NAN},
        2e-5f, 1e-6f);
}

struct HdCase8 {
  __host__ __device__ void operator()(float* o) const {
    o[0] = (float)pio::quantize(0.5f, 255u, 0.5f);
    o[1] = (float)pio::quantize(NAN, 255u, 0.5f);
    o[2] = pio::bayer8_threshold(0, 0);
    o[3] = pio::bayer8_threshold(1, 0);
    const pio::YuvDecode d = pio::make_yuv_decode(YuvMatrix::BT2020NC, false, 10);
    float r, g, b;
    pio::yuv_to_rgb(d, 940.0f, 512.0f, 512.0f, r, g, b);
    o[4] = r;
    o[5] = g;
    o[6] = b;
    const pio::YuvEncode e = pio::make_yuv_encode(YuvMatrix::BT709, false, 8);
    o[7] = pio::rgb_to_y_code(e, 1.0f, 1.0f, 1.0f);
  }
};

TEST(CudaHelpers, PixelIoScalars) {
  const HdCase8 f{};
  check(f, 8, {128.0f, 0.0f, 0.5f / 64.0f, 32.5f / 64.0f, 1.0f, 1.0f, 1.0f, 235.0f}, 1e-5f, 1e-5f);
}

// The engine's per-pixel model pieces with a plausible set of per-frame constants.
namespace {
struct ModelCase {
  const KCell* cells;
  FrameConsts K;
  DisplayTables T;
  __host__ __device__ void operator()(float* o) const {
    const Vec3 rgb[4] = {{100.0f, 90.0f, 80.0f}, {0.01f, 0.02f, 0.05f}, {5e4f, 4e4f, 1e4f}, {0, 0, 0}};
    int q = 0;
    for (int k = 0; k < 4; ++k) {
      const CellSample a = cell_sample(kcell_grid(cells, 2, 2), 3 + 5 * k, 7 - k, kAdaptChannels);
      const Vec3 r = scene_responses(rgb[k], a, K);
      o[q++] = r.x;
      o[q++] = r.y;
      o[q++] = r.z;
      DisplayIn din{0.5f, 0.1f, true};
      const Vec3 c = display_pixel(K, T, r, a, din, ColourOpts{k & 1, 0.8f, 0.5f}, rgb[k]);
      o[q++] = c.x;
      o[q++] = c.y;
      o[q++] = c.z;
    }
    o[q++] = scene_resp_grey(K, 3, 100.0f);
    o[q++] = disp_resp_grey(K, 3, 50.0f);
    o[q++] = inverse_scene_grey(K, 0.5f);
    o[q++] = inverse_disp_grey(K, 0.5f);
  }
};

FrameConsts model_consts(int display_mode, int out_transfer, int dtucam) {
  FrameConsts K{};
  K.width = 16;
  K.height = 16;
  K.grid_w = K.grid_h = 2;
  K.cell = kCell;
  input_consts(K, Primaries::BT709);  // model.h
  const Mat3 m = bt709_to_xyz();
  K.la_global = 80.0f;
  K.la_global_rod = 60.0f;
  K.pupil_mm = 4.0f;
  K.td_per_nit = pupil_area_eff(4.0f);
  K.mesopic = 1;
  K.disp_la = 50.0f;
  K.disp_td_per_nit = pupil_area_eff(4.5f);
  K.disp_log2_td = std::log2(K.disp_td_per_nit);
  const float iad = K.disp_la * K.disp_td_per_nit;
  K.disp_p = bleach(iad, kConeL.b);
  K.disp_log2_sigma[0] = K.disp_log2_sigma[1] = std::log2(receptor_sigma(iad, K.disp_p, kConeL));
  K.disp_log2_sigma[2] = std::log2(receptor_sigma(iad, K.disp_p, kConeS));
  for (int c = 0; c < 3; ++c) {
    K.norm_gain[c] = 0.9f;
    K.norm_offset[c] = 0.02f;
    K.r_min[c] = 0.01f;
    K.r_max[c] = 0.8f;
    K.knee_r[c] = 0.7f;
    K.toe_r[c] = 0.0f;
    K.toe_gain[c] = 0.0f;
  }
  K.cam_scene = cam_condition(80.0f, 0.69f, 1.0f, 1.5f);
  K.cam_display = cam_condition(50.0f, 0.59f, 0.9f, 1.4f);
  K.s_ref_display = 1.1f;
  K.display_mode = display_mode;
  K.dtucam = dtucam;
  K.gamut_map = 1;
  K.detail = 1.0f;
  K.peak = 100.0f;
  K.black = 0.1f;
  K.out_transfer = out_transfer;
  K.lms_to_out_rgb = mul(xyz_to_rgb(Primaries::BT709), inverse(xyz_to_lms()));
  K.out_rgb_to_y = {m.m[1][0], m.m[1][1], m.m[1][2]};
  return K;
}
}  // namespace

TEST(CudaHelpers, ModelPixelParity) {
  std::vector<KCell> cells(4);
  const float ltd = std::log2(pupil_area_eff(4.0f));
  for (int i = 0; i < 4; ++i) {
    const float la = 10.0f * (i + 1), td = pupil_area_eff(4.0f);
    const float ia = la * td, pc = bleach(ia, kConeL.b);
    const AdaptCell c = {std::log2(receptor_sigma(ia, pc, kConeL)), std::log2(receptor_sigma(ia, pc, kConeS)), pc,
                         std::log2(receptor_sigma(ia * 0.3f, 1.0f, kRod)), 1.0f, 0.1f * i, std::log2(la), 0.0f};
    fold_cell(c, ltd, &cells[i]);
    cells[i].d0 = cells[i].d1 = 3.0f + 0.1f * i;
    cells[i].d2 = 3.2f + 0.1f * i;
  }
  KCell* dc = nullptr;
  const bool dev = dtutmo_test::gpu_runs();
  if (dev) {
    ASSERT_EQ(cudaMalloc(&dc, sizeof(KCell) * 4), cudaSuccess);
    cudaMemcpy(dc, cells.data(), sizeof(KCell) * 4, cudaMemcpyHostToDevice);
  }
  // the display stage's tables (pixel_model.h), on the host and on the device
  std::vector<float> lt(kLogitTab), ot(2 * kLogitTab), et(kEncodeTab + 2);
  fill_logit_tables(lt.data(), ot.data());
  fill_encode_table(Transfer::SRGB, et.data());
  const DisplayTables th = {lt.data(), ot.data(), et.data()};
  DisplayTables td = {nullptr, nullptr, nullptr};
  float* dtabs = nullptr;
  if (dev) {
    const std::size_t n = lt.size() + ot.size() + et.size();
    ASSERT_EQ(cudaMalloc(&dtabs, n * sizeof(float)), cudaSuccess);
    cudaMemcpy(dtabs, lt.data(), lt.size() * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(dtabs + lt.size(), ot.data(), ot.size() * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(dtabs + lt.size() + ot.size(), et.data(), et.size() * sizeof(float), cudaMemcpyHostToDevice);
    td = {dtabs, dtabs + lt.size(), dtabs + lt.size() + ot.size()};
  }
  const int modes[3][3] = {{0, int(Transfer::SRGB), 0}, {2, int(Transfer::PQ), 1}, {1, int(Transfer::HLG), 1}};
  for (const auto& md : modes) {
    const FrameConsts K = model_consts(md[0], md[1], md[2]);
    SCOPED_TRACE(md[0]);
    check2(ModelCase{cells.data(), K, th}, ModelCase{dc, K, td}, 28, {}, 2e-4f, 2e-5f);
  }
  if (dc) cudaFree(dc);
  if (dtabs) cudaFree(dtabs);
}

// Decoding through the engine's table, as pass 1 does it.
namespace {
struct DecodeCase {
  const float* tab;
  __host__ __device__ void operator()(float* o) const {
    const float v[6] = {0.0f, 0.25f, 0.5081f, 0.75f, 1.0f, 1.5f};
    for (int i = 0; i < 6; ++i) o[i] = decode_lookup(v[i], tab, 1.0f);
    o[6] = bad_sample(NAN) ? 1.0f : 0.0f;
    o[7] = bad_sample(-1.0f) ? 1.0f : 0.0f;
    o[8] = bad_sample(0.5f) ? 1.0f : 0.0f;
  }
};
}  // namespace

TEST(CudaHelpers, DecodeTable) {
  std::vector<float> tab(kDecodeTab + 2);
  for (int i = 0; i <= kDecodeTab + 1; ++i) tab[i] = pq_eotf(std::min(1.0f, float(i) / kDecodeTab));
  float* dt = nullptr;
  if (dtutmo_test::gpu_runs()) {
    ASSERT_EQ(cudaMalloc(&dt, tab.size() * sizeof(float)), cudaSuccess);
    cudaMemcpy(dt, tab.data(), tab.size() * sizeof(float), cudaMemcpyHostToDevice);
  }
  check2(DecodeCase{tab.data()}, DecodeCase{dt}, 9,
         {0.0f, pq_eotf(0.25f), pq_eotf(0.5081f), pq_eotf(0.75f), 10000.0f, 10000.0f, 1.0f, 1.0f, 0.0f},
         2e-4f, 1e-4f);
  if (dt) cudaFree(dt);
}

// --- whole-frame I/O: io.cuh against the host row converters (convert.cpp) ---
namespace {

std::vector<uint8_t> random_frame(PixelFormat f, int w, int h, unsigned seed) {
  std::vector<uint8_t> buf(packed_size(f, w, h));
  std::mt19937 rng(seed);
  for (auto& b : buf) b = uint8_t(rng());
  if (f == PixelFormat::RGBF32) {
    float* p = reinterpret_cast<float*>(buf.data());
    for (std::size_t i = 0; i < buf.size() / 4; ++i) p[i] = float(rng() % 1000) / 999.0f;
  }
  return buf;
}

DevFrame as_dev(const FrameView& v) { return pio::frame_planes(v); }

// The chroma sitings: centre ("jpeg"), horizontally cosited ("mpeg2"), both ("cosited").
const bool kSitings[3][2] = {{false, false}, {true, false}, {true, true}};

__global__ void k_read_frame(DevFrame f, pio::YuvDecode d, float* out) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;
  if (x >= f.width || y >= f.height) return;
  float* o = out + 3 * ((size_t)y * f.width + x);
  read_rgb(f, d, x, y, o[0], o[1], o[2]);
}

__global__ void k_write_frame(DevFrame f, pio::YuvEncode e, const float* rgb, int dither) {
  const int bx = blockIdx.x * blockDim.x + threadIdx.x, by = blockIdx.y;
  const int x0 = 2 * bx, y0 = 2 * by;
  if (x0 >= f.width || y0 >= f.height) return;
  float blk[4][3];
  for (int k = 0; k < 4; ++k) {
    const int x = min(x0 + (k & 1), f.width - 1), y = min(y0 + (k >> 1), f.height - 1);
    for (int c = 0; c < 3; ++c) blk[k][c] = rgb[3 * ((size_t)y * f.width + x) + c];
  }
  write_block(f, e, x0, y0, blk, dither != 0);
}

const PixelFormat kIoFormats[] = {PixelFormat::P010_10LE, PixelFormat::P012_LE, PixelFormat::P016_LE,
                                  PixelFormat::I420_10LE, PixelFormat::I420_12LE, PixelFormat::Y444_16LE,
                                  PixelFormat::RGBA64_LE, PixelFormat::RGB10A2_LE, PixelFormat::BGR10A2_LE,
                                  PixelFormat::I420,      PixelFormat::NV12,     PixelFormat::RGBA,
                                  PixelFormat::BGRA,      PixelFormat::RGBx,     PixelFormat::BGRx,
                                  PixelFormat::RGBF32};
const int kIoSizes[][2] = {{1, 1}, {7, 5}, {16, 9}, {33, 17}};

}  // namespace

TEST(CudaHelpers, ReadMatchesUnpackRows) {
  SignalDesc sig;
  sig.matrix = YuvMatrix::BT2020NC;
  for (const auto& site : kSitings)
  for (PixelFormat f : kIoFormats)
    for (const auto& sz : kIoSizes) {
      const int w = sz[0], h = sz[1];
      sig.chroma_h_cosited = site[0];
      sig.chroma_v_cosited = site[1];
      SCOPED_TRACE(std::string(format_info(f).name) + " " + std::to_string(w) + "x" + std::to_string(h) +
                   " siting " + std::to_string(site[0]) + std::to_string(site[1]));
      std::vector<uint8_t> buf = random_frame(f, w, h, 7u + w);
      const FrameView v = packed_view(f, w, h, buf.data());
      std::vector<float> ref(size_t(w) * h * 3), mine(size_t(w) * h * 3);
      unpack_rows(v, sig, 0, h, ref.data(), std::ptrdiff_t(w) * 3);
      const FormatInfo& fi = format_info(f);
      const pio::YuvDecode d = fi.yuv ? pio::yuv_decode(sig, fi.bits) : pio::YuvDecode{};
      const DevFrame df = as_dev(v);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          float* o = &mine[3 * (size_t(y) * w + x)];
          read_rgb(df, d, x, y, o[0], o[1], o[2]);
        }
      // bit-identical with the same compiler settings; 1e-6 leaves room for FMA contraction
      for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(ref[i], mine[i], 1e-6f) << "host, sample " << i;
      if (!dtutmo_test::gpu_runs()) continue;
      uint8_t* dbuf = nullptr;
      float* dout = nullptr;
      ASSERT_EQ(cudaMalloc(&dbuf, buf.size()), cudaSuccess);
      ASSERT_EQ(cudaMalloc(&dout, ref.size() * sizeof(float)), cudaSuccess);
      cudaMemcpy(dbuf, buf.data(), buf.size(), cudaMemcpyHostToDevice);
      const FrameView dv = packed_view(f, w, h, dbuf);
      k_read_frame<<<dim3((w + 63) / 64, h), 64>>>(as_dev(dv), d, dout);
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      std::vector<float> got(ref.size());
      cudaMemcpy(got.data(), dout, got.size() * sizeof(float), cudaMemcpyDeviceToHost);
      for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(ref[i], got[i], 1e-6f) << "device, sample " << i;
      cudaFree(dbuf);
      cudaFree(dout);
    }
  DTUTMO_NEED_GPU();  // device half (the host half has passed)
}

TEST(CudaHelpers, WriteMatchesPackRows) {
  SignalDesc sig;
  sig.matrix = YuvMatrix::BT709;
  for (const auto& site : kSitings)
  for (PixelFormat f : kIoFormats)
    for (const auto& sz : kIoSizes)
      for (int dither = 0; dither < 2; ++dither) {
        const int w = sz[0], h = sz[1];
        sig.chroma_h_cosited = site[0];
        sig.chroma_v_cosited = site[1];
        SCOPED_TRACE(std::string(format_info(f).name) + " " + std::to_string(w) + "x" + std::to_string(h) +
                     (dither ? " dither" : "") + " siting " + std::to_string(site[0]) + std::to_string(site[1]));
        std::mt19937 rng(11u + w * 3 + dither);
        std::vector<float> rgb(size_t(w) * h * 3);
        for (auto& v : rgb) v = float(rng() % 1201) / 1000.0f - 0.1f;  // a little out of range
        const FormatInfo& fi = format_info(f);
        const bool dith = dither && fi.bits <= 8;
        std::vector<uint8_t> ref(packed_size(f, w, h), 0), mine(ref.size(), 0);
        pack_rows(rgb.data(), std::ptrdiff_t(w) * 3, packed_view(f, w, h, ref.data()), sig, 0, h, dither != 0);
        const pio::YuvEncode e = fi.yuv ? pio::yuv_encode(sig, fi.bits) : pio::YuvEncode{};
        const DevFrame mf = as_dev(packed_view(f, w, h, mine.data()));
        for (int y0 = 0; y0 < h; y0 += 2)
          for (int x0 = 0; x0 < w; x0 += 2) {
            float blk[4][3];
            for (int k = 0; k < 4; ++k) {
              const int x = std::min(x0 + (k & 1), w - 1), y = std::min(y0 + (k >> 1), h - 1);
              for (int c = 0; c < 3; ++c) blk[k][c] = rgb[3 * (size_t(y) * w + x) + c];
            }
            write_block(mf, e, x0, y0, blk, dith);
          }
        {
          // bit-identical with the same compiler settings; FMA contraction may move a value
          // across a quantisation boundary now and then
          int off = 0;
          for (size_t i = 0; i < ref.size(); ++i) off += ref[i] != mine[i];
          EXPECT_LE(off, int(ref.size() / 50)) << "host write_block differs";
        }
        if (!dtutmo_test::gpu_runs()) continue;
        uint8_t* dbuf = nullptr;
        float* drgb = nullptr;
        ASSERT_EQ(cudaMalloc(&dbuf, ref.size()), cudaSuccess);
        ASSERT_EQ(cudaMalloc(&drgb, rgb.size() * sizeof(float)), cudaSuccess);
        cudaMemset(dbuf, 0, ref.size());
        cudaMemcpy(drgb, rgb.data(), rgb.size() * sizeof(float), cudaMemcpyHostToDevice);
        k_write_frame<<<dim3((w + 1) / 2, (h + 1) / 2), 1>>>(as_dev(packed_view(f, w, h, dbuf)), e, drgb, dith);
        ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
        std::vector<uint8_t> got(ref.size());
        cudaMemcpy(got.data(), dbuf, got.size(), cudaMemcpyDeviceToHost);
        // the device may round a code the other way where FMA contraction moves a value
        // across a quantisation boundary: at most one code, rarely
        int off = 0;
        for (size_t i = 0; i < got.size(); ++i) off += got[i] != ref[i];
        EXPECT_LE(off, int(got.size() / 50 + 2));
        cudaFree(dbuf);
        cudaFree(drgb);
      }
  DTUTMO_NEED_GPU();  // device half (the host half has passed)
}
