// dtutmo -- per-frame constants: computed ONCE per frame (by the CPU engine on the host,
// by the CUDA engine's setup kernels on the device, with the same functions of model.h)
// and consumed BY VALUE by the per-pixel code (the CPU engine's row loops and the CUDA
// kernels). Plain old data only: no pointers, no virtuals, trivially copyable, identical
// layout in g++ and nvcc.
//
// Spatial maps that the per-pixel code also needs are passed separately as pointers
// (device or host) and described here:
//   * the adaptation grid: `grid_w x grid_h` cells of `AdaptCell`, cell (i, j) covers
//     pixels [i*cell, (i+1)*cell) x [j*cell, (j+1)*cell); a pixel samples it at grid
//     coordinates ((x + 0.5) / cell - 0.5, (y + 0.5) / cell - 0.5), clamped to the grid,
//     bilinearly or joint-bilaterally (CPU: cpu_adapt.cpp interp_row; CUDA: model.cuh
//     sample_cells / sample_cells_jbu).
#pragma once

#include "dtutmo/hd.h"

namespace dtutmo {

// Per-cell adaptation state of the scene observer, at the cell's local adaptation La.
// Everything the receptor stage needs that depends on La only (MODEL.md stage 5-6).
struct AdaptCell {
  float log2_sigma_lm;  // log2 of sigma (trolands) of the L and M cone classes (k1 = 35)
  float log2_sigma_s;   // log2 of sigma (trolands) of the S cone class (k1 = 25)
  float p_cone;         // cone bleaching factor p [0.1, 1]
  float log2_sigma_rod; // log2 of sigma (scotopic trolands) of rods
  float p_rod;          // rod bleaching factor [0.1, 1]
  float rod_w;          // mesopic rod weight w [0, 1] (0 when mesopic is off)
  float log2_la;        // log2 of the cone adaptation luminance La, cd/m^2 (for CSF/hybrid)
  float pad;            // keeps the struct 32 bytes
};

// CIECAM16-structured viewing condition of DTUCAM (dtucam.h), host-computed.
struct CamCond {
  float fl;        // luminance-level adaptation factor F_L (from La in cd/m^2)
  float fl_4;      // F_L^0.25 (Hunt effect on colourfulness)
  float c;         // surround exponent c (0.59 dim, 0.525 dark, 0.69 average)
  float nc;        // chromatic induction factor N_c
  float n;         // background factor n = Y_b / Y_w
  float z;         // base exponent z = 1.48 + sqrt(n)
  float ncb;       // N_cb = N_bb = 0.725 n^-0.2
  float aw;        // achromatic signal of the adopted white under this condition (> 0)
  float cn;        // (1.64 - 0.29^n)^0.73
  float pad[3];
};

struct FrameConsts {
  // --- geometry ---
  int width, height;      // frame size, pixels
  int grid_w, grid_h;     // adaptation grid size, cells
  int cell;               // adaptation grid cell size, pixels (8)
  float ppd;              // pixels per degree = width / fov
  int pic_x0, pic_y0, pic_x1, pic_y1;  // this frame's picture area, pixels [x0, x1) x [y0, y1):
                                       // the frame less letterbox / pillarbox bars (model.h picture_area)

  // --- decode (MODEL.md "Input decoding") ---
  int in_transfer;        // dtutmo::Transfer of the input (as int)
  float input_scale;      // cd/m^2 of linear/SDR value 1.0
  float hlg_peak;         // nominal HLG peak for the BT.2100 OOTF, cd/m^2
  float max_nits;         // sanitising ceiling, cd/m^2 (1e6)
  Mat3 in_rgb_to_xyz;     // input primaries linear RGB (cd/m^2) -> XYZ (cd/m^2)
  Mat3 in_rgb_to_lms;     // input RGB (cd/m^2) -> HPE LMS, D65-normalised (L=M=S=Y for D65)
  Vec3 in_rgb_to_rod;     // input RGB (cd/m^2) -> scotopic Y' (cd/m^2, unclamped row)
  Vec3 in_rgb_to_y;       // input RGB (cd/m^2) -> luminance Y (cd/m^2)

  // --- scene observer (global, temporally smoothed) ---
  float la_global;        // global adaptation luminance, cd/m^2 (smoothed log-mean)
  float la_global_rod;    // rods' global adaptation luminance (rod-tau), cd/m^2
  float pupil_mm;         // pupil diameter, mm
  float td_per_nit;       // effective pupil area, trolands per cd/m^2 (mm^2, Stiles-Crawford)

  // --- display normalisation per cone class c = L, M, S (DESIGN.md section 10) ---
  // u_c = norm_gain[c] * r_c + norm_offset[c] maps the scene response onto the display
  // observer's response; the soft knee acts above knee_r[c]; r_min/r_max are the
  // display responses to black and peak (whiteboard inverse domain).
  float norm_gain[3];
  float norm_offset[3];
  float r_min[3];         // display response to display_black (cd/m^2)
  float r_max[3];         // display response to display_peak (cd/m^2)
  float knee_r[3];        // knee start in response, r_min + knee * (r_max - r_min)
  // below the scene response toe_r[c] (the low percentile's), toe_gain[c] * (toe_r - r) is
  // added back: the slope the map had before the display key darkened it (model.h
  // finish_frame_consts; 0 unless the key darkens)
  float toe_r[3];
  float toe_gain[3];

  // --- display observer (photopic, adapted to disp_la) ---
  float disp_la;          // display adaptation luminance, cd/m^2
  float disp_td_per_nit;  // its effective pupil area, trolands per cd/m^2
  float disp_log2_sigma[3]; // log2 sigma (trolands) per class L, M, S at disp_la
  float disp_p;           // its cone bleaching factor
  float disp_log2_td;     // log2(disp_td_per_nit)

  // --- stage switches and gains ---
  int local;              // 1: local adaptation grid in use (else every cell = global)
  int mesopic;            // 1: rods mixed in
  int base_detail;        // 1: base/detail split (balanced)
  int dtucam;             // 1: colour appearance stage (balanced)
  int display_mode;       // dtutmo::DisplayMode as int
  int gamut_map;          // 1: desaturate out-of-gamut colours toward luminance
  int dither;             // 1: ordered dither for 8-bit outputs
  float detail;           // detail gain re-applied in log2 luminance
  float hybrid_lo, hybrid_hi; // smoothstep edges of the hybrid gradient weight

  // --- DTUCAM conditions ---
  CamCond cam_scene;      // at la_global
  CamCond cam_display;    // at disp_la
  float rod_s_log2q;      // log2 of the odds factor (sigma_LM / sigma_S)^n (scene, global
                          // adaptation) that turns the rod response into the S class's
                          // response to the same signal (0 = rods added to S unscaled)
  float s_ref_display;    // odds factor (sigma_LM / sigma_S)^n of the display observer

  // --- encode (MODEL.md stage 10) ---
  int out_transfer;       // dtutmo::Transfer of the output (SRGB, BT1886, PQ, HLG)
  int target;             // dtutmo::Target as int
  float peak;             // display peak, cd/m^2
  float black;            // display black, cd/m^2
  Mat3 lms_to_out_rgb;    // display LMS (cd/m^2) -> output linear RGB (cd/m^2)
  Vec3 out_rgb_to_y;      // output linear RGB -> luminance Y
  // CIELAB hue restoration (gamut.h lab_hue_restore; pixel_model.h colour_consts)
  Mat3 out_to_nxyz;       // output linear RGB -> white-normalised XYZ
  Mat3 nxyz_to_out;       // and back
  Vec3 lms_to_nx, lms_to_nz;  // color.h lms_to_nxyz's X and Z rows (the gate's input ratios)
  float pad[2];
};

}  // namespace dtutmo
