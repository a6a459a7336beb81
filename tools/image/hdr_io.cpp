// dtutmo-image -- OpenEXR / PFM / PNG I/O (see hdr_io.h).
#include "hdr_io.h"

#include <png.h>

#include <ImfChannelList.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfInputFile.h>
#include <ImfOutputFile.h>
#include <ImfRgbaFile.h>
#include <ImathBox.h>
#include <half.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <memory>

namespace dtutmo {
namespace image {

namespace {

bool fail(std::string* err, const std::string& msg) {
  if (err) *err = msg;
  return false;
}

constexpr long long kMaxPixels = 1LL << 28;  // 268 Mpixel: anything larger is a broken header

}  // namespace

FileKind sniff(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return errno == ENOENT ? FileKind::Missing : FileKind::Unreadable;
  unsigned char m[16] = {0};
  const std::size_t n = std::fread(m, 1, sizeof(m), f);
  std::fclose(f);
  if (n >= 4 && m[0] == 0x76 && m[1] == 0x2f && m[2] == 0x31 && m[3] == 0x01) return FileKind::Exr;
  if (n >= 3 && m[0] == 'P' && (m[1] == 'F' || m[1] == 'f') && (m[2] == '\n' || m[2] == '\r' || m[2] == ' ' || m[2] == '\t'))
    return FileKind::Pfm;
  if (n >= 8 && std::memcmp(m, "\x89PNG\r\n\x1a\n", 8) == 0) return FileKind::Png;
  if (n >= 3 && m[0] == 0xFF && m[1] == 0xD8 && m[2] == 0xFF) return FileKind::Jpeg;
  if (n >= 4 && (std::memcmp(m, "II*\0", 4) == 0 || std::memcmp(m, "MM\0*", 4) == 0)) return FileKind::Tiff;
  if (n >= 2 && m[0] == '#' && m[1] == '?') return FileKind::Radiance;
  return FileKind::Unknown;
}

bool read_exr(const std::string& path, Image* out, std::string* err) {
  try {
    Imf::InputFile file(path.c_str());
    const Imf::Header& hdr = file.header();
    const Imath::Box2i dw = hdr.dataWindow();
    const long long w = static_cast<long long>(dw.max.x) - dw.min.x + 1;
    const long long h = static_cast<long long>(dw.max.y) - dw.min.y + 1;
    if (w <= 0 || h <= 0 || w * h > kMaxPixels) return fail(err, path + ": EXR data window is empty or too large");
    const Imf::ChannelList& ch = hdr.channels();
    const bool rgb = ch.findChannel("R") || ch.findChannel("G") || ch.findChannel("B");
    const bool y_only = !rgb && ch.findChannel("Y") && !ch.findChannel("RY") && !ch.findChannel("BY");
    out->width = static_cast<int>(w);
    out->height = static_cast<int>(h);
    out->rgb.assign(static_cast<std::size_t>(w * h * 3), 0.0f);
    if (rgb || y_only) {
      // Float slices straight into the RGB buffer; missing channels read as 0. The slice
      // base is offset so that data-window coordinates index the buffer.
      const std::size_t xs = 3 * sizeof(float), ys = xs * static_cast<std::size_t>(w);
      char* base = reinterpret_cast<char*>(out->rgb.data()) - static_cast<std::ptrdiff_t>(dw.min.x) * xs -
                   static_cast<std::ptrdiff_t>(dw.min.y) * ys;
      Imf::FrameBuffer fb;
      if (rgb) {
        fb.insert("R", Imf::Slice(Imf::FLOAT, base, xs, ys, 1, 1, 0.0));
        fb.insert("G", Imf::Slice(Imf::FLOAT, base + sizeof(float), xs, ys, 1, 1, 0.0));
        fb.insert("B", Imf::Slice(Imf::FLOAT, base + 2 * sizeof(float), xs, ys, 1, 1, 0.0));
      } else {
        fb.insert("Y", Imf::Slice(Imf::FLOAT, base, xs, ys, 1, 1, 0.0));
      }
      file.setFrameBuffer(fb);
      file.readPixels(dw.min.y, dw.max.y);
      if (y_only)
        for (std::size_t i = 0; i < out->rgb.size(); i += 3) out->rgb[i + 1] = out->rgb[i + 2] = out->rgb[i];
      return true;
    }
    if (ch.findChannel("Y") || ch.findChannel("RY") || ch.findChannel("BY")) {
      // Luminance/chroma images (subsampled RY/BY): the RGBA interface reconstructs RGB.
      Imf::RgbaInputFile rf(path.c_str());
      std::vector<Imf::Rgba> px(static_cast<std::size_t>(w * h));
      rf.setFrameBuffer(px.data() - dw.min.x - dw.min.y * w, 1, static_cast<std::size_t>(w));
      rf.readPixels(dw.min.y, dw.max.y);
      for (std::size_t i = 0; i < px.size(); ++i) {
        out->rgb[3 * i] = px[i].r;
        out->rgb[3 * i + 1] = px[i].g;
        out->rgb[3 * i + 2] = px[i].b;
      }
      return true;
    }
    return fail(err, path + ": EXR has no R, G, B or Y channels (layered/multi-view files: only "
                            "the default layer is read)");
  } catch (const std::exception& e) {
    return fail(err, path + ": cannot read OpenEXR: " + e.what());
  }
}

bool read_pfm(const std::string& path, Image* out, std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(err, path + ": cannot open: " + std::strerror(errno));
  const std::vector<unsigned char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Header: "PF"|"Pf", whitespace, width, whitespace, height, whitespace, scale, ONE
  // whitespace character, then the samples.
  std::size_t pos = 0;
  auto ws = [&](unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  auto token = [&](std::string* t) {
    while (pos < buf.size() && ws(buf[pos])) ++pos;
    const std::size_t s = pos;
    while (pos < buf.size() && !ws(buf[pos]) && pos - s < 64) ++pos;
    *t = std::string(buf.begin() + static_cast<std::ptrdiff_t>(s), buf.begin() + static_cast<std::ptrdiff_t>(pos));
    return !t->empty();
  };
  std::string magic, sw, sh, ss;
  if (!token(&magic) || (magic != "PF" && magic != "Pf")) return fail(err, path + ": not a PFM file (no PF/Pf magic)");
  if (!token(&sw) || !token(&sh) || !token(&ss)) return fail(err, path + ": truncated PFM header");
  char* end = nullptr;
  const long w = std::strtol(sw.c_str(), &end, 10);
  if (*end) return fail(err, path + ": bad PFM width '" + sw + "'");
  const long h = std::strtol(sh.c_str(), &end, 10);
  if (*end) return fail(err, path + ": bad PFM height '" + sh + "'");
  const double scale = std::strtod(ss.c_str(), &end);
  if (*end || scale == 0.0 || scale != scale) return fail(err, path + ": bad PFM scale '" + ss + "'");
  if (w <= 0 || h <= 0 || static_cast<long long>(w) * h > kMaxPixels) return fail(err, path + ": bad PFM size");
  if (pos >= buf.size() || !ws(buf[pos])) return fail(err, path + ": truncated PFM header");
  ++pos;  // the single whitespace after the scale
  const int nc = magic == "PF" ? 3 : 1;
  const std::size_t need = static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * nc * 4;
  if (buf.size() - pos < need)
    return fail(err, path + ": PFM data truncated (" + std::to_string(buf.size() - pos) + " of " +
                         std::to_string(need) + " bytes)");
  const bool le = scale < 0.0;
  out->width = static_cast<int>(w);
  out->height = static_cast<int>(h);
  out->rgb.assign(static_cast<std::size_t>(w) * h * 3, 0.0f);
  const unsigned char* d = buf.data() + pos;
  for (long fy = 0; fy < h; ++fy) {  // file row 0 is the bottom row
    float* row = out->rgb.data() + static_cast<std::size_t>(h - 1 - fy) * w * 3;
    for (long x = 0; x < w; ++x)
      for (int c = 0; c < nc; ++c) {
        const unsigned char* b = d + ((static_cast<std::size_t>(fy) * w + x) * nc + c) * 4;
        const uint32_t u = le ? (uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24)
                              : (uint32_t(b[3]) | uint32_t(b[2]) << 8 | uint32_t(b[1]) << 16 | uint32_t(b[0]) << 24);
        float v;
        std::memcpy(&v, &u, 4);
        if (nc == 3)
          row[3 * x + c] = v;
        else
          row[3 * x] = row[3 * x + 1] = row[3 * x + 2] = v;
      }
  }
  return true;
}

bool read_hdr(const std::string& path, Image* out, std::string* err) {
  switch (sniff(path)) {
    case FileKind::Missing:
      return fail(err, path + ": no such file");
    case FileKind::Unreadable:
      return fail(err, path + ": cannot open: " + std::strerror(errno));
    case FileKind::Exr:
      return read_exr(path, out, err);
    case FileKind::Pfm:
      return read_pfm(path, out, err);
    case FileKind::Png:
    case FileKind::Jpeg:
    case FileKind::Tiff: {
      const char* k = sniff(path) == FileKind::Png ? "PNG" : sniff(path) == FileKind::Jpeg ? "JPEG" : "TIFF";
      return fail(err, path + ": is a " + std::string(k) +
                           " file, not an HDR image; give an OpenEXR (.exr) or PFM (.pfm) file, or scene:NAME");
    }
    case FileKind::Radiance:
      return fail(err, path + ": Radiance .hdr is not supported; convert it to OpenEXR or PFM");
    default:
      return fail(err, path + ": unknown file type; give an OpenEXR (.exr) or PFM (.pfm) file, or scene:NAME");
  }
}

bool write_exr(const std::string& path, const Image& im, int compression, bool use_half, std::string* err) {
  try {
    Imf::Header hdr(im.width, im.height);
    hdr.compression() = static_cast<Imf::Compression>(compression);
    const Imf::PixelType pt = use_half ? Imf::HALF : Imf::FLOAT;
    hdr.channels().insert("R", Imf::Channel(pt));
    hdr.channels().insert("G", Imf::Channel(pt));
    hdr.channels().insert("B", Imf::Channel(pt));
    Imf::OutputFile file(path.c_str(), hdr);
    Imf::FrameBuffer fb;
    // The frame buffer's type must match the file's: HALF files get a half copy.
    std::vector<::half> hbuf;
    char* base = reinterpret_cast<char*>(const_cast<float*>(im.rgb.data()));
    std::size_t es = sizeof(float);
    if (use_half) {
      hbuf.assign(im.rgb.begin(), im.rgb.end());
      base = reinterpret_cast<char*>(hbuf.data());
      es = sizeof(::half);
    }
    const std::size_t xs = 3 * es, ys = xs * static_cast<std::size_t>(im.width);
    fb.insert("R", Imf::Slice(pt, base, xs, ys));
    fb.insert("G", Imf::Slice(pt, base + es, xs, ys));
    fb.insert("B", Imf::Slice(pt, base + 2 * es, xs, ys));
    file.setFrameBuffer(fb);
    file.writePixels(im.height);
    return true;
  } catch (const std::exception& e) {
    return fail(err, path + ": cannot write OpenEXR: " + e.what());
  }
}

bool write_pfm(const std::string& path, const Image& im, bool little_endian, std::string* err) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return fail(err, path + ": cannot create: " + std::strerror(errno));
  std::fprintf(f, "PF\n%d %d\n%s\n", im.width, im.height, little_endian ? "-1.0" : "1.0");
  std::vector<unsigned char> row(static_cast<std::size_t>(im.width) * 12);
  for (int fy = 0; fy < im.height; ++fy) {  // bottom row first
    const float* src = im.rgb.data() + static_cast<std::size_t>(im.height - 1 - fy) * im.width * 3;
    for (int i = 0; i < im.width * 3; ++i) {
      uint32_t u;
      std::memcpy(&u, &src[i], 4);
      unsigned char* b = &row[static_cast<std::size_t>(i) * 4];
      for (int k = 0; k < 4; ++k) b[little_endian ? k : 3 - k] = static_cast<unsigned char>(u >> (8 * k));
    }
    std::fwrite(row.data(), 1, row.size(), f);
  }
  const bool ok = std::fclose(f) == 0;
  return ok ? true : fail(err, path + ": write failed");
}

namespace {
void png_err(png_structp png, png_const_charp msg) {
  auto* e = static_cast<std::string*>(png_get_error_ptr(png));
  if (e) *e = msg;
  png_longjmp(png, 1);
}
void png_warn(png_structp, png_const_charp) {}
}  // namespace

bool write_png(const std::string& path, int width, int height, int bits, const std::vector<uint16_t>& codes,
               std::string* err) {
  if ((bits != 8 && bits != 16) || width <= 0 || height <= 0 ||
      codes.size() < static_cast<std::size_t>(width) * height * 3)
    return fail(err, path + ": bad PNG parameters");
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return fail(err, path + ": cannot create: " + std::strerror(errno));
  std::string msg;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &msg, png_err, png_warn);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    return fail(err, path + ": out of memory");
  }
  std::vector<unsigned char> row(static_cast<std::size_t>(width) * 3 * (bits / 8));
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    return fail(err, path + ": PNG write failed: " + msg);
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), bits, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_sRGB_gAMA_and_cHRM(png, info, PNG_sRGB_INTENT_PERCEPTUAL);
  png_set_compression_level(png, 6);
  png_write_info(png, info);
  for (int y = 0; y < height; ++y) {
    const uint16_t* src = codes.data() + static_cast<std::size_t>(y) * width * 3;
    if (bits == 8) {
      for (int i = 0; i < width * 3; ++i) row[i] = static_cast<unsigned char>(src[i]);
    } else {
      for (int i = 0; i < width * 3; ++i) {  // PNG is big-endian
        row[2 * i] = static_cast<unsigned char>(src[i] >> 8);
        row[2 * i + 1] = static_cast<unsigned char>(src[i] & 0xff);
      }
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  if (std::fclose(f) != 0) return fail(err, path + ": write failed");
  return true;
}

bool read_png(const std::string& path, int* width, int* height, int* bits, std::vector<uint16_t>* codes,
              std::string* err) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail(err, path + ": cannot open");
  std::string msg;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &msg, png_err, png_warn);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_read_struct(&png, &info, nullptr);
    std::fclose(f);
    return fail(err, "out of memory");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    std::fclose(f);
    return fail(err, path + ": PNG read failed: " + msg);
  }
  png_init_io(png, f);
  png_read_png(png, info, PNG_TRANSFORM_STRIP_ALPHA, nullptr);
  const int w = static_cast<int>(png_get_image_width(png, info));
  const int h = static_cast<int>(png_get_image_height(png, info));
  const int b = png_get_bit_depth(png, info);
  const int ct = png_get_color_type(png, info);
  if (ct != PNG_COLOR_TYPE_RGB || (b != 8 && b != 16)) {
    png_destroy_read_struct(&png, &info, nullptr);
    std::fclose(f);
    return fail(err, path + ": not an 8/16-bit RGB PNG");
  }
  png_bytepp rows = png_get_rows(png, info);
  codes->resize(static_cast<std::size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int i = 0; i < w * 3; ++i)
      (*codes)[static_cast<std::size_t>(y) * w * 3 + i] =
          b == 8 ? rows[y][i] : static_cast<uint16_t>(rows[y][2 * i] << 8 | rows[y][2 * i + 1]);
  *width = w;
  *height = h;
  *bits = b;
  png_destroy_read_struct(&png, &info, nullptr);
  std::fclose(f);
  return true;
}

}  // namespace image
}  // namespace dtutmo
