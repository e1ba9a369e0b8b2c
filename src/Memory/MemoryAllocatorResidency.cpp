// MemoryAllocator: the residency calls (evictable registrations, eviction rounds, the simulated
// budget). The protocol lives in Residency.cpp.
#include "MemorySystem.h"

#include <SceneryEditorX/Core/Log.h>

namespace SceneryEditorX
{
using namespace detail;

uint64_t MemoryAllocator::RegisterEvictable(VmaAllocation allocation, uint32_t rank, EvictionCallback release)
{
    MemorySystem* system = MemorySystem::Require("RegisterEvictable");
    if (!system)
        return 0;
    std::string error;
    const uint64_t id = system->residency.Register(*system, allocation, rank, std::move(release), error);
    if (!id)
        SEDX_CORE_ERROR_TAG(kAllocTag, "RegisterEvictable(rank {}) failed: {}", rank, error);
    return id;
}

bool MemoryAllocator::TouchEvictable(uint64_t id, uint64_t frame)
{
    MemorySystem* system = MemorySystem::Require("TouchEvictable");
    if (!system)
        return false;
    if (system->residency.Touch(id, frame))
        return true;
    SEDX_CORE_ERROR_TAG(kAllocTag, "TouchEvictable({}, frame {}) failed: not a registered evictable", id,
                        frame);
    return false;
}

bool MemoryAllocator::SetEvictableRank(uint64_t id, uint32_t rank)
{
    MemorySystem* system = MemorySystem::Require("SetEvictableRank");
    if (!system)
        return false;
    if (system->residency.SetRank(id, rank))
        return true;
    SEDX_CORE_ERROR_TAG(kAllocTag, "SetEvictableRank({}, {}) failed: not a registered evictable", id, rank);
    return false;
}

bool MemoryAllocator::UnregisterEvictable(uint64_t id)
{
    MemorySystem* system = MemorySystem::Require("UnregisterEvictable");
    if (!system)
        return false;
    if (system->residency.Unregister(id))
        return true;
    SEDX_CORE_ERROR_TAG(kAllocTag, "UnregisterEvictable({}) failed: not a registered evictable", id);
    return false;
}

size_t MemoryAllocator::GetEvictableCount()
{
    MemorySystem* system = MemorySystem::Get();
    return system ? system->residency.Count() : 0;
}

EvictionRound MemoryAllocator::MakeRoom(uint32_t heapIndex, VkDeviceSize bytes, uint32_t rankLimit)
{
    MemorySystem* system = MemorySystem::Require("MakeRoom");
    if (!system)
        return {};
    if (heapIndex >= system->memoryProperties.memoryHeapCount)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "MakeRoom(heap {}, {} bytes) failed: the device has {} heaps",
                            heapIndex, bytes, system->memoryProperties.memoryHeapCount);
        return {};
    }
    return system->residency.MakeRoom(*system, heapIndex, bytes, rankLimit, PressureReason::Explicit);
}

EvictionRound MemoryAllocator::GetLastEvictionRound()
{
    MemorySystem* system = MemorySystem::Get();
    return system ? system->residency.LastRound() : EvictionRound{};
}

int MemoryAllocator::GetHeapIndex(VmaAllocation allocation)
{
    MemorySystem* system = MemorySystem::Require("GetHeapIndex");
    if (!system)
        return -1;
    int heap = -1;
    if (allocation)
        system->registry.With(allocation,
                              [&](AllocationRecord& record) {
                                  heap = static_cast<int>(
                                      system->memoryProperties.memoryTypes[record.memoryTypeIndex].heapIndex);
                              });
    if (heap < 0)
        SEDX_CORE_ERROR_TAG(kAllocTag, "GetHeapIndex failed: {}",
                            allocation ? "the allocation is not live" : "a null allocation");
    return heap;
}

int MemoryAllocator::GetStagingHeapIndex()
{
    MemorySystem* system = MemorySystem::Require("GetStagingHeapIndex");
    if (!system)
        return -1;
    const int heap = system->StagingHeapIndex();
    if (heap < 0)
        SEDX_CORE_ERROR_TAG(kAllocTag, "GetStagingHeapIndex failed: no memory type suits a staging buffer");
    return heap;
}

bool MemoryAllocator::SetSimulatedHeapBudget(uint32_t heapIndex, VkDeviceSize bytes)
{
    MemorySystem* system = MemorySystem::Require("SetSimulatedHeapBudget");
    if (!system)
        return false;
    if (!system->settings.simulateMemoryBudget)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag,
                            "SetSimulatedHeapBudget(heap {}) failed: "
                            "AllocatorSettings::simulateMemoryBudget is off",
                            heapIndex);
        return false;
    }
    if (!SetSimulatedBudget(heapIndex, bytes))
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "SetSimulatedHeapBudget(heap {}) failed: the device has {} heaps",
                            heapIndex, system->memoryProperties.memoryHeapCount);
        return false;
    }
    return true;
}

} // namespace SceneryEditorX
