// The SpeedOptimized buffer-reuse cache. VMA creates and destroys a VkBuffer for every request
// (VMA issue #453), so an allocator built on it cannot go below the driver's own create/bind/destroy
// cost. SpeedOptimized instead keeps a freed buffer with its memory and hands both to a later request
// of the same key: usage, create flags, memory usage and flags, alignment and size class.
#include "AllocatorData.h"

#include <SceneryEditorX/Core/Log.h>

#include <bit>
#include <new>

namespace SceneryEditorX::detail
{

void ReuseKey::Seal()
{
    // A 64-bit mix of the fields (splitmix64's finalizer after each one).
    auto mix = [](uint64_t h, uint64_t v)
    {
        h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
        h ^= h >> 30;
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 27;
        return h;
    };
    uint64_t h = mix(0, classSize);
    h = mix(h, (uint64_t(bufferUsage) << 32) | createFlags);
    h = mix(h, (uint64_t(memoryUsage) << 32) | allocationFlags);
    h = mix(h, (uint64_t(requiredFlags) << 32) | preferredFlags);
    h = mix(h, alignment);
    hash = static_cast<size_t>(h);
}

VkDeviceSize ReuseClassSize(VkDeviceSize size)
{
    constexpr VkDeviceSize kMinStep = 256;
    if (size == 0 || size > LARGE_BUFFER_SIZE)
        return 0;
    // size in (2^(k-1), 2^k]: steps of 2^(k-3), four classes per octave.
    const VkDeviceSize octave = std::bit_ceil(size);
    const VkDeviceSize step = std::max(kMinStep, octave / 8);
    return (size + step - 1) / step * step;
}

bool ReuseCache::Take(const ReuseKey& key, CachedBuffer& out)
{
    Shard& s = ShardFor(key);
    std::lock_guard lock(s.mutex);
    auto it = s.lists.find(key);
    if (it == s.lists.end() || it->second.empty())
        return false;
    out = it->second.back();
    it->second.pop_back();
    s.count.store(s.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    m_Bytes.fetch_sub(out.size, std::memory_order_relaxed);
    return true;
}

uint64_t ReuseCache::Count() const
{
    uint64_t n = 0;
    for (const Shard& s : m_Shards)
        n += s.count.load(std::memory_order_relaxed);
    return n;
}

bool ReuseCache::Put(const ReuseKey& key, const CachedBuffer& buffer, VkDeviceSize capBytes,
                     const std::atomic<bool>& closed)
{
    // Reserve the bytes first, so that threads putting at once never overshoot the cap together.
    const uint64_t after = m_Bytes.fetch_add(buffer.size, std::memory_order_relaxed) + buffer.size;
    if (after > capBytes)
    {
        m_Bytes.fetch_sub(buffer.size, std::memory_order_relaxed);
        return false;
    }
    Shard& s = ShardFor(key);
    std::lock_guard lock(s.mutex);
    bool kept = false;
    if (!closed.load(std::memory_order_acquire))
    {
        // This runs inside DestroyBuffer, which must not throw: without memory for the list entry,
        // the buffer is destroyed instead.
        try
        {
            s.lists[key].push_back(buffer);
            kept = true;
        }
        catch (const std::bad_alloc&)
        {
        }
    }
    if (!kept)
    {
        m_Bytes.fetch_sub(buffer.size, std::memory_order_relaxed);
        return false;
    }
    s.count.store(s.count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return true;
}

std::vector<CachedBuffer> ReuseCache::TakeAll()
{
    std::vector<CachedBuffer> out;
    for (Shard& s : m_Shards)
    {
        std::lock_guard lock(s.mutex);
        for (auto& [key, list] : s.lists)
            for (const CachedBuffer& b : list)
            {
                out.push_back(b);
                m_Bytes.fetch_sub(b.size, std::memory_order_relaxed);
            }
        s.lists.clear();
        s.count.store(0, std::memory_order_relaxed);
    }
    return out;
}

void CacheOrDestroy(VulkanAllocatorData& d, const ReuseKey& key, const CachedBuffer& buffer)
{
    // The buffer is freed instead of cached:
    // - while an instance is above its warning threshold (memory is short);
    // - during a defragmentation session: VMA would propose moving the cached allocation, and the pass
    //   would have to skip it (it is in no registry), pinning its block. Put reads the session flag
    //   under the shard's lock; BeginDefragmentation sets it before it empties the shards, so a buffer
    //   put during the session cannot stay behind.
    if (AnyInstanceAboveThreshold() ||
        !d.reuseCache.Put(key, buffer, d.settings.bufferReuseCacheBytes, d.defragOpen))
        DestroyResourceNow(d, ResourceKind::Buffer, buffer.buffer, VK_NULL_HANDLE, buffer.allocation);
}

size_t ReleaseReuseCache(VulkanAllocatorData& d)
{
    // Between defragmentation passes only: a pass may hold a move of an allocation that slipped into
    // the cache just as the session opened (the pass skips it, but it must not be freed under it).
    std::lock_guard passLock(d.defragPassMutex);
    const std::vector<CachedBuffer> all = d.reuseCache.TakeAll();
    for (const CachedBuffer& b : all)
        DestroyResourceNow(d, ResourceKind::Buffer, b.buffer, VK_NULL_HANDLE, b.allocation);
    return all.size();
}

} // namespace SceneryEditorX::detail

namespace SceneryEditorX
{
size_t MemoryAllocator::ReleaseReuseCache()
{
    detail::VulkanAllocatorData* d = detail::Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(detail::kAllocTag, "ReleaseReuseCache called before Init or after Shutdown");
        return 0;
    }
    const size_t released = detail::ReleaseReuseCache(*d);
    if (released)
        SEDX_CORE_TRACE_TAG(detail::kAllocTag, "released {} cached SpeedOptimized buffers", released);
    return released;
}
} // namespace SceneryEditorX
