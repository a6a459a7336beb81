#!/bin/sh
# Objective comparison of dtutmo with established tone mappers: the procedural scenes,
# real HDR photographs from Debian packages, and halo charts.
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
#   INSTALL       1 (default): apt-get install pfstools/pfstmo and blender-data when missing
#                 and root; 0: never install, skip what is missing with a note
#   SCENES        space-separated scene names (default: every static scene)
#   PHOTOS        space-separated photograph names (default: every one of PHOTO_DIR)
#   PHOTO_DIR     folder of the photographs (default Blender's CC0 HDRIs of blender-data,
#                 /usr/share/blender/datafiles/studiolights/world: eight 1024x512 outdoor,
#                 indoor, studio and night panoramas by Greg Zaal)
#   PROFILES      dtutmo profiles to score (default "fast balanced")
#   EXTRA_DTUTMO  optional "label:profile:NAME=VALUE,NAME=VALUE" entries, space-separated,
#                 for experiments (scored like the profiles)
#
# Operators: naive (log-average exposure, clip), dtutmo fast and balanced, pfstmo
# reinhard02 / reinhard05 / drago03 / mantiuk06 (each with the gamma 2.2 its manual asks
# for) and mantiuk08 (display-adaptive: its output needs no gamma), FFmpeg tonemap=hable
# and tonemap=mobius (input as HDR10 would give it: cd/m^2 / 100, clipped at 10000 cd/m^2,
# peak 100, desat 0; sRGB output through zscale).
# The photographs are relative (scene-referred, unknown exposure): each is scaled to an
# absolute log-average luminance typical of its kind of scene (table below) so that the
# absolute operators (dtutmo, FFmpeg) see plausible levels; the relative ones (pfstmo,
# naive) are invariant to it.
# pfstools and blender-data are NOT project dependencies: this script installs them for
# itself or skips them.
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
PROFILES=${PROFILES:-fast balanced}
EXTRA_DTUTMO=${EXTRA_DTUTMO:-}
mkdir -p "$WORK"
NOTES=""
note() { NOTES="$NOTES
- $*"; echo "compare: $*" >&2; }

# photo_logmean NAME: the absolute log-average luminance of each photograph
. "$ROOT/scripts/quality/photos.sh"

# --- tools ---
if [ "$(id -u)" = 0 ] && [ "$INSTALL" = 1 ]; then
  pk=""
  command -v pfstmo_reinhard02 >/dev/null 2>&1 || pk="$pk pfstools pfstmo"
  [ -d "$PHOTO_DIR" ] || [ -n "${PHOTOS:-}" ] || pk="$pk blender-data"
  if [ -n "$pk" ]; then
    echo "compare: installing$pk (for this comparison only)" >&2
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pk \
      >/dev/null 2>&1 || true
  fi
fi
HAVE_PFS=0
command -v pfsin >/dev/null 2>&1 && command -v pfstmo_reinhard02 >/dev/null 2>&1 && HAVE_PFS=1
[ "$HAVE_PFS" = 1 ] || note "pfstools/pfstmo not available: pfstmo operators and the photographs skipped"
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
if [ -z "${PHOTOS+x}" ]; then
  PHOTOS=""
  if [ "$HAVE_PFS" = 1 ] && [ -d "$PHOTO_DIR" ]; then
    for f in "$PHOTO_DIR"/*.exr; do [ -e "$f" ] && PHOTOS="$PHOTOS $(basename "$f" .exr)"; done
  fi
  [ -n "$PHOTOS" ] || note "no photographs ($PHOTO_DIR: install blender-data): procedural scenes only"
fi

# dtutmo rendering: $1 profile, $2 in.pfm, $3 out.png, $4 extra settings (NAME=VALUE,...)
dtutmo_render() {
  set -- "$1" "$2" "$3" "${4:-}"
  sets=""
  for kv in $(echo "$4" | tr ',' ' '); do sets="$sets --set $kv"; done
  if [ -n "$IMG" ]; then
    # shellcheck disable=SC2086
    "$IMG" "$2" -o "$3" --profile "$1" --set input-scale=1 $sets -q >/dev/null
  else
    # shellcheck disable=SC2086
    "$Q" --tonemap "$2" "$3" --profile "$1" $sets >/dev/null
  fi
}

# Every operator on $1/hdr.pfm -> $1/<op>.png|ppm; prints "--label L FILE" argument pairs
# (one per line pair) to $1/ops.
run_operators() {
  d=$1
  : > "$d/ops"
  add() { printf '%s\n%s\n' "$1" "$2" >> "$d/ops"; }
  "$Q" --naive "$d/hdr.pfm" "$d/naive.png" && add naive "$d/naive.png"
  for p in $PROFILES; do
    if dtutmo_render "$p" "$d/hdr.pfm" "$d/dtutmo-$p.png" 2>"$d/dtutmo-$p.err"; then
      add "dtutmo-$p" "$d/dtutmo-$p.png"
    else
      note "$d: dtutmo $p failed: $(head -c 200 "$d/dtutmo-$p.err")"
    fi
  done
  for e in $EXTRA_DTUTMO; do
    l=${e%%:*}; r=${e#*:}; p=${r%%:*}; kv=${r#*:}
    if dtutmo_render "$p" "$d/hdr.pfm" "$d/x-$l.png" "$kv" 2>"$d/x-$l.err"; then
      add "$l" "$d/x-$l.png"
    else
      note "$d: $l failed: $(head -c 200 "$d/x-$l.err")"
    fi
  done
  if [ "$HAVE_PFS" = 1 ]; then
    for op in reinhard02 reinhard05 drago03 mantiuk06 mantiuk08; do
      command -v "pfstmo_$op" >/dev/null 2>&1 || continue
      g="| pfsgamma -g 2.2"
      [ "$op" = mantiuk08 ] && g=""
      # relative names: pfstmo_mantiuk08 aborts on a long FILE_NAME tag
      if (cd "$d" && timeout 300 sh -c "pfsin hdr.pfm | pfstmo_$op 2>/dev/null $g | pfsoutppm $op.ppm" 2>/dev/null) &&
          [ -s "$d/$op.ppm" ]; then
        add "pfstmo $op" "$d/$op.ppm"
      else
        note "$d: pfstmo_$op failed or timed out"
      fi
    done
  fi
  if [ "$HAVE_FF" = 1 ]; then
    wh=$("$Q" --raw "$d/hdr.pfm" "$d/hdr.raw" --scale 0.01 --clip 100)
    for op in hable mobius; do
      if ffmpeg -hide_banner -loglevel error -y -f rawvideo -pix_fmt gbrpf32le -s "$wh" -i "$d/hdr.raw" \
          -vf "tonemap=$op:desat=0:peak=100,zscale=tin=linear:t=iec61966-2-1:pin=709:p=709,format=rgb24" \
          -frames:v 1 "$d/ffmpeg-$op.png"; then
        add "ffmpeg $op" "$d/ffmpeg-$op.png"
      else
        note "$d: ffmpeg tonemap=$op failed"
      fi
    done
    rm -f "$d/hdr.raw"
  fi
}

# Scores $1/ops against $1/hdr.pfm: CSV rows "set,input,operator,Q,S,N,..." and a table.
score() {
  d=$1 name=$2 kind=$3
  set --
  while IFS= read -r l && IFS= read -r f; do set -- "$@" --label "$l" "$f"; done < "$d/ops"
  BAND=""
  [ "$name" = sky-gradient ] && BAND="--banding 0,0,${SIZE%x*},${SIZE#*x}"
  # shellcheck disable=SC2086
  "$Q" --format csv $BAND "$d/hdr.pfm" "$@" | tail -n +2 | sed "s/^/$kind,$name,/" >> "$CSV"
  {
    echo "### $name"
    echo
    # shellcheck disable=SC2086
    "$Q" --format md $BAND "$d/hdr.pfm" "$@"
    echo
  } >> "$TABLES"
}

CSV="$WORK/all.csv"
: > "$CSV"
TABLES="$WORK/tables.md"
: > "$TABLES"
# the static scenes: --list-scenes lists them first, then the animated scene and the
# edited sequences (timelines of the static ones, for the temporal measurements)
SCENES=${SCENES:-$("$Q" --list-scenes | sed "/^animated$/,$ d")}
for s in $SCENES; do
  d="$WORK/$s"
  mkdir -p "$d"
  "$Q" --render "$s" "$d/hdr.pfm" --size "$SIZE"
  run_operators "$d"
  score "$d" "$s" scene
done
for ph in $PHOTOS; do
  d="$WORK/photo-$ph"
  mkdir -p "$d"
  if ! photo_pfm "$ph" "$d/hdr.pfm" "$Q"; then
    note "photo $ph: cannot read $PHOTO_DIR/$ph.exr"
    continue
  fi
  run_operators "$d"
  score "$d" "photo:$ph" photo
done

# Halo charts (metrics.h halo_chart, 384x216 as tests/model/test_halo.cpp): a disc on a
# uniform background, contrasts 10, 100 and 1000 about 100 cd/m^2, dark on bright and
# bright on dark. The operator's halo figure is the largest rim-vs-surround error (outside
# or inside the edge, stops) over the six charts.
HALO="$WORK/halo.csv"
: > "$HALO"
for c in 10 100 1000; do
  for pol in dark bright; do
    d="$WORK/halo-$pol-$c"
    mkdir -p "$d"
    lo=$(awk -v c="$c" 'BEGIN { printf "%.4g", 100 / sqrt(c) }')
    hi=$(awk -v c="$c" 'BEGIN { printf "%.4g", 100 * sqrt(c) }')
    if [ "$pol" = dark ]; then in=$lo; out=$hi; else in=$hi; out=$lo; fi
    "$Q" --halo-chart "$d/hdr.pfm" --inside "$in" --outside "$out"
    run_operators "$d"
    while IFS= read -r l && IFS= read -r f; do
      echo "$l,$pol-$c,$("$Q" --halo "$f" | tr ' ' ',')" >> "$HALO"
    done < "$d/ops"
  done
done

# Temporal behaviour through the CPU engine (dtutmo-quality --video), 320x180, 30 fps.
TEMPORAL="$WORK/temporal.md"
[ "${SKIP_TEMPORAL:-0}" = 1 ] && : > "$TEMPORAL" || {
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

# Summary per operator: means over every input (procedural scenes and photographs), the
# two sets' mean Q on their own, and the halo charts' largest rim error.
SUMMARY=$(awk -F, '
  FNR == NR { h = ($3 > $4 ? $3 : $4); if (!($1 in hm) || h > hm[$1]) hm[$1] = h; next }
  { op = $3; q[op] += $4; s[op] += $5; n[op] += $6; c[op] += $7; ml[op] += $8; lc[op] += $9;
    cl[op] += $10; k[op]++; if ($1 == "scene") { qs[op] += $4; ks[op]++ } else { qp[op] += $4; kp[op]++ }
    if (!(op in o)) { o[op] = ++m; name[m] = op } }
  END { print "| operator | mean TMQI Q | Q scenes | Q photos | mean S | mean N | colourfulness | mean luma | local contrast | clipped % | halo (stops) | inputs |";
        print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |";
        for (i = 1; i <= m; i++) { x = name[i];
          printf "| %s | %.4f | %s | %s | %.4f | %.4f | %.1f | %.1f | %.1f | %.2f | %s | %d |\n", x, q[x]/k[x],
            ks[x] ? sprintf("%.4f", qs[x]/ks[x]) : "-", kp[x] ? sprintf("%.4f", qp[x]/kp[x]) : "-",
            s[x]/k[x], n[x]/k[x], c[x]/k[x], ml[x]/k[x], lc[x]/k[x], 100*cl[x]/k[x],
            (x in hm) ? sprintf("%.2f", hm[x]) : "-", k[x] } }' "$HALO" "$CSV")
HALO_TABLE=$(awk -F, '{ if (!($1 in o)) { o[$1] = ++m; name[m] = $1 } if (!($2 in oc)) { oc[$2] = ++mc; ch[mc] = $2 }
    v[$1, $2] = sprintf("%.2f / %.2f", $3, $4) }
  END { printf "| operator |"; for (j = 1; j <= mc; j++) printf " %s |", ch[j]; printf "\n| --- |";
        for (j = 1; j <= mc; j++) printf " ---: |"; printf "\n";
        for (i = 1; i <= m; i++) { printf "| %s |", name[i]; for (j = 1; j <= mc; j++) printf " %s |", v[name[i], ch[j]]; printf "\n" } }' "$HALO")

emit() {
  cat <<EOF
# Objective quality: dtutmo against established tone mappers

Generated by \`scripts/quality/compare.sh\` on $(date -u +%Y-%m-%d) from commit
$(git rev-parse --short HEAD 2>/dev/null || echo unknown). Inputs: the procedural scenes
(\`common/dtutmo/scenes.h\`, absolute cd/m^2, rendered at $SIZE by \`dtutmo-quality
--render\`) and real HDR photographs: Blender's CC0 HDRIs of the Debian package
blender-data (1024x512 panoramas: city, courtyard, forest, interior, night, studio,
sunrise, sunset), scaled to a log-average luminance typical of their kind of scene
(\`photo_logmean\` in the script: 1000 city, 500 forest, 300 courtyard/sunrise/sunset,
50 interior, 10 studio, 0.1 night cd/m^2). dtutmo through $DT_HOW, sRGB 8-bit output,
100 cd/m^2 SDR display defaults, fov 60 degrees.

**Metrics** (\`tools/quality/metrics.h\` documents the definitions and every deviation):
- TMQI (Yeganeh and Wang 2013): Q = 0.8012 S^0.3046 + 0.1988 N^0.7088. S is multi-scale
  structural fidelity against the HDR luminance (1 = all visible HDR structure kept and no
  structure invented), N statistical naturalness of the LDR's brightness and contrast
  (1 = mean code ~116 and the typical local contrast of natural photographs). Higher is
  better. Procedural scenes are not natural photographs: N is strict on them.
- Colourfulness (Hasler and Suesstrunk 2003) of the 8-bit image; roughly 15 "slightly",
  33 "moderately", 45 "averagely", 59 "quite" colourful. Not better or worse by itself.
- Mean luma and local contrast (TMQI's: mean std of 11x11 blocks of code luma); clipped:
  pixels at white (code luma >= 254.5), crushed: at black (<= 2).
- Halo: on six halo charts (\`dtutmo-quality --halo-chart\`: a disc on a uniform
  background, 384x216 at fov 60, contrast 10, 100, 1000 about 100 cd/m^2, dark disc on
  bright and bright on dark), |log2| of the mean luminance just outside the edge (1-12 px)
  over the far background (beyond 70 px), and of just inside the edge over the disc's
  centre: a glow or shadow along edges. The summary gives the largest of the twelve
  figures; 0.1 stop is the project's limit (tests/model/test_halo.cpp).
- Banding (sky-gradient only): false contours per row (steps of >= 2 codes) and the mean
  length in pixels of runs of a constant code along rows (long runs in a smooth sky = bands).

**Operators**: naive = exposure putting the log-average luminance at 0.18 of white, linear,
hard clip (the "before" of the gallery). pfstmo operators with default parameters and the
gamma 2.2 their manuals prescribe (mantiuk08 is display-adaptive and needs none). FFmpeg
\`tonemap=hable\` and \`tonemap=mobius\` (desat=0) on the input as HDR10 delivers it
(cd/m^2 / 100, clipped at 10000 cd/m^2, peak 100): absolute, no exposure adaptation, as
they behave on real PQ video.

## Summary (mean over every input)

$SUMMARY

## Halo charts (outside / inside the edge, stops)

$HALO_TABLE

## Temporal (video)

$(cat "$TEMPORAL")

## Per input

$(cat "$TABLES")
EOF
  if [ -n "$NOTES" ]; then
    printf '\n## Notes from this run\n%s\n' "$NOTES"
  fi
}
if [ "$OUT_MD" = "-" ]; then emit; else emit > "$OUT_MD"; echo "compare: wrote $OUT_MD" >&2; fi
