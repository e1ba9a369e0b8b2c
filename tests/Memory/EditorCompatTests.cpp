// Source compatibility with the editor's allocator header (issue 17): code written against the
// editor's names compiles unchanged and behaves as the editor expects, or as our header says.
#include "MemoryTestSupport.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

static_assert(std::is_same_v<MemoryAllocator::BatchBufferAllocation, BatchBufferAllocation>,
              "the nested name and the namespace-level name are one type");

class EditorCompatTest : public AllocatorTest
{
};

/// Written as the editor writes it: the nested batch type, a uint32_t of raw Vulkan usage bits, and
/// a free through a const reference.
std::vector<MemoryAllocator::BatchBufferAllocation> EditorAllocatesABatch(MemoryAllocator& allocator)
{
    const std::vector<VkDeviceSize> sizes = {64 * 1024, 256 * 1024, 16 * 1024};
    const uint32_t usage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT;
    return allocator.AllocateBufferBatch(sizes, usage, VMA_MEMORY_USAGE_GPU_ONLY);
}

bool EditorFreesABatch(MemoryAllocator& allocator,
                       const std::vector<MemoryAllocator::BatchBufferAllocation>& batch)
{
    return allocator.FreeBufferBatch(batch);
}

TEST_F(EditorCompatTest, EditorCodeAllocatesWithRawUsageBitsAndFreesThroughAConstVector)
{
    LogCapture capture;
    std::vector<MemoryAllocator::BatchBufferAllocation> batch = EditorAllocatesABatch(Alloc());
    ASSERT_EQ(batch.size(), 3u);
    for (const MemoryAllocator::BatchBufferAllocation& entry : batch)
    {
        EXPECT_TRUE(MemoryAllocator::ContainsAllocation(entry.allocation));
        EXPECT_EQ(MemoryAllocator::GetBuffer(entry.allocation), entry.buffer);
    }
    EXPECT_EQ(Alloc().GetStats().tag.bufferCount, 3u);
    EXPECT_TRUE(NoErrors(capture));

    const std::vector<MemoryAllocator::BatchBufferAllocation> copy = batch;
    EXPECT_TRUE(EditorFreesABatch(Alloc(), batch));
    EXPECT_EQ(batch.size(), 3u) << "a const vector cannot be cleared: its entries are left, dangling";
    for (size_t i = 0; i < batch.size(); ++i)
    {
        EXPECT_EQ(batch[i].allocation, copy[i].allocation);
        EXPECT_FALSE(MemoryAllocator::ContainsAllocation(batch[i].allocation));
    }
    EXPECT_EQ(Alloc().GetStats().tag.bufferCount, 0u);
    EXPECT_EQ(VmaTotals().allocationCount, 0u);
    EXPECT_TRUE(NoErrors(capture));
}

TEST_F(EditorCompatTest, FreeingTheSameBatchTwiceFailsWithOneErrorPerEntryAndFreesNothing)
{
    const std::vector<MemoryAllocator::BatchBufferAllocation> batch = EditorAllocatesABatch(Alloc());
    ASSERT_EQ(batch.size(), 3u);
    ASSERT_TRUE(Alloc().FreeBufferBatch(batch));
    const CounterSnapshot before = Snapshot(Alloc());

    LogCapture capture;
    EXPECT_FALSE(Alloc().FreeBufferBatch(batch));
    EXPECT_TRUE(AllocatorErrorCount(capture, batch.size()));
    EXPECT_EQ(capture.Count(LogLevel::Error, "not live", kAllocatorTag), batch.size()) << Describe(capture);
    EXPECT_TRUE(SameCounters(before, Snapshot(Alloc())));
}

TEST_F(EditorCompatTest, RawUsageBitsAreCheckedLikeTheEnum)
{
    LogCapture capture;
    EXPECT_TRUE(Alloc().AllocateBufferBatch({64}, VkBufferUsageFlags{0}).empty());
    EXPECT_TRUE(OneAllocatorError(capture, "usage is None"));
    capture.Clear();
    // A bit that is no buffer usage of this device: refused, nothing allocated.
    EXPECT_TRUE(Alloc().AllocateBufferBatch({64}, VkBufferUsageFlags{0x80000000u}).empty());
    EXPECT_TRUE(OneAllocatorError(capture));
    EXPECT_EQ(VmaTotals().allocationCount, 0u);
    // The enum and the raw bits give the same buffers.
    const std::vector<BatchBufferAllocation> fromEnum =
        Alloc().AllocateBufferBatch({4 * KiB}, BufferUsage::Uniform, VMA_MEMORY_USAGE_GPU_ONLY);
    const std::vector<BatchBufferAllocation> fromBits =
        Alloc().AllocateBufferBatch({4 * KiB}, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, VMA_MEMORY_USAGE_GPU_ONLY);
    ASSERT_EQ(fromEnum.size(), 1u);
    ASSERT_EQ(fromBits.size(), 1u);
    EXPECT_EQ(InfoOf(fromEnum[0].allocation).size, InfoOf(fromBits[0].allocation).size);
    EXPECT_EQ(InfoOf(fromEnum[0].allocation).memoryType, InfoOf(fromBits[0].allocation).memoryType);
    EXPECT_TRUE(Alloc().FreeBufferBatch(fromEnum));
    EXPECT_TRUE(Alloc().FreeBufferBatch(fromBits));
}

TEST_F(EditorCompatTest, CustomBufferSizeDefaultsTo64MiBAndTakesTheEditorsLargeBufferSize)
{
    // Our default departs from the editor's (docs/ARCHITECTURE.md, departures); its value is one call.
    EXPECT_EQ(MemoryAllocator::GetCustomBufferSize(), 64 * MiB);
    ASSERT_TRUE(MemoryAllocator::SetCustomBufferSize(LARGE_BUFFER_SIZE, *Device()));
    EXPECT_EQ(MemoryAllocator::GetCustomBufferSize(), LARGE_BUFFER_SIZE);
}

TEST_F(EditorCompatTest, BufferAlignmentThatIsNotAPowerOfTwoIsRefusedAndBitCeilIsTheEditorsRounding)
{
    ASSERT_TRUE(Alloc().SetBufferAlignment(256));
    for (VkDeviceSize bad : {VkDeviceSize{0}, VkDeviceSize{48}, VkDeviceSize{3} << 30})
    {
        SCOPED_TRACE(bad);
        LogCapture capture;
        EXPECT_FALSE(Alloc().SetBufferAlignment(bad));
        EXPECT_TRUE(OneAllocatorError(capture, "power of two"));
        EXPECT_EQ(Alloc().GetBufferAlignment(), 256u) << "unchanged";
    }
    EXPECT_TRUE(Alloc().SetBufferAlignment(std::bit_ceil(VkDeviceSize{48})));
    EXPECT_EQ(Alloc().GetBufferAlignment(), 64u);
}

} // namespace
} // namespace SceneryEditorX
