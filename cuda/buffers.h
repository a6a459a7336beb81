// dtutmo CUDA -- owning device and pinned-host buffers. Allocated at configure(), never
// per frame; released by the destructor (errors on release are ignored: nothing useful
// can be done with them in a destructor).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <string>
#include <utility>

#include "check.h"

namespace dtutmo {
namespace cuda {

// Every cudaMalloc / cudaMallocHost made through these buffers, process-wide. A frame must
// not add to it (cudaFree synchronises the whole device and would stall other streams):
// the tests count it across frames whose parameters change.
inline std::atomic<long long> g_buffer_allocations{0};

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { release(); }

  // (Re)allocate `count` elements; contents undefined. Keeps the old block when it is
  // already exactly that size.
  std::string allocate(std::size_t count) {
    if (count == count_ && ptr_) return {};
    release();
    if (count == 0) return {};
    void* p = nullptr;
    DTUTMO_CUDA_TRY(cudaMalloc(&p, count * sizeof(T)));
    g_buffer_allocations.fetch_add(1, std::memory_order_relaxed);
    ptr_ = static_cast<T*>(p);
    count_ = count;
    return {};
  }
  // At least `count` elements; keeps the block when it is large enough, otherwise grows it
  // by half again (or to `count`), so a size that creeps up frame after frame (an animated
  // parameter) reallocates a few times, not every frame. size() is the capacity.
  std::string reserve(std::size_t count) {
    if (count <= count_ && ptr_) return {};
    return allocate(std::max(count, count_ + count_ / 2));
  }
  void release() {
    if (ptr_) cudaFree(ptr_);
    ptr_ = nullptr;
    count_ = 0;
  }
  T* get() const { return ptr_; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

 private:
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

// Page-locked host memory for asynchronous copies.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() { release(); }

  std::string allocate(std::size_t bytes) {
    if (bytes == bytes_ && ptr_) return {};
    release();
    if (bytes == 0) return {};
    void* p = nullptr;
    DTUTMO_CUDA_TRY(cudaMallocHost(&p, bytes));
    g_buffer_allocations.fetch_add(1, std::memory_order_relaxed);
    ptr_ = static_cast<unsigned char*>(p);
    bytes_ = bytes;
    return {};
  }
  void release() {
    if (ptr_) cudaFreeHost(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
  }
  unsigned char* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }

 private:
  unsigned char* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

inline int div_up(int a, int b) { return (a + b - 1) / b; }

}  // namespace cuda
}  // namespace dtutmo
