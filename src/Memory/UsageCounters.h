#pragma once
// UsageCounters: what the memory system counts itself, because VMA has no cheap figure for it:
// live bytes and allocations with their peaks, and per-tag counters. Everything many threads update
// is striped per thread (docs/PERFORMANCE.md, "Threads").

#include "MemoryCommon.h"

#include <array>
#include <atomic>
#include <string>
#include <vector>

namespace SceneryEditorX::detail
{

/// This thread's stripe (0..kCounterStripes-1) for data that many threads update: each thread
/// writes its own cache lines, and readers sum the stripes. A thread takes the stripe that the
/// fewest running threads hold and gives it back when it exits, so that up to kCounterStripes
/// threads running at once never share one.
constexpr size_t kCounterStripes = 16;
size_t AcquireThreadStripe(); // the first call on a thread: leases a stripe until the thread exits
inline size_t ThisThreadStripe()
{
    thread_local size_t stripe = kCounterStripes; // trivial: no guard or destructor on the hot path
    if (stripe == kCounterStripes) [[unlikely]]
        stripe = AcquireThreadStripe();
    return stripe;
}

/// A 64-bit atomic alone on its cache line, so that threads updating it do not also invalidate
/// their neighbours' data.
struct alignas(64) PaddedAtomic
{
    std::atomic<uint64_t> value{0};
};

/// A total that many threads change at once (live bytes, live count). Each thread adds to its own
/// stripe; a stripe moves its part into the shared total only once the part passes +-batch. A
/// thread that allocates and frees around a steady level then writes only its own cache line, where
/// one shared atomic would move between cores on every call (docs/PERFORMANCE.md, "Threads").
class StripedGauge
{
public:
    /// Every gauge is listed, so that a thread's stripe is folded into each gauge's shared total when
    /// the thread exits (a part left behind would skew the views of the threads that remain).
    explicit StripedGauge(int64_t batch);
    ~StripedGauge();
    StripedGauge(const StripedGauge&) = delete;
    StripedGauge& operator=(const StripedGauge&) = delete;
    /// Adds `delta` and returns this thread's view of the total: the shared part plus its own
    /// stripe's. That is the total itself when no other stripe holds a part, which is the case when
    /// one thread at a time uses the gauge; otherwise each other running thread's stripe holds less
    /// than `batch` either way, which bounds how far the view can be off.
    int64_t Add(int64_t delta)
    {
        std::atomic<int64_t>& part = m_Stripes[ThisThreadStripe()].part;
        const int64_t mine = part.fetch_add(delta, std::memory_order_relaxed) + delta;
        if (mine < m_Batch && mine > -m_Batch) [[likely]]
            return m_Shared.load(std::memory_order_relaxed) + mine;
        // Move the part (whatever it holds now: a stripe can have two threads) into the shared total.
        const int64_t moved = part.exchange(0, std::memory_order_relaxed);
        return m_Shared.fetch_add(moved, std::memory_order_relaxed) + moved;
    }
    /// The shared part plus every stripe's (a moment off while other threads change it).
    int64_t Sum() const;
    /// Moves one stripe's part, or every stripe's, into the shared total (the sum is unchanged).
    void FoldStripe(size_t stripe);
    void Fold();

private:
    struct alignas(64) Stripe
    {
        std::atomic<int64_t> part{0};
    };
    alignas(64) std::atomic<int64_t> m_Shared{0};
    std::array<Stripe, kCounterStripes> m_Stripes;
    const int64_t m_Batch;
};

/// A gauge's value as an unsigned figure (a sum taken while threads change it can dip below zero).
inline uint64_t NonNegative(int64_t v)
{
    return v > 0 ? static_cast<uint64_t>(v) : 0;
}

/// How far a stripe of the live bytes or a tag's bytes may drift before it reaches the shared total,
/// and the same for the live count. A peak can be off by less than this per other running thread
/// that holds a part (exited threads' parts are folded into the shared total).
inline constexpr int64_t kGaugeBatchBytes = 1 << 20;
inline constexpr int64_t kGaugeBatchCount = 64;

/// Counters of one tag. Shared by every instance with that tag; lives for the whole process so
/// that records can point at it without reference counting. Everything is striped per thread,
/// because a tag's threads all update it on every allocation and free.
struct TagCounters
{
    explicit TagCounters(std::string t);
    std::string tag;
    // The tag as VMA gets it for unnamed allocations (control characters replaced). VMA keeps the
    // pointer (vmaSetAllocationNameStatic, patch 6), so the string never changes (const) and the
    // counters are never destroyed (Tags()).
    const std::string vmaName;
    StripedGauge usedBytes{kGaugeBatchBytes};
    PaddedAtomic peakUsedBytes; // raised from each allocating thread's view of usedBytes
    // Allocations and frees per kind (buffer, image) since the process began, per stripe: one
    // atomic add per call. Live counts are their differences (a buffer allocated on one thread and
    // freed on another moves two stripes; the sums agree), and the cumulative figures count from
    // the baseline that ResetCumulative takes.
    struct alignas(64) Counts
    {
        std::array<std::atomic<int64_t>, 2> made{};
        std::array<std::atomic<int64_t>, 2> freed{};
    };
    std::array<Counts, kCounterStripes> counts;
    std::atomic<int64_t> baseMade{0};
    std::atomic<int64_t> baseFreed{0};

    void OnAllocate(uint64_t bytes, ResourceKind kind);
    void OnFree(uint64_t bytes, ResourceKind kind);
    /// Peak to the live bytes, cumulative counts to zero (Init, ResetStats).
    void ResetCumulative();
    TagStats Snapshot() const;
};

TagCounters* AcquireTagCounters(const std::string& tag);
std::vector<TagCounters*> AllTagCounters();

/// Updates `peak` to at least `value`.
inline void RaisePeak(std::atomic<uint64_t>& peak, uint64_t value)
{
    uint64_t seen = peak.load(std::memory_order_relaxed);
    while (value > seen && !peak.compare_exchange_weak(seen, value, std::memory_order_relaxed))
    {
    }
}

/// The bytes and count of the VMA allocations that the system holds outside the reuse cache (the
/// "used" figures of AllocationStats), and their peaks: the registry's live allocations, deferred
/// destroys whose frames have not retired, frees held until a defragmentation pass ends, and
/// staging buffers (counted like allocations, under the internal tag). Allocations made directly through
/// MemoryAllocator::GetAllocator() are not seen here; GetStats reads VMA's exact figure and raises the peaks
/// with it (ObserveUsed). Peaks only rise, except through ResetPeaks (Init, ResetStats).
class UsageCounters
{
public:
    /// One allocation of `bytes` is made under `tag`: a registry entry, or a staging buffer under
    /// the internal tag.
    void OnAllocate(TagCounters& tag, uint64_t bytes, ResourceKind kind)
    {
        tag.OnAllocate(bytes, kind);
        RaisePeak(m_PeakBytes.value, NonNegative(m_UsedBytes.Add(static_cast<int64_t>(bytes))));
        RaisePeak(m_PeakCount.value, NonNegative(m_UsedCount.Add(1)));
    }
    /// One allocation (a registry entry, or a staging buffer) is freed, or cached for reuse, now.
    void OnFree(TagCounters& tag, uint64_t bytes, ResourceKind kind)
    {
        tag.OnFree(bytes, kind);
        m_UsedBytes.Add(-static_cast<int64_t>(bytes));
        m_UsedCount.Add(-1);
    }
    /// One allocation leaves the registry (and its tag), but its memory stays held until
    /// OnHeldReleased: a deferred destroy, or a free held until a defragmentation pass ends.
    void OnFreeHeld(TagCounters& tag, uint64_t bytes, ResourceKind kind) { tag.OnFree(bytes, kind); }
    /// Memory held after OnFreeHeld is freed or cached for reuse;
    /// `count` is 0 for a moved allocation's old handle (no memory of its own).
    void OnHeldReleased(uint64_t bytes, uint64_t count)
    {
        m_UsedBytes.Add(-static_cast<int64_t>(bytes));
        m_UsedCount.Add(-static_cast<int64_t>(count));
    }
    /// Raises the peaks to an exact reading of the used figures (VMA's), which also counts what
    /// this class does not see: the peaks are never below any figure that GetStats returned.
    void ObserveUsed(uint64_t bytes, uint64_t count)
    {
        RaisePeak(m_PeakBytes.value, bytes);
        RaisePeak(m_PeakCount.value, count);
    }
    uint64_t PeakBytes() const { return m_PeakBytes.value.load(std::memory_order_relaxed); }
    uint64_t PeakCount() const { return m_PeakCount.value.load(std::memory_order_relaxed); }
    /// The used bytes and count as counted here (tests compare them with VMA's).
    uint64_t UsedBytes() const { return NonNegative(m_UsedBytes.Sum()); }
    uint64_t UsedCount() const { return NonNegative(m_UsedCount.Sum()); }
    /// Peaks to the used figures.
    void ResetPeaks();

private:
    // Each on its own cache line: the peaks are mostly only read.
    StripedGauge m_UsedBytes{kGaugeBatchBytes};
    StripedGauge m_UsedCount{kGaugeBatchCount};
    PaddedAtomic m_PeakBytes;
    PaddedAtomic m_PeakCount;
};

} // namespace SceneryEditorX::detail
