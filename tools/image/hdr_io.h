// dtutmo-image -- still-image I/O: OpenEXR and PFM in (linear RGB float, top row first),
// PNG out (8 or 16 bits, sRGB-tagged), plus the writers and readers the tests need.
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

enum class FileKind { Missing, Unreadable, Exr, Pfm, Png, Jpeg, Tiff, Radiance, Unknown };

// What a file is, from its first bytes (not its name).
FileKind sniff(const std::string& path);

// OpenEXR: RGB (or Y, or luminance/chroma RY/BY) channels of the first part, any
// compression, half/float/uint; the data window, top row first. Alpha is ignored.
bool read_exr(const std::string& path, Image* out, std::string* err);
// PFM: "PF" (RGB) or "Pf" (grey), both byte orders (negative scale = little-endian); the
// file stores the bottom row first and this returns the top row first. The magnitude of
// the scale field is ignored (values are taken as relative linear light).
bool read_pfm(const std::string& path, Image* out, std::string* err);
// Any supported HDR file, by content; clear messages for missing, unreadable and
// non-HDR (PNG, JPEG, TIFF, ...) files.
bool read_hdr(const std::string& path, Image* out, std::string* err);

// Writers for tests and tooling. `half`: HALF channels, else FLOAT. `compression` is an
// Imf::Compression value (0 = none, 3 = ZIP, 8 = DWAA, 9 = DWAB, ...).
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
