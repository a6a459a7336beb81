// dtutmo-image -- HDR still readers (OpenEXR, OpenImageIO) and PNG/EXR/PFM writers
// (see hdr_io.h).
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
#include <openexr.h>

#include <OpenImageIO/imageio.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <new>

namespace dtutmo {
namespace image {

namespace {

bool fail(std::string* err, const std::string& msg) {
  if (err) *err = msg;
  return false;
}

// Rows decoded at a time (the last band is decoded before the image is allocated).
constexpr int kBandRows = 64;
// OpenEXR: largest tile side, and the largest buffer one chunk (or tile) decodes into.
constexpr int kMaxExrTileSide = 1 << 13;
constexpr uint64_t kMaxChunkBytes = uint64_t(512) << 20;

uint64_t file_size(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
}

std::string dims(int64_t w, int64_t h) { return std::to_string(w) + "x" + std::to_string(h); }

// The declared size against the limits; nothing has been allocated yet.
bool check_size(const std::string& path, const char* what, int64_t w, int64_t h, const ReadLimits& lim,
                std::string* err) {
  if (w <= 0 || h <= 0) return fail(err, path + ": " + what + " declares an empty image (" + dims(w, h) + ")");
  if (w > lim.max_side || h > lim.max_side)
    return fail(err, path + ": " + what + " declares " + dims(w, h) + " pixels, a side above the limit of " +
                         std::to_string(lim.max_side));
  if (uint64_t(w) * uint64_t(h) > lim.max_pixels)
    return fail(err, path + ": " + what + " declares " + dims(w, h) + " = " + std::to_string(uint64_t(w) * uint64_t(h)) +
                         " pixels, above the limit of " + std::to_string(lim.max_pixels) + " (--max-pixels)");
  return true;
}

// Uncompressed data: the file must hold every declared byte.
bool check_raw_bytes(const std::string& path, const char* what, uint64_t need, std::string* err) {
  const uint64_t have = file_size(path);
  if (need > have)
    return fail(err, path + ": " + what + " declares " + std::to_string(need) + " bytes of uncompressed samples, the file has " +
                         std::to_string(have) + " (truncated or a broken header)");
  return true;
}

// Decodes a w x h image into `out` in bands of `band` rows: read_band(y0, y1, dst) writes
// rows y0..y1-1 (3 floats a pixel, no padding) to dst, or returns false / throws. The last
// band is decoded first, into a buffer of its own: a file cut short (the common broken
// file, and the small file that declares a huge image) fails there, before the image is
// allocated. Then the image is allocated and the other bands decoded into it in order
// (the size was checked against the limits before).
template <typename ReadBand>
bool read_bands(const std::string& path, int w, int h, int band, Image* out, std::string* err, ReadBand read_band) {
  const std::size_t row = std::size_t(w) * 3;
  const int last = (h - 1) / band * band;
  std::vector<float> tail(std::size_t(h - last) * row);
  if (!read_band(last, h, tail.data())) return false;
  try {
    out->rgb.assign(std::size_t(h) * row, 0.0f);
  } catch (const std::bad_alloc&) {
    return fail(err, path + ": out of memory for a " + dims(w, h) + " image");
  }
  out->width = w;
  out->height = h;
  for (int y0 = 0; y0 < last; y0 += band)
    if (!read_band(y0, std::min(last, y0 + band), out->rgb.data() + std::size_t(y0) * row)) {
      out->rgb = std::vector<float>();
      return false;
    }
  std::copy(tail.begin(), tail.end(), out->rgb.begin() + std::ptrdiff_t(std::size_t(last) * row));
  return true;
}

// ---- OpenEXR ----

thread_local std::string g_exr_core_error;
void exr_core_error(exr_const_context_t, exr_result_t, const char* msg) { g_exr_core_error = msg ? msg : "?"; }

// The headers of every part through the OpenEXR core library, which parses them without
// allocating per-pixel or per-chunk memory: sizes against the limits, the chunk offset
// tables and uncompressed data against the file size, the buffer one chunk decodes into.
// Imf::InputFile, which would allocate the offset tables and line buffers from the same
// numbers, is only opened after this. (Its header parser still reserves an unknown
// attribute's declared size, up to 2 GiB, before reading it: address space only, never
// touched; the read then fails at the end of the file. Found by fuzz-image.)
bool exr_precheck(const std::string& path, const ReadLimits& lim, int* band_rows, std::string* err) {
  exr_context_initializer_t init = EXR_DEFAULT_CONTEXT_INITIALIZER;
  init.error_handler_fn = exr_core_error;
  init.max_image_width = init.max_image_height = lim.max_side;
  init.max_tile_width = init.max_tile_height = kMaxExrTileSide;
  exr_context_t ctx = nullptr;
  g_exr_core_error.clear();
  if (exr_start_read(&ctx, path.c_str(), &init) != EXR_ERR_SUCCESS) {
    if (ctx) exr_finish(&ctx);
    return fail(err, path + ": cannot read OpenEXR: " + (g_exr_core_error.empty() ? "bad header" : g_exr_core_error));
  }
  std::unique_ptr<exr_context_t, void (*)(exr_context_t*)> guard(&ctx, [](exr_context_t* c) { exr_finish(c); });
  const uint64_t fsize = file_size(path);
  int parts = 0;
  if (exr_get_count(ctx, &parts) != EXR_ERR_SUCCESS || parts < 1) return fail(err, path + ": OpenEXR file without parts");
  for (int p = 0; p < parts; ++p) {
    exr_storage_t storage;
    exr_attr_box2i_t dw;
    const exr_attr_chlist_t* ch = nullptr;
    exr_compression_t comp;
    int32_t chunks = 0;
    if (exr_get_storage(ctx, p, &storage) != EXR_ERR_SUCCESS || exr_get_data_window(ctx, p, &dw) != EXR_ERR_SUCCESS ||
        exr_get_channels(ctx, p, &ch) != EXR_ERR_SUCCESS || !ch || exr_get_compression(ctx, p, &comp) != EXR_ERR_SUCCESS ||
        exr_get_chunk_count(ctx, p, &chunks) != EXR_ERR_SUCCESS)
      return fail(err, path + ": cannot read OpenEXR: incomplete header of part " + std::to_string(p) + " " + g_exr_core_error);
    if (storage == EXR_STORAGE_DEEP_SCANLINE || storage == EXR_STORAGE_DEEP_TILED)
      return fail(err, path + ": deep OpenEXR images are not supported");
    const int64_t w = int64_t(dw.max.x) - dw.min.x + 1, h = int64_t(dw.max.y) - dw.min.y + 1;
    if (!check_size(path, "OpenEXR data window", w, h, lim, err)) return false;
    // Every chunk has an 8-byte entry in the offset table at the start of the file.
    if (chunks < 1 || uint64_t(chunks) * 8 > fsize)
      return fail(err, path + ": OpenEXR header declares " + std::to_string(chunks) + " chunks, more than a " +
                           std::to_string(fsize) + "-byte file can index (truncated or a broken header)");
    uint64_t bytes_per_row = 0, raw = 0;  // over all channels, with their subsampling
    for (int c = 0; c < ch->num_channels; ++c) {
      const exr_attr_chlist_entry_t& e = ch->entries[c];
      const uint64_t size = e.pixel_type == EXR_PIXEL_HALF ? 2 : 4;
      const uint64_t xs = uint64_t(std::max(1, e.x_sampling)), ys = uint64_t(std::max(1, e.y_sampling));
      bytes_per_row += size * (uint64_t(w) + xs - 1) / xs;
      raw += size * ((uint64_t(w) + xs - 1) / xs) * ((uint64_t(h) + ys - 1) / ys);
    }
    int rows_per_chunk = 1;
    if (storage == EXR_STORAGE_TILED) {
      uint32_t tx = 0, ty = 0;
      exr_tile_level_mode_t lm;
      exr_tile_round_mode_t rm;
      if (exr_get_tile_descriptor(ctx, p, &tx, &ty, &lm, &rm) != EXR_ERR_SUCCESS || tx < 1 || ty < 1)
        return fail(err, path + ": cannot read OpenEXR: bad tile description");
      rows_per_chunk = int(std::min<uint32_t>(ty, uint32_t(h)));  // the reader caches a row of tiles
    } else {
      int32_t spc = 1;
      if (exr_get_scanlines_per_chunk(ctx, p, &spc) != EXR_ERR_SUCCESS || spc < 1) spc = 1;
      rows_per_chunk = spc;
    }
    if (bytes_per_row * uint64_t(rows_per_chunk) > kMaxChunkBytes)
      return fail(err, path + ": OpenEXR part " + std::to_string(p) + " needs " +
                           std::to_string(bytes_per_row * uint64_t(rows_per_chunk) >> 20) +
                           " MiB to decode one chunk (" + std::to_string(ch->num_channels) + " channels)");
    if (comp == EXR_COMPRESSION_NONE && !check_raw_bytes(path, "OpenEXR header", raw, err)) return false;
    if (p == 0) *band_rows = std::max(kBandRows, rows_per_chunk);
  }
  return true;
}

bool read_exr(const std::string& path, Image* out, std::string* err, const ReadLimits& lim) {
  int band = kBandRows;
  if (!exr_precheck(path, lim, &band, err)) return false;
  try {
    // The same limits for the C++ library's own header check (process-wide settings).
    Imf::Header::setMaxImageSize(lim.max_side, lim.max_side);
    Imf::Header::setMaxTileSize(kMaxExrTileSide, kMaxExrTileSide);
    Imf::InputFile file(path.c_str());
    const Imf::Header& hdr = file.header();
    const Imath::Box2i dw = hdr.dataWindow();
    const int w = dw.max.x - dw.min.x + 1, h = dw.max.y - dw.min.y + 1;  // checked above
    const Imf::ChannelList& ch = hdr.channels();
    const bool rgb = ch.findChannel("R") || ch.findChannel("G") || ch.findChannel("B");
    const bool y_only = !rgb && ch.findChannel("Y") && !ch.findChannel("RY") && !ch.findChannel("BY");
    const bool yc = !rgb && !y_only && (ch.findChannel("Y") || ch.findChannel("RY") || ch.findChannel("BY"));
    if (!rgb && !y_only && !yc)
      return fail(err, path + ": EXR has no R, G, B or Y channels (layered/multi-view files: only "
                              "the default layer is read)");
    const std::size_t xs = 3 * sizeof(float), ys = xs * std::size_t(w);
    std::unique_ptr<Imf::RgbaInputFile> rf;
    std::vector<Imf::Rgba> px;
    if (yc) rf.reset(new Imf::RgbaInputFile(path.c_str()));  // reconstructs RGB from subsampled RY/BY
    return read_bands(path, w, h, band, out, err, [&](int y0, int y1, float* rows) {
      if (yc) {
        px.resize(std::size_t(y1 - y0) * w);
        rf->setFrameBuffer(px.data() - dw.min.x - std::ptrdiff_t(dw.min.y + y0) * w, 1, std::size_t(w));
        rf->readPixels(dw.min.y + y0, dw.min.y + y1 - 1);
        for (std::size_t i = 0; i < px.size(); ++i) {
          rows[3 * i] = px[i].r;
          rows[3 * i + 1] = px[i].g;
          rows[3 * i + 2] = px[i].b;
        }
        return true;
      }
      // Float slices straight into the band; missing channels read as 0. The slice base is
      // offset so that data-window coordinates index the band.
      char* base = reinterpret_cast<char*>(rows) - std::ptrdiff_t(dw.min.x) * std::ptrdiff_t(xs) -
                   std::ptrdiff_t(dw.min.y + y0) * std::ptrdiff_t(ys);
      Imf::FrameBuffer fb;
      if (rgb) {
        fb.insert("R", Imf::Slice(Imf::FLOAT, base, xs, ys, 1, 1, 0.0));
        fb.insert("G", Imf::Slice(Imf::FLOAT, base + sizeof(float), xs, ys, 1, 1, 0.0));
        fb.insert("B", Imf::Slice(Imf::FLOAT, base + 2 * sizeof(float), xs, ys, 1, 1, 0.0));
      } else {
        fb.insert("Y", Imf::Slice(Imf::FLOAT, base, xs, ys, 1, 1, 0.0));
      }
      file.setFrameBuffer(fb);
      file.readPixels(dw.min.y + y0, dw.min.y + y1 - 1);
      if (y_only)
        for (std::size_t i = 0; i < std::size_t(y1 - y0) * w * 3; i += 3) rows[i + 1] = rows[i + 2] = rows[i];
      return true;
    });
  } catch (const std::exception& e) {
    out->rgb = std::vector<float>();
    return fail(err, path + ": cannot read OpenEXR: " + e.what());
  }
}

// ---- PFM, Radiance, TIFF: OpenImageIO ----

std::string oiio_error(OIIO::ImageInput* in) {
  std::string e = in ? in->geterror() : OIIO::geterror();
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
  std::replace(e.begin(), e.end(), '\n', ' ');
  return e.empty() ? "unknown error" : e;
}

bool read_oiio(const std::string& path, FileKind kind, Image* out, std::string* err, const ReadLimits& lim) {
  const char* plugin = kind == FileKind::Pfm ? "pnm" : kind == FileKind::Radiance ? "hdr" : "tiff";
  const char* what = kind == FileKind::Pfm ? "PFM" : kind == FileKind::Radiance ? "Radiance" : "TIFF";
  try {
    // The plugin is chosen by content (sniff), never by the file name.
    std::unique_ptr<OIIO::ImageInput> in = OIIO::ImageInput::create(plugin);
    if (!in) return fail(err, path + ": cannot read " + what + ": " + oiio_error(nullptr));
    OIIO::ImageSpec spec;
    if (!in->open(path, spec)) return fail(err, path + ": cannot read " + what + ": " + oiio_error(in.get()));
    if (!check_size(path, what, spec.width, spec.height, lim, err)) return false;
    if (spec.depth > 1) return fail(err, path + ": " + what + " volume images (depth " + std::to_string(spec.depth) + ") are not supported");
    const OIIO::TypeDesc::BASETYPE bt = OIIO::TypeDesc::BASETYPE(spec.format.basetype);
    if (bt != OIIO::TypeDesc::FLOAT && bt != OIIO::TypeDesc::HALF && bt != OIIO::TypeDesc::DOUBLE)
      return fail(err, path + ": is a " + std::to_string(spec.format.size() * 8) + "-bit integer " + what +
                           " file (display-referred), not an HDR image; give a float TIFF, OpenEXR, Radiance "
                           ".hdr or PFM file");
    if (spec.nchannels < 1) return fail(err, path + ": " + what + " without channels");
    const int w = spec.width, h = spec.height;
    const std::string comp = spec.get_string_attribute("compression", "none");
    if ((kind == FileKind::Pfm || (kind == FileKind::Tiff && comp == "none")) &&
        !check_raw_bytes(path, what, uint64_t(w) * uint64_t(h) * uint64_t(spec.nchannels) * spec.format.size(), err))
      return false;
    // RGB from the first three channels, grey (with or without alpha) replicated.
    const int nread = spec.nchannels >= 3 ? 3 : 1;
    const bool tiled = spec.tile_width > 0;
    const int band = tiled ? std::max(1, spec.tile_height) * std::max(1, kBandRows / std::max(1, spec.tile_height))
                           : kBandRows;
    const OIIO::stride_t xstride = 3 * sizeof(float), ystride = xstride * w;
    const bool ok = read_bands(path, w, h, band, out, err, [&](int y0, int y1, float* rows) {
      const bool r = tiled ? in->read_tiles(0, 0, spec.x, spec.x + w, spec.y + y0, spec.y + y1, spec.z, spec.z + 1, 0,
                                            nread, OIIO::TypeDesc::FLOAT, rows, xstride, ystride)
                           : in->read_scanlines(0, 0, spec.y + y0, spec.y + y1, spec.z, 0, nread,
                                                OIIO::TypeDesc::FLOAT, rows, xstride, ystride);
      if (!r)
        return fail(err, path + ": cannot read " + what + " rows " + std::to_string(y0) + "-" + std::to_string(y1 - 1) +
                             ": " + oiio_error(in.get()));
      if (nread == 1)
        for (std::size_t i = 0; i < std::size_t(y1 - y0) * w * 3; i += 3) rows[i + 1] = rows[i + 2] = rows[i];
      return true;
    });
    if (!ok) return false;
    in->close();
    return true;
  } catch (const std::exception& e) {
    out->rgb = std::vector<float>();
    return fail(err, path + ": cannot read " + what + ": " + e.what());
  }
}

}  // namespace

FileKind sniff(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return errno == ENOENT || errno == ENOTDIR ? FileKind::Missing : FileKind::Unreadable;
  if (S_ISDIR(st.st_mode)) return FileKind::Directory;
  if (!S_ISREG(st.st_mode)) return FileKind::NotRegular;
  if (st.st_size == 0) return FileKind::Empty;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return FileKind::Unreadable;
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

bool read_hdr(const std::string& path, Image* out, std::string* err, const ReadLimits& lim) {
  static const char* const kGive = "give an OpenEXR (.exr), Radiance (.hdr), PFM (.pfm) or float TIFF file, or scene:NAME";
  const FileKind kind = sniff(path);
  switch (kind) {
    case FileKind::Missing:
      return fail(err, path + ": no such file");
    case FileKind::Unreadable:
      return fail(err, path + ": cannot open: " + std::strerror(errno));
    case FileKind::Directory:
      return fail(err, path + ": is a directory, not an image file");
    case FileKind::NotRegular:
      return fail(err, path + ": is not a regular file");
    case FileKind::Empty:
      return fail(err, path + ": is empty (0 bytes)");
    case FileKind::Exr:
      return read_exr(path, out, err, lim);
    case FileKind::Pfm:
    case FileKind::Radiance:
    case FileKind::Tiff:
      return read_oiio(path, kind, out, err, lim);
    case FileKind::Png:
      return fail(err, path + ": is a PNG file, not an HDR image; " + kGive);
    case FileKind::Jpeg:
      return fail(err, path + ": is a JPEG file, not an HDR image; " + kGive);
    case FileKind::Unknown:
      break;
  }
  return fail(err, path + ": unknown file type; " + kGive);
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
