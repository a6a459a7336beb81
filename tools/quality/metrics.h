// dtutmo -- objective quality metrics for tone-mapped images and video.
//
// Host-only, double precision, no dependency on the engine. Images are plain row-major
// arrays (see ImageF / Image8 below).
//
// ---------------------------------------------------------------------------------------
// TMQI -- Tone Mapped image Quality Index (H. Yeganeh and Z. Wang, "Objective Quality
// Assessment of Tone-Mapped Images", IEEE TIP 22(2):657-667, 2013), version 1.0.
//
//   Q = a S^alpha + (1 - a) N^beta,  a = 0.8012, alpha = 0.3046, beta = 0.7088.
//
// Structural fidelity S (multi-scale, 5 scales, weights 0.0448 0.2856 0.3001 0.2363
// 0.1333; between scales a 2x2 box average and decimation by 2, symmetric border):
//   at each scale, with an 11x11 Gaussian window (sigma 1.5, normalised, 'valid'
//   positions only) the local std sigma_x (HDR), sigma_y (LDR) and covariance sigma_xy,
//   s_local = (2 s'x s'y + C1) / (s'x^2 + s'y^2 + C1) * (sigma_xy + C2) / (sigma_x sigma_y + C2)
//   with C1 = 0.01, C2 = 10, and s' = Phi((sigma - tau) / (tau / 3)) (normal CDF), the
//   visibility threshold tau = 128 / (1.4 CSF(f)), CSF(f) = 100 * 2.6 (0.0192 + 0.114 f)
//   exp(-(0.114 f)^1.1) (Mannos-Sakrison), f = 16, 8, 4, 2, 1 cycles/degree for scales
//   1..5. S = prod_l mean(s_local,l)^w_l.
//   HDR luminance: Y of the linear RGB (BT.709/sRGB primaries), rescaled linearly so that
//   [min, max] -> [0, 2^32 - 1], as the authors' code does. LDR luminance: the same
//   matrix applied to the 8-bit sRGB code values 0..255 (not linearised), as the
//   authors' code does.
// Statistical naturalness N = Pm * Pd:
//   Pm = exp(-(mu - 115.94)^2 / (2 * 27.99^2))   (Gaussian, normalised to peak 1)
//   Pd = Beta(sigma / 64.29; 4.4, 10.1) / Beta(mode; 4.4, 10.1)
//   mu = mean LDR luminance (code values), sigma = mean of the standard deviations of
//   non-overlapping 11x11 blocks (the authors' code: blkproc + std).
//
// Deviations from the authors' MATLAB code (all deliberate, documented here):
//   1. The HDR rescale factor (2^32-1)/(max-min) is not rounded to an integer and the
//      rescaled values are not rounded: rounding only adds quantisation noise and breaks
//      the invariance Q(k * HDR) = Q(HDR) that the definition intends. A constant HDR image
//      (max == min) is mapped to zeros.
//   2. A negative mean s_local at some scale (structure inverted, e.g. a negative image)
//      makes prod(s^w) undefined (NaN in MATLAB). Here each scale's mean is clamped to
//      >= 0 before the product, so an inverted image gets S = 0.
//   3. Images too small for 5 scales (a scale needs >= 11x11 pixels) use the scales that
//      fit, with their weights renormalised to sum to the total (one minus the rest); an
//      image smaller than 11x11 gets S = NaN.
//   4. blkproc pads partial border blocks with zeros; here partial blocks use their own
//      pixels only and every block is weighted by its pixel count (equivalent to
//      mean2 of the per-pixel std map). std uses N-1 normalisation like MATLAB's std
//      (a 1-pixel block has std 0).
//   5. The brief's "global std" would differ from the published code; the published
//      block-std definition is the one implemented.
//
// ---------------------------------------------------------------------------------------
// CIEDE2000 (Sharma, Wu and Dalal 2005 formulation, kL = kC = kH = 1), CIELAB with the D65
// white of the sRGB encoding (IEC 61966-2-1 matrix). Colourfulness: Hasler and Suesstrunk
// (2003) M = sqrt(var(rg) + var(yb)) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2), rg = R - G,
// yb = (R + G)/2 - B on 8-bit code values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dtutmo {
namespace quality {

// Linear float RGB image (3 channels, row-major, values in any unit, e.g. cd/m^2).
struct ImageF {
  int width = 0;
  int height = 0;
  std::vector<float> rgb;  // 3 * width * height
  float* px(int x, int y) { return &rgb[3 * (static_cast<size_t>(y) * width + x)]; }
  const float* px(int x, int y) const { return &rgb[3 * (static_cast<size_t>(y) * width + x)]; }
};

// 8-bit sRGB-encoded image (3 channels, row-major).
struct Image8 {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // 3 * width * height
  uint8_t* px(int x, int y) { return &rgb[3 * (static_cast<size_t>(y) * width + x)]; }
  const uint8_t* px(int x, int y) const {
    return &rgb[3 * (static_cast<size_t>(y) * width + x)];
  }
};

// A single-channel double image.
struct Plane {
  int width = 0;
  int height = 0;
  std::vector<double> v;
  double& at(int x, int y) { return v[static_cast<size_t>(y) * width + x]; }
  double at(int x, int y) const { return v[static_cast<size_t>(y) * width + x]; }
};

// --- luminance helpers ---
// Y of linear RGB with BT.709 primaries.
Plane luminance(const ImageF& hdr);
// 0.2126 R' + 0.7152 G' + 0.0722 B' on code values 0..255 (TMQI's LDR "luminance").
Plane code_luma(const Image8& ldr);

// --- TMQI ---
struct TmqiResult {
  double Q = 0.0;
  double S = 0.0;
  double N = 0.0;
  double s_local[5] = {0, 0, 0, 0, 0};  // mean local fidelity per scale (before clamping)
  int scales = 0;                       // scales actually used
};
// Full TMQI from an HDR luminance plane and an LDR code-value luminance plane of the same
// size. Returns NaN fields if sizes differ or the image is smaller than 11x11.
TmqiResult tmqi(const Plane& hdr_lum, const Plane& ldr_luma);
// Convenience: from images.
TmqiResult tmqi(const ImageF& hdr, const Image8& ldr);
// The two parts on their own.
double tmqi_structural_fidelity(const Plane& hdr_lum, const Plane& ldr_luma,
                                double* s_local = nullptr, int* scales = nullptr);
double tmqi_naturalness(const Plane& ldr_luma);

// --- colour ---
struct Lab {
  double L, a, b;
};
// CIEDE2000 colour difference between two CIELAB colours.
double delta_e2000(const Lab& x, const Lab& y);
// 8-bit sRGB -> CIELAB (D65).
Lab srgb8_to_lab(const uint8_t rgb[3]);
// Mean and 95th percentile of per-pixel CIEDE2000 between two sRGB images of equal size.
struct DeltaEStats {
  double mean = 0.0;
  double p95 = 0.0;
  double max = 0.0;
};
DeltaEStats delta_e2000_image(const Image8& a, const Image8& b);
// Hasler-Suesstrunk colourfulness (8-bit code values).
double colourfulness(const Image8& img);

// --- banding ---
// Statistics of the steps of the code luma (rounded to integer codes; for a grey or
// near-grey gradient this is the code value) between neighbouring pixels along the
// gradient's direction (rows for a horizontal gradient, columns for a vertical one: the
// axis along which the mean changes more across the region) inside the rectangle
// [x0, x0+w) x [y0, y0+h), meant for a region that should be a smooth gradient.
// "Row" below means a line along that axis.
struct BandingStats {
  double step_hist[5] = {0, 0, 0, 0, 0};  // fraction of adjacent pairs with |step| 0,1,2,3,>=4
  double contours_per_row = 0.0;   // false contours: steps of >= 2 codes, per row
  double mean_run = 0.0;           // mean length (px) of runs of constant code
  double max_run = 0.0;            // longest run of constant code (px), averaged over rows
  int max_step = 0;                // largest |step| in codes
  int axis = 0;                    // 0: along rows (horizontal gradient), 1: along columns
};
BandingStats banding(const Image8& img, int x0, int y0, int w, int h);

// --- exposure ---
struct ExposureStats {
  double mean_luma = 0.0;     // mean code luma (0..255)
  double contrast = 0.0;      // TMQI's contrast: mean std of 11x11 blocks of code luma
  double clipped = 0.0;       // fraction of pixels with code luma >= 254.5 (white)
  double crushed = 0.0;       // fraction of pixels with code luma <= 2 (black)
};
ExposureStats exposure(const Image8& img);

// --- calibration ---
// Log-average luminance exp(mean ln max(Y, 1e-9)) of a linear image (its own units), Y of
// BT.709 RGB. Scaling an image by k / log_mean_luminance(img) puts its log-average at k.
double log_mean_luminance(const ImageF& img);

// --- halos ---
// Halo chart: a grey disc of luminance `inside` centred on a uniform grey background of
// luminance `outside` (linear RGB, any unit), radius height / 6. At 384x216 it is the disc
// of tests/model/test_halo.cpp.
ImageF halo_chart(int width, int height, float inside, float outside);
// Halo of a rendering of halo_chart (same size; 8-bit sRGB, linearised): a halo is a glow
// or shadow along the edge. Distances scale with height / 216 (the test's geometry).
struct HaloStats {
  double outside = 0.0;   // |log2| (mean Y in [R+1, R+12) / mean Y beyond R+70), stops
  double inside = 0.0;    // |log2| (mean Y in [R-10, R-1) / mean Y within 0.4 R), stops
  double contrast = 0.0;  // log2 (far background / disc centre), signed
};
HaloStats halo(const Image8& ldr);

// --- temporal ---
// Mean code luma of an image (0..255).
double mean_code_luma(const Image8& img);
// Flicker: mean |m[t+1] - m[t]| of a sequence of per-frame mean code lumas.
double flicker(const std::vector<double>& frame_means);
// Temporal instability of a static sequence: the largest per-pixel, per-channel absolute
// code change between consecutive frames, over frames [from, end). 0 when bit-identical.
int temporal_instability(const std::vector<Image8>& frames, size_t from = 0);

// --- I/O (tools/quality/metrics.cpp) ---
// PFM (Portable FloatMap, colour "PF" or grey "Pf", any endianness): returns false with a
// message. Grey PFMs are expanded to RGB.
bool read_pfm(const std::string& path, ImageF* out, std::string* err);
bool write_pfm(const std::string& path, const ImageF& img, std::string* err);
// 8-bit PNG (grey, grey+alpha, RGB, RGBA, palette; 16-bit is reduced to 8; alpha dropped).
bool read_png(const std::string& path, Image8* out, std::string* err);
bool write_png(const std::string& path, const Image8& img, std::string* err);
// Binary PPM (P6, maxval 255 or 65535 reduced to 8 bits).
bool read_ppm(const std::string& path, Image8* out, std::string* err);
// Reads PNG or PPM by content.
bool read_image8(const std::string& path, Image8* out, std::string* err);

// --- simple renderings (for baselines and galleries) ---
// Naive rendering: exposure so that the log-average luminance maps to 0.18 of white
// (`key`), linear scaling, hard clip, sRGB encode, no dither.
Image8 render_naive(const ImageF& hdr, double key = 0.18);
// Linear scaling by `scale` (value * scale = display-relative linear), clip, sRGB encode.
Image8 render_linear(const ImageF& hdr, double scale);
// Box-filter downscale (area average) of a linear image to the given width.
ImageF resize_linear(const ImageF& img, int width);
// Area-average downscale of an 8-bit sRGB image (averaging in linear light).
Image8 resize_srgb8(const Image8& img, int width);

}  // namespace quality
}  // namespace dtutmo
