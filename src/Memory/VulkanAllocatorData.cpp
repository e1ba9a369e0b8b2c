// Lifecycle of the global allocator: Init, Shutdown, frames and the retire queue, size-class pools.
#include "AllocatorData.h"
#include "VmaImplementation.h"

#include <SceneryEditorX/Core/Log.h>

#include <algorithm>

namespace SceneryEditorX
{
namespace detail
{
namespace
{
std::atomic<VulkanAllocatorData*> s_Data{nullptr};
std::mutex s_LifecycleMutex;                         // Init and Shutdown against each other
std::atomic<VkDeviceSize> s_CustomLargeBlockSize{0}; // 0: settings.poolBlockSizes[2]
const AllocatorSettings s_DefaultSettings{};
} // namespace

VulkanAllocatorData* Data()
{
    return s_Data.load(std::memory_order_acquire);
}

int SizeClassOf(VkDeviceSize size)
{
    if (size <= SMALL_BUFFER_SIZE)
        return 0;
    if (size <= MEDIUM_BUFFER_SIZE)
        return 1;
    if (size <= LARGE_BUFFER_SIZE)
        return 2;
    return -1;
}

void DestroyResourceNow(VulkanAllocatorData& d, ResourceKind kind, VkBuffer buffer, VkImage image,
                        VmaAllocation allocation)
{
    if (kind == ResourceKind::Buffer)
        vmaDestroyBuffer(d.allocator, buffer, allocation);
    else
        vmaDestroyImage(d.allocator, image, allocation);
    AfterVmaFree();
    MarkFragmentationDirty(d);
}

VkDeviceSize PoolBlockSize(const VulkanAllocatorData& d, uint32_t memoryTypeIndex, int sizeClass)
{
    if (sizeClass == 2)
        if (VkDeviceSize custom = s_CustomLargeBlockSize.load(std::memory_order_relaxed))
            return custom;
    // Like VMA's default pools, keep blocks to an eighth of a small heap (after any heap size
    // limit), but never below the class size, so that one block cannot take a small heap.
    static constexpr VkDeviceSize kClassSize[] = {SMALL_BUFFER_SIZE, MEDIUM_BUFFER_SIZE, LARGE_BUFFER_SIZE};
    const VkDeviceSize heapSize =
        d.memoryProperties.memoryHeaps[d.memoryProperties.memoryTypes[memoryTypeIndex].heapIndex].size;
    const VkDeviceSize configured = d.settings.poolBlockSizes[static_cast<size_t>(sizeClass)];
    return std::min(configured, std::max(kClassSize[sizeClass], heapSize / 8));
}

VmaPool GetPool(VulkanAllocatorData& d, uint32_t memoryTypeIndex, int sizeClass)
{
    std::atomic<VmaPool>& slot = d.pools[memoryTypeIndex][static_cast<size_t>(sizeClass)];
    if (VmaPool pool = slot.load(std::memory_order_acquire))
        return pool;
    std::lock_guard lock(d.poolMutex);
    if (VmaPool pool = slot.load(std::memory_order_acquire))
        return pool;
    VmaPoolCreateInfo info{};
    info.memoryTypeIndex = memoryTypeIndex;
    info.blockSize = PoolBlockSize(d, memoryTypeIndex, sizeClass);
    info.priority = 0.5f;
    VmaPool pool = nullptr;
    if (VkResult r = vmaCreatePool(d.allocator, &info, &pool); r != VK_SUCCESS)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "creating the size-class {} pool on memory type {} failed: {}",
                            sizeClass, memoryTypeIndex, VkResultName(r));
        return nullptr;
    }
    static constexpr const char* kNames[] = {"sedx:small", "sedx:medium", "sedx:large"};
    vmaSetPoolName(d.allocator, pool, kNames[sizeClass]);
    slot.store(pool, std::memory_order_release);
    return pool;
}

} // namespace detail

using namespace detail;

bool MemoryAllocator::Init(const Ref<VulkanDevice>& device, uint32_t apiVersion)
{
    return Init(device, apiVersion, AllocatorSettings{});
}

bool MemoryAllocator::Init(const Ref<VulkanDevice>& device, uint32_t apiVersion,
                           const AllocatorSettings& settings)
{
    std::lock_guard lock(s_LifecycleMutex);
    if (Data())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "Init called while already initialized; call Shutdown first");
        return false;
    }
    if (!device || device->GetDevice() == VK_NULL_HANDLE)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "Init needs a created VulkanDevice (got null)");
        return false;
    }
    if (apiVersion < VK_API_VERSION_1_0)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "Init: invalid apiVersion {:#x}", apiVersion);
        return false;
    }
    const VkPhysicalDeviceMemoryProperties& memProps = device->GetMemoryProperties();
    for (size_t i = 0; i < 3; ++i)
    {
        static constexpr VkDeviceSize kClass[] = {SMALL_BUFFER_SIZE, MEDIUM_BUFFER_SIZE, LARGE_BUFFER_SIZE};
        if (settings.poolBlockSizes[i] < kClass[i])
        {
            SEDX_CORE_ERROR_TAG(kAllocTag, "Init: pool block size {} of class {} is below the class size {}",
                                settings.poolBlockSizes[i], i, kClass[i]);
            return false;
        }
    }
    if (settings.heapSizeLimits.size() > memProps.memoryHeapCount)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "Init: {} heap size limits given, the device has {} heaps",
                            settings.heapSizeLimits.size(), memProps.memoryHeapCount);
        return false;
    }

    uint32_t effectiveVersion = std::min(apiVersion, device->GetApiVersion());
    effectiveVersion = VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(effectiveVersion),
                                           VK_API_VERSION_MINOR(effectiveVersion), 0);
    if (effectiveVersion !=
        VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(apiVersion), VK_API_VERSION_MINOR(apiVersion), 0))
        SEDX_CORE_INFO_TAG(kAllocTag, "Init: the device supports Vulkan {}.{}; using that instead of {}.{}",
                           VK_API_VERSION_MAJOR(effectiveVersion), VK_API_VERSION_MINOR(effectiveVersion),
                           VK_API_VERSION_MAJOR(apiVersion), VK_API_VERSION_MINOR(apiVersion));

    const DeviceCapabilities& caps = device->GetCapabilities();
    VmaAllocatorCreateInfo ci{};
    ci.instance = device->GetInstance();
    ci.physicalDevice = device->GetPhysicalDevice();
    ci.device = device->GetDevice();
    ci.vulkanApiVersion = effectiveVersion;
    ci.preferredLargeHeapBlockSize = settings.preferredLargeHeapBlockSize;
    if (caps.memoryBudget)
        ci.flags |= VMA_ALLOCATOR_CREATE_EXT_MEMORY_BUDGET_BIT;
    if (caps.memoryPriority)
        ci.flags |= VMA_ALLOCATOR_CREATE_EXT_MEMORY_PRIORITY_BIT;
    if (caps.bufferDeviceAddress)
        ci.flags |= VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT;
    if (caps.maintenance4)
        ci.flags |= VMA_ALLOCATOR_CREATE_KHR_MAINTENANCE4_BIT;
    const VmaVulkanFunctions functions = VmaFunctionTable(settings.enableFaultInjection);
    ci.pVulkanFunctions = &functions;
    // Every VkDeviceMemory allocation and free moves the budget generation (see CheckBudgetAfterChange).
    VmaDeviceMemoryCallbacks memoryCallbacks{};
    memoryCallbacks.pfnAllocate = [](VmaAllocator, uint32_t, VkDeviceMemory, VkDeviceSize, void*)
    {
        BumpBudgetGeneration();
    };
    memoryCallbacks.pfnFree = [](VmaAllocator, uint32_t, VkDeviceMemory, VkDeviceSize, void*)
    {
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
    {
        c->ResetCumulative();
    }

    auto data = std::make_unique<VulkanAllocatorData>();
    if (VkResult r = CreateLibraryVmaAllocator(ci, data->allocator); r != VK_SUCCESS)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "vmaCreateAllocator failed: {}", VkResultName(r));
        return false;
    }
    data->device = device;
    data->vkDevice = device->GetDevice();
    data->settings = settings;
    const VkPhysicalDeviceMemoryProperties* vmaProps = nullptr;
    vmaGetMemoryProperties(data->allocator, &vmaProps); // heap sizes after the limits
    data->memoryProperties = *vmaProps;
    data->nonCoherentAtomSize = std::max<VkDeviceSize>(1, device->GetProperties().limits.nonCoherentAtomSize);
    VkPhysicalDeviceMaintenance3Properties maint3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    props2.pNext = &maint3;
    vkGetPhysicalDeviceProperties2(device->GetPhysicalDevice(), &props2);
    data->maxMemoryAllocationSize = maint3.maxMemoryAllocationSize;
    for (uint32_t h = 0; h < data->memoryProperties.memoryHeapCount; ++h)
        data->largestHeapSize = std::max(data->largestHeapSize, data->memoryProperties.memoryHeaps[h].size);

    SEDX_CORE_INFO_TAG(kAllocTag,
                       "initialized on '{}': Vulkan {}.{}, budget extension {}, memory priority {}, {} "
                       "heaps, {} memory types",
                       device->GetInfo().name, VK_API_VERSION_MAJOR(effectiveVersion),
                       VK_API_VERSION_MINOR(effectiveVersion), caps.memoryBudget ? "on" : "off",
                       caps.memoryPriority ? "on" : "off", data->memoryProperties.memoryHeapCount,
                       data->memoryProperties.memoryTypeCount);
    BumpBudgetGeneration();
    s_Data.store(data.release(), std::memory_order_release);
    return true;
}

bool MemoryAllocator::Shutdown()
{
    std::lock_guard lock(s_LifecycleMutex);
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "Shutdown called without Init (or twice)");
        return false;
    }
    // From here on every call sees "not initialized"; calls already in flight are misuse.
    s_Data.store(nullptr, std::memory_order_release);
    d->device->WaitIdle();
    AbortDefragmentation(*d);

    {
        std::lock_guard retireLock(d->retireMutex);
        for (const RetiredResource& r : d->retired)
            DestroyResourceNow(*d, r.kind, r.buffer, r.image, r.allocation);
        d->retired.clear();
    }
    detail::ReleaseReuseCache(*d);

    auto leaks = d->registry.DrainAll();
    uint64_t leakedBytes = 0;
    for (auto& [allocation, record] : leaks)
    {
        leakedBytes += record.size;
        if (d->settings.reportLeaks)
        {
            if (d->settings.recordCallSites && record.where.line() != 0)
                SEDX_CORE_ERROR_TAG(kAllocTag, "leak: tag '{}' {} '{}' {} bytes, allocated at {}:{} ({})",
                                    record.counters->tag, KindName(record.kind), record.name, record.size,
                                    record.where.file_name(), record.where.line(),
                                    record.where.function_name());
            else
                SEDX_CORE_ERROR_TAG(kAllocTag, "leak: tag '{}' {} '{}' {} bytes", record.counters->tag,
                                    KindName(record.kind), record.name, record.size);
        }
        if (record.mapCount > 0)
            for (uint32_t i = 0; i < record.mapCount; ++i)
                vmaUnmapMemory(d->allocator, allocation);
        record.counters->OnFree(record.size, record.kind);
        DestroyResourceNow(*d, record.kind, record.buffer, record.image, allocation);
    }
    if (!leaks.empty() && d->settings.reportLeaks)
        SEDX_CORE_ERROR_TAG(kAllocTag, "Shutdown released {} leaked allocations ({} bytes)", leaks.size(),
                            leakedBytes);

    DestroyStagingCache(*d);
    for (auto& perType : d->pools)
        for (auto& slot : perType)
            if (VmaPool pool = slot.exchange(nullptr))
                vmaDestroyPool(d->allocator, pool);
    for (VmaPool pool : d->replacedPools)
        vmaDestroyPool(d->allocator, pool);
    vmaDestroyAllocator(d->allocator);
    s_CustomLargeBlockSize.store(0);
    delete d;
    SEDX_CORE_INFO_TAG(kAllocTag, "shut down");
    return true;
}

bool MemoryAllocator::IsInitialized()
{
    return Data() != nullptr;
}

VmaAllocator MemoryAllocator::GetAllocator()
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "GetAllocator called before Init or after Shutdown");
        return nullptr;
    }
    return d->allocator;
}

Ref<VulkanDevice> MemoryAllocator::GetDevice()
{
    VulkanAllocatorData* d = Data();
    return d ? d->device : nullptr;
}

const AllocatorSettings& MemoryAllocator::GetSettings()
{
    VulkanAllocatorData* d = Data();
    return d ? d->settings : s_DefaultSettings;
}

bool MemoryAllocator::SetCurrentFrameIndex(uint64_t frameIndex)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "SetCurrentFrameIndex called before Init or after Shutdown");
        return false;
    }
    uint64_t previous = d->frameIndex.load(std::memory_order_relaxed);
    do
    {
        if (frameIndex < previous)
        {
            SEDX_CORE_ERROR_TAG(kAllocTag, "SetCurrentFrameIndex({}) goes backwards (current {})", frameIndex,
                                previous);
            return false;
        }
    } while (!d->frameIndex.compare_exchange_weak(previous, frameIndex, std::memory_order_acq_rel));
    vmaSetCurrentFrameIndex(d->allocator, static_cast<uint32_t>(frameIndex));
    BumpBudgetGeneration(); // VMA fetched the budget again

    {
        // Retired allocations may still be proposed by VMA inside a defragmentation pass: free them
        // only between passes.
        std::lock_guard passLock(d->defragPassMutex);
        std::vector<RetiredResource> ready;
        {
            std::lock_guard lock(d->retireMutex);
            while (!d->retired.empty() && d->retired.front().releaseFrame <= frameIndex)
            {
                ready.push_back(d->retired.front());
                d->retired.pop_front();
            }
        }
        for (const RetiredResource& r : ready)
        {
            if (r.reusable) // the frame that last used it has retired: it may be handed out again
                CacheOrDestroy(*d, r.reuseKey, r.cached);
            else
                DestroyResourceNow(*d, r.kind, r.buffer, r.image, r.allocation);
        }
    }

    const uint32_t interval = d->settings.fragmentationRefreshFrames;
    if (interval != 0 && d->fragmentationDirty.load(std::memory_order_relaxed) &&
        frameIndex >= d->fragmentationFrame.load(std::memory_order_relaxed) + interval)
        ComputeFragmentationNow(*d);
    return true;
}

uint64_t MemoryAllocator::GetCurrentFrameIndex()
{
    VulkanAllocatorData* d = Data();
    return d ? d->frameIndex.load(std::memory_order_relaxed) : 0;
}

bool MemoryAllocator::SetCustomBufferSize(VkDeviceSize size, const VulkanDevice& device)
{
    VkPhysicalDeviceMaintenance3Properties maint3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    props2.pNext = &maint3;
    vkGetPhysicalDeviceProperties2(device.GetPhysicalDevice(), &props2);
    const VkPhysicalDeviceMemoryProperties& mem = device.GetMemoryProperties();
    VkDeviceSize smallestHeap = VK_WHOLE_SIZE;
    for (uint32_t h = 0; h < mem.memoryHeapCount; ++h)
        smallestHeap = std::min(smallestHeap, mem.memoryHeaps[h].size);
    if (size < LARGE_BUFFER_SIZE)
    {
        SEDX_CORE_ERROR_TAG(
            kAllocTag,
            "SetCustomBufferSize({}): below LARGE_BUFFER_SIZE ({}), so a large buffer would not fit a block",
            size, LARGE_BUFFER_SIZE);
        return false;
    }
    if (size > maint3.maxMemoryAllocationSize)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "SetCustomBufferSize({}): above maxMemoryAllocationSize ({})", size,
                            maint3.maxMemoryAllocationSize);
        return false;
    }
    if (size > smallestHeap)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "SetCustomBufferSize({}): larger than the smallest heap ({} bytes)",
                            size, smallestHeap);
        return false;
    }
    s_CustomLargeBlockSize.store(size, std::memory_order_relaxed);
    // Pools already made keep their block size; later allocations get new pools.
    if (VulkanAllocatorData* d = Data())
    {
        std::lock_guard lock(d->poolMutex);
        for (auto& perType : d->pools)
            if (VmaPool old = perType[2].exchange(nullptr))
                d->replacedPools.push_back(old);
    }
    SEDX_CORE_INFO_TAG(kAllocTag, "large pool block size set to {} bytes for new pools", size);
    return true;
}

VkDeviceSize MemoryAllocator::GetCustomBufferSize()
{
    if (VkDeviceSize custom = s_CustomLargeBlockSize.load(std::memory_order_relaxed))
        return custom;
    VulkanAllocatorData* d = Data();
    return d ? d->settings.poolBlockSizes[2] : s_DefaultSettings.poolBlockSizes[2];
}

} // namespace SceneryEditorX
