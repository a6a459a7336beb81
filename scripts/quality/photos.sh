# Sourced by compare.sh and gallery.sh: the real HDR photographs of the quality set.
# Blender's CC0 HDRIs (Debian package blender-data) are relative (scene-referred, unknown
# exposure); each is scaled to an absolute log-average luminance (cd/m^2) typical of its
# kind of scene (overcast or sunlit exteriors 10^2-10^3, low sun 10^2, interiors 10^1-10^2,
# a studio with black drapes and a lit cyclorama 10^1, a night field under sky glow 10^-1),
# so that the absolute operators (dtutmo, FFmpeg) see plausible levels. Fixed by kind of
# scene, never tuned to a result.
PHOTO_DIR=${PHOTO_DIR:-/usr/share/blender/datafiles/studiolights/world}
photo_logmean() {
  case "$1" in
    city) echo 1000 ;;       # overcast city street, midday
    courtyard) echo 300 ;;   # sunny courtyard seen from a shaded porch
    forest) echo 500 ;;      # park under trees, daylight
    interior) echo 50 ;;     # hotel room, daylight through curtains and lamps
    night) echo 0.1 ;;       # field at night, sky glow and distant lights
    studio) echo 10 ;;       # black studio, spot-lit white cyclorama
    sunrise) echo 300 ;;     # meadow, sun at the horizon
    sunset) echo 300 ;;      # waterfront, sun at the horizon
    *) echo 100 ;;
  esac
}
# photo_pfm NAME OUT.pfm Q: the calibrated photograph (pfstools reads the EXR; Q is
# dtutmo-quality). Fails when the EXR or pfstools is missing.
photo_pfm() {
  pfsin "$PHOTO_DIR/$1.exr" 2>/dev/null | pfsoutpfm "$2.rel.pfm" 2>/dev/null &&
    "$3" --calibrate "$2.rel.pfm" "$2" --logmean "$(photo_logmean "$1")" && rm -f "$2.rel.pfm"
}
