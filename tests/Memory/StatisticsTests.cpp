// Statistics: exact counters against what was allocated and against VMA's own full statistics, per-tag
// figures, peaks, the fragmentation ratio of constructed layouts (and its cache), the model of a real
// VMA dump and the detailed report.
#include "MemoryTestSupport.h"

#include <SceneryEditorX/VmaDump/DumpModel.h>

#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

std::optional<detail::DumpModel> RealDump()
{
    std::string error;
    std::optional<detail::DumpModel> model =
        detail::ParseVmaDump(DetailedStatsString(MemoryAllocator::GetAllocator()), error);
    EXPECT_TRUE(model) << error;
    return model;
}

class StatisticsTest : public AllocatorTest
{
protected:
    struct Resource
    {
        VkBuffer buffer = VK_NULL_HANDLE;
        VkImage image = VK_NULL_HANDLE;
        VmaAllocation allocation = nullptr;
        VkDeviceSize size = 0; // VMA's allocation size
    };
    Resource MakeBuffer(VkDeviceSize size, MemoryAllocator* allocator = nullptr, const std::string& name = {},
                        AllocationFlags flags = AllocationFlags::None)
    {
        Resource r;
        MemoryAllocator& a = allocator ? *allocator : Alloc();
        r.allocation =
            a.AllocateBuffer(BufferInfo(size), CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, flags, name), r.buffer);
        EXPECT_NE(r.allocation, nullptr);
        r.size = r.allocation ? InfoOf(r.allocation).size : 0;
        return r;
    }
    Resource MakeImage(const VkImageCreateInfo& info, MemoryAllocator* allocator = nullptr)
    {
        Resource r;
        MemoryAllocator& a = allocator ? *allocator : Alloc();
        VkDeviceSize allocated = 0;
        r.allocation = a.AllocateImage(info, VMA_MEMORY_USAGE_GPU_ONLY, r.image, &allocated);
        EXPECT_NE(r.allocation, nullptr);
        r.size = allocated;
        return r;
    }
    void Destroy(const Resource& r, MemoryAllocator* allocator = nullptr)
    {
        MemoryAllocator& a = allocator ? *allocator : Alloc();
        if (r.buffer)
            EXPECT_TRUE(a.DestroyBuffer(r.buffer, r.allocation));
        else
            EXPECT_TRUE(a.DestroyImage(r.image, r.allocation));
    }

    /// GetStats' VMA figures equal VMA's full walk, and CalculateStats agrees with both.
    ::testing::AssertionResult StatsMatchVma()
    {
        const AllocationStats cheap = Alloc().GetStats();
        const AllocationStats exact = Alloc().CalculateStats();
        const VmaStatistics vma = VmaTotals();
        if (cheap.totalBytes == vma.blockBytes && cheap.usedBytes == vma.allocationBytes &&
            cheap.allocationCount == vma.allocationCount && cheap.blockCount == vma.blockCount &&
            exact.totalBytes == vma.blockBytes && exact.usedBytes == vma.allocationBytes &&
            exact.allocationCount == vma.allocationCount && exact.blockCount == vma.blockCount)
            return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure()
               << "GetStats {total " << cheap.totalBytes << ", used " << cheap.usedBytes << ", count "
               << cheap.allocationCount << ", blocks " << cheap.blockCount << "}, CalculateStats {total "
               << exact.totalBytes << ", used " << exact.usedBytes << ", count " << exact.allocationCount
               << ", blocks " << exact.blockCount << "}, vmaCalculateStatistics {total " << vma.blockBytes
               << ", used " << vma.allocationBytes << ", count " << vma.allocationCount << ", blocks "
               << vma.blockCount << "}";
    }

    /// 16 buffers of 256 KiB filling one fresh 4 MiB block of the small pool, in offset order.
    std::vector<Resource> FillOneSmallBlock()
    {
        std::vector<Resource> buffers;
        for (int i = 0; i < 16; ++i)
            buffers.push_back(MakeBuffer(SMALL_BUFFER_SIZE));
        for (size_t i = 0; i < buffers.size(); ++i)
        {
            const VmaAllocationInfo2 info = Info2Of(buffers[i].allocation);
            EXPECT_EQ(info.allocationInfo.size, SMALL_BUFFER_SIZE);
            EXPECT_EQ(info.allocationInfo.offset, i * SMALL_BUFFER_SIZE);
            EXPECT_EQ(info.blockSize, 4 * MiB);
            EXPECT_EQ(info.allocationInfo.deviceMemory, InfoOf(buffers[0].allocation).deviceMemory);
        }
        return buffers;
    }
};

TEST_F(StatisticsTest, StatsGrowByExactlyTheAllocatedSizesAndReturnToBaseline)
{
    const AllocationStats baseline = Alloc().GetStats();
    std::vector<Resource> resources;
    for (VkDeviceSize size : {1 * KiB, 100 * KiB, 600 * KiB, 3 * MiB, 20 * MiB})
        resources.push_back(MakeBuffer(size));
    resources.push_back(MakeImage(ImageInfo(64, 64)));
    resources.push_back(MakeImage(ImageInfo(256, 256, 9)));
    const uint64_t sum = std::accumulate(resources.begin(), resources.end(), uint64_t{0},
                                         [](uint64_t s, const Resource& r) { return s + r.size; });

    const AllocationStats stats = Alloc().GetStats();
    EXPECT_EQ(stats.usedBytes, baseline.usedBytes + sum);
    EXPECT_EQ(stats.allocationCount, baseline.allocationCount + resources.size());
    EXPECT_EQ(stats.tag.usedBytes, sum);
    EXPECT_EQ(stats.tag.allocationCount, 7u);
    EXPECT_EQ(stats.tag.bufferCount, 5u);
    EXPECT_EQ(stats.tag.imageCount, 2u);
    EXPECT_EQ(stats.tag.totalAllocations, 7u);
    EXPECT_EQ(stats.tag.totalFrees, 0u);
    EXPECT_GE(stats.totalBytes, stats.usedBytes);

    for (const Resource& r : resources)
        Destroy(r);
    const AllocationStats after = Alloc().GetStats();
    EXPECT_EQ(after.usedBytes, baseline.usedBytes);
    EXPECT_EQ(after.allocationCount, baseline.allocationCount);
    EXPECT_EQ(after.tag.usedBytes, 0u);
    EXPECT_EQ(after.tag.allocationCount, 0u);
    EXPECT_EQ(after.tag.bufferCount, 0u);
    EXPECT_EQ(after.tag.imageCount, 0u);
    EXPECT_EQ(after.tag.totalFrees, 7u);
}

TEST_F(StatisticsTest, GetStatsEqualsVmaCalculateStatisticsAtEveryStep)
{
    ASSERT_TRUE(StatsMatchVma());
    std::vector<Resource> live;
    const VkDeviceSize sizes[] = {1 * KiB, 256 * KiB, 700 * KiB, 5 * MiB, 17 * MiB, 64 * KiB, 2 * MiB};
    for (VkDeviceSize size : sizes)
    {
        live.push_back(MakeBuffer(size));
        ASSERT_TRUE(StatsMatchVma()) << "after allocating " << size;
        live.push_back(MakeImage(ImageInfo(32 + static_cast<uint32_t>(live.size()) * 8, 32)));
        ASSERT_TRUE(StatsMatchVma()) << "after an image";
    }
    live.push_back(MakeBuffer(8 * KiB, nullptr, {}, AllocationFlags::Dedicated));
    ASSERT_TRUE(StatsMatchVma()) << "after a dedicated allocation";
    // Free in an order that empties blocks along the way.
    for (size_t i = 0; i < live.size(); i += 2)
    {
        Destroy(live[i]);
        ASSERT_TRUE(StatsMatchVma()) << "after freeing " << i;
    }
    for (size_t i = 1; i < live.size(); i += 2)
    {
        Destroy(live[i]);
        ASSERT_TRUE(StatsMatchVma()) << "after freeing " << i;
    }
    EXPECT_EQ(Alloc().GetStats().allocationCount, 0u);
}

TEST_F(StatisticsTest, PerTagFiguresAreTheSumsOfTheirAllocationsAndAddUpToTheTotals)
{
    MemoryAllocator a(Tag() + ".A");
    MemoryAllocator b(Tag() + ".B");
    MemoryAllocator c(Tag() + ".C");
    std::vector<std::pair<MemoryAllocator*, Resource>> made;
    made.emplace_back(&a, MakeBuffer(1 * KiB, &a));
    made.emplace_back(&a, MakeBuffer(300 * KiB, &a));
    made.emplace_back(&a, MakeImage(ImageInfo(128, 128), &a));
    made.emplace_back(&b, MakeBuffer(6 * MiB, &b));
    made.emplace_back(&b, MakeBuffer(40 * KiB, &b));
    made.emplace_back(&c, MakeImage(ImageInfo(256, 256, 9), &c));
    uint64_t expected[3] = {0, 0, 0};
    MemoryAllocator* instances[3] = {&a, &b, &c};
    for (const auto& [owner, r] : made)
        for (int i = 0; i < 3; ++i)
            if (owner == instances[i])
                expected[i] += r.size;

    uint64_t tagSum = 0;
    for (int i = 0; i < 3; ++i)
    {
        const TagStats s = instances[i]->GetStats().tag;
        EXPECT_EQ(s.usedBytes, expected[i]) << s.tag;
        tagSum += s.usedBytes;
    }
    EXPECT_EQ(a.GetStats().tag.allocationCount, 3u);
    EXPECT_EQ(a.GetStats().tag.imageCount, 1u);
    EXPECT_EQ(b.GetStats().tag.bufferCount, 2u);
    EXPECT_EQ(c.GetStats().tag.imageCount, 1u);
    EXPECT_EQ(Alloc().GetStats().tag.allocationCount, 0u) << "the fixture's own tag made nothing";
    // Nothing else is allocated (no staging buffers, no raw VMA allocations): the tags add up to VMA's total.
    EXPECT_EQ(tagSum, VmaTotals().allocationBytes);
    EXPECT_EQ(tagSum, Alloc().GetStats().usedBytes);

    // GetAllTagStats lists the same figures.
    int found = 0;
    for (const TagStats& s : MemoryAllocator::GetAllTagStats())
        for (int i = 0; i < 3; ++i)
            if (s.tag == instances[i]->GetTag())
            {
                EXPECT_EQ(s.usedBytes, expected[i]);
                ++found;
            }
    EXPECT_EQ(found, 3);

    for (const auto& [owner, r] : made)
        Destroy(r, owner);
    for (MemoryAllocator* instance : instances)
        EXPECT_EQ(instance->GetStats().tag.usedBytes, 0u);
}

TEST_F(StatisticsTest, InstancesWithTheSameTagShareCounters)
{
    MemoryAllocator first(Tag() + ".shared");
    MemoryAllocator second(Tag() + ".shared");
    const Resource r1 = MakeBuffer(64 * KiB, &first);
    const Resource r2 = MakeBuffer(128 * KiB, &second);
    const TagStats s1 = first.GetStats().tag;
    const TagStats s2 = second.GetStats().tag;
    EXPECT_EQ(s1.usedBytes, r1.size + r2.size);
    EXPECT_EQ(s1.allocationCount, 2u);
    EXPECT_EQ(s2.usedBytes, s1.usedBytes);
    EXPECT_EQ(s2.allocationCount, s1.allocationCount);
    int listed = 0;
    for (const TagStats& s : MemoryAllocator::GetAllTagStats())
        listed += s.tag == first.GetTag();
    EXPECT_EQ(listed, 1) << "one entry per tag";
    // Freed through the other instance: the shared counters still balance.
    Destroy(r1, &second);
    Destroy(r2, &first);
    EXPECT_EQ(first.GetStats().tag.usedBytes, 0u);
    EXPECT_EQ(second.GetStats().tag.allocationCount, 0u);
}

TEST_F(StatisticsTest, RawVmaAllocationsCountInTheTotalsButInNoTag)
{
    VkBufferCreateInfo info = BufferInfo(64 * KiB);
    VmaAllocationCreateInfo aci{};
    aci.usage = VMA_MEMORY_USAGE_AUTO;
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation raw = nullptr;
    ASSERT_EQ(vmaCreateBuffer(MemoryAllocator::GetAllocator(), &info, &aci, &buffer, &raw, nullptr),
              VK_SUCCESS);
    const AllocationStats stats = Alloc().GetStats();
    EXPECT_EQ(stats.usedBytes, InfoOf(raw).size);
    EXPECT_EQ(stats.allocationCount, 1u);
    EXPECT_EQ(stats.tag.usedBytes, 0u);
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(raw)) << "not in the registry";
    EXPECT_TRUE(StatsMatchVma());
    vmaDestroyBuffer(MemoryAllocator::GetAllocator(), buffer, raw);
}

TEST_F(StatisticsTest, PeaksHoldAfterFreesAndResetStatsResetsThemToTheLiveValues)
{
    const Resource a = MakeBuffer(1 * MiB);
    const Resource b = MakeBuffer(2 * MiB);
    const Resource c = MakeImage(ImageInfo(256, 256));
    const AllocationStats atPeak = Alloc().GetStats();
    ASSERT_EQ(atPeak.allocationCount, 3u);
    EXPECT_EQ(atPeak.peakUsedBytes, atPeak.usedBytes);
    EXPECT_EQ(atPeak.peakAllocationCount, 3u);
    EXPECT_EQ(atPeak.tag.peakUsedBytes, a.size + b.size + c.size);

    Destroy(b);
    Destroy(c);
    const AllocationStats afterFrees = Alloc().GetStats();
    EXPECT_EQ(afterFrees.usedBytes, a.size);
    EXPECT_EQ(afterFrees.peakUsedBytes, atPeak.usedBytes) << "the peak holds";
    EXPECT_EQ(afterFrees.peakAllocationCount, 3u);
    EXPECT_EQ(afterFrees.tag.peakUsedBytes, atPeak.tag.peakUsedBytes);
    EXPECT_EQ(afterFrees.tag.totalAllocations, 3u);
    EXPECT_EQ(afterFrees.tag.totalFrees, 2u);

    MemoryAllocator::ResetStats();
    const AllocationStats reset = Alloc().GetStats();
    EXPECT_EQ(reset.peakUsedBytes, a.size);
    EXPECT_EQ(reset.peakAllocationCount, 1u);
    EXPECT_EQ(reset.tag.peakUsedBytes, a.size);
    EXPECT_EQ(reset.tag.totalAllocations, 0u);
    EXPECT_EQ(reset.tag.totalFrees, 0u);
    EXPECT_EQ(reset.tag.usedBytes, a.size) << "live figures are not reset";
    EXPECT_EQ(reset.tag.allocationCount, 1u);

    const Resource d = MakeBuffer(4 * KiB);
    EXPECT_EQ(Alloc().GetStats().tag.totalAllocations, 1u);
    EXPECT_EQ(Alloc().GetStats().peakAllocationCount, 2u);
    Destroy(a);
    Destroy(d);
}

// "Used" counts a deferred destroy until its frame retires (its memory is still VMA's), so a new
// buffer made meanwhile raises the peak to both, and the peak holds once the frame retires. No
// GetStats runs in between: the counters follow every allocation, not only what a reader sees.
TEST_F(StatisticsTest, PeakCountsADeferredDestroyUntilItsFrameRetiresAndNeverGoesDown)
{
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(1));
    const Resource a = MakeBuffer(1 * MiB);
    ASSERT_TRUE(Alloc().DestroyBufferDeferred(a.buffer, a.allocation));
    const Resource b = MakeBuffer(1 * MiB);
    const uint32_t frames = MemoryAllocator::GetSettings().framesInFlight;
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(1 + frames));
    const AllocationStats retired = Alloc().GetStats();
    EXPECT_EQ(retired.usedBytes, b.size);
    EXPECT_EQ(retired.usedBytes, VmaTotals().allocationBytes);
    EXPECT_EQ(retired.peakUsedBytes, a.size + b.size);
    EXPECT_EQ(retired.peakAllocationCount, 2u);
    EXPECT_EQ(retired.tag.peakUsedBytes, a.size) << "the tag's figures count its live allocations";
    EXPECT_EQ(Alloc().CalculateStats().peakUsedBytes, a.size + b.size);
    Destroy(b);
    EXPECT_EQ(Alloc().GetStats().peakUsedBytes, a.size + b.size);
}

// The used figures that the allocation path counts (they raise the peaks between readings) equal
// VMA's, the library's own staging buffers included (they are counted under the internal tag), and a
// deferred destroy until its frame retires. ResetStats sets the peaks to the counted figures; a
// GetStats right after reads VMA's: a peak above its used figure there means the counters count
// memory that VMA does not hold.
TEST_F(StatisticsTest, CountedUsedFiguresEqualVmasWithStagingAndDeferredDestroys)
{
    ASSERT_GT(MemoryAllocator::GetSettings().stagingCacheBytes, 0u) << "staging buffers are kept";
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(1));
    const Resource a = MakeBuffer(256 * KiB);
    const std::vector<uint8_t> data(256 * KiB, 0x5A);
    ASSERT_TRUE(Alloc().UploadToBuffer(a.allocation, data.data(), data.size()));
    std::vector<uint8_t> back(data.size());
    ASSERT_TRUE(Alloc().ReadbackBuffer(a.allocation, back.data(), back.size()));
    EXPECT_EQ(back, data);
    const Resource b = MakeBuffer(64 * KiB);
    ASSERT_TRUE(Alloc().DestroyBufferDeferred(b.buffer, b.allocation));
    auto expectCountedEqualsVma = [&](const char* when)
    {
        MemoryAllocator::ResetStats();
        const AllocationStats s = Alloc().GetStats();
        EXPECT_EQ(s.usedBytes, VmaTotals().allocationBytes) << when;
        EXPECT_EQ(s.peakUsedBytes, s.usedBytes) << when;
        EXPECT_EQ(s.peakAllocationCount, s.allocationCount) << when;
        return s;
    };
    const AllocationStats held = expectCountedEqualsVma("staging kept, a deferred destroy waiting");
    EXPECT_GE(held.usedBytes, a.size + b.size + data.size()) << "the staging buffer is used memory";
    const uint32_t frames = MemoryAllocator::GetSettings().framesInFlight;
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(1 + frames));
    expectCountedEqualsVma("the deferred destroy retired");
    Destroy(a);
    EXPECT_GE(expectCountedEqualsVma("every buffer freed, staging kept").usedBytes, data.size());
}

TEST_F(StatisticsTest, PeaksStayExactWhenThreadsTakeTurns)
{
    // Counts are striped per thread. A worker frees what the main thread made and exits; its stripe
    // is folded into the shared totals then, so the main thread's later view (and so the peak) is
    // exact: left behind, the worker's -768 KiB would make the peak 1.25 MiB when no more than
    // 768 KiB were ever live.
    const Resource a = MakeBuffer(768 * KiB);
    std::thread([&] { Destroy(a); }).join();
    const Resource b = MakeBuffer(512 * KiB);
    const Resource c = MakeBuffer(4 * KiB);
    const AllocationStats stats = Alloc().GetStats();
    EXPECT_EQ(stats.tag.usedBytes, b.size + c.size);
    EXPECT_EQ(stats.tag.peakUsedBytes, a.size);
    Destroy(b);
    Destroy(c);
}

// ------------------------------------------------------------------ fragmentation

TEST_F(StatisticsTest, FragmentationRatioOfAConstructedLayoutIsExact)
{
    std::vector<Resource> buffers = FillOneSmallBlock();
    EXPECT_EQ(Alloc().CalculateStats().fragmentationRatio, 0.0f) << "a full block has nothing free";
    // A 17th buffer opens a second block. Freed last, that block stays empty in reserve (VMA drops an
    // empty block only when another free in the pool finds one already there), and must not count.
    const Resource seventeenth = MakeBuffer(SMALL_BUFFER_SIZE);
    ASSERT_NE(InfoOf(seventeenth.allocation).deviceMemory, InfoOf(buffers[0].allocation).deviceMemory);

    // Every other buffer freed: 8 separate holes of 256 KiB, 2 MiB free, largest range 256 KiB.
    for (size_t i = 1; i < buffers.size(); i += 2)
        Destroy(buffers[i]);
    Destroy(seventeenth);
    const AllocationStats exact = Alloc().CalculateStats();
    EXPECT_EQ(exact.blockCount, 2u);
    EXPECT_EQ(exact.fragmentationRatio, 0.875f);
    EXPECT_EQ(exact.fragmentationAgeFrames, 0u);
    EXPECT_EQ(Alloc().GetStats().fragmentationRatio, 0.875f) << "CalculateStats refreshes the cached figure";

    const std::optional<detail::DumpModel> dump = RealDump();
    ASSERT_TRUE(dump);
    int smallPools = 0;
    for (const detail::DumpPool& pool : dump->pools)
        if (pool.custom && EndsWith(pool.name, "sedx:small"))
        {
            ++smallPools;
            ASSERT_EQ(pool.blocks.size(), 2u);
            const detail::PoolFreeSpace free = detail::FreeSpaceOf(pool);
            EXPECT_EQ(free.emptyBlocks, 1u);
            EXPECT_EQ(free.freeBytes, 2 * MiB);
            EXPECT_EQ(free.largestFreeRange, 256 * KiB);
            EXPECT_EQ(detail::PoolFragmentation(pool), 0.875f);
        }
    EXPECT_EQ(smallPools, 1);
    EXPECT_EQ(detail::ExternalFragmentation(dump->pools), 0.875f);

    // Freeing buffer 2 merges the holes of 1, 2 and 3: 9 * 256 KiB free, largest 768 KiB.
    Destroy(buffers[2]);
    EXPECT_EQ(Alloc().CalculateStats().fragmentationRatio, static_cast<float>(1.0 - 768.0 / 2304.0));

    // Every buffer freed: one block is empty, kept in reserve, and left out.
    for (size_t i = 0; i < buffers.size(); i += 2)
        if (i != 2)
            Destroy(buffers[i]);
    const AllocationStats empty = Alloc().CalculateStats();
    EXPECT_EQ(empty.blockCount, 1u);
    EXPECT_EQ(empty.fragmentationRatio, 0.0f);
}

TEST_F(StatisticsTest, GetStatsGivesTheLatestWalksRatioWithItsAgeAndNoFrameComputesIt)
{
    std::vector<Resource> buffers = FillOneSmallBlock();
    for (size_t i = 1; i < buffers.size(); i += 2)
        Destroy(buffers[i]);
    // fragmentationRefreshFrames (60 by default) no longer makes a frame walk: frames only age it.
    ASSERT_EQ(MemoryAllocator::GetSettings().fragmentationRefreshFrames, 60u);
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(200));
    AllocationStats stats = Alloc().GetStats();
    EXPECT_EQ(stats.fragmentationRatio, 0.0f) << "never computed";
    EXPECT_EQ(stats.fragmentationAgeFrames, 200u) << "its age counts from Init";

    EXPECT_EQ(Alloc().CalculateStats().fragmentationRatio, 0.875f);
    stats = Alloc().GetStats();
    EXPECT_EQ(stats.fragmentationRatio, 0.875f);
    EXPECT_EQ(stats.fragmentationAgeFrames, 0u);

    Destroy(buffers[2]); // changes the layout; GetStats keeps the walk's figure and says how old it is
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(330));
    stats = Alloc().GetStats();
    EXPECT_EQ(stats.fragmentationRatio, 0.875f);
    EXPECT_EQ(stats.fragmentationAgeFrames, 130u);
    const float exact = Alloc().CalculateStats().fragmentationRatio;
    EXPECT_EQ(exact, static_cast<float>(1.0 - 768.0 / 2304.0));
    EXPECT_EQ(Alloc().GetStats().fragmentationRatio, exact);
    EXPECT_EQ(Alloc().GetStats().fragmentationAgeFrames, 0u);

    for (size_t i = 0; i < buffers.size(); i += 2)
        if (i != 2)
            Destroy(buffers[i]);
}

// The acceptance test of "figures from cheap, exact sources": after freeing half of N buffers of
// every size class (several pools, VMA's default pool and a dedicated allocation), GetStats' cheap
// figures equal CalculateStats' walk exactly.
TEST_F(StatisticsTest, AfterFreeingHalfOfNBuffersGetStatsEqualsCalculateStats)
{
    std::vector<Resource> live;
    const VkDeviceSize sizes[] = {4 * KiB, 64 * KiB, 256 * KiB, 512 * KiB, 1 * MiB, 3 * MiB, 20 * MiB};
    for (int round = 0; round < 30; ++round)
        for (VkDeviceSize size : sizes)
            if (size < 16 * MiB || round < 3)
                live.push_back(MakeBuffer(size + static_cast<VkDeviceSize>(round) * 256));
    for (int i = 0; i < 6; ++i)
        live.push_back(MakeImage(ImageInfo(64 + 32 * static_cast<uint32_t>(i), 64)));
    live.push_back(MakeBuffer(8 * KiB, nullptr, {}, AllocationFlags::Dedicated));
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(10));
    (void)Alloc().CalculateStats(); // the ratio's walk at frame 10
    uint64_t kept = 0;
    for (size_t i = 0; i < live.size(); ++i)
        if (i % 2 == 1)
            Destroy(live[i]);
        else
            kept += live[i].size;
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(17));

    const AllocationStats cheap = Alloc().GetStats();
    EXPECT_EQ(cheap.fragmentationAgeFrames, 7u) << "computed at frame 10, read at 17";
    const AllocationStats exact = Alloc().CalculateStats();
    EXPECT_EQ(cheap.usedBytes, exact.usedBytes);
    EXPECT_EQ(cheap.usedBytes, kept) << "nothing but this test's buffers is allocated";
    EXPECT_EQ(cheap.allocationCount, exact.allocationCount);
    EXPECT_EQ(cheap.totalBytes, exact.totalBytes);
    EXPECT_EQ(cheap.blockCount, exact.blockCount);
    EXPECT_EQ(cheap.reclaimableBytes, exact.reclaimableBytes);
    EXPECT_GT(exact.reclaimableBytes, 0u) << "half freed: whole blocks' worth are free";
    EXPECT_EQ(cheap.reuseCacheBytes, exact.reuseCacheBytes);
    EXPECT_EQ(cheap.peakUsedBytes, exact.peakUsedBytes);
    EXPECT_EQ(cheap.peakAllocationCount, exact.peakAllocationCount);
    EXPECT_EQ(cheap.tag.usedBytes, exact.tag.usedBytes);
    EXPECT_EQ(cheap.tag.usedBytes, kept);
    EXPECT_EQ(cheap.tag.allocationCount, exact.tag.allocationCount);
    EXPECT_EQ(cheap.tag.peakUsedBytes, exact.tag.peakUsedBytes);
    EXPECT_EQ(exact.fragmentationAgeFrames, 0u);
    EXPECT_GT(exact.fragmentationRatio, 0.0f) << "every other buffer freed leaves holes";
    const AllocationStats after = Alloc().GetStats();
    EXPECT_EQ(after.fragmentationRatio, exact.fragmentationRatio);
    EXPECT_EQ(after.fragmentationAgeFrames, 0u);
    for (size_t i = 0; i < live.size(); i += 2)
        Destroy(live[i]);
}

// CalculateStats computes the ratio from each block's figures in VMA's walk (patch 5); the
// definition is the dump model's (libs/VmaDump ExternalFragmentation): both must agree exactly on
// a fragmented state spread over several pools, with empty blocks kept in reserve.
TEST_F(StatisticsTest, WalkRatioEqualsTheDumpsDefinitionAcrossSeveralPools)
{
    std::vector<Resource> live;
    for (int i = 0; i < 40; ++i)
        live.push_back(MakeBuffer(static_cast<VkDeviceSize>(4 + (i % 5) * 60) * KiB)); // small pool
    for (int i = 0; i < 40; ++i)
        live.push_back(MakeBuffer(static_cast<VkDeviceSize>(300 + (i % 3) * 200) * KiB)); // medium pool
    for (int i = 0; i < 12; ++i)
        live.push_back(MakeBuffer(static_cast<VkDeviceSize>(2 + i % 4) * MiB)); // large pool
    for (int i = 0; i < 4; ++i)
        live.push_back(MakeBuffer(18 * MiB)); // VMA's default pool
    for (int i = 0; i < 10; ++i)
        live.push_back(MakeImage(ImageInfo(64 + 16 * static_cast<uint32_t>(i), 64)));
    for (size_t i = 0; i < live.size(); ++i)
        if (i % 3 != 0)
            Destroy(live[i]);
    const std::optional<detail::DumpModel> dump = RealDump();
    ASSERT_TRUE(dump);
    int poolsWithHoles = 0;
    for (const detail::DumpPool& pool : dump->pools)
        poolsWithHoles += detail::FreeSpaceOf(pool).freeBytes > detail::FreeSpaceOf(pool).largestFreeRange;
    EXPECT_GE(poolsWithHoles, 3) << "the state is fragmented in several pools";
    const float expected = detail::ExternalFragmentation(dump->pools);
    EXPECT_GT(expected, 0.0f);
    EXPECT_EQ(Alloc().CalculateStats().fragmentationRatio, expected);
    for (size_t i = 0; i < live.size(); i += 3)
        Destroy(live[i]);
    EXPECT_EQ(Alloc().CalculateStats().fragmentationRatio, detail::ExternalFragmentation(RealDump()->pools));
}

// ------------------------------------------------------------------ VMA's dump and the report

TEST_F(StatisticsTest, ParseVmaDumpReadsARealDump)
{
    const Resource a = MakeBuffer(1 * KiB, nullptr, "a");
    const Resource b = MakeBuffer(2 * KiB, nullptr, "b");
    const Resource dedicated = MakeBuffer(8 * KiB, nullptr, "dedicated", AllocationFlags::Dedicated);
    const Resource image = MakeImage(ImageInfo(64, 64));
    ASSERT_TRUE(Alloc().SetAllocationName(image.allocation, "image"));

    const std::optional<detail::DumpModel> dump = RealDump();
    ASSERT_TRUE(dump);
    const VmaStatistics vma = VmaTotals();
    EXPECT_EQ(dump->totalAllocationCount, vma.allocationCount);
    EXPECT_EQ(dump->totalAllocationBytes, vma.allocationBytes);
    EXPECT_EQ(dump->totalBlockBytes, vma.blockBytes);
    EXPECT_EQ(dump->totalBlockCount, vma.blockCount);

    uint64_t allocations = 0;
    bool sawSmall = false, sawDedicated = false, sawImage = false;
    for (const detail::DumpPool& pool : dump->pools)
    {
        allocations += pool.dedicated.size();
        for (const detail::DumpBlock& block : pool.blocks)
        {
            allocations += block.allocations;
            uint64_t covered = 0;
            for (const detail::DumpRange& r : block.ranges)
            {
                EXPECT_EQ(r.offset, covered) << "ranges tile the block in offset order";
                covered += r.size;
                if (r.name == VmaName("image"))
                {
                    sawImage = true;
                    EXPECT_EQ(r.type, "IMAGE_OPTIMAL");
                    EXPECT_EQ(r.size, image.size);
                    EXPECT_TRUE(pool.custom && EndsWith(pool.name, "sedx:image"))
                        << "a 64x64 image lives in the image pool, not in VMA's default pools";
                }
            }
            EXPECT_EQ(covered, block.totalBytes);
        }
        for (const detail::DumpRange& r : pool.dedicated)
            if (r.name == VmaName("dedicated"))
            {
                sawDedicated = true;
                EXPECT_EQ(r.size, dedicated.size);
                EXPECT_EQ(r.type, "BUFFER");
            }
        if (pool.custom && EndsWith(pool.name, "sedx:small"))
        {
            sawSmall = true;
            EXPECT_EQ(pool.preferredBlockSize, 4 * MiB);
            ASSERT_EQ(pool.blocks.size(), 1u);
            EXPECT_EQ(pool.blocks[0].totalBytes, 4 * MiB);
            EXPECT_EQ(pool.blocks[0].allocations, 2u);
            std::vector<std::string> names;
            for (const detail::DumpRange& r : pool.blocks[0].ranges)
                if (!r.free)
                    names.push_back(r.name);
            EXPECT_EQ(names, (std::vector<std::string>{VmaName("a"), VmaName("b")}));
            EXPECT_EQ(pool.blocks[0].unusedBytes, 4 * MiB - a.size - b.size);
        }
    }
    EXPECT_EQ(allocations, vma.allocationCount);
    EXPECT_TRUE(sawSmall);
    EXPECT_TRUE(sawDedicated);
    EXPECT_TRUE(sawImage);
    for (const Resource& r : {a, b, dedicated, image})
        Destroy(r);
}

TEST_F(StatisticsTest, PrintDetailedStatsReportsHeapsPoolsAndTags)
{
    const Resource a = MakeBuffer(1 * KiB);
    const Resource image = MakeImage(ImageInfo(64, 64));
    LogCapture capture;
    Alloc().PrintDetailedStats();
    EXPECT_TRUE(NoErrors(capture));
    EXPECT_EQ(capture.Count(LogLevel::Info, "total: ", kAllocatorTag), 1u);
    EXPECT_EQ(capture.Count(LogLevel::Info, " MiB, budget ", kAllocatorTag),
              Device()->GetMemoryProperties().memoryHeapCount)
        << "one line per heap";
    EXPECT_EQ(capture.Count(LogLevel::Info, "sedx:small on type", kAllocatorTag), 1u) << Describe(capture);
    EXPECT_EQ(capture.Count(LogLevel::Info,
                            fmt::format("tag '{}': 2 allocations (1 buffers, 1 images)", Tag()),
                            kAllocatorTag),
              1u)
        << Describe(capture);
    Destroy(a);
    Destroy(image);
}

} // namespace
} // namespace SceneryEditorX
