// The SpeedOptimized buffer-reuse cache: what is handed out again and when, what never is, its cap,
// its statistics, and every place that empties it (ReleaseReuseCache, a defragmentation session, a
// warning-threshold crossing, Shutdown).
#include "MemoryTestSupport.h"

#include <gtest/gtest.h>

#include <latch>
#include <thread>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;
using Strategy = MemoryAllocator::AllocationStrategy;

class ReuseCacheTest : public AllocatorTest
{
protected:
    void SetUp() override
    {
        AllocatorTest::SetUp();
        Alloc().SetAllocationStrategy(Strategy::SpeedOptimized);
    }
    uint64_t Cached() const { return m_Allocator->GetStats().reuseCacheCount; }
    VkDeviceSize BufferSizeOf(VkBuffer buffer)
    {
        VkMemoryRequirements req{};
        vkGetBufferMemoryRequirements(Device()->GetDevice(), buffer, &req);
        return req.size;
    }
};

TEST_F(ReuseCacheTest, AFreedBufferIsHandedToTheNextRequestOfItsClass)
{
    const Buffer first = MakeBuffer(60 * KiB);
    Destroy(first);
    EXPECT_EQ(Cached(), 1u);
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(first.allocation)) << "cached is not live";

    // 62 KiB rounds to the same 64 KiB class as 60 KiB.
    const Buffer second = MakeBuffer(62 * KiB);
    EXPECT_EQ(second.buffer, first.buffer);
    EXPECT_EQ(second.allocation, first.allocation);
    EXPECT_EQ(Cached(), 0u);
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(second.allocation));
    EXPECT_EQ(MemoryAllocator::GetBuffer(second.allocation), second.buffer);
    EXPECT_EQ(Alloc().GetStats().tag.allocationCount, 1u);
    EXPECT_EQ(Alloc().GetStats().tag.totalAllocations, 2u);
    Destroy(second);
}

TEST_F(ReuseCacheTest, TheBufferIsItsClassSizeSoItCanBeLargerThanRequested)
{
    const Buffer speed = MakeBuffer(60 * KiB);
    EXPECT_GE(BufferSizeOf(speed.buffer), 64 * KiB) << "made at its class size, 64 KiB";
    EXPECT_GE(InfoOf(speed.allocation).size, 64 * KiB);
    Alloc().SetAllocationStrategy(Strategy::Default);
    const Buffer exact = MakeBuffer(60 * KiB);
    EXPECT_LT(BufferSizeOf(exact.buffer), 64 * KiB) << "other strategies get the size asked for";
    Destroy(exact);
    Destroy(speed);
    EXPECT_EQ(Cached(), 1u) << "a SpeedOptimized buffer is cached whoever frees it";
}

TEST_F(ReuseCacheTest, ClassesAreAQuarterOctave)
{
    struct Case
    {
        VkDeviceSize first, second;
        bool same;
    };
    const Case cases[] = {
        {1, 256, true},                 // the smallest class is 256 bytes
        {257, 512, true},               // 256-byte steps below 2 KiB
        {40 * KiB + 1, 48 * KiB, true}, // 8 KiB steps in (32, 64] KiB
        {48 * KiB, 48 * KiB + 1, false},
        {200 * KiB, 224 * KiB, true}, // 32 KiB steps in (128, 256] KiB
        {224 * KiB, 224 * KiB + 1, false},
    };
    for (const Case& c : cases)
    {
        SCOPED_TRACE(::testing::Message() << c.first << " then " << c.second);
        const Buffer a = MakeBuffer(c.first);
        Destroy(a);
        const Buffer b = MakeBuffer(c.second);
        EXPECT_EQ(b.allocation == a.allocation, c.same);
        Destroy(b);
        EXPECT_EQ(MemoryAllocator::ReleaseReuseCache(), c.same ? 1u : 2u);
    }
}

TEST_F(ReuseCacheTest, ADifferentKeyNeverGetsTheCachedBuffer)
{
    const Buffer cached = MakeBuffer(60 * KiB);
    Destroy(cached);
    std::vector<Buffer> others;
    others.push_back(
        MakeBuffer(60 * KiB, CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY), VK_BUFFER_USAGE_INDEX_BUFFER_BIT));
    others.push_back(MakeBuffer(60 * KiB, CreateInfo(VMA_MEMORY_USAGE_CPU_TO_GPU)));
    others.push_back(MakeBuffer(60 * KiB, CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::Mapped)));
    others.push_back(MakeBuffer(30 * KiB));
    ASSERT_TRUE(Alloc().SetBufferAlignment(4096));
    others.push_back(MakeBuffer(60 * KiB));
    ASSERT_TRUE(Alloc().SetBufferAlignment(1));
    others.push_back(MakeBuffer(60 * KiB, CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::Dedicated)));
    for (const Buffer& b : others)
        EXPECT_NE(b.allocation, cached.allocation);
    EXPECT_EQ(Cached(), 1u);
    const Buffer same = MakeBuffer(60 * KiB);
    EXPECT_EQ(same.allocation, cached.allocation);
    Destroy(same);
    for (const Buffer& b : others)
        Destroy(b);
    EXPECT_EQ(Cached(), 6u) << "all but the dedicated one are cacheable";
}

TEST_F(ReuseCacheTest, OtherStrategiesNeverCache)
{
    for (Strategy s : {Strategy::Default, Strategy::MemoryOptimized})
    {
        Alloc().SetAllocationStrategy(s);
        const Buffer b = MakeBuffer(60 * KiB);
        Destroy(b);
        EXPECT_EQ(Cached(), 0u);
    }
}

TEST_F(ReuseCacheTest, ADeferredDestroyIsHandedOutOnlyAfterItsFrameRetires)
{
    const uint32_t frames = MemoryAllocator::GetSettings().framesInFlight;
    ASSERT_GE(frames, 1u);
    const uint64_t destroyFrame = MemoryAllocator::GetCurrentFrameIndex() + 1;
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(destroyFrame));
    const Buffer inFlight = MakeBuffer(60 * KiB);
    ASSERT_TRUE(Alloc().DestroyBufferDeferred(inFlight.buffer, inFlight.allocation));
    EXPECT_EQ(Cached(), 0u) << "still in use by the frames in flight";

    // Every frame before the retirement: a request of the same class gets another buffer. These are
    // kept alive, so that the cache can only ever hold the retired one.
    std::vector<Buffer> meanwhile;
    for (uint64_t f = destroyFrame; f < destroyFrame + frames; ++f)
    {
        ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(f));
        meanwhile.push_back(MakeBuffer(60 * KiB));
        EXPECT_NE(meanwhile.back().buffer, inFlight.buffer) << "frame " << f;
        EXPECT_NE(meanwhile.back().allocation, inFlight.allocation) << "frame " << f;
    }

    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(destroyFrame + frames));
    EXPECT_EQ(Cached(), 1u) << "its frame has retired";
    const Buffer again = MakeBuffer(60 * KiB);
    EXPECT_EQ(again.buffer, inFlight.buffer);
    EXPECT_EQ(again.allocation, inFlight.allocation);
    Destroy(again);
    for (const Buffer& b : meanwhile)
        Destroy(b);
}

TEST_F(ReuseCacheTest, StatisticsShowTheCacheApartFromUsedBytes)
{
    const AllocationStats before = Alloc().GetStats();
    const Buffer b = MakeBuffer(60 * KiB);
    const VkDeviceSize size = InfoOf(b.allocation).size;
    Destroy(b);
    const AllocationStats cached = Alloc().GetStats();
    EXPECT_EQ(cached.reuseCacheBytes, size);
    EXPECT_EQ(cached.reuseCacheCount, 1u);
    EXPECT_EQ(cached.usedBytes, before.usedBytes);
    EXPECT_EQ(cached.allocationCount, before.allocationCount);
    EXPECT_EQ(cached.tag.usedBytes, 0u);
    EXPECT_GE(cached.totalBytes, size) << "its block stays committed";
    EXPECT_EQ(VmaTotals().allocationCount, before.allocationCount + 1) << "still a VMA allocation";
    const AllocationStats exact = Alloc().CalculateStats();
    EXPECT_EQ(exact.usedBytes, cached.usedBytes);
    EXPECT_EQ(exact.reuseCacheCount, 1u);

    EXPECT_EQ(MemoryAllocator::ReleaseReuseCache(), 1u);
    EXPECT_EQ(Alloc().GetStats().reuseCacheBytes, 0u);
    EXPECT_EQ(VmaTotals().allocationCount, before.allocationCount);
    EXPECT_EQ(MemoryAllocator::ReleaseReuseCache(), 0u);
}

TEST_F(ReuseCacheTest, ADefragmentationSessionEmptiesTheCacheAndBypassesIt)
{
    const Buffer a = MakeBuffer(60 * KiB);
    const Buffer b = MakeBuffer(60 * KiB);
    Destroy(a);
    EXPECT_EQ(Cached(), 1u);
    ASSERT_TRUE(Alloc().BeginDefragmentation());
    EXPECT_EQ(Cached(), 0u);
    Destroy(b);
    EXPECT_EQ(Cached(), 0u) << "freed, not cached, while the session is open";
    Alloc().EndDefragmentation();
    const Buffer c = MakeBuffer(60 * KiB);
    Destroy(c);
    EXPECT_EQ(Cached(), 1u);
}

TEST_F(ReuseCacheTest, CrossingAWarningThresholdReleasesTheCache)
{
    const Buffer b = MakeBuffer(60 * KiB);
    Destroy(b);
    ASSERT_EQ(Cached(), 1u);
    MemoryAllocator watcher(Tag() + ".watcher");
    ASSERT_TRUE(watcher.SetMemoryUsageWarningThreshold(1e-9f));
    LogCapture capture;
    EXPECT_TRUE(watcher.GetMemoryBudget().isAboveWarningThreshold);
    EXPECT_EQ(Cached(), 0u);
    EXPECT_EQ(capture.Count(LogLevel::Info, "released 1 cached SpeedOptimized buffers"), 1u)
        << Describe(capture);

    // While the watcher stays above its threshold, freed buffers are not cached again.
    const Buffer meanwhile = MakeBuffer(60 * KiB);
    Destroy(meanwhile);
    EXPECT_EQ(Cached(), 0u) << "memory is short: freed, not cached";
    ASSERT_TRUE(watcher.SetMemoryUsageWarningThreshold(1.0f));
    const Buffer after = MakeBuffer(60 * KiB);
    Destroy(after);
    EXPECT_EQ(Cached(), 1u) << "no instance above its threshold any more";
}

TEST_F(ReuseCacheTest, AnInstanceDestroyedAboveItsThresholdStopsHoldingTheCacheBack)
{
    {
        MemoryAllocator watcher(Tag() + ".watcher");
        ASSERT_TRUE(watcher.SetMemoryUsageWarningThreshold(1e-9f));
        const Buffer keepsUsage = MakeBuffer(60 * KiB);
        EXPECT_TRUE(watcher.GetMemoryBudget().isAboveWarningThreshold);
        Destroy(keepsUsage);
        EXPECT_EQ(Cached(), 0u);
    }
    const Buffer b = MakeBuffer(60 * KiB);
    Destroy(b);
    EXPECT_EQ(Cached(), 1u);
}

TEST_F(ReuseCacheTest, ABufferFreedOnAnotherThreadIsHandedOutHere)
{
    // A thread frees into its own shard; a request on another thread finds it there. The main
    // thread leases its stripe first (an uncached allocation), so the worker gets another one.
    Alloc().SetAllocationStrategy(Strategy::Default);
    Destroy(MakeBuffer(4 * KiB));
    Alloc().SetAllocationStrategy(Strategy::SpeedOptimized);
    Buffer freedThere;
    std::thread(
        [&]
        {
            freedThere = MakeBuffer(60 * KiB);
            Destroy(freedThere);
        })
        .join();
    EXPECT_EQ(Cached(), 1u);
    const Buffer here = MakeBuffer(62 * KiB);
    EXPECT_EQ(here.buffer, freedThere.buffer);
    EXPECT_EQ(Cached(), 0u);

    // And the other way round: freed here, taken on another thread.
    Destroy(here);
    Buffer takenThere;
    std::thread([&] { takenThere = MakeBuffer(60 * KiB); }).join();
    EXPECT_EQ(takenThere.buffer, here.buffer);
    Destroy(takenThere);
}

class SmallReuseCacheTest : public ReuseCacheTest
{
protected:
    AllocatorSettings Settings() const override { return {.bufferReuseCacheBytes = 128 * KiB}; }
};

TEST_F(SmallReuseCacheTest, TheCacheNeverHoldsMoreThanItsCap)
{
    std::vector<Buffer> buffers;
    for (int i = 0; i < 4; ++i)
        buffers.push_back(MakeBuffer(64 * KiB));
    const uint64_t vmaBefore = VmaTotals().allocationCount;
    for (const Buffer& b : buffers)
        Destroy(b);
    const AllocationStats stats = Alloc().GetStats();
    EXPECT_LE(stats.reuseCacheBytes, 128 * KiB);
    EXPECT_EQ(stats.reuseCacheCount, 2u);
    EXPECT_EQ(VmaTotals().allocationCount, vmaBefore - 2) << "the two over the cap were freed";
}

TEST_F(SmallReuseCacheTest, TheCapHoldsForThreadsFreeingAtOnce)
{
    // Four threads free two 64 KiB buffers each into their own shards, all against one 128 KiB cap.
    // All four are alive together (the latches), so each holds a stripe of its own.
    constexpr int kThreads = 4;
    std::vector<Buffer> buffers;
    for (int i = 0; i < 2 * kThreads; ++i)
        buffers.push_back(MakeBuffer(64 * KiB));
    const uint64_t vmaBefore = VmaTotals().allocationCount;
    std::latch started(kThreads);
    std::latch freed(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back(
            [&, t]
            {
                started.arrive_and_wait();
                Destroy(buffers[static_cast<size_t>(2 * t)]);
                Destroy(buffers[static_cast<size_t>(2 * t + 1)]);
                freed.arrive_and_wait();
            });
    for (std::thread& t : threads)
        t.join();
    const AllocationStats stats = Alloc().GetStats();
    EXPECT_LE(stats.reuseCacheBytes, 128 * KiB);
    EXPECT_EQ(stats.reuseCacheCount, 2u) << "two 64 KiB buffers fill the cap";
    EXPECT_EQ(VmaTotals().allocationCount, vmaBefore - 2 * kThreads + 2);
    EXPECT_EQ(MemoryAllocator::ReleaseReuseCache(), 2u);
    // Released, the whole cap is free again, whichever shards held it.
    const Buffer a = MakeBuffer(64 * KiB);
    const Buffer b = MakeBuffer(64 * KiB);
    Destroy(a);
    Destroy(b);
    EXPECT_EQ(Cached(), 2u);
}

class NoReuseCacheTest : public ReuseCacheTest
{
protected:
    AllocatorSettings Settings() const override { return {.bufferReuseCacheBytes = 0}; }
};

TEST_F(NoReuseCacheTest, ACapOfZeroTurnsReuseOff)
{
    const Buffer a = MakeBuffer(60 * KiB);
    EXPECT_LT(BufferSizeOf(a.buffer), 64 * KiB) << "no class rounding without the cache";
    const uint64_t vmaBefore = VmaTotals().allocationCount;
    Destroy(a);
    EXPECT_EQ(Cached(), 0u);
    EXPECT_EQ(VmaTotals().allocationCount, vmaBefore - 1);
}

// A test on its own: Shutdown with a full cache reports no leak (the fixture fails on any) and leaves
// nothing to VMA.
TEST_F(ReuseCacheTest, ShutdownReleasesTheCacheWithoutLeakReports)
{
    for (int i = 0; i < 8; ++i)
        Destroy(MakeBuffer((i + 1) * 16 * KiB));
    EXPECT_GT(Cached(), 0u);
}

} // namespace
} // namespace SceneryEditorX
