#pragma once
/// @file DefragmentationManager.h
/// The spec's defragmentation policy as a ready component: defragment when the fragmentation ratio
/// passes a threshold, or when a full compaction would give back enough memory (the reclaimable
/// figure), and a minimum interval has passed since the last run. Call `Update()` from a
/// Module's OnUpdate (once per frame, on one thread).

#include <SceneryEditorX/Memory/MemoryAllocator.h>

#include <chrono>
#include <functional>
#include <optional>

namespace SceneryEditorX
{

/// Why a run started.
enum class DefragmentationTrigger : uint8_t
{
    None,          ///< no run yet
    Fragmentation, ///< the fragmentation ratio was above fragmentationThreshold
    Reclaimable    ///< AllocationStats::reclaimableBytes was at least minReclaimableBytes
};
const char* DefragmentationTriggerName(DefragmentationTrigger trigger);

struct DefragmentationPolicy
{
    /// Defragment when GetStats().fragmentationRatio is above this (the spec: 0.3). GetStats gives
    /// the ratio of the latest CalculateStats (Update never walks): call CalculateStats at a
    /// checkpoint, or set useExactFragmentation, for this trigger to see a current figure. A ratio
    /// computed in or before the frame in which the manager's last run ended describes memory that
    /// the run has since rearranged: it starts no run (the reclaimable trigger, always current, can).
    float fragmentationThreshold = 0.3f;
    /// Also defragment when a full compaction would give back at least this many bytes
    /// (AllocationStats::reclaimableBytes: whole blocks' worth of free space; O(pool blocks) to read).
    /// The ratio alone misses it: emptying blocks by filling holes elsewhere can raise the ratio of
    /// what is left. 0: the ratio only.
    uint64_t minReclaimableBytes = 64ull * 1024 * 1024;
    /// At least this long between runs (the spec: 5 minutes).
    std::chrono::steady_clock::duration minInterval = std::chrono::minutes(5);
    /// Limits and algorithm of each run. With per-pass limits, each Update runs one pass
    /// (DefragmentStep) until the session is done, so a frame budget holds.
    DefragmentationOptions options;
    /// Marks the candidates of a run and returns how many it marked. Default: every live
    /// allocation (whole pools, which VMA packs best).
    std::function<size_t(MemoryAllocator& allocator)> markCandidates;
    /// Read the exact fragmentation (CalculateStats, one walk over VMA's blocks in every Update)
    /// instead of GetStats' latest figure. Off: Update does no work that grows with the allocations.
    bool useExactFragmentation = false;
};

class DefragmentationManager : public RefCounted
{
public:
    explicit DefragmentationManager(Ref<MemoryAllocator> allocator, DefragmentationPolicy policy = {});
    /// Finishes a run that is still in progress (per-pass limits spread a run over several updates),
    /// so that destroying the manager never leaves a defragmentation session open.
    ~DefragmentationManager() override;

    /// True when the ratio is above the threshold or the reclaimable bytes reach
    /// minReclaimableBytes, and the interval has passed.
    bool ShouldDefragment(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) const;
    /// Runs the policy. Returns the stats of a run that finished during this call.
    std::optional<DefragmentationStats>
    Update(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
    /// Fragmentation seen by the last ShouldDefragment/Update.
    float GetLastFragmentation() const { return m_LastFragmentation; }
    /// Reclaimable bytes seen by the last ShouldDefragment/Update (after a run that Update finished:
    /// what is left).
    uint64_t GetLastReclaimableBytes() const { return m_LastReclaimable; }
    /// Why the last run started (None before the first).
    DefragmentationTrigger GetLastTrigger() const { return m_LastTrigger; }
    const std::optional<DefragmentationStats>& GetLastStats() const { return m_LastStats; }
    uint32_t GetRunCount() const { return m_Runs; }
    /// A run spread over several updates (per-pass limits) has started and not finished.
    bool IsRunning() const { return m_InProgress; }
    const DefragmentationPolicy& GetPolicy() const { return m_Policy; }

private:
    Ref<MemoryAllocator> m_Allocator;
    DefragmentationPolicy m_Policy;
    std::optional<std::chrono::steady_clock::time_point> m_LastRun;
    std::optional<uint64_t> m_LastRunEndFrame; // MemoryAllocator::GetCurrentFrameIndex at its end
    // Reads the figures (into the two below) and says what would start a run now.
    DefragmentationTrigger Evaluate(std::chrono::steady_clock::time_point now) const;
    mutable float m_LastFragmentation = 0.0f;
    mutable uint64_t m_LastReclaimable = 0;
    DefragmentationTrigger m_LastTrigger = DefragmentationTrigger::None;
    uint64_t m_ReclaimableAtStart = 0;
    std::optional<DefragmentationStats> m_LastStats;
    bool m_InProgress = false;
    uint32_t m_Runs = 0;
};

} // namespace SceneryEditorX
