// MemorySystem: lifecycle (Init/Shutdown), the init guard, and the calls between parts.
#include "MemorySystem.h"

#include "Budget.h"
#include "Statistics.h"
#include "VmaImplementation.h"
#include "VulkanFunctions.h"

#include <SceneryEditorX/Core/Log.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <memory>

namespace SceneryEditorX::detail
{
namespace
{
thread_local BlockTally* t_BlockTally = nullptr;

void TallyBlock(VkDeviceSize size, bool allocated)
{
    if (BlockTally* tally = t_BlockTally)
    {
        (allocated ? tally->blocksAllocated : tally->blocksFreed) += 1;
        (allocated ? tally->bytesAllocated : tally->bytesFreed) += size;
    }
}
// VMA's defaults for its default pools' block size (VMA_SMALL_HEAP_MAX_SIZE,
// VMA_DEFAULT_LARGE_HEAP_BLOCK_SIZE), which its header defines only in the implementation unit.
constexpr VkDeviceSize kVmaSmallHeapMaxSize = 1024ull * 1024 * 1024;
constexpr VkDeviceSize kVmaDefaultLargeHeapBlockSize = 256ull * 1024 * 1024;
} // namespace

namespace
{
OrderedMutex<LockLevel::Lifecycle> s_LifecycleMutex; // Init and Shutdown against each other
const AllocatorSettings s_DefaultSettings{};
// Set when the exit handler below shut the system down: a Shutdown from a static destructor that
// runs later finds nothing to do, and that is not an error.
std::atomic<bool> s_ShutDownAtExit{false};

// Exit handlers run in reverse order of registration, and the driver registered its own when it
// loaded (VulkanDevice::Create, before Init). This one, registered at each Init, therefore runs
// before the driver tears itself down, and before the device's exit handler: it shuts a system that
// is still live down while the driver can still free its memory (reporting the leaks as Shutdown
// does). An application that shuts down from a static destructor constructed before main would
// otherwise call into a driver that is gone (docs/ARCHITECTURE.md, "Process exit").
void ShutDownAtExit()
{
    if (!MemorySystem::Get())
        return;
    SEDX_CORE_WARN_TAG(kAllocTag,
                       "the process is exiting with the allocator initialized: shutting it down now, "
                       "before the driver's exit handlers");
    if (MemorySystem::Destroy())
        s_ShutDownAtExit.store(true);
}

// Checks what Init is given; an empty string when it can go ahead.
std::string CheckInitArguments(const Ref<VulkanDevice>& device, uint32_t apiVersion,
                               const AllocatorSettings& settings)
{
    if (!device || device->GetDevice() == VK_NULL_HANDLE)
        return "Init needs a created VulkanDevice (got null)";
    if (apiVersion < VK_API_VERSION_1_0)
        return fmt::format("Init: invalid apiVersion {:#x}", apiVersion);
    for (size_t i = 0; i < kSizeClassCount; ++i)
        if (settings.poolBlockSizes[i] < ClassSize(static_cast<SizeClass>(i)))
            return fmt::format("Init: pool block size {} of class {} is below the class size {}",
                               settings.poolBlockSizes[i], i, ClassSize(static_cast<SizeClass>(i)));
    const uint32_t heapCount = device->GetMemoryProperties().memoryHeapCount;
    if (settings.heapSizeLimits.size() > heapCount)
        return fmt::format("Init: {} heap size limits given, the device has {} heaps",
                           settings.heapSizeLimits.size(), heapCount);
    return {};
}

uint32_t EffectiveApiVersion(const VulkanDevice& device, uint32_t apiVersion)
{
    uint32_t effective = std::min(apiVersion, device.GetApiVersion());
    effective = VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(effective), VK_API_VERSION_MINOR(effective), 0);
    if (effective !=
        VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(apiVersion), VK_API_VERSION_MINOR(apiVersion), 0))
        SEDX_CORE_INFO_TAG(kAllocTag, "Init: the device supports Vulkan {}.{}; using that instead of {}.{}",
                           VK_API_VERSION_MAJOR(effective), VK_API_VERSION_MINOR(effective),
                           VK_API_VERSION_MAJOR(apiVersion), VK_API_VERSION_MINOR(apiVersion));
    return effective;
}
} // namespace

MemorySystem::MemorySystem(const Ref<VulkanDevice>& dev, const AllocatorSettings& s)
    : device(dev), vkDevice(dev->GetDevice()), settings(s)
{
}

void MemorySystem::ReportNotInitialized(const char* call, std::string_view tag)
{
    if (tag.empty())
        SEDX_CORE_ERROR_TAG(kAllocTag, "{} called before Init or after Shutdown", call);
    else
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] {} called before Init or after Shutdown", tag, call);
}

const AllocatorSettings& MemorySystem::DefaultSettings()
{
    return s_DefaultSettings;
}

bool MemorySystem::Create(const Ref<VulkanDevice>& device, uint32_t apiVersion,
                          const AllocatorSettings& settings)
{
    std::lock_guard lock(s_LifecycleMutex);
    if (Get())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "Init called while already initialized; call Shutdown first");
        return false;
    }
    if (const std::string error = CheckInitArguments(device, apiVersion, settings); !error.empty())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "{}", error);
        return false;
    }
    const uint32_t effectiveVersion = EffectiveApiVersion(*device, apiVersion);

    const DeviceCapabilities& caps = device->GetCapabilities();
    VmaAllocatorCreateInfo ci{};
    ci.instance = device->GetInstance();
    ci.physicalDevice = device->GetPhysicalDevice();
    ci.device = device->GetDevice();
    ci.vulkanApiVersion = effectiveVersion;
    ci.preferredLargeHeapBlockSize = settings.preferredLargeHeapBlockSize;
    if (caps.memoryBudget || settings.simulateMemoryBudget)
        ci.flags |= VMA_ALLOCATOR_CREATE_EXT_MEMORY_BUDGET_BIT;
    if (caps.memoryPriority)
        ci.flags |= VMA_ALLOCATOR_CREATE_EXT_MEMORY_PRIORITY_BIT;
    if (caps.bufferDeviceAddress)
        ci.flags |= VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT;
    if (caps.maintenance4)
        ci.flags |= VMA_ALLOCATOR_CREATE_KHR_MAINTENANCE4_BIT;
    VmaVulkanFunctions functions = VmaFunctionTable(settings.enableFaultInjection);
    // Residency.h: per-heap VkDeviceMemory counters, the settings' callback, the simulated budget
    // (which replaces the driver's figures where the device has VK_EXT_memory_budget too).
    ResetDeviceMemoryHooks(settings, device->GetMemoryProperties());
    if (settings.simulateMemoryBudget)
        functions.vkGetPhysicalDeviceMemoryProperties2KHR = SimulatedBudgetProperties2();
    ci.pVulkanFunctions = &functions;
    // Every VkDeviceMemory allocation and free moves the budget generation (BudgetWatch::AfterChange).
    VmaDeviceMemoryCallbacks memoryCallbacks{};
    memoryCallbacks.pfnAllocate = [](VmaAllocator a, uint32_t type, VkDeviceMemory, VkDeviceSize size, void*)
    {
        OnDeviceMemoryAllocated(a, type, size);
        TallyBlock(size, true);
        BumpBudgetGeneration();
    };
    memoryCallbacks.pfnFree = [](VmaAllocator a, uint32_t type, VkDeviceMemory, VkDeviceSize size, void*)
    {
        OnDeviceMemoryFreed(a, type, size);
        TallyBlock(size, false);
        OnVmaBlockFreed(); // and AfterVmaFree() once the VMA call returns
    };
    ci.pDeviceMemoryCallbacks = &memoryCallbacks;
    std::array<VkDeviceSize, VK_MAX_MEMORY_HEAPS> limits{};
    bool anyLimit = false;
    for (uint32_t h = 0; h < VK_MAX_MEMORY_HEAPS; ++h)
    {
        limits[h] = VK_WHOLE_SIZE;
        if (h < settings.heapSizeLimits.size() && settings.heapSizeLimits[h] != 0)
        {
            limits[h] = settings.heapSizeLimits[h];
            anyLimit = true;
        }
    }
    if (anyLimit)
        ci.pHeapSizeLimit = limits.data();

    // Per-tag cumulative counters and peaks count from this Init (live counts are zero after Shutdown).
    for (TagCounters* c : AllTagCounters())
        c->ResetCumulative();

    std::unique_ptr<MemorySystem> system(new MemorySystem(device, settings));
    if (VkResult r = CreateVmaUnitAllocator(ci, system->allocator); r != VK_SUCCESS)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "vmaCreateAllocator failed: {}", VkResultName(r));
        return false;
    }
    const VkPhysicalDeviceMemoryProperties* vmaProps = nullptr;
    vmaGetMemoryProperties(system->allocator, &vmaProps); // heap sizes after the limits
    system->memoryProperties = *vmaProps;
    system->nonCoherentAtomSize =
        std::max<VkDeviceSize>(1, device->GetProperties().limits.nonCoherentAtomSize);
    VkPhysicalDeviceMaintenance3Properties maint3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    props2.pNext = &maint3;
    vkGetPhysicalDeviceProperties2(device->GetPhysicalDevice(), &props2);
    system->maxMemoryAllocationSize = maint3.maxMemoryAllocationSize;
    for (uint32_t h = 0; h < system->memoryProperties.memoryHeapCount; ++h)
        system->largestHeapSize =
            std::max(system->largestHeapSize, system->memoryProperties.memoryHeaps[h].size);
    system->pools.Attach(system->allocator, system->memoryProperties, system->settings);

    SEDX_CORE_INFO_TAG(kAllocTag,
                       "initialized on '{}': Vulkan {}.{}, budget extension {}, memory priority {}, {} "
                       "heaps, {} memory types",
                       device->GetInfo().name, VK_API_VERSION_MAJOR(effectiveVersion),
                       VK_API_VERSION_MINOR(effectiveVersion), caps.memoryBudget ? "on" : "off",
                       caps.memoryPriority ? "on" : "off", system->memoryProperties.memoryHeapCount,
                       system->memoryProperties.memoryTypeCount);
    BumpBudgetGeneration();
    s_Live.store(system.release(), std::memory_order_release);
    // At every Init: the loader may have unloaded and reloaded the driver since the last one, and the
    // newest handler runs first. A handler with nothing to shut down does nothing.
    std::atexit(ShutDownAtExit);
    // And before the devices' own exit handler, which runs first for a device made after this Init.
    VulkanDevice::RunBeforeReleaseAtExit(ShutDownAtExit);
    return true;
}

bool MemorySystem::Destroy()
{
    std::lock_guard lock(s_LifecycleMutex);
    MemorySystem* system = Get();
    if (!system)
    {
        if (s_ShutDownAtExit.load())
        {
            SEDX_CORE_INFO_TAG(kAllocTag, "Shutdown: already shut down at process exit");
            return true;
        }
        SEDX_CORE_ERROR_TAG(kAllocTag, "Shutdown called without Init (or twice)");
        return false;
    }
    // From here on every call sees "not initialized"; calls already in flight are misuse.
    s_Live.store(nullptr, std::memory_order_release);
    system->device->WaitIdle();
    system->defragmentation.Abort();
    system->ReleaseAtShutdown();
    vmaDestroyAllocator(system->allocator);
    ResetDeviceMemoryHooks(AllocatorSettings{}, VkPhysicalDeviceMemoryProperties{});
    PoolSet::SetCustomLargeBlockSize(0);
    delete system;
    SEDX_CORE_INFO_TAG(kAllocTag, "shut down");
    return true;
}

void MemorySystem::ReleaseAtShutdown()
{
    for (const RetiredResource& r : retireQueue.TakeAll())
        ReleaseHeld(r, false);
    ReleaseReuseCache();

    auto leaks = registry.DrainAll();
    uint64_t leakedBytes = 0;
    for (auto& [allocation, record] : leaks)
    {
        leakedBytes += record.size;
        if (settings.reportLeaks)
        {
            if (settings.recordCallSites && record.where.line() != 0)
                SEDX_CORE_ERROR_TAG(kAllocTag, "leak: tag '{}' {} '{}' {} bytes, allocated at {}:{} ({})",
                                    record.counters->tag, KindName(record.kind), record.name, record.size,
                                    record.where.file_name(), record.where.line(),
                                    record.where.function_name());
            else
                SEDX_CORE_ERROR_TAG(kAllocTag, "leak: tag '{}' {} '{}' {} bytes", record.counters->tag,
                                    KindName(record.kind), record.name, record.size);
        }
        for (; record.mapCount > 0; --record.mapCount)
            vmaUnmapMemory(allocator, allocation);
        usage.OnFree(*record.counters, record.size, record.kind);
        DestroyNow(record.kind, record.buffer, record.image, allocation);
    }
    if (!leaks.empty() && settings.reportLeaks)
        SEDX_CORE_ERROR_TAG(kAllocTag, "Shutdown released {} leaked allocations ({} bytes)", leaks.size(),
                            leakedBytes);
    DropStagingCache();
    pools.DestroyAll();
}

// ------------------------------------------------------------------------------------------------
void MemorySystem::DestroyNow(ResourceKind kind, VkBuffer buffer, VkImage image, VmaAllocation allocation)
{
    if (kind == ResourceKind::Buffer)
        vmaDestroyBuffer(allocator, buffer, allocation);
    else
        vmaDestroyImage(allocator, image, allocation);
    AfterVmaFree();
}

void MemorySystem::CacheOrDestroy(const ReuseKey& key, const CachedBuffer& buffer)
{
    if (AnyInstanceAboveThreshold() || !reuseCache.Put(key, buffer, settings.bufferReuseCacheBytes))
        DestroyNow(ResourceKind::Buffer, buffer.buffer, VK_NULL_HANDLE, buffer.allocation);
}

size_t MemorySystem::ReleaseReuseCache()
{
    // Between defragmentation passes only: a pass may hold a move of an allocation that slipped into
    // the cache just as the session opened (the pass skips it, but it must not be freed under it).
    auto gate = HoldMoveGate();
    return reuseCache.ReleaseAll(
        [this](const CachedBuffer& b)
        { DestroyNow(ResourceKind::Buffer, b.buffer, VK_NULL_HANDLE, b.allocation); });
}

void MemorySystem::ReleaseRetired(uint64_t frame)
{
    // Retired allocations may still be proposed by VMA inside a defragmentation pass: free them
    // only between passes. A frame does not wait for a pass's copies: while one runs, what is ready
    // stays queued for the next frame.
    std::unique_lock gate(m_MoveGate, std::try_to_lock);
    if (!gate.owns_lock())
        return;
    for (const RetiredResource& r : retireQueue.TakeReady(frame))
        ReleaseHeld(r, true); // the frame that last used it has retired: it may be handed out again
}

void MemorySystem::ReleaseHeld(const RetiredResource& r, bool mayCache)
{
    if (r.reusable && mayCache)
        CacheOrDestroy(r.reuseKey, r.cached);
    else
        DestroyNow(r.kind, r.buffer, r.image, r.allocation);
    usage.OnHeldReleased(r.sizeBytes, r.allocation ? 1 : 0);
}

void MemorySystem::OnMemoryPressure(const std::string& tag)
{
    if (const size_t released = ReleaseReuseCache())
        SEDX_CORE_INFO_TAG(kAllocTag, "[{}] released {} cached SpeedOptimized buffers", tag, released);
}

void MemorySystem::OnDefragmentationBegin()
{
    // Cached staging buffers are VMA allocations outside the registry: drop them; uploads make new
    // ones on demand. The reuse cache closes before it is emptied, so that a buffer freed during
    // the session cannot stay behind.
    DropStagingCache();
    reuseCache.Close();
    ReleaseReuseCache();
}

void MemorySystem::OnDefragmentationEnd()
{
    reuseCache.Open();
}

// ------------------------------------------------------------------------------------------------
namespace
{
// What every staging buffer is made with: host memory VMA prefers for random access (host-cached
// where the device has it), mapped. StagingHeapIndex asks VMA about the same request.
void StagingCreateInfo(VkDeviceSize size, VkBufferCreateInfo& info, VmaAllocationCreateInfo& aci)
{
    info = VkBufferCreateInfo{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    info.size = std::max<VkDeviceSize>(std::bit_ceil(size), 256 * 1024);
    info.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    aci = VmaAllocationCreateInfo{};
    aci.usage = VMA_MEMORY_USAGE_AUTO_PREFER_HOST;
    aci.flags = VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT | VMA_ALLOCATION_CREATE_MAPPED_BIT;
}
} // namespace

int MemorySystem::StagingHeapIndex() const
{
    VkBufferCreateInfo info;
    VmaAllocationCreateInfo aci;
    StagingCreateInfo(1, info, aci);
    uint32_t type = 0;
    if (vmaFindMemoryTypeIndexForBufferInfo(allocator, &info, &aci, &type) != VK_SUCCESS)
        return -1;
    return static_cast<int>(memoryProperties.memoryTypes[type].heapIndex);
}

VkResult MemorySystem::AcquireStaging(VkDeviceSize size, StagingBuffer& out)
{
    if (staging.Take(size, out))
        return VK_SUCCESS;
    VkBufferCreateInfo info;
    VmaAllocationCreateInfo aci;
    StagingCreateInfo(size, info, aci);
    VmaAllocationInfo allocInfo{};
    std::lock_guard stripe(creationGuard.ForThisThread());
    if (VkResult r = vmaCreateBuffer(allocator, &info, &aci, &out.buffer, &out.allocation, &allocInfo);
        r != VK_SUCCESS)
        return r;
    if (settings.allocationNames)
        vmaSetAllocationNameStatic(allocator, out.allocation, kInternalStagingName);
    out.size = info.size;
    out.allocationBytes = allocInfo.size;
    usage.OnAllocate(*internalCounters, out.allocationBytes, ResourceKind::Buffer);
    out.mapped = allocInfo.pMappedData;
    return VK_SUCCESS;
}

void MemorySystem::ReleaseStaging(const StagingBuffer& buffer)
{
    if (staging.Keep(buffer, settings.stagingCacheBytes))
        return;
    usage.OnFree(*internalCounters, buffer.allocationBytes, ResourceKind::Buffer);
    vmaDestroyBuffer(allocator, buffer.buffer, buffer.allocation);
    AfterVmaFree();
}

VkDeviceSize MemorySystem::DropStagingCache()
{
    VkDeviceSize bytes = 0;
    for (const StagingBuffer& s : staging.TakeAll())
    {
        bytes += s.size;
        usage.OnFree(*internalCounters, s.allocationBytes, ResourceKind::Buffer);
        vmaDestroyBuffer(allocator, s.buffer, s.allocation);
    }
    AfterVmaFree();
    return bytes;
}

ScopedBlockTally::ScopedBlockTally(BlockTally& tally) : m_Previous(t_BlockTally)
{
    t_BlockTally = &tally;
}

ScopedBlockTally::~ScopedBlockTally()
{
    t_BlockTally = m_Previous;
}

ReleasedMemory MemorySystem::ReleaseEmptyBlocks()
{
    size_t blocks = 0;
    VkDeviceSize bytes = 0;
    {
        auto gate = HoldMoveGate(); // not inside a pass
        pools.ReleaseEmptyBlocks(blocks, bytes);
        size_t defaultBlocks = 0;
        VkDeviceSize defaultBytes = 0;
        vmaReleaseEmptyBlocks(allocator, nullptr, &defaultBlocks, &defaultBytes);
        blocks += defaultBlocks;
        bytes += defaultBytes;
    }
    AfterVmaFree();
    return ReleasedMemory{static_cast<uint32_t>(blocks), bytes};
}

uint64_t MemorySystem::ReclaimableBytes(const VmaBudget* heapBudgets)
{
    std::array<PoolSet::HeapFootprint, VK_MAX_MEMORY_HEAPS> perHeap{};
    pools.Footprint(perHeap);
    std::array<VkDeviceSize, VK_MAX_MEMORY_HEAPS> heapFree{};
    for (uint32_t h = 0; h < memoryProperties.memoryHeapCount; ++h)
        heapFree[h] = heapBudgets[h].statistics.blockBytes - heapBudgets[h].statistics.allocationBytes;
    return ReclaimableBytes(perHeap, heapFree);
}

uint64_t
MemorySystem::ReclaimableBytes(const std::array<PoolSet::HeapFootprint, VK_MAX_MEMORY_HEAPS>& perHeap,
                               const std::array<VkDeviceSize, VK_MAX_MEMORY_HEAPS>& heapFreeBytes) const
{
    uint64_t reclaimable = 0;
    for (uint32_t h = 0; h < memoryProperties.memoryHeapCount; ++h)
    {
        reclaimable += perHeap[h].reclaimableBytes;
        // The default pools' free bytes: the heap's, less the pools' (dedicated allocations have
        // none), counted in whole blocks of the smallest size VMA's default pools make for the heap
        // (an eighth of the preferred size: they grow 1/8, 1/4, 1/2, 1). Exact when that free space
        // is whole empty blocks (the one VMA keeps per pool, often a staging buffer's); an estimate
        // from above when it lies in holes across blocks, which since images have pools of their own
        // only happens between resources above the size classes (16 MiB).
        const VkDeviceSize heapFree = heapFreeBytes[h];
        const VkDeviceSize defaultFree =
            heapFree > perHeap[h].freeBytes ? heapFree - perHeap[h].freeBytes : 0;
        const VkDeviceSize heapSize = memoryProperties.memoryHeaps[h].size;
        const VkDeviceSize blockSize =
            heapSize <= kVmaSmallHeapMaxSize
                ? heapSize / 8
                : (settings.preferredLargeHeapBlockSize ? settings.preferredLargeHeapBlockSize
                                                        : kVmaDefaultLargeHeapBlockSize);
        if (const VkDeviceSize smallest = blockSize / 8; smallest > 0)
            reclaimable += defaultFree / smallest * smallest;
    }
    return reclaimable;
}

} // namespace SceneryEditorX::detail
