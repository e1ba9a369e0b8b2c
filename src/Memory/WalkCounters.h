#pragma once
// WalkCounters: counts of the work whose cost grows with the number of live allocations, VMA's
// walks over every allocation and visits of the registry's entries. The frame calls
// (SetCurrentFrameIndex, GetStats, GetMemoryBudget, DefragmentationManager::Update) leave them
// unchanged; tests read them (tests/Memory/FrameWorkTests.cpp). Every call of a VMA function that
// walks the allocations goes through Statistics.cpp, which counts it (a source test checks that no
// other file calls one). Bumped once per walk or registry scan, never on the allocation path.

#include <atomic>
#include <cstdint>

namespace SceneryEditorX::detail
{
struct WalkCounters
{
    /// vmaCalculateStatistics, vmaCalculateStatisticsWithBlocks, vmaBuildStatsString calls.
    std::atomic<uint64_t> vmaWalks{0};
    /// Registry::WithAllLocked calls (every shard locked: a defragmentation pass plans or commits).
    std::atomic<uint64_t> registryLockAlls{0};
    /// Entries visited by Registry::ForEach.
    std::atomic<uint64_t> registryEntriesVisited{0};
};

/// The process's counters (they only rise).
inline WalkCounters& Walks()
{
    static WalkCounters counters;
    return counters;
}
} // namespace SceneryEditorX::detail
