// dtutmo CUDA -- whole-pixel input and output in kernels: common/dtutmo/pixel_io.h's frame
// functions (read_rgb: one pixel with its 4:2:0 chroma upsampled per the siting;
// write_block: a 2x2 block with its 4:2:0 chroma), which the host row converters of
// common/src/convert.cpp match (the same siting functions, the same arithmetic by rows).
#pragma once

#include "dtutmo/pixel_io.h"

namespace dtutmo {
namespace cuda {

// A frame as kernels see it: plane pointers (device memory) and byte strides, by value.
using DevFrame = pio::FramePlanes;
using pio::is_yuv;
using pio::is_yuv420;
using pio::read_rgb;
using pio::write_block;

}  // namespace cuda
}  // namespace dtutmo
