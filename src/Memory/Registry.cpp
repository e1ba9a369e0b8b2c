#include "AllocatorData.h"

#include <map>

namespace SceneryEditorX::detail
{

const char* KindName(ResourceKind kind)
{
    return kind == ResourceKind::Buffer ? "buffer" : "image";
}

TagCounters::TagCounters(std::string t) : tag(std::move(t)), vmaName(AllocationName(tag, {})) {}

void TagCounters::OnAllocate(uint64_t bytes, ResourceKind kind)
{
    const uint64_t used = usedBytes.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    allocationCount.fetch_add(1, std::memory_order_relaxed);
    (kind == ResourceKind::Buffer ? bufferCount : imageCount).fetch_add(1, std::memory_order_relaxed);
    totalAllocations.fetch_add(1, std::memory_order_relaxed);
    RaisePeak(peakUsedBytes, used);
}

void TagCounters::OnFree(uint64_t bytes, ResourceKind kind)
{
    usedBytes.fetch_sub(bytes, std::memory_order_relaxed);
    allocationCount.fetch_sub(1, std::memory_order_relaxed);
    (kind == ResourceKind::Buffer ? bufferCount : imageCount).fetch_sub(1, std::memory_order_relaxed);
    totalFrees.fetch_add(1, std::memory_order_relaxed);
}

TagStats TagCounters::Snapshot() const
{
    TagStats s;
    s.tag = tag;
    s.usedBytes = usedBytes.load(std::memory_order_relaxed);
    s.allocationCount = allocationCount.load(std::memory_order_relaxed);
    s.bufferCount = bufferCount.load(std::memory_order_relaxed);
    s.imageCount = imageCount.load(std::memory_order_relaxed);
    s.peakUsedBytes = peakUsedBytes.load(std::memory_order_relaxed);
    s.totalAllocations = totalAllocations.load(std::memory_order_relaxed);
    s.totalFrees = totalFrees.load(std::memory_order_relaxed);
    return s;
}

namespace
{
struct TagTable
{
    std::mutex mutex;
    std::map<std::string, std::unique_ptr<TagCounters>, std::less<>> tags;
};
TagTable& Tags()
{
    static TagTable table; // lives for the process: records point into it
    return table;
}
} // namespace

TagCounters* AcquireTagCounters(const std::string& tag)
{
    TagTable& t = Tags();
    std::lock_guard lock(t.mutex);
    auto& slot = t.tags[tag];
    if (!slot)
        slot = std::make_unique<TagCounters>(tag);
    return slot.get();
}

std::vector<TagCounters*> AllTagCounters()
{
    TagTable& t = Tags();
    std::lock_guard lock(t.mutex);
    std::vector<TagCounters*> out;
    out.reserve(t.tags.size());
    for (auto& [name, counters] : t.tags)
        out.push_back(counters.get());
    return out;
}

void Registry::Insert(VmaAllocation allocation, AllocationRecord&& record)
{
    Shard& s = ShardFor(allocation);
    std::lock_guard lock(s.mutex);
    if (!s.spare.empty() && s.map.find(allocation) == s.map.end())
    {
        Map::node_type node = std::move(s.spare.back());
        s.spare.pop_back();
        node.key() = allocation;
        node.mapped() = std::move(record);
        s.map.insert(std::move(node));
        return;
    }
    s.map.insert_or_assign(allocation, std::move(record));
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
