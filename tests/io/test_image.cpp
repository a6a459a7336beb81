// The still-image tool: EXR / PFM reading (right way up), PNG writing, and the
// dtutmo-image binary end to end (its path comes in DTUTMO_IMAGE from meson).
#include <gtest/gtest.h>

#include <ImfChannelList.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfOutputFile.h>
#include <ImathBox.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

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

}  // namespace

// Every compression the library offers, half and float channels; lossless ones exactly
// (half: to half precision), the lossy DWA ones close; top-left marker where it belongs.
TEST(ImageIo, ExrRoundTripAllCompressions) {
  const Image im = marker_image(67, 41);
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
  ASSERT_TRUE(read_exr(path, &back, &err)) << err;
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
  const Image im = marker_image(9, 7);
  for (bool le : {true, false}) {
    const std::string path = tmpdir() + "/rt.pfm";
    std::string err;
    ASSERT_TRUE(write_pfm(path, im, le, &err)) << err;
    Image back;
    ASSERT_TRUE(read_pfm(path, &back, &err)) << err;
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
