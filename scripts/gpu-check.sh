#!/usr/bin/env bash
# Step 2 of the GPU check, ON THE GPU MACHINE (step 1, scripts/gpu-check-prepare.sh, made
# .devbundle/gpu-check.tar.xz on the build machine: the tests, the benchmark, the plugin,
# GStreamer and an HDR10 clip; the GPU machine needs only its NVIDIA driver, cuFFT and, for
# the sanitizer runs, compute-sanitizer). Prints ONE report, last:
#   the GPU and driver;
#   every GPU test with DTUTMO_REQUIRE_GPU=1 (a test that would skip fails);
#   dtutmo-bench-cuda at 3840x2160 and 1920x1080, fast and balanced: per-stage times,
#     device bytes per pixel, N engines at once;
#   nvh265dec ! dtutmo ! cudadownload on the clip (fps against decoding alone), the
#     element's throughput on CUDA memory at 4K, N concurrent 4K streams in one process;
#     (cudaupload ! dtutmo ! cudadownload against engine=cpu, pixel by pixel, and the
#     NVDEC path against the CPU engine are test cases above);
#   compute-sanitizer memcheck, racecheck and synccheck on a small representative subset.
#   with GPU_CHECK_PROFILE=1, Nsight Compute on the 4K fast frame (ncu-kernels.txt,
#     ncu-hot.txt and, per source line of the hot kernels, ncu-source.csv beside the report).
# GPU_CHECK_STEPS picks the steps (default "tests bench pipelines sanitizers", and
# "profile" with GPU_CHECK_PROFILE=1): GPU_CHECK_STEPS=profile profiles alone (~1 minute).
# Exits 0 when every step passed, 1 when one failed, 2 (one line) when there is no GPU or
# no bundle. Keeps to GPU_CHECK_SECONDS (default 380) of its own time: steps that would
# start later are reported as not run. The report also goes to $OUT/gpu-check-report.txt
# (or .devbundle/out/), with every log in gpu-check-logs.tar.xz beside it.
set -u
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT" || exit 2
BUDGET=${GPU_CHECK_SECONDS:-380}
STEPS=${GPU_CHECK_STEPS:-tests bench pipelines sanitizers}
[ "${GPU_CHECK_PROFILE:-0}" = 1 ] && STEPS="$STEPS profile"
want() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }
ARCHIVE=${GPU_CHECK_ARCHIVE:-.devbundle/gpu-check.tar.xz}

# --- no GPU, no bundle: one line, non-zero ----------------------------------------------
if ! command -v nvidia-smi >/dev/null 2>&1; then
  if [ ! -e /dev/nvidia0 ]; then
    echo "gpu-check: no NVIDIA GPU here (no nvidia-smi, no /dev/nvidia0)"
    exit 2
  fi
elif ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  echo "gpu-check: no NVIDIA GPU here (nvidia-smi lists none: $(nvidia-smi -L 2>&1 | head -1))"
  exit 2
fi
if [ ! -f "$ARCHIVE" ]; then
  echo "gpu-check: $ARCHIVE is missing: run scripts/gpu-check-prepare.sh on the build machine first"
  exit 2
fi

OUTD=${OUT:-$ROOT/.devbundle/out}
mkdir -p "$OUTD"
WORK=$(mktemp -d /tmp/gpu-check.XXXXXX)
LOGS=$WORK/logs
mkdir -p "$LOGS"
tar -C "$WORK" -xJf "$ARCHIVE" || { echo "gpu-check: could not unpack $ARCHIVE"; exit 2; }
B=$WORK/gpu-check

# --- environment: the bundle's GStreamer, the machine's driver and cuFFT ----------------
find_cufft() {
  local d
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu; do
    [ -e "$d/libcufft.so.12" ] && { echo "$d"; return; }
  done
  d=$(ldconfig -p 2>/dev/null | awk '/libcufft\.so\.12 /{print $NF; exit}')
  [ -n "$d" ] && { dirname "$d"; return; }
  d=$(timeout 30 find /usr /opt -name 'libcufft.so.12' 2>/dev/null | head -1)  # pip's nvidia-cufft
  [ -n "$d" ] && dirname "$d"
}
CUFFT_DIR=$(find_cufft)
libpath=$B/lib
[ -n "$CUFFT_DIR" ] && libpath=$libpath:$CUFFT_DIR
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && libpath=$libpath:$d; done
export LD_LIBRARY_PATH=$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GST_PLUGIN_PATH=$B/plugins GST_PLUGIN_PATH_1_0=$B/plugins
export GST_PLUGIN_SYSTEM_PATH=$B/sysplugins GST_PLUGIN_SYSTEM_PATH_1_0=$B/sysplugins
export GST_PLUGIN_SCANNER=$B/bin/gst-plugin-scanner GST_PLUGIN_SCANNER_1_0=$B/bin/gst-plugin-scanner
export GST_REGISTRY=$WORK/registry.bin GST_REGISTRY_1_0=$WORK/registry.bin
export GST_DEBUG=${GST_DEBUG:-*:1} GST_DEBUG_NO_COLOR=1
export PATH=$B/bin:$PATH
export DTUTMO_REQUIRE_GPU=1
export DTUTMO_HDR10_CLIP=$B/hdr10.mp4
# The bundle's libstdc++ only where the machine's is older than the build machine's.
if ! "$B/bin/test-cuda-available" --gtest_list_tests >"$LOGS/probe.log" 2>&1; then
  if grep -q 'GLIBCXX\|CXXABI\|GCC_' "$LOGS/probe.log"; then
    export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$B/lib-compat
  fi
fi

# --- steps ----------------------------------------------------------------------------
REPORT=$WORK/report.txt
: >"$REPORT"
FAILED=()
SECTIONS=$WORK/sections.txt
: >"$SECTIONS"
line() { echo "$*" >>"$REPORT"; }
left() { echo $((BUDGET - SECONDS)); }
# step NAME TIMEOUT_S CMD...: runs CMD (output in $LOGS/NAME.log), sets RC and DUR; a step
# that cannot get 10 s is not run (RC 124 and a note).
step() {
  local name=$1 t=$2
  shift 2
  local room=$(( $(left) - 5 ))
  [ "$t" -gt "$room" ] && t=$room
  if [ "$t" -lt 10 ]; then
    RC=125; DUR=0
    echo "not run: out of time (GPU_CHECK_SECONDS=$BUDGET)" >"$LOGS/$name.log"
    return
  fi
  local t0=$SECONDS
  timeout -k 5 "$t" "$@" >"$LOGS/$name.log" 2>&1
  RC=$?
  DUR=$((SECONDS - t0))
}
verdict() {  # verdict NAME OK_TEXT: PASS when RC is 0
  local name=$1 text=$2
  if [ "$RC" -eq 0 ]; then
    line "$(printf '[PASS] %-34s %s (%ss)' "$name" "$text" "$DUR")"
  else
    local why="exit $RC"
    [ "$RC" -eq 124 ] && why="timed out after ${DUR}s"
    [ "$RC" -eq 125 ] && why="not run: out of time"
    line "$(printf '[FAIL] %-34s %s; %s (%ss)' "$name" "$text" "$why" "$DUR")"
    FAILED+=("$name")
  fi
}
gtest_counts() {  # "N passed, N failed, N skipped" from a GoogleTest log
  local log=$1 p f s
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  echo "${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
}
gtest_failures() {  # the failed tests, then the distinct failure messages, 12 lines at most
  if ! grep -q '^\[==========\] Running' "$1"; then  # it did not start: the loader's words
    tail -3 "$1" | sed 's/^/         /' >>"$REPORT"
    return
  fi
  {
    grep -E '^\[  FAILED  \] [A-Za-z]' "$1" | grep -v ' ms)$' | sed 's/^\[  FAILED  \] //' |
      paste -sd, - | sed 's/,/, /g; s/^/failed: /' | fold -w 90 -s | head -3
    echo
    grep -E -A2 'Failure$' "$1" | grep -vE 'Failure$|^--$|^Failed$' | awk '!seen[$0]++' | head -9
  } | grep -v '^ *$' | sed 's/^/         /' >>"$REPORT"
}

GPU_LINE=$(nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,power.limit \
           --format=csv,noheader 2>/dev/null | head -1)
CUDA_DRV=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -1)
# A CUDA tool from PATH or the toolkit's bin folder; empty when neither has it.
cuda_tool() { command -v "$1" || ls "/usr/local/cuda/bin/$1" 2>/dev/null || true; }
CS=$(cuda_tool compute-sanitizer)
timeout 60 gst-inspect-1.0 >/dev/null 2>&1  # builds the registry (nvcodec probes the GPU once)
have() { gst-inspect-1.0 "$1" >/dev/null 2>&1; }

# 1. Every GPU test, required.
TESTS_T0=$SECONDS
if want tests; then
filter_mem='*'
NOTES=()
if ! have nvh264enc; then
  filter_mem='-CudaGpu.NvdecDtutmoNvencOnHdr10'
  NOTES+=("CudaGpu.NvdecDtutmoNvencOnHdr10 left out: nvh264enc is not registered (no NVENC; H100/H200 have none)")
fi
for t in test-cuda-available:60 test-cuda-helpers:60 test-cuda-stages:60 test-cuda-plans:60 \
         test-cuda-parity:150 test_cuda_memory:150 test_gst_elements:90; do
  name=${t%%:*}
  f='*'
  [ "$name" = test_cuda_memory ] && f=$filter_mem
  step "$name" "${t##*:}" "$B/bin/$name" --gtest_filter="$f" --gtest_output="xml:$LOGS/$name.xml"
  counts=$(gtest_counts "$LOGS/$name.log")
  # a skip is a failure here, and so is a binary that ran no test
  case $counts in *" 0 skipped") ;; *) [ "$RC" -eq 0 ] && RC=3 ;; esac
  case $counts in "0 passed"*) [ "$RC" -eq 0 ] && RC=4 ;; esac
  verdict "test $name" "$counts"
  [ "$RC" -ne 0 ] && gtest_failures "$LOGS/$name.log"
done
for n in "${NOTES[@]}"; do line "       note: $n"; done
# The two pipelines the check is asked for, as their test cases reported them.
for tc in UploadDtutmoDownloadMatchesCpuEngine NvdecDtutmoMatchesCpuOnHdr10; do
  st="not run"
  if [ -f "$LOGS/test_cuda_memory.log" ]; then
    grep -q "^\[       OK \] CudaGpu.$tc " "$LOGS/test_cuda_memory.log" && st="pixels match the CPU engine"
    grep -q "^\[  FAILED  \] CudaGpu.$tc " "$LOGS/test_cuda_memory.log" && st="FAILED (see above)"
  fi
  line "       CudaGpu.$tc: $st"
done
fi
TESTS_DUR=$((SECONDS - TESTS_T0))

# 2. The engine benchmark.
if want bench; then
step bench 150 "$B/bin/dtutmo-bench-cuda" --frames 100 --warmup 20 --streams 1,2,4,8
case $RC in
  0) BENCH_NOTE="ran; 4K goals met" ;;
  3) RC=0; BENCH_NOTE="ran; 4K goals (0.5 / 2 ms) missed, see the table" ;;
  *) BENCH_NOTE="did not finish" ;;
esac
verdict "dtutmo-bench-cuda" "$BENCH_NOTE"
{
  echo "--- dtutmo-bench-cuda --frames 100 --warmup 20 --streams 1,2,4,8 (engine only, device frames)"
  grep -v '^$' "$LOGS/bench.log" | grep -v '^input P010\|^device:' | head -90
} >>"$SECTIONS"
fi

# 3. Pipelines: fps from two runs of different length (start-up cancels out).
# The first error of a failed gst-launch run, for the report.
pipe_error() {
  local e
  e=$(grep -m1 -E '^(ERROR|WARNING): ' "$LOGS/$1.log" || grep -m1 -E 'ERROR|error' "$LOGS/$1.log")
  e=$(echo "$e" | cut -c1-150)
  [ "$RC" -eq 124 ] && e="timed out"
  [ "$RC" -eq 125 ] && e="not run: out of time"
  echo "      $1: ${e:-exit $RC}" >>"$WORK/pipe-errors.txt"
}
# step_ms: step, with the wall time in milliseconds in DUR_MS.
step_ms() {
  local t0 t1
  t0=$(date +%s%N)
  step "$@"
  t1=$(date +%s%N)
  DUR_MS=$(( (t1 - t0) / 1000000 ))
}
# diff_fps NAME FRAMES_SHORT FRAMES_LONG PIPELINE_SHORT PIPELINE_LONG: frames per second
# from the difference of the two runs, or "fail".
diff_fps() {
  local name=$1 a=$2 b=$3 ta
  step_ms "$name-short" 90 gst-launch-1.0 -q $4
  [ "$RC" -ne 0 ] && { pipe_error "$name-short"; echo fail; return; }
  ta=$DUR_MS
  step_ms "$name-long" 120 gst-launch-1.0 -q $5
  [ "$RC" -ne 0 ] && { pipe_error "$name-long"; echo fail; return; }
  awk -v a="$a" -v b="$b" -v ta="$ta" -v tb="$DUR_MS" \
    'BEGIN { d = (tb - ta) / 1000.0; if (d <= 0) print "n/a"; else printf "%.0f", (b - a) / d }'
}

if want pipelines; then
PIPE_T0=$SECONDS
PIPES_OK=1
{
  echo "--- pipelines (gst-launch-1.0, fakesink sync=false; fps = extra frames / extra seconds"
  echo "    between a short and a long run, so start-up does not count)"
} >>"$SECTIONS"
# 3a. NVDEC: the clip's elementary stream, once and ten times over, decoded alone (kept
#     in CUDA memory: a system-memory sink would add a download) and through dtutmo.
ES1=$WORK/clip1.h265
ES10=$WORK/clip10.h265
NCLIP=$(cat "$B/clip-frames" 2>/dev/null || echo 60)
if have nvh265dec && gst-launch-1.0 -q filesrc location="$B/hdr10.mp4" ! qtdemux ! h265parse \
     ! video/x-h265,stream-format=byte-stream,alignment=au ! filesink location="$ES1" \
     >"$LOGS/extract.log" 2>&1; then
  for _ in 1 2 3 4 5 6 7 8 9 10; do cat "$ES1"; done >"$ES10"
  for v in "decode only:! video/x-raw(memory:CUDAMemory)" "fast:! dtutmo profile=fast ! video/x-raw(memory:CUDAMemory),format=NV12" \
           "balanced:! dtutmo profile=balanced ! video/x-raw(memory:CUDAMemory),format=NV12"; do
    label=${v%%:*}
    rest=${v#*:}
    fps=$(diff_fps "nvdec-${label// /-}" "$NCLIP" $((10 * NCLIP)) \
          "filesrc location=$ES1 ! h265parse ! nvh265dec $rest ! fakesink sync=false" \
          "filesrc location=$ES10 ! h265parse ! nvh265dec $rest ! fakesink sync=false")
    printf '    %-52s %6s fps\n' "nvh265dec (4K HDR10 clip), $label" "$fps" >>"$SECTIONS"
    [ "$fps" = fail ] && PIPES_OK=0
  done
else
  echo "    nvh265dec: not registered, or the clip could not be read (logs: extract.log)" >>"$SECTIONS"
  PIPES_OK=0
fi
# 3b. The element alone on CUDA memory: one 4K frame uploaded once, repeated by imagefreeze
#     (no decode, no upload in the loop; sky-gradient is the scene quickest to render on
#     the CPU, the engine's work does not depend on the picture).
one4k="hdrscenesrc scene=sky-gradient num-buffers=1 ! video/x-raw,format=P010_10LE,width=3840,height=2160,framerate=60/1 ! cudaupload ! video/x-raw(memory:CUDAMemory) ! imagefreeze num-buffers=@N@"
for v in "no dtutmo:" "fast:! dtutmo profile=fast ! video/x-raw(memory:CUDAMemory),format=NV12" \
         "balanced:! dtutmo profile=balanced ! video/x-raw(memory:CUDAMemory),format=NV12"; do
  label=${v%%:*}
  rest=${v#*:}
  p="$one4k $rest ! fakesink sync=false"
  fps=$(diff_fps "element-${label// /-}" 100 1100 "${p//@N@/100}" "${p//@N@/1100}")
  goal=""
  [ "$label" = fast ] && goal="(goal >= 1000)"
  [ "$label" = balanced ] && goal="(goal >= 300)"
  printf '    %-52s %6s fps %s\n' "4K CUDA memory, imagefreeze, $label" "$fps" "$goal" >>"$SECTIONS"
  [ "$fps" = fail ] && PIPES_OK=0
done
# 3c. N concurrent 4K streams in one process (one CUDA context, a streaming thread each).
for n in 1 2 4 8; do
  br="$one4k ! dtutmo profile=balanced ! video/x-raw(memory:CUDAMemory),format=NV12 ! fakesink sync=false"
  short="" long=""
  for _ in $(seq "$n"); do
    short="$short ${br//@N@/50}"
    long="$long ${br//@N@/250}"
  done
  fps=$(diff_fps "streams-$n" $((50 * n)) $((250 * n)) "$short" "$long")
  per=$(awk -v a="$fps" -v n="$n" 'BEGIN { if (a + 0 > 0) printf "%.0f", a / n; else print a }')
  printf '    %-52s %6s fps, %s per stream\n' "$n x 4K balanced in one process" "$fps" "$per" >>"$SECTIONS"
  [ "$fps" = fail ] && PIPES_OK=0
done
RC=$((1 - PIPES_OK)); DUR=$((SECONDS - PIPE_T0))
verdict "pipelines" "nvh265dec / CUDA-memory element / N streams"
[ -f "$WORK/pipe-errors.txt" ] && head -8 "$WORK/pipe-errors.txt" >>"$REPORT"
fi

# 4. compute-sanitizer on a small representative subset: the balanced path with glare,
#    bilateral grid, CSF and bad samples; device views on the caller's stream; every
#    spatial stage against the CPU.
SUBSET_PARITY='CudaParity.BadSamples:CudaParity.DeviceViewsAndStreams:CudaParity.RejectsMismatchedFrames'
if ! want sanitizers; then
  :
elif [ -n "$CS" ]; then
  for tool in memcheck racecheck synccheck; do
    extra=""
    [ "$tool" = memcheck ] && extra="--leak-check full"
    step "sanitizer-$tool-parity" 60 "$CS" --tool "$tool" $extra --error-exitcode 1 --print-limit 20 \
      "$B/bin/test-cuda-parity" --gtest_filter="$SUBSET_PARITY"
    r1=$RC; d1=$DUR
    step "sanitizer-$tool-stages" 60 "$CS" --tool "$tool" $extra --error-exitcode 1 --print-limit 20 \
      "$B/bin/test-cuda-stages"
    RC=$(( r1 != 0 ? r1 : RC )); DUR=$((d1 + DUR))
    errs=$(cat "$LOGS/sanitizer-$tool-parity.log" "$LOGS/sanitizer-$tool-stages.log" |
           sed -n 's/^========= ERROR SUMMARY: \([0-9]*\) error.*/\1/p' | awk '{s += $1} END {print s + 0}')
    verdict "compute-sanitizer $tool" "$errs errors (parity subset + stages)"
    [ "$RC" -ne 0 ] && grep -h '^========= ' "$LOGS/sanitizer-$tool-"*.log | grep -v 'ERROR SUMMARY\|^========= $' |
      head -10 | sed 's/^/         /' >>"$REPORT"
  done
else
  RC=127; DUR=0
  verdict "compute-sanitizer" "not found (PATH, /usr/local/cuda/bin)"
fi

# 5. With GPU_CHECK_PROFILE=1 (and Nsight Compute there): where the 4K fast frame's time
#    goes, kernel by kernel (speed of light), then the full set (source counters among
#    it; the build has -lineinfo, so its locations have source lines) for the per-pixel
#    pass and the single-block kernels that carry the frame's statistics; both files in
#    $OUTD.
if want profile; then
  NCU=$(cuda_tool ncu)
  if [ -n "$NCU" ]; then
    prof_args=(--size 3840x2160 --profile fast --frames 2 --warmup 1)
    step ncu-kernels 90 "$NCU" --clock-control none --section SpeedOfLight -c 30 \
      "$B/bin/dtutmo-bench-cuda" "${prof_args[@]}"
    [ "$RC" -eq 3 ] && RC=0  # the benchmark's own "goal missed"
    r1=$RC; d1=$DUR
    cp "$LOGS/ncu-kernels.log" "$OUTD/ncu-kernels.txt" 2>/dev/null
    step ncu-hot 150 "$NCU" --clock-control none --set full --import-source yes \
      -k 'regex:k_pass2|k_global_stats|k_frame_setup|k_rod_display|k_ep_range' -c 5 \
      --export "$WORK/ncu-hot" "$B/bin/dtutmo-bench-cuda" "${prof_args[@]}"
    [ "$RC" -eq 3 ] && RC=0
    # the report's details (the text an unexported run prints), then per CUDA source line
    # of those kernels: instructions executed, warp-stall samples
    if [ -f "$WORK/ncu-hot.ncu-rep" ]; then
      "$NCU" -i "$WORK/ncu-hot.ncu-rep" --page details >"$OUTD/ncu-hot.txt" 2>>"$LOGS/ncu-hot.log"
      "$NCU" -i "$WORK/ncu-hot.ncu-rep" --page source --csv --print-source cuda \
        >"$OUTD/ncu-source.csv" 2>"$LOGS/ncu-source.log"
    else
      cp "$LOGS/ncu-hot.log" "$OUTD/ncu-hot.txt" 2>/dev/null
    fi
    RC=$(( r1 != 0 ? r1 : RC )); DUR=$((d1 + DUR))
    verdict "ncu profile" "ncu-kernels.txt, ncu-hot.txt, ncu-source.csv"
    {
      echo "--- ncu, 3840x2160 fast, one frame: kernel, duration (us)"
      awk '/^  [^ ].*\(/ { k = $1; sub(/\(.*/, "", k); sub(/.*::/, "", k) }
           /^ +Duration / { printf "    %-24s %10s\n", k, $NF }' \
        "$LOGS/ncu-kernels.log" | head -30
    } >>"$SECTIONS"
  else
    RC=127; DUR=0
    verdict "ncu profile" "ncu not found"
  fi
fi

# --- the report -----------------------------------------------------------------------
{
  echo "==================== dtutmo GPU check ===================="
  echo "bundle  commit $(cat "$B/commit" 2>/dev/null), built on: $(paste -sd';' "$B/built-on" 2>/dev/null)"
  echo "GPU     ${GPU_LINE:-unknown}; CUDA (driver) ${CUDA_DRV:-?}"
  echo "host    $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
  echo "cuFFT   ${CUFFT_DIR:-NOT FOUND}/libcufft.so.12; compute-sanitizer ${CS:-not found}"
  echo "date    $(date -u '+%Y-%m-%d %H:%M UTC'); tests took ${TESTS_DUR}s"
  echo "----------------------------------------------------------"
  cat "$REPORT"
  cat "$SECTIONS"
  echo "----------------------------------------------------------"
  if [ ${#FAILED[@]} -eq 0 ]; then
    echo "RESULT: PASS (every step) in ${SECONDS}s"
  else
    echo "RESULT: FAIL (${FAILED[*]}) in ${SECONDS}s"
  fi
} >"$OUTD/gpu-check-report.txt"
tar -C "$WORK" -cJf "$OUTD/gpu-check-logs.tar.xz" logs 2>/dev/null
cat "$OUTD/gpu-check-report.txt"
[ ${#FAILED[@]} -eq 0 ]
