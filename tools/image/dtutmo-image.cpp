// dtutmo-image -- tone-map HDR stills (OpenEXR, Radiance .hdr, PFM, float TIFF, procedural
// scenes) to sRGB PNG with the CPU engine.
//
// Input scale: file values are linear relative light; `input-scale` (default 100)
// gives the cd/m^2 of a value of 1.0, so a diffuse white near 1.0 sits at office-light
// levels. Procedural scenes are absolute already and use input-scale 1 unless it is set
// explicitly. There is no auto-exposure: the model adapts to whatever luminances it is
// given, the same way for a still as for the first frame of a video.
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits.h>
#include <map>
#include <stdlib.h>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "dtutmo/engine.h"
#include "dtutmo/model.h"
#include "dtutmo/params.h"
#include "dtutmo/pixel_io.h"
#include "dtutmo/scenes.h"
#include "dtutmo/transfer.h"
#include "hdr_io.h"

using namespace dtutmo;

namespace {

void usage(FILE* f) {
  std::fprintf(f,
               "usage: dtutmo-image [options] INPUT...\n"
               "Tone-maps HDR stills to sRGB PNG with the dtutmo vision model (CPU engine).\n"
               "\n"
               "INPUT: an OpenEXR (.exr), Radiance (.hdr), PFM (.pfm) or float TIFF file\n"
               "       (linear light, relative; recognised by content, not by name), or\n"
               "       scene:NAME for a procedural scene (absolute cd/m^2; see --list-scenes)\n"
               "\n"
               "options:\n"
               "  -o, --output FILE      output PNG (one input only)\n"
               "      --outdir DIR       write DIR/<input name>.png for every input\n"
               "                         (default: next to the input; scenes: ./NAME.png);\n"
               "                         two inputs with the same output name are an error\n"
               "      --profile P        fast | balanced | quality (default: the element's\n"
               "                         default, %s)\n"
               "      --set NAME=VALUE   set a model parameter (repeatable; --list-params)\n"
               "      --fov DEG          horizontal field of view of the image (default 60)\n"
               "      --bits 8|16        PNG bit depth (default 8, ordered dither)\n"
               "      --size WxH         size of scene inputs, 1..%d each (default 1920x1080)\n"
               "      --time T           time in seconds for scene:animated (default 0)\n"
               "      --max-pixels N     refuse input files larger than N pixels before\n"
               "                         reading them (default %llu)\n"
               "      --passthrough      no tone mapping: value x input-scale / display-peak,\n"
               "                         clipped, sRGB-encoded (to check the I/O)\n"
               "      --list-params      list the parameters with their values and exit\n"
               "      --list-scenes      list the procedural scenes and exit\n"
               "  -q, --quiet            no progress lines\n"
               "  -h, --help\n"
               "\n"
               "File values are scaled by input-scale (default 100 cd/m^2 per 1.0); scenes\n"
               "use 1 unless --set input-scale=... is given. NaN and negative samples are\n"
               "set to 0 and infinite ones clamped (a warning says how many). Exit status:\n"
               "0 on success, 1 when an input failed, 2 on bad usage or parameters.\n",
               profile_name(Params().profile), kMaxFrameSide,
               static_cast<unsigned long long>(image::ReadLimits().max_pixels));
}

std::string basename_noext(const std::string& path) {
  std::size_t s = path.find_last_of('/');
  std::string b = s == std::string::npos ? path : path.substr(s + 1);
  const std::size_t d = b.find_last_of('.');
  if (d != std::string::npos && d > 0) b = b.substr(0, d);
  return b;
}

std::string default_output(const std::string& input, const std::string& outdir, bool scene) {
  const std::string name = scene ? input.substr(6) : basename_noext(input);
  if (!outdir.empty()) return outdir + (outdir.back() == '/' ? "" : "/") + name + ".png";
  if (scene) return name + ".png";
  const std::size_t s = input.find_last_of('/');
  return (s == std::string::npos ? std::string() : input.substr(0, s + 1)) + name + ".png";
}

bool parse_size(const char* s, int* w, int* h) {
  char* end = nullptr;
  const long a = std::strtol(s, &end, 10);
  if (*end != 'x' && *end != 'X') return false;
  const long b = std::strtol(end + 1, &end, 10);
  if (*end || a < 1 || b < 1 || a > kMaxFrameSide || b > kMaxFrameSide) return false;
  *w = static_cast<int>(a);
  *h = static_cast<int>(b);
  return true;
}

// The same file under two spellings ("a/x.png", "./a//x.png") gives the same key: the
// folder's real path (it exists: the input or --outdir is in it) and the file name.
std::string output_key(const std::string& out) {
  const std::size_t s = out.find_last_of('/');
  const std::string dir = s == std::string::npos ? "." : (s == 0 ? "/" : out.substr(0, s));
  char buf[PATH_MAX];
  return (realpath(dir.c_str(), buf) ? std::string(buf) : dir) + "/" + out.substr(s == std::string::npos ? 0 : s + 1);
}

// Samples the engine (and --passthrough) cannot take as they are, in cd/m^2 after
// input-scale: NaN and negative ones become 0, infinite and huge ones the ceiling.
struct BadSamples {
  long long zeroed = 0;   // NaN, negative (including -Inf)
  long long clamped = 0;  // +Inf or above kMaxNits
};
BadSamples count_bad(const std::vector<float>& rgb, float scale) {
  BadSamples b;
  for (float v : rgb) {
    const float x = v * scale;
    if (!(x >= 0.0f)) ++b.zeroed;
    else if (x > kMaxNits) ++b.clamped;
  }
  return b;
}

// sRGB-encoded floats -> PNG codes; 8-bit outputs get the 8x8 ordered dither (pixel_io.h).
std::vector<uint16_t> quantise(const std::vector<float>& enc, int w, int h, int bits, bool dither) {
  std::vector<uint16_t> q(enc.size());
  const uint32_t maxc = bits == 16 ? 65535u : 255u;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float t = (bits == 8 && dither) ? pio::bayer8_threshold(x, y) : 0.5f;
      const std::size_t i = (static_cast<std::size_t>(y) * w + x) * 3;
      for (int c = 0; c < 3; ++c) q[i + c] = static_cast<uint16_t>(pio::quantize(enc[i + c], maxc, t));
    }
  return q;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> inputs;
  std::vector<std::pair<std::string, std::string>> sets;
  std::string output, outdir, profile_s;  // no --profile: the element's defaults (Params())
  std::string fov_s;
  int bits = 8, scene_w = 1920, scene_h = 1080;
  double scene_t = 0.0;
  image::ReadLimits limits;
  bool quiet = false, passthrough = false, list_params = false, list_scenes = false;

  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* opt) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "dtutmo-image: %s needs a value\n", opt);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (a == "-o" || a == "--output") {
      output = value("--output");
    } else if (a == "--outdir") {
      outdir = value("--outdir");
    } else if (a == "--profile") {
      profile_s = value("--profile");
    } else if (a == "--set") {
      const std::string kv = value("--set");
      const std::size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "dtutmo-image: --set wants NAME=VALUE, got '%s'\n", kv.c_str());
        return 2;
      }
      sets.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (a == "--fov") {
      fov_s = value("--fov");
    } else if (a == "--bits") {
      const std::string b = value("--bits");
      if (b != "8" && b != "16") {
        std::fprintf(stderr, "dtutmo-image: --bits must be 8 or 16, got '%s'\n", b.c_str());
        return 2;
      }
      bits = std::atoi(b.c_str());
    } else if (a == "--size") {
      if (!parse_size(value("--size"), &scene_w, &scene_h)) {
        std::fprintf(stderr, "dtutmo-image: --size wants WxH (1..%d each), got '%s'\n", kMaxFrameSide, argv[i]);
        return 2;
      }
    } else if (a == "--time") {
      char* end = nullptr;
      scene_t = std::strtod(value("--time"), &end);
      if (*end || !std::isfinite(scene_t)) {
        std::fprintf(stderr, "dtutmo-image: bad --time '%s'\n", argv[i]);
        return 2;
      }
    } else if (a == "--max-pixels") {
      char* end = nullptr;
      const char* v = value("--max-pixels");
      const unsigned long long n = std::strtoull(v, &end, 10);
      if (*end || !*v || *v == '-' || n == 0) {
        std::fprintf(stderr, "dtutmo-image: --max-pixels wants a positive pixel count, got '%s'\n", v);
        return 2;
      }
      limits.max_pixels = n;
    } else if (a == "--passthrough") {
      passthrough = true;
    } else if (a == "--list-params") {
      list_params = true;
    } else if (a == "--list-scenes") {
      list_scenes = true;
    } else if (a == "-q" || a == "--quiet") {
      quiet = true;
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "dtutmo-image: unknown option '%s' (see --help)\n", a.c_str());
      return 2;
    } else {
      inputs.push_back(a);
    }
  }

  // Parameters: the element's defaults or --profile, then --fov, then every --set in
  // order; validated once.
  Params params;
  std::string err;
  if (!profile_s.empty()) {
    Params probe;
    if (!set_param(probe, "profile", profile_s, &err)) {
      std::fprintf(stderr, "dtutmo-image: bad --profile '%s': %s\n", profile_s.c_str(), err.c_str());
      return 2;
    }
    params = params_for_profile(probe.profile);
  }
  if (!fov_s.empty() && !set_param(params, "fov", fov_s, &err)) {
    std::fprintf(stderr, "dtutmo-image: bad --fov '%s': %s\n", fov_s.c_str(), err.c_str());
    return 2;
  }
  bool scale_set = false;
  for (const auto& kv : sets) {
    if (!set_param(params, kv.first, kv.second, &err)) {
      std::fprintf(stderr, "dtutmo-image: --set %s=%s: %s\n", kv.first.c_str(), kv.second.c_str(), err.c_str());
      return 2;
    }
    std::string canon = kv.first;
    for (char& c : canon) c = c == '_' ? '-' : c;
    if (canon == "input-scale") scale_set = true;
  }
  if (!validate(params, &err)) {
    std::fprintf(stderr, "dtutmo-image: bad parameters: %s\n", err.c_str());
    return 2;
  }
  if (params.target != Target::SDR) {
    std::fprintf(stderr, "dtutmo-image: only target=sdr makes sense for PNG output\n");
    return 2;
  }

  if (list_params) {
    for (const ParamInfo& pi : param_names()) {
      std::string v;
      get_param(params, pi.name, &v);
      std::printf("%-20s %-12s %s\n", pi.name, v.c_str(), pi.blurb);
    }
    return 0;
  }
  if (list_scenes) {
    for (int s = 0; s < static_cast<int>(Scene::COUNT); ++s) std::printf("scene:%s\n", scene_name(static_cast<Scene>(s)));
    return 0;
  }
  if (inputs.empty()) {
    usage(stderr);
    return 2;
  }
  if (!output.empty() && inputs.size() > 1) {
    std::fprintf(stderr, "dtutmo-image: --output takes one input; use --outdir for several\n");
    return 2;
  }
  if (!outdir.empty()) {
    struct stat st;
    if (stat(outdir.c_str(), &st) != 0 && mkdir(outdir.c_str(), 0777) != 0) {
      std::fprintf(stderr, "dtutmo-image: cannot create --outdir '%s': %s\n", outdir.c_str(), std::strerror(errno));
      return 2;
    }
  }

  // Every output name once: a second input that would overwrite the first is an error.
  std::vector<std::string> outputs;
  {
    std::map<std::string, std::size_t> seen;
    for (std::size_t n = 0; n < inputs.size(); ++n) {
      const bool is_scene = inputs[n].compare(0, 6, "scene:") == 0;
      outputs.push_back(output.empty() ? default_output(inputs[n], outdir, is_scene) : output);
      const auto ins = seen.emplace(output_key(outputs.back()), n);
      if (!ins.second) {
        std::fprintf(stderr, "dtutmo-image: '%s' and '%s' would both be written to '%s'; rename one or "
                     "run them separately\n", inputs[ins.first->second].c_str(), inputs[n].c_str(),
                     outputs.back().c_str());
        return 2;
      }
    }
  }

  std::unique_ptr<Engine> engine;
  if (!passthrough) {
    engine = create_cpu_engine(0);
    if (!engine) {
      std::fprintf(stderr, "dtutmo-image: cannot create the CPU engine\n");
      return 1;
    }
  }

  int failures = 0;
  for (std::size_t n = 0; n < inputs.size(); ++n) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string& in = inputs[n];
    const bool is_scene = in.compare(0, 6, "scene:") == 0;
    image::Image im;
    Params p = params;
    if (is_scene) {
      Scene s;
      if (!scene_from_name(in.c_str() + 6, &s)) {
        std::fprintf(stderr, "dtutmo-image: %s: unknown scene (see --list-scenes)\n", in.c_str());
        ++failures;
        continue;
      }
      im.width = scene_w;
      im.height = scene_h;
      im.rgb.resize(static_cast<std::size_t>(scene_w) * scene_h * 3);
      render_scene(s, scene_w, scene_h, scene_t, im.rgb.data(), 3 * scene_w, Primaries::BT709);
      if (!scale_set) p.input_scale = 1.0f;  // scenes are in cd/m^2 already
    } else if (!image::read_hdr(in, &im, &err, limits)) {
      std::fprintf(stderr, "dtutmo-image: %s\n", err.c_str());
      ++failures;
      continue;
    }
    const std::string& out = outputs[n];
    const int w = im.width, h = im.height;
    const BadSamples bad = count_bad(im.rgb, p.input_scale);
    std::vector<float> enc(static_cast<std::size_t>(w) * h * 3);
    std::string stats;
    if (passthrough) {
      const float k = p.input_scale / display_peak_nits(p);
      for (std::size_t i = 0; i < enc.size(); ++i) enc[i] = srgb_inv_eotf(sanitize(im.rgb[i] * k, 1.0f));
    } else {
      StreamConfig cfg;
      cfg.width = w;
      cfg.height = h;
      cfg.in_format = PixelFormat::RGBF32;
      cfg.out_format = PixelFormat::RGBF32;
      cfg.in.transfer = Transfer::Linear;
      cfg.in.primaries = Primaries::BT709;
      cfg.out.transfer = Transfer::SRGB;
      cfg.out.primaries = Primaries::BT709;
      if (!engine->set_params(p, &err) || !engine->configure(cfg, &err)) {
        std::fprintf(stderr, "dtutmo-image: %s: engine: %s\n", in.c_str(), err.c_str());
        ++failures;
        continue;
      }
      const FrameView fin = packed_view(PixelFormat::RGBF32, w, h, reinterpret_cast<uint8_t*>(im.rgb.data()));
      const FrameView fout = packed_view(PixelFormat::RGBF32, w, h, reinterpret_cast<uint8_t*>(enc.data()));
      if (!engine->process(fin, fout, 0.0, &err)) {
        std::fprintf(stderr, "dtutmo-image: %s: tone mapping failed: %s\n", in.c_str(), err.c_str());
        ++failures;
        continue;
      }
      const EngineStats es = engine->stats();
      char buf[160];
      std::snprintf(buf, sizeof buf, ", adapted to %.3g cd/m^2, pupil %.1f mm", es.adaptation_nits, es.pupil_mm);
      stats = buf;
    }
    if (bad.zeroed || bad.clamped) {
      // Said even with -q: the picture is not what the file holds.
      std::string what;
      if (bad.zeroed) what = std::to_string(bad.zeroed) + " NaN or negative samples set to 0";
      if (bad.clamped) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%lld infinite or above %.0e cd/m^2 samples clamped to %.0e cd/m^2%s",
                      bad.clamped, double(kMaxNits), double(kMaxNits), passthrough ? " (then clipped)" : "");
        what += (what.empty() ? "" : ", ") + std::string(buf);
      }
      std::fprintf(stderr, "dtutmo-image: warning: %s: %s\n", in.c_str(), what.c_str());
    }
    const std::vector<uint16_t> codes = quantise(enc, w, h, bits, p.dither);
    if (!image::write_png(out, w, h, bits, codes, &err)) {
      std::fprintf(stderr, "dtutmo-image: %s\n", err.c_str());
      ++failures;
      continue;
    }
    if (!quiet) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "[%zu/%zu] %s %dx%d -> %s (%d-bit, %s%s) %.2f s\n", n + 1, inputs.size(), in.c_str(), w, h,
                   out.c_str(), bits, passthrough ? "passthrough" : profile_name(p.profile), stats.c_str(), s);
    }
  }
  return failures ? 1 : 0;
}
