// Runs without a GPU: the per-pixel and per-frame pieces the CUDA kernels use
// (cuda/model.cuh, compiled here as plain C++) reproduce the CPU engine on uniform frames,
// where every stage of the pipeline reduces to scalars. The scalar sequence below is the
// one the device kernels follow (k_global_stats, k_cells_update, k_rod_display,
// k_hist_sample, k_frame_setup, k_pass2); if the CPU engine's formulas change and
// model.cuh does not follow, this fails on CI, before any GPU sees it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "dtutmo/color.h"
#include "dtutmo/engine.h"
#include "dtutmo/frame.h"
#include "dtutmo/scenes.h"
#include "cpu_spatial.h"
#include "model.cuh"

using namespace dtutmo;
using namespace dtutmo::cuda;

namespace {

// The CUDA pipeline on a uniform frame of linear BT.709 colour `rgb` (cd/m^2), fast
// profile, first frame (snap), output transfer `tf` (RGBF32 out): the encoded value.
Vec3 emulate_uniform(Vec3 rgb, const Params& P, int w, int h, Transfer tf) {
  FrameConsts K{};
  K.width = w;
  K.height = h;
  K.ppd = float(w) / P.fov_deg;
  const Mat3 r2x = rgb_to_xyz(Primaries::BT709);
  K.in_rgb_to_xyz = r2x;
  K.in_rgb_to_lms = mul(xyz_to_lms(), r2x);
  K.in_rgb_to_rod = {-0.702f * r2x.m[0][0] + 1.039f * r2x.m[1][0] + 0.433f * r2x.m[2][0],
                     -0.702f * r2x.m[0][1] + 1.039f * r2x.m[1][1] + 0.433f * r2x.m[2][1],
                     -0.702f * r2x.m[0][2] + 1.039f * r2x.m[1][2] + 0.433f * r2x.m[2][2]};
  K.in_rgb_to_y = {r2x.m[1][0], r2x.m[1][1], r2x.m[1][2]};
  K.mesopic = P.mesopic;
  K.display_mode = int(P.display_mode);
  K.gamut_map = P.gamut_map;
  K.detail = P.detail;
  K.peak = display_peak_nits(P);
  K.black = P.display_black;
  K.out_transfer = int(tf);
  K.lms_to_out_rgb = mul(xyz_to_rgb(Primaries::BT709), inverse(xyz_to_lms()));
  K.out_rgb_to_y = {r2x.m[1][0], r2x.m[1][1], r2x.m[1][2]};
  // decode (RGBF32 linear, input_scale), log2 luminance, global statistics
  const float sc = P.input_scale;
  rgb = {sanitize(rgb.x * sc, kMaxNits), sanitize(rgb.y * sc, kMaxNits), sanitize(rgb.z * sc, kMaxNits)};
  const float Y = K.in_rgb_to_y.x * rgb.x + K.in_rgb_to_y.y * rgb.y + K.in_rgb_to_y.z * rgb.z;
  const float target = fast_log2(maxf(Y, kMinNits));
  // k_global_stats (snap)
  K.la_global = exp2f(target);
  const float fov_v = P.fov_deg * float(h) / float(w);
  K.pupil_mm = pupil_watson_yellott(K.la_global, P.fov_deg * fov_v, P.observer_age, 1);
  K.td_per_nit = pupil_area_eff(K.pupil_mm);
  // k_cells_update (uniform: pooled = target)
  const float td = K.td_per_nit;
  const float la = exp2f(target), ia = la * td;
  const float pc = bleach(ia, kConeL.b);
  const float iar = exp2f(target) * kScotopicPerNitD65 * td;
  const float pr = bleach(iar, kRod.b);
  AdaptCell c{};
  c.log2_sigma_lm = log2f(receptor_sigma(ia, pc, kConeL));
  c.log2_sigma_s = log2f(receptor_sigma(ia, pc, kConeS));
  c.p_cone = pc;
  c.log2_sigma_rod = log2f(receptor_sigma(iar, pr, kRod));
  c.p_rod = pr;
  c.rod_w = P.mesopic ? mesopic_weight(la) : 0.0f;
  c.log2_la = target;
  KCell kc{};
  fold_cell(c, log2f(td), &kc);
  // k_rod_display
  K.la_global_rod = exp2f(target);
  K.disp_la = display_adaptation(K.la_global, display_peak_nits(P), P.display_adapt, int(P.viewing));
  const float dp = pupil_watson_yellott(K.disp_la, P.fov_deg * fov_v, P.observer_age, 1);
  K.disp_td_per_nit = pupil_area_eff(dp);
  K.disp_log2_td = log2f(K.disp_td_per_nit);
  const float iad = K.disp_la * K.disp_td_per_nit;
  K.disp_p = bleach(iad, kConeL.b);
  K.disp_log2_sigma[0] = K.disp_log2_sigma[1] = log2f(receptor_sigma(iad, K.disp_p, kConeL));
  K.disp_log2_sigma[2] = log2f(receptor_sigma(iad, K.disp_p, kConeS));
  K.rod_s_log2q = rod_s_log2q(K);
  // k_hist_sample: every sample has the same achromatic response
  const CellSample a = sample_cells(&kc, 1, 1, 0, 0, false);
  const Vec3 r = pixel_responses(rgb, a, K);
  const float ra = achromatic_response(r);
  const int bin = std::min(kHistBins - 1, std::max(0, int(ra * kHistBins)));
  const float s_rlo = float((bin + P.pct_low / 100.0) / kHistBins);
  const float s_rhi = float((bin + P.pct_high / 100.0) / kHistBins);
  // k_frame_setup (the CPU's bisection here, a warp search on the device)
  float l_lo = inverse_scene_grey(K, s_rlo), l_hi = inverse_scene_grey(K, s_rhi);
  widen_range(&l_lo, &l_hi);
  float t_lo, t_hi;
  display_targets(inverse_disp_grey(K, scene_resp_grey(K, 3, l_lo)),
                  inverse_disp_grey(K, scene_resp_grey(K, 3, l_hi)), l_lo, l_hi, P.display_black,
                  display_peak_nits(P), &t_lo, &t_hi);
  key_targets(K, float((bin + 0.5) / kHistBins), l_lo, l_hi, P.display_black, display_peak_nits(P),
              P.key, P.key_strength, P.mesopic, &t_lo, &t_hi);
  finish_frame_consts(K, l_lo, l_hi, t_lo, t_hi, P.knee, int(P.viewing));
  K.dtucam = P.dtucam;
  // k_pass2 (a uniform frame has no edges: the hybrid weight is 0, the detail 0, and the
  // CSF bands are empty)
  float kwb[3];
  whiteboard_consts(K, kwb);
  DisplayIn din{0.0f, 0.0f, false};
  const ColourOpts co{P.hue_preserve, P.saturation, P.highlight_chroma};
  return display_pixel(K, r, a, din, kwb, 1.0f / maxf(K.peak - K.black, 1e-6f), co, rgb);
}

}  // namespace

void uniform_case(bool balanced) {
  const int w = 48, h = 27;
  const Vec3 colours[] = {{100.0f, 100.0f, 100.0f}, {20.0f, 20.0f, 20.0f}, {0.05f, 0.05f, 0.05f},
                          {3000.0f, 1500.0f, 400.0f}, {5.0f, 30.0f, 60.0f}, {0.0f, 0.0f, 0.0f}};
  for (Transfer tf : {Transfer::Linear, Transfer::SRGB, Transfer::BT1886})
    for (const Vec3& col : colours) {
      SCOPED_TRACE(std::to_string(int(tf)) + " (" + std::to_string(col.x) + ", " + std::to_string(col.y) + ", " +
                   std::to_string(col.z) + ")");
      Params p = params_for_profile(balanced ? Profile::Balanced : Profile::Fast);
      p.input_scale = 1.0f;
      p.optics = false;  // the veil of a uniform frame is not uniform
      StreamConfig c;
      c.width = w;
      c.height = h;
      c.in_format = PixelFormat::RGBF32;
      c.in.transfer = Transfer::Linear;
      c.in.primaries = Primaries::BT709;
      c.out_format = PixelFormat::RGBF32;
      c.out.transfer = tf;
      c.out.primaries = Primaries::BT709;
      auto cpu = create_cpu_engine(1);
      std::string err;
      ASSERT_TRUE(cpu->set_params(p, &err)) << err;
      ASSERT_TRUE(cpu->configure(c, &err)) << err;
      std::vector<float> in(std::size_t(w) * h * 3), out(in.size());
      for (std::size_t i = 0; i < in.size(); i += 3) {
        in[i] = col.x;
        in[i + 1] = col.y;
        in[i + 2] = col.z;
      }
      FrameView vi = packed_view(PixelFormat::RGBF32, w, h, reinterpret_cast<uint8_t*>(in.data()));
      FrameView vo = packed_view(PixelFormat::RGBF32, w, h, reinterpret_cast<uint8_t*>(out.data()));
      ASSERT_TRUE(cpu->process(vi, vo, 0.0, &err)) << err;
      const Vec3 e = emulate_uniform(col, p, w, h, tf);
      const float ex[3] = {e.x, e.y, e.z};
      // the centre pixel (borders see the same values on a uniform frame)
      const std::size_t ctr = (std::size_t(h / 2) * w + w / 2) * 3;
      // 1e-4 absolute: the CPU encodes sRGB / BT.1886 through a table on sqrt(rel) (linear
      // interpolation, ~3e-5 off near black), the kernels evaluate the curve
      for (int k = 0; k < 3; ++k)
        EXPECT_NEAR(out[ctr + k], ex[k], 2e-4f * std::fabs(out[ctr + k]) + 1e-4f) << "channel " << k;
    }
}

TEST(CudaModelHost, UniformFramesMatchTheCpuEngineFast) { uniform_case(false); }

// Balanced without optics: DTUCAM, hybrid display, base/detail and CSF all on.
TEST(CudaModelHost, UniformFramesMatchTheCpuEngineBalanced) { uniform_case(true); }

// --- whole frames (no optics, no CSF): the kernels' sequence with the local adaptation
// grid (pooled by the CPU's Pooler) or global adaptation, base/detail and the hybrid
// display mode ---
namespace {

std::vector<float> emulate_frame(const std::vector<float>& in, int w, int h, const Params& P,
                                        Transfer tf) {
  FrameConsts K{};
  K.width = w;
  K.height = h;
  K.ppd = float(w) / P.fov_deg;
  const Mat3 r2x = rgb_to_xyz(Primaries::BT709);
  K.in_rgb_to_xyz = r2x;
  K.in_rgb_to_lms = mul(xyz_to_lms(), r2x);
  K.in_rgb_to_rod = {-0.702f * r2x.m[0][0] + 1.039f * r2x.m[1][0] + 0.433f * r2x.m[2][0],
                     -0.702f * r2x.m[0][1] + 1.039f * r2x.m[1][1] + 0.433f * r2x.m[2][1],
                     -0.702f * r2x.m[0][2] + 1.039f * r2x.m[1][2] + 0.433f * r2x.m[2][2]};
  K.in_rgb_to_y = {r2x.m[1][0], r2x.m[1][1], r2x.m[1][2]};
  K.mesopic = P.mesopic;
  K.dtucam = P.dtucam;
  K.display_mode = int(P.display_mode);
  K.gamut_map = P.gamut_map;
  K.detail = P.detail;
  K.peak = display_peak_nits(P);
  K.black = P.display_black;
  K.out_transfer = int(tf);
  K.lms_to_out_rgb = mul(xyz_to_rgb(Primaries::BT709), inverse(xyz_to_lms()));
  K.out_rgb_to_y = {r2x.m[1][0], r2x.m[1][1], r2x.m[1][2]};
  // decode, log2 luminance, 8x8 cell sums (k_decode_cells), global log-mean (k_global_stats)
  const std::size_t np = std::size_t(w) * h;
  const int gw = (w + kCell - 1) / kCell, gh = (h + kCell - 1) / kCell, nc = gw * gh;
  std::vector<Vec3> lin(np);
  std::vector<float> ly(np), cs(nc, 0.0f), cn(nc, 0.0f);
  for (std::size_t i = 0; i < np; ++i) {
    lin[i] = {sanitize(in[3 * i] * P.input_scale, kMaxNits), sanitize(in[3 * i + 1] * P.input_scale, kMaxNits),
              sanitize(in[3 * i + 2] * P.input_scale, kMaxNits)};
    const float Y = K.in_rgb_to_y.x * lin[i].x + K.in_rgb_to_y.y * lin[i].y + K.in_rgb_to_y.z * lin[i].z;
    ly[i] = fast_log2(maxf(Y, kMinNits));
  }
  for (int y = 0; y < h; ++y)
    for (int cx = 0; cx < gw; ++cx) {
      float acc = 0.0f;
      for (int x = cx * kCell; x < std::min(w, cx * kCell + kCell); ++x) acc += ly[std::size_t(y) * w + x];
      cs[(y / kCell) * gw + cx] += acc;
      cn[(y / kCell) * gw + cx] += float(std::min(w, cx * kCell + kCell) - cx * kCell);
    }
  double gs = 0.0, gn = 0.0;
  std::vector<float> la_loc(nc);
  for (int i = 0; i < nc; ++i) {
    gs += cs[i];
    gn += cn[i];
    la_loc[i] = cs[i] / maxf(cn[i], 1.0f);
  }
  const float target = float(gs / std::max(gn, 1.0));
  K.la_global = exp2f(target);
  const float fov_v = P.fov_deg * float(h) / float(w);
  K.pupil_mm = pupil_watson_yellott(K.la_global, P.fov_deg * fov_v, P.observer_age, 1);
  K.td_per_nit = pupil_area_eff(K.pupil_mm);
  // pooling (the CPU's Pooler; PoolDev is compared with it in test_cuda_stages) and
  // k_cells_update (first frame: the state snaps to the targets)
  const float la_a = P.local ? P.local_adaptation : 0.0f;
  std::vector<float> tgt(nc, target);
  if (la_a > 0.0f) {
    const float sig[4] = {0.5f * K.ppd / kCell, 1.0f * K.ppd / kCell, 2.0f * K.ppd / kCell, 4.0f * K.ppd / kCell};
    const float wts[4] = {1, 2, 4, 8};
    // edge-aware pooling (the CPU's EdgePooler; the device's is compared with it in
    // test_cuda_stages)
    EdgePooler pool;
    pool.init(gw, gh, kPoolRangeStep, 1);
    pool.begin(la_loc.data(), sig, wts, 4);
    for (int j = 0; j < pool.bins(); ++j) pool.process_bin(j, 0);
    std::vector<float> pooled(nc);
    pool.slice(0, gh, pooled.data());
    for (int i = 0; i < nc; ++i) tgt[i] = local_target(pooled[i], target, la_a);
  }
  const float td = K.td_per_nit;
  std::vector<AdaptCell> cells(nc);
  std::vector<KCell> kcs(nc);
  double rsum = 0.0;
  for (int i = 0; i < nc; ++i) {
    const float la = exp2f(tgt[i]), ia = la * td;
    const float pc = bleach(ia, kConeL.b);
    const float iar = la * kScotopicPerNitD65 * td;
    const float pr = bleach(iar, kRod.b);
    AdaptCell& c = cells[i];
    c.log2_sigma_lm = log2f(receptor_sigma(ia, pc, kConeL));
    c.log2_sigma_s = log2f(receptor_sigma(ia, pc, kConeS));
    c.p_cone = pc;
    c.log2_sigma_rod = log2f(receptor_sigma(iar, pr, kRod));
    c.p_rod = pr;
    c.rod_w = P.mesopic ? mesopic_weight(la) : 0.0f;
    c.log2_la = tgt[i];
    fold_cell(c, log2f(td), &kcs[i]);
    rsum += tgt[i];
  }
  // k_rod_display
  K.la_global_rod = exp2f(float(rsum / nc));
  K.disp_la = display_adaptation(K.la_global, display_peak_nits(P), P.display_adapt, int(P.viewing));
  const float dp = pupil_watson_yellott(K.disp_la, P.fov_deg * fov_v, P.observer_age, 1);
  K.disp_td_per_nit = pupil_area_eff(dp);
  K.disp_log2_td = log2f(K.disp_td_per_nit);
  const float iad = K.disp_la * K.disp_td_per_nit;
  K.disp_p = bleach(iad, kConeL.b);
  K.disp_log2_sigma[0] = K.disp_log2_sigma[1] = log2f(receptor_sigma(iad, K.disp_p, kConeL));
  K.disp_log2_sigma[2] = log2f(receptor_sigma(iad, K.disp_p, kConeS));
  K.rod_s_log2q = rod_s_log2q(K);
  K.hybrid_lo = 0.02f;
  K.hybrid_hi = 0.08f;
  // base/detail: the CPU's bilateral grid (BilateralDev is compared with it in
  // test_cuda_stages), sliced by model.cuh's bilateral_slice; responses see the base
  std::vector<float> gsc(np, 1.0f), det(np, 0.0f);
  if (P.base_detail) {
    BilateralGrid bg;
    bg.init(w, h, P.base_scale * float(std::max(w, h)), 0.5f, std::log2(kMinNits), std::log2(kMaxNits), 1);
    bg.clear();
    for (int y = 0; y < h; ++y) bg.splat_row(0, y, ly.data() + std::size_t(y) * w, w);
    bg.finish();
    for (std::size_t i = 0; i < np; ++i) {
      const float b = bilateral_slice(bg.grid.data(), bg.gx, bg.gy, bg.gz, bg.ss, bg.sr, bg.lo, bg.hi,
                                      float(i % w), float(i / w), ly[i]);
      gsc[i] = fast_exp2(b - ly[i]);
      det[i] = ly[i] - b;
    }
  }
  auto based = [&](std::size_t i) { return Vec3{lin[i].x * gsc[i], lin[i].y * gsc[i], lin[i].z * gsc[i]}; };
  // the La lookup: joint-bilateral (guided by the cell means) with local adaptation on
  auto sample = [&](int x, int y, bool dk) {
    return la_a > 0.0f ? sample_cells_jbu(kcs.data(), la_loc.data(), gw, gh, x, y, ly[std::size_t(y) * w + x], dk)
                       : sample_cells(kcs.data(), gw, gh, x, y, dk);
  };
  // k_hist_sample
  std::vector<float> edge(std::size_t((w + kSub - 1) / kSub) * ((h + kSub - 1) / kSub));
  std::vector<unsigned int> hist(kHistBins, 0u);
  const int ew = (w + kSub - 1) / kSub, eh = (h + kSub - 1) / kSub;
  const int step = w > kSub ? kSub : 1;
  const int nsub = step == 1 ? w : (w - step / 2 + step - 1) / step;
  unsigned long long tot = 0;
  for (int j = 0; j < eh; ++j)
    for (int i = 0; i < ew; ++i) {
      const int y = std::min(h - 1, j * kSub + kSub / 2), x = std::min(i, nsub - 1) * step + (step >> 1);
      const CellSample a0 = sample(x, y, false);
      const float ra = achromatic_response(pixel_responses(based(std::size_t(y) * w + x), a0, K));
      edge[std::size_t(j) * ew + i] = ra;
      if (i >= nsub) continue;
      hist[std::min(kHistBins - 1, std::max(0, int(ra * kHistBins)))]++;
      ++tot;
    }
  // k_frame_setup
  float l_lo = inverse_scene_grey(K, hist_percentile(hist.data(), tot, P.pct_low));
  float l_hi = inverse_scene_grey(K, hist_percentile(hist.data(), tot, P.pct_high));
  widen_range(&l_lo, &l_hi);
  float t_lo, t_hi;
  display_targets(inverse_disp_grey(K, scene_resp_grey(K, 3, l_lo)),
                  inverse_disp_grey(K, scene_resp_grey(K, 3, l_hi)), l_lo, l_hi, P.display_black,
                  display_peak_nits(P), &t_lo, &t_hi);
  key_targets(K, hist_percentile(hist.data(), tot, 50.0f), l_lo, l_hi, P.display_black,
              display_peak_nits(P), P.key, P.key_strength, P.mesopic, &t_lo, &t_hi);
  finish_frame_consts(K, l_lo, l_hi, t_lo, t_hi, P.knee, int(P.viewing));
  // k_dispk
  for (int i = 0; i < nc; ++i) {
    float d[3];
    display_cell_consts(cells[i], K, la_a, P.display_black, display_peak_nits(P), d);
    kcs[i].d0 = d[0];
    kcs[i].d1 = d[1];
    kcs[i].d2 = d[2];
  }
  // k_edge_sobel, blur (the CPU's blur_grid; the device's is compared with it in
  // test_cuda_stages), k_edge_smoothstep
  const bool hybrid = P.display_mode == DisplayMode::Hybrid;
  if (hybrid) {
    std::vector<float> m(edge.size()), tmp(edge.size());
    for (int y = 0; y < eh; ++y)
      for (int x = 0; x < ew; ++x) m[std::size_t(y) * ew + x] = edge_sobel(edge.data(), ew, eh, x, y, K);
    blur_grid(m.data(), ew, eh, 1.0f, tmp.data());
    for (std::size_t i = 0; i < edge.size(); ++i) edge[i] = smoothstepf(K.hybrid_lo, K.hybrid_hi, m[i]);
  }
  // k_pass2
  float kwb[3];
  whiteboard_consts(K, kwb);
  std::vector<float> out(np * 3);
  for (std::size_t i = 0; i < np; ++i) {
    const int x = int(i % w), y = int(i / w);
    const CellSample a = sample(x, y, true);
    DisplayIn din;
    din.hw = hybrid ? hybrid_weight(edge.data(), ew, eh, x, y) : 0.0f;
    din.detail_d = det[i];
    din.detail_on = P.base_detail;
    const ColourOpts co{P.hue_preserve, P.saturation, P.highlight_chroma};
    const Vec3 o = display_pixel(K, pixel_responses(based(i), a, K), a, din, kwb,
                                 1.0f / maxf(K.peak - K.black, 1e-6f), co, lin[i]);
    out[3 * i] = o.x;
    out[3 * i + 1] = o.y;
    out[3 * i + 2] = o.z;
  }
  return out;
}

}  // namespace

void frames_case(bool local) {
  const int sizes[][2] = {{64, 36}, {37, 23}, {3, 2}};
  const Scene scenes[] = {Scene::Daylight, Scene::ColoredLights, Scene::Night, Scene::Interior};
  struct Mode {
    Profile prof;
    DisplayMode dm;
    bool base_detail;
  } modes[] = {{Profile::Fast, DisplayMode::Whiteboard, false},
               {Profile::Balanced, DisplayMode::Whiteboard, false},
               {Profile::Balanced, DisplayMode::FullInverse, false},
               {Profile::Balanced, DisplayMode::Hybrid, true}};
  for (const auto& sz : sizes)
    for (Scene sc : scenes)
      for (const Mode& md : modes)
        for (Transfer tf : {Transfer::SRGB, Transfer::Linear}) {
          const int w = sz[0], h = sz[1];
          SCOPED_TRACE(std::string(scene_name(sc)) + " " + std::to_string(w) + "x" + std::to_string(h) + " " +
                       profile_name(md.prof) + " mode " + std::to_string(int(md.dm)) +
                       (md.base_detail ? " base/detail" : "") + " tf " +
                       std::to_string(int(tf)));
          Params p = params_for_profile(md.prof);
          p.input_scale = 1.0f;
          p.local = local;
          p.optics = false;
          p.base_detail = md.base_detail;
          p.csf = false;
          p.display_mode = md.dm;
          StreamConfig c;
          c.width = w;
          c.height = h;
          c.in_format = PixelFormat::RGBF32;
          c.in.transfer = Transfer::Linear;
          c.in.primaries = Primaries::BT709;
          c.out_format = PixelFormat::RGBF32;
          c.out.transfer = tf;
          c.out.primaries = Primaries::BT709;
          auto cpu = create_cpu_engine(1);
          std::string err;
          ASSERT_TRUE(cpu->set_params(p, &err)) << err;
          ASSERT_TRUE(cpu->configure(c, &err)) << err;
          std::vector<float> in(std::size_t(w) * h * 3), out(in.size());
          render_scene(sc, w, h, 0.0, in.data(), std::ptrdiff_t(w) * 3, Primaries::BT709);
          FrameView vi = packed_view(PixelFormat::RGBF32, w, h, reinterpret_cast<uint8_t*>(in.data()));
          FrameView vo = packed_view(PixelFormat::RGBF32, w, h, reinterpret_cast<uint8_t*>(out.data()));
          ASSERT_TRUE(cpu->process(vi, vo, 0.0, &err)) << err;
          const std::vector<float> em = emulate_frame(in, w, h, p, tf);
          std::size_t bad = 0, worst_i = 0;
          float worst = 0.0f;
          for (std::size_t i = 0; i < out.size(); ++i) {
            const float dd = std::fabs(out[i] - em[i]);
            if (dd > 1e-3f * std::fabs(out[i]) + 1e-4f) ++bad;  // see above: the CPU's encode table
            if (dd > worst) {
              worst = dd;
              worst_i = i;
            }
          }
          EXPECT_EQ(bad, 0u) << bad << " of " << out.size() << " samples differ; worst " << worst << " at "
                             << worst_i << " (cpu " << out[worst_i] << ", model.cuh " << em[worst_i] << ")";
        }
}

TEST(CudaModelHost, GlobalAdaptationFramesMatchTheCpuEngine) { frames_case(false); }

// Local adaptation on: non-uniform cells, bilinear constants, per-cell full inverse.
TEST(CudaModelHost, LocalAdaptationFramesMatchTheCpuEngine) { frames_case(true); }

// --- the temporal state: the kernels' update functions (update_global_state,
// update_cell_state, update_percentiles) over a sequence of uniform frames with a one-frame
// flash, a one-frame black frame, a sustained step and a reset, against the CPU engine's
// statistics frame by frame ---
namespace {

struct TemporalEmu {
  DevState st{};
  float h1 = 0, h2 = 0, ls = 0, lr = 0;  // the (single, uniform) cell
  bool fresh = true;
  double last_t = 0.0;
  TemporalEmu() {
    st.s_pupil = 4.0f;
    st.s_rhi = 1.0f;
    st.h_rlo[1] = 1.0f;
    st.h_rhi[0] = st.h_rhi[1] = 1.0f;
  }
  // One uniform frame of linear colour `rgb`; returns the statistics the engine reports.
  EngineStats frame(Vec3 rgb, double t, const Params& P, int w, int h) {
    bool snap = fresh;
    fresh = false;
    const double dt = t - last_t;
    if (!(dt > 0.0 && dt <= 10.0)) snap = true;
    last_t = t;
    auto k_of = [&](float tau) { return tau <= 0.0f ? 1.0f : float(1.0 - std::exp(-dt / double(tau))); };
    SetupParams sp{};
    sp.width = w;
    sp.height = h;
    sp.fov_deg = P.fov_deg;
    sp.age = P.observer_age;
    sp.broadcast = P.adaptation == AdaptationMode::Broadcast;
    sp.cut_threshold = P.cut_threshold;
    sp.host_snap = snap;
    sp.kc_raw = snap ? 1.0f : k_of(P.cone_tau);
    sp.kr_raw = snap ? 1.0f : k_of(P.rod_tau);
    sp.kp_raw = snap ? 1.0f : k_of(P.pupil_tau);
    FrameConsts K{};
    const Mat3 r2x = rgb_to_xyz(Primaries::BT709);
    K.in_rgb_to_lms = mul(xyz_to_lms(), r2x);
    K.in_rgb_to_rod = {-0.702f * r2x.m[0][0] + 1.039f * r2x.m[1][0] + 0.433f * r2x.m[2][0],
                       -0.702f * r2x.m[0][1] + 1.039f * r2x.m[1][1] + 0.433f * r2x.m[2][1],
                       -0.702f * r2x.m[0][2] + 1.039f * r2x.m[1][2] + 0.433f * r2x.m[2][2]};
    K.mesopic = P.mesopic;
    const float Y = r2x.m[1][0] * rgb.x + r2x.m[1][1] * rgb.y + r2x.m[1][2] * rgb.z;
    const float target = fast_log2(maxf(Y, kMinNits));
    update_global_state(st, target, sp, K);
    // uniform frame, global adaptation off or on: every cell's target is the log-mean
    update_cell_state(st, target, h1, h2, ls, lr);
    const AdaptCell c = adapt_cell(ls, lr, K.td_per_nit, P.mesopic);
    KCell kc{};
    fold_cell(c, log2f(K.td_per_nit), &kc);
    K.la_global_rod = exp2f(lr);
    K.rod_s_log2q = rod_s_log2q(K);
    const float ra = achromatic_response(pixel_responses(rgb, sample_cells(&kc, 1, 1, 0, 0, false), K));
    const int bin = std::min(kHistBins - 1, std::max(0, int(ra * kHistBins)));
    update_percentiles(st, float((bin + P.pct_low / 100.0) / kHistBins), float((bin + P.pct_high / 100.0) / kHistBins),
                       float((bin + 0.5) / kHistBins));
    EngineStats s{};
    s.adaptation_nits = K.la_global;
    s.pupil_mm = K.pupil_mm;
    s.response_low = st.s_rlo;
    s.response_high = st.s_rhi;
    s.cut_detected = st.cut != 0;
    return s;
  }
};

}  // namespace

TEST(CudaModelHost, TemporalStateMatchesTheCpuEngine) {
  const int w = 32, h = 18;
  for (AdaptationMode mode : {AdaptationMode::Natural, AdaptationMode::Broadcast}) {
    SCOPED_TRACE(int(mode));
    Params p = params_for_profile(Profile::Fast);
    p.input_scale = 1.0f;
    p.adaptation = mode;
    StreamConfig c;
    c.width = w;
    c.height = h;
    c.in_format = PixelFormat::RGBF32;
    c.in.transfer = Transfer::Linear;
    c.out_format = PixelFormat::RGBF32;
    c.out.transfer = Transfer::Linear;
    auto cpu = create_cpu_engine(1);
    std::string err;
    ASSERT_TRUE(cpu->set_params(p, &err)) << err;
    ASSERT_TRUE(cpu->configure(c, &err)) << err;
    TemporalEmu emu;
    std::vector<float> in(std::size_t(w) * h * 3), out(in.size());
    FrameView vi = packed_view(PixelFormat::RGBF32, w, h, reinterpret_cast<uint8_t*>(in.data()));
    FrameView vo = packed_view(PixelFormat::RGBF32, w, h, reinterpret_cast<uint8_t*>(out.data()));
    for (int f = 0; f < 150; ++f) {
      // 20 nits; a one-frame flash x100 at 20; a black frame at 30; x100 from 40 on (a cut
      // in broadcast mode); a reset at 100; 2 s pause (discontinuity) at 120
      float g = 20.0f;
      if (f == 20) g = 2000.0f;
      if (f == 30) g = 0.0f;
      if (f >= 40) g = 2000.0f;
      if (f >= 100) g = 0.5f;
      const double t = f / 30.0 + (f >= 120 ? 12.0 : 0.0);
      if (f == 100) {
        cpu->reset();
        emu.fresh = true;
      }
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = g;
      ASSERT_TRUE(cpu->process(vi, vo, t, &err)) << err;
      const EngineStats a = cpu->stats();
      const EngineStats b = emu.frame({g, g, g}, t, p, w, h);
      SCOPED_TRACE(f);
      EXPECT_NEAR(b.adaptation_nits, a.adaptation_nits, 1e-4f * a.adaptation_nits);
      EXPECT_NEAR(b.pupil_mm, a.pupil_mm, 1e-4f * a.pupil_mm);
      EXPECT_NEAR(b.response_low, a.response_low, 2e-5f);
      EXPECT_NEAR(b.response_high, a.response_high, 2e-5f);
      EXPECT_EQ(b.cut_detected, a.cut_detected);
    }
  }
}
