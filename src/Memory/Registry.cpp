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

namespace
{
// How many running threads hold each stripe. A thread takes the least-held stripe on its first call
// and gives it back when it exits.
std::mutex& StripeMutex()
{
    static std::mutex m;
    return m;
}
std::array<uint32_t, kCounterStripes>& StripeHolders()
{
    static std::array<uint32_t, kCounterStripes> holders{};
    return holders;
}
struct StripeLease
{
    size_t index = 0;
    StripeLease()
    {
        std::lock_guard lock(StripeMutex());
        auto& holders = StripeHolders();
        index = static_cast<size_t>(std::min_element(holders.begin(), holders.end()) - holders.begin());
        ++holders[index];
    }
    ~StripeLease()
    {
        std::lock_guard lock(StripeMutex());
        --StripeHolders()[index];
    }
    StripeLease(const StripeLease&) = delete;
    StripeLease& operator=(const StripeLease&) = delete;
};
} // namespace

size_t AcquireThreadStripe()
{
    thread_local const StripeLease lease;
    return lease.index;
}

int64_t StripedGauge::Add(int64_t delta)
{
    std::atomic<int64_t>& part = m_Stripes[ThisThreadStripe()].part;
    const int64_t mine = part.fetch_add(delta, std::memory_order_relaxed) + delta;
    if (mine < m_Batch && mine > -m_Batch)
        return m_Shared.load(std::memory_order_relaxed) + mine;
    // Move the part (whatever it holds now: a stripe can have two threads) into the shared total.
    const int64_t moved = part.exchange(0, std::memory_order_relaxed);
    return m_Shared.fetch_add(moved, std::memory_order_relaxed) + moved;
}

int64_t StripedGauge::Sum() const
{
    int64_t sum = m_Shared.load(std::memory_order_relaxed);
    for (const Stripe& s : m_Stripes)
        sum += s.part.load(std::memory_order_relaxed);
    return sum;
}

void TagCounters::OnAllocate(uint64_t bytes, ResourceKind kind)
{
    const int64_t used = usedBytes.Add(static_cast<int64_t>(bytes));
    Counts& c = counts[ThisThreadStripe()];
    c.allocations.fetch_add(1, std::memory_order_relaxed);
    (kind == ResourceKind::Buffer ? c.buffers : c.images).fetch_add(1, std::memory_order_relaxed);
    c.totalAllocations.fetch_add(1, std::memory_order_relaxed);
    RaisePeak(peakUsedBytes.value, NonNegative(used));
}

void TagCounters::OnFree(uint64_t bytes, ResourceKind kind)
{
    usedBytes.Add(-static_cast<int64_t>(bytes));
    Counts& c = counts[ThisThreadStripe()];
    c.allocations.fetch_sub(1, std::memory_order_relaxed);
    (kind == ResourceKind::Buffer ? c.buffers : c.images).fetch_sub(1, std::memory_order_relaxed);
    c.totalFrees.fetch_add(1, std::memory_order_relaxed);
}

void TagCounters::ResetCumulative()
{
    peakUsedBytes.value.store(NonNegative(usedBytes.Sum()), std::memory_order_relaxed);
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
    s.usedBytes = NonNegative(usedBytes.Sum());
    s.allocationCount = clamp(allocations);
    s.bufferCount = clamp(buffers);
    s.imageCount = clamp(images);
    s.peakUsedBytes = std::max(peakUsedBytes.value.load(std::memory_order_relaxed), s.usedBytes);
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
