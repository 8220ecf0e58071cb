// HeaderArena and ArenaAllocator: bump allocation within a request, heap blocks only past
// the inline block, everything back on reset; Beast's fields work on top of it.
#include "../../../proxy/src/header_arena.h"

#include <gtest/gtest.h>

#include <boost/beast/http/fields.hpp>
#include <cstdint>
#include <cstring>
#include <string>

namespace gantry::proxy {
namespace {

TEST(HeaderArena, AllocationsAreAlignedAndDistinct) {
  HeaderArena arena;
  auto* a = static_cast<char*>(arena.allocate(3, 1));
  auto* b = arena.allocate(16, 8);
  auto* c = arena.allocate(1, 16);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 8, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(c) % 16, 0u);
  EXPECT_GE(static_cast<char*>(b), a + 3);
  EXPECT_GE(static_cast<char*>(c), static_cast<char*>(b) + 16);
  EXPECT_EQ(arena.overflow_blocks(), 0u);
}

TEST(HeaderArena, AHeadLargerThanTheInlineBlockTakesFewHeapBlocksAndResetReturnsThem) {
  HeaderArena arena;
  for (int i = 0; i < 1000; ++i) std::memset(arena.allocate(64, 8), 'x', 64);  // 64 KB
  EXPECT_GE(arena.overflow_blocks(), 1u);
  EXPECT_LE(arena.overflow_blocks(), 5u) << "blocks double";
  void* big = arena.allocate(100'000, 8);  // larger than any block so far
  std::memset(big, 'y', 100'000);
  arena.reset();
  EXPECT_EQ(arena.overflow_blocks(), 0u);
  void* first = arena.allocate(8, 8);
  arena.reset();
  EXPECT_EQ(arena.allocate(8, 8), first) << "the inline block is handed out again";
}

using Fields = boost::beast::http::basic_fields<ArenaAllocator<char>>;

TEST(ArenaAllocator, FieldsLiveInTheArenaAndSurviveEdits) {
  HeaderArena arena;
  {
    Fields f{ArenaAllocator<char>(&arena)};
    f.set("Host", "example.com");
    f.insert("X-Forwarded-For", "10.0.0.1");
    f.set("X-Forwarded-For", "10.0.0.1, 10.0.0.2");
    for (int i = 0; i < 200; ++i) f.insert("X-Many", std::string(40, static_cast<char>('a' + i % 26)));
    EXPECT_EQ(f["Host"], "example.com");
    EXPECT_EQ(f["X-Forwarded-For"], "10.0.0.1, 10.0.0.2");
    EXPECT_EQ(f.count("X-Many"), 200u);
    EXPECT_GE(arena.overflow_blocks(), 1u) << "200 fields of 40 bytes outgrow the inline block";
  }
  arena.reset();
  EXPECT_EQ(arena.overflow_blocks(), 0u);
}

TEST(ArenaAllocator, WithoutAnArenaItIsTheHeap) {
  Fields f;  // a message made outside a request
  f.set("Server", "gantry");
  Fields copy = f;
  EXPECT_EQ(copy["Server"], "gantry");
}

}  // namespace
}  // namespace gantry::proxy
