#pragma once
// Statistics: the exact figures from one VMA walk (vmaCalculateStatisticsWithBlocks, patch 5) and
// the fragmentation ratio computed from each block's figures in that walk; VMA's JSON dump for
// explicit reports only.

#include "MemoryCommon.h"

#include <string>

namespace SceneryEditorX::detail
{
class MemorySystem;

/// AllocationStats::fragmentationRatio's definition over the blocks of one walk. Blocks arrive pool
/// by pool (each custom pool, and VMA's default pool of each memory type, as one run).
class FragmentationTally
{
public:
    /// One block of `pool` (null: the default pool of `memoryType`).
    void AddBlock(const void* pool, uint32_t memoryType, uint64_t allocationCount, uint64_t freeBytes,
                  uint64_t largestFreeRange);
    /// Sum over pools of (free - largest free range) / sum of free; 0 when nothing is free.
    float Ratio();

private:
    void ClosePool();
    const void* m_Pool = nullptr;
    uint32_t m_MemoryType = UINT32_MAX;
    uint64_t m_PoolFree = 0;
    uint64_t m_PoolLargest = 0;
    uint64_t m_Free = 0;
    uint64_t m_Scattered = 0;
};

/// What one walk gives: VMA's totals, the fragmentation ratio and the reclaimable bytes.
struct ExactStatistics
{
    VmaTotalStatistics total{};
    float fragmentationRatio = 0.0f;
    uint64_t reclaimableBytes = 0;
};
/// One walk over VMA's blocks (as dear as vmaCalculateStatistics); stores the ratio, with the
/// current frame, as GetStats' cached figure.
ExactStatistics CalculateExactStatistics(MemorySystem& system);
/// VMA's JSON dump, taken while no allocation is created, named or freed (explicit reports only).
std::string BuildStatsJson(MemorySystem& system, bool detailedMap);
} // namespace SceneryEditorX::detail
