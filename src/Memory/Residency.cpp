// Residency: evictable registrations, eviction rounds and the simulated memory budget (Residency.h).
#include "Residency.h"

#include "MemorySystem.h"

#include <SceneryEditorX/Core/Log.h>

#include <algorithm>
#include <array>
#include <tuple>

namespace SceneryEditorX::detail
{
namespace
{
// Inside an owner's callback: a nested round asks nobody (the caches still shrink).
thread_local int t_InOwnerCallback = 0;

const char* ReasonName(PressureReason reason)
{
    switch (reason)
    {
    case PressureReason::AllocationFailed:
        return "allocation failed";
    case PressureReason::Threshold:
        return "warning threshold crossed";
    case PressureReason::BudgetFell:
        return "usage above a fallen budget";
    case PressureReason::Explicit:
        return "MakeRoom";
    }
    return "?";
}

// ------------------------------------------------------------------ device memory hooks
// One allocator at a time (Init .. Shutdown); the hooks are plain functions (VMA's device-memory
// callbacks and its Vulkan function table carry no state of ours), hence file-level state, written
// only while no VMA allocator exists except for the atomics.
std::array<std::atomic<VkDeviceSize>, VK_MAX_MEMORY_HEAPS> s_HeapBytes{};
std::array<std::atomic<VkDeviceSize>, VK_MAX_MEMORY_HEAPS> s_SimulatedBudget{};
std::array<VkDeviceSize, VK_MAX_MEMORY_HEAPS> s_HeapSize{};
std::array<uint32_t, VK_MAX_MEMORY_TYPES> s_TypeHeap{};
uint32_t s_HeapCount = 0;
bool s_Simulated = false;
std::function<void(uint32_t, uint32_t, VkDeviceSize, bool)> s_DeviceMemoryCallback;

VKAPI_ATTR void VKAPI_CALL SimulatedProperties2(VkPhysicalDevice physicalDevice,
                                                VkPhysicalDeviceMemoryProperties2* properties)
{
    // Unlink the budget structure (the driver does not know it), ask the driver, fill it ourselves.
    VkPhysicalDeviceMemoryBudgetPropertiesEXT* budget = nullptr;
    VkBaseOutStructure* previous = reinterpret_cast<VkBaseOutStructure*>(properties);
    for (VkBaseOutStructure* s = previous->pNext; s; previous = s, s = s->pNext)
        if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT)
        {
            budget = reinterpret_cast<VkPhysicalDeviceMemoryBudgetPropertiesEXT*>(s);
            previous->pNext = s->pNext;
            break;
        }
    vkGetPhysicalDeviceMemoryProperties2(physicalDevice, properties);
    if (!budget)
        return;
    budget->pNext = previous->pNext;
    previous->pNext = reinterpret_cast<VkBaseOutStructure*>(budget);
    for (uint32_t h = 0; h < VK_MAX_MEMORY_HEAPS; ++h)
    {
        budget->heapUsage[h] = h < s_HeapCount ? s_HeapBytes[h].load(std::memory_order_relaxed) : 0;
        const VkDeviceSize set = s_SimulatedBudget[h].load(std::memory_order_relaxed);
        budget->heapBudget[h] = h < s_HeapCount ? (set ? set : s_HeapSize[h] / 10 * 8) : 0;
    }
}
} // namespace

void ResetDeviceMemoryHooks(const AllocatorSettings& settings, const VkPhysicalDeviceMemoryProperties& props)
{
    s_HeapCount = props.memoryHeapCount;
    for (uint32_t h = 0; h < VK_MAX_MEMORY_HEAPS; ++h)
    {
        s_HeapBytes[h].store(0, std::memory_order_relaxed);
        s_SimulatedBudget[h].store(0, std::memory_order_relaxed);
        VkDeviceSize size = h < props.memoryHeapCount ? props.memoryHeaps[h].size : 0;
        if (h < settings.heapSizeLimits.size() && settings.heapSizeLimits[h] != 0)
            size = std::min(size, settings.heapSizeLimits[h]);
        s_HeapSize[h] = size;
    }
    for (uint32_t t = 0; t < VK_MAX_MEMORY_TYPES; ++t)
        s_TypeHeap[t] = t < props.memoryTypeCount ? props.memoryTypes[t].heapIndex : 0;
    s_Simulated = settings.simulateMemoryBudget;
    s_DeviceMemoryCallback = settings.deviceMemoryCallback;
}

void OnDeviceMemoryAllocated(VmaAllocator, uint32_t memoryType, VkDeviceSize size)
{
    const uint32_t heap = s_TypeHeap[memoryType % VK_MAX_MEMORY_TYPES];
    s_HeapBytes[heap].fetch_add(size, std::memory_order_relaxed);
    if (s_DeviceMemoryCallback)
        s_DeviceMemoryCallback(heap, memoryType, size, true);
}

void OnDeviceMemoryFreed(VmaAllocator, uint32_t memoryType, VkDeviceSize size)
{
    const uint32_t heap = s_TypeHeap[memoryType % VK_MAX_MEMORY_TYPES];
    s_HeapBytes[heap].fetch_sub(size, std::memory_order_relaxed);
    if (s_DeviceMemoryCallback)
        s_DeviceMemoryCallback(heap, memoryType, size, false);
}

VkDeviceSize DeviceMemoryBytes(uint32_t heapIndex)
{
    return heapIndex < VK_MAX_MEMORY_HEAPS ? s_HeapBytes[heapIndex].load(std::memory_order_relaxed) : 0;
}

bool SetSimulatedBudget(uint32_t heapIndex, VkDeviceSize bytes)
{
    if (!s_Simulated || heapIndex >= s_HeapCount)
        return false;
    s_SimulatedBudget[heapIndex].store(bytes, std::memory_order_relaxed);
    return true;
}

PFN_vkGetPhysicalDeviceMemoryProperties2KHR SimulatedBudgetProperties2()
{
    return &SimulatedProperties2;
}

// ------------------------------------------------------------------------------------------------
uint64_t Residency::Register(MemorySystem& system, VmaAllocation allocation, uint32_t rank,
                             EvictionCallback release, std::string& error)
{
    if (!release)
    {
        error = "an empty release callback";
        return 0;
    }
    Entry entry;
    const bool live =
        allocation &&
        system.registry.With(allocation,
                             [&](AllocationRecord& record)
                             {
                                 entry.heapIndex =
                                     system.memoryProperties.memoryTypes[record.memoryTypeIndex].heapIndex;
                                 entry.size = record.size;
                             });
    if (!live)
    {
        error = allocation ? "the allocation is not live" : "a null allocation";
        return 0;
    }
    entry.allocation = allocation;
    entry.rank = rank;
    entry.lastUsedFrame = system.frameIndex.load(std::memory_order_relaxed);
    entry.release = std::move(release);
    std::lock_guard lock(m_Mutex);
    const uint64_t id = m_NextId++;
    m_Entries.emplace(id, std::move(entry));
    return id;
}

bool Residency::Touch(uint64_t id, uint64_t frame)
{
    std::lock_guard lock(m_Mutex);
    auto it = m_Entries.find(id);
    if (it == m_Entries.end())
        return false;
    it->second.lastUsedFrame = std::max(it->second.lastUsedFrame, frame);
    return true;
}

bool Residency::SetRank(uint64_t id, uint32_t rank)
{
    std::lock_guard lock(m_Mutex);
    auto it = m_Entries.find(id);
    if (it == m_Entries.end())
        return false;
    it->second.rank = rank;
    return true;
}

bool Residency::Unregister(uint64_t id)
{
    std::lock_guard lock(m_Mutex);
    return m_Entries.erase(id) != 0;
}

size_t Residency::Count() const
{
    std::lock_guard lock(m_Mutex);
    return m_Entries.size();
}

EvictionRound Residency::LastRound() const
{
    std::lock_guard lock(m_Mutex);
    return m_LastRound;
}

EvictionRound Residency::MakeRoom(MemorySystem& system, uint32_t heapIndex, VkDeviceSize bytes,
                                  uint32_t rankLimit, PressureReason reason)
{
    EvictionRound round;
    round.frame = system.frameIndex.load(std::memory_order_relaxed);
    round.heapIndex = heapIndex;
    round.reason = reason;
    round.bytesWanted = bytes;
    round.readyFrame = round.frame;

    // The library's own caches first, on every heap. What counts for this round is only what they
    // gave back on its heap: on a GPU with a host heap the staging buffers live there, and counting
    // them would satisfy a device-local round with memory the device-local heap never sees (the
    // owners would not be asked). Measured as the larger fall of the heap's allocation bytes (room
    // inside kept blocks) and of its block bytes (memory given back): never more than the room
    // made, less when both kinds fell at once, which only asks the owners for more.
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> before{};
    vmaGetHeapBudgets(system.allocator, before.data());
    system.ReleaseReuseCache();
    system.DropStagingCache();
    // And the empty blocks VMA keeps for reuse (one per pool): committed memory that holds nothing.
    // Not while a defragmentation session is open: its VMA context plans with those blocks.
    if (!system.defragmentation.IsOpen())
        system.ReleaseEmptyBlocks();
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> after{};
    vmaGetHeapBudgets(system.allocator, after.data());
    auto fell = [](VkDeviceSize from, VkDeviceSize to)
    {
        return from > to ? from - to : 0;
    };
    round.cacheBytesReleased = std::max(
        fell(before[heapIndex].statistics.allocationBytes, after[heapIndex].statistics.allocationBytes),
        fell(before[heapIndex].statistics.blockBytes, after[heapIndex].statistics.blockBytes));

    // Then the owners, least valuable first: rank, last-used frame, registration order.
    std::vector<std::tuple<uint32_t, uint64_t, uint64_t>> order; // rank, last used, id
    if (t_InOwnerCallback == 0)
    {
        std::lock_guard lock(m_Mutex);
        for (const auto& [id, e] : m_Entries)
            if (e.heapIndex == heapIndex && e.rank <= rankLimit && !e.asked)
                order.emplace_back(e.rank, e.lastUsedFrame, id);
    }
    std::sort(order.begin(), order.end());
    bool anyDeferred = false;
    for (const auto& [rank, lastUsed, id] : order)
    {
        const VkDeviceSize have = round.cacheBytesReleased + round.bytesReleased;
        if (have >= bytes)
            break;
        EvictionRequest request;
        EvictionCallback release;
        {
            std::lock_guard lock(m_Mutex);
            auto it = m_Entries.find(id);
            if (it == m_Entries.end() || it->second.asked) // unregistered, or another round asks it
                continue;
            it->second.asked = true;
            release = it->second.release;
            request.allocation = it->second.allocation;
        }
        request.id = id;
        request.heapIndex = heapIndex;
        request.bytesWanted = bytes - have;
        request.frame = round.frame;
        request.reason = reason;
        ++round.ownersAsked;
        ++t_InOwnerCallback;
        const EvictionResponse response = release(request);
        --t_InOwnerCallback;
        {
            std::lock_guard lock(m_Mutex);
            auto it = m_Entries.find(id);
            if (response.bytes != 0)
            {
                if (it != m_Entries.end())
                    m_Entries.erase(it);
            }
            else if (it != m_Entries.end())
                it->second.asked = false;
        }
        if (response.bytes != 0)
        {
            ++round.ownersReleased;
            round.bytesReleased += response.bytes;
            anyDeferred |= response.deferred;
        }
        else
            ++round.ownersRefused;
    }
    if (anyDeferred)
        round.readyFrame = round.frame + system.settings.framesInFlight;
    round.satisfied = round.cacheBytesReleased + round.bytesReleased >= bytes;
    {
        std::lock_guard lock(m_Mutex);
        m_LastRound = round;
    }
    // An info line: the signal that started the round has its own line (the threshold's warning, the
    // failed allocation's error, which names the round).
    Log::Write(
        LogLevel::Info, kAllocTag,
        fmt::format("eviction round on heap {} ({}): {} bytes wanted, {} from caches, {} from {} of {} "
                    "owners asked ({} refused), back in frame {}",
                    heapIndex, ReasonName(reason), bytes, round.cacheBytesReleased, round.bytesReleased,
                    round.ownersReleased, round.ownersAsked, round.ownersRefused, round.readyFrame));
    return round;
}

void Residency::CheckBudgetFell(MemorySystem& system)
{
    // VMA's own estimate (80 % of the heap) never falls; a real or simulated budget can.
    if (!system.device->GetCapabilities().memoryBudget && !system.settings.simulateMemoryBudget)
        return;
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets;
    vmaGetHeapBudgets(system.allocator, budgets.data());
    for (uint32_t h = 0; h < system.memoryProperties.memoryHeapCount; ++h)
        if (budgets[h].usage > budgets[h].budget)
            MakeRoom(system, h, budgets[h].usage - budgets[h].budget, UINT32_MAX, PressureReason::BudgetFell);
}

bool MakeRoomAfterFailure(MemorySystem& system, VkResult result, int heap, VkDeviceSize bytes,
                          const AllocationCreateInfo& createInfo, std::string& note)
{
    if (!HasFlag(createInfo.flags, AllocationFlags::MakeRoom) || heap < 0 ||
        (result != VK_ERROR_OUT_OF_DEVICE_MEMORY && result != VK_ERROR_OUT_OF_HOST_MEMORY))
        return false;
    const EvictionRound round =
        system.residency.MakeRoom(system, static_cast<uint32_t>(heap), bytes, createInfo.evictionRankLimit,
                                  PressureReason::AllocationFailed);
    const VkDeviceSize released = round.cacheBytesReleased + round.bytesReleased;
    note = fmt::format("; eviction round: {} bytes released, {} owners refused, back in frame {}", released,
                       round.ownersRefused, round.readyFrame);
    return released != 0 && round.readyFrame == round.frame;
}

void Residency::ThresholdCrossed(MemorySystem& system, float threshold)
{
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets;
    vmaGetHeapBudgets(system.allocator, budgets.data());
    const VkPhysicalDeviceMemoryProperties& props = system.memoryProperties;
    bool anyDeviceLocal = false;
    for (uint32_t h = 0; h < props.memoryHeapCount; ++h)
        anyDeviceLocal |= (props.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    for (uint32_t h = 0; h < props.memoryHeapCount; ++h)
    {
        if (anyDeviceLocal && !(props.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT))
            continue;
        const auto limit = static_cast<VkDeviceSize>(static_cast<double>(threshold) *
                                                     static_cast<double>(budgets[h].budget));
        if (budgets[h].usage > limit)
            MakeRoom(system, h, budgets[h].usage - limit, UINT32_MAX, PressureReason::Threshold);
    }
}

} // namespace SceneryEditorX::detail
