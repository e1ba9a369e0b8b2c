// Statistics: cheap figures from VMA's per-heap counters and our tag counters; exact figures and the
// fragmentation ratio from VMA's full walk; the detailed report.
#include "Statistics.h"

#include "AllocatorInstance.h"
#include "Budget.h"
#include "MemorySystem.h"

#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/VmaDump/DumpModel.h>

namespace SceneryEditorX
{
using namespace detail;

namespace detail
{
namespace
{
std::optional<DumpModel> BuildDump(MemorySystem& d)
{
    std::string error;
    std::optional<DumpModel> model = ParseVmaDump(BuildStatsJson(d, true), error);
    if (!model)
        SEDX_CORE_ERROR_TAG(kAllocTag, "could not read VMA's statistics dump: {}", error);
    return model;
}
} // namespace

std::string BuildStatsJson(MemorySystem& d, bool detailedMap)
{
    auto stripes = d.creationGuard.LockAll();
    std::string json;
    d.registry.WithAllLocked(
        [&](auto&&)
        {
            char* text = nullptr;
            vmaBuildStatsString(d.allocator, &text, detailedMap ? VK_TRUE : VK_FALSE);
            json = text ? text : "";
            vmaFreeStatsString(d.allocator, text);
        });
    return json;
}

float ComputeFragmentationNow(MemorySystem& d)
{
    // Clear the flag first: a change made during the walk marks the figure stale again.
    d.fragmentation.dirty.store(false, std::memory_order_relaxed);
    std::optional<DumpModel> model = BuildDump(d);
    const float ratio = model ? ExternalFragmentation(model->pools) : 0.0f;
    d.fragmentation.ratio.store(ratio, std::memory_order_relaxed);
    d.fragmentation.frame.store(d.frameIndex.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return ratio;
}
void RefreshFragmentationIfDue(MemorySystem& d, uint64_t frame)
{
    const uint32_t interval = d.settings.fragmentationRefreshFrames;
    if (interval != 0 && d.fragmentation.dirty.load(std::memory_order_relaxed) &&
        frame >= d.fragmentation.frame.load(std::memory_order_relaxed) + interval)
        ComputeFragmentationNow(d);
}

// Buffers in the reuse cache are VMA allocations, but nobody's: report them apart from the used figures.
void ExcludeReuseCache(MemorySystem& d, AllocationStats& stats)
{
    stats.reuseCacheBytes = d.reuseCache.Bytes();
    stats.reuseCacheCount = d.reuseCache.Count();
    stats.usedBytes -= std::min(stats.usedBytes, stats.reuseCacheBytes);
    stats.allocationCount -= std::min(stats.allocationCount, stats.reuseCacheCount);
}
} // namespace detail

AllocationStats MemoryAllocator::GetStats() const
{
    AllocationStats stats;
    stats.tag = m_Instance->counters->Snapshot();
    MemorySystem* d = MemorySystem::Require("GetStats", m_Instance->tag);
    if (!d)
        return stats;
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets{};
    vmaGetHeapBudgets(d->allocator, budgets.data());
    for (uint32_t h = 0; h < d->memoryProperties.memoryHeapCount; ++h)
    {
        stats.totalBytes += budgets[h].statistics.blockBytes;
        stats.usedBytes += budgets[h].statistics.allocationBytes;
        stats.allocationCount += budgets[h].statistics.allocationCount;
        stats.blockCount += budgets[h].statistics.blockCount;
    }
    ExcludeReuseCache(*d, stats);
    stats.reclaimableBytes = d->ReclaimableBytes(budgets.data());
    stats.fragmentationRatio = d->fragmentation.ratio.load(std::memory_order_relaxed);
    stats.fragmentationAgeFrames = d->frameIndex.load(std::memory_order_relaxed) -
                                   d->fragmentation.frame.load(std::memory_order_relaxed);
    stats.peakUsedBytes = std::max(d->usage.PeakBytes(), stats.usedBytes);
    stats.peakAllocationCount = std::max(d->usage.PeakCount(), stats.allocationCount);
    return stats;
}

AllocationStats MemoryAllocator::CalculateStats() const
{
    AllocationStats stats = GetStats();
    MemorySystem* d = MemorySystem::Get();
    if (!d)
        return stats;
    VmaTotalStatistics total{};
    vmaCalculateStatistics(d->allocator, &total);
    stats.totalBytes = total.total.statistics.blockBytes;
    stats.usedBytes = total.total.statistics.allocationBytes;
    stats.allocationCount = total.total.statistics.allocationCount;
    stats.blockCount = total.total.statistics.blockCount;
    ExcludeReuseCache(*d, stats);
    // The exact figures replace GetStats' cheap ones: the peaks must not be below them.
    stats.peakUsedBytes = std::max(stats.peakUsedBytes, stats.usedBytes);
    stats.peakAllocationCount = std::max(stats.peakAllocationCount, stats.allocationCount);
    stats.fragmentationRatio = ComputeFragmentationNow(*d);
    stats.fragmentationAgeFrames = 0;
    return stats;
}

std::string MemoryAllocator::BuildStatsString(bool detailedMap)
{
    MemorySystem* d = MemorySystem::Require("BuildStatsString");
    return d ? BuildStatsJson(*d, detailedMap) : std::string();
}

std::vector<TagStats> MemoryAllocator::GetAllTagStats()
{
    std::vector<TagStats> out;
    for (TagCounters* counters : AllTagCounters())
        out.push_back(counters->Snapshot());
    return out;
}

void MemoryAllocator::ResetStats()
{
    for (TagCounters* c : AllTagCounters())
    {
        c->ResetCumulative();
    }
    if (MemorySystem* d = MemorySystem::Get())
        d->usage.ResetPeaks();
}

void MemoryAllocator::PrintDetailedStats() const
{
    MemorySystem* d = MemorySystem::Require("PrintDetailedStats", m_Instance->tag);
    if (!d)
        return;
    constexpr double kMiB = 1024.0 * 1024.0;
    const AllocationStats stats = CalculateStats();
    SEDX_CORE_INFO_TAG(kAllocTag, "=== memory statistics (requested by '{}') ===", m_Instance->tag);
    SEDX_CORE_INFO_TAG(kAllocTag,
                       "total: {:.2f} MiB committed in {} blocks, {:.2f} MiB used by {} allocations, "
                       "fragmentation {:.1f}%, peak {:.2f} MiB / {} allocations",
                       stats.totalBytes / kMiB, stats.blockCount, stats.usedBytes / kMiB,
                       stats.allocationCount, stats.fragmentationRatio * 100.0f, stats.peakUsedBytes / kMiB,
                       stats.peakAllocationCount);

    for (const HeapBudget& h : HeapBudgets(*d))
        SEDX_CORE_INFO_TAG(kAllocTag,
                           "heap {}{}: size {:.1f} MiB, budget {:.1f} MiB, usage {:.1f} MiB ({:.1f}%), "
                           "blocks {:.2f} MiB, allocations {:.2f} MiB",
                           h.heapIndex, (h.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? " (device-local)" : "",
                           h.heapSizeBytes / kMiB, h.budgetBytes / kMiB, h.usageBytes / kMiB,
                           h.budgetBytes ? 100.0 * static_cast<double>(h.usageBytes) /
                                               static_cast<double>(h.budgetBytes)
                                         : 0.0,
                           h.blockBytes / kMiB, h.allocationBytes / kMiB);

    VmaTotalStatistics total{};
    vmaCalculateStatistics(d->allocator, &total);
    for (uint32_t t = 0; t < d->memoryProperties.memoryTypeCount; ++t)
    {
        const VmaDetailedStatistics& s = total.memoryType[t];
        if (s.statistics.blockCount == 0 && s.statistics.allocationCount == 0)
            continue;
        SEDX_CORE_INFO_TAG(kAllocTag,
                           "memory type {} (heap {}, flags {:#x}): {} blocks {:.2f} MiB, {} allocations "
                           "{:.2f} MiB, {} free ranges (largest {} bytes)",
                           t, d->memoryProperties.memoryTypes[t].heapIndex,
                           d->memoryProperties.memoryTypes[t].propertyFlags, s.statistics.blockCount,
                           s.statistics.blockBytes / kMiB, s.statistics.allocationCount,
                           s.statistics.allocationBytes / kMiB, s.unusedRangeCount,
                           s.unusedRangeCount ? s.unusedRangeSizeMax : 0);
    }

    std::string error;
    std::optional<DumpModel> model = ParseVmaDump(BuildStatsJson(*d, true), error);
    if (model)
        for (const DumpPool& pool : model->pools)
        {
            if (pool.blocks.empty() && pool.dedicated.empty())
                continue;
            uint64_t blockBytes = 0;
            uint64_t allocations = 0;
            for (const DumpBlock& b : pool.blocks)
            {
                blockBytes += b.totalBytes;
                allocations += b.allocations;
            }
            const PoolFreeSpace free = FreeSpaceOf(pool);
            SEDX_CORE_INFO_TAG(kAllocTag,
                               "pool {} on type {}: {} blocks {:.2f} MiB ({} empty), {} allocations + {} "
                               "dedicated, free {:.2f} MiB, fragmentation {:.1f}%",
                               pool.name, pool.memoryType, pool.blocks.size(), blockBytes / kMiB,
                               free.emptyBlocks, allocations, pool.dedicated.size(), free.freeBytes / kMiB,
                               PoolFragmentation(pool) * 100.0f);
        }

    for (const TagStats& t : GetAllTagStats())
        if (t.allocationCount != 0 || t.totalAllocations != 0) // tags idle since Init are left out
            SEDX_CORE_INFO_TAG(kAllocTag,
                               "tag '{}': {} allocations ({} buffers, {} images) {:.2f} MiB, peak {:.2f} "
                               "MiB, {} allocated / {} freed in total",
                               t.tag, t.allocationCount, t.bufferCount, t.imageCount, t.usedBytes / kMiB,
                               t.peakUsedBytes / kMiB, t.totalAllocations, t.totalFrees);
}

} // namespace SceneryEditorX
