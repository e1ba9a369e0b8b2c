// Registry: the live allocations, sharded by handle.
#include "Registry.h"

namespace SceneryEditorX::detail
{

void Registry::Insert(VmaAllocation allocation, AllocationRecord&& record)
{
    Shard& s = ShardFor(allocation);
    std::lock_guard lock(s.mutex);
    if (s.spare.empty())
    {
        s.map.insert_or_assign(allocation, std::move(record));
        return;
    }
    Map::node_type node = std::move(s.spare.back());
    s.spare.pop_back();
    node.key() = allocation;
    node.mapped() = std::move(record);
    // One lookup: when the key is already there, the node comes back and the record replaces the old.
    auto result = s.map.insert(std::move(node));
    if (!result.inserted)
    {
        result.position->second = std::move(result.node.mapped());
        s.Recycle(std::move(result.node));
    }
}

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
