#pragma once
// Residency: the eviction protocol (evictable registrations, eviction rounds) and the simulated
// memory budget presented to VMA where the device lacks VK_EXT_memory_budget. Owns its registrations
// and its lock; asks the library's caches through MemorySystem. See docs/ARCHITECTURE.md, "Budget".

#include "LockOrder.h"
#include "MemoryCommon.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <vector>

namespace SceneryEditorX::detail
{
class MemorySystem;

class Residency
{
public:
    uint64_t Register(MemorySystem& system, VmaAllocation allocation, uint32_t rank, EvictionCallback release,
                      std::string& error);
    bool Touch(uint64_t id, uint64_t frame);
    bool SetRank(uint64_t id, uint32_t rank);
    bool Unregister(uint64_t id);
    size_t Count() const;
    /// One round (see MemoryAllocator::MakeRoom). `reentrant` is true on a thread that is inside an
    /// owner's callback: then only the caches shrink.
    EvictionRound MakeRoom(MemorySystem& system, uint32_t heapIndex, VkDeviceSize bytes, uint32_t rankLimit,
                           PressureReason reason);
    EvictionRound LastRound() const;
    /// After a frame's budget refresh: a round for each heap whose usage is above its budget.
    void CheckBudgetFell(MemorySystem& system);
    /// An instance's usage crossed `threshold` upwards: a round for each device-local heap above it.
    void ThresholdCrossed(MemorySystem& system, float threshold);

private:
    struct Entry
    {
        VmaAllocation allocation = nullptr;
        uint32_t heapIndex = 0;
        VkDeviceSize size = 0;
        uint32_t rank = 0;
        uint64_t lastUsedFrame = 0;
        bool asked = false; // a round is asking its owner now
        EvictionCallback release;
    };
    mutable OrderedMutex<LockLevel::Callbacks> m_Mutex;
    std::map<uint64_t, Entry> m_Entries; // by id: registration order
    uint64_t m_NextId = 1;
    EvictionRound m_LastRound;
};

/// After a placement failed with `result`: with AllocationFlags::MakeRoom and an out-of-memory result
/// on a known heap, one eviction round for `bytes`. True when memory came back now (try once more).
/// Appends the round to `note` (for the error line).
bool MakeRoomAfterFailure(MemorySystem& system, VkResult result, int heap, VkDeviceSize bytes,
                          const AllocationCreateInfo& createInfo, std::string& note);

// ------------------------------------------------------------------ device memory and budget hooks
/// Set at Init, cleared at Shutdown: the per-heap VkDeviceMemory counters, the settings' callback
/// and the simulated budget.
void ResetDeviceMemoryHooks(const AllocatorSettings& settings, const VkPhysicalDeviceMemoryProperties& props);
void OnDeviceMemoryAllocated(VmaAllocator allocator, uint32_t memoryType, VkDeviceSize size);
void OnDeviceMemoryFreed(VmaAllocator allocator, uint32_t memoryType, VkDeviceSize size);
/// VkDeviceMemory bytes that VMA holds on `heapIndex` now (all of VMA's vkAllocateMemory calls).
VkDeviceSize DeviceMemoryBytes(uint32_t heapIndex);
bool SetSimulatedBudget(uint32_t heapIndex, VkDeviceSize bytes);
/// The vkGetPhysicalDeviceMemoryProperties2 that VMA gets with AllocatorSettings::simulateMemoryBudget.
PFN_vkGetPhysicalDeviceMemoryProperties2KHR SimulatedBudgetProperties2();

} // namespace SceneryEditorX::detail
