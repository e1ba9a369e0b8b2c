#include "UsageCounters.h"

#include <algorithm>
#include <map>

namespace SceneryEditorX::detail
{

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
// Every StripedGauge, so that a thread's stripe can be folded into each when the thread exits.
// Allocated once and never freed: threads may exit during static destruction.
struct GaugeList
{
    std::mutex mutex;
    std::vector<StripedGauge*> gauges;
};
GaugeList& Gauges()
{
    static GaugeList* list = new GaugeList;
    return *list;
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
        {
            GaugeList& list = Gauges();
            std::lock_guard lock(list.mutex);
            for (StripedGauge* gauge : list.gauges)
                gauge->FoldStripe(index);
        }
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

StripedGauge::StripedGauge(int64_t batch) : m_Batch(batch)
{
    GaugeList& list = Gauges();
    std::lock_guard lock(list.mutex);
    list.gauges.push_back(this);
}

StripedGauge::~StripedGauge()
{
    GaugeList& list = Gauges();
    std::lock_guard lock(list.mutex);
    list.gauges.erase(std::find(list.gauges.begin(), list.gauges.end(), this));
}

void StripedGauge::FoldStripe(size_t stripe)
{
    const int64_t part = m_Stripes[stripe].part.exchange(0, std::memory_order_relaxed);
    if (part != 0)
        m_Shared.fetch_add(part, std::memory_order_relaxed);
}

void StripedGauge::Fold()
{
    for (size_t i = 0; i < kCounterStripes; ++i)
        FoldStripe(i);
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
    counts[ThisThreadStripe()].made[static_cast<size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
    RaisePeak(peakUsedBytes.value, NonNegative(used));
}

void TagCounters::OnFree(uint64_t bytes, ResourceKind kind)
{
    usedBytes.Add(-static_cast<int64_t>(bytes));
    counts[ThisThreadStripe()].freed[static_cast<size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
}

namespace
{
struct CountSums
{
    std::array<int64_t, 2> made{};
    std::array<int64_t, 2> freed{};
};
CountSums SumCounts(const std::array<TagCounters::Counts, kCounterStripes>& counts)
{
    CountSums sums;
    for (const TagCounters::Counts& c : counts)
        for (size_t k = 0; k < 2; ++k)
        {
            sums.made[k] += c.made[k].load(std::memory_order_relaxed);
            sums.freed[k] += c.freed[k].load(std::memory_order_relaxed);
        }
    return sums;
}
} // namespace

void TagCounters::ResetCumulative()
{
    // Parts left in other threads' stripes would skew the views the peak is raised from.
    usedBytes.Fold();
    peakUsedBytes.value.store(NonNegative(usedBytes.Sum()), std::memory_order_relaxed);
    const CountSums sums = SumCounts(counts);
    baseMade.store(sums.made[0] + sums.made[1], std::memory_order_relaxed);
    baseFreed.store(sums.freed[0] + sums.freed[1], std::memory_order_relaxed);
}

TagStats TagCounters::Snapshot() const
{
    const CountSums sums = SumCounts(counts);
    const int64_t buffers = sums.made[0] - sums.freed[0];
    const int64_t images = sums.made[1] - sums.freed[1];
    const int64_t total = sums.made[0] + sums.made[1] - baseMade.load(std::memory_order_relaxed);
    const int64_t frees = sums.freed[0] + sums.freed[1] - baseFreed.load(std::memory_order_relaxed);
    // Stripes are read one after another: while other threads allocate and free, a sum can be a
    // moment off, even below zero (a free counted before its allocation's stripe was read): clamped.
    TagStats s;
    s.tag = tag;
    s.usedBytes = NonNegative(usedBytes.Sum());
    s.allocationCount = NonNegative(buffers + images);
    s.bufferCount = NonNegative(buffers);
    s.imageCount = NonNegative(images);
    s.peakUsedBytes = std::max(peakUsedBytes.value.load(std::memory_order_relaxed), s.usedBytes);
    s.totalAllocations = NonNegative(total);
    s.totalFrees = NonNegative(frees);
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
    // Never destroyed: records point into it, and Shutdown may run from a static destructor.
    static TagTable* const table = new TagTable;
    return *table;
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

void UsageCounters::ResetPeaks()
{
    m_UsedBytes.Fold();
    m_UsedCount.Fold();
    m_PeakBytes.value.store(NonNegative(m_UsedBytes.Sum()), std::memory_order_relaxed);
    m_PeakCount.value.store(NonNegative(m_UsedCount.Sum()), std::memory_order_relaxed);
}

} // namespace SceneryEditorX::detail
