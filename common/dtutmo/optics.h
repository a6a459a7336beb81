// dtutmo -- optics of the eye: the OTF and the CIE 180:2010 disability glare PSF.
// MODEL.md stage 1. Angles in degrees, frequencies in cycles/degree, solid angles in sr.
#pragma once

#include "dtutmo/hd.h"

namespace dtutmo {

// OTF cut-off frequency fc = 60 / (1 + (age - 20) / 100) cycles/degree.
DTUTMO_HD float otf_fc(float age) { return 60.0f / (1.0f + (age - 20.0f) / 100.0f); }
// OTF exp(-(f/fc)^2).
DTUTMO_HD float otf(float f_cpd, float fc) { const float x = f_cpd / fc; return expf(-x * x); }
// The OTF's exact spatial pair is a Gaussian of this sigma (degrees): sqrt(2) / (2 pi fc).
DTUTMO_HD float otf_sigma_deg(float fc) { return 0.22507908f / fc; }

// CIE 180:2010 general disability glare function, L_eq / E in sr^-1 (per unit
// illuminance at the eye), theta in degrees (clamped at 0.1 deg), age in years,
// pigmentation p (0 dark brown, 0.5 brown, 1 blue).
DTUTMO_HD float cie180_psf(float theta_deg, float age, float pig) {
  const float t = maxf(theta_deg, 0.1f);
  const float a = age / 62.5f;
  const float a4 = a * a * a * a;
  return 10.0f / (t * t * t) + (5.0f / (t * t) + 0.1f * pig / t) * (1.0f + a4) + 0.0025f * pig;
}

DTUTMO_HD_CONST float kDeg2Rad = 0.017453292519943295f;
DTUTMO_HD_CONST float kGlareCoreDeg = 0.1f;  // below this angle the OTF's domain

// Glare kernel weight of one cell: the integral of the PSF over the cell's solid angle
// (sr), cell centred at (dx, dy) degrees from the source, cell size (w, h) degrees,
// points closer than kGlareCoreDeg excluded. `ss` x `ss` subsamples (midpoint rule).
// The veiling luminance is sum(L_src * weight) (small-angle, flat-field approximation).
DTUTMO_HD float glare_cell_weight(float dx, float dy, float w, float h, float age, float pig,
                                  int ss) {
  float acc = 0.0f;
  for (int j = 0; j < ss; ++j)
    for (int i = 0; i < ss; ++i) {
      const float x = dx + w * ((i + 0.5f) / ss - 0.5f);
      const float y = dy + h * ((j + 0.5f) / ss - 0.5f);
      const float th = sqrtf(x * x + y * y);
      if (th >= kGlareCoreDeg) acc += cie180_psf(th, age, pig);
    }
  return acc / (float)(ss * ss) * (w * kDeg2Rad) * (h * kDeg2Rad);
}

// Glare as shown on a display (DESIGN.md section 2, "glare on a display"). The viewer's own
// eye scatters the light of the displayed picture with the same PSF as it scatters the
// scene's: painting the scene's whole veil counts the scatter of everything the display
// reproduces twice (a fog over night scenes, and through the 10/theta^3 near field ~20 %
// less local contrast everywhere: +25 % veil on a uniform field). What the display does
// not reproduce is the light above the luminance it maps to its top, the frame's high
// percentile: only that light's veil is painted (the veil of a sun, a lamp, a window's
// highlights, at its physical level). The cap is the `pct` percentile of the glare grid's
// cell luminances, from a histogram of log2 luminance over [kGlareCapLo, kGlareCapHi]
// (kHistBins bins: 1/30 stop), temporally smoothed like every global statistic.
DTUTMO_HD_CONST float kGlareCapPct = 99.9f;  // percentile of cell luminance
DTUTMO_HD_CONST float kGlareCapLo = -14.0f;  // log2 cd/m^2
DTUTMO_HD_CONST float kGlareCapHi = 20.0f;
// Histogram bin of a cell luminance (cd/m^2) among `bins` bins.
DTUTMO_HD int glare_cap_bin(float y, int bins) {
  const float t = (log2f(maxf(y, 1e-30f)) - kGlareCapLo) * (1.0f / (kGlareCapHi - kGlareCapLo));
  const int b = (int)(t * (float)bins);
  return b < 0 ? 0 : (b > bins - 1 ? bins - 1 : b);
}
// log2 cd/m^2 of a percentile position t in [0, 1] of that histogram.
DTUTMO_HD float glare_cap_log2(float t) { return kGlareCapLo + t * (kGlareCapHi - kGlareCapLo); }
// Share of a source cell's light (luminance y) that feeds the painted veil.
DTUTMO_HD float glare_excess_share(float y, float cap) { return y > cap ? (y - cap) / y : 0.0f; }

}  // namespace dtutmo
