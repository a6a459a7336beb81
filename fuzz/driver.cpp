// dtutmo fuzzing -- a deterministic mutation driver for libFuzzer-style targets
// (LLVMFuzzerTestOneInput), used where libFuzzer is not (GCC builds, CI).
//
// It runs every file of the seed corpus as is, then mutated inputs: input k is seed
// (k mod seeds) with 1..4 mutations drawn from a PRNG seeded by (--seed, k), so a run is
// the same sequence of inputs on every machine, and a failure names the k that reproduces
// it (--only k). Mutations: bit flips, interesting bytes and integers (0, -1, 2^31,
// 2^32...), decimal numbers in text replaced by interesting ones, inserted, erased and
// duplicated ranges, truncation, splicing with another seed.
//
// Bounded by --max-time seconds and/or --runs inputs. A failure (sanitizer report, crash,
// an input running longer than --timeout, the process growing past --rss-limit-mb) writes
// the input to --artifacts (default: the current folder) as crash-<target>-<k>, says how
// to reproduce it, and exits non-zero; a clean run prints one summary line and exits 0.
// With a file instead of a folder and no --runs/--max-time, it just runs that file (to
// reproduce a saved crash).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);
// Sanitizer runtime (ASan/UBSan): called before the process dies of a report.
extern "C" __attribute__((weak)) void __sanitizer_set_death_callback(void (*callback)(void));

namespace {

using Bytes = std::vector<uint8_t>;

struct Current {
  const char* target = "fuzz";
  std::string artifacts = ".";
  long long index = -1;  // -1: a seed as is
  std::string origin;
  const Bytes* input = nullptr;
};
Current g_cur;

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Write the current input next to the artifacts and say how to run it again. Called from
// signal handlers and the sanitizer's death callback: plain syscalls only.
void save_current(const char* why) {
  if (!g_cur.input) return;
  char path[1024];
  std::snprintf(path, sizeof path, "%s/crash-%s-%lld", g_cur.artifacts.c_str(), g_cur.target, g_cur.index);
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    const ssize_t w = ::write(fd, g_cur.input->data(), g_cur.input->size());
    (void)w;
    ::close(fd);
  }
  char msg[1600];
  const int n = std::snprintf(msg, sizeof msg,
                              "\n%s: %s on input %lld (%s, %zu bytes); saved as %s\n"
                              "  reproduce: %s %s\n",
                              g_cur.target, why, g_cur.index, g_cur.origin.c_str(), g_cur.input->size(), path,
                              g_cur.target, path);
  const ssize_t w = ::write(2, msg, size_t(std::max(0, std::min(n, int(sizeof msg) - 1))));
  (void)w;
}

void on_death() { save_current("sanitizer report"); }
void on_signal(int sig) {
  save_current(sig == SIGALRM ? "timeout" : sig == SIGTRAP ? "GLib critical" : "crash (signal)");
  signal(sig, SIG_DFL);
  raise(sig == SIGALRM ? SIGABRT : sig);
}

bool read_file(const std::string& path, Bytes* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  out->clear();
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + n);
  std::fclose(f);
  return true;
}

// Every regular file of `dir` (sorted, so the order is the same everywhere), or `dir`
// itself when it is a file.
void load_corpus(const std::string& dir, std::vector<Bytes>* seeds, std::vector<std::string>* names) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    std::fprintf(stderr, "%s: cannot read %s\n", g_cur.target, dir.c_str());
    std::exit(2);
  }
  std::vector<std::string> files;
  if (S_ISDIR(st.st_mode)) {
    DIR* d = opendir(dir.c_str());
    while (dirent* e = d ? readdir(d) : nullptr) {
      const std::string p = dir + "/" + e->d_name;
      if (e->d_name[0] != '.' && stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) files.push_back(p);
    }
    if (d) closedir(d);
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(dir);
  }
  for (const std::string& f : files) {
    Bytes b;
    if (read_file(f, &b)) {
      seeds->push_back(std::move(b));
      names->push_back(f);
    }
  }
}

// Interesting values for integer fields, as little- and big-endian words and as text.
const uint64_t kInts[] = {0,          1,          2,          3,          7,          8,
                          15,         16,         31,         64,         127,        128,
                          255,        256,        1023,       1024,       4095,       4096,
                          16383,      16384,      16385,      32767,      32768,      65535,
                          65536,      0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
                          0x7fffffffffffffffull,  0xffffffffffffffffull};
const char* const kNumbers[] = {"0", "1", "-1", "2", "3", "7", "8", "9", "16", "127", "128", "255",
                                "256", "1000", "16383", "16384", "16385", "32768", "65535", "65536",
                                "2147483647", "2147483648", "-2147483648", "4294967295", "4294967296",
                                "6148914691236517206", "9223372036854775807", "18446744073709551616",
                                "99999999999999999999999", "1e308", "1e-308", "nan", "inf", "-inf",
                                "0.0", "-0", "1.5", "1e9", "-1.0", "00000000000000000001"};

void mutate(Bytes& b, uint64_t& rng, const std::vector<Bytes>& seeds) {
  auto rnd = [&](uint64_t n) { return n ? splitmix(rng) % n : 0; };
  const int kind = int(rnd(11));
  const size_t n = b.size();
  switch (kind) {
    case 0:  // flip a bit
      if (n) b[rnd(n)] ^= uint8_t(1u << rnd(8));
      break;
    case 1:  // a random byte
      if (n) b[rnd(n)] = uint8_t(rnd(256));
      break;
    case 2: {  // an interesting byte
      static const uint8_t v[] = {0, 1, 0x7f, 0x80, 0xff, '0', '9', '\n', ' ', ',', ':', '-'};
      if (n) b[rnd(n)] = v[rnd(sizeof v)];
      break;
    }
    case 3: {  // an interesting 16/32/64-bit integer, either byte order
      if (!n) break;
      const uint64_t v = kInts[rnd(sizeof kInts / sizeof kInts[0])];
      const size_t w = size_t(2) << rnd(3);
      const bool be = rnd(2);
      const size_t at = rnd(n);
      for (size_t i = 0; i < w && at + i < n; ++i) b[at + i] = uint8_t(v >> (8 * (be ? w - 1 - i : i)));
      break;
    }
    case 4: {  // a decimal number in text replaced by an interesting one
      std::vector<size_t> starts;
      for (size_t i = 0; i < n; ++i)
        if ((b[i] >= '0' && b[i] <= '9') && (i == 0 || !(b[i - 1] >= '0' && b[i - 1] <= '9'))) starts.push_back(i);
      if (starts.empty()) break;
      size_t s = starts[rnd(starts.size())], e = s;
      if (s > 0 && b[s - 1] == '-') --s;
      while (e < n && ((b[e] >= '0' && b[e] <= '9') || b[e] == '.')) ++e;
      const char* num = kNumbers[rnd(sizeof kNumbers / sizeof kNumbers[0])];
      b.erase(b.begin() + long(s), b.begin() + long(e));
      b.insert(b.begin() + long(s), num, num + std::strlen(num));
      break;
    }
    case 5: {  // insert random bytes
      const size_t k = 1 + rnd(16), at = rnd(n + 1);
      Bytes ins(k);
      for (uint8_t& c : ins) c = uint8_t(rnd(256));
      b.insert(b.begin() + long(at), ins.begin(), ins.end());
      break;
    }
    case 6: {  // erase a range
      if (n < 2) break;
      const size_t at = rnd(n), k = 1 + rnd(std::min<size_t>(n - at, 64));
      b.erase(b.begin() + long(at), b.begin() + long(at + k));
      break;
    }
    case 7: {  // duplicate a range
      if (!n || n > (1u << 20)) break;
      const size_t at = rnd(n), k = 1 + rnd(std::min<size_t>(n - at, 256)), to = rnd(n + 1);
      const Bytes r(b.begin() + long(at), b.begin() + long(at + k));
      b.insert(b.begin() + long(to), r.begin(), r.end());
      break;
    }
    case 8:  // truncate
      if (n) b.resize(rnd(n));
      break;
    case 9: {  // splice: our head, another seed's tail
      const Bytes& o = seeds[rnd(seeds.size())];
      if (o.empty()) break;
      const size_t cut = rnd(n + 1), from = rnd(o.size());
      b.resize(cut);
      b.insert(b.end(), o.begin() + long(from), o.end());
      break;
    }
    default: {  // copy a run of bytes over another place (header fields into data...)
      if (n < 4) break;
      const size_t a = rnd(n), c = rnd(n), k = 1 + rnd(std::min<size_t>(std::min(n - a, n - c), 8));
      std::memmove(&b[c], &b[a], k);
      break;
    }
  }
}

double rss_mb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

void usage() {
  std::fprintf(stderr,
               "usage: %s [--max-time S] [--runs N] [--seed K] [--only K] [--timeout S]\n"
               "       [--rss-limit-mb M] [--max-len BYTES] [--artifacts DIR] [--verbose] CORPUS...\n",
               g_cur.target);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  const char* slash = std::strrchr(argv[0], '/');
  g_cur.target = slash ? slash + 1 : argv[0];
  double max_time = 0, timeout = 20, rss_limit = 2048;
  long long runs = -1, only = -2;
  uint64_t seed = 1;
  size_t max_len = 1 << 20;
  bool verbose = false;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--max-time") max_time = std::atof(val());
    else if (a == "--runs") runs = std::atoll(val());
    else if (a == "--seed") seed = std::strtoull(val(), nullptr, 10);
    else if (a == "--only") only = std::atoll(val());
    else if (a == "--timeout") timeout = std::atof(val());
    else if (a == "--rss-limit-mb") rss_limit = std::atof(val());
    else if (a == "--max-len") max_len = size_t(std::atoll(val()));
    else if (a == "--artifacts") g_cur.artifacts = val();
    else if (a == "--verbose") verbose = true;
    else if (!a.empty() && a[0] == '-') usage();
    else corpus.push_back(a);
  }
  if (corpus.empty()) usage();
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(on_death);
  signal(SIGSEGV, on_signal);
  signal(SIGBUS, on_signal);
  signal(SIGFPE, on_signal);
  signal(SIGILL, on_signal);
  signal(SIGALRM, on_signal);
  signal(SIGTRAP, on_signal);  // G_DEBUG=fatal-criticals
  signal(SIGABRT, on_signal);

  std::vector<Bytes> seeds;
  std::vector<std::string> names;
  for (const std::string& c : corpus) load_corpus(c, &seeds, &names);
  if (seeds.empty()) {
    std::fprintf(stderr, "%s: empty corpus\n", g_cur.target);
    return 2;
  }
  const bool just_files = runs < 0 && max_time <= 0 && only == -2;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&]() { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  long long done = 0;
  auto run_one = [&](const Bytes& in, long long index, const std::string& origin) {
    g_cur.index = index;
    g_cur.origin = origin;
    g_cur.input = &in;
    const double rss_before = verbose ? rss_mb() : 0.0;
    alarm(unsigned(std::max(1.0, timeout)));
    LLVMFuzzerTestOneInput(in.data(), in.size());
    alarm(0);
    ++done;
    if (verbose && rss_mb() > rss_before + 32)
      std::fprintf(stderr, "%s: input %lld (%s) raised the peak RSS from %.0f to %.0f MB\n", g_cur.target, index,
                   origin.c_str(), rss_before, rss_mb());
    if (rss_mb() > rss_limit) {
      char why[96];
      std::snprintf(why, sizeof why, "peak RSS %.0f MB above --rss-limit-mb %.0f", rss_mb(), rss_limit);
      save_current(why);
      std::exit(1);
    }
    g_cur.input = nullptr;
  };

  if (only == -2) {
    for (size_t s = 0; s < seeds.size(); ++s) run_one(seeds[s], -1, names[s]);
    if (just_files) {
      std::printf("%s: %zu inputs ran, no failure\n", g_cur.target, seeds.size());
      return 0;
    }
  }
  long long k = only >= 0 ? only : 0;
  for (;; ++k) {
    if (only < 0 && ((runs >= 0 && k >= runs) || (max_time > 0 && elapsed() >= max_time))) break;
    uint64_t rng = seed * 0x100000001b3ull ^ uint64_t(k) * 0x9e3779b97f4a7c15ull;
    const size_t s = size_t(k % (long long)seeds.size());
    Bytes in = seeds[s];
    const int m = 1 + int(splitmix(rng) % 4);
    for (int j = 0; j < m; ++j) mutate(in, rng, seeds);
    if (in.size() > max_len) in.resize(max_len);
    if (only >= 0) {  // reproducing: keep the input for a look
      const std::string path = g_cur.artifacts + "/input-" + g_cur.target + "-" + std::to_string(k);
      if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(in.data(), 1, in.size(), f);
        std::fclose(f);
        std::fprintf(stderr, "%s: input %lld written to %s\n", g_cur.target, k, path.c_str());
      }
    }
    run_one(in, k, "mutation of " + names[s]);
    if (only >= 0) break;
  }
  std::printf("%s: %lld inputs (%zu seeds, %lld mutated, seed %llu) in %.1f s, peak RSS %.0f MB, no failure\n",
              g_cur.target, done, seeds.size(), k - (only >= 0 ? only : 0), (unsigned long long)seed, elapsed(),
              rss_mb());
  return 0;
}
