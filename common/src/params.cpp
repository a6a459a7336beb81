// dtutmo -- parameter registry: profiles, validation, set/get by name.
#include "dtutmo/params.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

namespace dtutmo {

void apply_profile(Params& p, Profile profile) {
  p.profile = profile;
  const bool rich = profile != Profile::Fast;
  const unsigned keep = p.explicit_fields;  // set by name: wins over the profile
  if (!(keep & kFieldOptics)) p.optics = rich;
  if (!(keep & kFieldBaseDetail)) p.base_detail = rich;
  if (!(keep & kFieldCsf)) p.csf = rich;
  if (!(keep & kFieldDtucam)) p.dtucam = rich;
  if (!(keep & kFieldLocal)) p.local = true;
  if (!(keep & kFieldMesopic)) p.mesopic = true;
  if (!(keep & kFieldDisplayMode))
    p.display_mode = profile == Profile::Fast       ? DisplayMode::Whiteboard
                     : profile == Profile::Balanced ? DisplayMode::Hybrid
                                                    : DisplayMode::FullInverse;
  // The quality profile computes glare at full resolution (offline use).
  if (!(keep & kFieldGlareCells)) p.glare_max_cells = profile == Profile::Quality ? 4096 : 256;
  if (!(keep & kFieldLabHue)) p.lab_hue = true;  // every profile (fast too since hue7: ~5-7 % of its CPU)
}

Params params_for_profile(Profile profile) {
  Params p;
  apply_profile(p, profile);
  return p;
}

const char* profile_name(Profile p) {
  switch (p) {
    case Profile::Fast: return "fast";
    case Profile::Balanced: return "balanced";
    case Profile::Quality: return "quality";
  }
  return "?";
}

const char* target_name(Target t) {
  switch (t) {
    case Target::SDR: return "sdr";
    case Target::PQ: return "pq";
    case Target::HLG: return "hlg";
  }
  return "?";
}

namespace {

struct Nick {
  const char* name;
  int value;
  const char* desc;    // what the value does (GEnumValue's value_name in the element)
  bool alias = false;  // another spelling of an earlier value: accepted, not listed
};

// One registry entry: how to read and write a field as text, and its range.
struct Entry {
  ParamInfo info;
  enum Kind { Float, Bool, Enum, Int } kind;
  float Params::*f = nullptr;
  bool Params::*b = nullptr;
  int Params::*i = nullptr;
  unsigned profile_field = 0;  // ProfileField bit when a profile sets this field
  std::function<int&(Params&)> e;  // enum field as int&
  std::vector<Nick> nicks;
  float lo = 0, hi = 0;
};

template <typename E>
std::function<int&(Params&)> enum_ref(E Params::*m) {
  return [m](Params& p) -> int& { return reinterpret_cast<int&>(p.*m); };
}

const std::vector<Entry>& registry() {
  static const std::vector<Entry> r = [] {
    std::vector<Entry> v;
    auto fl = [&v](const char* n, const char* blurb, float Params::*m, float lo, float hi) {
      Entry e;
      e.info = {n, blurb};
      e.kind = Entry::Float;
      e.f = m;
      e.lo = lo;
      e.hi = hi;
      v.push_back(e);
    };
    auto in = [&v](const char* n, const char* blurb, int Params::*m, int lo, int hi,
                   unsigned field) {
      Entry e;
      e.info = {n, blurb};
      e.kind = Entry::Int;
      e.i = m;
      e.lo = float(lo);
      e.hi = float(hi);
      e.profile_field = field;
      v.push_back(e);
    };
    auto bo = [&v](const char* n, const char* blurb, bool Params::*m, unsigned field = 0) {
      Entry e;
      e.info = {n, blurb};
      e.kind = Entry::Bool;
      e.b = m;
      e.profile_field = field;
      v.push_back(e);
    };
    auto en = [&v](const char* n, const char* blurb, std::function<int&(Params&)> ref,
                   std::vector<Nick> nicks, unsigned field = 0) {
      Entry e;
      e.info = {n, blurb};
      e.kind = Entry::Enum;
      e.e = std::move(ref);
      e.nicks = std::move(nicks);
      e.profile_field = field;
      v.push_back(e);
    };
    // Blurbs: what the parameter does, its unit, and for numbers the range validate()
    // accepts, written "[lo, hi]" exactly as %g prints the registry's bounds (tested).
    en("profile",
       "Model profile: sets the stage switches, display-mode and glare-cells; a switch set "
       "explicitly keeps its value whether it is given before or after the profile",
       enum_ref(&Params::profile),
       {{"fast", 0,
         "Fast: local adaptation, photoreceptors, mesopic vision and the whiteboard display "
         "mapping (real time on a CPU)"},
        {"balanced", 1,
         "Balanced: fast plus optics and glare, base/detail split, neural CSF, DTUCAM colour "
         "appearance and the production-hybrid display mapping"},
        {"quality", 2,
         "Quality: balanced with the full-inverse display mapping and glare on a grid of "
         "4096 cells (offline)"}});
    bo("optics", "Stage: optics (OTF + CIE disability glare)", &Params::optics, kFieldOptics);
    bo("local", "Stage: local adaptation (off: global adaptation only)", &Params::local,
       kFieldLocal);
    bo("base-detail", "Stage: edge-preserving base/detail separation", &Params::base_detail,
       kFieldBaseDetail);
    bo("mesopic", "Stage: rod contribution (mesopic vision)", &Params::mesopic, kFieldMesopic);
    bo("csf", "Stage: neural contrast-sensitivity filter", &Params::csf, kFieldCsf);
    bo("dtucam", "Stage: DTUCAM colour appearance model", &Params::dtucam, kFieldDtucam);
    en("display-mode", "Display mapping: how the eye's response becomes display luminance",
       enum_ref(&Params::display_mode),
       {{"whiteboard", 0,
         "Whiteboard: closed-form inverse of the display observer at its global adaptation "
         "(smooth, no halos)"},
        {"full-inverse", 1,
         "Full inverse: the display observer's inverse per pixel with its own local "
         "adaptation (more local contrast)"},
        {"production-hybrid", 2,
         "Production hybrid: full inverse where the response has strong edges, whiteboard "
         "elsewhere, soft knee near the peak"},
        {"hybrid", 2, "Production hybrid (alias)", true}},
       kFieldDisplayMode);
    bo("gamut-map", "Stage: gamut mapping by desaturation toward luminance", &Params::gamut_map);
    bo("dither", "Ordered dither for 8-bit outputs", &Params::dither);
    bo("hue-preserve", "Colour: hue from the input, tone and chroma amount from the model",
       &Params::hue_preserve);
    bo("lab-hue", "Colour (with hue-preserve): keep the input's CIELAB hue exactly on bright "
       "saturated colours (default: on in every profile; off: the straight-line hue, up to ~12 "
       "degrees of CIELAB hue drift, ~5-7 % less CPU in fast)",
       &Params::lab_hue, kFieldLabHue);
    en("colour-sampling",
       "Colour rendering for 4:2:0 YUV outputs on the CPU engine (a deliberate quality/speed "
       "trade; other outputs, the CUDA engine and the reference path are always per pixel)",
       enum_ref(&Params::colour_sampling),
       {{"auto", 0,
         "Auto: on the CPU engine with a 4:2:0 output, hue, gamut map and "
         "CIELAB hue once per 2x2 block (what the output's chroma stores), luminance per pixel"},
        {"full", 1, "Full: the colour rendered per pixel, then subsampled"}});
    en("model-resolution",
       "Where the CPU engine runs the model for a 4:2:0 YUV input and an 8-bit 4:2:0 SDR "
       "output (a deliberate quality/speed trade; other streams, the CUDA engine and the "
       "reference path always run it per pixel)",
       enum_ref(&Params::model_resolution),
       {{"auto", 0,
         "Auto: for frames at least 1920 wide or 1080 high (HD and above) quarter, or half "
         "where optics, base-detail or csf is on (balanced); full below"},
        {"full", 1, "Full: the model on every pixel"},
        {"half", 2,
         "Half: the model on the 2x2 block means (a quarter of the pixels), each pixel's "
         "detail restored by its block's local tone slope"},
        {"quarter", 3, "Quarter: as half on the 4x4 block means (a sixteenth of the pixels)"}});
    fl("fov", "Horizontal field of view of the frame, degrees [1, 180]", &Params::fov_deg, 1, 180);
    fl("observer-age", "Observer age, years [1, 100]", &Params::observer_age, 1, 100);
    fl("pigmentation", "Eye pigmentation: 0 dark brown, 0.5 brown, 1 blue [0, 1]",
       &Params::pigmentation, 0, 1);
    en("viewing-condition", "Surround of the display: sets its observer's adaptation floor "
       "and the colour-appearance surround",
       enum_ref(&Params::viewing),
       {{"dark", 0,
         "Dark room: display observer adapted to at least 0.05 x peak, dark surround"},
        {"dim", 1, "Dim room (TV viewing): at least 0.1 x peak, dim surround"},
        {"average", 2, "Lit room (office): at least 0.2 x peak, average surround"}});
    en("target", "Output signal (the output caps follow it)", enum_ref(&Params::target),
       {{"sdr", 0, "SDR: BT.709 primaries, BT.1886 (or sRGB) transfer, 8-bit formats"},
        {"pq", 1, "HDR10: BT.2020 primaries, SMPTE ST 2084 (PQ), 10/16-bit formats"},
        {"hlg", 2, "HLG: BT.2020 primaries, ARIB STD-B67 (HLG), 10/16-bit formats"}});
    fl("display-peak",
       "Display peak luminance, cd/m2 [0, 10000]: 0 = by target (100 for sdr, 1000 for pq/hlg), "
       "else at least 10",
       &Params::display_peak, 0, 10000);
    fl("display-black",
       "Display black level, cd/m2, at most display-peak / 10 (checked when applied) "
       "[0, 1000]",
       &Params::display_black, 0, 1000);
    fl("display-adapt", "Display adaptation ceiling, fraction of peak [0.01, 1]",
       &Params::display_adapt, 0.01f, 1);
    fl("percentile-low",
       "Response percentile mapped to display black, %, below percentile-high [0, 20]",
       &Params::pct_low, 0, 20);
    fl("percentile-high", "Response percentile mapped to display peak, % [80, 100]",
       &Params::pct_high, 80, 100);
    fl("key",
       "Display key: the median grey is brought toward key x peak (darker at night); 0 = off "
       "(the model's own response-matched brightness) [0, 0.5]",
       &Params::key, 0, 0.5f);
    fl("key-strength", "Share (in log) of the way to the display key [0, 1]",
       &Params::key_strength, 0, 1);
    fl("knee", "Soft-knee start, fraction of the peak response [0.5, 0.999]", &Params::knee,
       0.5f, 0.999f);
    fl("saturation",
       "Hue-preserve: share of the chroma lost to per-class compression that is restored "
       "(0 model's highlight desaturation, 1 input chromaticity, gamut-mapped) [0, 1]",
       &Params::saturation, 0, 1);
    fl("highlight-chroma",
       "Gamut map: share of a bright saturated colour's chromaticity kept above the peak by "
       "lowering its luminance (0 desaturate toward white at constant luminance) [0, 1]",
       &Params::highlight_chroma, 0, 1);
    fl("local-adaptation", "Local adaptation: 0 global, 1 fully local [0, 1]",
       &Params::local_adaptation, 0, 1);
    fl("detail", "Detail gain re-applied after display mapping [0, 4]", &Params::detail, 0, 4);
    fl("base-scale", "Base/detail scale, fraction of the larger side [0.005, 0.1]",
       &Params::base_scale, 0.005f, 0.1f);
    in("glare-cells", "Glare grid size, cells on the larger side [32, 4096]",
       &Params::glare_max_cells, 32, 4096, kFieldGlareCells);
    fl("cone-tau", "Cone (global level) adaptation time constant, s [0, 60]",
       &Params::cone_tau, 0, 60);
    fl("rod-tau", "Rod adaptation time constant, s [0, 600]", &Params::rod_tau, 0, 600);
    fl("pupil-tau", "Pupil time constant, s [0, 60]", &Params::pupil_tau, 0, 60);
    fl("range-tau", "Response range (display mapping percentiles) time constant, s [0, 60]",
       &Params::range_tau, 0, 60);
    en("adaptation", "Scene cuts: how the adaptation state follows a cut",
       enum_ref(&Params::adaptation),
       {{"natural", 0,
         "Natural: the eye's time constants everywhere, a cut to night starts dark and "
         "opens up"},
        {"broadcast", 1,
         "Broadcast: a detected cut (cut-threshold, cut-shape-threshold) re-adapts on its "
         "first frame, as a colourist would"}});
    fl("cut-threshold", "Broadcast cut detection: jump of log10 mean luminance [0.1, 5]",
       &Params::cut_threshold, 0.1f, 5);
    fl("cut-shape-threshold",
       "Broadcast cut detection: change of the shape of the log-luminance distribution, "
       "log2 units [0.05, 4]",
       &Params::cut_shape_threshold, 0.05f, 4);
    fl("input-scale", "cd/m2 of linear or SDR input value 1.0 [0.001, 100000]",
       &Params::input_scale, 1e-3f, 1e5f);
    fl("hlg-peak", "Nominal HLG display peak for the BT.2100 OOTF, cd/m2 [100, 10000]",
       &Params::hlg_peak, 100, 10000);
    en("precision", "CUDA engine intermediate storage", enum_ref(&Params::precision),
       {{"fp16", 0, "Half floats: half the memory and bandwidth of fp32"},
        {"fp32", 1, "Single floats: reference precision"}});
    return v;
  }();
  return r;
}

std::string canon(const std::string& s) {
  std::string o = s;
  for (char& c : o) {
    if (c == '_') c = '-';
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return o;
}

const Entry* find(const std::string& name) {
  const std::string n = canon(name);
  for (const Entry& e : registry())
    if (n == e.info.name) return &e;
  return nullptr;
}

bool parse_bool(const std::string& v, bool* out) {
  const std::string s = canon(v);
  if (s == "1" || s == "true" || s == "on" || s == "yes") return *out = true, true;
  if (s == "0" || s == "false" || s == "off" || s == "no") return *out = false, true;
  return false;
}

}  // namespace

const std::vector<ParamInfo>& param_names() {
  static const std::vector<ParamInfo> names = [] {
    std::vector<ParamInfo> v;
    for (const Entry& e : registry()) v.push_back(e.info);
    return v;
  }();
  return names;
}

bool param_details(const std::string& name, ParamDetails* out) {
  const Entry* e = find(name);
  if (!e || !out) return false;
  ParamDetails d;
  d.kind = e->kind == Entry::Float  ? ParamDetails::Float
           : e->kind == Entry::Bool ? ParamDetails::Bool
           : e->kind == Entry::Int  ? ParamDetails::Int
                                    : ParamDetails::Enum;
  d.lo = e->lo;
  d.hi = e->hi;
  for (const Nick& n : e->nicks) d.nicks.push_back({n.name, n.value, n.desc, n.alias});
  *out = std::move(d);
  return true;
}

bool set_param(Params& p, const std::string& name, const std::string& value, std::string* err) {
  const Entry* e = find(name);
  if (!e) {
    if (err) *err = "unknown parameter '" + name + "'";
    return false;
  }
  const std::string what = "parameter '" + std::string(e->info.name) + "': '" + value + "'";
  switch (e->kind) {
    case Entry::Float: {
      errno = 0;
      char* end = nullptr;
      const double d = std::strtod(value.c_str(), &end);
      if (value.empty() || errno || !end || *end || !std::isfinite(d)) {
        if (err) *err = what + " is not a number";
        return false;
      }
      p.*(e->f) = float(d);
      break;
    }
    case Entry::Int: {
      errno = 0;
      char* end = nullptr;
      const long long n = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || errno || !end || *end || n < INT_MIN || n > INT_MAX) {
        if (err) *err = what + " is not an integer";
        return false;
      }
      p.*(e->i) = int(n);
      break;
    }
    case Entry::Bool: {
      bool b;
      if (!parse_bool(value, &b)) {
        if (err) *err = what + " is not a boolean";
        return false;
      }
      p.*(e->b) = b;
      break;
    }
    case Entry::Enum: {
      const std::string v = canon(value);
      const Nick* hit = nullptr;
      for (const Nick& n : e->nicks)
        if (v == n.name) {
          hit = &n;
          break;
        }
      if (!hit) {
        if (err) {
          *err = what + " is not one of";
          for (const Nick& n : e->nicks)
            if (!n.alias) *err += std::string(" ") + n.name;
        }
        return false;
      }
      if (std::strcmp(e->info.name, "profile") == 0) {
        apply_profile(p, Profile(hit->value));
        return true;
      }
      e->e(p) = hit->value;
      break;
    }
  }
  p.explicit_fields |= e->profile_field;  // the profile no longer decides this field
  return true;
}

bool get_param(const Params& p, const std::string& name, std::string* value) {
  const Entry* e = find(name);
  if (!e) return false;
  Params& q = const_cast<Params&>(p);
  switch (e->kind) {
    case Entry::Float: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", double(p.*(e->f)));
      *value = buf;
      return true;
    }
    case Entry::Int: *value = std::to_string(p.*(e->i)); return true;
    case Entry::Bool: *value = (p.*(e->b)) ? "true" : "false"; return true;
    case Entry::Enum: {
      const int v = e->e(q);
      for (const Nick& n : e->nicks)
        if (n.value == v) return *value = n.name, true;
      *value = std::to_string(v);
      return true;
    }
  }
  return false;
}

bool validate(const Params& p, std::string* err) {
  for (const Entry& e : registry()) {
    if (e.kind != Entry::Float && e.kind != Entry::Int) continue;
    const float v = e.kind == Entry::Float ? p.*(e.f) : float(p.*(e.i));
    if (!std::isfinite(v) || v < e.lo || v > e.hi) {
      if (err) {
        char buf[256];
        std::snprintf(buf, sizeof buf, "parameter '%s' = %g is outside [%g, %g]", e.info.name,
                      double(v), double(e.lo), double(e.hi));
        *err = buf;
      }
      return false;
    }
  }
  if (p.display_peak != 0.0f && p.display_peak < 10.0f) {
    if (err) *err = "display-peak must be 0 (by target) or in [10, 10000]";
    return false;
  }
  if (p.display_black > display_peak_nits(p) / 10) {
    if (err) *err = "display-black must be at most display-peak / 10";
    return false;
  }
  if (p.pct_low >= p.pct_high) {
    if (err) *err = "percentile-low must be below percentile-high";
    return false;
  }
  return true;
}

}  // namespace dtutmo
