// PoolSet: size-class pools, their block sizes, and the memory-type cache (PoolSet.h).
#include "PoolSet.h"

#include <SceneryEditorX/Core/Log.h>

#include <algorithm>

namespace SceneryEditorX::detail
{
namespace
{
std::atomic<VkDeviceSize> s_CustomLargeBlockSize{0}; // 0: settings.poolBlockSizes[Large]
// Bumped by every Attach: a thread's last memory-type answer (below) is only good for the set, and
// the device, it was given for.
std::atomic<uint64_t> s_AttachEpoch{0};
// A thread's last buffer memory-type answer. Requests of one kind come in runs, and the hit skips
// the shared lock and the hash lookup (callgrind: 139 instructions a call before, about 15 now).
struct LastBufferType
{
    uint64_t epoch = 0;
    uint64_t key = 0;
    uint32_t type = 0;
};
thread_local LastBufferType t_LastBufferType;

constexpr VmaAllocationCreateFlags kHostAccessMask =
    VMA_ALLOCATION_CREATE_HOST_ACCESS_SEQUENTIAL_WRITE_BIT | VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT;
} // namespace

std::optional<SizeClass> SizeClassOf(VkDeviceSize size)
{
    if (size <= SMALL_BUFFER_SIZE)
        return SizeClass::Small;
    if (size <= MEDIUM_BUFFER_SIZE)
        return SizeClass::Medium;
    if (size <= LARGE_BUFFER_SIZE)
        return SizeClass::Large;
    return std::nullopt;
}

VkDeviceSize ClassSize(SizeClass sizeClass)
{
    static constexpr VkDeviceSize kClassSize[] = {SMALL_BUFFER_SIZE, MEDIUM_BUFFER_SIZE, LARGE_BUFFER_SIZE};
    return kClassSize[static_cast<size_t>(sizeClass)];
}

void PoolSet::Attach(VmaAllocator allocator, const VkPhysicalDeviceMemoryProperties& memoryProperties,
                     const AllocatorSettings& settings)
{
    m_Allocator = allocator;
    m_MemoryProperties = &memoryProperties;
    m_Settings = &settings;
    m_Epoch = s_AttachEpoch.fetch_add(1, std::memory_order_relaxed) + 1;
}

VkDeviceSize PoolSet::BlockSize(uint32_t memoryTypeIndex, SizeClass sizeClass) const
{
    if (sizeClass == SizeClass::Large)
        if (VkDeviceSize custom = s_CustomLargeBlockSize.load(std::memory_order_relaxed))
            return custom;
    return SettingsBlockSize(memoryTypeIndex, sizeClass);
}

VkDeviceSize PoolSet::ImageBlockSize(uint32_t memoryTypeIndex) const
{
    const VkDeviceSize heapSize =
        m_MemoryProperties->memoryHeaps[m_MemoryProperties->memoryTypes[memoryTypeIndex].heapIndex].size;
    return std::min(kImagePoolBlockSize, std::max(MEDIUM_BUFFER_SIZE, heapSize / 8));
}

VkDeviceSize PoolSet::SettingsBlockSize(uint32_t memoryTypeIndex, SizeClass sizeClass) const
{
    // Like VMA's default pools, keep blocks to an eighth of a small heap (after any heap size
    // limit), but never below the class size, so that one block cannot take a small heap.
    const VkDeviceSize heapSize =
        m_MemoryProperties->memoryHeaps[m_MemoryProperties->memoryTypes[memoryTypeIndex].heapIndex].size;
    const VkDeviceSize configured = m_Settings->poolBlockSizes[static_cast<size_t>(sizeClass)];
    return std::min(configured, std::max(ClassSize(sizeClass), heapSize / 8));
}

VmaPool PoolSet::Create(uint32_t memoryTypeIndex, SizeClass sizeClass, PoolKind kind)
{
    std::atomic<VmaPool>& slot = m_Pools[memoryTypeIndex][Slot(sizeClass, kind)];
    std::lock_guard lock(m_PoolMutex);
    if (VmaPool pool = slot.load(std::memory_order_acquire))
        return pool;
    VmaPoolCreateInfo info{};
    info.memoryTypeIndex = memoryTypeIndex;
    info.blockSize =
        kind == PoolKind::Image ? ImageBlockSize(memoryTypeIndex) : BlockSize(memoryTypeIndex, sizeClass);
    info.priority = 0.5f;
    VmaPool pool = nullptr;
    if (VkResult r = vmaCreatePool(m_Allocator, &info, &pool); r != VK_SUCCESS)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "creating the {} pool on memory type {} failed: {}",
                            kind == PoolKind::Image
                                ? std::string("image")
                                : fmt::format("size-class {}", static_cast<int>(sizeClass)),
                            memoryTypeIndex, VkResultName(r));
        return nullptr;
    }
    static constexpr const char* kNames[] = {"sedx:small", "sedx:medium", "sedx:large", "sedx:image"};
    vmaSetPoolName(m_Allocator, pool, kNames[Slot(sizeClass, kind)]);
    slot.store(pool, std::memory_order_release);
    return pool;
}

template <class Cache, class Find>
VkResult PoolSet::CachedMemoryType(Cache& cache, const typename Cache::key_type& key,
                                   const VmaAllocationCreateInfo& aci, uint32_t& outType, Find&& find)
{
    {
        std::shared_lock lock(m_TypeCacheMutex);
        if (auto it = cache.find(key); it != cache.end())
        {
            outType = it->second;
            return VK_SUCCESS;
        }
    }
    VmaAllocationCreateInfo probe = aci;
    probe.flags &= kHostAccessMask;
    const VkResult r = find(probe, outType);
    if (r == VK_SUCCESS)
    {
        std::unique_lock lock(m_TypeCacheMutex);
        cache.emplace(key, outType);
    }
    return r;
}

VkResult PoolSet::FindBufferMemoryType(const VkBufferCreateInfo& info, const VmaAllocationCreateInfo& aci,
                                       uint32_t& outType)
{
    const uint64_t key =
        uint64_t(info.usage) | (uint64_t(aci.usage & 0xF) << 32) |
        (uint64_t((aci.flags & kHostAccessMask) ? ((aci.flags & kHostAccessMask) >> 10) : 0) << 36) |
        (uint64_t(aci.requiredFlags & 0x1FF) << 39) | (uint64_t(aci.preferredFlags & 0x1FF) << 48) |
        (uint64_t(info.sharingMode == VK_SHARING_MODE_CONCURRENT) << 57);
    LastBufferType& last = t_LastBufferType;
    if (last.epoch == m_Epoch && last.key == key) [[likely]]
    {
        outType = last.type;
        return VK_SUCCESS;
    }
    const VkResult r =
        CachedMemoryType(m_BufferTypeCache, key, aci, outType,
                         [&](const VmaAllocationCreateInfo& probe, uint32_t& type)
                         { return vmaFindMemoryTypeIndexForBufferInfo(m_Allocator, &info, &probe, &type); });
    if (r == VK_SUCCESS)
        last = LastBufferType{m_Epoch, key, outType};
    return r;
}

VkResult PoolSet::FindImageMemoryType(const VkImageCreateInfo& info, const VmaAllocationCreateInfo& aci,
                                      uint32_t& outType)
{
    // Everything that decides the memory type bits of an image, and VMA's choice among them.
    const std::array<uint64_t, 3> key{
        uint64_t(info.format) | (uint64_t(info.tiling & 0x3) << 32) | (uint64_t(info.samples & 0x7F) << 34) |
            (uint64_t(info.imageType & 0x3) << 41) |
            (uint64_t(info.sharingMode == VK_SHARING_MODE_CONCURRENT) << 43),
        uint64_t(info.usage) | (uint64_t(info.flags) << 32),
        uint64_t(aci.usage & 0xF) | (uint64_t((aci.flags & kHostAccessMask) >> 10) << 4) |
            (uint64_t(aci.requiredFlags & 0x1FF) << 8) | (uint64_t(aci.preferredFlags & 0x1FF) << 17)};
    return CachedMemoryType(m_ImageTypeCache, key, aci, outType,
                            [&](const VmaAllocationCreateInfo& probe, uint32_t& type) {
                                return vmaFindMemoryTypeIndexForImageInfo(m_Allocator, &info, &probe, &type);
                            });
}

void PoolSet::SetCustomLargeBlockSize(VkDeviceSize size)
{
    s_CustomLargeBlockSize.store(size, std::memory_order_relaxed);
}

VkDeviceSize PoolSet::CustomLargeBlockSize()
{
    return s_CustomLargeBlockSize.load(std::memory_order_relaxed);
}

void PoolSet::RetireLargePools()
{
    std::lock_guard lock(m_PoolMutex);
    for (auto& perType : m_Pools)
        if (VmaPool old = perType[static_cast<size_t>(SizeClass::Large)].exchange(nullptr))
            m_ReplacedPools.emplace_back(old, static_cast<uint32_t>(&perType - m_Pools.data()));
}

void PoolSet::DestroyAll()
{
    std::lock_guard lock(m_PoolMutex);
    for (auto& perType : m_Pools)
        for (auto& slot : perType)
            if (VmaPool pool = slot.exchange(nullptr))
                vmaDestroyPool(m_Allocator, pool);
    for (auto& [pool, type] : m_ReplacedPools)
        vmaDestroyPool(m_Allocator, pool);
    m_ReplacedPools.clear();
}

template <class Fn>
void PoolSet::ForEachPool(Fn&& fn)
{
    std::lock_guard lock(m_PoolMutex);
    for (size_t type = 0; type < m_Pools.size(); ++type)
        for (auto& slot : m_Pools[type])
            if (VmaPool pool = slot.load(std::memory_order_acquire))
                fn(pool, static_cast<uint32_t>(type));
    for (auto& [pool, type] : m_ReplacedPools)
        fn(pool, type);
}

void PoolSet::Footprint(std::array<HeapFootprint, VK_MAX_MEMORY_HEAPS>& perHeap)
{
    if (!m_Allocator)
        return;
    ForEachPool(
        [&](VmaPool pool, uint32_t type)
        {
            VmaStatistics stats{};
            vmaGetPoolStatistics(m_Allocator, pool, &stats);
            if (stats.blockCount == 0)
                return;
            // A pool's blocks all have its block size.
            const VkDeviceSize blockSize = stats.blockBytes / stats.blockCount;
            const VkDeviceSize free = stats.blockBytes - stats.allocationBytes;
            HeapFootprint& heap = perHeap[m_MemoryProperties->memoryTypes[type].heapIndex];
            heap.freeBytes += free;
            heap.reclaimableBytes += free / blockSize * blockSize;
        });
}

void PoolSet::ReleaseEmptyBlocks(size_t& blocks, VkDeviceSize& bytes)
{
    if (!m_Allocator)
        return;
    ForEachPool(
        [&](VmaPool pool, uint32_t)
        {
            size_t released = 0;
            VkDeviceSize releasedBytes = 0;
            vmaReleaseEmptyBlocks(m_Allocator, pool, &released, &releasedBytes);
            blocks += released;
            bytes += releasedBytes;
        });
}

} // namespace SceneryEditorX::detail
