// dtutmo -- transfer functions, both ways. Each is named after its standard.
//
// Domains: `code` is the non-linear signal in [0, 1]; `nits` is absolute luminance in
// cd/m^2; `rel` is display-relative linear light in [0, 1].
#pragma once

#include "dtutmo/fastmath.h"
#include "dtutmo/hd.h"

namespace dtutmo {

// --- SMPTE ST 2084 (PQ), absolute: code 1.0 = 10000 cd/m^2 ---
namespace pq {
constexpr float m1 = 2610.0f / 16384.0f;
constexpr float m2 = 2523.0f / 4096.0f * 128.0f;
constexpr float c1 = 3424.0f / 4096.0f;
constexpr float c2 = 2413.0f / 4096.0f * 32.0f;
constexpr float c3 = 2392.0f / 4096.0f * 32.0f;
constexpr float peak_nits = 10000.0f;
}  // namespace pq

// ST 2084 EOTF: code [0, 1] -> cd/m^2 [0, 10000].
DTUTMO_HD float pq_eotf(float code) {
  const float e = powf(clampf(code, 0.0f, 1.0f), 1.0f / pq::m2);
  const float num = maxf(e - pq::c1, 0.0f);
  const float den = pq::c2 - pq::c3 * e;
  return pq::peak_nits * powf(num / den, 1.0f / pq::m1);
}

// The power functions the curves are evaluated with: libm's, or fastmath.h's (~1e-6
// relative; branch-free, so the engines' row loops vectorise).
struct ExactPow {
  DTUTMO_HD float operator()(float x, float y) const { return powf(x, y); }
};
struct FastPow {
  DTUTMO_PX float operator()(float x, float y) const { return fast_pow(x, y); }
};

// ST 2084 inverse EOTF: cd/m^2 -> code [0, 1] (inputs above 10000 cd/m^2 give 1, negative
// and NaN-free inputs below 1e-26 cd/m^2 the code of black). The one formula of the PQ
// encode: the engines call it with FastPow, everything else with ExactPow.
template <class Pow>
DTUTMO_PX float pq_inv_eotf(float nits, Pow pw) {
  const float y = pw(std_max(std_min(nits, pq::peak_nits) * 1e-4f, 1e-30f), pq::m1);
  return pw((pq::c1 + pq::c2 * y) / (1.0f + pq::c3 * y), pq::m2);
}
DTUTMO_HD float pq_inv_eotf(float nits) { return pq_inv_eotf(nits, ExactPow()); }

// --- ARIB STD-B67 / ITU-R BT.2100 HLG ---
namespace hlg {
constexpr float a = 0.17883277f;
constexpr float b = 0.28466892f;  // 1 - 4a
constexpr float c = 0.55991073f;  // 0.5 - a ln(4a)
}  // namespace hlg

// BT.2100 HLG OETF: scene-linear E [0, 1] -> code [0, 1].
DTUTMO_PX float hlg_oetf(float e) {
  e = clampf(e, 0.0f, 1.0f);
  return e <= 1.0f / 12.0f ? sqrtf(3.0f * e) : hlg::a * logf(12.0f * e - hlg::b) + hlg::c;
}

// BT.2100 HLG inverse OETF: code [0, 1] -> scene-linear E [0, 1].
DTUTMO_HD float hlg_inv_oetf(float code) {
  code = clampf(code, 0.0f, 1.0f);
  return code <= 0.5f ? code * code / 3.0f : (expf((code - hlg::c) / hlg::a) + hlg::b) / 12.0f;
}

// BT.2100 HLG system gamma for a nominal peak (BT.2100 Table 5 note, extended range form).
DTUTMO_PX float hlg_gamma(float peak_nits) { return 1.2f + 0.42f * log10f(peak_nits / 1000.0f); }

// BT.2100 HLG OOTF on scene-linear RGB (in place): Fd = peak * Ys^(gamma-1) * E.
// Luminance weights for BT.2020 primaries. Output in cd/m^2.
DTUTMO_PX void hlg_ootf(float& r, float& g, float& b, float peak_nits) {
  const float ys = maxf(0.2627f * r + 0.6780f * g + 0.0593f * b, 0.0f);
  const float k = peak_nits * (ys > 0.0f ? powf(ys, hlg_gamma(peak_nits) - 1.0f) : 0.0f);
  r *= k;
  g *= k;
  b *= k;
}

// Inverse of hlg_ootf: display cd/m^2 RGB -> scene-linear RGB [0, 1].
DTUTMO_PX void hlg_inv_ootf(float& r, float& g, float& b, float peak_nits) {
  const float yd = maxf(0.2627f * r + 0.6780f * g + 0.0593f * b, 0.0f) / peak_nits;
  const float gam = hlg_gamma(peak_nits);
  const float k = yd > 0.0f ? powf(yd, (1.0f - gam) / gam) / peak_nits : 0.0f;
  r *= k;
  g *= k;
  b *= k;
}

// --- IEC 61966-2-1 sRGB ---
DTUTMO_HD float srgb_eotf(float code) {  // code -> rel
  code = clampf(code, 0.0f, 1.0f);
  return code <= 0.04045f ? code / 12.92f : powf((code + 0.055f) / 1.055f, 2.4f);
}
// rel -> code, in float or (for the engines' encode table) double precision.
DTUTMO_HD float pow_t(float x, float y) { return powf(x, y); }
DTUTMO_HD double pow_t(double x, double y) { return pow(x, y); }
template <class T>
DTUTMO_HD T srgb_inv_eotf(T rel) {
  rel = rel < T(0) ? T(0) : (rel > T(1) ? T(1) : rel);
  return rel <= T(0.0031308) ? rel * T(12.92) : T(1.055) * pow_t(rel, T(1) / T(2.4)) - T(0.055);
}

// --- Pure power display EOTFs, code [0, 1] -> rel [0, 1]: code^gamma. The one formula of
// BT.1886 below and of the BT.470 display gammas.
DTUTMO_HD float power_eotf(float code, float gamma) { return powf(clampf(code, 0.0f, 1.0f), gamma); }

// --- ITU-R BT.470-6 (H.273 transfer_characteristics 4 and 5): the display gamma the old
// SD systems assume, a pure power: System M (NTSC, gamma 2.2; GStreamer's GAMMA22, FFmpeg's
// gamma22) and Systems B, G (PAL / SECAM, gamma 2.8; GAMMA28, gamma28). zimg (FFmpeg's
// zscale), FFmpeg's colorspace filter and GStreamer's gst_video_transfer_function_decode
// decode these tags with the same pure powers.
constexpr float kGammaBT470M = 2.2f;
constexpr float kGammaBT470BG = 2.8f;

// --- ITU-R BT.1886 reference EOTF, with the black level folded in by the caller:
// pure gamma 2.4 on [0, 1] (the display's black is added in cd/m^2 by the display stage).
DTUTMO_HD float bt1886_eotf(float code) { return power_eotf(code, 2.4f); }
template <class T>
DTUTMO_HD T bt1886_inv_eotf(T rel) {
  return pow_t(rel < T(0) ? T(0) : (rel > T(1) ? T(1) : rel), T(1) / T(2.4));
}

}  // namespace dtutmo
