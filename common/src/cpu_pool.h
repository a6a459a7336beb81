// dtutmo -- a small persistent thread pool for the CPU engine: parallel_for over task
// indices with dynamic scheduling. The calling thread takes part. No allocation per call.
#pragma once

#if defined(__linux__)
#include <pthread.h>
#include <time.h>
#endif

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dtutmo {

class CpuPool {
 public:
  explicit CpuPool(int threads) {
    if (threads <= 0) threads = int(std::thread::hardware_concurrency());
    if (threads <= 0) threads = 1;
    nthreads_ = threads;
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { loop(i); });
  }
  ~CpuPool() {
    {
      std::lock_guard<std::mutex> l(mu_);
      quit_ = true;
      ++gen_;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int threads() const { return nthreads_; }
  // CPU time of pool thread i so far, ms (0: the calling thread; the engine's timeline,
  // StageTimes). 0 where the clock cannot be read (and off Linux: pthread_getcpuclockid).
  double thread_cpu_ms(int i) {
#if defined(__linux__)
    clockid_t id = CLOCK_THREAD_CPUTIME_ID;
    if (i > 0 && pthread_getcpuclockid(workers_[i - 1].native_handle(), &id) != 0) return 0.0;
    timespec t;
    if (clock_gettime(id, &t) != 0) return 0.0;
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
#else
    (void)i;
    return 0.0;
#endif
  }

  // Runs fn(task, thread) for task in [0, ntasks). `fn` must outlive the call (it does:
  // the call blocks until every task is done).
  template <typename F>
  void run(int ntasks, F&& fn) {
    if (ntasks <= 0) return;
    if (nthreads_ == 1 || ntasks == 1) {
      for (int t = 0; t < ntasks; ++t) fn(t, 0);
      return;
    }
    Job job;
    job.fn = [&fn](int t, int th) { fn(t, th); };
    job.ntasks = ntasks;
    job.next.store(0);
    {
      std::lock_guard<std::mutex> l(mu_);
      job_ = &job;
      ++gen_;
    }
    cv_.notify_all();
    work(job, 0);
    // Every task has been taken: the job is withdrawn, and only the workers that joined it
    // (and may still run a task) are waited for. A worker not yet woken finds no job; the
    // caller no longer waits for it to be scheduled just to report that there was nothing
    // left, which on the shared 2-vCPU machine (other processes runnable) cost about a
    // scheduling delay per run, ~10 runs per frame.
    std::unique_lock<std::mutex> l(mu_);
    job_ = nullptr;
    done_cv_.wait(l, [&] { return job.joined == 0; });
  }

 private:
  struct Job {
    std::function<void(int, int)> fn;
    int ntasks = 0;
    std::atomic<int> next{0};
    int joined = 0;  // workers inside work() on this job (under mu_)
  };
  static void work(Job& j, int th) {
    for (;;) {
      const int t = j.next.fetch_add(1);
      if (t >= j.ntasks) break;
      j.fn(t, th);
    }
  }
  void loop(int th) {
    unsigned long long seen = 0;
    for (;;) {
      Job* j;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return quit_ || gen_ != seen; });
        if (quit_) return;
        seen = gen_;
        j = job_;
        if (j) ++j->joined;
      }
      if (j) {
        work(*j, th);
        std::lock_guard<std::mutex> l(mu_);
        if (--j->joined == 0) done_cv_.notify_all();
      }
    }
  }
  int nthreads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  Job* job_ = nullptr;
  unsigned long long gen_ = 0;
  bool quit_ = false;
};

}  // namespace dtutmo
