// dtutmo-quality -- objective quality of tone-mapped images against their HDR source.
//
//   dtutmo-quality [options] HDR LDR.png [LDR2.png ...]
//       HDR: a PFM file (linear RGB, BT.709 primaries, cd/m^2 or any linear unit) or
//       scene:NAME[@T] (a procedural scene of scenes.h, rendered at the LDR's size, time T s).
//       LDRs: 8-bit sRGB PNG (or binary PPM). Prints TMQI Q, S, N and the colourfulness per
//       LDR; with --ref also CIEDE2000 against the reference image; with --banding X,Y,W,H
//       the banding statistics of that rectangle.
//       --format text|md|csv   output format (md: a markdown table with a header)
//       --label NAME           label for the next LDR (default: its file name)
//       --ref REF.png          reference for delta E 2000 (same size)
//       --banding X,Y,W,H      rectangle of a smooth gradient to check for banding
//   dtutmo-quality --render SCENE OUT.pfm [--size WxH] [--time T]
//       Render a procedural scene to a PFM (absolute cd/m^2).
//   dtutmo-quality --naive HDR OUT.png [--width W] [--key K]
//       Naive baseline: exposure so that the log-average maps to K (0.18) of white,
//       linear scale, hard clip, sRGB. --width downscales first (area average).
//   dtutmo-quality --linear HDR OUT.png --scale S [--width W]
//       Linear scaling by S (value * S = display-relative linear light), clip, sRGB.
//   dtutmo-quality --raw HDR OUT.raw [--scale S] [--clip C]
//       Raw planar float (FFmpeg's gbrpf32le: planes G, B, R, little-endian float32), the
//       linear values x S, clipped to [0, C] when C is given; prints "WxH". For FFmpeg's
//       rawvideo demuxer (its PFM decoder's row order differs between versions).
//   dtutmo-quality --tonemap HDR OUT.png [--profile P] [--set NAME=VALUE ...]
//       Tone-map one frame with the CPU engine (linear BT.709 input, input-scale 1 so
//       that the PFM's values are cd/m^2; sRGB 8-bit output).
//   dtutmo-quality --video SCENE [--profile P] [--size WxH] [--fps F] [--seconds T]
//                  [--flash K] [--set NAME=VALUE ...]
//       Run the CPU engine over a scene's frames (the animated scene moves; the others are
//       static) and print the flicker of the mean output luma, the largest frame-to-frame
//       jump, and the temporal instability (largest pixel change) over the second half.
//       --flash K multiplies the input of frame K by 10 (a one-frame flash) and reports
//       how far the mean of the following frames strays from the frames before it.
//   dtutmo-quality --calibrate IN.pfm OUT.pfm --logmean L [--width W]
//       Scale a relative HDR image (e.g. an HDRI photograph) to absolute cd/m^2 so that its
//       log-average luminance is L; --width downscales first (area average).
//   dtutmo-quality --halo-chart OUT.pfm --inside A --outside B [--size WxH]
//       Halo chart (metrics.h halo_chart): a grey disc of A cd/m^2 on B cd/m^2, 384x216 by
//       default (the geometry of tests/model/test_halo.cpp).
//   dtutmo-quality --halo LDR.png [LDR2.png ...]
//       Rim vs surround of renderings of a halo chart: per image "outside inside contrast"
//       in stops (|log2| of the rim just outside the edge over the far background, of the
//       rim just inside over the disc's centre; log2 background / disc).
//   dtutmo-quality --list-scenes
//   dtutmo-quality --resize IN.png OUT.png --width W
//       Area-average downscale of an 8-bit sRGB image (in linear light).
//   dtutmo-quality --sequence F0.png F1.png ... [--from N]
//       Video frames in order: flicker (mean |change| of the mean code luma per frame)
//       and temporal instability (largest pixel change between frames from N on).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dtutmo/engine.h"
#include "dtutmo/params.h"
#include "dtutmo/scenes.h"
#include "metrics.h"

using namespace dtutmo::quality;

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: dtutmo-quality [--format text|md|csv] [--ref REF.png] [--banding X,Y,W,H]\n"
               "                      HDR.pfm|scene:NAME[@T] [--label L] LDR.png ...\n"
               "       dtutmo-quality --render SCENE OUT.pfm [--size WxH] [--time T]\n"
               "       dtutmo-quality --naive HDR OUT.png [--width W] [--key K]\n"
               "       dtutmo-quality --linear HDR OUT.png --scale S [--width W]\n"
               "       dtutmo-quality --raw HDR OUT.raw [--scale S] [--clip C]\n"
               "       dtutmo-quality --tonemap HDR OUT.png [--profile P] [--set NAME=VALUE]\n"
               "       dtutmo-quality --video SCENE [--profile P] [--size WxH] [--fps F]\n"
               "                      [--seconds T] [--flash K] [--set NAME=VALUE]\n"
               "       dtutmo-quality --calibrate IN.pfm OUT.pfm --logmean L [--width W]\n"
               "       dtutmo-quality --halo-chart OUT.pfm --inside A --outside B [--size WxH]\n"
               "       dtutmo-quality --halo LDR.png ...\n"
               "       dtutmo-quality --list-scenes\n"
               "       dtutmo-quality --resize IN.png OUT.png --width W\n"
               "       dtutmo-quality --sequence F0.png F1.png ... [--from N]\n");
}

bool render(const std::string& name, int w, int h, double t, ImageF* out, std::string* err) {
  dtutmo::Scene s;
  if (!dtutmo::scene_from_name(name.c_str(), &s)) {
    *err = "unknown scene '" + name + "'";
    return false;
  }
  out->width = w;
  out->height = h;
  out->rgb.assign(static_cast<size_t>(w) * h * 3, 0.0f);
  dtutmo::render_scene(s, w, h, t, out->rgb.data(), static_cast<std::ptrdiff_t>(w) * 3);
  return true;
}

// HDR from a PFM path or scene:NAME[@T] (rendered at w x h when given).
bool load_hdr(const std::string& spec, int w, int h, ImageF* out, std::string* err) {
  if (spec.rfind("scene:", 0) == 0) {
    std::string name = spec.substr(6);
    double t = 0.0;
    const size_t at = name.find('@');
    if (at != std::string::npos) {
      t = std::atof(name.c_str() + at + 1);
      name = name.substr(0, at);
    }
    return render(name, w > 0 ? w : 960, h > 0 ? h : 540, t, out, err);
  }
  if (!read_pfm(spec, out, err)) return false;
  if (w > 0 && out->width != w) {
    if (w < out->width) *out = resize_linear(*out, w);
  }
  if (w > 0 && (out->width != w || out->height != h)) {
    *err = "HDR " + spec + " is " + std::to_string(out->width) + "x" + std::to_string(out->height) +
           ", the LDR " + std::to_string(w) + "x" + std::to_string(h);
    return false;
  }
  return true;
}

std::string basename(const std::string& p) {
  const size_t s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

int die(const std::string& msg) {
  std::fprintf(stderr, "dtutmo-quality: %s\n", msg.c_str());
  return 1;
}

// A CPU engine for linear BT.709 float input in cd/m^2 and 8-bit sRGB RGBA output.
struct Tonemapper {
  std::unique_ptr<dtutmo::Engine> engine;
  int width = 0, height = 0;
  std::vector<uint8_t> out;

  bool init(int w, int h, const std::vector<std::string>& args, std::string* err) {
    dtutmo::Params p = dtutmo::params_for_profile(dtutmo::Profile::Fast);
    for (size_t i = 0; i + 1 < args.size(); ++i)
      if (args[i] == "--profile" && !dtutmo::set_param(p, "profile", args[i + 1], err)) return false;
    p.input_scale = 1.0f;
    for (size_t i = 0; i + 1 < args.size(); ++i)
      if (args[i] == "--set") {
        const std::string kv = args[i + 1];
        const size_t eq = kv.find('=');
        if (eq == std::string::npos) {
          *err = "--set needs NAME=VALUE";
          return false;
        }
        if (!dtutmo::set_param(p, kv.substr(0, eq), kv.substr(eq + 1), err)) return false;
      }
    width = w;
    height = h;
    engine = dtutmo::create_cpu_engine(0);
    dtutmo::StreamConfig cfg;
    cfg.width = w;
    cfg.height = h;
    cfg.in_format = dtutmo::PixelFormat::RGBF32;
    cfg.out_format = dtutmo::PixelFormat::RGBA;
    cfg.in.transfer = dtutmo::Transfer::Linear;
    cfg.in.primaries = dtutmo::Primaries::BT709;
    cfg.out.transfer = dtutmo::Transfer::SRGB;
    cfg.out.primaries = dtutmo::Primaries::BT709;
    if (!engine->set_params(p, err) || !engine->configure(cfg, err)) return false;
    out.assign(dtutmo::packed_size(dtutmo::PixelFormat::RGBA, w, h), 0);
    return true;
  }

  bool run(ImageF& in, double t, Image8* res, std::string* err) {
    const dtutmo::FrameView iv = dtutmo::packed_view(dtutmo::PixelFormat::RGBF32, width, height,
                                                     reinterpret_cast<uint8_t*>(in.rgb.data()));
    const dtutmo::FrameView ov = dtutmo::packed_view(dtutmo::PixelFormat::RGBA, width, height, out.data());
    if (!engine->process(iv, ov, t, err)) return false;
    res->width = width;
    res->height = height;
    res->rgb.resize(static_cast<size_t>(width) * height * 3);
    for (int y = 0; y < height; ++y) {
      const uint8_t* row = ov.data[0] + y * ov.stride[0];
      for (int x = 0; x < width; ++x)
        for (int c = 0; c < 3; ++c) res->px(x, y)[c] = row[4 * x + c];
    }
    return true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.empty() || a[0] == "-h" || a[0] == "--help") {
    usage();
    return a.empty() ? 2 : 0;
  }
  std::string err;
  // Option value lookup for the modes.
  auto opt = [&](const char* name, const char* def) -> std::string {
    for (size_t i = 0; i + 1 < a.size(); ++i)
      if (a[i] == name) return a[i + 1];
    return def;
  };

  if (a[0] == "--render") {
    if (a.size() < 3) return usage(), 2;
    int w = 960, h = 540;
    if (std::sscanf(opt("--size", "960x540").c_str(), "%dx%d", &w, &h) != 2 || w < 1 || h < 1)
      return die("bad --size");
    ImageF img;
    if (!render(a[1], w, h, std::atof(opt("--time", "0").c_str()), &img, &err) ||
        !write_pfm(a[2], img, &err))
      return die(err);
    return 0;
  }
  if (a[0] == "--naive" || a[0] == "--linear") {
    if (a.size() < 3) return usage(), 2;
    ImageF img;
    if (!load_hdr(a[1], 0, 0, &img, &err)) return die(err);
    const int width = std::atoi(opt("--width", "0").c_str());
    if (width > 0) img = resize_linear(img, width);
    Image8 o;
    if (a[0] == "--naive") {
      o = render_naive(img, std::atof(opt("--key", "0.18").c_str()));
    } else {
      const double s = std::atof(opt("--scale", "0").c_str());
      if (!(s > 0.0)) return die("--linear needs --scale S > 0");
      o = render_linear(img, s);
    }
    if (!write_png(a[2], o, &err)) return die(err);
    return 0;
  }
  if (a[0] == "--raw") {
    if (a.size() < 3) return usage(), 2;
    ImageF img;
    if (!load_hdr(a[1], 0, 0, &img, &err)) return die(err);
    const float scale = static_cast<float>(std::atof(opt("--scale", "1").c_str()));
    const float clip = static_cast<float>(std::atof(opt("--clip", "0").c_str()));
    FILE* f = std::fopen(a[2].c_str(), "wb");
    if (!f) return die("cannot write " + a[2]);
    static const int kOrder[3] = {1, 2, 0};  // G, B, R
    const size_t n = static_cast<size_t>(img.width) * img.height;
    std::vector<float> plane(n);
    for (int c : kOrder) {
      for (size_t i = 0; i < n; ++i) {
        float v = img.rgb[3 * i + c] * scale;
        v = std::isfinite(v) && v > 0.0f ? v : 0.0f;
        if (clip > 0.0f && v > clip) v = clip;
        plane[i] = v;  // little-endian hosts only (x86, ARM)
      }
      if (std::fwrite(plane.data(), sizeof(float), n, f) != n) {
        std::fclose(f);
        return die("write error " + a[2]);
      }
    }
    std::fclose(f);
    std::printf("%dx%d\n", img.width, img.height);
    return 0;
  }
  if (a[0] == "--calibrate") {
    if (a.size() < 3) return usage(), 2;
    ImageF img;
    if (!load_hdr(a[1], 0, 0, &img, &err)) return die(err);
    const int width = std::atoi(opt("--width", "0").c_str());
    if (width > 0) img = resize_linear(img, width);
    const double target = std::atof(opt("--logmean", "0").c_str());
    const double lm = log_mean_luminance(img);
    if (!(target > 0.0) || !(lm > 0.0)) return die("--calibrate needs --logmean L > 0 and a non-black image");
    const float k = static_cast<float>(target / lm);
    for (float& v : img.rgb) v = std::isfinite(v) && v > 0.0f ? v * k : 0.0f;
    if (!write_pfm(a[2], img, &err)) return die(err);
    return 0;
  }
  if (a[0] == "--halo-chart") {
    if (a.size() < 2) return usage(), 2;
    int w = 384, h = 216;
    if (std::sscanf(opt("--size", "384x216").c_str(), "%dx%d", &w, &h) != 2 || w < 16 || h < 16)
      return die("bad --size");
    const float in = static_cast<float>(std::atof(opt("--inside", "0").c_str()));
    const float out = static_cast<float>(std::atof(opt("--outside", "0").c_str()));
    if (!(in > 0.0f) || !(out > 0.0f)) return die("--halo-chart needs --inside and --outside > 0");
    if (!write_pfm(a[1], halo_chart(w, h, in, out), &err)) return die(err);
    return 0;
  }
  if (a[0] == "--halo") {
    if (a.size() < 2) return usage(), 2;
    for (size_t i = 1; i < a.size(); ++i) {
      Image8 ldr;
      if (!read_image8(a[i], &ldr, &err)) return die(err);
      const HaloStats hs = halo(ldr);
      std::printf("%.4f %.4f %.4f\n", hs.outside, hs.inside, hs.contrast);
    }
    return 0;
  }
  if (a[0] == "--list-scenes") {
    for (int i = 0; i < static_cast<int>(dtutmo::Scene::COUNT); ++i)
      std::printf("%s\n", dtutmo::scene_name(static_cast<dtutmo::Scene>(i)));
    return 0;
  }
  if (a[0] == "--tonemap") {
    if (a.size() < 3) return usage(), 2;
    ImageF img;
    if (!load_hdr(a[1], 0, 0, &img, &err)) return die(err);
    Tonemapper tm;
    Image8 o;
    if (!tm.init(img.width, img.height, a, &err) || !tm.run(img, 0.0, &o, &err) ||
        !write_png(a[2], o, &err))
      return die(err);
    return 0;
  }
  if (a[0] == "--video") {
    if (a.size() < 2) return usage(), 2;
    int w = 320, h = 180;
    if (std::sscanf(opt("--size", "320x180").c_str(), "%dx%d", &w, &h) != 2 || w < 1 || h < 1)
      return die("bad --size");
    const double fps = std::atof(opt("--fps", "30").c_str());
    const double secs = std::atof(opt("--seconds", "6").c_str());
    const int flash = std::atoi(opt("--flash", "-1").c_str());
    const int n = std::max(2, static_cast<int>(std::lround(fps * secs)));
    Tonemapper tm;
    if (!tm.init(w, h, a, &err)) return die(err);
    std::vector<double> means;
    std::vector<Image8> frames;
    double max_jump = 0.0;
    int max_jump_at = 0;
    for (int k = 0; k < n; ++k) {
      const double t = k / fps;
      ImageF in;
      if (!render(a[1], w, h, t, &in, &err)) return die(err);
      if (k == flash)
        for (float& v : in.rgb) v *= 10.0f;
      Image8 o;
      if (!tm.run(in, t, &o, &err)) return die(err);
      means.push_back(mean_code_luma(o));
      if (k > 0 && std::fabs(means[k] - means[k - 1]) > max_jump) {
        max_jump = std::fabs(means[k] - means[k - 1]);
        max_jump_at = k;
      }
      if (k >= n / 2) frames.push_back(std::move(o));
    }
    std::printf("scene %s  frames %d @ %.1f fps  mean-luma first %.2f last %.2f  flicker %.4f  "
                "max-jump %.2f (frame %d, t %.3f s)  instability(2nd half) %d",
                a[1].c_str(), n, fps, means.front(), means.back(), flicker(means), max_jump,
                max_jump_at, max_jump_at / fps, temporal_instability(frames));
    if (flash > 0 && flash + 1 < n) {
      double stray = 0.0;
      for (int k = flash + 1; k < n; ++k) stray = std::max(stray, std::fabs(means[k] - means[flash - 1]));
      std::printf("  flash@%d: flash-frame %.2f, max stray after %.2f", flash,
                  means[flash] - means[flash - 1], stray);
    }
    std::printf("\n");
    return 0;
  }
  if (a[0] == "--resize") {
    if (a.size() < 3) return usage(), 2;
    Image8 in;
    if (!read_image8(a[1], &in, &err)) return die(err);
    const int width = std::atoi(opt("--width", "0").c_str());
    if (width <= 0) return die("--resize needs --width W");
    if (!write_png(a[2], resize_srgb8(in, width), &err)) return die(err);
    return 0;
  }
  if (a[0] == "--sequence") {
    size_t from = 0;
    std::vector<Image8> frames;
    std::vector<double> means;
    for (size_t i = 1; i < a.size(); ++i) {
      if (a[i] == "--from" && i + 1 < a.size()) {
        from = static_cast<size_t>(std::atoi(a[++i].c_str()));
        continue;
      }
      Image8 f;
      if (!read_image8(a[i], &f, &err)) return die(err);
      means.push_back(mean_code_luma(f));
      frames.push_back(std::move(f));
    }
    if (frames.size() < 2) return die("--sequence needs at least 2 frames");
    std::printf("frames %zu  flicker %.4f  instability(from %zu) %d\n", frames.size(),
                flicker(means), from, temporal_instability(frames, from));
    return 0;
  }

  // Metrics mode.
  std::string format = "text", ref_path, hdr_spec;
  bool have_band = false;
  int bx = 0, by = 0, bw = 0, bh = 0;
  std::vector<std::pair<std::string, std::string>> ldrs;  // label, path
  std::string next_label;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string& s = a[i];
    const bool has_val = i + 1 < a.size();
    if (s == "--format" && has_val) {
      format = a[++i];
    } else if (s == "--ref" && has_val) {
      ref_path = a[++i];
    } else if (s == "--label" && has_val) {
      next_label = a[++i];
    } else if (s == "--banding" && has_val) {
      if (std::sscanf(a[++i].c_str(), "%d,%d,%d,%d", &bx, &by, &bw, &bh) != 4)
        return die("bad --banding X,Y,W,H");
      have_band = true;
    } else if (!s.empty() && s[0] == '-' && s.size() > 1) {
      usage();
      return 2;
    } else if (hdr_spec.empty()) {
      hdr_spec = s;
    } else {
      ldrs.emplace_back(next_label.empty() ? basename(s) : next_label, s);
      next_label.clear();
    }
  }
  if (hdr_spec.empty() || ldrs.empty()) return usage(), 2;

  Image8 ref;
  if (!ref_path.empty() && !read_image8(ref_path, &ref, &err)) return die(err);

  if (format == "md") {
    std::printf("| image | TMQI Q | S | N | colourfulness | mean luma | local contrast | clipped %% | crushed %% |%s%s\n",
                ref_path.empty() ? "" : " mean dE00 | p95 dE00 |",
                have_band ? " banding contours/row | mean run px |" : "");
    std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |%s%s\n", ref_path.empty() ? "" : " ---: | ---: |",
                have_band ? " ---: | ---: |" : "");
  } else if (format == "csv") {
    std::printf("image,Q,S,N,colourfulness,mean_luma,contrast,clipped,crushed%s%s\n", ref_path.empty() ? "" : ",de_mean,de_p95",
                have_band ? ",contours_per_row,mean_run" : "");
  }
  ImageF hdr;
  int hw = -1, hh = -1;
  int rc = 0;
  for (const auto& l : ldrs) {
    Image8 ldr;
    if (!read_image8(l.second, &ldr, &err)) {
      std::fprintf(stderr, "dtutmo-quality: %s\n", err.c_str());
      rc = 1;
      continue;
    }
    if (ldr.width != hw || ldr.height != hh) {
      if (!load_hdr(hdr_spec, ldr.width, ldr.height, &hdr, &err)) return die(err);
      hw = ldr.width;
      hh = ldr.height;
    }
    const TmqiResult t = tmqi(hdr, ldr);
    const double cf = colourfulness(ldr);
    const ExposureStats ex = exposure(ldr);
    DeltaEStats de;
    if (!ref_path.empty()) de = delta_e2000_image(ldr, ref);
    BandingStats bs;
    if (have_band) bs = banding(ldr, bx, by, bw, bh);
    if (format == "md") {
      std::printf("| %s | %.4f | %.4f | %.4f | %.1f | %.1f | %.1f | %.2f | %.2f |", l.first.c_str(), t.Q,
                  t.S, t.N, cf, ex.mean_luma, ex.contrast, 100.0 * ex.clipped, 100.0 * ex.crushed);
      if (!ref_path.empty()) std::printf(" %.2f | %.2f |", de.mean, de.p95);
      if (have_band) std::printf(" %.2f | %.1f |", bs.contours_per_row, bs.mean_run);
      std::printf("\n");
    } else if (format == "csv") {
      std::printf("%s,%.5f,%.5f,%.5f,%.2f,%.2f,%.2f,%.5f,%.5f", l.first.c_str(), t.Q, t.S, t.N, cf,
                  ex.mean_luma, ex.contrast, ex.clipped, ex.crushed);
      if (!ref_path.empty()) std::printf(",%.3f,%.3f", de.mean, de.p95);
      if (have_band) std::printf(",%.3f,%.2f", bs.contours_per_row, bs.mean_run);
      std::printf("\n");
    } else {
      std::printf("%-22s Q %.4f  S %.4f  N %.4f  colourfulness %.1f  mean %.1f  contrast %.1f  "
                  "clipped %.2f%%  crushed %.2f%%",
                  l.first.c_str(), t.Q, t.S, t.N, cf, ex.mean_luma, ex.contrast, 100.0 * ex.clipped,
                  100.0 * ex.crushed);
      std::printf("  (s_local");
      for (int k = 0; k < t.scales; ++k) std::printf(" %.3f", t.s_local[k]);
      std::printf(")");
      if (!ref_path.empty()) std::printf("  dE00 mean %.2f p95 %.2f max %.1f", de.mean, de.p95, de.max);
      if (have_band)
        std::printf("  banding: contours/row %.2f mean-run %.1f max-run %.1f max-step %d",
                    bs.contours_per_row, bs.mean_run, bs.max_run, bs.max_step);
      std::printf("\n");
    }
  }
  return rc;
}
