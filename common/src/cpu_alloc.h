// dtutmo -- an allocator for the CPU engine's frame-sized buffers (lin_, logy_, base_,
// resp_): 2 MiB-aligned and marked for transparent huge pages (madvise MADV_HUGEPAGE, which
// Debian's default THP mode "madvise" honours), so that their first touch takes one page
// fault per 2 MiB instead of one per 4 KiB.
//
// Why: a 1080p stream's buffers are ~33 MB (8100 pages of 4 KiB); their first touch at
// configure cost page faults on a 2-vCPU VM (perf: the kernel's fault path 27 % and the zero
// fill 12 % of a 2-frame run's samples), single-threaded, before the first frame; with huge
// pages a 2-frame 1080p run took ~0.12 s less CPU (perf stat, 6 alternated runs: 496-537 ->
// 382-421 ms), of a 60-frame run's ~1.5 s wall. Huge pages also take the frames' streaming
// passes off the 4 KiB TLB. Buffers under kMin (2 MiB by default; see the parameter), and
// systems without THP, get plain operator new (the madvise is a hint: refused, nothing
// changes but the fault count).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace dtutmo {

// kMin: the smallest size that takes huge pages (rounded up to 2 MiB): the frame buffers'
// 2 MiB by default; CpuGlare's arenas 512 KiB (one fault per 2 MiB for ~0.9-2.5 MB, where
// the glare's 4 KiB pages were ~1.9 K faults of balanced's first frame at 1080p).
template <class T, std::size_t kMin = std::size_t(2) << 20>
struct HugePageAllocator {
  using value_type = T;
  static constexpr std::size_t kHuge = std::size_t(2) << 20;
  template <class U>
  struct rebind {
    using other = HugePageAllocator<U, kMin>;
  };
  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U, kMin>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_alloc();
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kMin) return static_cast<T*>(::operator new(bytes));
    const std::size_t sz = (bytes + kHuge - 1) / kHuge * kHuge;  // aligned_alloc: a multiple
    void* p = std::aligned_alloc(kHuge, sz);
    if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, sz, MADV_HUGEPAGE);
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kMin) ::operator delete(p);
    else std::free(p);
  }
  // resize(n) default-initialises (no writes: the caller fills, CpuEngine::zero_fill, in
  // parallel); assign(n, v) and the other constructors construct from their values
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
  template <class U>
  bool operator==(const HugePageAllocator<U, kMin>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const HugePageAllocator<U, kMin>&) const noexcept { return false; }
};

// a frame-sized float buffer
using FrameBuf = std::vector<float, HugePageAllocator<float>>;

}  // namespace dtutmo
