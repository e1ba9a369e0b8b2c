// Size-class pools (where a buffer lands, block sizes, retention, the custom large block size, the
// fallback to VMA's default pools) and the per-instance settings that shape an allocation: strategy,
// buffer alignment and the warning threshold.
#include "MemoryTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

class PoolTest : public AllocatorTest
{
protected:
    Buffer MakeBuffer(VkDeviceSize size, const std::string& name = {},
                      VmaMemoryUsage usage = VMA_MEMORY_USAGE_GPU_ONLY, MemoryAllocator* allocator = nullptr)
    {
        return AllocatorTest::MakeBuffer(size, CreateInfo(usage, AllocationFlags::None, name),
                                         VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, allocator);
    }
};

// ------------------------------------------------------------------ size classes

TEST_F(PoolTest, BufferSizesLandInTheirSizeClassPools)
{
    struct Case
    {
        VkDeviceSize size;
        const char* pool; // suffix of the pool name in VMA's dump; null: VMA's default pools
        VkDeviceSize blockSize;
    };
    const Case cases[] = {
        {1 * KiB, "sedx:small", 4 * MiB},
        {SMALL_BUFFER_SIZE, "sedx:small", 4 * MiB},
        {SMALL_BUFFER_SIZE + 1, "sedx:medium", 16 * MiB},
        {512 * KiB, "sedx:medium", 16 * MiB},
        {MEDIUM_BUFFER_SIZE, "sedx:medium", 16 * MiB},
        {4 * MiB, "sedx:large", 64 * MiB},
        {LARGE_BUFFER_SIZE, "sedx:large", 64 * MiB},
        {LARGE_BUFFER_SIZE + 1, nullptr, 0},
        {32 * MiB, nullptr, 0},
    };
    std::vector<Buffer> buffers;
    for (const Case& c : cases)
    {
        SCOPED_TRACE(::testing::Message() << c.size << " bytes");
        const std::string name = std::to_string(c.size);
        const Buffer b = MakeBuffer(c.size, name);
        buffers.push_back(b);
        const std::optional<PoolPlacement> placement = PlacementOf(VmaName(name));
        ASSERT_TRUE(placement) << "not found in VMA's dump";
        const VmaAllocationInfo2 info = Info2Of(b.allocation);
        if (c.pool)
        {
            EXPECT_TRUE(placement->custom);
            EXPECT_TRUE(EndsWith(placement->poolName, c.pool)) << placement->poolName;
            EXPECT_EQ(placement->preferredBlockSize, c.blockSize);
            EXPECT_EQ(info.blockSize, c.blockSize);
            EXPECT_EQ(info.dedicatedMemory, VK_FALSE);
            EXPECT_EQ(info.allocationInfo.memoryType,
                      VmaMemoryTypeFor(BufferInfo(c.size), VMA_MEMORY_USAGE_GPU_ONLY))
                << "the pool's memory type is the one VMA chooses for the request";
        }
        else
        {
            EXPECT_FALSE(placement->custom) << "larger than LARGE_BUFFER_SIZE: outside the size-class pools";
            EXPECT_EQ(placement->poolName, "default");
        }
    }
    for (const Buffer& b : buffers)
        Destroy(b);
}

TEST_F(PoolTest, BuffersOfOneSizeClassShareABlockExactlyWhenTheyShareAMemoryType)
{
    const Buffer gpu = MakeBuffer(1 * KiB, "gpu", VMA_MEMORY_USAGE_GPU_ONLY);
    const Buffer gpu2 = MakeBuffer(2 * KiB, "gpu2", VMA_MEMORY_USAGE_GPU_ONLY);
    const Buffer upload = MakeBuffer(1 * KiB, "upload", VMA_MEMORY_USAGE_CPU_TO_GPU);
    const VmaAllocationInfo a = InfoOf(gpu.allocation);
    const VmaAllocationInfo b = InfoOf(gpu2.allocation);
    const VmaAllocationInfo c = InfoOf(upload.allocation);
    EXPECT_EQ(a.deviceMemory, b.deviceMemory);
    EXPECT_EQ(a.deviceMemory == c.deviceMemory, a.memoryType == c.memoryType)
        << "one small pool per memory type";
    if (IsSingleUnifiedHeap())
    {
        EXPECT_EQ(a.memoryType, c.memoryType) << "lavapipe has one memory type";
    }
    Destroy(gpu);
    Destroy(gpu2);
    Destroy(upload);
}

// ------------------------------------------------------------------ retention

TEST_F(PoolTest, PreWarmPatternLeavesOneBlockPerClassReadyForReuse)
{
    ASSERT_EQ(Alloc().CalculateStats().blockCount, 0u);
    std::vector<VkDeviceMemory> firstRound;
    for (VkDeviceSize size : {SMALL_BUFFER_SIZE, MEDIUM_BUFFER_SIZE, LARGE_BUFFER_SIZE})
    {
        const Buffer b = MakeBuffer(size);
        firstRound.push_back(InfoOf(b.allocation).deviceMemory);
        Destroy(b);
    }
    const AllocationStats warm = Alloc().CalculateStats();
    EXPECT_EQ(warm.blockCount, 3u);
    EXPECT_EQ(warm.totalBytes, (4 + 16 + 64) * MiB) << "the blocks stay after the frees";
    EXPECT_EQ(warm.usedBytes, 0u);
    EXPECT_EQ(warm.allocationCount, 0u);
    EXPECT_EQ(Alloc().GetStats().totalBytes, warm.totalBytes);

    for (int round = 0; round < 2; ++round)
    {
        std::vector<Buffer> buffers;
        for (VkDeviceSize size : {SMALL_BUFFER_SIZE, MEDIUM_BUFFER_SIZE, LARGE_BUFFER_SIZE})
            buffers.push_back(MakeBuffer(size));
        for (size_t i = 0; i < buffers.size(); ++i)
            EXPECT_EQ(InfoOf(buffers[i].allocation).deviceMemory, firstRound[i])
                << "the same block is reused";
        EXPECT_EQ(Alloc().CalculateStats().blockCount, 3u) << "no new block";
        for (const Buffer& b : buffers)
            Destroy(b);
        EXPECT_EQ(Alloc().CalculateStats().totalBytes, warm.totalBytes);
    }
}

TEST_F(PoolTest, APoolKeepsAtMostOneEmptyBlock)
{
    // 17 buffers of 256 KiB need two 4 MiB blocks of the small pool.
    std::vector<Buffer> buffers;
    for (int i = 0; i < 17; ++i)
        buffers.push_back(MakeBuffer(SMALL_BUFFER_SIZE));
    ASSERT_EQ(InfoOf(buffers[0].allocation).size, SMALL_BUFFER_SIZE);
    EXPECT_EQ(Alloc().CalculateStats().blockCount, 2u);
    EXPECT_EQ(Alloc().CalculateStats().totalBytes, 8 * MiB);
    for (const Buffer& b : buffers)
        Destroy(b);
    const AllocationStats after = Alloc().CalculateStats();
    EXPECT_EQ(after.blockCount, 1u) << "one empty block in reserve, the other freed";
    EXPECT_EQ(after.totalBytes, 4 * MiB);
}

// ------------------------------------------------------------------ the custom large block size

TEST_F(PoolTest, SetCustomBufferSizeRejectsSizesOutsideItsLimits)
{
    VkPhysicalDeviceMaintenance3Properties maint3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    props.pNext = &maint3;
    vkGetPhysicalDeviceProperties2(Device()->GetPhysicalDevice(), &props);
    const VkPhysicalDeviceMemoryProperties& memory = Device()->GetMemoryProperties();
    VkDeviceSize smallestHeap = std::numeric_limits<VkDeviceSize>::max();
    for (uint32_t h = 0; h < memory.memoryHeapCount; ++h)
        smallestHeap = std::min(smallestHeap, memory.memoryHeaps[h].size);

    std::vector<std::pair<VkDeviceSize, const char*>> cases = {
        {0, "below LARGE_BUFFER_SIZE"},
        {1 * MiB, "below LARGE_BUFFER_SIZE"},
        {LARGE_BUFFER_SIZE - 1, "below LARGE_BUFFER_SIZE"},
        {maint3.maxMemoryAllocationSize + 1, "above maxMemoryAllocationSize"},
    };
    if (smallestHeap < maint3.maxMemoryAllocationSize)
        cases.emplace_back(smallestHeap + 1, "larger than the smallest heap");
    for (const auto& [size, needle] : cases)
    {
        SCOPED_TRACE(size);
        LogCapture capture;
        EXPECT_FALSE(MemoryAllocator::SetCustomBufferSize(size, *Device()));
        EXPECT_TRUE(OneAllocatorError(capture, needle));
        EXPECT_EQ(MemoryAllocator::GetCustomBufferSize(), 64 * MiB) << "unchanged";
    }
}

TEST_F(PoolTest, CustomBufferSizeAppliesToLargePoolsCreatedAfterIt)
{
    const Buffer before = MakeBuffer(4 * MiB, "before");
    ASSERT_EQ(Info2Of(before.allocation).blockSize, 64 * MiB);
    {
        LogCapture capture;
        ASSERT_TRUE(MemoryAllocator::SetCustomBufferSize(32 * MiB, *Device()));
        EXPECT_TRUE(NoErrors(capture));
    }
    EXPECT_EQ(MemoryAllocator::GetCustomBufferSize(), 32 * MiB);
    const Buffer after = MakeBuffer(4 * MiB, "after");
    EXPECT_EQ(Info2Of(after.allocation).blockSize, 32 * MiB);
    EXPECT_TRUE(EndsWith(PlacementOf(VmaName("after"))->poolName, "sedx:large"));
    EXPECT_EQ(Info2Of(before.allocation).blockSize, 64 * MiB) << "the earlier buffer stays in its block";
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(before.allocation));
    const Buffer small = MakeBuffer(1 * KiB);
    EXPECT_EQ(Info2Of(small.allocation).blockSize, 4 * MiB) << "only the large class changes";

    ASSERT_TRUE(MemoryAllocator::SetCustomBufferSize(LARGE_BUFFER_SIZE, *Device()))
        << "the class size itself fits";
    const Buffer smallest = MakeBuffer(LARGE_BUFFER_SIZE, "smallest");
    EXPECT_EQ(Info2Of(smallest.allocation).blockSize, LARGE_BUFFER_SIZE);
    EXPECT_EQ(Info2Of(after.allocation).blockSize, 32 * MiB);

    Destroy(before); // frees through a pool that no longer receives allocations
    Destroy(after);
    Destroy(small);
    Destroy(smallest);
    EXPECT_EQ(VmaTotals().allocationCount, 0u);

    // Shutdown destroys the replaced pools too, and the size returns to the settings' value.
    ASSERT_TRUE(MemoryAllocator::Shutdown());
    EXPECT_EQ(MemoryAllocator::GetCustomBufferSize(), 64 * MiB);
    ASSERT_TRUE(MemoryAllocator::Init(Device(), VK_API_VERSION_1_3));
    const Buffer fresh = MakeBuffer(4 * MiB);
    EXPECT_EQ(Info2Of(fresh.allocation).blockSize, 64 * MiB);
    Destroy(fresh);
}

TEST_F(PoolTest, CustomBufferSizeSetBeforeInitAppliesToTheFirstLargePools)
{
    ASSERT_TRUE(MemoryAllocator::Shutdown());
    ASSERT_TRUE(MemoryAllocator::SetCustomBufferSize(32 * MiB, *Device()));
    EXPECT_EQ(MemoryAllocator::GetCustomBufferSize(), 32 * MiB);
    ASSERT_TRUE(MemoryAllocator::Init(Device(), VK_API_VERSION_1_3));
    const Buffer b = MakeBuffer(4 * MiB);
    EXPECT_EQ(Info2Of(b.allocation).blockSize, 32 * MiB);
    Destroy(b);
}

TEST_F(PoolTest, PoolBlockSizesComeFromTheSettings)
{
    ASSERT_TRUE(MemoryAllocator::Shutdown());
    ASSERT_TRUE(MemoryAllocator::Init(Device(), VK_API_VERSION_1_3,
                                      {.poolBlockSizes = {1 * MiB, 2 * MiB, 16 * MiB}}));
    const Buffer small = MakeBuffer(1 * KiB);
    const Buffer medium = MakeBuffer(512 * KiB);
    const Buffer large = MakeBuffer(4 * MiB);
    EXPECT_EQ(Info2Of(small.allocation).blockSize, 1 * MiB);
    EXPECT_EQ(Info2Of(medium.allocation).blockSize, 2 * MiB);
    EXPECT_EQ(Info2Of(large.allocation).blockSize, 16 * MiB);
    EXPECT_EQ(MemoryAllocator::GetCustomBufferSize(), 16 * MiB);
    Destroy(small);
    Destroy(medium);
    Destroy(large);
}

// ------------------------------------------------------------------ block sizes and fallback under a heap
// limit

class PoolFallbackTest : public PoolTest
{
protected:
    AllocatorSettings Settings() const override
    {
        return {.heapSizeLimits = DeviceLocalHeapLimits(48 * MiB)};
    }
};

TEST_F(PoolFallbackTest, PoolBlocksOnASmallHeapAreAnEighthOfItButNeverBelowTheirClass)
{
    // An eighth of 48 MiB is 6 MiB: the small class keeps 4 MiB, the medium gets 6 MiB, the large
    // stays at its class size of 16 MiB.
    const Buffer small = MakeBuffer(1 * KiB);
    const Buffer medium = MakeBuffer(512 * KiB);
    const Buffer large = MakeBuffer(4 * MiB);
    EXPECT_EQ(Info2Of(small.allocation).blockSize, 4 * MiB);
    EXPECT_EQ(Info2Of(medium.allocation).blockSize, 6 * MiB);
    EXPECT_EQ(Info2Of(large.allocation).blockSize, LARGE_BUFFER_SIZE);
    Destroy(small);
    Destroy(medium);
    Destroy(large);
}

TEST_F(PoolFallbackTest, PoolThatCannotCreateABlockFallsBackToTheDefaultPools)
{
    // 40 of the 48 MiB taken: the large pool's 16 MiB block cannot be created, a 4 MiB allocation of
    // its own still fits.
    VkBuffer bigBuffer = VK_NULL_HANDLE;
    VmaAllocation big = Alloc().AllocateBuffer(
        BufferInfo(40 * MiB), CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::Dedicated), bigBuffer);
    ASSERT_NE(big, nullptr);

    const ScopedLogLevel trace(LogLevel::Trace);
    LogCapture capture;
    const Buffer b = MakeBuffer(4 * MiB, "fallback");
    ASSERT_NE(b.allocation, nullptr);
    EXPECT_TRUE(NoErrors(capture));
    EXPECT_EQ(capture.Count(LogLevel::Trace, "falling back to the default pools", kAllocatorTag), 1u)
        << Describe(capture);
    const std::optional<PoolPlacement> placement = PlacementOf(VmaName("fallback"));
    ASSERT_TRUE(placement);
    EXPECT_FALSE(placement->custom);
    const VmaAllocationInfo2 info = Info2Of(b.allocation);
    EXPECT_EQ(info.blockSize, 4 * MiB) << "its own memory, smaller than the pool's block";
    EXPECT_EQ(info.allocationInfo.memoryType,
              VmaMemoryTypeFor(BufferInfo(4 * MiB), VMA_MEMORY_USAGE_GPU_ONLY));
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(b.allocation));
    std::vector<uint8_t> data(64 * KiB, 0x21), back(64 * KiB, 0);
    EXPECT_TRUE(Alloc().UploadToBuffer(b.allocation, data.data(), data.size(), 3 * MiB));
    EXPECT_TRUE(Alloc().ReadbackBuffer(b.allocation, back.data(), back.size(), 3 * MiB));
    EXPECT_EQ(back, data);
    Destroy(b);
    EXPECT_TRUE(Alloc().DestroyBuffer(bigBuffer, big));
}

// ------------------------------------------------------------------ strategies

TEST_F(PoolTest, EveryAllocationStrategyAllocatesAndFreesAndRoundTrips)
{
    using Strategy = MemoryAllocator::AllocationStrategy;
    EXPECT_EQ(Alloc().GetAllocationStrategy(), Strategy::Default);
    for (Strategy strategy : {Strategy::SpeedOptimized, Strategy::MemoryOptimized, Strategy::Default})
    {
        SCOPED_TRACE(static_cast<int>(strategy));
        Alloc().SetAllocationStrategy(strategy);
        EXPECT_EQ(Alloc().GetAllocationStrategy(), strategy);
        std::vector<Buffer> buffers;
        for (VkDeviceSize size : {1 * KiB, 300 * KiB, 4 * MiB, 20 * MiB})
            buffers.push_back(MakeBuffer(size));
        VkImage image = VK_NULL_HANDLE;
        VmaAllocation imageAllocation =
            Alloc().AllocateImage(ImageInfo(64, 64), VMA_MEMORY_USAGE_GPU_ONLY, image);
        ASSERT_NE(imageAllocation, nullptr);
        for (const Buffer& b : buffers)
            Destroy(b);
        EXPECT_TRUE(Alloc().DestroyImage(image, imageAllocation));
        // SpeedOptimized keeps the three buffers up to LARGE_BUFFER_SIZE for reuse.
        const uint64_t cached = Alloc().GetStats().reuseCacheCount;
        EXPECT_EQ(cached, strategy == Strategy::SpeedOptimized ? 3u : 0u);
        EXPECT_EQ(VmaTotals().allocationCount, cached);
        EXPECT_EQ(MemoryAllocator::ReleaseReuseCache(), cached);
        EXPECT_EQ(VmaTotals().allocationCount, 0u);
    }
}

TEST_F(PoolTest, AnInvalidStrategyIsRejectedAndTheOldOneKept)
{
    using Strategy = MemoryAllocator::AllocationStrategy;
    Alloc().SetAllocationStrategy(Strategy::MemoryOptimized);
    LogCapture capture;
    Alloc().SetAllocationStrategy(static_cast<Strategy>(7));
    EXPECT_TRUE(OneAllocatorError(capture, "not a strategy"));
    EXPECT_EQ(Alloc().GetAllocationStrategy(), Strategy::MemoryOptimized);
}

TEST_F(PoolTest, SpeedAndMemoryOptimizedStrategiesPickDifferentFreeRanges)
{
    // Fill one 4 MiB block of the small pool with 16 buffers of 256 KiB, then free buffer 1 (a 256 KiB
    // hole) and buffers 5 and 6 (a 512 KiB hole). VMA's MIN_MEMORY strategy takes the best fit (the
    // 256 KiB hole); MIN_TIME looks at a larger bucket first (the 512 KiB hole).
    std::vector<Buffer> buffers;
    for (int i = 0; i < 16; ++i)
        buffers.push_back(MakeBuffer(SMALL_BUFFER_SIZE));
    for (int i = 0; i < 16; ++i)
    {
        const VmaAllocationInfo info = InfoOf(buffers[static_cast<size_t>(i)].allocation);
        ASSERT_EQ(info.size, SMALL_BUFFER_SIZE);
        ASSERT_EQ(info.offset, static_cast<VkDeviceSize>(i) * SMALL_BUFFER_SIZE) << "packed in order";
        ASSERT_EQ(info.deviceMemory, InfoOf(buffers[0].allocation).deviceMemory) << "one block";
    }
    for (size_t i : {1, 5, 6})
        Destroy(buffers[i]);

    using Strategy = MemoryAllocator::AllocationStrategy;
    Alloc().SetAllocationStrategy(Strategy::MemoryOptimized);
    const Buffer bestFit = MakeBuffer(SMALL_BUFFER_SIZE);
    EXPECT_EQ(InfoOf(bestFit.allocation).offset, 1 * SMALL_BUFFER_SIZE);
    Destroy(bestFit);

    Alloc().SetAllocationStrategy(Strategy::SpeedOptimized);
    const Buffer fast = MakeBuffer(SMALL_BUFFER_SIZE);
    EXPECT_EQ(InfoOf(fast.allocation).offset, 5 * SMALL_BUFFER_SIZE);
    Destroy(fast);

    for (size_t i = 0; i < buffers.size(); ++i)
        if (i != 1 && i != 5 && i != 6)
            Destroy(buffers[i]);
}

// ------------------------------------------------------------------ buffer alignment

TEST_F(PoolTest, BufferAlignmentMustBeAPowerOfTwo)
{
    EXPECT_EQ(Alloc().GetBufferAlignment(), 1u);
    ASSERT_TRUE(Alloc().SetBufferAlignment(256));
    for (VkDeviceSize wrong : {VkDeviceSize(0), VkDeviceSize(3), VkDeviceSize(6), VkDeviceSize(100),
                               VkDeviceSize(1) << 31, ~VkDeviceSize(0)})
    {
        SCOPED_TRACE(wrong);
        LogCapture capture;
        EXPECT_FALSE(Alloc().SetBufferAlignment(wrong));
        EXPECT_TRUE(OneAllocatorError(capture, "power of two"));
        EXPECT_EQ(Alloc().GetBufferAlignment(), 256u) << "unchanged";
    }
    EXPECT_TRUE(Alloc().SetBufferAlignment(65536));
    EXPECT_EQ(Alloc().GetBufferAlignment(), 65536u);
    EXPECT_TRUE(Alloc().SetBufferAlignment(1));
}

TEST_F(PoolTest, BufferAlignmentPlacesEveryBufferOfTheInstanceOnAMultiple)
{
    // A 100-byte buffer of an unaligned instance first, so that the next free offset is not aligned.
    MemoryAllocator unaligned(Tag() + ".unaligned");
    const Buffer first = MakeBuffer(100, {}, VMA_MEMORY_USAGE_GPU_ONLY, &unaligned);
    ASSERT_EQ(InfoOf(first.allocation).offset, 0u);

    for (VkDeviceSize alignment : {VkDeviceSize(256), VkDeviceSize(65536)})
    {
        SCOPED_TRACE(alignment);
        ASSERT_TRUE(Alloc().SetBufferAlignment(alignment));
        std::vector<Buffer> buffers;
        for (VkDeviceSize size :
             {VkDeviceSize(100), 1 * KiB, 300 * KiB, 4 * MiB, 20 * MiB, VkDeviceSize(100)})
            buffers.push_back(MakeBuffer(size));
        for (const Buffer& b : buffers)
            EXPECT_EQ(InfoOf(b.allocation).offset % alignment, 0u) << InfoOf(b.allocation).offset;
        // The first aligned buffer of the small pool comes right after the unaligned one's range.
        EXPECT_EQ(InfoOf(buffers[0].allocation).offset, alignment);
        for (const Buffer& b : buffers)
            Destroy(b);
    }
    // The unaligned instance is not affected by the other's setting.
    const Buffer second = MakeBuffer(100, {}, VMA_MEMORY_USAGE_GPU_ONLY, &unaligned);
    VkMemoryRequirements requirements{};
    vkGetBufferMemoryRequirements(GetVkDevice(), second.buffer, &requirements);
    const VkDeviceSize firstEnd = InfoOf(first.allocation).size;
    EXPECT_EQ(InfoOf(second.allocation).offset,
              (firstEnd + requirements.alignment - 1) / requirements.alignment * requirements.alignment)
        << "packed right after the first 100-byte buffer, at the buffer's own alignment";
    EXPECT_TRUE(unaligned.DestroyBuffer(first.buffer, first.allocation));
    EXPECT_TRUE(unaligned.DestroyBuffer(second.buffer, second.allocation));
}

// ------------------------------------------------------------------ warning threshold

TEST_F(PoolTest, WarningThresholdMustBeInZeroToOne)
{
    EXPECT_FLOAT_EQ(Alloc().GetMemoryUsageWarningThreshold(), 0.9f);
    for (float wrong : {std::numeric_limits<float>::quiet_NaN(), 0.0f, -0.0f, -0.1f, 1.5f, 1.0001f,
                        std::numeric_limits<float>::infinity()})
    {
        SCOPED_TRACE(wrong);
        LogCapture capture;
        EXPECT_FALSE(Alloc().SetMemoryUsageWarningThreshold(wrong));
        EXPECT_TRUE(OneAllocatorError(capture, "must be in (0, 1]"));
        EXPECT_FLOAT_EQ(Alloc().GetMemoryUsageWarningThreshold(), 0.9f) << "unchanged";
    }
    EXPECT_TRUE(Alloc().SetMemoryUsageWarningThreshold(1.0f));
    EXPECT_EQ(Alloc().GetMemoryUsageWarningThreshold(), 1.0f);
    EXPECT_TRUE(Alloc().SetMemoryUsageWarningThreshold(0.25f));
    EXPECT_EQ(Alloc().GetMemoryUsageWarningThreshold(), 0.25f);
    EXPECT_TRUE(Alloc().SetMemoryUsageWarningThreshold(std::numeric_limits<float>::min()));
}

} // namespace
} // namespace SceneryEditorX
