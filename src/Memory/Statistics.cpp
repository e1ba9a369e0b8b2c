// Statistics: cheap figures from VMA's per-heap counters and our tag counters; exact figures and the
// fragmentation ratio from VMA's full walk; the detailed report.
#include "Statistics.h"

#include "AllocatorInstance.h"
#include "Budget.h"
#include "MemorySystem.h"
#include "WalkCounters.h"

#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/VmaDump/DumpModel.h>

namespace SceneryEditorX
{
using namespace detail;

namespace detail
{
void FragmentationTally::AddBlock(const void* pool, uint32_t memoryType, uint64_t allocationCount,
                                  uint64_t freeBytes, uint64_t largestFreeRange)
{
    if (pool != m_Pool || memoryType != m_MemoryType)
    {
        ClosePool();
        m_Pool = pool;
        m_MemoryType = memoryType;
    }
    if (allocationCount == 0) // an empty block is reserve (VMA keeps one per pool), not fragmentation
        return;
    m_PoolFree += freeBytes;
    m_PoolLargest = std::max(m_PoolLargest, largestFreeRange);
}

void FragmentationTally::ClosePool()
{
    m_Free += m_PoolFree;
    m_Scattered += m_PoolFree - m_PoolLargest;
    m_PoolFree = 0;
    m_PoolLargest = 0;
}

float FragmentationTally::Ratio()
{
    ClosePool();
    m_Pool = nullptr;
    m_MemoryType = UINT32_MAX;
    return m_Free ? static_cast<float>(static_cast<double>(m_Scattered) / static_cast<double>(m_Free)) : 0.0f;
}

namespace
{
// What the walk's block callback adds up (VMA calls it under the pool's read lock: no call back).
struct WalkTally
{
    const VkPhysicalDeviceMemoryProperties* memory = nullptr;
    FragmentationTally fragmentation;
    // The size-class pools' free bytes per heap, and their whole free blocks (ReclaimableBytes).
    std::array<PoolSet::HeapFootprint, VK_MAX_MEMORY_HEAPS> pools{};
    VmaPool pool = nullptr;
    uint32_t poolHeap = 0;
    VkDeviceSize poolFree = 0;
    VkDeviceSize poolBlockSize = 0;

    void ClosePool()
    {
        if (pool && poolBlockSize)
        {
            pools[poolHeap].freeBytes += poolFree;
            pools[poolHeap].reclaimableBytes += poolFree / poolBlockSize * poolBlockSize;
        }
        pool = nullptr;
        poolFree = 0;
    }
    static void VKAPI_PTR OnBlock(void* userData, const VmaBlockStatistics* block)
    {
        WalkTally& t = *static_cast<WalkTally*>(userData);
        const VmaDetailedStatistics& s = block->stats;
        const uint64_t free = s.statistics.blockBytes - s.statistics.allocationBytes;
        t.fragmentation.AddBlock(block->pool, block->memoryTypeIndex, s.statistics.allocationCount, free,
                                 s.unusedRangeSizeMax);
        if (block->pool != t.pool)
        {
            t.ClosePool();
            t.pool = block->pool;
            t.poolHeap = t.memory->memoryTypes[block->memoryTypeIndex].heapIndex;
        }
        if (t.pool)
        {
            t.poolFree += free;
            t.poolBlockSize = s.statistics.blockBytes; // a pool's blocks all have its block size
        }
    }
};
} // namespace

ExactStatistics CalculateExactStatistics(MemorySystem& d)
{
    ExactStatistics out;
    WalkTally tally;
    tally.memory = &d.memoryProperties;
    const uint64_t frame = d.frameIndex.load(std::memory_order_relaxed);
    Walks().vmaWalks.fetch_add(1, std::memory_order_relaxed);
    vmaCalculateStatisticsWithBlocks(d.allocator, &out.total, &WalkTally::OnBlock, &tally);
    tally.ClosePool();
    out.fragmentationRatio = tally.fragmentation.Ratio();
    std::array<VkDeviceSize, VK_MAX_MEMORY_HEAPS> heapFree{};
    for (uint32_t h = 0; h < d.memoryProperties.memoryHeapCount; ++h)
        heapFree[h] = out.total.memoryHeap[h].statistics.blockBytes -
                      out.total.memoryHeap[h].statistics.allocationBytes;
    out.reclaimableBytes = d.ReclaimableBytes(tally.pools, heapFree);
    d.fragmentation.Store(out.fragmentationRatio, frame);
    return out;
}

std::string BuildStatsJson(MemorySystem& d, bool detailedMap)
{
    auto stripes = d.creationGuard.LockAll();
    std::string json;
    d.registry.WithAllLocked(
        [&](auto&&)
        {
            char* text = nullptr;
            Walks().vmaWalks.fetch_add(1, std::memory_order_relaxed);
            vmaBuildStatsString(d.allocator, &text, detailedMap ? VK_TRUE : VK_FALSE);
            json = text ? text : "";
            vmaFreeStatsString(d.allocator, text);
        });
    return json;
}

// Buffers in the reuse cache are VMA allocations, but nobody's: report them apart from the used
// figures. The cache's counters are read before VMA's (ReadReuseCache, then VMA): the cache drops a
// buffer from its counters only after VMA freed it (ReuseCache::ReleaseAll), so this order never
// counts a cached buffer as used, which would raise the peak that never goes down.
void ReadReuseCache(MemorySystem& d, AllocationStats& stats)
{
    stats.reuseCacheBytes = d.reuseCache.Bytes();
    stats.reuseCacheCount = d.reuseCache.Count();
}

void ExcludeReuseCache(AllocationStats& stats)
{
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
    ReadReuseCache(*d, stats);
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets{};
    vmaGetHeapBudgets(d->allocator, budgets.data());
    for (uint32_t h = 0; h < d->memoryProperties.memoryHeapCount; ++h)
    {
        stats.totalBytes += budgets[h].statistics.blockBytes;
        stats.usedBytes += budgets[h].statistics.allocationBytes;
        stats.allocationCount += budgets[h].statistics.allocationCount;
        stats.blockCount += budgets[h].statistics.blockCount;
    }
    ExcludeReuseCache(stats);
    stats.reclaimableBytes = d->ReclaimableBytes(budgets.data());
    const uint64_t measured = d->fragmentation.frame.load(std::memory_order_acquire);
    stats.fragmentationRatio = d->fragmentation.ratio.load(std::memory_order_relaxed);
    stats.fragmentationAgeFrames =
        FragmentationFigure::Age(measured, d->frameIndex.load(std::memory_order_relaxed));
    // The peaks follow every allocation the system makes; a reading of VMA's exact figure raises
    // them too (allocations made directly through GetAllocator()), so they never go down.
    d->usage.ObserveUsed(stats.usedBytes, stats.allocationCount);
    stats.peakUsedBytes = d->usage.PeakBytes();
    stats.peakAllocationCount = d->usage.PeakCount();
    return stats;
}

namespace
{
// CalculateStats' figures: GetStats' (`stats`), then every figure again from one VMA walk (the tag's
// and the reuse cache's are counters). The walk is returned too, for PrintDetailedStats.
ExactStatistics Walk(MemorySystem& d, AllocationStats& stats)
{
    ReadReuseCache(d, stats);
    ExactStatistics exact = CalculateExactStatistics(d);
    stats.totalBytes = exact.total.total.statistics.blockBytes;
    stats.usedBytes = exact.total.total.statistics.allocationBytes;
    stats.allocationCount = exact.total.total.statistics.allocationCount;
    stats.blockCount = exact.total.total.statistics.blockCount;
    ExcludeReuseCache(stats);
    stats.reclaimableBytes = exact.reclaimableBytes;
    d.usage.ObserveUsed(stats.usedBytes, stats.allocationCount);
    stats.peakUsedBytes = d.usage.PeakBytes();
    stats.peakAllocationCount = d.usage.PeakCount();
    stats.fragmentationRatio = exact.fragmentationRatio;
    stats.fragmentationAgeFrames = 0;
    return exact;
}
} // namespace

AllocationStats MemoryAllocator::CalculateStats() const
{
    AllocationStats stats = GetStats();
    if (MemorySystem* d = MemorySystem::Get())
        Walk(*d, stats);
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
    // One walk for the figures and the per-type lines.
    AllocationStats stats = GetStats();
    const VmaTotalStatistics total = Walk(*d, stats).total;
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
    std::optional<DumpModel> model = ParseVmaDump(BuildStatsJson(*d, true), error); // names the pools
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
