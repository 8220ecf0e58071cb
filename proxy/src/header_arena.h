// HeaderArena: where one request's header fields live (the request's, the upstream
// response's, and what filters add), reset when the next request begins. Beast's
// basic_fields allocates every field on its own; from the arena that is a pointer bump
// instead of a malloc and a free per field, a dozen pairs per proxied request.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

// Under AddressSanitizer the arena poisons what it has not handed out since its last
// reset, so a field read after the reset (a parser outliving its request) is reported
// like a use after free.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GANTRY_ARENA_ASAN 1
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define GANTRY_ARENA_ASAN 1
#endif
#ifdef GANTRY_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define GANTRY_ARENA_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define GANTRY_ARENA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define GANTRY_ARENA_POISON(p, n) ((void)(p), (void)(n))
#define GANTRY_ARENA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace gantry::proxy {

class HeaderArena {
 public:
  HeaderArena() { GANTRY_ARENA_POISON(inline_, sizeof inline_); }
  ~HeaderArena() { GANTRY_ARENA_UNPOISON(inline_, sizeof inline_); }
  HeaderArena(const HeaderArena&) = delete;
  HeaderArena& operator=(const HeaderArena&) = delete;

  void* allocate(size_t size, size_t align) {
    size_t at = (used_ + align - 1) & ~(align - 1);
    if (at + size > cap_) return grow(size, align);
    used_ = at + size;
    GANTRY_ARENA_UNPOISON(block_ + at, size);
    return block_ + at;
  }
  // Every field allocated since the last reset must be gone (the parsers holding them
  // destroyed): the memory is handed out again.
  void reset() {
    overflow_.clear();
    GANTRY_ARENA_POISON(inline_, sizeof inline_);
    block_ = inline_;
    cap_ = sizeof inline_;
    used_ = 0;
  }
  // Heap blocks taken since the last reset (a head larger than the inline block).
  size_t overflow_blocks() const { return overflow_.size(); }

 private:
  void* grow(size_t size, size_t align) {
    // Doubling blocks: a head at the header limit costs a few mallocs, not one per field.
    size_t next = cap_ * 2;
    while (next < size + align) next *= 2;
    overflow_.push_back(std::make_unique<std::byte[]>(next));
    block_ = overflow_.back().get();
    cap_ = next;
    used_ = 0;
    return allocate(size, align);
  }

  static constexpr size_t kInline = 4096;  // a typical request's and response's fields, with room
  alignas(std::max_align_t) std::byte inline_[kInline];
  std::byte* block_ = inline_;
  size_t cap_ = kInline;
  size_t used_ = 0;
  std::vector<std::unique_ptr<std::byte[]>> overflow_;
};

// The allocator basic_fields is given. Without an arena (a message made outside a
// request, default-constructed) it is std::allocator; with one, freeing is a no-op and
// the arena's reset takes everything back.
template <class T>
struct ArenaAllocator {
  using value_type = T;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;

  HeaderArena* arena = nullptr;

  ArenaAllocator() = default;
  explicit ArenaAllocator(HeaderArena* a) : arena(a) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) : arena(other.arena) {}

  T* allocate(size_t n) {
    if (!arena) return std::allocator<T>().allocate(n);
    return static_cast<T*>(arena->allocate(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, size_t n) {
    if (!arena) std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const { return arena == other.arena; }
};

}  // namespace gantry::proxy
