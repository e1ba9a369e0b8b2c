#include "AllocatorData.h"

#include <algorithm>
#include <map>

namespace SceneryEditorX::detail
{

const char* KindName(ResourceKind kind)
{
    return kind == ResourceKind::Buffer ? "buffer" : "image";
}

TagCounters::TagCounters(std::string t) : tag(std::move(t)), vmaName(AllocationName(tag, {})) {}

size_t ThisThreadStripe()
{
    static std::atomic<size_t> next{0};
    thread_local const size_t stripe = next.fetch_add(1, std::memory_order_relaxed) % kCounterStripes;
    return stripe;
}

void TagCounters::OnAllocate(uint64_t bytes, ResourceKind kind)
{
    const uint64_t used = usedBytes.value.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    Counts& c = counts[ThisThreadStripe()];
    c.allocations.fetch_add(1, std::memory_order_relaxed);
    (kind == ResourceKind::Buffer ? c.buffers : c.images).fetch_add(1, std::memory_order_relaxed);
    c.totalAllocations.fetch_add(1, std::memory_order_relaxed);
    RaisePeak(peakUsedBytes.value, used);
}

void TagCounters::OnFree(uint64_t bytes, ResourceKind kind)
{
    usedBytes.value.fetch_sub(bytes, std::memory_order_relaxed);
    Counts& c = counts[ThisThreadStripe()];
    c.allocations.fetch_sub(1, std::memory_order_relaxed);
    (kind == ResourceKind::Buffer ? c.buffers : c.images).fetch_sub(1, std::memory_order_relaxed);
    c.totalFrees.fetch_add(1, std::memory_order_relaxed);
}

void TagCounters::ResetCumulative()
{
    peakUsedBytes.value.store(usedBytes.value.load(std::memory_order_relaxed), std::memory_order_relaxed);
    for (Counts& c : counts)
    {
        c.totalAllocations.store(0, std::memory_order_relaxed);
        c.totalFrees.store(0, std::memory_order_relaxed);
    }
}

TagStats TagCounters::Snapshot() const
{
    int64_t allocations = 0, buffers = 0, images = 0, total = 0, frees = 0;
    for (const Counts& c : counts)
    {
        allocations += c.allocations.load(std::memory_order_relaxed);
        buffers += c.buffers.load(std::memory_order_relaxed);
        images += c.images.load(std::memory_order_relaxed);
        total += c.totalAllocations.load(std::memory_order_relaxed);
        frees += c.totalFrees.load(std::memory_order_relaxed);
    }
    // Stripes are read one after another: while other threads allocate and free, a sum can be a
    // moment off, even below zero (a free counted before its allocation's stripe was read): clamped.
    auto clamp = [](int64_t v)
    {
        return static_cast<uint64_t>(std::max<int64_t>(v, 0));
    };
    TagStats s;
    s.tag = tag;
    s.usedBytes = usedBytes.value.load(std::memory_order_relaxed);
    s.allocationCount = clamp(allocations);
    s.bufferCount = clamp(buffers);
    s.imageCount = clamp(images);
    s.peakUsedBytes = peakUsedBytes.value.load(std::memory_order_relaxed);
    s.totalAllocations = clamp(total);
    s.totalFrees = clamp(frees);
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
