// The SpeedOptimized buffer-reuse cache. VMA creates and destroys a VkBuffer for every request
// (VMA issue #453), so an allocator built on it cannot go below the driver's own create/bind/destroy
// cost. SpeedOptimized instead keeps a freed buffer with its memory and hands both to a later request
// of the same key: usage, create flags, memory usage and flags, alignment and size class.
#include "ReuseCache.h"

#include <SceneryEditorX/Core/Log.h>

#include <algorithm>
#include <bit>
#include <new>

namespace SceneryEditorX::detail
{

namespace
{
// splitmix64's finalizer over h combined with v.
uint64_t Mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    return h;
}
} // namespace

void ReuseKey::SealBase()
{
    uint64_t h = Mix(0, (uint64_t(bufferUsage) << 32) | createFlags);
    h = Mix(h, (uint64_t(memoryUsage) << 32) | allocationFlags);
    h = Mix(h, (uint64_t(requiredFlags) << 32) | preferredFlags);
    h = Mix(h, alignment);
    baseHash = h;
}

void ReuseKey::SetClass(VkDeviceSize size)
{
    classSize = size;
    hash = static_cast<size_t>(Mix(baseHash, size));
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

namespace
{
// A shard's credit comes in chunks of 1/64 of the cap (1 MiB of the default 64 MiB: more than most
// buffers the cache serves, so a steady churn reserves once; a larger buffer reserves on each Put
// and gives back on each Take), and a shard keeps at most one chunk it does not use. Up to 16
// shards can thus hold a quarter of the cap reserved but empty; a Put that finds the rest taken
// destroys its buffer, as when the cap is full.
uint64_t CreditChunk(VkDeviceSize capBytes)
{
    return std::max<uint64_t>(capBytes / 64, 1);
}
} // namespace

bool ReuseCache::TakeFrom(Shard& s, const ReuseKey& key, CachedBuffer& out, VkDeviceSize capBytes)
{
    auto it = s.lists.find(key);
    if (it == s.lists.end() || it->second.empty())
        return false;
    out = it->second.back();
    it->second.pop_back();
    s.count.store(s.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    const uint64_t bytes = s.bytes.load(std::memory_order_relaxed) - out.size;
    s.bytes.store(bytes, std::memory_order_relaxed);
    // Give back what is reserved beyond one idle chunk, so that other threads can cache it.
    const uint64_t keep = bytes + CreditChunk(capBytes);
    if (s.credit > keep)
    {
        m_Reserved.fetch_sub(s.credit - keep, std::memory_order_relaxed);
        s.credit = keep;
    }
    return true;
}

bool ReuseCache::Take(const ReuseKey& key, CachedBuffer& out, VkDeviceSize capBytes)
{
    const size_t mine = ThisThreadStripe();
    {
        Shard& s = m_Shards[mine];
        std::lock_guard lock(s.mutex);
        if (TakeFrom(s, key, out, capBytes))
            return true;
    }
    // Buffers freed on other threads (one thread streams in, another frees): look at the shards
    // that hold anything.
    for (size_t k = 1; k < kShards; ++k)
    {
        Shard& s = m_Shards[(mine + k) % kShards];
        if (s.count.load(std::memory_order_relaxed) == 0)
            continue;
        std::lock_guard lock(s.mutex);
        if (TakeFrom(s, key, out, capBytes))
            return true;
    }
    return false;
}

uint64_t ReuseCache::Bytes() const
{
    uint64_t n = 0;
    for (const Shard& s : m_Shards)
        n += s.bytes.load(std::memory_order_relaxed);
    return n;
}

uint64_t ReuseCache::Count() const
{
    uint64_t n = 0;
    for (const Shard& s : m_Shards)
        n += s.count.load(std::memory_order_relaxed);
    return n;
}

uint64_t ReuseCache::Reserve(Shard& s, uint64_t need, VkDeviceSize capBytes)
{
    // A chunk if the cap allows it, else exactly what this buffer needs.
    for (const uint64_t grant : {std::max(need, CreditChunk(capBytes)), need})
    {
        const uint64_t after = m_Reserved.fetch_add(grant, std::memory_order_relaxed) + grant;
        if (after <= capBytes)
        {
            s.credit += grant;
            return grant;
        }
        m_Reserved.fetch_sub(grant, std::memory_order_relaxed);
    }
    return 0;
}

bool ReuseCache::Put(const ReuseKey& key, const CachedBuffer& buffer, VkDeviceSize capBytes)
{
    Shard& s = m_Shards[ThisThreadStripe()];
    std::lock_guard lock(s.mutex);
    if (m_Closed.load(std::memory_order_acquire))
        return false;
    const uint64_t bytes = s.bytes.load(std::memory_order_relaxed) + buffer.size;
    if (bytes > s.credit && Reserve(s, bytes - s.credit, capBytes) == 0)
        return false;
    // This runs inside DestroyBuffer, which must not throw: without memory for the list entry, the
    // buffer is destroyed instead (the credit stays with the shard for the next Put).
    try
    {
        s.lists[key].push_back(buffer);
    }
    catch (const std::bad_alloc&)
    {
        return false;
    }
    s.bytes.store(bytes, std::memory_order_relaxed);
    s.count.store(s.count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return true;
}

} // namespace SceneryEditorX::detail
