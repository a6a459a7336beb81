// dtutmo -- pixel formats, signal descriptions and frame views shared by every engine.
//
// Plain C++ (no CUDA needed); the CUDA engine uses the same descriptions with device
// pointers in FrameView.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dtutmo {

// Memory layouts the engines read and write. Names follow GStreamer's.
enum class PixelFormat : int {
  // HDR inputs (and some outputs)
  P010_10LE = 0,  // 2 planes: Y (u16, 10 bits in the high bits), interleaved UV 4:2:0
  P012_LE,        // as P010, 12 bits in the high bits
  P016_LE,        // as P010, 16 bits
  I420_10LE,      // 3 planes, u16, 10 bits in the LOW bits, 4:2:0
  I420_12LE,      // 3 planes, u16, 12 bits in the low bits, 4:2:0
  Y444_16LE,      // 3 planes, u16, 16 bits, 4:4:4
  RGBA64_LE,      // packed u16 R,G,B,A
  RGB10A2_LE,     // packed u32: R bits 0-9, G 10-19, B 20-29, A 30-31
  BGR10A2_LE,     // packed u32: B bits 0-9, G 10-19, R 20-29, A 30-31
  // 8-bit formats (SDR in and out)
  I420,           // 3 planes, u8, 4:2:0
  NV12,           // 2 planes, u8, interleaved UV 4:2:0
  RGBA,           // packed u8
  BGRA,
  RGBx,
  BGRx,
  // float, for still images and tests: packed R,G,B float32 (in: linear, x input-scale
  // gives nits unless the transfer says otherwise; out: encoded values, nominally [0, 1])
  RGBF32,
  COUNT
};

// Gamma22 and Gamma28 (BT.470 System M and B/G display gammas, pure powers) are input
// transfers only: dtutmo::validate refuses them on the output.
enum class Transfer { Linear = 0, PQ, HLG, SRGB, BT1886, Gamma22, Gamma28 };
enum class Primaries { BT709 = 0, BT2020 };
enum class YuvMatrix { BT709 = 0, BT2020NC, BT601 };

struct SignalDesc {
  Transfer transfer = Transfer::PQ;
  Primaries primaries = Primaries::BT2020;
  YuvMatrix matrix = YuvMatrix::BT2020NC;  // used for YUV formats only
  bool full_range = false;                 // YUV range; RGB formats are always full range
  // 4:2:0 chroma siting (GStreamer's chroma-site, ITU-T H.273 chroma_sample_loc_type):
  // false/false: chroma at the centre of its 2x2 luma block ("jpeg", MPEG-1, type 1);
  // h: cosited with the block's left luma column ("mpeg2": H.264 / HEVC's default, type 0);
  // h and v: cosited with its top-left luma sample ("cosited", type 2, UHD / BT.2020 masters).
  bool chroma_h_cosited = false;
  bool chroma_v_cosited = false;
};

// HDR10 static metadata, in cd/m^2. A zero means "not given".
struct HdrMetadata {
  float max_cll = 0.0f;
  float max_fall = 0.0f;
  float master_max = 0.0f;
  float master_min = 0.0f;
};

// A frame in memory: up to 4 planes with byte strides. Host pointers for the CPU engine,
// device pointers for the CUDA engine's device path.
struct FrameView {
  PixelFormat format = PixelFormat::RGBF32;
  int width = 0;
  int height = 0;
  uint8_t* data[4] = {nullptr, nullptr, nullptr, nullptr};
  std::ptrdiff_t stride[4] = {0, 0, 0, 0};
  // Added for the CUDA engine's zero-copy path: data[] are CUDA device pointers (e.g. from
  // GstCudaMemory) in the context that is current on the calling thread. Only the CUDA
  // engine accepts such views (the CPU engine must see false); the CUDA engine accepts
  // both (host views are staged through pinned memory).
  bool device_memory = false;
};

struct FormatInfo {
  const char* name;      // GStreamer name, e.g. "P010_10LE"
  int planes;
  int bits;              // significant bits per component
  bool yuv;
  bool subsampled;       // 4:2:0
  int pixel_bytes[4];    // bytes per pixel (per chroma sample for subsampled planes)
};
const FormatInfo& format_info(PixelFormat f);
// Parse a GStreamer format name; returns COUNT when unknown.
PixelFormat format_from_name(const char* name);

// Minimum stride and size of plane `plane` for a width x height frame (no padding).
std::ptrdiff_t min_stride(PixelFormat f, int plane, int width);
int plane_height(PixelFormat f, int plane, int height);
// Fill a FrameView for a tightly packed buffer starting at `base`.
FrameView packed_view(PixelFormat f, int width, int height, uint8_t* base);
std::size_t packed_size(PixelFormat f, int width, int height);

}  // namespace dtutmo
