// Mapping: nesting, unmapping without a map, destroying while mapped, flush and invalidate, and memory
// that cannot be mapped. CPU_TO_GPU memory is host-visible on every device.
#include "MemoryTestSupport.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

class MappingTest : public AllocatorTest
{
protected:
    Buffer MakeHostVisibleBuffer(VkDeviceSize size = 16 * KiB)
    {
        const Buffer b = MakeBuffer(size, CreateInfo(VMA_MEMORY_USAGE_CPU_TO_GPU));
        EXPECT_NE(MemoryFlagsOf(b.allocation) & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, 0u);
        return b;
    }
};

TEST_F(MappingTest, MappingNestsAndEachMapNeedsOneUnmap)
{
    const Buffer b = MakeHostVisibleBuffer();
    LogCapture capture;
    auto* first = Alloc().MapMemory<uint32_t>(b.allocation);
    auto* second = Alloc().MapMemory<uint32_t>(b.allocation);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first, second) << "one mapping, counted twice";
    first[0] = 0xC0FFEEu;
    EXPECT_EQ(second[0], 0xC0FFEEu);
    EXPECT_TRUE(MemoryAllocator::UnmapMemory(b.allocation));
    EXPECT_EQ(first[0], 0xC0FFEEu) << "still mapped after the first unmap";
    EXPECT_TRUE(MemoryAllocator::UnmapMemory(b.allocation));
    EXPECT_TRUE(NoErrors(capture));

    EXPECT_FALSE(MemoryAllocator::UnmapMemory(b.allocation));
    EXPECT_TRUE(OneAllocatorError(capture, "not mapped"));

    // Mapping again after the count went to zero works as the first time.
    auto* again = Alloc().MapMemory<uint32_t>(b.allocation);
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again[0], 0xC0FFEEu);
    EXPECT_TRUE(MemoryAllocator::UnmapMemory(b.allocation));
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
}

TEST_F(MappingTest, UnmapWithoutAMapFailsWithOneError)
{
    const Buffer b = MakeHostVisibleBuffer();
    VkImage image = VK_NULL_HANDLE;
    VmaAllocation imageAllocation =
        Alloc().AllocateImage(ImageInfo(16, 16), VMA_MEMORY_USAGE_GPU_ONLY, image);
    ASSERT_NE(imageAllocation, nullptr);
    const std::vector<std::pair<VmaAllocation, const char*>> cases = {
        {b.allocation, "not mapped"}, {imageAllocation, "not mapped"}, {nullptr, "null"}};
    for (const auto& [allocation, needle] : cases)
    {
        SCOPED_TRACE(needle);
        LogCapture capture;
        EXPECT_FALSE(MemoryAllocator::UnmapMemory(allocation));
        EXPECT_TRUE(OneAllocatorError(capture, needle));
    }
    ASSERT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
    LogCapture capture;
    EXPECT_FALSE(MemoryAllocator::UnmapMemory(b.allocation));
    EXPECT_TRUE(OneAllocatorError(capture, "not live"));
    EXPECT_TRUE(Alloc().DestroyImage(image, imageAllocation));
}

TEST_F(MappingTest, MapMemoryOfANullOrFreedAllocationFailsWithOneError)
{
    {
        LogCapture capture;
        EXPECT_EQ(Alloc().MapMemory(nullptr), nullptr);
        EXPECT_TRUE(OneAllocatorError(capture, "null"));
    }
    const Buffer b = MakeHostVisibleBuffer();
    ASSERT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
    LogCapture capture;
    EXPECT_EQ(Alloc().MapMemory(b.allocation), nullptr);
    EXPECT_TRUE(OneAllocatorError(capture, "not live"));
}

TEST_F(MappingTest, DestroyWhileMappedUnmapsWithOneWarningAndLeavesNothing)
{
    using Destroy = std::function<bool(const Buffer&)>;
    const std::vector<std::pair<const char*, Destroy>> destroys = {
        {"DestroyBuffer",
         [&](const Buffer& b)
         {
             return Alloc().DestroyBuffer(b.buffer, b.allocation);
         }},
        {"Free",
         [&](const Buffer& b)
         {
             return Alloc().Free(b.allocation);
         }},
        {"DestroyBufferDeferred",
         [&](const Buffer& b)
         {
             return Alloc().DestroyBufferDeferred(b.buffer, b.allocation);
         }},
    };
    uint64_t frame = 0;
    for (const auto& [name, destroy] : destroys)
    {
        SCOPED_TRACE(name);
        const Buffer b = MakeHostVisibleBuffer();
        ASSERT_NE(Alloc().MapMemory(b.allocation), nullptr);
        ASSERT_NE(Alloc().MapMemory(b.allocation), nullptr);
        LogCapture capture;
        EXPECT_TRUE(destroy(b));
        EXPECT_EQ(capture.Count(LogLevel::Warn, "destroyed while mapped (2 maps)", kAllocatorTag), 1u)
            << Describe(capture);
        EXPECT_EQ(capture.Count(LogLevel::Warn), 1u);
        EXPECT_TRUE(NoErrors(capture));
        EXPECT_FALSE(MemoryAllocator::ContainsAllocation(b.allocation));
        frame += MemoryAllocator::GetSettings().framesInFlight;
        ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(frame)); // releases the deferred one
        EXPECT_EQ(VmaTotals().allocationCount, 0u);
        EXPECT_EQ(Alloc().GetStats().tag.allocationCount, 0u);
    }
}

TEST_F(MappingTest, FlushAndInvalidateSucceedOnMappedMemory)
{
    const VkDeviceSize size = 16 * KiB;
    const Buffer b = MakeHostVisibleBuffer(size);
    auto* mapped = Alloc().MapMemory<uint8_t>(b.allocation);
    ASSERT_NE(mapped, nullptr);
    std::memset(mapped, 0x11, size);
    const VkDeviceSize allocationSize = InfoOf(b.allocation).size;
    const std::vector<std::pair<VkDeviceSize, VkDeviceSize>> ranges = {
        {0, VK_WHOLE_SIZE}, {100, 50}, {0, 1}, {allocationSize - 1, VK_WHOLE_SIZE}, {13, size * 10}};
    LogCapture capture;
    for (const auto& [offset, length] : ranges)
    {
        SCOPED_TRACE(::testing::Message() << "offset " << offset << ", size " << length);
        EXPECT_TRUE(MemoryAllocator::FlushAllocation(b.allocation, offset, length));
        EXPECT_TRUE(MemoryAllocator::InvalidateAllocation(b.allocation, offset, length));
    }
    EXPECT_TRUE(NoErrors(capture));
    EXPECT_EQ(mapped[size - 1], 0x11);
    EXPECT_TRUE(MemoryAllocator::UnmapMemory(b.allocation));
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
}

TEST_F(MappingTest, FlushAndInvalidateFailOnMemoryThatIsNotMapped)
{
    const Buffer b = MakeHostVisibleBuffer();
    for (int round = 0; round < 2; ++round) // never mapped, then mapped and unmapped again
    {
        SCOPED_TRACE(round);
        LogCapture capture;
        EXPECT_FALSE(MemoryAllocator::FlushAllocation(b.allocation));
        EXPECT_FALSE(MemoryAllocator::InvalidateAllocation(b.allocation, 0, 64));
        EXPECT_TRUE(AllocatorErrorCount(capture, 2));
        EXPECT_EQ(
            capture.Count(LogLevel::Error, "FlushAllocation: the allocation is not mapped", kAllocatorTag),
            1u);
        EXPECT_EQ(capture.Count(LogLevel::Error, "InvalidateAllocation: the allocation is not mapped",
                                kAllocatorTag),
                  1u);
        ASSERT_NE(Alloc().MapMemory(b.allocation), nullptr);
        ASSERT_TRUE(MemoryAllocator::UnmapMemory(b.allocation));
    }
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
}

TEST_F(MappingTest, FlushAtAnOffsetPastTheAllocationFails)
{
    const Buffer b = MakeHostVisibleBuffer();
    ASSERT_NE(Alloc().MapMemory(b.allocation), nullptr);
    const VkDeviceSize allocationSize = InfoOf(b.allocation).size;
    for (VkDeviceSize offset : {allocationSize, allocationSize + 1, VkDeviceSize(1) << 40})
    {
        LogCapture capture;
        EXPECT_FALSE(MemoryAllocator::FlushAllocation(b.allocation, offset, 4));
        EXPECT_TRUE(OneAllocatorError(capture, "past the allocation"));
    }
    EXPECT_TRUE(MemoryAllocator::UnmapMemory(b.allocation));
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
}

TEST_F(MappingTest, FlushAndInvalidateOfANullOrFreedAllocationFail)
{
    const Buffer b = MakeHostVisibleBuffer();
    ASSERT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
    for (VmaAllocation allocation : {VmaAllocation{nullptr}, b.allocation})
    {
        LogCapture capture;
        EXPECT_FALSE(MemoryAllocator::FlushAllocation(allocation));
        EXPECT_FALSE(MemoryAllocator::InvalidateAllocation(allocation));
        EXPECT_TRUE(AllocatorErrorCount(capture, 2));
    }
}

TEST_F(MappingTest, MappingMemoryThatIsNotHostVisibleFailsCleanly)
{
    // Needs a memory type without HOST_VISIBLE (a discrete GPU's VRAM); lavapipe's only type is host-visible.
    VkBuffer buffer = VK_NULL_HANDLE;
    AllocationCreateInfo createInfo = CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY);
    VmaAllocation allocation = Alloc().AllocateBuffer(BufferInfo(16 * KiB), createInfo, buffer);
    ASSERT_NE(allocation, nullptr);
    if (MemoryFlagsOf(allocation) & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
    {
        EXPECT_TRUE(Alloc().DestroyBuffer(buffer, allocation));
        GTEST_SKIP() << "GPU_ONLY memory is host-visible on this device (every memory type is, on lavapipe)";
    }
    {
        LogCapture capture;
        EXPECT_EQ(Alloc().MapMemory(allocation), nullptr);
        EXPECT_TRUE(OneAllocatorError(capture, "not host-visible"));
    }
    {
        LogCapture capture;
        EXPECT_FALSE(MemoryAllocator::FlushAllocation(allocation));
        EXPECT_TRUE(OneAllocatorError(capture, "not host-visible"));
    }
    // The way to write it: through the staging path.
    std::vector<uint8_t> data(16 * KiB, 0x3C);
    std::vector<uint8_t> back(16 * KiB, 0);
    EXPECT_TRUE(Alloc().UploadToBuffer(allocation, data.data(), data.size()));
    EXPECT_TRUE(Alloc().ReadbackBuffer(allocation, back.data(), back.size()));
    EXPECT_EQ(back, data);
    EXPECT_TRUE(Alloc().DestroyBuffer(buffer, allocation));
}

} // namespace
} // namespace SceneryEditorX
