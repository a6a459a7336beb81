// dtutmo -- the parameter registry (params.cpp): profile semantics, enum values, ranges.
// What a user sees in gst-inspect, dtutmo-image --list-params and dtutmo-convert --set
// comes from here, so the registry must say what it accepts.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

#include "dtutmo/params.h"

using namespace dtutmo;

namespace {

Params with(std::initializer_list<std::pair<const char*, const char*>> sets) {
  Params p;
  for (const auto& kv : sets) {
    std::string err;
    EXPECT_TRUE(set_param(p, kv.first, kv.second, &err)) << kv.first << ": " << err;
  }
  return p;
}

std::string text(const Params& p, const char* name) {
  std::string v;
  EXPECT_TRUE(get_param(p, name, &v)) << name;
  return v;
}

}  // namespace

TEST(Profile, SetsEveryStageSwitchOfTheProfile) {
  const Params b = with({{"profile", "balanced"}});
  EXPECT_TRUE(b.optics && b.base_detail && b.csf && b.dtucam && b.local && b.mesopic);
  EXPECT_EQ(b.display_mode, DisplayMode::Hybrid);
  const Params q = with({{"profile", "quality"}});
  EXPECT_EQ(q.display_mode, DisplayMode::FullInverse);
  EXPECT_EQ(q.glare_max_cells, 4096);
  const Params f = with({{"profile", "balanced"}, {"profile", "fast"}});
  EXPECT_FALSE(f.optics || f.base_detail || f.csf || f.dtucam);
  EXPECT_EQ(f.display_mode, DisplayMode::Whiteboard);
  EXPECT_EQ(f.glare_max_cells, 256);
}

// The order of the settings does not matter: a switch given by name wins over the
// profile, before or after it; the switches not given follow the profile.
TEST(Profile, ExplicitSwitchesWinWhateverTheOrder) {
  const Params before = with({{"optics", "false"}, {"display-mode", "whiteboard"},
                              {"glare-cells", "512"}, {"profile", "quality"}});
  const Params after = with({{"profile", "quality"}, {"optics", "false"},
                             {"display-mode", "whiteboard"}, {"glare-cells", "512"}});
  for (const Params& p : {before, after}) {
    EXPECT_EQ(p.profile, Profile::Quality);
    EXPECT_FALSE(p.optics);
    EXPECT_EQ(p.display_mode, DisplayMode::Whiteboard);
    EXPECT_EQ(p.glare_max_cells, 512);
    EXPECT_TRUE(p.csf && p.dtucam && p.base_detail) << "not given: the profile's";
  }
  for (const auto& info : param_names())
    EXPECT_EQ(text(before, info.name), text(after, info.name)) << info.name;
  // A later profile still leaves the explicit switch alone.
  Params p = before;
  std::string err;
  ASSERT_TRUE(set_param(p, "profile", "fast", &err));
  EXPECT_FALSE(p.optics);
  EXPECT_EQ(p.display_mode, DisplayMode::Whiteboard);
  EXPECT_FALSE(p.csf) << "not given: follows the new profile";
}

TEST(Registry, EnumValuesAreListedOnceAndDescribed) {
  for (const auto& info : param_names()) {
    ParamDetails d;
    ASSERT_TRUE(param_details(info.name, &d));
    if (d.kind != ParamDetails::Enum) continue;
    SCOPED_TRACE(info.name);
    std::set<int> values;
    std::set<std::string> descriptions;
    for (const ParamNick& n : d.nicks) {
      ASSERT_NE(n.description, nullptr);
      const std::string desc = n.description;
      if (n.alias) {
        EXPECT_TRUE(values.count(n.value)) << n.nick << " is an alias of nothing listed";
        continue;
      }
      EXPECT_TRUE(values.insert(n.value).second) << "value " << n.value << " listed twice";
      EXPECT_TRUE(descriptions.insert(desc).second) << "same description twice: " << desc;
      EXPECT_GT(desc.size(), std::string(n.nick).size() + 10) << n.nick << ": " << desc;
    }
  }
  // The alias is still accepted as text and means the listed value.
  EXPECT_EQ(with({{"display-mode", "hybrid"}}).display_mode, DisplayMode::Hybrid);
  EXPECT_EQ(text(with({{"display-mode", "hybrid"}}), "display-mode"), "production-hybrid");
  std::string err;
  Params p;
  EXPECT_FALSE(set_param(p, "display-mode", "nonsense", &err));
  EXPECT_EQ(err.find(" hybrid"), std::string::npos) << "aliases are not offered: " << err;
  EXPECT_NE(err.find("production-hybrid"), std::string::npos) << err;
}

TEST(Registry, CountsAreIntegers) {
  ParamDetails d;
  ASSERT_TRUE(param_details("glare-cells", &d));
  EXPECT_EQ(d.kind, ParamDetails::Int);
  Params p;
  std::string err;
  EXPECT_TRUE(set_param(p, "glare-cells", "300", &err)) << err;
  EXPECT_EQ(p.glare_max_cells, 300);
  EXPECT_EQ(text(p, "glare-cells"), "300");
  EXPECT_FALSE(set_param(p, "glare-cells", "300.5", &err));
  EXPECT_NE(err.find("integer"), std::string::npos) << err;
  EXPECT_FALSE(set_param(p, "glare-cells", "", &err));
}

// The range a blurb shows is the range validate() accepts: both ends pass, a step outside
// either end fails.
TEST(Registry, RangesShownAreRangesAccepted) {
  for (const auto& info : param_names()) {
    ParamDetails d;
    ASSERT_TRUE(param_details(info.name, &d));
    if (d.kind != ParamDetails::Float && d.kind != ParamDetails::Int) continue;
    SCOPED_TRACE(info.name);
    char shown[64];
    std::snprintf(shown, sizeof shown, "[%g, %g]", double(d.lo), double(d.hi));
    EXPECT_NE(std::string(info.blurb).find(shown), std::string::npos)
        << "blurb '" << info.blurb << "' does not show " << shown;
    // Cross-field rules are satisfied first, so that only the range is tested.
    auto accepts = [&](double v) {
      Params p;
      std::string err;
      set_param(p, "display-peak", "10000", &err);
      set_param(p, "percentile-low", "0", &err);
      char buf[64];
      std::snprintf(buf, sizeof buf, d.kind == ParamDetails::Int ? "%.0f" : "%.9g", v);
      if (!set_param(p, info.name, buf, &err)) return false;
      return validate(p, &err);
    };
    EXPECT_TRUE(accepts(d.lo));
    EXPECT_TRUE(accepts(d.hi));
    const double step = d.kind == ParamDetails::Int ? 1.0 : (d.hi - d.lo) * 1e-3;
    EXPECT_FALSE(accepts(d.lo - step));
    EXPECT_FALSE(accepts(d.hi + step));
  }
}
