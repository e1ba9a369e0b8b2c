#pragma once
// MemorySystem: the one memory system behind every MemoryAllocator (one per Init). It owns the VMA
// allocator, the settings and the parts, each of which owns its state and its lock:
//   Registry         live allocations and their records           Registry.h
//   UsageCounters    live bytes and counts, peaks, per-tag        UsageCounters.h
//   PoolSet          size-class pools, memory-type cache          PoolSet.h
//   RetireQueue      frame-indexed release (GPU lifetime)         RetireQueue.h
//   ReuseCache       SpeedOptimized buffer reuse                  ReuseCache.h
//   StagingPool      staging buffers of uploads and readbacks     StagingPool.h
//   DefragmentationSession                                        DefragmentationSession.h
// A part never reads another part's flags or locks: what one part's event means for another (memory
// pressure empties the reuse cache; a defragmentation pass needs exclusive access; a retired buffer
// goes back to the reuse cache) is a call on MemorySystem. The lock order is LockOrder.h.

#include "DefragmentationSession.h"
#include "LockOrder.h"
#include "PoolSet.h"
#include "Registry.h"
#include "Residency.h"
#include "RetireQueue.h"
#include "ReuseCache.h"
#include "StagingPool.h"
#include "StripedMutex.h"
#include "UsageCounters.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <shared_mutex>
#include <string_view>
#include <utility>

namespace SceneryEditorX::detail
{

/// The fragmentation ratio of the latest walk (CalculateStats, PrintDetailedStats) and the frame
/// it was computed in: GetStats returns it with its age. Nothing on the allocation path touches it.
struct FragmentationFigure
{
    std::atomic<float> ratio{0.0f};
    std::atomic<uint64_t> frame{0};
    void Store(float value, uint64_t computedFrame)
    {
        ratio.store(value, std::memory_order_relaxed);
        frame.store(computedFrame, std::memory_order_release);
    }
    /// The age in frames at `currentFrame` of the ratio read with it: read the frame first (acquire:
    /// the ratio read after it is at least that new), then the current frame; saturates at 0 when a
    /// walk stored a frame that a concurrent reader's `currentFrame` does not reach yet.
    static uint64_t Age(uint64_t computedFrame, uint64_t currentFrame)
    {
        return currentFrame > computedFrame ? currentFrame - computedFrame : 0;
    }
};

class MemorySystem
{
public:
    ~MemorySystem() = default;
    MemorySystem(const MemorySystem&) = delete;
    MemorySystem& operator=(const MemorySystem&) = delete;

    // ------------------------------------------------------------------ lifecycle
    /// The live system, or null (before Init / after Shutdown). One atomic load.
    static MemorySystem* Get() { return s_Live.load(std::memory_order_acquire); }
    /// The one init guard of the public calls: the live system, or null after one error line
    /// "[tag] call called before Init or after Shutdown" (no "[tag] " for an empty tag).
    static MemorySystem* Require(const char* call, std::string_view tag = {})
    {
        MemorySystem* system = Get();
        if (!system) [[unlikely]]
            ReportNotInitialized(call, tag);
        return system;
    }
    static bool Create(const Ref<VulkanDevice>& device, uint32_t apiVersion,
                       const AllocatorSettings& settings);
    static bool Destroy();
    /// The settings of a system made with default settings (GetSettings before Init).
    static const AllocatorSettings& DefaultSettings();

    // ------------------------------------------------------------------ what every part reads
    const Ref<VulkanDevice> device;
    const VkDevice vkDevice;
    const AllocatorSettings settings;
    VmaAllocator allocator = nullptr;
    VkPhysicalDeviceMemoryProperties memoryProperties{}; // after the heap size limits
    VkDeviceSize nonCoherentAtomSize = 1;
    VkDeviceSize maxMemoryAllocationSize = 0;
    VkDeviceSize largestHeapSize = 0;
    std::atomic<uint64_t> frameIndex{0};

    // ------------------------------------------------------------------ the parts
    Registry registry;
    UsageCounters usage;
    PoolSet pools;
    RetireQueue retireQueue;
    ReuseCache reuseCache;
    StagingPool staging;
    DefragmentationSession defragmentation{*this};
    FragmentationFigure fragmentation;
    Residency residency; // evictable registrations and eviction rounds
    /// Creation (VMA call, naming, registration) holds this thread's stripe; VMA's statistics walk
    /// takes all stripes and all registry shards.
    StripedMutex creationGuard;

    // ------------------------------------------------------------------ cross-part calls
    /// Destroys a resource and frees its memory now (it left the registry, or never joined it).
    void DestroyNow(ResourceKind kind, VkBuffer buffer, VkImage image, VmaAllocation allocation);
    /// A released SpeedOptimized buffer goes to the reuse cache, or is destroyed when the cache is
    /// full, closed (a defragmentation session) or memory is short (an instance above its threshold).
    void CacheOrDestroy(const ReuseKey& key, const CachedBuffer& buffer);
    /// Releases a resource held past its free (a retired deferred destroy, a free held for a pass):
    /// to the reuse cache when it is reusable and `mayCache`, else destroyed; its bytes leave the
    /// used figures (UsageCounters::OnHeldReleased).
    void ReleaseHeld(const RetiredResource& resource, bool mayCache);
    /// Destroys every buffer the reuse cache holds (between defragmentation passes); returns how many.
    size_t ReleaseReuseCache();
    /// Releases what the retire queue holds for frames up to `frame` (between passes).
    void ReleaseRetired(uint64_t frame);
    /// Memory is short (an instance crossed its warning threshold): the library's caches shrink first.
    void OnMemoryPressure(const std::string& tag);
    /// A defragmentation session opens / closes: the caches of allocations outside the registry
    /// are emptied and kept closed until it ends (a pass would have to skip them, pinning their blocks).
    void OnDefragmentationBegin();
    void OnDefragmentationEnd();

    /// A free of an allocation that the pass in flight is moving (AllocationRecord::moving): the
    /// record has left the registry, the resource and memory are released once the pass ends
    /// (TakePassHeld). Taken under the record's shard lock; its own lock is a leaf.
    void HoldUntilPassEnds(const RetiredResource& resource)
    {
        std::lock_guard lock(m_PassHoldMutex);
        m_PassHeld.push_back(resource);
    }
    /// Allocations VMA proposed in the pass in flight that were not in the registry when it planned
    /// (made on another thread, not registered yet): a free of one is held as well. Set while the
    /// pass holds every shard lock, cleared when it commits.
    void PinForPass(std::vector<VmaAllocation> allocations)
    {
        std::lock_guard lock(m_PassHoldMutex);
        m_Pinned = std::move(allocations);
        m_AnyPinned.store(!m_Pinned.empty(), std::memory_order_release);
    }
    void UnpinPass() { PinForPass({}); }
    /// Whether a free of `allocation` must be held (one relaxed load when nothing is pinned).
    bool PinnedByPass(VmaAllocation allocation)
    {
        if (!m_AnyPinned.load(std::memory_order_acquire))
            return false;
        std::lock_guard lock(m_PassHoldMutex);
        return std::find(m_Pinned.begin(), m_Pinned.end(), allocation) != m_Pinned.end();
    }
    /// The held frees (the pass, when it commits).
    std::vector<RetiredResource> TakePassHeld()
    {
        std::lock_guard lock(m_PassHoldMutex);
        return std::exchange(m_PassHeld, {});
    }

    /// Frees the empty blocks that VMA keeps, in every pool and the default pools. The caller holds
    /// no lock of ours below the move gate.
    ReleasedMemory ReleaseEmptyBlocks();
    /// What a full compaction could give back (AllocationStats::reclaimableBytes), from VMA's heap
    /// budgets (`heapBudgets`: vmaGetHeapBudgets' output) and the pools' statistics. O(pools +
    /// blocks): no walk over allocations.
    uint64_t ReclaimableBytes(const VmaBudget* heapBudgets);
    /// The same figure from given sources: the size-class pools' free bytes per heap (`pools`) and
    /// each heap's free bytes in blocks (`heapFreeBytes`); CalculateStats feeds it from VMA's walk.
    uint64_t ReclaimableBytes(const std::array<PoolSet::HeapFootprint, VK_MAX_MEMORY_HEAPS>& pools,
                              const std::array<VkDeviceSize, VK_MAX_MEMORY_HEAPS>& heapFreeBytes) const;

    /// The library's own allocations (staging buffers), counted under kInternalTag and in `usage`
    /// from their creation to their destruction, so that the tags add up to VMA's allocations.
    TagCounters* internalCounters = AcquireTagCounters(kInternalTag);
    /// Staging buffers: from the cache, or new (no log line: the transfer that asked writes it).
    VkResult AcquireStaging(VkDeviceSize size, StagingBuffer& out);
    /// The heap VMA places staging buffers in; -1 when no memory type suits.
    int StagingHeapIndex() const;
    void ReleaseStaging(const StagingBuffer& staging);
    /// Destroys the cached staging buffers; returns their bytes.
    VkDeviceSize DropStagingCache();

    /// The move gate: a defragmentation pass holds it; releases of retired and cached resources
    /// wait for it, since VMA may have proposed moving them in the pass.
    [[nodiscard]] std::unique_lock<OrderedMutex<LockLevel::MoveGate>> HoldMoveGate()
    {
        return std::unique_lock(m_MoveGate);
    }
    /// Uploads and readbacks hold this shared from the handle lookup to the end of the copy. They
    /// pass the turnstile first, so that a pass waiting for the gate is not starved by transfers
    /// that keep overlapping (a shared mutex lets new readers in ahead of a waiting writer).
    [[nodiscard]] std::shared_lock<OrderedMutex<LockLevel::Transfer, std::shared_mutex>> HoldTransfer()
    {
        {
            std::lock_guard turn(m_TransferTurnstile);
        }
        return std::shared_lock(m_TransferGate);
    }
    /// Holds the transfer gate exclusively (a pass, from planning to commit): no upload or readback
    /// touches a resource while it moves. Takes the turnstile while it waits, as below.
    [[nodiscard]] std::unique_lock<OrderedMutex<LockLevel::Transfer, std::shared_mutex>>
    HoldTransfersExclusive()
    {
        std::unique_lock turn(m_TransferTurnstile);
        return std::unique_lock(m_TransferGate);
    }
    /// Runs `fn(find)` with no transfer in flight and every registry shard locked (a pass; the
    /// caller holds the move gate): nothing is registered, freed or read meanwhile. It holds the
    /// turnstile while it waits for the transfers in flight, so that no new one starts meanwhile.
    template <class Fn>
    void WithMovesExclusive(Fn&& fn)
    {
        std::unique_lock turn(m_TransferTurnstile);
        std::unique_lock transfers(m_TransferGate);
        turn.unlock();
        registry.WithAllLocked(std::forward<Fn>(fn));
    }

private:
    MemorySystem(const Ref<VulkanDevice>& device, const AllocatorSettings& settings);
    static void ReportNotInitialized(const char* call, std::string_view tag);
    static inline std::atomic<MemorySystem*> s_Live{nullptr}; // published by Create, cleared by Destroy
    void ReleaseAtShutdown();

    OrderedMutex<LockLevel::MoveGate> m_MoveGate;
    OrderedMutex<LockLevel::Transfer, std::shared_mutex> m_TransferGate;
    OrderedMutex<LockLevel::Transfer> m_TransferTurnstile; // see HoldTransfer
    OrderedMutex<LockLevel::PassHold> m_PassHoldMutex;
    std::vector<RetiredResource> m_PassHeld;
    std::vector<VmaAllocation> m_Pinned;
    std::atomic<bool> m_AnyPinned{false};
};

} // namespace SceneryEditorX::detail
