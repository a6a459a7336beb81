#!/bin/sh
# Objective comparison of dtutmo with established tone mappers on the procedural scenes.
#
# Usage: scripts/quality/compare.sh            (writes docs/quality.md)
# Environment:
#   BUILD_DIR     build folder with tools/quality/dtutmo-quality (default build-quality,
#                 then build)
#   DTUTMO_IMAGE  the dtutmo-image binary (default $BUILD_DIR/tools/image/dtutmo-image);
#                 when missing, dtutmo-quality --tonemap (the same CPU engine) is used
#   SIZE          render size of the scenes (default 960x540)
#   WORK          scratch folder for the renderings (default $BUILD_DIR/quality-compare)
#   OUT_MD        markdown output (default docs/quality.md; "-" for stdout)
#   INSTALL       1 (default): apt-get install pfstools/pfstmo when missing and root;
#                 0: never install, skip the pfstmo operators with a note
#   SCENES        space-separated scene names (default: every static scene)
#
# Operators: naive (log-average exposure, clip), dtutmo fast and balanced, pfstmo
# reinhard02 / reinhard05 / drago03 / mantiuk06 (each with the gamma 2.2 its manual asks
# for), FFmpeg tonemap=hable (input as HDR10 would give it: cd/m^2 / 100, clipped at
# 10000 cd/m^2, peak 100, desat 0; sRGB output through zscale).
# pfstools is NOT a project dependency: this script installs it for itself or skips it.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD_DIR:-}
if [ -z "$BUILD" ]; then
  for b in build-quality build; do
    if [ -x "$b/tools/quality/dtutmo-quality" ]; then BUILD=$b; break; fi
  done
fi
[ -n "$BUILD" ] || { echo "compare: build dtutmo-quality first (ninja -C build-quality)" >&2; exit 1; }
Q="$ROOT/$BUILD/tools/quality/dtutmo-quality"
[ -x "$Q" ] || Q="$BUILD/tools/quality/dtutmo-quality"
IMG=${DTUTMO_IMAGE:-}
if [ -z "$IMG" ]; then
  for c in "$BUILD/tools/image/dtutmo-image" build/tools/image/dtutmo-image; do
    if [ -x "$c" ]; then IMG=$c; break; fi
  done
fi
SIZE=${SIZE:-960x540}
WORK=${WORK:-$BUILD/quality-compare}
OUT_MD=${OUT_MD:-docs/quality.md}
INSTALL=${INSTALL:-1}
mkdir -p "$WORK"
NOTES=""
note() { NOTES="$NOTES
- $*"; echo "compare: $*" >&2; }

# --- tools ---
if ! command -v pfstmo_reinhard02 >/dev/null 2>&1 && [ "$INSTALL" = 1 ] && [ "$(id -u)" = 0 ]; then
  echo "compare: installing pfstools pfstmo (for this comparison only)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends pfstools pfstmo \
    >/dev/null 2>&1 || true
fi
HAVE_PFS=0
command -v pfsin >/dev/null 2>&1 && command -v pfstmo_reinhard02 >/dev/null 2>&1 && HAVE_PFS=1
[ "$HAVE_PFS" = 1 ] || note "pfstools/pfstmo not available: pfstmo operators skipped"
HAVE_FF=0
if command -v ffmpeg >/dev/null 2>&1 && ffmpeg -hide_banner -filters 2>/dev/null | grep -q ' tonemap '; then
  HAVE_FF=1
  ffmpeg -hide_banner -filters 2>/dev/null | grep -q ' zscale ' || { HAVE_FF=0; note "ffmpeg without zscale: FFmpeg tonemap skipped"; }
else
  note "ffmpeg with the tonemap filter not available: skipped"
fi
if [ -n "$IMG" ]; then
  DT_HOW="dtutmo-image ($IMG)"
else
  DT_HOW="dtutmo-quality --tonemap (CPU engine; dtutmo-image not built)"
  note "dtutmo-image not found: dtutmo rendered through dtutmo-quality --tonemap (same CPU engine)"
fi

# dtutmo rendering: $1 profile, $2 in.pfm, $3 out.png
dtutmo_render() {
  if [ -n "$IMG" ]; then
    "$IMG" "$2" -o "$3" --profile "$1" --set input-scale=1 -q >/dev/null
  else
    "$Q" --tonemap "$2" "$3" --profile "$1" >/dev/null
  fi
}

SCENES=${SCENES:-$("$Q" --list-scenes | grep -v animated)}
CSV="$WORK/all.csv"
: > "$CSV"
TABLES="$WORK/tables.md"
: > "$TABLES"
for s in $SCENES; do
  d="$WORK/$s"
  mkdir -p "$d"
  "$Q" --render "$s" "$d/hdr.pfm" --size "$SIZE"
  set --
  "$Q" --naive "$d/hdr.pfm" "$d/naive.png" && set -- "$@" --label naive "$d/naive.png"
  for p in fast balanced; do
    if dtutmo_render "$p" "$d/hdr.pfm" "$d/dtutmo-$p.png" 2>"$d/dtutmo-$p.err"; then
      set -- "$@" --label "dtutmo-$p" "$d/dtutmo-$p.png"
    else
      note "$s: dtutmo $p failed: $(head -c 200 "$d/dtutmo-$p.err")"
    fi
  done
  if [ "$HAVE_PFS" = 1 ]; then
    for op in reinhard02 reinhard05 drago03 mantiuk06; do
      command -v "pfstmo_$op" >/dev/null 2>&1 || continue
      if timeout 120 sh -c "pfsin '$d/hdr.pfm' | pfstmo_$op 2>/dev/null | pfsgamma -g 2.2 | pfsoutppm '$d/$op.ppm'" 2>/dev/null; then
        set -- "$@" --label "pfstmo $op" "$d/$op.ppm"
      else
        note "$s: pfstmo_$op failed or timed out"
      fi
    done
  fi
  if [ "$HAVE_FF" = 1 ]; then
    wh=$("$Q" --raw "$d/hdr.pfm" "$d/hdr.raw" --scale 0.01 --clip 100)
    if ffmpeg -hide_banner -loglevel error -y -f rawvideo -pix_fmt gbrpf32le -s "$wh" -i "$d/hdr.raw" \
        -vf "tonemap=hable:desat=0:peak=100,zscale=tin=linear:t=iec61966-2-1:pin=709:p=709,format=rgb24" \
        -frames:v 1 "$d/ffmpeg-hable.png"; then
      set -- "$@" --label "ffmpeg hable" "$d/ffmpeg-hable.png"
    else
      note "$s: ffmpeg tonemap failed"
    fi
    rm -f "$d/hdr.raw"
  fi
  BAND=""
  [ "$s" = sky-gradient ] && BAND="--banding 0,0,${SIZE%x*},${SIZE#*x}"
  # shellcheck disable=SC2086
  "$Q" --format csv $BAND "$d/hdr.pfm" "$@" | tail -n +2 | sed "s/^/$s,/" >> "$CSV"
  {
    echo "### $s"
    echo
    # shellcheck disable=SC2086
    "$Q" --format md $BAND "$d/hdr.pfm" "$@"
    echo
  } >> "$TABLES"
done

# Temporal behaviour through the CPU engine (dtutmo-quality --video), 320x180, 30 fps.
TEMPORAL="$WORK/temporal.md"
{
  echo "| profile | sequence | flicker (mean abs change of mean luma, codes/frame) | largest jump (codes) | instability, 2nd half (max pixel change) | one-frame 10x flash: flash frame / max stray after (codes) |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
  for p in fast balanced; do
    line=$("$Q" --video daylight --profile "$p" --seconds 1)
    echo "| $p | daylight, static 1 s | $(echo "$line" | sed 's/.*flicker \([0-9.]*\).*/\1/') | $(echo "$line" | sed 's/.*max-jump \([0-9.]*\).*/\1/') | $(echo "$line" | sed 's/.*instability(2nd half) \([0-9]*\).*/\1/') | |"
    line=$("$Q" --video daylight --profile "$p" --seconds 2 --flash 30)
    echo "| $p | daylight 2 s, flash at frame 30 | $(echo "$line" | sed 's/.*flicker \([0-9.]*\).*/\1/') | $(echo "$line" | sed 's/.*max-jump \([0-9.]*\).*/\1/') | | $(echo "$line" | sed 's/.*flash-frame \([-0-9.]*\), max stray after \([0-9.]*\).*/\1 \/ \2/') |"
    for m in natural broadcast; do
      line=$("$Q" --video animated --profile "$p" --seconds 6 --set adaptation=$m)
      echo "| $p | animated 6 s ($m; ramp x100, cut day->night at 4 s) | $(echo "$line" | sed 's/.*flicker \([0-9.]*\).*/\1/') | $(echo "$line" | sed 's/.*max-jump \([0-9.]*\) (\(frame [0-9]*\).*/\1 (\2)/') | | |"
    done
  done
} > "$TEMPORAL" 2>/dev/null || note "temporal measurements failed"

# Summary: mean Q, S, N, colourfulness per operator over the scenes.
SUMMARY=$(awk -F, '{ q[$2]+=$3; s[$2]+=$4; n[$2]+=$5; c[$2]+=$6; k[$2]++; if (!($2 in o)) { o[$2]=++m; name[m]=$2 } }
  END { print "| operator | mean TMQI Q | mean S | mean N | mean colourfulness | scenes |";
        print "| --- | ---: | ---: | ---: | ---: | ---: |";
        for (i=1;i<=m;i++) { x=name[i]; printf "| %s | %.4f | %.4f | %.4f | %.1f | %d |\n", x, q[x]/k[x], s[x]/k[x], n[x]/k[x], c[x]/k[x], k[x] } }' "$CSV")

emit() {
  cat <<EOF
# Objective quality: dtutmo against established tone mappers

Generated by \`scripts/quality/compare.sh\` on $(date -u +%Y-%m-%d) from commit
$(git rev-parse --short HEAD 2>/dev/null || echo unknown), scenes rendered at $SIZE by
\`dtutmo-quality --render\` (procedural scenes of \`common/dtutmo/scenes.h\`, absolute cd/m^2).
dtutmo through $DT_HOW, sRGB 8-bit output, 100 cd/m^2 SDR display defaults.

**Metrics** (\`tools/quality/metrics.h\` documents the definitions and every deviation):
- TMQI (Yeganeh and Wang 2013): Q = 0.8012 S^0.3046 + 0.1988 N^0.7088. S is multi-scale
  structural fidelity against the HDR luminance (1 = all visible HDR structure kept and no
  structure invented), N statistical naturalness of the LDR's brightness and contrast
  (1 = mean code ~116 and the typical local contrast of natural photographs). Higher is
  better. Procedural scenes are not natural photographs: N is strict on them.
- Colourfulness (Hasler and Suesstrunk 2003) of the 8-bit image; roughly 15 "slightly",
  33 "moderately", 45 "averagely", 59 "quite" colourful. Not better or worse by itself.
- Banding (sky-gradient only): false contours per row (steps of >= 2 codes) and the mean
  length in pixels of runs of a constant code along rows (long runs in a smooth sky = bands).

**Operators**: naive = exposure putting the log-average luminance at 0.18 of white, linear,
hard clip (the "before" of the gallery). pfstmo operators with default parameters and the
gamma 2.2 their manuals prescribe. FFmpeg \`tonemap=hable:desat=0\` on the input as HDR10
delivers it (cd/m^2 / 100, clipped at 10000 cd/m^2, peak 100): absolute, no exposure
adaptation, as it behaves on real PQ video.

## Summary (mean over scenes)

$SUMMARY

## Temporal (video)

$(cat "$TEMPORAL")

## Per scene

Mean luma, local contrast (TMQI's: mean std of 11x11 blocks of code luma), and the
percentage of pixels at white (code luma >= 254.5) and at black (<= 2).

$(cat "$TABLES")
EOF
  if [ -n "$NOTES" ]; then
    printf '\n## Notes from this run\n%s\n' "$NOTES"
  fi
}
if [ "$OUT_MD" = "-" ]; then emit; else emit > "$OUT_MD"; echo "compare: wrote $OUT_MD" >&2; fi
