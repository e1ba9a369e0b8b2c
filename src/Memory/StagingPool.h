#pragma once
// StagingPool: the cache of host-visible staging buffers that uploads and readbacks go through,
// bounded by AllocatorSettings::stagingCacheBytes. Owns the cached buffers and its lock; making and
// destroying them is MemorySystem's (AcquireStaging, ReleaseStaging).

#include "LockOrder.h"
#include "MemoryCommon.h"

#include <vector>

namespace SceneryEditorX::detail
{

/// A staging buffer: persistently mapped, TRANSFER_SRC and TRANSFER_DST.
struct StagingBuffer
{
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = nullptr;
    VkDeviceSize size = 0;
    VkDeviceSize allocationBytes = 0; // VMA's size of the allocation (the used figures count it)
    void* mapped = nullptr;
};

class StagingPool
{
public:
    /// Takes the smallest cached buffer of at least `size` bytes; false when there is none.
    bool Take(VkDeviceSize size, StagingBuffer& out);
    /// Keeps `staging` unless the cache would then hold more than `capBytes`; false otherwise (the
    /// caller destroys it).
    bool Keep(const StagingBuffer& staging, VkDeviceSize capBytes);
    /// Empties the cache and returns what it held (to be destroyed).
    std::vector<StagingBuffer> TakeAll();

private:
    OrderedMutex<LockLevel::Staging> m_Mutex;
    std::vector<StagingBuffer> m_Free;
    VkDeviceSize m_FreeBytes = 0;
};

} // namespace SceneryEditorX::detail
