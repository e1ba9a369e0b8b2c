// MemoryAllocator: the tagged front. Each call guards (MemorySystem::Require), calls the part or the
// pipeline that does the work, and logs one tagged line on failure. No policy lives here.
#include "AllocationPipeline.h"
#include "AllocatorInstance.h"
#include "Budget.h"
#include "MemorySystem.h"
#include "Statistics.h"
#include "Validation.h"

#include <SceneryEditorX/Core/Log.h>

#include <algorithm>
#include <bit>

namespace SceneryEditorX
{
using namespace detail;

namespace
{
// An empty tag, and kInternalTag (the library's own allocations, whose counters a user instance
// would otherwise share and skew), become "Untagged"; the reserved one with one error line.
std::string InstanceTag(std::string tag)
{
    if (tag == kInternalTag)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag,
                            "MemoryAllocator(\"{}\"): the tag is reserved for the library's own "
                            "allocations (staging buffers); this instance is tagged \"Untagged\"",
                            tag);
        return "Untagged";
    }
    return tag.empty() ? std::string("Untagged") : std::move(tag);
}
} // namespace

MemoryAllocator::MemoryAllocator(std::string tag)
    : m_Instance(std::make_unique<AllocatorInstance>(InstanceTag(std::move(tag))))
{
}

// Never shuts the global allocator down.
MemoryAllocator::~MemoryAllocator() = default;

const std::string& MemoryAllocator::GetTag() const
{
    return m_Instance->tag;
}

// ------------------------------------------------------------------------------------------------ lifecycle
bool MemoryAllocator::Init(const Ref<VulkanDevice>& device, uint32_t apiVersion)
{
    return MemorySystem::Create(device, apiVersion, AllocatorSettings{});
}

bool MemoryAllocator::Init(const Ref<VulkanDevice>& device, uint32_t apiVersion,
                           const AllocatorSettings& settings)
{
    return MemorySystem::Create(device, apiVersion, settings);
}

bool MemoryAllocator::Shutdown()
{
    return MemorySystem::Destroy();
}

bool MemoryAllocator::IsInitialized()
{
    return MemorySystem::Get() != nullptr;
}

VmaAllocator MemoryAllocator::GetAllocator()
{
    MemorySystem* system = MemorySystem::Require("GetAllocator");
    return system ? system->allocator : nullptr;
}

Ref<VulkanDevice> MemoryAllocator::GetDevice()
{
    MemorySystem* system = MemorySystem::Get();
    return system ? system->device : nullptr;
}

AllocatorSettings MemoryAllocator::GetSettings()
{
    MemorySystem* system = MemorySystem::Get();
    return system ? system->settings : MemorySystem::DefaultSettings();
}

bool MemoryAllocator::SetCurrentFrameIndex(uint64_t frameIndex)
{
    MemorySystem* system = MemorySystem::Require("SetCurrentFrameIndex");
    if (!system)
        return false;
    uint64_t previous = system->frameIndex.load(std::memory_order_relaxed);
    do
    {
        if (frameIndex < previous)
        {
            SEDX_CORE_ERROR_TAG(kAllocTag, "SetCurrentFrameIndex({}) goes backwards (current {})", frameIndex,
                                previous);
            return false;
        }
    } while (!system->frameIndex.compare_exchange_weak(previous, frameIndex, std::memory_order_acq_rel));
    vmaSetCurrentFrameIndex(system->allocator, static_cast<uint32_t>(frameIndex));
    BumpBudgetGeneration(); // VMA fetched the budget again
    system->ReleaseRetired(frameIndex);
    system->residency.CheckBudgetFell(*system); // a budget that fell below the usage: a round
    return true;
}

uint64_t MemoryAllocator::GetCurrentFrameIndex()
{
    MemorySystem* system = MemorySystem::Get();
    return system ? system->frameIndex.load(std::memory_order_relaxed) : 0;
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
    std::string error;
    if (size < LARGE_BUFFER_SIZE)
        error = fmt::format("below LARGE_BUFFER_SIZE ({}), so a large buffer would not fit a block",
                            LARGE_BUFFER_SIZE);
    else if (size > maint3.maxMemoryAllocationSize)
        error = fmt::format("above maxMemoryAllocationSize ({})", maint3.maxMemoryAllocationSize);
    else if (size > smallestHeap)
        error = fmt::format("larger than the smallest heap ({} bytes)", smallestHeap);
    if (!error.empty())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "SetCustomBufferSize({}): {}", size, error);
        return false;
    }
    PoolSet::SetCustomLargeBlockSize(size);
    // Pools already made keep their block size; later allocations get new pools.
    if (MemorySystem* system = MemorySystem::Get())
        system->pools.RetireLargePools();
    SEDX_CORE_INFO_TAG(kAllocTag, "large pool block size set to {} bytes for new pools", size);
    return true;
}

VkDeviceSize MemoryAllocator::GetCustomBufferSize()
{
    if (VkDeviceSize custom = PoolSet::CustomLargeBlockSize())
        return custom;
    return GetSettings().poolBlockSizes[static_cast<size_t>(SizeClass::Large)];
}

// ------------------------------------------------------------------------------------------------ resources
VmaAllocation MemoryAllocator::AllocateBuffer(const VkBufferCreateInfo& bufferInfo, VmaMemoryUsage usage,
                                              VkBuffer& outBuffer, std::source_location where)
{
    AllocationCreateInfo info;
    info.usage = usage;
    return AllocateBuffer(bufferInfo, info, outBuffer, where);
}

VmaAllocation MemoryAllocator::AllocateBuffer(const VkBufferCreateInfo& bufferInfo,
                                              const AllocationCreateInfo& createInfo, VkBuffer& outBuffer,
                                              std::source_location where)
{
    outBuffer = VK_NULL_HANDLE;
    MemorySystem* system = MemorySystem::Require("AllocateBuffer", m_Instance->tag);
    if (!system)
        return nullptr;
    std::string error;
    VmaAllocation allocation =
        CreateBuffer(*system, *m_Instance, bufferInfo, createInfo, outBuffer, where, error);
    if (!allocation)
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateBuffer({} bytes, {}) failed: {}", m_Instance->tag,
                            bufferInfo.size, MemoryUsageName(createInfo.usage), error);
    return allocation;
}

VmaAllocation MemoryAllocator::AllocateImage(const VkImageCreateInfo& imageInfo, VmaMemoryUsage usage,
                                             VkImage& outImage, VkDeviceSize* allocatedSize,
                                             std::source_location where)
{
    AllocationCreateInfo info;
    info.usage = usage;
    return AllocateImage(imageInfo, info, outImage, allocatedSize, where);
}

VmaAllocation MemoryAllocator::AllocateImage(const VkImageCreateInfo& imageInfo,
                                             const AllocationCreateInfo& createInfo, VkImage& outImage,
                                             VkDeviceSize* allocatedSize, std::source_location where)
{
    outImage = VK_NULL_HANDLE;
    if (allocatedSize)
        *allocatedSize = 0;
    MemorySystem* system = MemorySystem::Require("AllocateImage", m_Instance->tag);
    if (!system)
        return nullptr;
    std::string error;
    VmaAllocation allocation =
        CreateImage(*system, *m_Instance, imageInfo, createInfo, outImage, allocatedSize, where, error);
    if (!allocation)
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateImage failed: {}", m_Instance->tag, error);
    return allocation;
}

namespace
{
// The one way every destroy and free goes: guard, release, one error line.
bool ReleaseAndLog(AllocatorInstance& instance, const char* call, ResourceKind kind, uint64_t handle,
                   VmaAllocation allocation, bool deferred, bool anyHandle)
{
    MemorySystem* system = MemorySystem::Require(call, instance.tag);
    if (!system)
        return false;
    if (!anyHandle && (!allocation || handle == 0))
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] {}: null {}", instance.tag, call,
                            allocation ? "handle" : "allocation");
        return false;
    }
    switch (Release(*system, instance, kind, anyHandle ? 0 : handle, allocation, deferred))
    {
    case ReleaseResult::Released:
        return true;
    case ReleaseResult::Mismatch:
        SEDX_CORE_ERROR_TAG(kAllocTag,
                            "[{}] {}: the {} does not belong to this allocation; nothing destroyed",
                            instance.tag, call, KindName(kind));
        return false;
    case ReleaseResult::NotLive:
        break;
    }
    SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] {}: {}", instance.tag, call, NotLiveReason(*system, allocation));
    return false;
}
} // namespace

bool MemoryAllocator::DestroyBuffer(VkBuffer buffer, VmaAllocation allocation)
{
    return ReleaseAndLog(*m_Instance, "DestroyBuffer", ResourceKind::Buffer,
                         reinterpret_cast<uint64_t>(buffer), allocation, false, false);
}

bool MemoryAllocator::DestroyImage(VkImage image, VmaAllocation allocation)
{
    return ReleaseAndLog(*m_Instance, "DestroyImage", ResourceKind::Image, reinterpret_cast<uint64_t>(image),
                         allocation, false, false);
}

bool MemoryAllocator::DestroyBufferDeferred(VkBuffer buffer, VmaAllocation allocation)
{
    return ReleaseAndLog(*m_Instance, "DestroyBufferDeferred", ResourceKind::Buffer,
                         reinterpret_cast<uint64_t>(buffer), allocation, true, false);
}

bool MemoryAllocator::DestroyImageDeferred(VkImage image, VmaAllocation allocation)
{
    return ReleaseAndLog(*m_Instance, "DestroyImageDeferred", ResourceKind::Image,
                         reinterpret_cast<uint64_t>(image), allocation, true, false);
}

bool MemoryAllocator::Free(VmaAllocation allocation)
{
    return ReleaseAndLog(*m_Instance, "Free", ResourceKind::Buffer, 0, allocation, false, true);
}

VkBuffer MemoryAllocator::GetBuffer(VmaAllocation allocation)
{
    VkBuffer buffer = VK_NULL_HANDLE;
    if (MemorySystem* system = MemorySystem::Require("GetBuffer"); system && allocation)
        system->registry.With(allocation, [&](const AllocationRecord& r) { buffer = r.buffer; });
    return buffer;
}

VkImage MemoryAllocator::GetImage(VmaAllocation allocation)
{
    VkImage image = VK_NULL_HANDLE;
    if (MemorySystem* system = MemorySystem::Require("GetImage"); system && allocation)
        system->registry.With(allocation, [&](const AllocationRecord& r) { image = r.image; });
    return image;
}

// ------------------------------------------------------------------------------------------------ batches
std::vector<BatchBufferAllocation>
MemoryAllocator::AllocateBufferBatch(const std::vector<VkDeviceSize>& sizes, VkBufferUsageFlags usage,
                                     VmaMemoryUsage memoryUsage, std::source_location where)
{
    std::vector<BatchBufferAllocation> batch;
    MemorySystem* system = MemorySystem::Require("AllocateBufferBatch", m_Instance->tag);
    if (!system)
        return batch;
    const std::string& tag = m_Instance->tag;
    if (sizes.empty() || usage == 0)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateBufferBatch: {}", tag,
                            sizes.empty() ? "no sizes given" : "usage is None");
        return batch;
    }
    for (size_t i = 0; i < sizes.size(); ++i)
    {
        if (sizes[i] == 0)
        {
            SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateBufferBatch: size {} of {} is 0; nothing allocated",
                                tag, i, sizes.size());
            return batch;
        }
        // The size limits of ValidateBufferCreateInfo, per buffer, so that the error names it.
        VkDeviceSize limit = 0;
        if (const char* exceeded = ExceededBufferSizeLimit(*system, sizes[i], limit))
        {
            SEDX_CORE_ERROR_TAG(
                kAllocTag,
                "[{}] AllocateBufferBatch: buffer {} of {} ({} bytes) is larger than {}; nothing "
                "allocated",
                tag, i, sizes.size(), sizes[i], exceeded);
            return batch;
        }
    }
    AllocationCreateInfo createInfo;
    createInfo.usage = memoryUsage;
    VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    info.usage = usage;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    // The buffers differ only in size: check the request once, with the largest size (the limits
    // are upper bounds, and no size is 0), and translate it once.
    info.size = *std::max_element(sizes.begin(), sizes.end());
    BufferPlan plan;
    std::string error;
    if (!PlanBuffer(*system, *m_Instance, info, createInfo, plan, error))
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateBufferBatch: {}; nothing allocated", tag, error);
        return batch;
    }
    batch.reserve(sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i)
    {
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation allocation =
            CreatePlannedBuffer(*system, *m_Instance, plan, sizes[i], createInfo, buffer, where, error);
        if (!allocation)
        {
            // All or nothing: roll back what this batch made.
            for (const BatchBufferAllocation& made : batch)
                Release(*system, *m_Instance, ResourceKind::Buffer, 0, made.allocation, false);
            SEDX_CORE_ERROR_TAG(
                kAllocTag, "[{}] AllocateBufferBatch: buffer {} of {} ({} bytes) failed: {}; rolled back",
                tag, i, sizes.size(), sizes[i], error);
            batch.clear();
            return batch;
        }
        batch.push_back(BatchBufferAllocation{buffer, allocation, sizes[i]});
    }
    return batch;
}

bool MemoryAllocator::FreeBufferBatch(std::span<const BatchBufferAllocation> batch)
{
    // The range is the caller's and stays as it is; DestroyBuffer checks each pair (and logs one
    // line for each bad one), so a second free of the same entries frees nothing.
    bool allValid = true;
    for (const BatchBufferAllocation& entry : batch)
        allValid = DestroyBuffer(entry.buffer, entry.allocation) && allValid;
    return allValid;
}

// ------------------------------------------------------------------------------------------------ settings
void MemoryAllocator::SetAllocationStrategy(AllocationStrategy strategy)
{
    if (strategy != AllocationStrategy::Default && strategy != AllocationStrategy::SpeedOptimized &&
        strategy != AllocationStrategy::MemoryOptimized)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] SetAllocationStrategy: {} is not a strategy", m_Instance->tag,
                            static_cast<int>(strategy));
        return;
    }
    m_Instance->strategy.store(strategy, std::memory_order_relaxed);
}

MemoryAllocator::AllocationStrategy MemoryAllocator::GetAllocationStrategy() const
{
    return m_Instance->strategy.load(std::memory_order_relaxed);
}

bool MemoryAllocator::SetBufferAlignment(VkDeviceSize alignment)
{
    constexpr VkDeviceSize kMaxAlignment = VkDeviceSize(1) << 30;
    if (!std::has_single_bit(alignment) || alignment > kMaxAlignment)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] SetBufferAlignment({}): must be a power of two up to {}",
                            m_Instance->tag, alignment, kMaxAlignment);
        return false;
    }
    m_Instance->bufferAlignment.store(alignment, std::memory_order_relaxed);
    return true;
}

VkDeviceSize MemoryAllocator::GetBufferAlignment() const
{
    return m_Instance->bufferAlignment.load(std::memory_order_relaxed);
}

bool MemoryAllocator::SetMemoryUsageWarningThreshold(float fraction)
{
    if (m_Instance->budget.SetThreshold(fraction))
        return true;
    SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] SetMemoryUsageWarningThreshold({}): must be in (0, 1]",
                        m_Instance->tag, fraction);
    return false;
}

float MemoryAllocator::GetMemoryUsageWarningThreshold() const
{
    return m_Instance->budget.Threshold();
}

void MemoryAllocator::SetBudgetCallback(BudgetCallback callback)
{
    m_Instance->budget.SetCallback(std::move(callback));
}

MemoryBudget MemoryAllocator::GetMemoryBudget()
{
    MemorySystem* system = MemorySystem::Require("GetMemoryBudget", m_Instance->tag);
    return system ? m_Instance->budget.Check(*system, m_Instance->tag) : MemoryBudget{};
}

std::vector<HeapBudget> MemoryAllocator::GetHeapBudgets()
{
    MemorySystem* system = MemorySystem::Require("GetHeapBudgets");
    return system ? HeapBudgets(*system) : std::vector<HeapBudget>{};
}

size_t MemoryAllocator::ReleaseReuseCache()
{
    MemorySystem* system = MemorySystem::Require("ReleaseReuseCache");
    if (!system)
        return 0;
    const size_t released = system->ReleaseReuseCache();
    if (released)
        SEDX_CORE_TRACE_TAG(kAllocTag, "released {} cached SpeedOptimized buffers", released);
    return released;
}

// ------------------------------------------------------------------------------------------------ tracking
bool MemoryAllocator::ContainsAllocation(VmaAllocation allocation)
{
    MemorySystem* system = MemorySystem::Require("ContainsAllocation");
    return system && allocation && system->registry.Contains(allocation);
}

bool MemoryAllocator::SetAllocationName(VmaAllocation allocation, const std::string& name)
{
    MemorySystem* system = MemorySystem::Require("SetAllocationName", m_Instance->tag);
    if (!system)
        return false;
    const bool live =
        allocation &&
        system->registry.With(allocation,
                              [&](AllocationRecord& r)
                              {
                                  r.name = name;
                                  r.objectNamed = true;
                                  const std::string fullName = AllocationName(r.counters->tag, name);
                                  vmaSetAllocationName(system->allocator, allocation, fullName.c_str());
                                  const bool isBuffer = r.kind == ResourceKind::Buffer;
                                  system->device->SetObjectName(
                                      isBuffer ? VK_OBJECT_TYPE_BUFFER : VK_OBJECT_TYPE_IMAGE,
                                      isBuffer ? reinterpret_cast<uint64_t>(r.buffer)
                                               : reinterpret_cast<uint64_t>(r.image),
                                      fullName.c_str());
                              });
    if (!live)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] SetAllocationName('{}'): {}", m_Instance->tag, name,
                            NotLiveReason(*system, allocation));
        return false;
    }
    return true;
}

} // namespace SceneryEditorX
