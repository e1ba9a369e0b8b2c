// Lifetimes: deferred destroys and the frame counter, batches (all or nothing), and the RAII handles
// GpuBuffer and GpuImage.
#include "MemoryTestSupport.h"

#include <SceneryEditorX/Memory/GpuResource.h>

#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <tuple>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

class LifetimeTest : public AllocatorTest
{
protected:
    static uint64_t VmaCount() { return VmaTotals().allocationCount; }
};

// ------------------------------------------------------------------ deferred destroys

TEST_F(LifetimeTest, DeferredDestroyIsReleasedOnlyAfterTheFramesInFlightRetire)
{
    ASSERT_EQ(MemoryAllocator::GetSettings().framesInFlight, 2u);
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(10));
    const Buffer buffer = MakeBuffer(64 * KiB);
    VkImage image = VK_NULL_HANDLE;
    VkDeviceSize imageSize = 0;
    VmaAllocation imageAllocation =
        Alloc().AllocateImage(ImageInfo(64, 64), VMA_MEMORY_USAGE_GPU_ONLY, image, &imageSize);
    ASSERT_NE(imageAllocation, nullptr);
    const VkDeviceSize bufferSize = InfoOf(buffer.allocation).size;
    ASSERT_EQ(VmaCount(), 2u);

    // Destroyed at frame 10: not live at once, still VMA's until frame 12.
    ASSERT_TRUE(Alloc().DestroyBufferDeferred(buffer.buffer, buffer.allocation));
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(buffer.allocation));
    EXPECT_EQ(MemoryAllocator::GetBuffer(buffer.allocation), VK_NULL_HANDLE);
    TagStats tag = Alloc().GetStats().tag;
    EXPECT_EQ(tag.allocationCount, 1u);
    EXPECT_EQ(tag.bufferCount, 0u);
    EXPECT_EQ(tag.usedBytes, imageSize);
    EXPECT_EQ(VmaCount(), 2u) << "frame 10";
    EXPECT_EQ(Alloc().GetStats().usedBytes, bufferSize + imageSize);
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(11));
    EXPECT_EQ(VmaCount(), 2u) << "frame 11";
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(12));
    EXPECT_EQ(VmaCount(), 1u) << "frame 12: released";
    EXPECT_EQ(Alloc().GetStats().usedBytes, imageSize);

    // The same for an image, destroyed at frame 12.
    ASSERT_TRUE(Alloc().DestroyImageDeferred(image, imageAllocation));
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(imageAllocation));
    EXPECT_EQ(Alloc().GetStats().tag.imageCount, 0u);
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(13));
    EXPECT_EQ(VmaCount(), 1u) << "frame 13";
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(14));
    EXPECT_EQ(VmaCount(), 0u) << "frame 14: released";
    EXPECT_EQ(MemoryAllocator::GetCurrentFrameIndex(), 14u);
}

TEST_F(LifetimeTest, DeferredDestroysOfDifferentFramesRetireInTurn)
{
    std::vector<Buffer> buffers;
    for (int i = 0; i < 3; ++i)
        buffers.push_back(MakeBuffer(4 * KiB));
    ASSERT_TRUE(Alloc().DestroyBufferDeferred(buffers[0].buffer, buffers[0].allocation)); // frame 0 -> 2
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(1));
    ASSERT_TRUE(Alloc().DestroyBufferDeferred(buffers[1].buffer, buffers[1].allocation)); // frame 1 -> 3
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(3));                                // skips frame 2
    EXPECT_EQ(VmaCount(), 1u) << "frames 2 and 3 both retired";
    ASSERT_TRUE(Alloc().DestroyBufferDeferred(buffers[2].buffer, buffers[2].allocation)); // frame 3 -> 5
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(4));
    EXPECT_EQ(VmaCount(), 1u);
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(100));
    EXPECT_EQ(VmaCount(), 0u);
}

TEST_F(LifetimeTest, FrameIndexGoingBackwardsFailsWithOneError)
{
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(5));
    {
        LogCapture capture;
        EXPECT_FALSE(MemoryAllocator::SetCurrentFrameIndex(4));
        EXPECT_TRUE(OneAllocatorError(capture, "goes backwards"));
    }
    EXPECT_EQ(MemoryAllocator::GetCurrentFrameIndex(), 5u);
    LogCapture capture;
    EXPECT_TRUE(MemoryAllocator::SetCurrentFrameIndex(5)) << "the same frame again is fine";
    EXPECT_TRUE(MemoryAllocator::SetCurrentFrameIndex(6));
    EXPECT_TRUE(NoErrors(capture));
}

TEST_F(LifetimeTest, ADeferredDestroyCannotBeRepeatedOrUndone)
{
    const Buffer b = MakeBuffer(4 * KiB);
    ASSERT_TRUE(Alloc().DestroyBufferDeferred(b.buffer, b.allocation));
    for (int i = 0; i < 2; ++i)
    {
        LogCapture capture;
        EXPECT_FALSE(i == 0 ? Alloc().DestroyBufferDeferred(b.buffer, b.allocation)
                            : Alloc().DestroyBuffer(b.buffer, b.allocation));
        EXPECT_TRUE(OneAllocatorError(capture, "not live"));
    }
    {
        LogCapture capture;
        EXPECT_EQ(Alloc().MapMemory(b.allocation), nullptr);
        EXPECT_TRUE(OneAllocatorError(capture, "not live"));
    }
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(2));
    EXPECT_EQ(VmaCount(), 0u) << "released exactly once";
}

class NoFramesInFlightTest : public LifetimeTest
{
protected:
    AllocatorSettings Settings() const override { return {.framesInFlight = 0}; }
};

TEST_F(NoFramesInFlightTest, DeferredDestroyWithZeroFramesInFlightIsImmediate)
{
    const Buffer b = MakeBuffer(64 * KiB);
    VkImage image = VK_NULL_HANDLE;
    VmaAllocation imageAllocation =
        Alloc().AllocateImage(ImageInfo(32, 32), VMA_MEMORY_USAGE_GPU_ONLY, image);
    ASSERT_EQ(VmaCount(), 2u);
    ASSERT_TRUE(Alloc().DestroyBufferDeferred(b.buffer, b.allocation));
    EXPECT_EQ(VmaCount(), 1u) << "released at once";
    ASSERT_TRUE(Alloc().DestroyImageDeferred(image, imageAllocation));
    EXPECT_EQ(VmaCount(), 0u);
}

class ThreeFramesInFlightTest : public LifetimeTest
{
protected:
    AllocatorSettings Settings() const override { return {.framesInFlight = 3}; }
};

TEST_F(ThreeFramesInFlightTest, DeferredDestroyWaitsForEveryFrameInFlight)
{
    const Buffer b = MakeBuffer(64 * KiB);
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(7));
    ASSERT_TRUE(Alloc().DestroyBufferDeferred(b.buffer, b.allocation));
    for (uint64_t frame : {8u, 9u})
    {
        ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(frame));
        EXPECT_EQ(VmaCount(), 1u) << "frame " << frame;
    }
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(10));
    EXPECT_EQ(VmaCount(), 0u);
}

// ------------------------------------------------------------------ batches

TEST_F(LifetimeTest, BufferUsageFlagsCombineWithOr)
{
    constexpr BufferUsage usage = BufferUsage::Vertex | BufferUsage::Index | BufferUsage::Uniform;
    static_assert(ToVkBufferUsage(usage) ==
                  (VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT |
                   VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT));
    EXPECT_EQ(usage & BufferUsage::Index, BufferUsage::Index);
    EXPECT_EQ(usage & BufferUsage::Storage, BufferUsage::None);
    BufferUsage more = usage;
    more |= BufferUsage::Indirect;
    EXPECT_EQ(ToVkBufferUsage(more), ToVkBufferUsage(usage) | VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT);
    EXPECT_EQ(ToVkBufferUsage(BufferUsage::TransferSrc | BufferUsage::TransferDst),
              VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT);
}

TEST_F(LifetimeTest, BatchOfTheSpecsFourSizesGivesFourLiveBuffers)
{
    const std::vector<VkDeviceSize> sizes = {64 * KiB, 256 * KiB, 16 * KiB, 128 * KiB};
    LogCapture capture;
    std::vector<BatchBufferAllocation> batch = Alloc().AllocateBufferBatch(
        sizes, BufferUsage::Vertex | BufferUsage::Index | BufferUsage::Uniform | BufferUsage::Storage,
        VMA_MEMORY_USAGE_GPU_ONLY);
    ASSERT_EQ(batch.size(), 4u);
    uint64_t allocated = 0;
    for (size_t i = 0; i < batch.size(); ++i)
    {
        SCOPED_TRACE(i);
        EXPECT_EQ(batch[i].size, sizes[i]);
        EXPECT_NE(batch[i].buffer, VK_NULL_HANDLE);
        EXPECT_TRUE(MemoryAllocator::ContainsAllocation(batch[i].allocation));
        EXPECT_EQ(MemoryAllocator::GetBuffer(batch[i].allocation), batch[i].buffer);
        VkMemoryRequirements requirements{};
        vkGetBufferMemoryRequirements(GetVkDevice(), batch[i].buffer, &requirements);
        EXPECT_EQ(InfoOf(batch[i].allocation).size, requirements.size);
        EXPECT_GE(requirements.size, sizes[i]);
        allocated += InfoOf(batch[i].allocation).size;
    }
    EXPECT_TRUE(NoErrors(capture));
    const TagStats tag = Alloc().GetStats().tag;
    EXPECT_EQ(tag.allocationCount, 4u);
    EXPECT_EQ(tag.bufferCount, 4u);
    EXPECT_EQ(tag.usedBytes, allocated);

    // The buffers are usable: one round trip through the last.
    std::vector<uint8_t> data(128 * KiB, 0x6B), back(128 * KiB, 0);
    EXPECT_TRUE(Alloc().UploadToBuffer(batch[3].allocation, data.data(), data.size()));
    EXPECT_TRUE(Alloc().ReadbackBuffer(batch[3].allocation, back.data(), back.size()));
    EXPECT_EQ(back, data);

    const std::vector<BatchBufferAllocation> copy = batch;
    EXPECT_TRUE(Alloc().FreeBufferBatch(batch));
    EXPECT_EQ(batch.size(), 4u); // the caller's entries are left as they were (dangling)
    for (const BatchBufferAllocation& entry : copy)
        EXPECT_FALSE(MemoryAllocator::ContainsAllocation(entry.allocation));
    EXPECT_EQ(Alloc().GetStats().tag.allocationCount, 0u);
    EXPECT_EQ(Alloc().GetStats().tag.usedBytes, 0u);
}

TEST_F(LifetimeTest, BatchWithAZeroSizeNoSizesOrNoUsageFailsWithOneErrorAndAllocatesNothing)
{
    const CounterSnapshot before = Snapshot(Alloc());
    const std::vector<std::tuple<const char*, std::vector<VkDeviceSize>, BufferUsage, const char*>> cases = {
        {"a zero size", {4 * KiB, 0, 8 * KiB}, BufferUsage::Vertex, "size 1 of 3 is 0"},
        {"no sizes", {}, BufferUsage::Vertex, "no sizes"},
        {"no usage", {4 * KiB}, BufferUsage::None, "usage is None"},
    };
    for (const auto& [what, sizes, usage, needle] : cases)
    {
        SCOPED_TRACE(what);
        LogCapture capture;
        EXPECT_TRUE(Alloc().AllocateBufferBatch(sizes, usage).empty());
        EXPECT_TRUE(OneAllocatorError(capture, needle));
        EXPECT_TRUE(SameCounters(before, Snapshot(Alloc())));
    }
}

TEST_F(LifetimeTest, FreeBufferBatchWithAnEntryAlreadyFreedFreesTheRestAndReportsFalse)
{
    std::vector<BatchBufferAllocation> batch = Alloc().AllocateBufferBatch(
        {4 * KiB, 8 * KiB, 16 * KiB}, BufferUsage::Storage, VMA_MEMORY_USAGE_GPU_ONLY);
    ASSERT_EQ(batch.size(), 3u);
    ASSERT_TRUE(Alloc().DestroyBuffer(batch[1].buffer, batch[1].allocation));
    const std::vector<BatchBufferAllocation> copy = batch;
    LogCapture capture;
    EXPECT_FALSE(Alloc().FreeBufferBatch(batch));
    EXPECT_TRUE(OneAllocatorError(capture, "not live"));
    EXPECT_EQ(batch.size(), 3u); // the caller's entries are left as they were
    for (const BatchBufferAllocation& entry : copy)
        EXPECT_FALSE(MemoryAllocator::ContainsAllocation(entry.allocation));
    EXPECT_EQ(VmaCount(), 0u);
}

class BatchUnderHeapLimitTest : public LifetimeTest
{
protected:
    AllocatorSettings Settings() const override { return {.heapSizeLimits = AllHeapLimits(64 * MiB)}; }
    /// Allocates and frees buffers of the batch's sizes first, so that the blocks they need exist
    /// and the counters to compare with include them.
    void PreWarm(const std::vector<VkDeviceSize>& sizes)
    {
        for (VkDeviceSize size : sizes)
        {
            const Buffer b = MakeBuffer(size);
            EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
        }
    }
};

TEST_F(BatchUnderHeapLimitTest, BatchWhoseLastBufferExceedsTheHeapIsRefusedBeforeAnythingIsMade)
{
    PreWarm({1 * MiB, 2 * MiB, 64 * KiB});
    const CounterSnapshot before = Snapshot(Alloc());
    const uint64_t vmaBefore = VmaTotals().allocationCount;
    LogCapture capture;
    const std::vector<BatchBufferAllocation> batch = Alloc().AllocateBufferBatch(
        {1 * MiB, 2 * MiB, 64 * KiB, 65 * MiB}, BufferUsage::Vertex, VMA_MEMORY_USAGE_GPU_ONLY);
    EXPECT_TRUE(batch.empty());
    EXPECT_TRUE(OneAllocatorError(
        capture, "buffer 3 of 4 (68157440 bytes) is larger than the largest heap; nothing allocated"))
        << Describe(capture);
    EXPECT_EQ(capture.Count(LogLevel::Error, "rolled back", kAllocatorTag), 0u) << "nothing was made";
    EXPECT_EQ(VmaTotals().allocationCount, vmaBefore);
    EXPECT_TRUE(SameCounters(before, Snapshot(Alloc()))) << "nothing was made";
    EXPECT_EQ(Alloc().GetStats().tag.totalAllocations, Alloc().GetStats().tag.totalFrees);
}

TEST_F(BatchUnderHeapLimitTest, BatchThatRunsOutOfMemoryLeavesNothingBehind)
{
    // Every heap is limited to 64 MiB. With one heap (lavapipe), 60 MiB does not fit next to the
    // pre-warmed blocks. A discrete layout also has a host heap, where VMA places GPU_ONLY memory
    // once the device-local heap is full (GPU_ONLY only prefers DEVICE_LOCAL): a 10 MiB CPU_ONLY
    // ballast there leaves it too little room as well.
    const VkPhysicalDeviceMemoryProperties& memory = Device()->GetMemoryProperties();
    VkBuffer ballast = VK_NULL_HANDLE;
    VmaAllocation ballastAllocation = nullptr;
    if (!IsSingleUnifiedHeap())
    {
        if (memory.memoryHeapCount != 2)
            GTEST_SKIP() << "needs one heap, or two (device-local and host); this device has "
                         << memory.memoryHeapCount;
        ballastAllocation = Alloc().AllocateBuffer(BufferInfo(10 * MiB), VMA_MEMORY_USAGE_CPU_ONLY, ballast);
        ASSERT_NE(ballastAllocation, nullptr);
        const uint32_t heap = memory.memoryTypes[InfoOf(ballastAllocation).memoryType].heapIndex;
        ASSERT_EQ(memory.memoryHeaps[heap].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT, 0u)
            << "the ballast must sit in the host heap";
    }
    PreWarm({1 * MiB, 2 * MiB});
    const CounterSnapshot before = Snapshot(Alloc());
    LogCapture capture;
    // 60 MiB fits the largest heap, but not next to the blocks already committed.
    const std::vector<BatchBufferAllocation> batch = Alloc().AllocateBufferBatch(
        {1 * MiB, 2 * MiB, 60 * MiB}, BufferUsage::Vertex, VMA_MEMORY_USAGE_GPU_ONLY);
    EXPECT_TRUE(batch.empty());
    EXPECT_TRUE(OneAllocatorError(capture, "VK_ERROR_OUT_OF_DEVICE_MEMORY"));
    EXPECT_EQ(capture.Count(LogLevel::Error, "rolled back", kAllocatorTag), 1u);
    EXPECT_TRUE(SameCounters(before, Snapshot(Alloc())));
    if (ballastAllocation)
    {
        EXPECT_TRUE(Alloc().DestroyBuffer(ballast, ballastAllocation));
    }
}

// ------------------------------------------------------------------ RAII handles

TEST_F(LifetimeTest, GpuBufferReleasesItsAllocationWhenTheLastRefGoesAway)
{
    Ref<GpuBuffer> buffer = GpuBuffer::Create(m_Allocator, BufferInfo(64 * KiB), VMA_MEMORY_USAGE_GPU_ONLY);
    ASSERT_TRUE(buffer);
    const VmaAllocation allocation = buffer->GetAllocation();
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(allocation));
    EXPECT_NE(buffer->GetBuffer(), VK_NULL_HANDLE);
    EXPECT_EQ(buffer->GetBuffer(), MemoryAllocator::GetBuffer(allocation));
    EXPECT_EQ(buffer->GetSize(), 64 * KiB);
    EXPECT_EQ(buffer->GetAllocator(), m_Allocator);

    std::vector<uint8_t> data(64 * KiB, 0x19), back(64 * KiB, 0);
    EXPECT_TRUE(buffer->Upload(data.data(), data.size()));
    EXPECT_TRUE(buffer->Readback(back.data(), back.size()));
    EXPECT_EQ(back, data);
    const uint64_t withStaging = VmaCount();

    Ref<GpuBuffer> second = buffer;
    buffer.Reset();
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(allocation)) << "another Ref holds it";
    second.Reset();
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(allocation));
    EXPECT_EQ(Alloc().GetStats().tag.allocationCount, 0u);
    EXPECT_EQ(VmaCount(), withStaging) << "deferred: the GPU may still use it this frame";
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(MemoryAllocator::GetSettings().framesInFlight));
    EXPECT_EQ(VmaCount(), withStaging - 1);
}

TEST_F(LifetimeTest, GpuImageReleasesItsAllocationWhenTheLastRefGoesAway)
{
    const VkImageCreateInfo info = ImageInfo(64, 64, 7);
    Ref<GpuImage> image = GpuImage::Create(m_Allocator, info, VMA_MEMORY_USAGE_GPU_ONLY);
    ASSERT_TRUE(image);
    const VmaAllocation allocation = image->GetAllocation();
    EXPECT_EQ(image->GetImage(), MemoryAllocator::GetImage(allocation));
    EXPECT_NE(image->GetImage(), VK_NULL_HANDLE);
    EXPECT_EQ(image->GetAllocatedSize(), InfoOf(allocation).size);
    EXPECT_EQ(image->GetCreateInfo().mipLevels, 7u);
    EXPECT_EQ(image->GetLayout(), VK_IMAGE_LAYOUT_UNDEFINED);

    std::vector<uint8_t> data(static_cast<size_t>(MemoryAllocator::ImageDataSize(info)));
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<uint8_t>(i % 251);
    ASSERT_TRUE(image->Upload(data.data(), data.size()));
    EXPECT_EQ(image->GetLayout(), VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
    std::vector<uint8_t> back;
    ASSERT_TRUE(image->Readback(back));
    EXPECT_EQ(back, data);

    const uint64_t withStaging = VmaCount();
    image.Reset();
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(allocation));
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(MemoryAllocator::GetSettings().framesInFlight));
    EXPECT_EQ(VmaCount(), withStaging - 1);
}

TEST_F(LifetimeTest, GpuBufferMapsHostVisibleMemory)
{
    Ref<GpuBuffer> buffer = GpuBuffer::Create(m_Allocator, BufferInfo(4 * KiB), VMA_MEMORY_USAGE_CPU_TO_GPU);
    ASSERT_TRUE(buffer);
    auto* mapped = static_cast<uint32_t*>(buffer->Map());
    ASSERT_NE(mapped, nullptr);
    mapped[0] = 42;
    EXPECT_TRUE(buffer->Unmap());
    uint32_t back = 0;
    EXPECT_TRUE(buffer->Readback(&back, sizeof(back)));
    EXPECT_EQ(back, 42u);
}

TEST_F(LifetimeTest, GpuResourceCreationFailureGivesNullAndOneError)
{
    {
        LogCapture capture;
        EXPECT_FALSE(GpuBuffer::Create(m_Allocator, BufferInfo(0), VMA_MEMORY_USAGE_GPU_ONLY));
        EXPECT_TRUE(OneAllocatorError(capture, "size is 0"));
    }
    {
        LogCapture capture;
        EXPECT_FALSE(GpuImage::Create(m_Allocator, ImageInfo(0, 16), VMA_MEMORY_USAGE_GPU_ONLY));
        EXPECT_TRUE(OneAllocatorError(capture, "zero dimension"));
    }
    {
        LogCapture capture;
        EXPECT_FALSE(GpuBuffer::Create(Ref<MemoryAllocator>(), BufferInfo(16), VMA_MEMORY_USAGE_GPU_ONLY));
        EXPECT_TRUE(OneAllocatorError(capture, "null allocator"));
    }
    EXPECT_EQ(VmaCount(), 0u);
}

TEST_F(LifetimeTest, GpuBufferThatOutlivesShutdownIsReportedAsALeakAndReleasedQuietly)
{
    Ref<GpuBuffer> buffer = GpuBuffer::Create(m_Allocator, BufferInfo(4 * KiB), VMA_MEMORY_USAGE_GPU_ONLY);
    ASSERT_TRUE(buffer);
    {
        LogCapture capture;
        ASSERT_TRUE(MemoryAllocator::Shutdown());
        EXPECT_EQ(capture.Count(LogLevel::Error, "leak: ", kAllocatorTag), 1u);
    }
    LogCapture capture;
    buffer.Reset(); // after Shutdown: nothing to release, nothing to say
    EXPECT_TRUE(NoErrors(capture));
}

} // namespace
} // namespace SceneryEditorX
