#pragma once
// Registry: every live allocation and its record (tag, kind, create info, current handle, size,
// name), sharded by handle. Owns its shards and their locks; the 1,024 shard locks are one level
// of the lock order (LockOrder.h).

#include "LockOrder.h"
#include "PoolSet.h"
#include "ReuseCache.h"
#include "SpinMutex.h"
#include "UsageCounters.h"
#include "WalkCounters.h"

#include <array>
#include <bit>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <unordered_map>
#include <vector>

namespace SceneryEditorX::detail
{

/// Everything the system knows about one live allocation.
struct AllocationRecord
{
    ResourceKind kind = ResourceKind::Buffer;
    TagCounters* counters = nullptr;
    VkBuffer buffer = VK_NULL_HANDLE;
    VkImage image = VK_NULL_HANDLE;
    // The handle before the latest defragmentation move (null if never moved): a destroy that read
    // the handle just before a move on another thread still names this allocation's resource.
    uint64_t previousHandle = 0;
    VkBufferCreateInfo bufferInfo{}; // as created (pNext dropped), for recreation
    VkImageCreateInfo imageInfo{};
    std::vector<uint32_t> queueFamilies; // storage behind the create info's pQueueFamilyIndices
    VkDeviceSize size = 0;               // allocation size
    VkDeviceSize requestedSize = 0;      // buffer size asked for / image data size
    VmaMemoryUsage usage = VMA_MEMORY_USAGE_UNKNOWN;
    uint32_t memoryTypeIndex = 0;
    bool hostVisible = false;
    bool mappable = false;              // host-visible and allowed by the usage/flags
    bool persistentlyMapped = false;    // created with AllocationFlags::Mapped
    bool hadPNext = false;              // created with a pNext chain: cannot be recreated
    std::optional<SizeClass> sizeClass; // of its pool; none outside the size-class pools
    VmaPool pool = nullptr;             // the size-class pool, null for VMA's default pools
    bool marked = false;                // marked for the open defragmentation session
    bool moving = false;                // a move source of the pass in flight: a free is held
    uint32_t mapCount = 0;
    VkImageLayout layout = VK_IMAGE_LAYOUT_UNDEFINED;
    bool reusable = false;    // a SpeedOptimized buffer that goes to the reuse cache when freed
    bool objectNamed = false; // its buffer/image got a debug-utils object name
    ReuseKey reuseKey;
    std::string name;
    std::source_location where;
};

/// Live allocations, sharded by handle. With 1024 shards, the handful of allocations that a thread
/// keeps reusing mostly sit in shards of their own, so that their lock and map stay in that
/// thread's core instead of moving between cores on every call (docs/PERFORMANCE.md, "Threads").
class Registry
{
public:
    static constexpr size_t kShardCount = 1024;

    /// Enters the record of `allocation`, built by `fill(record)` in place under the shard lock: in
    /// a recycled map node when the shard has one, reset to a default record first. A record already
    /// there under that handle is replaced.
    template <class Fill>
    void Emplace(VmaAllocation allocation, Fill&& fill)
    {
        Shard& s = ShardFor(allocation);
        std::lock_guard lock(s.mutex);
        if (s.spare.empty())
        {
            auto [it, inserted] = s.map.try_emplace(allocation);
            if (!inserted)
                it->second = AllocationRecord{};
            fill(it->second);
            return;
        }
        Map::node_type node = std::move(s.spare.back());
        s.spare.pop_back();
        node.key() = allocation;
        AllocationRecord& record = node.mapped();
        std::destroy_at(&record);
        std::construct_at(&record);
        fill(record);
        // One lookup: when the key is already there, the node comes back and its record replaces the old.
        auto result = s.map.insert(std::move(node));
        if (!result.inserted)
        {
            result.position->second = std::move(result.node.mapped());
            s.Recycle(std::move(result.node));
        }
    }
    bool Contains(VmaAllocation allocation) const;
    /// Calls `fn(record)` under the shard lock; false when not live.
    template <class Fn>
    bool With(VmaAllocation allocation, Fn&& fn)
    {
        Shard& s = ShardFor(allocation);
        std::lock_guard lock(s.mutex);
        auto it = s.map.find(allocation);
        if (it == s.map.end())
            return false;
        fn(it->second);
        return true;
    }
    /// Removes the record if `accept(record)` says so and calls `release(record)` while still holding
    /// the shard lock, so that a defragmentation pass (which holds every shard lock) never sees the
    /// allocation freed under it. Returns whether it was removed.
    template <class Pred, class Release>
    bool RemoveIfAndRelease(VmaAllocation allocation, Pred&& accept, Release&& release)
    {
        Shard& s = ShardFor(allocation);
        std::lock_guard lock(s.mutex);
        auto it = s.map.find(allocation);
        if (it == s.map.end() || !accept(it->second))
            return false;
        Map::node_type node = s.map.extract(it);
        release(node.mapped());
        s.Recycle(std::move(node));
        return true;
    }
    /// Calls `fn(find)` with every shard locked; `find(allocation)` returns the record or null.
    /// Used by defragmentation passes while they plan and while they commit (not while the GPU
    /// copies): nothing is registered, freed or read meanwhile.
    template <class Fn>
    void WithAllLocked(Fn&& fn)
    {
        struct AllLocked
        {
            std::array<Shard, kShardCount>& shards;
            explicit AllLocked(std::array<Shard, kShardCount>& s) : shards(s)
            {
                for (Shard& shard : shards)
                    shard.mutex.lock();
            }
            ~AllLocked()
            {
                for (Shard& shard : shards)
                    shard.mutex.unlock();
            }
            AllLocked(const AllLocked&) = delete;
            AllLocked& operator=(const AllLocked&) = delete;
        } locked(m_Shards);
        Walks().registryLockAlls.fetch_add(1, std::memory_order_relaxed);
        auto find = [this](VmaAllocation allocation) -> AllocationRecord*
        {
            Shard& s = ShardFor(allocation);
            auto it = s.map.find(allocation);
            return it == s.map.end() ? nullptr : &it->second;
        };
        fn(find);
    }
    /// Takes every record out (Shutdown).
    std::vector<std::pair<VmaAllocation, AllocationRecord>> DrainAll();
    /// Calls `fn(allocation, record)` for every record, one shard at a time (reports, tests).
    template <class Fn>
    void ForEach(Fn&& fn) const
    {
        for (const Shard& s : m_Shards)
        {
            std::lock_guard lock(s.mutex);
            Walks().registryEntriesVisited.fetch_add(s.map.size(), std::memory_order_relaxed);
            for (const auto& [allocation, record] : s.map)
                fn(allocation, record);
        }
    }
    size_t Size() const;

private:
    using Map = std::unordered_map<VmaAllocation, AllocationRecord>;
    // Map nodes of removed records, kept for the next insert: an allocate+free pair then costs no
    // heap allocation for its registry entry.
    static constexpr size_t kSpareNodes = 2;
    struct alignas(64) Shard
    {
        mutable OrderedMutex<LockLevel::RegistryShard, SpinMutex> mutex;
        Map map;
        std::vector<Map::node_type> spare;
        void Recycle(Map::node_type node)
        {
            if (spare.size() < kSpareNodes)
                spare.push_back(std::move(node));
        }
    };
    Shard& ShardFor(VmaAllocation allocation) const
    {
        // Fibonacci hashing of the address: neighbouring allocation objects land far apart.
        static_assert((kShardCount & (kShardCount - 1)) == 0);
        const uint64_t bits = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(allocation)) >> 3;
        return m_Shards[(bits * 0x9E3779B97F4A7C15ull) >> (64 - std::countr_zero(kShardCount))];
    }
    mutable std::array<Shard, kShardCount> m_Shards;
};

} // namespace SceneryEditorX::detail
