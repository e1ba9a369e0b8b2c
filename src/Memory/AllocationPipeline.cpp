// The allocation pipeline and its mirror, release (AllocationPipeline.h).
#include "AllocationPipeline.h"

#include "Budget.h"
#include "GpuCopy.h"
#include "Validation.h"

#include <SceneryEditorX/Core/Log.h>

#include <optional>

namespace SceneryEditorX::detail
{
namespace
{
// The steps of the hot path are inlined into the two calls the front makes (allocate, release), as
// they were when this was one function: callgrind counted ~100 instructions a pair otherwise.
#define SEDX_PIPELINE_STEP [[gnu::always_inline]] inline

constexpr VmaAllocationCreateFlags kHostAccessMask =
    VMA_ALLOCATION_CREATE_HOST_ACCESS_SEQUENTIAL_WRITE_BIT | VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT;

SEDX_PIPELINE_STEP VmaAllocationCreateFlags StrategyFlags(MemoryAllocator::AllocationStrategy strategy)
{
    switch (strategy)
    {
    case MemoryAllocator::AllocationStrategy::SpeedOptimized:
        return VMA_ALLOCATION_CREATE_STRATEGY_MIN_TIME_BIT;
    case MemoryAllocator::AllocationStrategy::MemoryOptimized:
        return VMA_ALLOCATION_CREATE_STRATEGY_MIN_MEMORY_BIT;
    case MemoryAllocator::AllocationStrategy::Default:
        break;
    }
    return 0;
}

SEDX_PIPELINE_STEP VmaAllocationCreateInfo ToVma(const AllocationCreateInfo& info,
                                                 MemoryAllocator::AllocationStrategy strategy)
{
    VmaAllocationCreateInfo out{};
    out.usage = info.usage;
    out.requiredFlags = info.requiredFlags;
    out.preferredFlags = info.preferredFlags;
    out.priority = info.priority;
    out.flags = StrategyFlags(strategy);
    if (HasFlag(info.flags, AllocationFlags::Mapped))
        out.flags |= VMA_ALLOCATION_CREATE_MAPPED_BIT;
    if (HasFlag(info.flags, AllocationFlags::HostAccessSequentialWrite))
        out.flags |= VMA_ALLOCATION_CREATE_HOST_ACCESS_SEQUENTIAL_WRITE_BIT;
    if (HasFlag(info.flags, AllocationFlags::HostAccessRandom))
        out.flags |= VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT;
    if (HasFlag(info.flags, AllocationFlags::WithinBudget))
        out.flags |= VMA_ALLOCATION_CREATE_WITHIN_BUDGET_BIT;
    // VMA applies a per-allocation priority only to dedicated memory.
    if (HasFlag(info.flags, AllocationFlags::Dedicated) || info.priority != 0.5f)
        out.flags |= VMA_ALLOCATION_CREATE_DEDICATED_MEMORY_BIT;
    return out;
}

VkDeviceSize AlignUp(VkDeviceSize size, VkDeviceSize alignment)
{
    return (size + alignment - 1) & ~(alignment - 1);
}

// The create info as made (pNext dropped), for recreation by defragmentation.
template <class CreateInfo>
void RecordCreateInfo(AllocationRecord& record, CreateInfo& stored, const CreateInfo& info)
{
    stored = info;
    stored.pNext = nullptr;
    record.hadPNext = info.pNext != nullptr;
    if (info.sharingMode == VK_SHARING_MODE_CONCURRENT && info.pQueueFamilyIndices)
        record.queueFamilies.assign(info.pQueueFamilyIndices,
                                    info.pQueueFamilyIndices + info.queueFamilyIndexCount);
    stored.pQueueFamilyIndices = nullptr; // see queueFamilies
}

// The record fields that depend on where the memory is.
SEDX_PIPELINE_STEP void RecordPlacement(const MemorySystem& system, AllocationRecord& record,
                                        uint32_t memoryType, const AllocationCreateInfo& createInfo,
                                        const VmaAllocationCreateInfo& aci)
{
    record.memoryTypeIndex = memoryType;
    const VkMemoryPropertyFlags props = system.memoryProperties.memoryTypes[memoryType].propertyFlags;
    record.hostVisible = (props & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0;
    record.mappable = record.hostVisible && (!IsAutoUsage(createInfo.usage) || (aci.flags & kHostAccessMask));
    record.usage = createInfo.usage;
    record.name = createInfo.name;
}

// Fills the reuse key's fields other than the class (which depends on each size) and returns true,
// or returns false when the request is never cached: not SpeedOptimized, the cache is off, a pNext
// chain, concurrent sharing, or dedicated memory (or a priority, which needs it). Sizes above
// LARGE_BUFFER_SIZE are not cached either (CreatePlannedBuffer).
bool ReuseKeyFields(const MemorySystem& system, MemoryAllocator::AllocationStrategy strategy,
                    const VkBufferCreateInfo& info, const VmaAllocationCreateInfo& aci,
                    VkDeviceSize alignment, ReuseKey& key)
{
    if (strategy != MemoryAllocator::AllocationStrategy::SpeedOptimized ||
        system.settings.bufferReuseCacheBytes == 0 || info.pNext != nullptr ||
        info.sharingMode != VK_SHARING_MODE_EXCLUSIVE ||
        (aci.flags & VMA_ALLOCATION_CREATE_DEDICATED_MEMORY_BIT))
        return false;
    key.bufferUsage = info.usage;
    key.createFlags = info.flags;
    key.alignment = alignment;
    key.memoryUsage = aci.usage;
    key.allocationFlags = aci.flags & (VMA_ALLOCATION_CREATE_MAPPED_BIT | kHostAccessMask);
    key.requiredFlags = aci.requiredFlags;
    key.preferredFlags = aci.preferredFlags;
    key.SealBase();
    return true;
}

// Fills the record of a buffer, new or reused, in place. `info` is the create info it was made with.
SEDX_PIPELINE_STEP void FillBufferRecord(AllocationRecord& record, const MemorySystem& system,
                                         const AllocatorInstance& instance, const VkBufferCreateInfo& info,
                                         VkDeviceSize requested, const AllocationCreateInfo& createInfo,
                                         const VmaAllocationCreateInfo& aci, const CachedBuffer& placed,
                                         std::source_location where)
{
    record.kind = ResourceKind::Buffer;
    record.counters = instance.counters;
    record.buffer = placed.buffer;
    RecordCreateInfo(record, record.bufferInfo, info);
    record.size = placed.size;
    record.requestedSize = requested;
    RecordPlacement(system, record, placed.memoryTypeIndex, createInfo, aci);
    record.persistentlyMapped = placed.persistentlyMapped;
    record.sizeClass = placed.sizeClass;
    record.pool = placed.pool;
    if (system.settings.recordCallSites)
        record.where = where;
}

// Commit: names the allocation, enters it in the registry and counts it. `fill(record)` builds the
// record in place, in the registry's map node (no record is built beside it and moved in). Runs
// under this thread's creation stripe.
template <class Handle, class Fill>
SEDX_PIPELINE_STEP void Commit(MemorySystem& system, const AllocatorInstance& instance,
                               VmaAllocation allocation, const std::string& name, uint64_t size,
                               ResourceKind kind, Handle handle, VkObjectType objectType, Fill&& fill,
                               const CachedBuffer* reused = nullptr)
{
    bool objectNamed = false;
    if (system.settings.allocationNames)
    {
        if (name.empty())
        {
            // The tag alone, as sanitized once per tag. A reused buffer may carry it already; one
            // that carries its last owner's debug-utils name gets the tag there too.
            if (!reused || reused->namedAsTag != instance.counters)
                vmaSetAllocationNameStatic(system.allocator, allocation, instance.counters->vmaName.c_str());
            if (reused && reused->hasObjectName)
                system.device->SetObjectName(objectType, reinterpret_cast<uint64_t>(handle),
                                             instance.counters->vmaName.c_str());
        }
        else
        {
            const std::string fullName = AllocationName(instance.tag, name);
            vmaSetAllocationName(system.allocator, allocation, fullName.c_str());
            system.device->SetObjectName(objectType, reinterpret_cast<uint64_t>(handle), fullName.c_str());
            objectNamed = true;
        }
    }
    system.registry.Emplace(allocation,
                            [&](AllocationRecord& record)
                            {
                                fill(record);
                                record.objectNamed = objectNamed;
                            });
    system.usage.OnAllocate(*instance.counters, size, kind);
}

// Place from the reuse cache: registers a cached buffer as a new allocation of `instance`.
SEDX_PIPELINE_STEP VmaAllocation AdoptCached(MemorySystem& system, AllocatorInstance& instance,
                                             VkBufferCreateInfo info, const AllocationCreateInfo& createInfo,
                                             const VmaAllocationCreateInfo& aci, const ReuseKey& key,
                                             const CachedBuffer& cached, VkBuffer& outBuffer,
                                             std::source_location where)
{
    const VkDeviceSize requested = info.size;
    info.size = key.classSize;
    {
        std::lock_guard stripe(system.creationGuard.ForThisThread());
        Commit(
            system, instance, cached.allocation, createInfo.name, cached.size, ResourceKind::Buffer,
            cached.buffer, VK_OBJECT_TYPE_BUFFER,
            [&](AllocationRecord& record)
            {
                FillBufferRecord(record, system, instance, info, requested, createInfo, aci, cached, where);
                record.reusable = true;
                record.reuseKey = key;
            },
            &cached);
    }
    instance.budget.AfterChange(system, instance.tag);
    outBuffer = cached.buffer;
    return cached.allocation;
}

// Place through VMA: the size-class pool of the buffer's memory type, else VMA's default pools.
SEDX_PIPELINE_STEP VkResult PlaceBuffer(MemorySystem& system, const AllocatorInstance& instance,
                                        VkBufferCreateInfo& info, VkDeviceSize requested,
                                        const BufferPlan& plan, std::optional<SizeClass>& sizeClass,
                                        CachedBuffer& placed)
{
    VmaAllocationInfo allocInfo{};
    VkResult result = VK_ERROR_UNKNOWN;
    const uint32_t memoryType = plan.memoryType;
    if (sizeClass && memoryType != UINT32_MAX)
    {
        if (VmaPool pool = system.pools.Get(memoryType, *sizeClass))
        {
            VmaAllocationCreateInfo poolInfo = plan.aci;
            poolInfo.pool = pool;
            poolInfo.usage = VMA_MEMORY_USAGE_UNKNOWN;
            poolInfo.requiredFlags = 0;
            poolInfo.preferredFlags = 0;
            result = vmaCreateBufferWithAlignment(system.allocator, &info, &poolInfo, plan.alignment,
                                                  &placed.buffer, &placed.allocation, &allocInfo);
            if (result == VK_SUCCESS)
                placed.pool = pool;
            else
                SEDX_CORE_TRACE_TAG(kAllocTag,
                                    "[{}] size-class {} pool on memory type {} cannot serve {} bytes ({}); "
                                    "falling back to the default pools",
                                    instance.tag, static_cast<int>(*sizeClass), memoryType, info.size,
                                    VkResultName(result));
        }
    }
    if (result != VK_SUCCESS)
    {
        // Outside the pools the buffer is never cached: the size asked for.
        sizeClass.reset();
        info.size = requested;
        result = vmaCreateBufferWithAlignment(system.allocator, &info, &plan.aci, plan.alignment,
                                              &placed.buffer, &placed.allocation, &allocInfo);
    }
    if (result == VK_SUCCESS)
    {
        placed.size = allocInfo.size;
        placed.memoryTypeIndex = allocInfo.memoryType;
        placed.persistentlyMapped = allocInfo.pMappedData != nullptr;
        placed.sizeClass = sizeClass;
    }
    return result;
}

// Release, under the record's shard lock (Registry::RemoveIfAndRelease), so that a defragmentation
// pass (which holds every shard lock) never sees the allocation freed under it.
SEDX_PIPELINE_STEP void ReleaseLocked(MemorySystem& system, const std::string& tag, VmaAllocation allocation,
                                      AllocationRecord& record, bool deferred)
{
    if (record.mapCount > 0)
    {
        SEDX_CORE_WARN_TAG(kAllocTag, "[{}] {} '{}' destroyed while mapped ({} maps); unmapped it", tag,
                           KindName(record.kind), record.name, record.mapCount);
        for (; record.mapCount > 0; --record.mapCount)
            vmaUnmapMemory(system.allocator, allocation);
    }
    const uint32_t frames = system.settings.framesInFlight;
    const bool retire = deferred && frames > 0;
    // A deferred destroy, or a free that the pass in flight holds: the memory stays used until then.
    const bool holdForPass = !retire && (record.moving || system.PinnedByPass(allocation));
    if (retire || holdForPass)
        system.usage.OnFreeHeld(*record.counters, record.size, record.kind);
    else
        system.usage.OnFree(*record.counters, record.size, record.kind);
    CachedBuffer cached;
    if (record.reusable)
        cached =
            CachedBuffer{record.buffer,
                         allocation,
                         record.size,
                         record.memoryTypeIndex,
                         record.persistentlyMapped,
                         record.sizeClass,
                         record.pool,
                         system.settings.allocationNames && record.name.empty() ? record.counters : nullptr,
                         record.objectNamed};
    if (retire)
        // Still in use by the frames in flight: released (or cached) once they retire.
        system.retireQueue.Push(RetiredResource{system.frameIndex.load(std::memory_order_relaxed) + frames,
                                                record.kind, record.buffer, record.image, allocation,
                                                record.reusable, record.reuseKey, cached, record.size});
    else if (holdForPass)
        // The pass in flight copies it: released when the pass ends (its move is dropped then).
        system.HoldUntilPassEnds(RetiredResource{0, record.kind, record.buffer, record.image, allocation,
                                                 false, ReuseKey{}, CachedBuffer{}, record.size});
    else if (record.reusable)
        system.CacheOrDestroy(record.reuseKey, cached);
    else
        system.DestroyNow(record.kind, record.buffer, record.image, allocation);
}
} // namespace

// ------------------------------------------------------------------------------------------------
namespace
{
SEDX_PIPELINE_STEP bool PlanBufferStep(MemorySystem& system, const AllocatorInstance& instance,
                                       const VkBufferCreateInfo& bufferInfo,
                                       const AllocationCreateInfo& createInfo, BufferPlan& plan,
                                       std::string& error)
{
    error = ValidateBufferCreateInfo(system, bufferInfo);
    if (error.empty())
        error = ValidateAllocationCreateInfo(createInfo);
    if (!error.empty())
        return false;
    plan.info = bufferInfo;
    if (system.settings.addTransferUsage)
        plan.info.usage |= VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    const MemoryAllocator::AllocationStrategy strategy = instance.strategy.load(std::memory_order_relaxed);
    plan.aci = ToVma(createInfo, strategy);
    plan.alignment = instance.bufferAlignment.load(std::memory_order_relaxed);
    plan.poolEligible =
        !(plan.aci.flags & VMA_ALLOCATION_CREATE_DEDICATED_MEMORY_BIT) && plan.info.pNext == nullptr;
    plan.cacheable = ReuseKeyFields(system, strategy, plan.info, plan.aci, plan.alignment, plan.key);
    // Once per plan (a batch's buffers share it): the memory type does not depend on the size.
    if (plan.poolEligible &&
        system.pools.FindBufferMemoryType(plan.info, plan.aci, plan.memoryType) != VK_SUCCESS)
        plan.memoryType = UINT32_MAX;
    return true;
}

SEDX_PIPELINE_STEP VmaAllocation CreatePlannedBufferStep(MemorySystem& system, AllocatorInstance& instance,
                                                         const BufferPlan& plan, VkDeviceSize size,
                                                         const AllocationCreateInfo& createInfo,
                                                         VkBuffer& outBuffer, std::source_location where,
                                                         std::string& error)
{
    outBuffer = VK_NULL_HANDLE;
    VkBufferCreateInfo info = plan.info;
    info.size = size;

    // Plan the pool: SpeedOptimized hands out a cached buffer of the same key, or makes one of the
    // reuse class's size so that it can be handed out again once freed. The class is computed once.
    std::optional<ReuseKey> reuseKey;
    std::optional<SizeClass> sizeClass;
    if (plan.cacheable)
        if (const VkDeviceSize classSize = ReuseClassSize(size); classSize != 0)
            if ((sizeClass = SizeClassOf(AlignUp(classSize, plan.alignment))))
            {
                reuseKey = plan.key;
                reuseKey->SetClass(classSize);
                CachedBuffer cached;
                if (system.reuseCache.Take(*reuseKey, cached, system.settings.bufferReuseCacheBytes))
                    return AdoptCached(system, instance, info, createInfo, plan.aci, *reuseKey, cached,
                                       outBuffer, where);
                info.size = classSize;
            }
    if (!reuseKey && plan.poolEligible)
        sizeClass = SizeClassOf(AlignUp(size, plan.alignment));

    // Place. With AllocationFlags::MakeRoom, a placement that found no memory runs one eviction
    // round on its heap and is tried once more when the memory came back now.
    std::unique_lock stripe(system.creationGuard.ForThisThread());
    CachedBuffer placed;
    std::string roundNote;
    for (int attempt = 0;; ++attempt)
    {
        const VkResult result = PlaceBuffer(system, instance, info, size, plan, sizeClass, placed);
        if (result == VK_SUCCESS)
            break;
        stripe.unlock();
        int heap = -1;
        uint32_t type = plan.memoryType;
        if (type != UINT32_MAX || system.pools.FindBufferMemoryType(info, plan.aci, type) == VK_SUCCESS)
            heap = static_cast<int>(system.memoryProperties.memoryTypes[type].heapIndex);
        if (attempt == 0 && MakeRoomAfterFailure(system, result, heap, info.size, createInfo, roundNote))
        {
            stripe.lock();
            continue;
        }
        error = fmt::format("{} (size {}, usage {}, {}{})", VkResultName(result), size,
                            MemoryUsageName(createInfo.usage), BudgetSummary(system, heap), roundNote);
        return nullptr;
    }

    // Commit. A buffer outside the size-class pools (a pool failed and the default pools served it)
    // has another placement than its key promises: it is freed, not cached.
    Commit(system, instance, placed.allocation, createInfo.name, placed.size, ResourceKind::Buffer,
           placed.buffer, VK_OBJECT_TYPE_BUFFER,
           [&](AllocationRecord& record)
           {
               FillBufferRecord(record, system, instance, info, size, createInfo, plan.aci, placed, where);
               record.reusable = reuseKey && placed.pool != nullptr;
               if (record.reusable)
                   record.reuseKey = *reuseKey;
           });
    stripe.unlock();

    // Notify.
    instance.budget.AfterChange(system, instance.tag);
    outBuffer = placed.buffer;
    return placed.allocation;
}

} // namespace

bool PlanBuffer(MemorySystem& system, const AllocatorInstance& instance, const VkBufferCreateInfo& bufferInfo,
                const AllocationCreateInfo& createInfo, BufferPlan& plan, std::string& error)
{
    return PlanBufferStep(system, instance, bufferInfo, createInfo, plan, error);
}

VmaAllocation CreatePlannedBuffer(MemorySystem& system, AllocatorInstance& instance, const BufferPlan& plan,
                                  VkDeviceSize size, const AllocationCreateInfo& createInfo,
                                  VkBuffer& outBuffer, std::source_location where, std::string& error)
{
    return CreatePlannedBufferStep(system, instance, plan, size, createInfo, outBuffer, where, error);
}

VmaAllocation CreateBuffer(MemorySystem& system, AllocatorInstance& instance,
                           const VkBufferCreateInfo& bufferInfo, const AllocationCreateInfo& createInfo,
                           VkBuffer& outBuffer, std::source_location where, std::string& error)
{
    outBuffer = VK_NULL_HANDLE;
    BufferPlan plan;
    if (!PlanBufferStep(system, instance, bufferInfo, createInfo, plan, error))
        return nullptr;
    return CreatePlannedBufferStep(system, instance, plan, bufferInfo.size, createInfo, outBuffer, where,
                                   error);
}

VmaAllocation CreateImage(MemorySystem& system, AllocatorInstance& instance,
                          const VkImageCreateInfo& imageInfo, const AllocationCreateInfo& createInfo,
                          VkImage& outImage, VkDeviceSize* allocatedSize, std::source_location where,
                          std::string& error)
{
    outImage = VK_NULL_HANDLE;
    if (allocatedSize)
        *allocatedSize = 0;
    VkImageUsageFlags usage = 0;
    error = ValidateImageCreateInfo(system, imageInfo, usage);
    if (error.empty())
        error = ValidateAllocationCreateInfo(createInfo);
    if (!error.empty())
        return nullptr;
    VkImageCreateInfo info = imageInfo;
    info.usage = usage;
    const VmaAllocationCreateInfo aci = ToVma(createInfo, instance.strategy.load(std::memory_order_relaxed));
    VkImage image = VK_NULL_HANDLE;
    VmaAllocation allocation = nullptr;
    VmaAllocationInfo allocInfo{};
    std::unique_lock stripe(system.creationGuard.ForThisThread());
    std::string roundNote;
    // Images up to the largest size class and half the image pool's block (by their data size) go to
    // the image pool of their memory type (VMA refuses one whose real size exceeds the block, which
    // then goes to the default pools), others to VMA's default pools (see docs/ARCHITECTURE.md).
    VmaPool placedPool = nullptr;
    const std::optional<SizeClass> sizeClass = SizeClassOf(ImageDataSize(info));
    for (int attempt = 0;; ++attempt)
    {
        VkResult result = VK_ERROR_UNKNOWN;
        placedPool = nullptr;
        uint32_t memoryType = UINT32_MAX;
        if (sizeClass && info.pNext == nullptr && !(aci.flags & VMA_ALLOCATION_CREATE_DEDICATED_MEMORY_BIT) &&
            system.pools.FindImageMemoryType(info, aci, memoryType) == VK_SUCCESS &&
            ImageDataSize(info) <= system.pools.ImageBlockSize(memoryType) / 2)
        {
            if (VmaPool pool = system.pools.Get(memoryType, *sizeClass, PoolKind::Image))
            {
                VmaAllocationCreateInfo poolInfo = aci;
                poolInfo.pool = pool;
                poolInfo.usage = VMA_MEMORY_USAGE_UNKNOWN;
                poolInfo.requiredFlags = 0;
                poolInfo.preferredFlags = 0;
                result = vmaCreateImage(system.allocator, &info, &poolInfo, &image, &allocation, &allocInfo);
                if (result == VK_SUCCESS)
                    placedPool = pool;
                else
                    SEDX_CORE_TRACE_TAG(kAllocTag,
                                        "[{}] the image pool on memory type {} cannot serve the image ({}); "
                                        "falling back to the default pools",
                                        instance.tag, memoryType, VkResultName(result));
            }
        }
        if (result != VK_SUCCESS)
            result = vmaCreateImage(system.allocator, &info, &aci, &image, &allocation, &allocInfo);
        if (result == VK_SUCCESS)
            break;
        stripe.unlock();
        int heap = -1;
        if (uint32_t type = 0;
            vmaFindMemoryTypeIndexForImageInfo(system.allocator, &info, &aci, &type) == VK_SUCCESS)
            heap = static_cast<int>(system.memoryProperties.memoryTypes[type].heapIndex);
        if (attempt == 0 &&
            MakeRoomAfterFailure(system, result, heap, MemoryAllocator::ImageDataSize(imageInfo), createInfo,
                                 roundNote))
        {
            stripe.lock();
            continue;
        }
        error = fmt::format("{} ({}x{}x{}, {} mips, format {}, usage {}, {}{})", VkResultName(result),
                            imageInfo.extent.width, imageInfo.extent.height, imageInfo.extent.depth,
                            imageInfo.mipLevels, static_cast<int>(imageInfo.format),
                            MemoryUsageName(createInfo.usage), BudgetSummary(system, heap), roundNote);
        return nullptr;
    }
    if (allocatedSize)
        *allocatedSize = allocInfo.size;
    Commit(system, instance, allocation, createInfo.name, allocInfo.size, ResourceKind::Image, image,
           VK_OBJECT_TYPE_IMAGE,
           [&](AllocationRecord& record)
           {
               record.kind = ResourceKind::Image;
               record.counters = instance.counters;
               record.image = image;
               RecordCreateInfo(record, record.imageInfo, info);
               record.size = allocInfo.size;
               record.requestedSize = MemoryAllocator::ImageDataSize(imageInfo);
               RecordPlacement(system, record, allocInfo.memoryType, createInfo, aci);
               record.persistentlyMapped = allocInfo.pMappedData != nullptr;
               record.pool = placedPool;
               record.layout = imageInfo.initialLayout;
               if (system.settings.recordCallSites)
                   record.where = where;
           });
    stripe.unlock();
    instance.budget.AfterChange(system, instance.tag);
    outImage = image;
    return allocation;
}

// ------------------------------------------------------------------------------------------------
ReleaseResult Release(MemorySystem& system, AllocatorInstance& instance, ResourceKind kind, uint64_t handle,
                      VmaAllocation allocation, bool deferred)
{
    bool mismatch = false;
    const bool removed =
        allocation &&
        system.registry.RemoveIfAndRelease(
            allocation,
            [&](const AllocationRecord& r)
            {
                if (handle == 0)
                    return true;
                const uint64_t bound = kind == ResourceKind::Buffer ? reinterpret_cast<uint64_t>(r.buffer)
                                                                    : reinterpret_cast<uint64_t>(r.image);
                // The handle before the latest move counts too: a caller on another thread may have
                // read it (GetBuffer/GetImage) just before a defragmentation pass moved it.
                mismatch = r.kind != kind || (bound != handle && r.previousHandle != handle);
                return !mismatch;
            },
            [&](AllocationRecord& r) { ReleaseLocked(system, instance.tag, allocation, r, deferred); });
    if (!removed)
        return mismatch ? ReleaseResult::Mismatch : ReleaseResult::NotLive;
    instance.budget.AfterChange(system, instance.tag, true);
    return ReleaseResult::Released;
}

const char* NotLiveReason(MemorySystem& system, VmaAllocation allocation)
{
    if (!allocation)
        return "the allocation is null";
    // Contained only when another thread made a new allocation at this address meanwhile.
    return system.registry.Contains(allocation)
               ? "the allocation was freed while the call ran"
               : "the allocation is not live (already freed, or not made by this system)";
}

} // namespace SceneryEditorX::detail
