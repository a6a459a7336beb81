// The still-image tool: EXR / PFM / Radiance / TIFF reading (right way up), hostile files,
// PNG writing, and the dtutmo-image binary end to end (its path comes in DTUTMO_IMAGE from
// meson). Radiance and TIFF test files are written byte by byte here, not by the library
// that reads them.
#include <gtest/gtest.h>

#include <ImfChannelList.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfOutputFile.h>
#include <ImathBox.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dtutmo/engine.h"
#include "dtutmo/params.h"
#include "hdr_io.h"

using namespace dtutmo::image;

namespace {

std::string tmpdir() {
  static std::string dir;
  if (dir.empty()) {
    char tmpl[] = "/tmp/dtutmo-io-test-XXXXXX";
    const char* d = mkdtemp(tmpl);
    dir = d ? d : "/tmp";
  }
  return dir;
}

// An asymmetric test picture: dim grey-blue gradient, a bright (4.0) white marker in the
// top-left 1/4 x 1/4, a red block in the bottom-right corner.
Image marker_image(int w, int h) {
  Image im;
  im.width = w;
  im.height = h;
  im.rgb.resize(static_cast<std::size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float* p = &im.rgb[(static_cast<std::size_t>(y) * w + x) * 3];
      const float g = 0.05f + 0.1f * x / w;
      p[0] = g;
      p[1] = g;
      p[2] = g * 1.5f;
      if (x < w / 4 && y < h / 4) p[0] = p[1] = p[2] = 4.0f;
      if (x >= w - w / 4 && y >= h - h / 4) {
        p[0] = 0.5f;
        p[1] = 0.01f;
        p[2] = 0.01f;
      }
    }
  return im;
}

const float* px(const Image& im, int x, int y) { return &im.rgb[(static_cast<std::size_t>(y) * im.width + x) * 3]; }

struct ToolRun {
  int status;
  std::string out;
};
ToolRun run_tool(const std::string& args) {
  const char* exe = std::getenv("DTUTMO_IMAGE");
  if (!exe) return {-1, "DTUTMO_IMAGE not set"};
  const std::string cmd = std::string(exe) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}
bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}
long long file_bytes(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
}
void write_file(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}
// Peak resident set of this process so far, MiB.
double peak_rss_mib() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

// Radiance RGBE of a linear value triple (Greg Ward's encoding: shared exponent, 8-bit
// mantissas).
void rgbe(const float* v, unsigned char* out) {
  const float m = std::max(v[0], std::max(v[1], v[2]));
  if (m < 1e-32f) {
    out[0] = out[1] = out[2] = out[3] = 0;
    return;
  }
  int e;
  const float f = std::frexp(m, &e) * 256.0f / m;
  for (int c = 0; c < 3; ++c) out[c] = static_cast<unsigned char>(v[c] * f);
  out[3] = static_cast<unsigned char>(e + 128);
}
// A Radiance file of `im`, top row first ("-Y H +X W"): flat RGBE pixels, or new-style
// run-length scanlines (each component as literal runs of up to 128 bytes).
std::string radiance_bytes(const Image& im, bool rle) {
  std::string s = "#?RADIANCE\n# written by test_image.cpp\nFORMAT=32-bit_rle_rgbe\n\n-Y " +
                  std::to_string(im.height) + " +X " + std::to_string(im.width) + "\n";
  std::vector<unsigned char> row(static_cast<std::size_t>(im.width) * 4);
  for (int y = 0; y < im.height; ++y) {
    for (int x = 0; x < im.width; ++x) rgbe(px(im, x, y), &row[static_cast<std::size_t>(x) * 4]);
    if (!rle) {
      s.append(reinterpret_cast<const char*>(row.data()), row.size());
      continue;
    }
    s += {2, 2, static_cast<char>(im.width >> 8), static_cast<char>(im.width & 255)};
    for (int c = 0; c < 4; ++c)
      for (int x0 = 0; x0 < im.width; x0 += 128) {
        const int n = std::min(128, im.width - x0);
        s += static_cast<char>(n);
        for (int x = x0; x < x0 + n; ++x) s += static_cast<char>(row[static_cast<std::size_t>(x) * 4 + c]);
      }
  }
  return s;
}

// A little-endian baseline TIFF, one uncompressed strip: `spp` samples a pixel (1 grey or
// 3 RGB), 32-bit IEEE float, or 16-bit unsigned integer when `int16`. `declared_h` lets a
// test declare more rows than it stores.
std::string tiff_bytes(const Image& im, int spp, bool int16 = false, int declared_h = 0) {
  const int h = declared_h ? declared_h : im.height;
  const int bps = int16 ? 16 : 32;
  std::string s;
  auto u16 = [&](unsigned v) { s += {static_cast<char>(v & 255), static_cast<char>(v >> 8)}; };
  auto u32 = [&](uint32_t v) { u16(v & 0xffff); u16(v >> 16); };
  const int n_entries = 11;
  const uint32_t ifd = 8, extra = ifd + 2 + 12 * n_entries + 4;  // BitsPerSample[3], SampleFormat[3]
  const uint32_t data = extra + 12;
  const uint32_t strip_bytes = static_cast<uint32_t>(im.width) * h * spp * (bps / 8);
  s += "II";
  u16(42);
  u32(ifd);
  u16(n_entries);
  auto entry = [&](unsigned tag, unsigned type, uint32_t count, uint32_t value) {
    u16(tag);
    u16(type);
    u32(count);
    if (type == 3 && count == 1) {  // SHORT, left-justified in the value field
      u16(value);
      u16(0);
    } else {
      u32(value);
    }
  };
  entry(256, 4, 1, static_cast<uint32_t>(im.width));             // ImageWidth
  entry(257, 4, 1, static_cast<uint32_t>(h));                    // ImageLength
  entry(258, 3, spp, spp == 1 ? static_cast<uint32_t>(bps) : extra);  // BitsPerSample
  entry(259, 3, 1, 1);                                           // Compression: none
  entry(262, 3, 1, spp == 1 ? 1 : 2);                            // BlackIsZero / RGB
  entry(273, 4, 1, data);                                        // StripOffsets
  entry(277, 3, 1, static_cast<uint32_t>(spp));                  // SamplesPerPixel
  entry(278, 4, 1, static_cast<uint32_t>(h));                    // RowsPerStrip
  entry(279, 4, 1, strip_bytes);                                 // StripByteCounts
  entry(284, 3, 1, 1);                                           // PlanarConfiguration: chunky
  entry(339, 3, spp, spp == 1 ? (int16 ? 1u : 3u) : extra + 6);  // SampleFormat: uint / IEEE float
  u32(0);                                                        // no next IFD
  for (int i = 0; i < 3; ++i) u16(static_cast<unsigned>(bps));
  for (int i = 0; i < 3; ++i) u16(int16 ? 1 : 3);
  for (int y = 0; y < im.height; ++y)
    for (int x = 0; x < im.width; ++x)
      for (int c = 0; c < spp; ++c) {
        const float v = px(im, x, y)[c];
        if (int16) {
          u16(static_cast<unsigned>(std::min(65535.0f, v * 1000.0f)));
        } else {
          uint32_t u;
          std::memcpy(&u, &v, 4);
          u32(u);
        }
      }
  return s;
}

// A scanline OpenEXR that declares `w` x `h` but stores only its first `rows` rows: what
// OpenEXR's writer leaves when it is stopped early (the offset table has zeros for the
// missing chunks). Compression 0 (none) or 3 (ZIP).
void write_partial_exr(const std::string& path, int w, int h, int rows, int compression) {
  Imf::Header hdr(w, h);
  hdr.compression() = static_cast<Imf::Compression>(compression);
  for (const char* c : {"R", "G", "B"}) hdr.channels().insert(c, Imf::Channel(Imf::HALF));
  std::vector<uint16_t> row(static_cast<std::size_t>(w) * 3, 0x3c00);  // half 1.0
  Imf::OutputFile f(path.c_str(), hdr);
  Imf::FrameBuffer fb;
  for (int c = 0; c < 3; ++c)  // y stride 0: every row reads the same buffer
    fb.insert(c == 0 ? "R" : c == 1 ? "G" : "B",
              Imf::Slice(Imf::HALF, reinterpret_cast<char*>(row.data() + c), 6, 0));
  f.setFrameBuffer(fb);
  f.writePixels(rows);
}

}  // namespace

// Every compression the library offers, half and float channels; lossless ones exactly
// (half: to half precision), the lossy DWA ones close; top-left marker where it belongs.
TEST(ImageIo, ExrRoundTripAllCompressions) {
  const Image im = marker_image(67, 141);  // taller than a band of rows (64) and a DWAB chunk
  const int comps[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};  // NONE RLE ZIPS ZIP PIZ PXR24 B44 B44A DWAA DWAB
  for (int c : comps)
    for (bool half : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "compression " << c << (half ? " half" : " float"));
      const std::string path = tmpdir() + "/rt.exr";
      std::string err;
      ASSERT_TRUE(write_exr(path, im, c, half, &err)) << err;
      EXPECT_EQ(sniff(path), FileKind::Exr);
      Image back;
      ASSERT_TRUE(read_hdr(path, &back, &err)) << err;
      ASSERT_EQ(back.width, im.width);
      ASSERT_EQ(back.height, im.height);
      const bool lossy = c >= 5;  // PXR24 (float), B44, DWA
      const float rel = lossy ? 0.05f : (half ? 1e-3f : 0.0f);
      for (std::size_t i = 0; i < im.rgb.size(); ++i)
        ASSERT_NEAR(back.rgb[i], im.rgb[i], rel * std::fabs(im.rgb[i]) + (lossy ? 0.01f : 0.0f)) << i;
      EXPECT_NEAR(px(back, 0, 0)[1], 4.0f, 0.05f);
      EXPECT_LT(px(back, im.width - 1, im.height - 1)[1], 0.05f);
    }
}

// A data window that does not start at (0, 0) and a luminance-only (Y) file.
TEST(ImageIo, ExrDataWindowAndLuminance) {
  const std::string path = tmpdir() + "/dw.exr";
  const int w = 5, h = 3;
  Imf::Header hdr(Imath::Box2i(Imath::V2i(0, 0), Imath::V2i(99, 99)), Imath::Box2i(Imath::V2i(10, 20), Imath::V2i(10 + w - 1, 20 + h - 1)));
  hdr.channels().insert("Y", Imf::Channel(Imf::FLOAT));
  std::vector<float> y(w * h);
  for (int i = 0; i < w * h; ++i) y[i] = static_cast<float>(i);
  {
    Imf::OutputFile f(path.c_str(), hdr);
    Imf::FrameBuffer fb;
    fb.insert("Y", Imf::Slice(Imf::FLOAT, reinterpret_cast<char*>(y.data() - 10 - 20 * w), sizeof(float), sizeof(float) * w));
    f.setFrameBuffer(fb);
    f.writePixels(h);
  }
  Image back;
  std::string err;
  ASSERT_TRUE(read_hdr(path, &back, &err)) << err;
  ASSERT_EQ(back.width, w);
  ASSERT_EQ(back.height, h);
  for (int i = 0; i < w * h; ++i) {
    EXPECT_EQ(back.rgb[3 * i], static_cast<float>(i));
    EXPECT_EQ(back.rgb[3 * i + 2], static_cast<float>(i));
  }
}

// PFM written by hand (not by our writer): the file's first row is the BOTTOM row.
TEST(ImageIo, PfmHandWrittenBothByteOrders) {
  for (bool le : {true, false}) {
    const std::string path = tmpdir() + (le ? "/le.pfm" : "/be.pfm");
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fprintf(f, "PF\n2 2\n%s\n", le ? "-1.000000" : "1.000000");
    // bottom row: (1,2,3) (4,5,6); top row: (7,8,9) (10,11,12)
    for (int i = 1; i <= 12; ++i) {
      const float v = static_cast<float>(i);
      unsigned char b[4];
      uint32_t u;
      std::memcpy(&u, &v, 4);
      for (int k = 0; k < 4; ++k) b[le ? k : 3 - k] = static_cast<unsigned char>(u >> (8 * k));
      std::fwrite(b, 1, 4, f);
    }
    std::fclose(f);
    Image im;
    std::string err;
    ASSERT_TRUE(read_hdr(path, &im, &err)) << err;
    ASSERT_EQ(im.width, 2);
    ASSERT_EQ(im.height, 2);
    const float expect[12] = {7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6};
    for (int i = 0; i < 12; ++i) EXPECT_EQ(im.rgb[i], expect[i]) << (le ? "LE " : "BE ") << i;
  }
  // Greyscale "Pf", 3x1, big-endian.
  const std::string path = tmpdir() + "/grey.pfm";
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fprintf(f, "Pf 3 1 1.0\n");
  for (float v : {0.25f, 0.5f, 2.0f}) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    const unsigned char b[4] = {static_cast<unsigned char>(u >> 24), static_cast<unsigned char>(u >> 16),
                                static_cast<unsigned char>(u >> 8), static_cast<unsigned char>(u)};
    std::fwrite(b, 1, 4, f);
  }
  std::fclose(f);
  Image im;
  std::string err;
  ASSERT_TRUE(read_hdr(path, &im, &err)) << err;
  EXPECT_EQ(im.rgb[3], 0.5f);
  EXPECT_EQ(im.rgb[5], 0.5f);
  EXPECT_EQ(im.rgb[8], 2.0f);
}

TEST(ImageIo, PfmWriterRoundTrip) {
  const Image im = marker_image(9, 150);  // three bands of rows
  for (bool le : {true, false}) {
    const std::string path = tmpdir() + "/rt.pfm";
    std::string err;
    ASSERT_TRUE(write_pfm(path, im, le, &err)) << err;
    Image back;
    ASSERT_TRUE(read_hdr(path, &back, &err)) << err;
    EXPECT_EQ(back.rgb, im.rgb);
  }
}

TEST(ImageIo, BadFilesGiveClearErrors) {
  std::string err;
  Image im;
  EXPECT_FALSE(read_hdr(tmpdir() + "/does-not-exist.exr", &im, &err));
  EXPECT_NE(err.find("no such file"), std::string::npos) << err;
  // Truncated PFM.
  const std::string tr = tmpdir() + "/trunc.pfm";
  FILE* f = std::fopen(tr.c_str(), "wb");
  std::fprintf(f, "PF\n100 100\n-1.0\n");
  std::fwrite("abcd", 1, 4, f);
  std::fclose(f);
  EXPECT_FALSE(read_hdr(tr, &im, &err));
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
  // A PNG is not HDR.
  const std::string png = tmpdir() + "/not-hdr.png";
  ASSERT_TRUE(write_png(png, 2, 2, 8, std::vector<uint16_t>(12, 100), &err)) << err;
  EXPECT_EQ(sniff(png), FileKind::Png);
  EXPECT_FALSE(read_hdr(png, &im, &err));
  EXPECT_NE(err.find("not an HDR image"), std::string::npos) << err;
  // Garbage.
  const std::string junk = tmpdir() + "/junk.exr";
  f = std::fopen(junk.c_str(), "wb");
  std::fprintf(f, "hello");
  std::fclose(f);
  EXPECT_FALSE(read_hdr(junk, &im, &err));
  // Corrupt EXR: magic, then nothing useful.
  const std::string bad = tmpdir() + "/bad.exr";
  f = std::fopen(bad.c_str(), "wb");
  std::fwrite("\x76\x2f\x31\x01\x02\x00\x00\x00garbage", 1, 15, f);
  std::fclose(f);
  EXPECT_FALSE(read_hdr(bad, &im, &err));
  EXPECT_NE(err.find("OpenEXR"), std::string::npos) << err;
}

// Issue 11, defect 1: PFM headers whose width x height overflows (signed product, int
// truncation) crashed the reader. Each is refused with a message naming the size.
TEST(ImageIo, PfmOverflowingHeadersAreRefused) {
  const std::string zeros(4096, '\0');
  const char* headers[] = {"PF\n4294967296 4294967296\n-1.0\n", "PF\n6148914691236517206 3\n-1.0\n",
                           "Pf\n4611686018427387904 4\n-1.0\n", "PF\n65536 65536\n-1.0\n",
                           "PF\n-3 2\n-1.0\n", "PF\n3 0\n-1.0\n", "Pf\n1000 1000\n1.0\n"};
  for (const char* hdr : headers) {
    SCOPED_TRACE(hdr);
    const std::string path = tmpdir() + "/overflow.pfm";
    write_file(path, hdr + zeros);
    Image im;
    std::string err;
    EXPECT_FALSE(read_hdr(path, &im, &err));
    EXPECT_FALSE(err.empty());
    EXPECT_NE(err.find("overflow.pfm"), std::string::npos) << err;
  }
  // The last one (1000x1000 grey with 4 KiB of samples) says what is missing.
  Image im;
  std::string err;
  EXPECT_FALSE(read_hdr(tmpdir() + "/overflow.pfm", &im, &err));
  EXPECT_NE(err.find("4000000 bytes"), std::string::npos) << err;
}

// Issue 11, defect 2: a 328 KB EXR that declares 16384x16384 drove RSS to 3 GB before
// failing. The declared size is checked against the file (uncompressed) and the last band
// is decoded before the image is allocated (compressed), so it fails with little memory
// either way. The pixel
// limit is raised here so that those checks, not the limit, are what refuse the file.
TEST(ImageIo, ExrDeclaringAHugeImageFailsWithoutAllocatingIt) {
  ReadLimits lim;
  lim.max_pixels = uint64_t(1) << 30;
  for (int comp : {0, 3}) {
    SCOPED_TRACE(comp == 0 ? "uncompressed" : "zip");
    const std::string path = tmpdir() + "/huge.exr";
    write_partial_exr(path, 16384, 16384, comp == 0 ? 2 : 48, comp);
    EXPECT_LT(file_bytes(path), 400 * 1024);
    const double before = peak_rss_mib();
    Image im;
    std::string err;
    EXPECT_FALSE(read_hdr(path, &im, &err, lim));
    // The declared image is 3 GiB of float RGB; the reader fails on the file's missing
    // last band, before allocating it.
    EXPECT_LT(peak_rss_mib() - before, 200.0) << "the reader allocated the declared image";
    EXPECT_NE(err.find("huge.exr"), std::string::npos) << err;
    if (comp == 0) {
      EXPECT_NE(err.find("truncated"), std::string::npos) << err;
    }
  }
  // With the default limit the size alone refuses it, naming the option that raises it.
  Image im;
  std::string err;
  EXPECT_FALSE(read_hdr(tmpdir() + "/huge.exr", &im, &err));
  EXPECT_NE(err.find("--max-pixels"), std::string::npos) << err;
  // A complete file within the limit reads; a tighter limit refuses it.
  const std::string ok = tmpdir() + "/small.exr";
  std::string e2;
  ASSERT_TRUE(write_exr(ok, marker_image(20, 10), 3, true, &e2)) << e2;
  EXPECT_TRUE(read_hdr(ok, &im, &err)) << err;
  lim.max_pixels = 199;
  EXPECT_FALSE(read_hdr(ok, &im, &err, lim));
  EXPECT_NE(err.find("200 pixels"), std::string::npos) << err;
}

// Issue 11, defect 6: a directory or an empty file is not an "unknown file type".
TEST(ImageIo, DirectoryAndEmptyFileAreNamed) {
  Image im;
  std::string err;
  EXPECT_EQ(sniff(tmpdir()), FileKind::Directory);
  EXPECT_FALSE(read_hdr(tmpdir(), &im, &err));
  EXPECT_NE(err.find("is a directory"), std::string::npos) << err;
  const std::string empty = tmpdir() + "/empty.exr";
  write_file(empty, "");
  EXPECT_EQ(sniff(empty), FileKind::Empty);
  EXPECT_FALSE(read_hdr(empty, &im, &err));
  EXPECT_NE(err.find("is empty"), std::string::npos) << err;
}

// Radiance RGBE, flat and run-length encoded, written here byte by byte: values within
// RGBE's 8-bit mantissa of the original, top row first.
TEST(ImageIo, RadianceFlatAndRunLength) {
  const Image im = marker_image(150, 70);  // wider than 128: two literal runs per component;
                                           // two bands of rows (the last one is read first)
  for (bool rle : {false, true}) {
    SCOPED_TRACE(rle ? "rle" : "flat");
    const std::string path = tmpdir() + "/pic.hdr";
    write_file(path, radiance_bytes(im, rle));
    EXPECT_EQ(sniff(path), FileKind::Radiance);
    Image back;
    std::string err;
    ASSERT_TRUE(read_hdr(path, &back, &err)) << err;
    ASSERT_EQ(back.width, 150);
    ASSERT_EQ(back.height, 70);
    for (int y = 0; y < 70; ++y)
      for (int x = 0; x < 150; ++x) {
        const float* a = px(im, x, y);
        const float* b = px(back, x, y);
        const float m = std::max(a[0], std::max(a[1], a[2]));
        for (int c = 0; c < 3; ++c) ASSERT_NEAR(b[c], a[c], m / 100.0f) << x << "," << y << " c" << c;
      }
    EXPECT_NEAR(px(back, 0, 0)[1], 4.0f, 0.05f);  // the marker is top left
  }
  // Cut short: an error naming the file, not a crash.
  const std::string full = radiance_bytes(im, true);
  const std::string path = tmpdir() + "/short.hdr";
  write_file(path, full.substr(0, full.size() / 2));
  Image back;
  std::string err;
  EXPECT_FALSE(read_hdr(path, &back, &err));
  EXPECT_NE(err.find("short.hdr"), std::string::npos) << err;
}

// Float TIFF, RGB and grey, written here tag by tag: exact values, top row first. An
// integer TIFF is display-referred and refused as such; a TIFF that declares more rows
// than it holds is refused before allocation.
TEST(ImageIo, FloatTiffRgbAndGrey) {
  const Image im = marker_image(13, 130);  // three bands of rows
  std::string err;
  for (int spp : {3, 1}) {
    SCOPED_TRACE(spp);
    const std::string path = tmpdir() + "/pic.tif";
    write_file(path, tiff_bytes(im, spp));
    EXPECT_EQ(sniff(path), FileKind::Tiff);
    Image back;
    ASSERT_TRUE(read_hdr(path, &back, &err)) << err;
    ASSERT_EQ(back.width, 13);
    ASSERT_EQ(back.height, 130);
    for (int y = 0; y < 130; ++y)
      for (int x = 0; x < 13; ++x)
        for (int c = 0; c < 3; ++c) ASSERT_EQ(px(back, x, y)[c], px(im, x, y)[spp == 3 ? c : 0]) << x << "," << y;
  }
  const std::string i16 = tmpdir() + "/int16.tif";
  write_file(i16, tiff_bytes(im, 3, true));
  Image back;
  EXPECT_FALSE(read_hdr(i16, &back, &err));
  EXPECT_NE(err.find("16-bit integer"), std::string::npos) << err;
  const std::string tall = tmpdir() + "/tall.tif";
  write_file(tall, tiff_bytes(im, 3, false, 60000));
  EXPECT_FALSE(read_hdr(tall, &back, &err));
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
}

TEST(ImageIo, Png16RoundTrip) {
  std::vector<uint16_t> codes = {0, 1, 65535, 256, 4095, 30000};
  std::string err;
  const std::string path = tmpdir() + "/p16.png";
  ASSERT_TRUE(write_png(path, 2, 1, 16, codes, &err)) << err;
  int w, h, b;
  std::vector<uint16_t> back;
  ASSERT_TRUE(read_png(path, &w, &h, &b, &back, &err)) << err;
  EXPECT_EQ(b, 16);
  EXPECT_EQ(back, codes);
}

// --- the binary ---

// No tone mapping: the top-left marker (4.0 x 100 cd/m^2, above the 100-nit peak) is
// white, the gradient dark, the bottom-right block red: the picture is the right way up
// from EXR and from PFM.
TEST(ImageTool, PassthroughRightWayUp16Bit) {
  const Image im = marker_image(40, 24);
  std::string err;
  const std::string exr = tmpdir() + "/marker.exr", pfm = tmpdir() + "/marker.pfm";
  ASSERT_TRUE(write_exr(exr, im, 3, true, &err)) << err;
  ASSERT_TRUE(write_pfm(pfm, im, true, &err)) << err;
  for (const std::string& in : {exr, pfm}) {
    SCOPED_TRACE(in);
    const std::string out = tmpdir() + "/marker16.png";
    const ToolRun r = run_tool("--passthrough --bits 16 -o " + out + " " + in);
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("[1/1]"), std::string::npos) << r.out;  // progress line
    int w, h, b;
    std::vector<uint16_t> c;
    ASSERT_TRUE(read_png(out, &w, &h, &b, &c, &err)) << err;
    ASSERT_EQ(w, 40);
    ASSERT_EQ(h, 24);
    EXPECT_EQ(b, 16);
    EXPECT_EQ(c[0], 65535);                      // top-left white
    EXPECT_LT(c[(23 * 40 + 0) * 3 + 1], 30000);  // bottom-left dark
    const uint16_t* br = &c[(23 * 40 + 39) * 3];
    EXPECT_GT(br[0], 4 * br[1]);  // bottom-right red
    // sRGB of 0.5 x 100 / 100: code 0.7354 x 65535.
    EXPECT_NEAR(br[0], 0.7354 * 65535, 100);
  }
}

// Through the model: still the right way up, the marker the brightest area.
TEST(ImageTool, ToneMappedRightWayUp) {
  const Image im = marker_image(64, 40);
  std::string err;
  const std::string pfm = tmpdir() + "/tm.pfm";
  ASSERT_TRUE(write_pfm(pfm, im, false, &err)) << err;
  const std::string out = tmpdir() + "/tm.png";
  const ToolRun r = run_tool("--profile fast -o " + out + " " + pfm);
  ASSERT_EQ(r.status, 0) << r.out;
  int w, h, b;
  std::vector<uint16_t> c;
  ASSERT_TRUE(read_png(out, &w, &h, &b, &c, &err)) << err;
  EXPECT_EQ(b, 8);
  auto mean_g = [&](int x0, int y0, int x1, int y1) {
    double s = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) s += c[(y * w + x) * 3 + 1];
    return s / ((x1 - x0) * (y1 - y0));
  };
  const double tl = mean_g(2, 2, 14, 8), bl = mean_g(2, 32, 14, 38), tr = mean_g(50, 2, 62, 8);
  EXPECT_GT(tl, bl + 40);
  EXPECT_GT(tl, tr + 20);
  const uint16_t* br = &c[(38 * w + 60) * 3];
  EXPECT_GT(br[0], br[1] + 20);  // red block bottom right
}

TEST(ImageTool, Errors) {
  std::string err;
  const std::string png = tmpdir() + "/input.png";
  ASSERT_TRUE(write_png(png, 2, 2, 8, std::vector<uint16_t>(12, 100), &err)) << err;
  ToolRun r = run_tool("-o " + tmpdir() + "/x.png " + png);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("not an HDR image"), std::string::npos) << r.out;
  r = run_tool("-o " + tmpdir() + "/x.png " + tmpdir() + "/missing.exr");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("no such file"), std::string::npos) << r.out;
  r = run_tool("--set cone-tau=abc scene:daylight");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("cone-tau"), std::string::npos) << r.out;
  r = run_tool("--set no-such-param=1 scene:daylight");
  EXPECT_EQ(r.status, 2);
  r = run_tool("--set display-peak=1e9 scene:daylight");
  EXPECT_EQ(r.status, 2);
  r = run_tool("--profile turbo scene:daylight");
  EXPECT_EQ(r.status, 2);
  r = run_tool("--bits 12 scene:daylight");
  EXPECT_EQ(r.status, 2);
  r = run_tool("--outdir " + tmpdir() + " scene:nope");
  EXPECT_EQ(r.status, 1);
  r = run_tool("");
  EXPECT_EQ(r.status, 2);
  r = run_tool("--list-params");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("input-scale"), std::string::npos);
  EXPECT_NE(r.out.find("cone-tau"), std::string::npos);
}

// Issue 11, defect 6: --size promises what the engine takes; NaN/negative and infinite
// samples are reported as what was done to them, with counts.
TEST(ImageTool, SizeLimitAndBadSampleReport) {
  ToolRun r = run_tool("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find(std::to_string(dtutmo::kMaxFrameSide)), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("32768"), std::string::npos) << r.out;
  r = run_tool("--size " + std::to_string(dtutmo::kMaxFrameSide + 1) + "x8 scene:night");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find(std::to_string(dtutmo::kMaxFrameSide)), std::string::npos) << r.out;

  Image im = marker_image(16, 8);
  im.rgb[0] = std::nanf("");
  im.rgb[4] = -1.0f;
  im.rgb[8] = -INFINITY;
  im.rgb[30] = INFINITY;
  im.rgb[31] = INFINITY;
  std::string err;
  const std::string pfm = tmpdir() + "/bad-samples.pfm";
  ASSERT_TRUE(write_pfm(pfm, im, true, &err)) << err;
  for (const char* mode : {"--profile fast", "--passthrough"}) {
    SCOPED_TRACE(mode);
    r = run_tool(std::string(mode) + " -q -o " + tmpdir() + "/bad-samples.png " + pfm);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("3 NaN or negative samples set to 0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2 infinite"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("clamped"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("zeroed"), std::string::npos) << r.out;
  }
}

// Issue 13 section 5: two inputs that would write the same PNG are an error before
// anything is written (not a silent overwrite), however the paths are spelled.
TEST(ImageTool, OutputNameCollisionsAreAnError) {
  const std::string dir = tmpdir() + "/collide", out = tmpdir() + "/collide-out";
  mkdir(dir.c_str(), 0777);
  std::string err;
  ASSERT_TRUE(write_exr(dir + "/shot.exr", marker_image(8, 4), 3, true, &err)) << err;
  ASSERT_TRUE(write_pfm(dir + "/shot.pfm", marker_image(8, 4), true, &err)) << err;
  ToolRun r = run_tool("--passthrough --outdir " + out + " " + dir + "/shot.exr " + dir + "/shot.pfm");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("shot.png"), std::string::npos) << r.out;
  EXPECT_FALSE(exists(out + "/shot.png"));
  // Next to the inputs, the same folder spelled two ways.
  r = run_tool("--passthrough " + dir + "/shot.exr " + dir + "/./shot.pfm");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_FALSE(exists(dir + "/shot.png"));
  // A scene and a file of the same name.
  ASSERT_TRUE(write_pfm(dir + "/night.pfm", marker_image(8, 4), true, &err)) << err;
  r = run_tool("--passthrough --size 16x8 --outdir " + out + " scene:night " + dir + "/night.pfm");
  EXPECT_EQ(r.status, 2) << r.out;
  // Different names are fine.
  r = run_tool("--passthrough --outdir " + out + " " + dir + "/shot.exr " + dir + "/night.pfm");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(exists(out + "/shot.png"));
  EXPECT_TRUE(exists(out + "/night.png"));
}

// Issue 13 section 5: without --profile the tool runs the element's defaults (Params()),
// every parameter of them.
TEST(ImageTool, DefaultsAreTheElementDefaults) {
  const ToolRun r = run_tool("--list-params");
  ASSERT_EQ(r.status, 0) << r.out;
  const dtutmo::Params defaults;
  for (const dtutmo::ParamInfo& pi : dtutmo::param_names()) {
    std::string v;
    ASSERT_TRUE(dtutmo::get_param(defaults, pi.name, &v));
    char name[64], value[64];
    bool found = false;
    const char* line = r.out.c_str();
    while (line && *line) {
      if (std::sscanf(line, "%63s %63s", name, value) == 2 && std::string(name) == pi.name) {
        found = true;
        EXPECT_EQ(std::string(value), v) << pi.name;
        break;
      }
      line = std::strchr(line, '\n');
      if (line) ++line;
    }
    EXPECT_TRUE(found) << pi.name;
  }
}

// Several inputs at once into --outdir, scenes included; one bad input fails the run
// (status 1) but the others are still written.
TEST(ImageTool, OutdirSeveralInputs) {
  const std::string dir = tmpdir() + "/many";
  std::string err;
  const std::string exr = tmpdir() + "/a.exr";
  ASSERT_TRUE(write_exr(exr, marker_image(16, 12), 8, true, &err)) << err;  // DWAA
  const ToolRun r = run_tool("--profile fast --size 48x27 --outdir " + dir + " " + exr + " scene:night scene:fine-detail " +
                         tmpdir() + "/missing.pfm");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_TRUE(exists(dir + "/a.png"));
  EXPECT_TRUE(exists(dir + "/night.png"));
  EXPECT_TRUE(exists(dir + "/fine-detail.png"));
  int w, h, b;
  std::vector<uint16_t> c;
  ASSERT_TRUE(read_png(dir + "/night.png", &w, &h, &b, &c, &err)) << err;
  EXPECT_EQ(w, 48);
  EXPECT_EQ(h, 27);
}

// --outdir given with a trailing slash (as a shell completes it) names its files with one.
TEST(ImageTool, OutdirWithTrailingSlash) {
  const std::string dir = tmpdir() + "/slash";
  const ToolRun r = run_tool("--passthrough --size 16x8 --outdir " + dir + "/ scene:night");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(exists(dir + "/night.png"));
  EXPECT_NE(r.out.find(dir + "/night.png"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("//"), std::string::npos) << r.out;
}
