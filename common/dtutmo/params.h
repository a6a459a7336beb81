// dtutmo -- the model's parameters: one struct, units and ranges, defaults, profiles.
//
// Host-only header (the kernels receive a derived, plain struct by value; see frame_consts.h).
#pragma once

#include <string>
#include <vector>

namespace dtutmo {

enum class Profile { Fast = 0, Balanced = 1, Quality = 2 };
enum class DisplayMode { Whiteboard = 0, FullInverse = 1, Hybrid = 2 };
enum class AdaptationMode { Natural = 0, Broadcast = 1 };
enum class ViewingCondition { Dark = 0, Dim = 1, Average = 2 };
enum class Target { SDR = 0, PQ = 1, HLG = 2 };
enum class Precision { FP16 = 0, FP32 = 1 };
// Where the CPU engine renders colour (hue, output matrix, gamut map, CIELAB hue) for a
// 4:2:0 YUV output: Auto once per 2x2 block (the chroma a 4:2:0 output stores; luminance
// per pixel; docs/DESIGN.md "Colour at chroma resolution"), Full per pixel. Other outputs,
// the CUDA engine and the reference path are always per pixel.
enum class ColourSampling { Auto = 0, Full = 1 };
// Where the CPU engine runs the model for a 4:2:0 YUV input and an 8-bit 4:2:0 BT.1886
// output: Full on every pixel; Half on the frame's 2x2 block means (a quarter of the
// pixels), each pixel then given its block's output scaled by the local tone slope
// (cpu_half.h; docs/DESIGN.md "The model at half resolution"); Quarter the same on 4x4
// block means (a sixteenth); Auto: for frames of at least 1920 pixels across or 1080 down
// (HD and above) Quarter where none of the spatial stages of balanced runs (optics,
// base/detail, CSF: fast; within about a code of the per-pixel model on average) and
// Half where they do, else Full.
// Other streams, the CUDA engine and the reference path always run it on every pixel.
enum class ModelResolution { Auto = 0, Full = 1, Half = 2, Quarter = 3 };

// The fields a profile sets (apply_profile), as bits of Params::explicit_fields.
enum ProfileField : unsigned {
  kFieldOptics = 1u << 0,
  kFieldLocal = 1u << 1,
  kFieldBaseDetail = 1u << 2,
  kFieldMesopic = 1u << 3,
  kFieldCsf = 1u << 4,
  kFieldDtucam = 1u << 5,
  kFieldDisplayMode = 1u << 6,
  kFieldGlareCells = 1u << 7,
  kFieldLabHue = 1u << 8,
};

struct Params {
  Profile profile = Profile::Fast;
  // ProfileField bits of the fields given by name through set_param(): apply_profile()
  // leaves those alone, so a switch set explicitly keeps its value whether the profile is
  // set before or after it. Direct writes to the fields do not mark them.
  unsigned explicit_fields = 0;

  // --- stage switches (profiles set them; each can be overridden) ---
  bool optics = false;         // OTF + CIE disability glare (balanced)
  bool local = true;           // local adaptation (else global log-mean only)
  bool base_detail = false;    // edge-preserving base/detail split (balanced)
  bool mesopic = true;         // rod contribution
  bool csf = false;            // neural CSF ratio filter (balanced)
  bool dtucam = false;         // colour appearance model (balanced)
  DisplayMode display_mode = DisplayMode::Whiteboard;
  bool gamut_map = true;       // desaturate out-of-gamut colours toward their luminance
  bool dither = true;          // ordered dither for 8-bit outputs
  bool hue_preserve = true;    // hue from the input, tone and chroma amount from the model (display.h)
  // with hue_preserve: the input's CIELAB hue kept exactly (gamut.h lab_hue_restore; the
  // straight-line hue alone drifts up to ~12 degrees on bright saturated lights). It runs
  // only where the straight line can have moved the hue by more than 0.2 degree (gamut.h
  // lab_hue_gate) or the gamut map acted. On in every profile: in fast it costs ~5-7 %
  // more CPU on the 1080p bench clip (the budget is 10 %: docs/DESIGN.md); false gives the
  // straight-line hue.
  bool lab_hue = true;
  // CPU engine, 4:2:0 YUV output: the colour once per 2x2 block (auto) or per pixel (full)
  ColourSampling colour_sampling = ColourSampling::Auto;
  // CPU engine, 4:2:0 YUV in and 8-bit 4:2:0 out: the model per pixel (full), per 2x2
  // block with the pixels' detail restored by the local tone slope (half), per 4x4 block
  // (quarter), or at HD sizes and above quarter (fast's stages) or half (with optics,
  // base/detail or CSF) and full below (auto)
  ModelResolution model_resolution = ModelResolution::Auto;

  // --- observer and viewing geometry ---
  float fov_deg = 60.0f;           // horizontal field of view of the frame, degrees [1, 180]
  float observer_age = 24.0f;      // years [1, 100]
  float pigmentation = 0.5f;       // eye pigmentation p: 0 dark brown, 0.5 brown, 1 blue [0, 1]
  ViewingCondition viewing = ViewingCondition::Dim;

  // --- display ---
  Target target = Target::SDR;
  // cd/m^2 [10, 10000]; 0 = the target's default (display_peak_nits): an SDR display's
  // 100 for target sdr, an HDR display's 1000 for pq and hlg
  float display_peak = 0.0f;
  float display_black = 0.1f;      // cd/m^2 [0, display peak / 10]
  float display_adapt = 0.2f;      // display adaptation ceiling, fraction of peak (0, 1]
  float pct_low = 2.0f;            // response percentile mapped to display black, % [0, 20]
  float pct_high = 99.0f;          // response percentile mapped to display peak, % [80, 100]
  float key = 0.18f;               // display key: the frame's median grey is brought toward key x peak
                                   // (x the night factor, model.h key_targets); 0 = off [0, 0.5]
  float key_strength = 0.8f;       // share (in log) of the way to the key [0, 1]
  float knee = 0.95f;              // soft knee start (every display mode), fraction of the peak response [0.5, 1)
  float saturation = 0.8f;         // hue-preserve: share of the chroma lost by per-class compression restored [0, 1]
  float highlight_chroma = 0.5f;   // gamut map: share of chromaticity kept above the peak by lowering luminance [0, 1]

  // --- spatial model ---
  float local_adaptation = 0.8f;   // 0 = global log-mean, 1 = fully local [0, 1]
  float detail = 1.5f;             // detail gain re-applied after display mapping (base-detail on) [0, 4]
  float base_scale = 0.02f;        // base/detail spatial scale, fraction of larger side [0.005, 0.1]
  int glare_max_cells = 256;       // reduced glare grid: cells on the larger side [32, 4096]

  // --- temporal state ---
  float cone_tau = 0.1f;           // s, cone adaptation (the global level) [0, 60]
  float rod_tau = 1.0f;            // s, rod adaptation [0, 600]
  float pupil_tau = 0.5f;          // s, pupil diameter [0, 60]
  float range_tau = 0.5f;          // s, response range (the display mapping's percentiles) [0, 60]
  // edited video: re-adapt at cuts (README, "Temporal behaviour"); natural: the eye's time
  // constants across cuts too
  AdaptationMode adaptation = AdaptationMode::Broadcast;
  float cut_threshold = 1.0f;      // broadcast mode: |delta log10 mean| that counts as a cut [0.1, 5]
  float cut_shape_threshold = 0.3f;  // broadcast mode: change of the shape of the frame's
                                     // log2-luminance distribution that counts as a cut, log2 [0.05, 4]

  // --- input ---
  float input_scale = 100.0f;      // cd/m^2 for linear/SDR value 1.0 [1e-3, 1e5]
  float hlg_peak = 1000.0f;        // nominal HLG display peak for the BT.2100 OOTF, cd/m^2 [100, 10000]

  Precision precision = Precision::FP16;  // CUDA engine intermediate storage
};

// Default display peaks, cd/m^2: an SDR display (BT.709, sRGB: ITU-R BT.2035's 100) and an
// HDR display (PQ or HLG; 1000 cd/m^2, ITU-R BT.2100's reference for HLG and the common
// HDR10 mastering peak).
constexpr float kSdrPeakNits = 100.0f;
constexpr float kHdrPeakNits = 1000.0f;
// The display peak in force: display_peak, or the target's default when it is 0.
inline float display_peak_nits(const Params& p) {
  return p.display_peak > 0.0f ? p.display_peak
                               : (p.target == Target::SDR ? kSdrPeakNits : kHdrPeakNits);
}

// The stage switches, display mode and glare grid of a profile; fields marked in
// p.explicit_fields and all other fields are left as they are.
void apply_profile(Params& p, Profile profile);
// Defaults for a profile.
Params params_for_profile(Profile profile);

// Checks every field against its range. Returns false with a message naming the field.
bool validate(const Params& p, std::string* err);

// Set one parameter by its name (the names of param_names(), the same as the element's
// property names, dashes or underscores), value as text: numbers (integers for counts),
// true/false/on/off/1/0, enum nicks (fast, balanced, quality; whiteboard, full-inverse,
// production-hybrid (alias hybrid); natural, broadcast; dark, dim, average; sdr, pq, hlg;
// fp16, fp32). `profile` goes through apply_profile(); a field a profile sets is marked in
// explicit_fields, so the order of the calls does not matter.
bool set_param(Params& p, const std::string& name, const std::string& value, std::string* err);
// Current value of a parameter, as text (same names).
bool get_param(const Params& p, const std::string& name, std::string* value);

struct ParamInfo {
  const char* name;   // e.g. "cone-tau"
  const char* blurb;  // one line, with unit and range
};
const std::vector<ParamInfo>& param_names();

// Kind, range and enum nicks of one parameter, for bindings that expose the parameters
// with types (the GStreamer element's GObject properties). Added for gst/; read-only view
// of the registry behind set_param().
struct ParamNick {
  const char* nick;  // e.g. "production-hybrid"
  int value;
  const char* description;  // what the value does, one line
  bool alias;               // another spelling of an earlier nick's value (not to be listed)
};
struct ParamDetails {
  enum Kind { Float = 0, Bool = 1, Enum = 2, Int = 3 } kind = Float;
  float lo = 0.0f, hi = 0.0f;    // Float and Int: the range validate() enforces
  std::vector<ParamNick> nicks;  // Enum: every accepted nick with its value
};
// False when `name` is not a parameter.
bool param_details(const std::string& name, ParamDetails* out);

const char* profile_name(Profile p);
const char* target_name(Target t);

}  // namespace dtutmo
