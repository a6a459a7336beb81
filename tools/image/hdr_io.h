// dtutmo-image -- still-image I/O: HDR stills in (linear RGB float, top row first), PNG
// out (8 or 16 bits, sRGB-tagged), plus the writers the tests and the fuzz seeds need.
//
// Readers: OpenEXR through the OpenEXR library (it also reads luminance/chroma files,
// which OpenImageIO refuses); PFM, Radiance .hdr and float TIFF through OpenImageIO. The
// kind is taken from the file's first bytes, never from its name.
//
// Hostile files: every reader checks the declared size against ReadLimits and against the
// file's size BEFORE allocating anything per pixel, and decodes the image in bands of
// rows, the last band first: a small file that declares a huge image fails on its missing
// last band, before the image is allocated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dtutmo {
namespace image {

// Linear RGB, 3 floats a pixel, rows top to bottom, no padding.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<float> rgb;
};

// What a reader is allowed to allocate for one file.
struct ReadLimits {
  // width x height above this is refused before anything is read (2^27 = 134 Mpixel, a
  // 1.5 GiB float RGB image).
  uint64_t max_pixels = uint64_t(1) << 27;
  // Either side above this is refused (OpenEXR also sizes its offset tables by it).
  int max_side = 1 << 16;
};

enum class FileKind {
  Missing, Unreadable, Directory, NotRegular, Empty,  // not an image at all
  Exr, Pfm, Radiance, Tiff,                           // HDR stills that are read
  Png, Jpeg, Unknown                                  // refused with a clear message
};

// What a file is, from stat() and its first bytes (not its name).
FileKind sniff(const std::string& path);

// Any supported HDR file (OpenEXR, PFM, Radiance, float TIFF), by content. Values are
// linear light as stored (relative; Radiance EXPOSURE and TIFF stonits are not applied).
// Errors name the file and say what is wrong: missing, a directory, empty, not HDR
// (PNG, JPEG, integer TIFF), larger than `lim`, truncated, corrupt.
//   OpenEXR: the R, G, B (or Y, or RY/BY luminance/chroma) channels of the first part,
//   any compression, half/float/uint, scanline or tiled (level 0); the data window.
//   PFM: "PF" (RGB) or "Pf" (grey), both byte orders; top row first.
//   Radiance RGBE (flat or run-length encoded), "-Y H +X W" and other orientations.
//   TIFF: 16/32-bit float samples (or LogLuv), 1-4 channels; grey is replicated, alpha
//   ignored.
bool read_hdr(const std::string& path, Image* out, std::string* err, const ReadLimits& lim = ReadLimits());

// Writers for tests, fuzz seeds and tooling. `half`: HALF channels, else FLOAT.
// `compression` is an Imf::Compression value (0 = none, 3 = ZIP, 8 = DWAA, 9 = DWAB, ...).
bool write_exr(const std::string& path, const Image& im, int compression, bool half, std::string* err);
bool write_pfm(const std::string& path, const Image& im, bool little_endian, std::string* err);

// PNG, RGB, `bits` 8 or 16, codes row-major top row first (values < 2^bits), tagged sRGB.
bool write_png(const std::string& path, int width, int height, int bits, const std::vector<uint16_t>& codes,
               std::string* err);
// Raw codes back (no gamma handling), for tests. RGB or RGBA PNGs; alpha dropped.
bool read_png(const std::string& path, int* width, int* height, int* bits, std::vector<uint16_t>* codes,
              std::string* err);

}  // namespace image
}  // namespace dtutmo
