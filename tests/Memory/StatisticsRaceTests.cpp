// The exact statistics (CalculateStats' walk over VMA's blocks, PrintDetailedStats' JSON dump) taken
// while other threads allocate, name and map, with frames advancing. Its own executable so that
// ThreadSanitizer's verdict on it stands apart from the rest of the concurrency suite.
//
// What it guards against: PrintDetailedStats walks VMA's JSON dump (vmaBuildStatsString with the
// detailed map), which reads every allocation's name and usage and every block's map count under
// VMA's block-vector read lock only, while
//   - vmaSetAllocationName (on creation, SetAllocationName, staging buffers) frees the old name string
//     and writes a new pointer: an unguarded walk reads freed memory;
//   - vmaCreateBuffer/vmaCreateImage write the allocation's usage after it is already in its block;
//   - MapMemory/UnmapMemory change a block's map count.
// So the walk must exclude creation, naming and mapping (BuildStatsJson in Statistics.cpp). Without
// that, ThreadSanitizer reports those races here, and on the H100 the walk once aborted on
// VMA_ASSERT "Character not currently supported" while copying a name that was being replaced.
#include "MemoryTestSupport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

class StatisticsRaceTest : public AllocatorTest
{
protected:
    AllocatorSettings Settings() const override
    {
        AllocatorSettings settings;
        settings.stagingCacheBytes = 0;
        return settings;
    }
};

TEST_F(StatisticsRaceTest, ExactStatisticsCanBeTakenWhileOtherThreadsAllocateNameAndMap)
{
    constexpr int kWorkers = 4;
#if defined(__SANITIZE_THREAD__)
    constexpr int kRounds = 60;
#else
    constexpr int kRounds = 300;
#endif
    const ScopedLogLevel quiet(LogLevel::Warn); // PrintDetailedStats writes many info lines
    std::vector<Ref<MemoryAllocator>> instances;
    for (int w = 0; w < kWorkers; ++w)
        instances.push_back(CreateRef<MemoryAllocator>(Tag() + "." + std::to_string(w)));
    std::atomic<int> running{kWorkers};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w)
        threads.emplace_back(
            [&, w]
            {
                MemoryAllocator& a = *instances[static_cast<size_t>(w)];
                for (int i = 0; i < kRounds; ++i)
                {
                    VkBuffer buffer = VK_NULL_HANDLE;
                    VmaAllocation allocation = a.AllocateBuffer(
                        BufferInfo(4 * KiB * static_cast<VkDeviceSize>(1 + i % 8)),
                        CreateInfo(VMA_MEMORY_USAGE_CPU_TO_GPU, AllocationFlags::None, "first"), buffer);
                    VkImage image = VK_NULL_HANDLE;
                    VmaAllocation imageAllocation =
                        a.AllocateImage(ImageInfo(16, 16), VMA_MEMORY_USAGE_GPU_ONLY, image);
                    if (!allocation || !imageAllocation)
                    {
                        failures.fetch_add(1);
                        continue;
                    }
                    if (!a.SetAllocationName(allocation, "renamed-" + std::to_string(i)) ||
                        !a.MapMemory(allocation) || !MemoryAllocator::UnmapMemory(allocation))
                        failures.fetch_add(1);
                    if (!a.DestroyBuffer(buffer, allocation) || !a.DestroyImage(image, imageAllocation))
                        failures.fetch_add(1);
                }
                running.fetch_sub(1);
            });
    threads.emplace_back(
        [&]
        {
            MemoryAllocator observer(Tag() + ".observer");
            for (uint64_t frame = 1; running.load() > 0; ++frame)
            {
                const AllocationStats stats = observer.CalculateStats();
                if (stats.fragmentationRatio < 0.0f || stats.fragmentationRatio > 1.0f)
                    failures.fetch_add(1);
                if (frame % 8 == 0)
                    observer.PrintDetailedStats();
                if (!MemoryAllocator::SetCurrentFrameIndex(frame))
                    failures.fetch_add(1);
            }
        });
    for (std::thread& t : threads)
        t.join();
    EXPECT_EQ(failures.load(), 0);
    for (const Ref<MemoryAllocator>& instance : instances)
        EXPECT_EQ(instance->GetStats().tag.allocationCount, 0u);
    EXPECT_EQ(VmaTotals().allocationCount, 0u);
}

} // namespace
} // namespace SceneryEditorX
