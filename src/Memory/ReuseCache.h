#pragma once
// ReuseCache: the SpeedOptimized buffer-reuse cache. VMA creates and destroys a VkBuffer for every
// request (VMA issue #453); SpeedOptimized instead keeps a freed buffer with its memory and hands
// both to a later request of the same key. Owns its shards, their locks and its closed flag.

#include "LockOrder.h"
#include "PoolSet.h"
#include "SpinMutex.h"
#include "UsageCounters.h"

#include <array>
#include <atomic>
#include <optional>
#include <unordered_map>
#include <vector>

namespace SceneryEditorX::detail
{

/// Key of the SpeedOptimized buffer-reuse cache: everything that decides a buffer's create info,
/// its memory type and pool, and what the caller may do with the memory. Two requests with equal
/// keys can be served by the same VkBuffer and allocation.
struct ReuseKey
{
    VkBufferUsageFlags bufferUsage = 0; // after addTransferUsage
    VkBufferCreateFlags createFlags = 0;
    VkDeviceSize classSize = 0; // the buffer's real size: the request rounded up to its reuse class
    VkDeviceSize alignment = 1;
    VmaMemoryUsage memoryUsage = VMA_MEMORY_USAGE_UNKNOWN;
    VmaAllocationCreateFlags allocationFlags = 0; // MAPPED and the host-access bits
    VkMemoryPropertyFlags requiredFlags = 0;
    VkMemoryPropertyFlags preferredFlags = 0;
    uint64_t baseHash = 0; // of the fields above except classSize, set by SealBase()
    size_t hash = 0;       // of all the fields, set by SetClass()
    /// Computes `baseHash`; call after setting the fields other than classSize. The buffers of one
    /// request (a batch) share it.
    void SealBase();
    /// Sets classSize and `hash`.
    void SetClass(VkDeviceSize size);
    bool operator==(const ReuseKey&) const = default;
};

struct ReuseKeyHash
{
    size_t operator()(const ReuseKey& k) const noexcept { return k.hash; }
};

/// Reuse class of a buffer size: the size rounded up to a quarter of its power-of-two octave (at
/// least 256 bytes), so a reused buffer is at most 25 % larger than the request. 0 when the size
/// is above LARGE_BUFFER_SIZE (not cached).
VkDeviceSize ReuseClassSize(VkDeviceSize size);

/// A freed SpeedOptimized buffer, kept with its memory for a later request of the same key.
struct CachedBuffer
{
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = nullptr;
    VkDeviceSize size = 0; // allocation size
    uint32_t memoryTypeIndex = 0;
    bool persistentlyMapped = false;
    std::optional<SizeClass> sizeClass; // of its pool
    VmaPool pool = nullptr;
    const TagCounters* namedAsTag = nullptr; // VMA's name is this tag's vmaName (unnamed allocation)
    bool hasObjectName = false;              // the VkBuffer carries its last owner's debug-utils name
};

/// The SpeedOptimized buffer-reuse cache (VMA creates a new VkBuffer per request; see
/// docs/ARCHITECTURE.md). Sharded by thread stripe. Bounded by AllocatorSettings::bufferReuseCacheBytes.
class ReuseCache
{
public:
    /// Takes a cached buffer of `key`: the one this thread freed last, else one another thread freed.
    /// False when there is none. `capBytes` as for Put.
    bool Take(const ReuseKey& key, CachedBuffer& out, VkDeviceSize capBytes);
    /// Keeps `buffer` in this thread's shard unless that would exceed `capBytes` or the cache is
    /// closed; false (nothing kept) otherwise.
    bool Put(const ReuseKey& key, const CachedBuffer& buffer, VkDeviceSize capBytes);
    /// While closed, Put keeps nothing. Close reads under each shard's lock, so that a TakeAll
    /// after Close leaves nothing behind (a defragmentation session closes the cache: VMA would
    /// propose moving cached allocations, which no registry entry covers).
    void Close() { m_Closed.store(true, std::memory_order_release); }
    void Open() { m_Closed.store(false, std::memory_order_release); }
    /// Empties the cache: `destroy` runs for each buffer it held, outside the shard locks, and a
    /// shard's Bytes()/Count() drop only once its buffers are destroyed, so that those figures never
    /// miss a buffer that VMA still holds (GetStats subtracts them from VMA's used bytes: a buffer
    /// counted by VMA but not by the cache would read as used and could raise the peak). Returns how
    /// many buffers were destroyed.
    template <typename Destroy>
    size_t ReleaseAll(Destroy&& destroy);
    uint64_t Bytes() const;
    uint64_t Count() const;

private:
    // One shard per thread stripe: a thread puts what it frees into its own shard and takes from it
    // first, so that a buffer, its registry entry and the shard's data stay in one core's cache.
    static constexpr size_t kShards = kCounterStripes;
    struct alignas(64) Shard
    {
        OrderedMutex<LockLevel::ReuseShard, SpinMutex> mutex;
        std::unordered_map<ReuseKey, std::vector<CachedBuffer>, ReuseKeyHash> lists;
        uint64_t credit = 0;            // bytes of the cap reserved by this shard (under the mutex)
        std::atomic<uint64_t> count{0}; // written under the mutex, read without it
        std::atomic<uint64_t> bytes{0}; // likewise; never above credit
    };
    bool TakeFrom(Shard& s, const ReuseKey& key, CachedBuffer& out, VkDeviceSize capBytes);
    // The cap is shared: each shard reserves part of it (its credit) in chunks of cap/64, so that
    // the shared counter is touched only when a shard's credit runs out or piles up.
    uint64_t Reserve(Shard& s, uint64_t need, VkDeviceSize capBytes);
    std::array<Shard, kShards> m_Shards;
    alignas(64) std::atomic<uint64_t> m_Reserved{0}; // the shards' credit; its sum stays within the cap
    std::atomic<bool> m_Closed{false};
};

template <typename Destroy>
size_t ReuseCache::ReleaseAll(Destroy&& destroy)
{
    size_t released = 0;
    for (Shard& s : m_Shards)
    {
        std::vector<CachedBuffer> taken;
        {
            std::lock_guard lock(s.mutex);
            for (auto& [key, list] : s.lists)
                taken.insert(taken.end(), list.begin(), list.end());
            s.lists.clear();
        }
        uint64_t bytes = 0;
        for (const CachedBuffer& b : taken)
        {
            destroy(b);
            bytes += b.size;
        }
        std::lock_guard lock(s.mutex);
        s.count.store(s.count.load(std::memory_order_relaxed) - taken.size(), std::memory_order_relaxed);
        const uint64_t held = s.bytes.load(std::memory_order_relaxed) - bytes;
        s.bytes.store(held, std::memory_order_relaxed);
        // What the shard caches meanwhile (another thread's Put) keeps its credit; the rest goes back.
        m_Reserved.fetch_sub(s.credit - held, std::memory_order_relaxed);
        s.credit = held;
        released += taken.size();
    }
    return released;
}

} // namespace SceneryEditorX::detail
