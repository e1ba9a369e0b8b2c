#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Memory/DefragmentationManager.h>

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

bool DefragmentationManager::ShouldDefragment(std::chrono::steady_clock::time_point now) const
{
    if (!m_Allocator || !MemoryAllocator::IsInitialized())
        return false;
    const AllocationStats stats =
        m_Policy.useExactFragmentation ? m_Allocator->CalculateStats() : m_Allocator->GetStats();
    m_LastFragmentation = stats.fragmentationRatio;
    const bool intervalPassed = !m_LastRun || now - *m_LastRun >= m_Policy.minInterval;
    return stats.fragmentationRatio > m_Policy.fragmentationThreshold && intervalPassed;
}

std::optional<DefragmentationStats> DefragmentationManager::Update(std::chrono::steady_clock::time_point now)
{
    if (!m_Allocator)
        return std::nullopt;
    if (!m_InProgress)
    {
        if (!ShouldDefragment(now))
            return std::nullopt;
        SEDX_CORE_INFO_TAG("VulkanAllocator", "[{}] starting memory defragmentation (fragmentation {:.1f}%)",
                           m_Allocator->GetTag(), m_LastFragmentation * 100.0f);
        if (!m_Allocator->BeginDefragmentation(m_Policy.options))
            return std::nullopt;
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
    return m_LastStats;
}

} // namespace SceneryEditorX
