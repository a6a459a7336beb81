// dtutmo-convert --plot: a picture of what the eye did over a clip, drawn with cairo from
// the `dtutmo` element's messages (post-messages=true; gst/README.md).
#pragma once

#include <string>
#include <vector>

namespace dtutmo_convert {

// One element message: the adaptation state after one frame.
struct AdaptationSample {
  double time_s = 0.0;               // stream time of the frame, s
  double adaptation_nits = 0.0;      // adaptation luminance La, cd/m^2 (> 0)
  double pupil_mm = 0.0;             // pupil diameter, mm
  double rod_weight = 0.0;           // mesopic rod weight [0, 1]
  bool cut = false;                  // a scene cut was detected at this frame
  bool reset = false;                // the temporal state was reset at this frame
};

// Three panels over a shared time axis: adaptation luminance (log scale), pupil diameter
// and rod weight, with every detected cut as a vertical line through all three.
// `title` names the clip, `subtitle` the settings. Width x height in pixels.
// Returns false with a reason in *err (nothing to plot, cairo error, unwritable file).
bool write_adaptation_plot(const std::vector<AdaptationSample>& samples, const std::string& path,
                           const std::string& title, const std::string& subtitle, int width,
                           int height, std::string* err);

}  // namespace dtutmo_convert
