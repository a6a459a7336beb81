// dtutmo -- colour spaces: RGB primaries <-> CIE XYZ (D65), XYZ <-> LMS (Hunt-Pointer-
// Estevez, D65-normalised), the scotopic signal, and Y'CbCr coefficients.
#pragma once

#include "dtutmo/frame.h"
#include "dtutmo/hd.h"

namespace dtutmo {

// ITU-R BT.709-6 primaries, D65, linear RGB -> XYZ (Y = luminance).
DTUTMO_HD Mat3 bt709_to_xyz() {
  return {{{0.4123908f, 0.3575843f, 0.1804808f},
           {0.2126390f, 0.7151687f, 0.0721923f},
           {0.0193308f, 0.1191948f, 0.9505322f}}};
}
// ITU-R BT.2020-2 primaries, D65, linear RGB -> XYZ.
DTUTMO_HD Mat3 bt2020_to_xyz() {
  return {{{0.6369580f, 0.1446169f, 0.1688810f},
           {0.2627002f, 0.6779981f, 0.0593017f},
           {0.0000000f, 0.0280727f, 1.0609851f}}};
}
DTUTMO_HD Mat3 rgb_to_xyz(Primaries p) {
  return p == Primaries::BT2020 ? bt2020_to_xyz() : bt709_to_xyz();
}
DTUTMO_HD Mat3 xyz_to_rgb(Primaries p) { return inverse(rgb_to_xyz(p)); }

// Hunt-Pointer-Estevez XYZ -> LMS, normalised so that D65 (0.95047, 1, 1.08883) gives
// L = M = S = 1 (to 3e-4). Content is graded to D65, so equal cone signals
// mean neutral.
DTUTMO_HD Mat3 xyz_to_lms() {
  return {{{0.4002f, 0.7076f, -0.0808f},
           {-0.2263f, 1.1653f, 0.0457f},
           {0.0f, 0.0f, 0.9182f}}};
}

// LMS (above) -> white-normalised XYZ (X/Xn, Y/Yn, Z/Zn for this LMS's own white): each
// row of the inverse of xyz_to_lms scaled to sum 1, so that L = M = S gives X = Y = Z
// exactly (to float rounding). CIELAB's cube roots act on these ratios (gamut.h, the
// hue-linear colour line).
DTUTMO_HD Mat3 lms_to_nxyz() {
  Mat3 m = inverse(xyz_to_lms());
  for (int i = 0; i < 3; ++i) {
    const float s = 1.0f / (m.m[i][0] + m.m[i][1] + m.m[i][2]);
    for (int j = 0; j < 3; ++j) m.m[i][j] *= s;
  }
  return m;
}

// Scotopic signal for rods from XYZ (MODEL.md stage 2), clamped at 0.
DTUTMO_HD float scotopic_from_xyz(Vec3 xyz) {
  return maxf(-0.702f * xyz.x + 1.039f * xyz.y + 0.433f * xyz.z, 0.0f);
}
// The rod signal of D65 white per cd/m^2 of luminance.
DTUTMO_HD_CONST float kScotopicPerNitD65 = -0.702f * 0.95047f + 1.039f + 0.433f * 1.08883f;

// Y'CbCr luma coefficients (ITU-R BT.709, BT.2020 non-constant luminance, BT.601).
struct YuvCoeffs {
  float kr, kb;
};
DTUTMO_HD YuvCoeffs yuv_coeffs(YuvMatrix m) {
  return m == YuvMatrix::BT2020NC ? YuvCoeffs{0.2627f, 0.0593f}
         : m == YuvMatrix::BT601  ? YuvCoeffs{0.299f, 0.114f}
                                  : YuvCoeffs{0.2126f, 0.0722f};
}

}  // namespace dtutmo
