// The model of VMA's JSON dump (libs/VmaDump): the fragmentation figures on hand-made pool
// layouts, and the parser on hand-written dumps and on text that is not a VMA dump. (The parser on a
// real dump of a live allocator is in StatisticsTests.cpp.)
#include <SceneryEditorX/VmaDump/DumpModel.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using detail::DumpBlock;
using detail::DumpPool;
using detail::DumpRange;
using detail::ExternalFragmentation;
using detail::FreeSpaceOf;
using detail::ParseVmaDump;
using detail::PoolFragmentation;

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * 1024;

DumpRange Used(uint64_t offset, uint64_t size)
{
    return DumpRange{offset, size, false, "BUFFER", "t:used"};
}

DumpRange Free(uint64_t offset, uint64_t size)
{
    return DumpRange{offset, size, true, "FREE", ""};
}

DumpBlock Block(std::vector<DumpRange> ranges)
{
    DumpBlock block;
    for (const DumpRange& r : ranges)
    {
        block.totalBytes += r.size;
        if (r.free)
            block.unusedBytes += r.size;
        else
            ++block.allocations;
    }
    block.ranges = std::move(ranges);
    return block;
}

DumpPool Pool(std::vector<DumpBlock> blocks)
{
    DumpPool pool;
    pool.name = "test";
    pool.blocks = std::move(blocks);
    return pool;
}

/// Used [0,100), free [100,300), used [300,400), free [400,1000): 800 free, largest 600.
DumpBlock TwoHoles()
{
    return Block({Used(0, 100), Free(100, 200), Used(300, 100), Free(400, 600)});
}

TEST(VmaDumpFragmentation, PoolFragmentationIsOneMinusLargestFreeRangeOverFreeBytes)
{
    const DumpPool pool = Pool({TwoHoles()});
    const detail::PoolFreeSpace free = FreeSpaceOf(pool);
    EXPECT_EQ(free.freeBytes, 800u);
    EXPECT_EQ(free.largestFreeRange, 600u);
    EXPECT_EQ(free.emptyBlocks, 0u);
    EXPECT_FLOAT_EQ(PoolFragmentation(pool), 0.25f);
}

TEST(VmaDumpFragmentation, EmptyBlocksAreLeftOut)
{
    // The same block plus an empty 1000-byte block kept in reserve, which must not count as free space.
    DumpBlock empty = Block({Free(0, 1000)});
    ASSERT_EQ(empty.allocations, 0u);
    const DumpPool pool = Pool({TwoHoles(), empty});
    const detail::PoolFreeSpace free = FreeSpaceOf(pool);
    EXPECT_EQ(free.freeBytes, 800u);
    EXPECT_EQ(free.largestFreeRange, 600u) << "the empty block's 1000 bytes are not the largest free range";
    EXPECT_EQ(free.emptyBlocks, 1u);
    EXPECT_FLOAT_EQ(PoolFragmentation(pool), 0.25f);
}

TEST(VmaDumpFragmentation, NothingFreeGivesZero)
{
    EXPECT_EQ(PoolFragmentation(Pool({})), 0.0f);
    EXPECT_EQ(PoolFragmentation(Pool({Block({Used(0, 4096), Used(4096, 4096)})})), 0.0f);
    EXPECT_EQ(PoolFragmentation(Pool({Block({Free(0, 4096)})})), 0.0f) << "only an empty block";
    EXPECT_EQ(ExternalFragmentation({}), 0.0f);
}

TEST(VmaDumpFragmentation, OneFreeRangeIsNotFragmented)
{
    EXPECT_EQ(PoolFragmentation(Pool({Block({Used(0, 100), Free(100, 900)})})), 0.0f);
}

TEST(VmaDumpFragmentation, EveryOtherOf16BuffersFreedGivesSevenEighths)
{
    // A 4 MiB block filled with 16 buffers of 256 KiB, every other one freed: 8 holes of 256 KiB.
    std::vector<DumpRange> ranges;
    for (uint64_t i = 0; i < 16; ++i)
        ranges.push_back(i % 2 ? Free(i * 256 * KiB, 256 * KiB) : Used(i * 256 * KiB, 256 * KiB));
    const DumpPool pool = Pool({Block(ranges)});
    EXPECT_EQ(FreeSpaceOf(pool).freeBytes, 2 * MiB);
    EXPECT_EQ(PoolFragmentation(pool), 0.875f);
    EXPECT_EQ(ExternalFragmentation({pool}), 0.875f);
}

TEST(VmaDumpFragmentation, ExternalFragmentationSumsScatteredAndFreeBytesOverPools)
{
    // Pool 1: 800 free, largest 600 (200 scattered). Pool 2: 400 free, largest 200 (200 scattered),
    // plus a full block and an empty one. Over both: 400 / 1200.
    const DumpPool first = Pool({TwoHoles()});
    const DumpPool second =
        Pool({Block({Free(0, 100), Used(100, 50), Free(150, 100), Used(250, 50), Free(300, 200)}),
              Block({Used(0, 1000)}), Block({Free(0, 5000)})});
    EXPECT_FLOAT_EQ(PoolFragmentation(second), 0.5f);
    EXPECT_EQ(ExternalFragmentation({first, second}), static_cast<float>(400.0 / 1200.0));
    // Not the mean of the two pools' ratios (0.375): pools weigh by their free bytes.
    EXPECT_NE(ExternalFragmentation({first, second}), 0.375f);
}

TEST(VmaDumpFragmentation, DedicatedAllocationsHaveNoFreeSpace)
{
    DumpPool pool = Pool({TwoHoles()});
    pool.dedicated.push_back(DumpRange{0, 64 * MiB, false, "BUFFER", "t:big"});
    EXPECT_EQ(FreeSpaceOf(pool).freeBytes, 800u);
    EXPECT_FLOAT_EQ(PoolFragmentation(pool), 0.25f);
}

// What VMA 3.4 writes (vmaBuildStatsString with the detailed map), cut down to the parts the model reads,
// with the suballocations of the first block out of offset order.
constexpr const char* kHandWrittenDump = R"({
  "General": {"API": "Vulkan", "GPU": "test"},
  "Total": {"BlockCount": 3, "BlockBytes": 5308416, "AllocationCount": 3, "AllocationBytes": 1376256,
            "UnusedRangeCount": 2},
  "MemoryInfo": {},
  "DefaultPools": {
    "Type 0": {
      "PreferredBlockSize": 268435456,
      "Blocks": {
        "7": {"MapRefCount": 0, "TotalBytes": 1048576, "UnusedBytes": 786432, "Allocations": 1, "UnusedRanges": 1,
              "Suballocations": [
                {"Offset": 262144, "Type": "FREE", "Size": 786432},
                {"Offset": 0, "Type": "BUFFER", "Size": 262144, "Usage": 3, "Name": "t:vertices"}
              ]}
      },
      "DedicatedAllocations": [
        {"Type": "IMAGE_OPTIMAL", "Size": 65536, "Usage": 6, "Name": "t:texture"}
      ]
    },
    "Type 1": {"PreferredBlockSize": 268435456, "Blocks": {}, "DedicatedAllocations": []}
  },
  "CustomPools": {
    "Type 1": [
      {"Name": "0 - sedx:small", "PreferredBlockSize": 4194304,
       "Blocks": {
         "3": {"MapRefCount": 0, "TotalBytes": 4194304, "UnusedBytes": 3145728, "Allocations": 1, "UnusedRanges": 1,
               "Suballocations": [
                 {"Offset": 0, "Type": "BUFFER", "Size": 1048576, "Usage": 3},
                 {"Offset": 1048576, "Type": "FREE", "Size": 3145728}
               ]}
       },
       "DedicatedAllocations": []}
    ]
  }
})";

TEST(ParseVmaDump, ReadsTotalsPoolsBlocksRangesAndDedicatedAllocations)
{
    std::string error;
    const std::optional<detail::DumpModel> model = ParseVmaDump(kHandWrittenDump, error);
    ASSERT_TRUE(model) << error;
    EXPECT_EQ(model->totalBlockCount, 3u);
    EXPECT_EQ(model->totalBlockBytes, 5308416u);
    EXPECT_EQ(model->totalAllocationCount, 3u);
    EXPECT_EQ(model->totalAllocationBytes, 1376256u);
    ASSERT_EQ(model->pools.size(), 3u);

    const DumpPool& type0 = model->pools[0];
    EXPECT_EQ(type0.name, "default");
    EXPECT_FALSE(type0.custom);
    EXPECT_EQ(type0.memoryType, 0u);
    EXPECT_EQ(type0.preferredBlockSize, 256 * MiB);
    ASSERT_EQ(type0.blocks.size(), 1u);
    const DumpBlock& block = type0.blocks[0];
    EXPECT_EQ(block.totalBytes, 1 * MiB);
    EXPECT_EQ(block.unusedBytes, 786432u);
    EXPECT_EQ(block.allocations, 1u);
    ASSERT_EQ(block.ranges.size(), 2u);
    EXPECT_EQ(block.ranges[0].offset, 0u) << "ranges are sorted by offset";
    EXPECT_EQ(block.ranges[0].size, 256 * KiB);
    EXPECT_FALSE(block.ranges[0].free);
    EXPECT_EQ(block.ranges[0].type, "BUFFER");
    EXPECT_EQ(block.ranges[0].name, "t:vertices");
    EXPECT_EQ(block.ranges[1].offset, 256 * KiB);
    EXPECT_TRUE(block.ranges[1].free);
    ASSERT_EQ(type0.dedicated.size(), 1u);
    EXPECT_EQ(type0.dedicated[0].size, 64 * KiB);
    EXPECT_EQ(type0.dedicated[0].type, "IMAGE_OPTIMAL");
    EXPECT_EQ(type0.dedicated[0].name, "t:texture");
    EXPECT_FALSE(type0.dedicated[0].free);

    const DumpPool& type1 = model->pools[1];
    EXPECT_EQ(type1.memoryType, 1u);
    EXPECT_FALSE(type1.custom);
    EXPECT_TRUE(type1.blocks.empty());

    const DumpPool& small = model->pools[2];
    EXPECT_TRUE(small.custom);
    EXPECT_EQ(small.memoryType, 1u);
    EXPECT_EQ(small.preferredBlockSize, 4 * MiB);
    ASSERT_EQ(small.blocks.size(), 1u);
    EXPECT_EQ(small.blocks[0].ranges.size(), 2u);
    EXPECT_EQ(small.blocks[0].ranges[0].name, "") << "an allocation without a name";

    // One free range per non-empty pool: no fragmentation.
    EXPECT_EQ(ExternalFragmentation(model->pools), 0.0f);
}

// BUG (libs/VmaDump/src/DumpModel.cpp, ParseVmaDump): VMA prints a custom pool's name as
// "<index> - <name>" ("0 - sedx:small"), and the model keeps that text, while DumpPool::name promises
// "the custom pool's name" (the one given to vmaSetPoolName). PrintDetailedStats then reports
// "pool 0 - sedx:small", and the index is the pool's position among those of its memory type, not part
// of its name.
TEST(ParseVmaDump, CustomPoolsKeepTheNameTheyWereGiven)
{
    std::string error;
    const std::optional<detail::DumpModel> model = ParseVmaDump(kHandWrittenDump, error);
    ASSERT_TRUE(model) << error;
    ASSERT_EQ(model->pools.size(), 3u);
    EXPECT_EQ(model->pools[2].name, "sedx:small");
}

TEST(ParseVmaDump, TextThatIsNotJsonIsAnErrorNotACrash)
{
    for (const char* text : {"", "{", "not json", "{\"Total\": }", "\xff\xfe"})
    {
        SCOPED_TRACE(text);
        std::string error;
        EXPECT_FALSE(ParseVmaDump(text, error));
        EXPECT_EQ(error, "not valid JSON");
    }
}

TEST(ParseVmaDump, JsonThatIsNotAVmaDumpIsAnError)
{
    for (const char* text : {"{}", "[]", "42", "\"Total\"", "{\"Total\": {}}", "{\"DefaultPools\": {}}",
                             "[{\"Total\": {}, \"DefaultPools\": {}}]"})
    {
        SCOPED_TRACE(text);
        std::string error;
        EXPECT_FALSE(ParseVmaDump(text, error));
        EXPECT_NE(error.find("not a VMA statistics dump"), std::string::npos) << error;
    }
}

// nlohmann's `json::value(key, default)` throws type_error when the key holds another type ("Type": 5,
// "Name": 7) or when it is called on something that is not an object ("CustomPools": {"Type 0": 5}):
// the parser must turn that into "not a dump", as documented, instead of letting it escape.
TEST(ParseVmaDump, MistypedFieldsNeitherThrowNorCrash)
{
    // Shaped like a dump, with values of the wrong JSON types where the model expects objects,
    // numbers and strings. Whatever the result, no exception may leave the parser.
    for (
        const char* text :
        {R"({"Total": 5, "DefaultPools": []})",
         R"({"Total": {"BlockBytes": -1}, "DefaultPools": {"Type 0": 7}})",
         R"({"Total": {}, "DefaultPools": {"Type 0": {"Blocks": [1, 2], "DedicatedAllocations": {}}}})",
         R"({"Total": {}, "DefaultPools": {"Type 0": {"Blocks": {"0": {"Suballocations": [{"Offset": "x", "Type": 5, "Name": 7}]}}}}})",
         R"({"Total": {}, "DefaultPools": {}, "CustomPools": {"Type 0": [{"Name": 3}]}})",
         R"({"Total": {}, "DefaultPools": {}, "CustomPools": {"Type 0": 5}})"})
    {
        SCOPED_TRACE(text);
        std::string error;
        EXPECT_NO_THROW(ParseVmaDump(text, error));
    }
}

} // namespace
} // namespace SceneryEditorX
