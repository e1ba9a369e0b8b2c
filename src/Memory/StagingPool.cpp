// StagingPool: cached staging buffers (StagingPool.h).
#include "StagingPool.h"

namespace SceneryEditorX::detail
{

bool StagingPool::Take(VkDeviceSize size, StagingBuffer& out)
{
    std::lock_guard lock(m_Mutex);
    auto best = m_Free.end();
    for (auto it = m_Free.begin(); it != m_Free.end(); ++it)
        if (it->size >= size && (best == m_Free.end() || it->size < best->size))
            best = it;
    if (best == m_Free.end())
        return false;
    out = *best;
    m_FreeBytes -= best->size;
    m_Free.erase(best);
    return true;
}

bool StagingPool::Keep(const StagingBuffer& staging, VkDeviceSize capBytes)
{
    std::lock_guard lock(m_Mutex);
    if (m_FreeBytes + staging.size > capBytes)
        return false;
    m_FreeBytes += staging.size;
    m_Free.push_back(staging);
    return true;
}

std::vector<StagingBuffer> StagingPool::TakeAll()
{
    std::lock_guard lock(m_Mutex);
    std::vector<StagingBuffer> all = std::move(m_Free);
    m_Free.clear();
    m_FreeBytes = 0;
    return all;
}

} // namespace SceneryEditorX::detail
