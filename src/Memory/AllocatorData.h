#pragma once
// Internal state of the memory system: the one VMA allocator (VulkanAllocatorData), the sharded
// registry of live allocations, per-tag counters, size-class pools, the retire queue and the
// staging cache. Nothing here is part of the public API.

#include <SceneryEditorX/Memory/MemoryAllocator.h>

#include "SpinMutex.h"

#include <array>
#include <atomic>
#include <bit>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <source_location>
#include <string>
#include <unordered_map>
#include <vector>

namespace SceneryEditorX::detail
{

constexpr const char* kAllocTag = "VulkanAllocator";

enum class ResourceKind : uint8_t
{
    Buffer,
    Image
};
const char* KindName(ResourceKind kind);

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
    std::string vmaName; // the tag as VMA gets it for unnamed allocations (control characters replaced)
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
    int poolClass = -1;
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
    /// Keeps `buffer` in this thread's shard unless that would exceed `capBytes` or `closed` is set
    /// (read under the shard's lock, so that a TakeAll after setting it leaves nothing behind);
    /// false (nothing kept) otherwise.
    bool Put(const ReuseKey& key, const CachedBuffer& buffer, VkDeviceSize capBytes,
             const std::atomic<bool>& closed);
    /// Empties the cache and returns what it held (to be destroyed).
    std::vector<CachedBuffer> TakeAll();
    uint64_t Bytes() const;
    uint64_t Count() const;

private:
    // One shard per thread stripe: a thread puts what it frees into its own shard and takes from it
    // first, so that a buffer, its registry entry and the shard's data stay in one core's cache.
    static constexpr size_t kShards = kCounterStripes;
    struct alignas(64) Shard
    {
        SpinMutex mutex;
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
};

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
    bool mappable = false;           // host-visible and allowed by the usage/flags
    bool persistentlyMapped = false; // created with AllocationFlags::Mapped
    bool hadPNext = false;           // created with a pNext chain: cannot be recreated
    int poolClass = -1;              // size class, -1 outside the pools
    VmaPool pool = nullptr;          // the size-class pool, null for VMA's default pools
    bool marked = false;             // marked for the open defragmentation session
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

    void Insert(VmaAllocation allocation, AllocationRecord&& record);
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
    /// Used by defragmentation passes: nothing is registered, freed or read meanwhile.
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
        mutable SpinMutex mutex;
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

/// A lock split into stripes: each thread takes the stripe of its own (cheap, rarely contended);
/// a walk over VMA's per-allocation data takes them all. VMA writes some per-allocation data
/// (the resource usage at creation, names) without a lock that its statistics walk takes.
class StripedMutex
{
public:
    static constexpr size_t kStripes = 16;
    static_assert(kStripes == kCounterStripes);
    SpinMutex& ForThisThread() { return m_Stripes[ThisThreadStripe()].mutex; }
    /// Locks every stripe (in order) until the returned guards are destroyed.
    std::array<std::unique_lock<SpinMutex>, kStripes> LockAll()
    {
        std::array<std::unique_lock<SpinMutex>, kStripes> locks;
        for (size_t i = 0; i < kStripes; ++i)
            locks[i] = std::unique_lock(m_Stripes[i].mutex);
        return locks;
    }

private:
    struct alignas(64) Stripe
    {
        SpinMutex mutex;
    };
    std::array<Stripe, kStripes> m_Stripes;
};

/// A resource waiting for its frame to retire.
struct RetiredResource
{
    uint64_t releaseFrame = 0;
    ResourceKind kind = ResourceKind::Buffer;
    VkBuffer buffer = VK_NULL_HANDLE;
    VkImage image = VK_NULL_HANDLE;
    VmaAllocation allocation = nullptr;
    bool reusable = false; // goes to the reuse cache once released
    ReuseKey reuseKey;
    CachedBuffer cached;
};

/// A staging buffer of the upload/readback path.
struct StagingBuffer
{
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = nullptr;
    VkDeviceSize size = 0;
    void* mapped = nullptr;
};

/// The global state behind MemoryAllocator (one per Init).
struct VulkanAllocatorData
{
    Ref<VulkanDevice> device;
    VkDevice vkDevice = VK_NULL_HANDLE;
    VmaAllocator allocator = nullptr;
    AllocatorSettings settings;
    VkPhysicalDeviceMemoryProperties memoryProperties{};
    VkDeviceSize nonCoherentAtomSize = 1;
    VkDeviceSize maxMemoryAllocationSize = 0;
    VkDeviceSize largestHeapSize = 0;

    Registry registry;
    // Creation (VMA call, naming, registration) holds this thread's stripe; statistics walks take
    // all stripes and all registry shards. Lock order: stripe, then registry shard.
    StripedMutex walkGuard;
    // Uploads and readbacks hold it shared from the handle lookup to the end of the copy; a
    // defragmentation pass holds it exclusively, so a transfer never targets a handle being retired.
    std::shared_mutex transferMutex;
    // Bytes and count of the allocations in the registry (striped per thread), and their peaks,
    // each on its own cache line: the peaks are mostly only read.
    StripedGauge liveBytes{kGaugeBatchBytes};
    StripedGauge liveCount{kGaugeBatchCount};
    PaddedAtomic peakBytesLine;
    PaddedAtomic peakCountLine;
    std::atomic<uint64_t>& peakBytes = peakBytesLine.value;
    std::atomic<uint64_t>& peakCount = peakCountLine.value;

    // SpeedOptimized buffer reuse.
    ReuseCache reuseCache;

    // Size-class pools: [memory type][class]. Created on first use under poolMutex; read lock-free.
    std::array<std::array<std::atomic<VmaPool>, 3>, VK_MAX_MEMORY_TYPES> pools{};
    std::mutex poolMutex;
    std::vector<VmaPool> replacedPools; // LARGE pools replaced by SetCustomBufferSize, freed at Shutdown

    // Memory type per (buffer usage, create flags, memory usage, host-access flags, required, preferred).
    std::shared_mutex typeCacheMutex;
    std::unordered_map<uint64_t, uint32_t> bufferTypeCache;

    // Retire queue.
    std::atomic<uint64_t> frameIndex{0};
    std::mutex retireMutex;
    std::deque<RetiredResource> retired;

    // Staging cache.
    std::mutex stagingMutex;
    std::vector<StagingBuffer> stagingFree;
    VkDeviceSize stagingFreeBytes = 0;

    // Defragmentation session (Defragmentation.cpp). Lock order: defragSessionMutex, then
    // defragPassMutex, then the registry shards, then VMA, then the queue.
    std::mutex defragSessionMutex;
    std::mutex defragPassMutex; // held for a pass; the retire queue is released only outside passes
    std::atomic<bool> defragOpen{false};
    DefragmentationOptions defragOptions;
    std::vector<VmaAllocation> defragMarked;
    std::vector<VmaPool> defragPools; // pools still to run, default pools as null
    VmaDefragmentationContext defragContext = nullptr;
    size_t defragPoolIndex = 0;
    DefragmentationStats defragStats;

    // Cached fragmentation figure.
    std::atomic<float> fragmentation{0.0f};
    std::atomic<uint64_t> fragmentationFrame{0};
    alignas(64) std::atomic<bool> fragmentationDirty{true}; // see MarkFragmentationDirty
};

/// Marks the cached fragmentation figure stale. Reads first: every allocate and free calls it, and a
/// store to a line that is already true would still take the line from the other threads.
inline void MarkFragmentationDirty(VulkanAllocatorData& d)
{
    if (!d.fragmentationDirty.load(std::memory_order_relaxed))
        d.fragmentationDirty.store(true, std::memory_order_relaxed);
}

/// The live data, or null (before Init / after Shutdown). One atomic load.
VulkanAllocatorData* Data();

/// Budget generation: changes whenever VMA's view of the budget or usage can have changed (a
/// VkDeviceMemory block allocated or freed, a frame's budget refresh, an Init). Allocation and free
/// re-check an instance's warning threshold only when it moved (Budget.cpp).
uint64_t BudgetGeneration();
void BumpBudgetGeneration();
/// VMA calls its free callback before vkFreeMemory and before it lowers its usage figure, so a
/// thread that reads the budget in between would store the new generation with the old usage. The
/// callback therefore marks the freeing thread, and this, called after the VMA call that freed,
/// bumps the generation once more (Budget.cpp).
void OnVmaBlockFreed();
void AfterVmaFree();
/// Instances whose usage is above their warning threshold now (Budget.cpp). While there are any,
/// memory is short, and freed SpeedOptimized buffers are destroyed instead of cached.
void CountAboveThreshold(int before, int now);
bool AnyInstanceAboveThreshold();

/// Puts a released SpeedOptimized buffer into the reuse cache, or destroys it when the cache is
/// full, disabled, or a defragmentation session is open (ReuseCache.cpp).
void CacheOrDestroy(VulkanAllocatorData& d, const ReuseKey& key, const CachedBuffer& buffer);
/// Destroys every cached buffer; returns how many.
size_t ReleaseReuseCache(VulkanAllocatorData& d);

/// Releases the resource behind a record (after it left the registry).
void DestroyResourceNow(VulkanAllocatorData& d, ResourceKind kind, VkBuffer buffer, VkImage image,
                        VmaAllocation allocation);

/// Size class of a memory requirement size: 0 small, 1 medium, 2 large, -1 none.
int SizeClassOf(VkDeviceSize size);

/// "tag:name" (or "tag"), as VMA, the logs and debug-utils object names get it; control characters
/// become '?' (VMA's JSON writer asserts on them).
std::string AllocationName(const std::string& tag, const std::string& name);

/// Staging buffers (Transfer.cpp).
VkResult AcquireStaging(VulkanAllocatorData& d, VkDeviceSize size, StagingBuffer& out);
void ReleaseStaging(VulkanAllocatorData& d, StagingBuffer staging);
void DestroyStagingCache(VulkanAllocatorData& d);

/// Budget figures (Budget.cpp).
std::string BudgetSummary(VulkanAllocatorData& d, int heapIndex);
void UpdatePeaks(VulkanAllocatorData& d);
/// Size-class pool of a memory type, created on first use (VulkanAllocatorData.cpp).
VmaPool GetPool(VulkanAllocatorData& d, uint32_t memoryTypeIndex, int sizeClass);

/// Vulkan functions for VMA, and the system's own resource creation, with the fault-injection
/// hooks (VulkanFunctions.cpp).
VmaVulkanFunctions VmaFunctionTable(bool faultInjection);
VkResult CreateBufferChecked(VkDevice device, const VkBufferCreateInfo& info, VkBuffer& out);
VkResult CreateImageChecked(VkDevice device, const VkImageCreateInfo& info, VkImage& out);

/// Ends an open defragmentation session without more passes (Shutdown).
void AbortDefragmentation(VulkanAllocatorData& d);

/// Fragmentation (Statistics.cpp).
float ComputeFragmentationNow(VulkanAllocatorData& d);
/// VMA's JSON dump, taken while no allocation is created, named or freed (Statistics.cpp).
std::string BuildStatsJson(VulkanAllocatorData& d, bool detailedMap);

} // namespace SceneryEditorX::detail
