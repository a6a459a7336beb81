// dtutmo -- objective quality metrics (see metrics.h for the definitions and deviations).
#include "metrics.h"

#include <png.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

namespace dtutmo {
namespace quality {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;

// 1-D normalised Gaussian of 11 taps, sigma 1.5 (fspecial('gaussian', 11, 1.5) is the
// outer product of this with itself, normalised).
std::vector<double> gauss11() {
  std::vector<double> g(11);
  double s = 0.0;
  for (int i = 0; i < 11; ++i) {
    const double x = i - 5;
    g[i] = std::exp(-x * x / (2.0 * 1.5 * 1.5));
    s += g[i];
  }
  for (double& v : g) v /= s;
  return g;
}

// Separable 'valid' filtering with an 11-tap kernel.
Plane filter_valid(const Plane& in, const std::vector<double>& k) {
  const int n = static_cast<int>(k.size());
  const int ow = in.width - n + 1, oh = in.height - n + 1;
  Plane tmp{ow, in.height, std::vector<double>(static_cast<size_t>(ow) * in.height)};
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < ow; ++x) {
      double s = 0.0;
      for (int i = 0; i < n; ++i) s += k[i] * in.at(x + i, y);
      tmp.at(x, y) = s;
    }
  Plane out{ow, oh, std::vector<double>(static_cast<size_t>(ow) * oh)};
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      double s = 0.0;
      for (int i = 0; i < n; ++i) s += k[i] * tmp.at(x, y + i);
      out.at(x, y) = s;
    }
  return out;
}

Plane product(const Plane& a, const Plane& b) {
  Plane r{a.width, a.height, std::vector<double>(a.v.size())};
  for (size_t i = 0; i < a.v.size(); ++i) r.v[i] = a.v[i] * b.v[i];
  return r;
}

// 2x2 box average with symmetric border ('same', MATLAB correlation anchor at the
// top-left of the 2x2 kernel), then keep every other pixel from the first.
Plane downsample2(const Plane& in) {
  const int ow = (in.width + 1) / 2, oh = (in.height + 1) / 2;
  Plane out{ow, oh, std::vector<double>(static_cast<size_t>(ow) * oh)};
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      const int x0 = 2 * x, y0 = 2 * y;
      const int x1 = std::min(x0 + 1, in.width - 1), y1 = std::min(y0 + 1, in.height - 1);
      out.at(x, y) = 0.25 * (in.at(x0, y0) + in.at(x1, y0) + in.at(x0, y1) + in.at(x1, y1));
    }
  return out;
}

double normcdf(double x, double mu, double sigma) {
  return 0.5 * std::erfc(-(x - mu) / (sigma * std::sqrt(2.0)));
}

// Mean local structural fidelity at one scale (sf: spatial frequency, cycles/degree).
double s_local_mean(const Plane& hdr, const Plane& ldr, double sf) {
  const double C1 = 0.01, C2 = 10.0;
  const std::vector<double> g = gauss11();
  const Plane mu1 = filter_valid(hdr, g), mu2 = filter_valid(ldr, g);
  const Plane e11 = filter_valid(product(hdr, hdr), g);
  const Plane e22 = filter_valid(product(ldr, ldr), g);
  const Plane e12 = filter_valid(product(hdr, ldr), g);
  const double csf = 100.0 * 2.6 * (0.0192 + 0.114 * sf) * std::exp(-std::pow(0.114 * sf, 1.1));
  const double u = 128.0 / (1.4 * csf);
  const double sig = u / 3.0;
  double sum = 0.0;
  for (size_t i = 0; i < mu1.v.size(); ++i) {
    const double m1 = mu1.v[i], m2 = mu2.v[i];
    const double s1 = std::sqrt(std::max(0.0, e11.v[i] - m1 * m1));
    const double s2 = std::sqrt(std::max(0.0, e22.v[i] - m2 * m2));
    const double s12 = e12.v[i] - m1 * m2;
    const double p1 = normcdf(s1, u, sig), p2 = normcdf(s2, u, sig);
    sum += ((2.0 * p1 * p2 + C1) / (p1 * p1 + p2 * p2 + C1)) * ((s12 + C2) / (s1 * s2 + C2));
  }
  return sum / static_cast<double>(mu1.v.size());
}

// Beta(a, b) density without its normalising constant.
double beta_kernel(double x, double a, double b) {
  if (x <= 0.0 || x >= 1.0) return 0.0;
  return std::pow(x, a - 1.0) * std::pow(1.0 - x, b - 1.0);
}

double srgb_decode(double c) {  // code [0, 1] -> linear
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}
double srgb_encode(double v) {  // linear [0, 1] -> code
  v = std::min(std::max(v, 0.0), 1.0);
  return v <= 0.0031308 ? v * 12.92 : 1.055 * std::pow(v, 1.0 / 2.4) - 0.055;
}
uint8_t to8(double code) {
  return static_cast<uint8_t>(std::lround(std::min(std::max(code, 0.0), 1.0) * 255.0));
}

}  // namespace

// ------------------------------------------------------------------------------------
Plane luminance(const ImageF& hdr) {
  Plane p{hdr.width, hdr.height, std::vector<double>(static_cast<size_t>(hdr.width) * hdr.height)};
  for (size_t i = 0; i < p.v.size(); ++i) {
    const float* c = &hdr.rgb[3 * i];
    double y = 0.2126390 * c[0] + 0.7151687 * c[1] + 0.0721923 * c[2];
    p.v[i] = std::isfinite(y) && y > 0.0 ? y : 0.0;
  }
  return p;
}

Plane code_luma(const Image8& ldr) {
  Plane p{ldr.width, ldr.height, std::vector<double>(static_cast<size_t>(ldr.width) * ldr.height)};
  for (size_t i = 0; i < p.v.size(); ++i) {
    const uint8_t* c = &ldr.rgb[3 * i];
    p.v[i] = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  return p;
}

double tmqi_structural_fidelity(const Plane& hdr_lum, const Plane& ldr_luma, double* s_local,
                                int* scales) {
  static const double kWeight[5] = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};
  if (hdr_lum.width != ldr_luma.width || hdr_lum.height != ldr_luma.height ||
      hdr_lum.width < 11 || hdr_lum.height < 11) {
    if (scales) *scales = 0;
    return kNaN;
  }
  // HDR: [min, max] -> [0, 2^32 - 1].
  Plane h = hdr_lum;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : h.v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const double factor = hi > lo ? (4294967296.0 - 1.0) / (hi - lo) : 0.0;
  for (double& v : h.v) v = factor * (v - lo);
  Plane l = ldr_luma;

  double logS = 0.0, wsum = 0.0;
  int used = 0;
  double f = 32.0;
  for (int lvl = 0; lvl < 5; ++lvl) {
    f /= 2.0;
    if (h.width < 11 || h.height < 11) break;
    const double s = s_local_mean(h, l, f);
    if (s_local) s_local[lvl] = s;
    const double sc = std::max(s, 0.0);
    logS += kWeight[lvl] * (sc > 0.0 ? std::log(sc) : -std::numeric_limits<double>::infinity());
    wsum += kWeight[lvl];
    ++used;
    h = downsample2(h);
    l = downsample2(l);
  }
  if (scales) *scales = used;
  // Weights of the scales used are renormalised to the total weight (deviation 3).
  double wtot = 0.0;
  for (double w : kWeight) wtot += w;
  return std::exp(logS * (wtot / wsum));
}

namespace {
// Mean of the std of 11x11 blocks, weighted by pixel count (TMQI's contrast term).
double block_std_mean(const Plane& ldr_luma) {
  const size_t n = ldr_luma.v.size();
  double sig_sum = 0.0;
  for (int by = 0; by < ldr_luma.height; by += 11)
    for (int bx = 0; bx < ldr_luma.width; bx += 11) {
      const int ex = std::min(bx + 11, ldr_luma.width), ey = std::min(by + 11, ldr_luma.height);
      const int cnt = (ex - bx) * (ey - by);
      double m = 0.0;
      for (int y = by; y < ey; ++y)
        for (int x = bx; x < ex; ++x) m += ldr_luma.at(x, y);
      m /= cnt;
      double ss = 0.0;
      for (int y = by; y < ey; ++y)
        for (int x = bx; x < ex; ++x) ss += (ldr_luma.at(x, y) - m) * (ldr_luma.at(x, y) - m);
      const double sd = cnt > 1 ? std::sqrt(ss / (cnt - 1)) : 0.0;
      sig_sum += sd * cnt;
    }
  return sig_sum / static_cast<double>(n);
}
}  // namespace

double tmqi_naturalness(const Plane& ldr_luma) {
  const size_t n = ldr_luma.v.size();
  if (n == 0) return kNaN;
  double mean = 0.0;
  for (double v : ldr_luma.v) mean += v;
  mean /= static_cast<double>(n);
  const double sig = block_std_mean(ldr_luma);
  const double a = 4.4, b = 10.1;
  const double mode = (a - 1.0) / (a + b - 2.0);
  const double pc = beta_kernel(sig / 64.29, a, b) / beta_kernel(mode, a, b);
  const double mu = 115.94, sd = 27.99;
  const double pb = std::exp(-(mean - mu) * (mean - mu) / (2.0 * sd * sd));
  return pb * pc;
}

TmqiResult tmqi(const Plane& hdr_lum, const Plane& ldr_luma) {
  TmqiResult r;
  r.S = tmqi_structural_fidelity(hdr_lum, ldr_luma, r.s_local, &r.scales);
  r.N = tmqi_naturalness(ldr_luma);
  const double a = 0.8012, alpha = 0.3046, beta = 0.7088;
  r.Q = a * std::pow(r.S, alpha) + (1.0 - a) * std::pow(r.N, beta);
  return r;
}

TmqiResult tmqi(const ImageF& hdr, const Image8& ldr) {
  return tmqi(luminance(hdr), code_luma(ldr));
}

// ------------------------------------------------------------------------------------
double delta_e2000(const Lab& x, const Lab& y) {
  const double deg = 180.0 / kPi;
  const double C1 = std::hypot(x.a, x.b), C2 = std::hypot(y.a, y.b);
  const double Cm = 0.5 * (C1 + C2);
  const double Cm7 = std::pow(Cm, 7.0);
  const double G = 0.5 * (1.0 - std::sqrt(Cm7 / (Cm7 + std::pow(25.0, 7.0))));
  const double a1 = (1.0 + G) * x.a, a2 = (1.0 + G) * y.a;
  const double c1 = std::hypot(a1, x.b), c2 = std::hypot(a2, y.b);
  auto hue = [&](double ap, double bp) {
    if (ap == 0.0 && bp == 0.0) return 0.0;
    double h = std::atan2(bp, ap) * deg;
    return h < 0.0 ? h + 360.0 : h;
  };
  const double h1 = hue(a1, x.b), h2 = hue(a2, y.b);
  const double dL = y.L - x.L;
  const double dC = c2 - c1;
  double dh = 0.0;
  if (c1 * c2 != 0.0) {
    dh = h2 - h1;
    if (dh > 180.0) dh -= 360.0;
    else if (dh < -180.0) dh += 360.0;
  }
  const double dH = 2.0 * std::sqrt(c1 * c2) * std::sin(0.5 * dh / deg);
  const double Lm = 0.5 * (x.L + y.L);
  const double cm = 0.5 * (c1 + c2);
  double hm = h1 + h2;
  if (c1 * c2 != 0.0) {
    if (std::fabs(h1 - h2) <= 180.0) hm = 0.5 * (h1 + h2);
    else if (h1 + h2 < 360.0) hm = 0.5 * (h1 + h2 + 360.0);
    else hm = 0.5 * (h1 + h2 - 360.0);
  }
  const double T = 1.0 - 0.17 * std::cos((hm - 30.0) / deg) + 0.24 * std::cos(2.0 * hm / deg) +
                   0.32 * std::cos((3.0 * hm + 6.0) / deg) - 0.20 * std::cos((4.0 * hm - 63.0) / deg);
  const double dtheta = 30.0 * std::exp(-((hm - 275.0) / 25.0) * ((hm - 275.0) / 25.0));
  const double cm7 = std::pow(cm, 7.0);
  const double Rc = 2.0 * std::sqrt(cm7 / (cm7 + std::pow(25.0, 7.0)));
  const double Lm50 = (Lm - 50.0) * (Lm - 50.0);
  const double SL = 1.0 + 0.015 * Lm50 / std::sqrt(20.0 + Lm50);
  const double SC = 1.0 + 0.045 * cm;
  const double SH = 1.0 + 0.015 * cm * T;
  const double RT = -std::sin(2.0 * dtheta / deg) * Rc;
  const double tL = dL / SL, tC = dC / SC, tH = dH / SH;
  return std::sqrt(tL * tL + tC * tC + tH * tH + RT * tC * tH);
}

Lab srgb8_to_lab(const uint8_t rgb[3]) {
  const double r = srgb_decode(rgb[0] / 255.0), g = srgb_decode(rgb[1] / 255.0),
               b = srgb_decode(rgb[2] / 255.0);
  const double X = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  const double Y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  const double Z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
  const double Xn = 0.95047, Yn = 1.0, Zn = 1.08883;
  auto f = [](double t) {
    const double e = 216.0 / 24389.0, k = 24389.0 / 27.0;
    return t > e ? std::cbrt(t) : (k * t + 16.0) / 116.0;
  };
  const double fx = f(X / Xn), fy = f(Y / Yn), fz = f(Z / Zn);
  return {116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)};
}

DeltaEStats delta_e2000_image(const Image8& a, const Image8& b) {
  DeltaEStats s;
  if (a.width != b.width || a.height != b.height || a.rgb.empty()) {
    s.mean = s.p95 = s.max = kNaN;
    return s;
  }
  const size_t n = static_cast<size_t>(a.width) * a.height;
  std::vector<double> d(n);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    d[i] = delta_e2000(srgb8_to_lab(&a.rgb[3 * i]), srgb8_to_lab(&b.rgb[3 * i]));
    sum += d[i];
    s.max = std::max(s.max, d[i]);
  }
  s.mean = sum / static_cast<double>(n);
  const size_t k = std::min(n - 1, static_cast<size_t>(0.95 * static_cast<double>(n)));
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(k), d.end());
  s.p95 = d[k];
  return s;
}

double colourfulness(const Image8& img) {
  const size_t n = static_cast<size_t>(img.width) * img.height;
  if (n == 0) return kNaN;
  double srg = 0, syb = 0, srg2 = 0, syb2 = 0;
  for (size_t i = 0; i < n; ++i) {
    const double R = img.rgb[3 * i], G = img.rgb[3 * i + 1], B = img.rgb[3 * i + 2];
    const double rg = R - G, yb = 0.5 * (R + G) - B;
    srg += rg;
    syb += yb;
    srg2 += rg * rg;
    syb2 += yb * yb;
  }
  const double mrg = srg / n, myb = syb / n;
  const double vrg = std::max(0.0, srg2 / n - mrg * mrg), vyb = std::max(0.0, syb2 / n - myb * myb);
  return std::sqrt(vrg + vyb) + 0.3 * std::sqrt(mrg * mrg + myb * myb);
}

// ------------------------------------------------------------------------------------
namespace {
BandingStats banding_rows(const Image8& img, int x0, int y0, int w, int h) {
  BandingStats s;
  if (w < 2 || h < 1) return s;
  long long pairs = 0, runs = 0, run_px = 0, contours = 0;
  double max_run_sum = 0.0;
  for (int y = y0; y < y0 + h; ++y) {
    auto code = [&](int x) {
      const uint8_t* c = img.px(x, y);
      return static_cast<int>(std::lround(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]));
    };
    int prev = code(x0), run = 1, row_max_run = 1;
    for (int x = x0 + 1; x < x0 + w; ++x) {
      const int c = code(x);
      const int st = std::abs(c - prev);
      s.step_hist[std::min(st, 4)] += 1.0;
      s.max_step = std::max(s.max_step, st);
      if (st >= 2) ++contours;
      ++pairs;
      if (st == 0) {
        ++run;
      } else {
        ++runs;
        run_px += run;
        row_max_run = std::max(row_max_run, run);
        run = 1;
      }
      prev = c;
    }
    ++runs;
    run_px += run;
    row_max_run = std::max(row_max_run, run);
    max_run_sum += row_max_run;
  }
  for (double& v : s.step_hist) v /= static_cast<double>(pairs);
  s.contours_per_row = static_cast<double>(contours) / h;
  s.mean_run = static_cast<double>(run_px) / static_cast<double>(runs);
  s.max_run = max_run_sum / h;
  return s;
}
}  // namespace

BandingStats banding(const Image8& img, int x0, int y0, int w, int h) {
  x0 = std::max(0, x0);
  y0 = std::max(0, y0);
  w = std::min(w, img.width - x0);
  h = std::min(h, img.height - y0);
  if (w < 2 || h < 2) return banding_rows(img, x0, y0, w, h);
  // The gradient's direction: the axis along which the mean code luma changes more
  // between the first and the last tenth of the region.
  const Plane l = code_luma(img);
  auto band_mean = [&](int ax, int ay, int bw, int bh) {
    double m = 0.0;
    for (int y = ay; y < ay + bh; ++y)
      for (int x = ax; x < ax + bw; ++x) m += l.at(x, y);
    return m / (static_cast<double>(bw) * bh);
  };
  const int tw = std::max(1, w / 10), th = std::max(1, h / 10);
  const double gx = std::fabs(band_mean(x0 + w - tw, y0, tw, h) - band_mean(x0, y0, tw, h));
  const double gy = std::fabs(band_mean(x0, y0 + h - th, w, th) - band_mean(x0, y0, w, th));
  if (gx >= gy) {
    BandingStats s = banding_rows(img, x0, y0, w, h);
    s.axis = 0;
    return s;
  }
  Image8 t{h, w, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) t.px(y, x)[c] = img.px(x0 + x, y0 + y)[c];
  BandingStats s = banding_rows(t, 0, 0, h, w);
  s.axis = 1;
  return s;
}

ExposureStats exposure(const Image8& img) {
  ExposureStats e;
  const Plane p = code_luma(img);
  if (p.v.empty()) return e;
  for (double v : p.v) {
    e.mean_luma += v;
    e.clipped += v >= 254.5 ? 1.0 : 0.0;
    e.crushed += v <= 2.0 ? 1.0 : 0.0;
  }
  const double n = static_cast<double>(p.v.size());
  e.mean_luma /= n;
  e.clipped /= n;
  e.crushed /= n;
  e.contrast = block_std_mean(p);
  return e;
}

double mean_code_luma(const Image8& img) {
  const Plane p = code_luma(img);
  if (p.v.empty()) return kNaN;
  double s = 0.0;
  for (double v : p.v) s += v;
  return s / static_cast<double>(p.v.size());
}

double flicker(const std::vector<double>& m) {
  if (m.size() < 2) return 0.0;
  double s = 0.0;
  for (size_t i = 1; i < m.size(); ++i) s += std::fabs(m[i] - m[i - 1]);
  return s / static_cast<double>(m.size() - 1);
}

int temporal_instability(const std::vector<Image8>& frames, size_t from) {
  int worst = 0;
  for (size_t t = std::max<size_t>(from, 1); t < frames.size(); ++t) {
    const Image8& a = frames[t - 1];
    const Image8& b = frames[t];
    if (a.rgb.size() != b.rgb.size()) return 255;
    for (size_t i = 0; i < a.rgb.size(); ++i)
      worst = std::max(worst, std::abs(static_cast<int>(a.rgb[i]) - static_cast<int>(b.rgb[i])));
  }
  return worst;
}

// ------------------------------------------------------------------------------------
namespace {
struct FileCloser {
  void operator()(FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<FILE, FileCloser>;

// Reads a whitespace-separated header token, skipping '#' comments.
bool read_token(FILE* f, std::string* tok) {
  tok->clear();
  int c;
  while ((c = std::fgetc(f)) != EOF) {
    if (c == '#') {
      while ((c = std::fgetc(f)) != EOF && c != '\n') {
      }
      continue;
    }
    if (!std::isspace(c)) break;
  }
  if (c == EOF) return false;
  do {
    tok->push_back(static_cast<char>(c));
  } while ((c = std::fgetc(f)) != EOF && !std::isspace(c));
  return true;  // the single whitespace after the token has been consumed
}
}  // namespace

bool read_pfm(const std::string& path, ImageF* out, std::string* err) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    *err = "cannot open " + path;
    return false;
  }
  std::string magic, ws, hs, ss;
  if (!read_token(f.get(), &magic) || (magic != "PF" && magic != "Pf") ||
      !read_token(f.get(), &ws) || !read_token(f.get(), &hs) || !read_token(f.get(), &ss)) {
    *err = path + ": not a PFM file";
    return false;
  }
  const int ch = magic == "PF" ? 3 : 1;
  const int w = std::atoi(ws.c_str()), h = std::atoi(hs.c_str());
  const double scale = std::atof(ss.c_str());
  if (w <= 0 || h <= 0 || w > 65536 || h > 65536 || scale == 0.0) {
    *err = path + ": bad PFM header";
    return false;
  }
  const bool little = scale < 0.0;
  const uint16_t probe = 1;
  const bool host_little = *reinterpret_cast<const uint8_t*>(&probe) == 1;
  std::vector<float> buf(static_cast<size_t>(w) * h * ch);
  if (std::fread(buf.data(), sizeof(float), buf.size(), f.get()) != buf.size()) {
    *err = path + ": truncated PFM";
    return false;
  }
  if (little != host_little)
    for (float& v : buf) {
      uint8_t* b = reinterpret_cast<uint8_t*>(&v);
      std::swap(b[0], b[3]);
      std::swap(b[1], b[2]);
    }
  out->width = w;
  out->height = h;
  out->rgb.assign(static_cast<size_t>(w) * h * 3, 0.0f);
  // PFM rows are stored bottom to top.
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        out->px(x, h - 1 - y)[c] = buf[(static_cast<size_t>(y) * w + x) * ch + (ch == 3 ? c : 0)];
  return true;
}

bool write_pfm(const std::string& path, const ImageF& img, std::string* err) {
  File f(std::fopen(path.c_str(), "wb"));
  if (!f) {
    *err = "cannot write " + path;
    return false;
  }
  const uint16_t probe = 1;
  const bool host_little = *reinterpret_cast<const uint8_t*>(&probe) == 1;
  std::fprintf(f.get(), "PF\n%d %d\n%s\n", img.width, img.height, host_little ? "-1.0" : "1.0");
  for (int y = img.height - 1; y >= 0; --y)
    if (std::fwrite(img.px(0, y), sizeof(float), 3 * static_cast<size_t>(img.width), f.get()) !=
        3 * static_cast<size_t>(img.width)) {
      *err = "write error " + path;
      return false;
    }
  return true;
}

bool read_png(const std::string& path, Image8* out, std::string* err) {
  png_image im;
  std::memset(&im, 0, sizeof(im));
  im.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&im, path.c_str())) {
    *err = path + ": " + im.message;
    return false;
  }
  // Keep the stored code values: no colour-space conversion, 8-bit sRGB RGB.
  im.format = PNG_FORMAT_RGB;
  out->width = static_cast<int>(im.width);
  out->height = static_cast<int>(im.height);
  out->rgb.assign(PNG_IMAGE_SIZE(im), 0);
  if (!png_image_finish_read(&im, nullptr, out->rgb.data(), 0, nullptr)) {
    *err = path + ": " + im.message;
    png_image_free(&im);
    return false;
  }
  return true;
}

bool write_png(const std::string& path, const Image8& img, std::string* err) {
  png_image im;
  std::memset(&im, 0, sizeof(im));
  im.version = PNG_IMAGE_VERSION;
  im.width = static_cast<png_uint_32>(img.width);
  im.height = static_cast<png_uint_32>(img.height);
  im.format = PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&im, path.c_str(), 0, img.rgb.data(), 0, nullptr)) {
    *err = path + ": " + im.message;
    return false;
  }
  return true;
}

bool read_ppm(const std::string& path, Image8* out, std::string* err) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    *err = "cannot open " + path;
    return false;
  }
  std::string magic, ws, hs, ms;
  if (!read_token(f.get(), &magic) || magic != "P6" || !read_token(f.get(), &ws) ||
      !read_token(f.get(), &hs) || !read_token(f.get(), &ms)) {
    *err = path + ": not a binary PPM";
    return false;
  }
  const int w = std::atoi(ws.c_str()), h = std::atoi(hs.c_str()), maxv = std::atoi(ms.c_str());
  if (w <= 0 || h <= 0 || maxv <= 0 || maxv > 65535) {
    *err = path + ": bad PPM header";
    return false;
  }
  const size_t n = static_cast<size_t>(w) * h * 3;
  const size_t bpc = maxv > 255 ? 2 : 1;
  std::vector<uint8_t> buf(n * bpc);
  if (std::fread(buf.data(), 1, buf.size(), f.get()) != buf.size()) {
    *err = path + ": truncated PPM";
    return false;
  }
  out->width = w;
  out->height = h;
  out->rgb.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double v = bpc == 2 ? (buf[2 * i] << 8 | buf[2 * i + 1]) : buf[i];
    out->rgb[i] = static_cast<uint8_t>(std::lround(v * 255.0 / maxv));
  }
  return true;
}

bool read_image8(const std::string& path, Image8* out, std::string* err) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    *err = "cannot open " + path;
    return false;
  }
  unsigned char sig[2] = {0, 0};
  const size_t got = std::fread(sig, 1, 2, f.get());
  f.reset();
  if (got == 2 && sig[0] == 'P' && sig[1] == '6') return read_ppm(path, out, err);
  return read_png(path, out, err);
}

// ------------------------------------------------------------------------------------
Image8 render_linear(const ImageF& hdr, double scale) {
  Image8 o{hdr.width, hdr.height, std::vector<uint8_t>(hdr.rgb.size())};
  for (size_t i = 0; i < hdr.rgb.size(); ++i) {
    const double v = std::isfinite(hdr.rgb[i]) ? hdr.rgb[i] * scale : 0.0;
    o.rgb[i] = to8(srgb_encode(v));
  }
  return o;
}

double log_mean_luminance(const ImageF& img) {
  const Plane y = luminance(img);
  double s = 0.0;
  for (double v : y.v) s += std::log(std::max(v, 1e-9));
  return y.v.empty() ? 0.0 : std::exp(s / static_cast<double>(y.v.size()));
}

namespace {
struct HaloGeom {
  double cx, cy, r, u;  // centre, radius, distance unit (pixels per test-chart pixel)
};
HaloGeom halo_geom(int width, int height) {
  return {0.5 * width, 0.5 * height, height / 6.0, height / 216.0};
}
}  // namespace

ImageF halo_chart(int width, int height, float inside, float outside) {
  ImageF o{width, height, std::vector<float>(static_cast<size_t>(width) * height * 3)};
  const HaloGeom g = halo_geom(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const double d = std::hypot(x + 0.5 - g.cx, y + 0.5 - g.cy);
      const float v = d < g.r ? inside : outside;
      for (int c = 0; c < 3; ++c) o.px(x, y)[c] = v;
    }
  return o;
}

HaloStats halo(const Image8& ldr) {
  const HaloGeom g = halo_geom(ldr.width, ldr.height);
  // mean linear luminance over pixels at distance [r0, r1) from the centre
  auto ring = [&](double r0, double r1) {
    double a = 0.0;
    long n = 0;
    for (int y = 0; y < ldr.height; ++y)
      for (int x = 0; x < ldr.width; ++x) {
        const double d = std::hypot(x + 0.5 - g.cx, y + 0.5 - g.cy);
        if (d < r0 || d >= r1) continue;
        const uint8_t* p = ldr.px(x, y);
        a += 0.2126 * srgb_decode(p[0] / 255.0) + 0.7152 * srgb_decode(p[1] / 255.0) +
             0.0722 * srgb_decode(p[2] / 255.0);
        ++n;
      }
    return std::max(a / std::max(n, 1L), 1e-5);  // black on both sides: no halo
  };
  const double near_out = ring(g.r + g.u, g.r + 12 * g.u), far_out = ring(g.r + 70 * g.u, 1e30);
  const double near_in = ring(g.r - 10 * g.u, g.r - g.u), centre = ring(0.0, 0.4 * g.r);
  HaloStats h;
  h.outside = std::fabs(std::log2(near_out / far_out));
  h.inside = std::fabs(std::log2(near_in / centre));
  h.contrast = std::log2(far_out / centre);
  return h;
}

Image8 render_naive(const ImageF& hdr, double key) {
  const Plane y = luminance(hdr);
  double s = 0.0;
  for (double v : y.v) s += std::log(v + 1e-4);
  const double logmean = y.v.empty() ? 1.0 : std::exp(s / static_cast<double>(y.v.size()));
  return render_linear(hdr, key / std::max(logmean, 1e-6));
}

ImageF resize_linear(const ImageF& img, int width) {
  if (width >= img.width || width <= 0) return img;
  const int height = std::max(1, static_cast<int>(std::lround(
                                    static_cast<double>(img.height) * width / img.width)));
  ImageF o{width, height, std::vector<float>(static_cast<size_t>(width) * height * 3)};
  const double sx = static_cast<double>(img.width) / width, sy = static_cast<double>(img.height) / height;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const int xa = static_cast<int>(x * sx), xb = std::max(xa + 1, static_cast<int>((x + 1) * sx));
      const int ya = static_cast<int>(y * sy), yb = std::max(ya + 1, static_cast<int>((y + 1) * sy));
      double acc[3] = {0, 0, 0};
      int n = 0;
      for (int v = ya; v < std::min(yb, img.height); ++v)
        for (int u = xa; u < std::min(xb, img.width); ++u) {
          for (int c = 0; c < 3; ++c) acc[c] += img.px(u, v)[c];
          ++n;
        }
      for (int c = 0; c < 3; ++c) o.px(x, y)[c] = static_cast<float>(acc[c] / std::max(n, 1));
    }
  return o;
}

Image8 resize_srgb8(const Image8& img, int width) {
  if (width >= img.width || width <= 0) return img;
  ImageF lin{img.width, img.height, std::vector<float>(img.rgb.size())};
  for (size_t i = 0; i < img.rgb.size(); ++i)
    lin.rgb[i] = static_cast<float>(srgb_decode(img.rgb[i] / 255.0));
  return render_linear(resize_linear(lin, width), 1.0);
}

}  // namespace quality
}  // namespace dtutmo
