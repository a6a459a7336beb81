// dtutmo-convert --plot, drawn with cairo (Debian libcairo2): see plot.h.
#include "plot.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

namespace dtutmo_convert {
namespace {

struct Rgb {
  double r, g, b;
};
const Rgb kInk{0.15, 0.15, 0.15};
const Rgb kGrid{0.88, 0.88, 0.88};
const Rgb kFrame{0.55, 0.55, 0.55};
const Rgb kLuminance{0.85, 0.37, 0.01};  // colour-blind-safe trio (ColorBrewer Dark2)
const Rgb kPupil{0.11, 0.62, 0.47};
const Rgb kRod{0.46, 0.44, 0.70};
const Rgb kCut{0.84, 0.10, 0.11};
const Rgb kReset{0.45, 0.45, 0.45};

void set(cairo_t* cr, const Rgb& c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

// 1, 2 or 5 times a power of ten, so that about `n` steps cover `range`.
double nice_step(double range, int n) {
  const double raw = range / std::max(1, n);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

std::string number(double v, double step) {
  char buf[32];
  const int decimals = step >= 1.0 ? 0 : int(std::ceil(-std::log10(step) - 1e-9));
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::fabs(v) < step * 1e-6 ? 0.0 : v);
  return buf;
}

std::string decade(int k) {
  char buf[32];
  if (k >= -3 && k <= 4)
    std::snprintf(buf, sizeof buf, "%g", std::pow(10.0, k));
  else
    std::snprintf(buf, sizeof buf, "1e%d", k);
  return buf;
}

void text(cairo_t* cr, double x, double y, const std::string& s, double size, double align_x,
          double align_y, bool bold = false) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_move_to(cr, x - align_x * e.width - e.x_bearing, y - align_y * e.height - e.y_bearing);
  cairo_show_text(cr, s.c_str());
}

struct Box {
  double x, y, w, h;
};

// One panel: a y axis (linear or log10 of the value), a curve, the events.
struct Panel {
  std::string label;
  Rgb colour;
  bool log_scale;
  double lo, hi;  // axis range (log10 units when log_scale)
  std::function<double(const AdaptationSample&)> value;
};

}  // namespace

bool write_adaptation_plot(const std::vector<AdaptationSample>& samples, const std::string& path,
                           const std::string& title, const std::string& subtitle, int width,
                           int height, std::string* err) {
  if (samples.empty()) {
    if (err) *err = "no adaptation data (no frame reached the tone mapper)";
    return false;
  }
  double t0 = samples.front().time_s, t1 = samples.front().time_s;
  double la_lo = 1e30, la_hi = 0, pu_lo = 1e30, pu_hi = 0;
  for (const AdaptationSample& s : samples) {
    t0 = std::min(t0, s.time_s);
    t1 = std::max(t1, s.time_s);
    const double la = std::max(s.adaptation_nits, 1e-6);
    la_lo = std::min(la_lo, la);
    la_hi = std::max(la_hi, la);
    pu_lo = std::min(pu_lo, s.pupil_mm);
    pu_hi = std::max(pu_hi, s.pupil_mm);
  }
  if (t1 - t0 < 1e-3) {
    t0 -= 0.5;
    t1 += 0.5;
  }
  // Luminance: whole decades around the data. Pupil: half millimetres around the data.
  double l_lo = std::floor(std::log10(la_lo)), l_hi = std::ceil(std::log10(la_hi));
  if (l_hi - l_lo < 1) l_hi = l_lo + 1;
  const double p_lo = std::floor(pu_lo * 2.0 - 1.0) / 2.0, p_hi = std::ceil(pu_hi * 2.0 + 1.0) / 2.0;

  const std::vector<Panel> panels = {
      {"Adaptation luminance (cd/m\u00b2, log scale)", kLuminance, true, l_lo, l_hi,
       [](const AdaptationSample& s) { return std::log10(std::max(s.adaptation_nits, 1e-6)); }},
      {"Pupil diameter (mm)", kPupil, false, std::max(0.0, p_lo), p_hi,
       [](const AdaptationSample& s) { return s.pupil_mm; }},
      {"Rod weight (0 cones only, 1 rods only)", kRod, false, 0.0, 1.0,
       [](const AdaptationSample& s) { return s.rod_weight; }},
  };

  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);

  const double scale = height / 900.0;  // font sizes and line widths follow the height
  const double left = 95 * scale, right = 30 * scale, top = 100 * scale, bottom = 78 * scale;
  const double gap = 42 * scale;
  const double weights[3] = {0.42, 0.29, 0.29};
  const double plot_h = height - top - bottom - 2 * gap;
  const double plot_w = width - left - right;
  auto x_of = [&](double t) { return left + (t - t0) / (t1 - t0) * plot_w; };

  set(cr, kInk);
  text(cr, left, 16 * scale, title, 20 * scale, 0, 0, true);
  text(cr, left, 48 * scale, subtitle, 13 * scale, 0, 0);

  const double tstep = nice_step(t1 - t0, 10);
  bool any_cut = false, any_reset = false;
  double y = top;
  for (size_t pi = 0; pi < panels.size(); ++pi) {
    const Panel& p = panels[pi];
    const Box b{left, y, plot_w, plot_h * weights[pi]};
    y += b.h + gap;
    auto y_of = [&](double v) {
      const double u = (std::clamp(v, p.lo, p.hi) - p.lo) / (p.hi - p.lo);
      return b.y + b.h - u * b.h;
    };
    // Grid and y labels.
    cairo_set_line_width(cr, 1.0 * scale);
    std::vector<std::pair<double, std::string>> yt;
    if (p.log_scale) {
      const int every = int(p.hi - p.lo) > 8 ? 2 : 1;
      for (int k = int(p.lo); k <= int(p.hi); k += every) yt.push_back({double(k), decade(k)});
    } else {
      const double st = nice_step(p.hi - p.lo, 4);
      for (double v = std::ceil(p.lo / st - 1e-9) * st; v <= p.hi + 1e-9; v += st)
        yt.push_back({v, number(v, st)});
    }
    for (const auto& tk : yt) {
      set(cr, kGrid);
      cairo_move_to(cr, b.x, y_of(tk.first));
      cairo_line_to(cr, b.x + b.w, y_of(tk.first));
      cairo_stroke(cr);
      set(cr, kInk);
      text(cr, b.x - 8 * scale, y_of(tk.first), tk.second, 12 * scale, 1.0, 0.5);
    }
    for (double t = std::ceil(t0 / tstep - 1e-9) * tstep; t <= t1 + 1e-9; t += tstep) {
      set(cr, kGrid);
      cairo_move_to(cr, x_of(t), b.y);
      cairo_line_to(cr, x_of(t), b.y + b.h);
      cairo_stroke(cr);
      if (pi + 1 == panels.size()) {
        set(cr, kInk);
        text(cr, x_of(t), b.y + b.h + 8 * scale, number(t, tstep), 12 * scale, 0.5, 0.0);
      }
    }
    // Events: cuts (red, dashed) and resets after the first frame (grey, dotted).
    for (size_t i = 0; i < samples.size(); ++i) {
      const AdaptationSample& s = samples[i];
      const bool reset = s.reset && i > 0;
      if (!s.cut && !reset) continue;
      const double dash[2] = {s.cut ? 7 * scale : 2 * scale, 4 * scale};
      cairo_set_dash(cr, dash, 2, 0);
      set(cr, s.cut ? kCut : kReset);
      cairo_set_line_width(cr, (s.cut ? 2.0 : 1.5) * scale);
      cairo_move_to(cr, x_of(s.time_s), b.y);
      cairo_line_to(cr, x_of(s.time_s), b.y + b.h);
      cairo_stroke(cr);
      cairo_set_dash(cr, nullptr, 0, 0);
      if (pi == 0)
        text(cr, x_of(s.time_s) + 4 * scale, b.y + 4 * scale, s.cut ? "cut" : "reset",
             11 * scale, 0.0, 0.0);
      any_cut |= s.cut;
      any_reset |= reset;
    }
    // The curve, then a dot per sample when there are few.
    set(cr, p.colour);
    cairo_set_line_width(cr, 2.2 * scale);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t i = 0; i < samples.size(); ++i) {
      const double px = x_of(samples[i].time_s), py = y_of(p.value(samples[i]));
      if (i == 0)
        cairo_move_to(cr, px, py);
      else
        cairo_line_to(cr, px, py);
    }
    cairo_stroke(cr);
    if (samples.size() < 40)
      for (const AdaptationSample& s : samples) {
        cairo_arc(cr, x_of(s.time_s), y_of(p.value(s)), 3.0 * scale, 0, 2 * M_PI);
        cairo_fill(cr);
      }
    // Frame and label.
    set(cr, kFrame);
    cairo_set_line_width(cr, 1.0 * scale);
    cairo_rectangle(cr, b.x, b.y, b.w, b.h);
    cairo_stroke(cr);
    set(cr, p.colour);
    text(cr, b.x, b.y - 8 * scale, p.label, 13 * scale, 0.0, 1.0, true);
  }
  set(cr, kInk);
  const double axis_y = height - bottom + 34 * scale;
  text(cr, left + plot_w / 2, axis_y, "time (s)", 13 * scale, 0.5, 0.0);
  std::string legend;
  if (any_cut) legend += "red dashed: scene cut detected";
  if (any_reset) legend += std::string(legend.empty() ? "" : "    ") + "grey dotted: state reset (seek, gap)";
  if (!any_cut) legend += std::string(legend.empty() ? "" : "    ") + "no scene cut detected";
  text(cr, left, axis_y, legend, 11 * scale, 0.0, 0.0);

  cairo_destroy(cr);
  cairo_surface_flush(surface);
  cairo_status_t st = cairo_surface_status(surface);
  if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_write_to_png(surface, path.c_str());
  cairo_surface_destroy(surface);
  if (st != CAIRO_STATUS_SUCCESS) {
    if (err) *err = std::string("cannot write ") + path + ": " + cairo_status_to_string(st);
    return false;
  }
  return true;
}

}  // namespace dtutmo_convert
