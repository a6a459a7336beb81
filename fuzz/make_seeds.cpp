// dtutmo fuzzing -- writes the seed corpora of fuzz/corpus/ (committed; run this again
// only to change them): `fuzz-make-seeds fuzz/corpus`.
//   image/  small OpenEXR (scanline and tiled, every common compression, half/float,
//           luminance-only, luminance/chroma, a data window off the origin, two parts),
//           PFM (RGB and grey, both byte orders), Radiance (run-length and flat) and TIFF
//           (float, half, tiled, LZW, grey, 16-bit integer) files
//   caps/   text inputs of fuzz-caps (see fuzz_caps.cpp): every input format, tagged,
//           untagged and garbled colorimetry, HDR metadata, chroma sites, downstream caps
//   frame/  binary inputs of fuzz-frame (see fuzz_frame.cpp): every format and target,
//           with and without a padded GstVideoMeta
#include <ImfChannelList.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfMultiPartOutputFile.h>
#include <ImfOutputFile.h>
#include <ImfOutputPart.h>
#include <ImfPartType.h>
#include <ImfRgbaFile.h>
#include <ImfTiledOutputFile.h>
#include <ImathBox.h>
#include <OpenImageIO/imageio.h>

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "hdr_io.h"

using dtutmo::image::Image;

namespace {

Image picture(int w, int h) {
  Image im;
  im.width = w;
  im.height = h;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float v = 0.01f * float(1 << ((x + y) % 12));  // 0.01 .. 20, a decade or three
      im.rgb.insert(im.rgb.end(), {v, v * 0.5f, x == 0 ? 100.0f : v * 0.25f});
    }
  return im;
}

void put(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

bool oiio_write(const std::string& path, const char* format, const Image& im, OIIO::TypeDesc t, const char* comp,
                int tile, int channels = 3) {
  auto out = OIIO::ImageOutput::create(format);
  OIIO::ImageSpec spec(im.width, im.height, channels, t);
  if (comp) spec.attribute("compression", comp);
  if (tile) spec.tile_width = spec.tile_height = tile;
  if (!out || !out->open(path, spec)) return false;
  std::vector<float> px;
  for (size_t i = 0; i < im.rgb.size(); i += 3)
    for (int c = 0; c < channels; ++c) px.push_back(im.rgb[i + size_t(c)]);
  const bool ok = out->write_image(OIIO::TypeDesc::FLOAT, px.data());
  out->close();
  return ok;
}

void image_seeds(const std::string& dir) {
  const Image im = picture(8, 6);
  std::string err;
  const struct {
    const char* name;
    int comp;
    bool half;
  } exrs[] = {{"none-half", 0, true}, {"none-float", 0, false}, {"rle", 1, true}, {"zips", 2, true},
              {"zip-float", 3, false}, {"piz", 4, true},         {"pxr24", 5, false}, {"b44", 6, true},
              {"b44a", 7, true},       {"dwaa", 8, true},         {"dwab", 9, false}};
  for (const auto& e : exrs) dtutmo::image::write_exr(dir + "/exr-" + e.name + ".exr", im, e.comp, e.half, &err);
  // Tiled, luminance only with a data window off the origin, luminance/chroma, two parts.
  {
    Imf::Header hdr(im.width, im.height);
    hdr.setTileDescription(Imf::TileDescription(4, 4, Imf::ONE_LEVEL));
    hdr.compression() = Imf::ZIP_COMPRESSION;
    for (const char* c : {"R", "G", "B"}) hdr.channels().insert(c, Imf::Channel(Imf::HALF));
    Imf::TiledOutputFile f((dir + "/exr-tiled.exr").c_str(), hdr);
    std::vector<half> buf(im.rgb.begin(), im.rgb.end());
    Imf::FrameBuffer fb;
    for (int c = 0; c < 3; ++c)
      fb.insert(c == 0 ? "R" : c == 1 ? "G" : "B",
                Imf::Slice(Imf::HALF, reinterpret_cast<char*>(buf.data() + c), 6, 6 * size_t(im.width)));
    f.setFrameBuffer(fb);
    f.writeTiles(0, f.numXTiles() - 1, 0, f.numYTiles() - 1);
  }
  {
    const Imath::Box2i disp(Imath::V2i(0, 0), Imath::V2i(31, 31)), data(Imath::V2i(5, 7), Imath::V2i(12, 12));
    Imf::Header hdr(disp, data);
    hdr.channels().insert("Y", Imf::Channel(Imf::FLOAT));
    std::vector<float> y(48);
    for (size_t i = 0; i < y.size(); ++i) y[i] = float(i) * 0.5f;
    Imf::OutputFile f((dir + "/exr-y-window.exr").c_str(), hdr);
    Imf::FrameBuffer fb;
    fb.insert("Y", Imf::Slice(Imf::FLOAT, reinterpret_cast<char*>(y.data() - 5 - 7 * 8), 4, 32));
    f.setFrameBuffer(fb);
    f.writePixels(6);
  }
  {
    std::vector<Imf::Rgba> px;
    for (size_t i = 0; i < im.rgb.size(); i += 3) px.push_back(Imf::Rgba(im.rgb[i], im.rgb[i + 1], im.rgb[i + 2], 1.0f));
    Imf::RgbaOutputFile f((dir + "/exr-yc.exr").c_str(), im.width, im.height, Imf::WRITE_YC);
    f.setFrameBuffer(px.data(), 1, size_t(im.width));
    f.writePixels(im.height);
  }
  {
    std::vector<Imf::Header> parts(2, Imf::Header(4, 4));
    for (int p = 0; p < 2; ++p) {
      parts[p].setName(p ? "second" : "first");
      parts[p].setType(Imf::SCANLINEIMAGE);
      parts[p].channels().insert("R", Imf::Channel(Imf::HALF));
    }
    Imf::MultiPartOutputFile f((dir + "/exr-two-parts.exr").c_str(), parts.data(), 2);
    std::vector<half> r(16, half(0.5f));
    for (int p = 0; p < 2; ++p) {
      Imf::OutputPart part(f, p);
      Imf::FrameBuffer fb;
      fb.insert("R", Imf::Slice(Imf::HALF, reinterpret_cast<char*>(r.data()), 2, 8));
      part.setFrameBuffer(fb);
      part.writePixels(4);
    }
  }
  // PFM.
  dtutmo::image::write_pfm(dir + "/pfm-rgb-le.pfm", im, true, &err);
  dtutmo::image::write_pfm(dir + "/pfm-rgb-be.pfm", picture(3, 2), false, &err);
  {
    std::string s = "Pf\n3 2\n-1.0\n";
    for (int i = 0; i < 6; ++i) {
      const float v = 0.25f * float(i);
      s.append(reinterpret_cast<const char*>(&v), 4);  // little-endian hosts (x86-64)
    }
    put(dir + "/pfm-grey.pfm", s);
  }
  // The headers of issue 11 whose width x height overflowed the old PFM parser.
  const std::string zeros(256, '\0');
  put(dir + "/pfm-overflow-1", "PF\n4294967296 4294967296\n-1.0\n" + zeros);
  put(dir + "/pfm-overflow-2", "PF\n6148914691236517206 3\n-1.0\n" + zeros);
  put(dir + "/pfm-overflow-3", "Pf\n4611686018427387904 4\n-1.0\n" + zeros);
  // Radiance: run-length scanlines (width >= 8) and flat ones (narrower).
  oiio_write(dir + "/radiance-rle.hdr", "hdr", picture(12, 3), OIIO::TypeDesc::FLOAT, nullptr, 0);
  oiio_write(dir + "/radiance-flat.hdr", "hdr", picture(5, 3), OIIO::TypeDesc::FLOAT, nullptr, 0);
  // TIFF.
  oiio_write(dir + "/tiff-float.tif", "tiff", im, OIIO::TypeDesc::FLOAT, "none", 0);
  oiio_write(dir + "/tiff-half-zip.tif", "tiff", im, OIIO::TypeDesc::HALF, "zip", 0);
  oiio_write(dir + "/tiff-tiled-lzw.tif", "tiff", picture(20, 12), OIIO::TypeDesc::FLOAT, "lzw", 16);
  oiio_write(dir + "/tiff-grey.tif", "tiff", im, OIIO::TypeDesc::FLOAT, "none", 0, 1);
  oiio_write(dir + "/tiff-uint16.tif", "tiff", im, OIIO::TypeDesc::UINT16, "none", 0);
}

void caps_seeds(const std::string& dir) {
  const char* formats[] = {"P010_10LE", "P012_LE", "P016_LE", "I420_10LE", "I420_12LE", "Y444_16LE", "RGBA64_LE",
                           "RGB10A2_LE", "BGR10A2_LE", "I420", "NV12", "RGBA", "BGRx"};
  const char* colorimetries[] = {"bt2100-pq", "bt2100-hlg", "bt709", "1:1:14:7", "1:1:1:7", "sRGB", "", "bogus",
                                 "1:1:99:7", "2:4:0:7", "1:1:10:1", "bt601", "bt2020"};
  int n = 0;
  for (const char* f : formats) {
    const char* c = colorimetries[n % (sizeof colorimetries / sizeof colorimetries[0])];
    const char* target = n % 3 == 0 ? "sdr" : n % 3 == 1 ? "pq" : "hlg";
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s\n%s\n%d\n%d\n%s\n35400:14600:8500:39850:6550:2300:15635:16450:10000000:50\n1000:400\n%s\n"
                  "30/1\n\n\x10\x80\x40\xff",
                  target, f, 16 + n, 9 + n % 4, c, n % 2 ? "mpeg2" : "jpeg");
    put(dir + "/caps-" + std::to_string(n) + "-" + f, buf);
    ++n;
  }
  // Downstream restrictions, a target downstream cannot take, odd field types.
  put(dir + "/caps-down-rgba-pq", "pq\nP010_10LE\n32\n16\nbt2100-pq\n\n\n\n30/1\nvideo/x-raw,format=RGBA\n");
  put(dir + "/caps-down-full-range", "sdr\nP010_10LE\n32\n16\nbt2100-pq\n\n\n\n25/1\nvideo/x-raw,colorimetry=1:3:5:1\n");
  put(dir + "/caps-types", "pq\nRGBA64_LE\n=(string)16\n8\n=(int)7\n=(int)3\n=(fraction)4/3\n\n=0/1\n\n");
  put(dir + "/caps-untagged-big", "sdr\nI420_10LE\n1920\n1080\n\n\n\n\n60000/1001\n\n");
}

void frame_seeds(const std::string& dir) {
  for (int f = 0; f < 13; ++f)
    for (int meta = 0; meta < 2; ++meta) {
      std::string s(24, '\0');
      s[0] = char(f);
      s[1] = char((f + meta) % 3);
      s[2] = char(7 + 8 * meta);  // widths 8 and 16
      s[3] = char(5 + f % 3);
      s[4] = char(meta ? 1 | 2 : 2);
      if (meta)
        for (int p = 0; p < 4; ++p) {
          s[5 + 2 * p] = 16;   // 16 bytes of padding a row
          s[13 + 2 * p] = char(32 * p);  // planes moved apart
        }
      s[21] = char(64);
      s[23] = char(f % 8);
      for (int i = 0; i < 64; ++i) s += char((i * 37 + f * 11) & 0xff);
      put(dir + "/frame-" + std::to_string(f) + (meta ? "-meta" : ""), s);
    }
  // Float-ish sample patterns: 0x7fc0 (NaN half), 0x7c00 (Inf half), 0xffff.
  std::string s(24, '\0');
  s[0] = 6;  // RGBA64_LE
  s[2] = s[3] = 3;
  s[4] = 2 | 4;
  s += std::string("\xc0\x7f\x00\x7c\xff\xff\x00\x00", 8);
  put(dir + "/frame-rgba64-specials", s);
  // The block model (flags 32; the width byte's bit 6: quarter; downstream I420 64 or NV12
  // 128): each 4:2:0 input format (P010, P012, P016, I420_10LE, I420_12LE) to SDR, odd and
  // even sizes, with and without a padded meta, on 2x2 and 4x4 blocks.
  for (int f = 0; f < 5; ++f) {
    std::string h(24, '\0');
    h[0] = char(f);
    h[1] = 0;  // sdr
    h[2] = char(f % 2 ? 32 : 20);  // widths 33 and 21
    h[3] = char(8 + f);
    h[4] = char(32 | (f % 2 ? 128 : 64) | (f == 2 ? 1 : 0) | 2);
    if (f == 2)
      for (int p = 0; p < 4; ++p) h[5 + 2 * p] = 16;
    h[23] = 0;  // bt2100-pq
    for (int i = 0; i < 96; ++i) h += char((i * 53 + f * 29) & 0xff);
    put(dir + "/frame-half-" + std::to_string(f), h);
    h[2] = char(h[2] | 64);  // the same on 4x4 blocks (model-resolution=quarter)
    put(dir + "/frame-quarter-" + std::to_string(f), h);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz-make-seeds CORPUS_DIR\n");
    return 2;
  }
  const std::string root = argv[1];
  for (const char* d : {"", "/image", "/caps", "/frame"}) mkdir((root + d).c_str(), 0777);
  image_seeds(root + "/image");
  caps_seeds(root + "/caps");
  frame_seeds(root + "/frame");
  return 0;
}
