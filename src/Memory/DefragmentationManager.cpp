#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Memory/DefragmentationManager.h>

#include <algorithm>

namespace SceneryEditorX
{

DefragmentationManager::DefragmentationManager(Ref<MemoryAllocator> allocator, DefragmentationPolicy policy)
    : m_Allocator(std::move(allocator)), m_Policy(std::move(policy))
{
    if (!m_Policy.markCandidates)
        m_Policy.markCandidates = [](MemoryAllocator& a)
        {
            return a.MarkAllForDefragmentation();
        };
}

DefragmentationManager::~DefragmentationManager()
{
    // A run spread over several updates (per-pass limits) is still open when the manager goes away
    // mid-run: finish it here (its remaining passes run now), so that no session is left open for
    // Shutdown to report. A session that Shutdown already ended is not touched.
    if (m_InProgress && MemoryAllocator::IsInitialized() && MemoryAllocator::IsDefragmenting())
    {
        SEDX_CORE_INFO_TAG("VulkanAllocator",
                           "[{}] defragmentation manager destroyed mid-run; finishing the run",
                           m_Allocator->GetTag());
        m_Allocator->EndDefragmentation();
    }
}

const char* DefragmentationTriggerName(DefragmentationTrigger trigger)
{
    switch (trigger)
    {
    case DefragmentationTrigger::Fragmentation:
        return "fragmentation";
    case DefragmentationTrigger::Reclaimable:
        return "reclaimable";
    case DefragmentationTrigger::None:
        break;
    }
    return "none";
}

DefragmentationTrigger DefragmentationManager::Evaluate(std::chrono::steady_clock::time_point now) const
{
    if (!m_Allocator || !MemoryAllocator::IsInitialized())
        return DefragmentationTrigger::None;
    const AllocationStats stats =
        m_Policy.useExactFragmentation ? m_Allocator->CalculateStats() : m_Allocator->GetStats();
    m_LastFragmentation = stats.fragmentationRatio;
    m_LastReclaimable = stats.reclaimableBytes;
    if (m_LastRun && now - *m_LastRun < m_Policy.minInterval)
        return DefragmentationTrigger::None;
    // GetStats' ratio is that of the latest walk; one from before the last run ended is stale.
    const uint64_t frame = MemoryAllocator::GetCurrentFrameIndex();
    const uint64_t measured = frame - std::min(frame, stats.fragmentationAgeFrames);
    const bool ratioIsCurrent =
        m_Policy.useExactFragmentation || !m_LastRunEndFrame || measured > *m_LastRunEndFrame;
    if (ratioIsCurrent && stats.fragmentationRatio > m_Policy.fragmentationThreshold)
        return DefragmentationTrigger::Fragmentation;
    if (m_Policy.minReclaimableBytes != 0 && stats.reclaimableBytes >= m_Policy.minReclaimableBytes)
        return DefragmentationTrigger::Reclaimable;
    return DefragmentationTrigger::None;
}

bool DefragmentationManager::ShouldDefragment(std::chrono::steady_clock::time_point now) const
{
    return Evaluate(now) != DefragmentationTrigger::None;
}

std::optional<DefragmentationStats> DefragmentationManager::Update(std::chrono::steady_clock::time_point now)
{
    if (!m_Allocator)
        return std::nullopt;
    if (!m_InProgress)
    {
        const DefragmentationTrigger trigger = Evaluate(now);
        if (trigger == DefragmentationTrigger::None)
            return std::nullopt;
        SEDX_CORE_INFO_TAG(
            "VulkanAllocator",
            "[{}] starting memory defragmentation ({}: fragmentation {:.1f}%, {} bytes reclaimable)",
            m_Allocator->GetTag(), DefragmentationTriggerName(trigger), m_LastFragmentation * 100.0f,
            m_LastReclaimable);
        if (!m_Allocator->BeginDefragmentation(m_Policy.options))
            return std::nullopt;
        m_LastTrigger = trigger;
        m_ReclaimableAtStart = m_LastReclaimable;
        m_Policy.markCandidates(*m_Allocator);
        m_InProgress = true;
        m_LastRun = now;
    }
    const bool incremental =
        m_Policy.options.maxBytesPerPass != 0 || m_Policy.options.maxAllocationsPerPass != 0;
    if (incremental && m_Allocator->DefragmentStep())
        return std::nullopt; // more passes in later updates
    m_InProgress = false;
    ++m_Runs;
    m_LastStats = m_Allocator->EndDefragmentation();
    m_LastRunEndFrame = MemoryAllocator::GetCurrentFrameIndex();
    m_LastReclaimable = m_Allocator->GetStats().reclaimableBytes;
    SEDX_CORE_INFO_TAG(
        "VulkanAllocator",
        "[{}] defragmentation run {} ({}): reclaimable {} -> {} bytes, {} blocks freed ({} bytes), "
        "{} bytes moved",
        m_Allocator->GetTag(), m_Runs, DefragmentationTriggerName(m_LastTrigger), m_ReclaimableAtStart,
        m_LastReclaimable, m_LastStats->blocksFreed, m_LastStats->bytesFreed, m_LastStats->bytesMoved);
    return m_LastStats;
}

} // namespace SceneryEditorX
