// dtutmo-convert, run as a user runs it: an HDR10 clip with an audio track made here
// (hdrscenesrc ! x265enc, audiotestsrc ! avenc_aac, in MP4), converted to files that are
// then read back by FFmpeg's ffprobe (an independent reader) for streams, colour tags and
// HDR10 side data. The tool is found through DTUTMO_CONVERT; the plugin through
// GST_PLUGIN_PATH (meson sets both).
#include <cairo.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string g_dir;  // scratch folder of this run
std::string g_clip;        // 4 s HDR10 HEVC Main10 160x90 + AAC stereo, MP4
std::string g_clip_subs;   // the same streams plus a UTF-8 text track (tx3g), MP4
std::string g_audio_only;  // AAC in MP4, no video
const int kClipFrames = 120;

struct Result {
  int status = -1;  // exit status, or -1 when killed by a signal
  std::string out, err;
  bool timed_out = false;  // killed at its deadline
  std::string backtrace;   // then its threads' stacks (gdb), or what gdb said
};

std::string tool() {
  const char* t = std::getenv("DTUTMO_CONVERT");
  return t ? t : "dtutmo-convert";
}

// Runs argv to completion, capturing both streams (pipes: not a terminal). A child still
// running after `timeout_s` is killed and reported as a failure with what it had written:
// a hang fails its own test in seconds, with the tool's stderr, not the whole suite at
// meson's limit.
Result run(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
           int timeout_s = 120, bool fail_on_timeout = true) {
  std::vector<gchar*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<gchar*>(a.c_str()));
  argv.push_back(nullptr);
  gchar** envp = g_get_environ();
  for (const std::string& kv : env) {
    const size_t eq = kv.find('=');
    envp = g_environ_setenv(envp, kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), TRUE);
  }
  Result r;
  GPid pid = 0;
  gint fd_out = -1, fd_err = -1;
  GError* e = nullptr;
  const bool spawned = g_spawn_async_with_pipes(
      nullptr, argv.data(), envp, GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD),
      nullptr, nullptr, &pid, nullptr, &fd_out, &fd_err, &e);
  g_strfreev(envp);
  if (!spawned) {
    ADD_FAILURE() << "cannot run " << args[0] << ": " << (e ? e->message : "?");
    g_clear_error(&e);
    return r;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  bool timed_out = false;
  pollfd fds[2] = {{fd_out, POLLIN, 0}, {fd_err, POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    if (poll(fds, 2, int(std::min<long long>(left, 1000))) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, size_t(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  if (timed_out) {
    // where it hung: every thread's stack (gdb, from scripts/setup-debian.sh), for the log
    const std::string gdb = "gdb -p " + std::to_string(pid) +
                            " -batch -ex 'thread apply all bt' 2>&1 | grep -vE '^\\[|^$' | head -300";
    if (FILE* p = popen(("timeout 60 sh -c \"" + gdb + "\"").c_str(), "r")) {
      char line[512];
      while (fgets(line, sizeof line, p)) r.backtrace += line;
      pclose(p);
    }
    kill(pid, SIGKILL);
  }
  for (pollfd& f : fds)
    if (f.fd >= 0) close(f.fd);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  g_spawn_close_pid(pid);
  r.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  if (timed_out) {
    r.status = -1;
    r.timed_out = true;
    if (fail_on_timeout)
      ADD_FAILURE() << args[0] << " still running after " << timeout_s << " s, killed; its stderr:\n"
                    << r.err << "\nits threads:\n" << r.backtrace;
  }
  return r;
}

// The tool on args. A conversion that hangs (the pipeline stalls: once in CI, on the MP4
// with subtitles, GStreamer 1.22.0; not reproduced in ~1000 runs here, loaded or not) is
// reported with its threads' stacks and run once more: the second run's result is the
// test's. A second hang fails.
Result convert(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), tool());
  Result r = run(args, env, 120, false);
  if (r.timed_out) {
    std::printf("HANG (retried once): %s ... stalled past 120 s; its stderr:\n%s\nits threads:\n%s\n",
                args[1].c_str(), r.err.c_str(), r.backtrace.c_str());
    std::fflush(stdout);
    ::testing::Test::RecordProperty("hang", args[1] + " " + args[2]);
    if (std::find(args.begin(), args.end(), "-y") == args.end())
      args.push_back("-y");  // the killed run may have left OUT behind
    r = run(args, env);
  }
  return r;
}

// ffprobe's value of one entry, e.g. probe(f, "v:0", "stream=color_transfer"); the first
// when there are several (MPEG-TS lists its streams under the program too).
std::string probe(const std::string& file, const std::string& streams, const std::string& entries,
                  const std::vector<std::string>& extra = {}) {
  std::vector<std::string> a = {"ffprobe", "-v", "error", "-select_streams", streams,
                                "-show_entries", entries, "-of", "default=nw=1:nk=1"};
  a.insert(a.end(), extra.begin(), extra.end());
  a.push_back(file);
  Result r = run(a);
  EXPECT_EQ(r.status, 0) << r.err;
  return r.out.substr(0, r.out.find_first_of("\r\n"));
}

// The MD5 of a stream's packets, copied out by FFmpeg: equal for a stream passed through.
std::string packet_md5(const std::string& file, const std::string& map) {
  Result r = run({"ffmpeg", "-v", "error", "-i", file, "-map", map, "-c", "copy", "-f", "md5", "-"});
  EXPECT_EQ(r.status, 0) << r.err;
  return r.out;
}

// Mean luma (8-bit full scale) of frame n, decoded by FFmpeg.
double mean_luma(const std::string& file, int n) {
  Result r = run({"ffmpeg", "-v", "error", "-i", file, "-vf", "select=eq(n\\," + std::to_string(n) + ")",
               "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"});
  EXPECT_EQ(r.status, 0) << r.err;
  if (r.out.empty()) return -1;
  double s = 0;
  for (unsigned char c : r.out) s += c;
  return s / double(r.out.size());
}

bool launch(const std::string& description) {
  GError* e = nullptr;
  GstElement* p = gst_parse_launch(description.c_str(), &e);
  if (!p) {
    ADD_FAILURE() << description << ": " << (e ? e->message : "?");
    g_clear_error(&e);
    return false;
  }
  g_clear_error(&e);
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(p);
  GstMessage* m = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND,
                                             GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  bool ok = m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
  if (!ok) ADD_FAILURE() << "pipeline failed: " << description;
  if (m) gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return ok;
}

std::string path(const char* name) { return g_dir + "/" + name; }

bool exists(const std::string& f) {
  struct stat st;
  return stat(f.c_str(), &st) == 0;
}

class ConvertTool : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    gst_init(nullptr, nullptr);
    gchar* d = g_dir_make_tmp("dtutmo-convert-test-XXXXXX", nullptr);
    ASSERT_NE(d, nullptr);
    g_dir = d;
    g_free(d);
    g_clip = path("hdr10-audio.mp4");
    g_clip_subs = path("hdr10-audio-subs.mp4");
    g_audio_only = path("audio-only.m4a");
    // The animated scene (a light ramp indoors, then daylight) as HDR10: PQ BT.2020 with
    // mastering display and MaxCLL in the caps, which x265enc writes as SEI.
    const std::string audio =
        "audiotestsrc num-buffers=188 samplesperbuffer=1024 wave=sine freq=440 "
        "! audio/x-raw,rate=48000,channels=2 ! avenc_aac ! aacparse ! queue ! m. ";
    ASSERT_TRUE(launch(
        "hdrscenesrc scene=animated num-buffers=" + std::to_string(kClipFrames) +
        " ! video/x-raw,format=P010_10LE,width=160,height=90,framerate=30/1 ! videoconvert "
        "! video/x-raw,format=I420_10LE ! x265enc speed-preset=ultrafast "
        "! video/x-h265,profile=main-10 ! h265parse ! queue ! mp4mux name=m ! filesink location=" +
        g_clip + " " + audio));
    // Remuxed with a subtitle track (no re-encoding).
    const std::string srt = path("subs.srt");
    std::ofstream(srt) << "1\n00:00:00,500 --> 00:00:01,500\nHello\n\n"
                          "2\n00:00:02,000 --> 00:00:03,000\nNight falls\n\n";
    ASSERT_TRUE(launch("filesrc location=" + g_clip + " ! qtdemux name=d "
                       "d.video_0 ! queue ! h265parse ! mp4mux name=m ! filesink location=" +
                       g_clip_subs + " d.audio_0 ! queue ! aacparse ! m. filesrc location=" + srt +
                       " ! subparse ! text/x-raw,format=utf8 ! queue ! m."));
    ASSERT_TRUE(launch("audiotestsrc num-buffers=50 ! audio/x-raw,rate=48000,channels=2 "
                       "! avenc_aac ! aacparse ! mp4mux ! filesink location=" + g_audio_only));
  }
  static void TearDownTestSuite() {
    if (!g_dir.empty() && !std::getenv("DTUTMO_KEEP_TEST_FILES"))
      run({"rm", "-rf", g_dir});
  }
};

// The job of the tool: HDR10 with audio in, an SDR H.264 MP4 out with BT.709 tags, every
// frame, the audio untouched, a plot of the adaptation.
TEST_F(ConvertTool, Hdr10ToSdrMp4KeepsAudioTagsBt709AndPlots) {
  const std::string out = path("sdr.mp4"), plot = path("sdr-plot.png");
  const Result r = convert({g_clip, out, "--plot", plot});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no progress line when not a terminal";
  EXPECT_NE(r.err.find("copied"), std::string::npos) << r.err;
  EXPECT_EQ(probe(out, "v:0", "stream=codec_name"), "h264");
  EXPECT_EQ(probe(out, "v:0", "stream=pix_fmt"), "yuv420p");
  EXPECT_EQ(probe(out, "v:0", "stream=color_primaries"), "bt709");
  EXPECT_EQ(probe(out, "v:0", "stream=color_transfer"), "bt709");
  EXPECT_EQ(probe(out, "v:0", "stream=color_space"), "bt709");
  EXPECT_EQ(probe(out, "v:0", "stream=color_range"), "tv");
  // dtutmo packs centre-sited chroma; the stream says so (not H.264's left default).
  EXPECT_EQ(probe(out, "v:0", "stream=chroma_location"), "center");
  EXPECT_EQ(probe(out, "v:0", "stream=nb_frames"), std::to_string(kClipFrames));
  EXPECT_EQ(probe(out, "v:0", "stream=width"), "160");
  EXPECT_EQ(probe(out, "a:0", "stream=codec_name"), "aac");
  EXPECT_EQ(packet_md5(out, "0:a:0"), packet_md5(g_clip, "0:a:0")) << "audio was not copied";
  // Tone-mapped pictures: neither black nor clipped white (limited-range luma 16..235).
  for (int n : {10, 60, 110}) {
    const double y = mean_luma(out, n);
    EXPECT_GT(y, 30) << "frame " << n;
    EXPECT_LT(y, 220) << "frame " << n;
  }
  // The plot: a PNG of the size drawn, with the luminance curve in it.
  cairo_surface_t* png = cairo_image_surface_create_from_png(plot.c_str());
  ASSERT_EQ(cairo_surface_status(png), CAIRO_STATUS_SUCCESS);
  EXPECT_EQ(cairo_image_surface_get_width(png), 1200);
  EXPECT_EQ(cairo_image_surface_get_height(png), 900);
  const unsigned char* data = cairo_image_surface_get_data(png);
  const int stride = cairo_image_surface_get_stride(png);
  int orange = 0, green = 0;
  for (int y = 0; y < 900; ++y)
    for (int x = 0; x < 1200; ++x) {
      const unsigned char* px = data + y * stride + x * 4;  // B G R A (native endian)
      if (px[2] > 200 && px[1] > 80 && px[1] < 110 && px[0] < 20) ++orange;  // luminance
      if (px[2] < 40 && px[1] > 140 && px[1] < 170 && px[0] > 105 && px[0] < 135) ++green;
    }
  cairo_surface_destroy(png);
  EXPECT_GT(orange, 1000) << "no adaptation-luminance curve";
  EXPECT_GT(green, 1000) << "no pupil curve";
}

// HDR outputs: HEVC Main10 tagged BT.2020 + PQ or HLG, with the HDR10 side data of the
// display the element mapped for (mastering display = display-peak, MaxCLL).
TEST_F(ConvertTool, HdrTargetsCarryBt2020PqHlgAndHdr10Metadata) {
  const std::string pq = path("pq.mkv"), hlg = path("hlg.mp4");
  Result r = convert({g_clip, pq, "--target", "pq", "--set", "display-peak=1000", "--preset",
                   "ultrafast", "-q"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << "-q prints nothing: " << r.err;
  EXPECT_EQ(probe(pq, "v:0", "stream=codec_name"), "hevc");
  EXPECT_EQ(probe(pq, "v:0", "stream=pix_fmt"), "yuv420p10le");
  EXPECT_EQ(probe(pq, "v:0", "stream=color_primaries"), "bt2020");
  EXPECT_EQ(probe(pq, "v:0", "stream=color_transfer"), "smpte2084");
  EXPECT_EQ(probe(pq, "v:0", "stream=color_space"), "bt2020nc");
  EXPECT_EQ(probe(pq, "v:0", "stream=chroma_location"), "center");  // x265: chromaloc=1
  const std::vector<std::string> first = {"-read_intervals", "%+#1"};
  EXPECT_EQ(probe(pq, "v:0", "frame_side_data=max_luminance", first), "10000000/10000");
  EXPECT_EQ(probe(pq, "v:0", "frame_side_data=max_content", first), "1000");
  EXPECT_EQ(probe(pq, "a:0", "stream=codec_name"), "aac") << "AAC copied into Matroska";

  r = convert({g_clip, hlg, "--target", "hlg", "--preset", "ultrafast", "--no-audio"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(probe(hlg, "v:0", "stream=color_transfer"), "arib-std-b67");
  EXPECT_EQ(probe(hlg, "v:0", "stream=color_primaries"), "bt2020");
  EXPECT_EQ(probe(hlg, "v:0", "stream=chroma_location"), "center");
  EXPECT_EQ(probe(hlg, "a", "stream=codec_name"), "") << "--no-audio";
  EXPECT_EQ(probe(hlg, "v:0", "stream=nb_frames"), std::to_string(kClipFrames));
}

// Subtitles are copied where the container carries them (Matroska, MP4) and dropped
// with a note where it cannot (MPEG-TS takes no text); the rest of the file is whole.
TEST_F(ConvertTool, SubtitlesCopiedWhereTheContainerCarriesThem) {
  const std::string mkv = path("subs.mkv"), mp4 = path("subs.mp4"), ts = path("subs.ts");
  Result r = convert({g_clip_subs, mkv, "--preset", "ultrafast"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(probe(mkv, "s", "stream=codec_type"), "subtitle");
  EXPECT_EQ(probe(mkv, "a", "stream=codec_type"), "audio");
  r = convert({g_clip_subs, mp4, "--preset", "ultrafast"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(probe(mp4, "s", "stream=codec_name"), "mov_text");
  r = convert({g_clip_subs, ts, "--preset", "ultrafast"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("1 dropped"), std::string::npos) << r.err;
  EXPECT_EQ(probe(ts, "s", "stream=codec_type"), "");
  EXPECT_EQ(probe(ts, "a:0", "stream=codec_name"), "aac");
  EXPECT_EQ(probe(ts, "v:0", "stream=codec_name"), "h264");
}

// A pipeline that stalls (nothing converted or written: its streaming threads waiting on
// each other) is given up after --stall-timeout seconds with a plain message, exit 1 and
// no partial file, rather than waiting forever. The stall is made by the tool's test hook
// (DTUTMO_CONVERT_TEST_STALL=N holds the video branch after N frames).
TEST_F(ConvertTool, StalledPipelineIsGivenUp) {
  const std::string out = path("stalled.mp4");
  const auto t0 = std::chrono::steady_clock::now();
  const Result r = convert({g_clip, out, "--stall-timeout", "3", "--preset", "ultrafast"},
                           {"DTUTMO_CONVERT_TEST_STALL=10"});
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("stalled"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("after 11 frames"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(out)) << "partial file left behind";
  EXPECT_LT(s, 60.0) << "gave up after " << s << " s";
  const Result u = convert({g_clip, out, "--stall-timeout", "x"});
  EXPECT_EQ(u.status, 2) << u.err;
}

// Clear errors and exit status 1 for what a user gets wrong, 2 for bad usage; nothing
// left behind.
TEST_F(ConvertTool, ClearErrorsAndExitStatus) {
  const std::string out = path("err.mp4");
  Result r = convert({path("no-such-file.mp4"), out});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;

  const std::string junk = path("junk.mp4");
  std::ofstream(junk) << "this is not a video\n";
  r = convert({junk, out});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot read " + junk), std::string::npos) << r.err;

  r = convert({g_audio_only, out});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no video stream"), std::string::npos) << r.err;

  r = convert({g_clip, path("no-such-dir/out.mp4")});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;

  std::ofstream(path("taken.mp4")) << "x";
  r = convert({g_clip, path("taken.mp4")});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("-y"), std::string::npos) << r.err;

  r = convert({g_clip, path("out.avi")});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(".mkv"), std::string::npos) << r.err;

  r = convert({g_clip, out, "--set", "local-adaptation=7"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("local-adaptation"), std::string::npos) << r.err;
  r = convert({g_clip, out, "--set", "no-such-property=1"});
  EXPECT_EQ(r.status, 2);
  // Each value in its range, the pair invalid: refused up front (the element would hold
  // the pair back and convert with other settings than asked).
  r = convert({g_clip, out, "--set", "display-peak=5"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("display-peak"), std::string::npos) << r.err;
  r = convert({g_clip, out, "--set", "display-black=20"});  // SDR's 100 cd/m2 peak
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("display-black"), std::string::npos) << r.err;
  r = convert({g_clip, out, "--target", "pq", "--codec", "h264"});
  EXPECT_EQ(r.status, 2);
  EXPECT_FALSE(exists(out)) << "failed runs leave no output";
}

// A machine without gstreamer1.0-plugins-ugly: every system plugin but x264's.
TEST_F(ConvertTool, MissingEncoderIsNamed) {
  const char* sys = std::getenv("GST_PLUGIN_SYSTEM_PATH");
  ASSERT_NE(sys, nullptr);
  const std::string dir = path("plugins-without-x264");
  ASSERT_EQ(g_mkdir_with_parents(dir.c_str(), 0755), 0);
  GDir* d = g_dir_open(sys, 0, nullptr);
  ASSERT_NE(d, nullptr);
  int linked = 0;
  while (const char* name = g_dir_read_name(d)) {
    if (std::strstr(name, "x264")) continue;
    linked += symlink((std::string(sys) + "/" + name).c_str(), (dir + "/" + name).c_str()) == 0;
  }
  g_dir_close(d);
  ASSERT_GT(linked, 10);
  const Result r = convert({g_clip, path("no-x264.mp4")},
                        {"GST_PLUGIN_SYSTEM_PATH=" + dir, "GST_REGISTRY=" + path("registry-no-x264.bin")});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("missing encoder: x264enc"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("gstreamer1.0-plugins-ugly"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(path("no-x264.mp4")));
}

// On a terminal: a progress line with percent, fps and ETA (none with -q).
TEST_F(ConvertTool, ProgressLineOnATerminal) {
  for (bool quiet : {false, true}) {
    SCOPED_TRACE(quiet ? "-q" : "progress");
    const std::string out = path(quiet ? "tty-q.mp4" : "tty.mp4");
    int master = -1;
    const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // --realtime: 4 s, so that the 0.5 s progress timer fires a few times.
      const std::string t = tool();
      std::vector<const char*> a = {t.c_str(), g_clip.c_str(), out.c_str(), "--realtime",
                                    "--preset", "ultrafast"};
      if (quiet) a.push_back("-q");
      a.push_back(nullptr);
      execvp(a[0], const_cast<char* const*>(a.data()));
      _exit(127);
    }
    std::string text;
    char buf[4096];
    for (;;) {
      const ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) break;  // EIO once the child has gone
      text.append(buf, size_t(n));
    }
    int st = 0;
    waitpid(pid, &st, 0);
    close(master);
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0) << text;
    if (quiet) {
      EXPECT_EQ(text.find("fps"), std::string::npos) << text;
    } else {
      EXPECT_NE(text.find('\r'), std::string::npos) << text;
      EXPECT_NE(text.find("%"), std::string::npos) << text;
      EXPECT_NE(text.find(" fps"), std::string::npos) << text;
      EXPECT_NE(text.find("ETA"), std::string::npos) << text;
      EXPECT_NE(text.find("100.0%"), std::string::npos) << "final line: " << text;
    }
  }
}

// Ctrl-C (SIGINT) half-way: EOS, so the MP4 is finished (moov written) and plays, shorter
// than the input; exit status 130.
TEST_F(ConvertTool, CtrlCFinishesAPlayableFile) {
  const std::string out = path("interrupted.mp4"), log = path("interrupted.log");
  const std::string t = tool();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    execlp(t.c_str(), t.c_str(), g_clip.c_str(), out.c_str(), "--realtime", "--preset",
           "ultrafast", (char*)nullptr);
    _exit(127);
  }
  // Wait until frames reach the file (the muxer writes as it goes), then interrupt.
  bool writing = false;
  for (int i = 0; i < 600 && !writing; ++i) {
    struct stat st;
    writing = stat(out.c_str(), &st) == 0 && st.st_size > 4000;
    if (!writing) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(writing) << "no output after 30 s";
  kill(pid, SIGINT);
  int st = 0;
  waitpid(pid, &st, 0);
  std::ifstream lf(log);
  const std::string text((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(st)) << "killed by the signal instead of finishing: " << text;
  EXPECT_EQ(WEXITSTATUS(st), 130) << text;
  EXPECT_NE(text.find("stopping"), std::string::npos) << text;
  const std::string frames = probe(out, "v:0", "stream=nb_read_frames", {"-count_frames"});
  ASSERT_FALSE(frames.empty());
  EXPECT_GT(std::atoi(frames.c_str()), 5);
  EXPECT_LT(std::atoi(frames.c_str()), kClipFrames - 15) << "ran to the end: not interrupted";
  EXPECT_EQ(probe(out, "a:0", "stream=codec_name"), "aac");
}

}  // namespace
