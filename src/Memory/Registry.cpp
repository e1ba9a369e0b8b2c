// Registry: the live allocations, sharded by handle.
#include "Registry.h"

namespace SceneryEditorX::detail
{

bool Registry::Contains(VmaAllocation allocation) const
{
    Shard& s = ShardFor(allocation);
    std::lock_guard lock(s.mutex);
    return s.map.find(allocation) != s.map.end();
}

std::vector<std::pair<VmaAllocation, AllocationRecord>> Registry::DrainAll()
{
    std::vector<std::pair<VmaAllocation, AllocationRecord>> out;
    for (Shard& s : m_Shards)
    {
        std::lock_guard lock(s.mutex);
        for (auto& entry : s.map)
            out.emplace_back(entry.first, std::move(entry.second));
        s.map.clear();
    }
    return out;
}

size_t Registry::Size() const
{
    size_t n = 0;
    for (const Shard& s : m_Shards)
    {
        std::lock_guard lock(s.mutex);
        n += s.map.size();
    }
    return n;
}

} // namespace SceneryEditorX::detail
