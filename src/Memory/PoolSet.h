#pragma once
// PoolSet: the size-class pools (one VMA custom pool per memory type and size class, created on
// first use), their block sizes, and the memory type of each kind of buffer request (cached: VMA's
// search creates a temporary buffer). Owns its pools and both locks.

#include "LockOrder.h"
#include "MemoryCommon.h"

#include <array>
#include <atomic>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

namespace SceneryEditorX::detail
{

/// The spec's size classes: a buffer whose memory requirement fits SMALL_BUFFER_SIZE goes to the
/// small pool of its memory type, and so on. Larger requests, dedicated allocations and pNext
/// chains have no class (std::nullopt) and go to VMA's default pools.
enum class SizeClass : uint8_t
{
    Small,
    Medium,
    Large
};
inline constexpr size_t kSizeClassCount = 3;

/// What a pool holds: buffers (one pool per memory type and size class), or images (optimal or
/// linear tiling; VMA keeps the two apart within a block by bufferImageGranularity). Images up to
/// LARGE_BUFFER_SIZE of data get one pool per memory type with an explicit block size
/// (kImagePoolBlockSize), so that every block of the pool has one size and a compaction can empty
/// whole blocks (VMA's default pools grow their blocks from an eighth of the preferred size, and
/// the big kept blocks hold what a run cannot give back). One pool for every image size, not one
/// per class: small images fill the gaps between large ones, and a few textures do not hold a
/// block per class.
enum class PoolKind : uint8_t
{
    Buffer,
    Image
};
/// Block size of the image pools: twice the largest image they take, so that one such image
/// leaves at most half a block unused; capped like the buffer pools at an eighth of a small heap
/// (after any heap size limit) but never below MEDIUM_BUFFER_SIZE. An image pool takes images of up
/// to half its block size (ImageBlockSize); larger ones go to VMA's default pools.
inline constexpr VkDeviceSize kImagePoolBlockSize = 2 * LARGE_BUFFER_SIZE;

/// The class of a memory requirement of `size` bytes, or none above LARGE_BUFFER_SIZE.
std::optional<SizeClass> SizeClassOf(VkDeviceSize size);
/// The largest size of a class (SMALL_BUFFER_SIZE, MEDIUM_BUFFER_SIZE, LARGE_BUFFER_SIZE).
VkDeviceSize ClassSize(SizeClass sizeClass);

class PoolSet
{
public:
    /// `memoryProperties` after the heap size limits; both must outlive the set.
    void Attach(VmaAllocator allocator, const VkPhysicalDeviceMemoryProperties& memoryProperties,
                const AllocatorSettings& settings);

    /// The pool of a memory type and class (buffers; images have one pool whatever the class),
    /// created on first use; null when VMA refuses to make it
    /// (logged). Lock-free once the pool exists.
    VmaPool Get(uint32_t memoryTypeIndex, SizeClass sizeClass, PoolKind kind = PoolKind::Buffer)
    {
        if (VmaPool pool = m_Pools[memoryTypeIndex][Slot(sizeClass, kind)].load(std::memory_order_acquire))
            [[likely]]
            return pool;
        return Create(memoryTypeIndex, sizeClass, kind);
    }

    /// The memory type VMA picks for a buffer request (`aci`'s usage, host-access and property
    /// flags), cached per kind of request.
    VkResult FindBufferMemoryType(const VkBufferCreateInfo& info, const VmaAllocationCreateInfo& aci,
                                  uint32_t& outType);
    /// The memory type VMA picks for an image request (format, tiling, flags, usage and `aci`'s
    /// usage, host-access and property flags), cached per kind of request.
    VkResult FindImageMemoryType(const VkImageCreateInfo& info, const VmaAllocationCreateInfo& aci,
                                 uint32_t& outType);

    /// Block size of the large pools made from now on (SetCustomBufferSize), process-wide until
    /// Shutdown; 0 restores the settings' size. Pools already made keep theirs (replaced, then
    /// destroyed at Shutdown) when a set is attached.
    static void SetCustomLargeBlockSize(VkDeviceSize size);
    static VkDeviceSize CustomLargeBlockSize();
    void RetireLargePools();

    /// Destroys every pool (Shutdown).
    void DestroyAll();

    /// Per heap: the bytes a full compaction of the pools could give back (per pool,
    /// floor(free / block size) whole blocks), and the pools' free bytes. O(pools + blocks) through
    /// vmaGetPoolStatistics; no walk over allocations.
    struct HeapFootprint
    {
        VkDeviceSize reclaimableBytes = 0;
        VkDeviceSize freeBytes = 0;
    };
    void Footprint(std::array<HeapFootprint, VK_MAX_MEMORY_HEAPS>& perHeap);
    /// Frees the empty blocks of every pool (vmaReleaseEmptyBlocks); adds what it freed.
    void ReleaseEmptyBlocks(size_t& blocks, VkDeviceSize& bytes);
    /// Block size of the image pool of a memory type (kImagePoolBlockSize, or less on a small heap).
    VkDeviceSize ImageBlockSize(uint32_t memoryTypeIndex) const;

private:
    // The buffer pools by class, then the one image pool.
    static size_t Slot(SizeClass sizeClass, PoolKind kind)
    {
        return kind == PoolKind::Image ? kSizeClassCount : static_cast<size_t>(sizeClass);
    }
    VmaPool Create(uint32_t memoryTypeIndex, SizeClass sizeClass, PoolKind kind);
    /// The type cached under `key` in `cache`, else `find(probe, type)` with `aci`'s host-access
    /// flags only (the rest do not change VMA's choice), whose answer is cached.
    template <class Cache, class Find>
    VkResult CachedMemoryType(Cache& cache, const typename Cache::key_type& key,
                              const VmaAllocationCreateInfo& aci, uint32_t& outType, Find&& find);
    VkDeviceSize BlockSize(uint32_t memoryTypeIndex, SizeClass sizeClass) const;
    VkDeviceSize SettingsBlockSize(uint32_t memoryTypeIndex, SizeClass sizeClass) const;

    VmaAllocator m_Allocator = nullptr;
    const VkPhysicalDeviceMemoryProperties* m_MemoryProperties = nullptr;
    const AllocatorSettings* m_Settings = nullptr;
    uint64_t m_Epoch = 0; // this attachment's number (never 0 once attached); see FindBufferMemoryType
    // [memory type][Slot(class, kind)]. Written under m_PoolMutex, read lock-free.
    std::array<std::array<std::atomic<VmaPool>, kSizeClassCount + 1>, VK_MAX_MEMORY_TYPES> m_Pools{};
    OrderedMutex<LockLevel::PoolCreation> m_PoolMutex;
    // Large pools replaced by SetCustomBufferSize, with their memory type.
    std::vector<std::pair<VmaPool, uint32_t>> m_ReplacedPools;

    // Calls fn(pool, memoryTypeIndex) for every pool, under m_PoolMutex.
    template <class Fn>
    void ForEachPool(Fn&& fn);
    OrderedMutex<LockLevel::MemoryTypeCache, std::shared_mutex> m_TypeCacheMutex;
    std::unordered_map<uint64_t, uint32_t> m_BufferTypeCache;
    std::map<std::array<uint64_t, 3>, uint32_t> m_ImageTypeCache;
};

} // namespace SceneryEditorX::detail
