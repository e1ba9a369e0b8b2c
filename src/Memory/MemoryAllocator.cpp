// The tagged front: allocation, destruction, batches, mapping, names and per-instance settings.
#include "AllocatorData.h"
#include "FlushRange.h"
#include "Validation.h"

#include <SceneryEditorX/Core/Log.h>

#include <algorithm>
#include <bit>
#include <cmath>

namespace SceneryEditorX
{
using namespace detail;

namespace detail
{
std::string AllocationName(const std::string& tag, const std::string& name)
{
    std::string full = name.empty() ? tag : tag + ":" + name;
    // VMA's JSON writer (statistics dumps) asserts on control characters, and they would garble log
    // lines and debug-utils names too; each one becomes '?'. Bytes of 0x80 and above (UTF-8) pass.
    for (char& c : full)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            c = '?';
    return full;
}
} // namespace detail

namespace
{
constexpr VmaAllocationCreateFlags kHostAccessMask =
    VMA_ALLOCATION_CREATE_HOST_ACCESS_SEQUENTIAL_WRITE_BIT | VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT;

VmaAllocationCreateFlags StrategyFlags(MemoryAllocator::AllocationStrategy strategy)
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

VmaAllocationCreateInfo ToVma(const AllocationCreateInfo& info, MemoryAllocator::AllocationStrategy strategy)
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

// Memory type of a buffer request, cached per (buffer usage, sharing, memory usage, host access,
// required and preferred flags): VMA's search creates a temporary buffer.
VkResult FindBufferMemoryType(VulkanAllocatorData& d, const VkBufferCreateInfo& info,
                              const VmaAllocationCreateInfo& aci, uint32_t& outType)
{
    const uint64_t key =
        uint64_t(info.usage) | (uint64_t(aci.usage & 0xF) << 32) |
        (uint64_t((aci.flags & kHostAccessMask) ? ((aci.flags & kHostAccessMask) >> 10) : 0) << 36) |
        (uint64_t(aci.requiredFlags & 0x1FF) << 39) | (uint64_t(aci.preferredFlags & 0x1FF) << 48) |
        (uint64_t(info.sharingMode == VK_SHARING_MODE_CONCURRENT) << 57);
    {
        std::shared_lock lock(d.typeCacheMutex);
        if (auto it = d.bufferTypeCache.find(key); it != d.bufferTypeCache.end())
        {
            outType = it->second;
            return VK_SUCCESS;
        }
    }
    VmaAllocationCreateInfo probe = aci;
    probe.flags &= kHostAccessMask;
    VkResult r = vmaFindMemoryTypeIndexForBufferInfo(d.allocator, &info, &probe, &outType);
    if (r == VK_SUCCESS)
    {
        std::unique_lock lock(d.typeCacheMutex);
        d.bufferTypeCache.emplace(key, outType);
    }
    return r;
}

void RecordCreateInfo(AllocationRecord& record, const VkBufferCreateInfo& info)
{
    record.bufferInfo = info;
    record.bufferInfo.pNext = nullptr;
    record.hadPNext = info.pNext != nullptr;
    if (info.sharingMode == VK_SHARING_MODE_CONCURRENT && info.pQueueFamilyIndices)
        record.queueFamilies.assign(info.pQueueFamilyIndices,
                                    info.pQueueFamilyIndices + info.queueFamilyIndexCount);
    record.bufferInfo.pQueueFamilyIndices = nullptr; // see queueFamilies
}

void RecordCreateInfo(AllocationRecord& record, const VkImageCreateInfo& info)
{
    record.imageInfo = info;
    record.imageInfo.pNext = nullptr;
    record.hadPNext = info.pNext != nullptr;
    if (info.sharingMode == VK_SHARING_MODE_CONCURRENT && info.pQueueFamilyIndices)
        record.queueFamilies.assign(info.pQueueFamilyIndices,
                                    info.pQueueFamilyIndices + info.queueFamilyIndexCount);
    record.imageInfo.pQueueFamilyIndices = nullptr;
}

const char* NotLiveReason(VulkanAllocatorData& d, VmaAllocation allocation)
{
    if (!allocation)
        return "the allocation is null";
    return d.registry.Contains(allocation)
               ? nullptr
               : "the allocation is not live (already freed, or not made by this system)";
}
} // namespace

// ------------------------------------------------------------------------------------------------
MemoryAllocator::MemoryAllocator(std::string tag) : m_Tag(std::move(tag))
{
    if (m_Tag.empty())
        m_Tag = "Untagged";
    m_Counters = AcquireTagCounters(m_Tag);
}

MemoryAllocator::~MemoryAllocator()
{
    // Never shuts the global allocator down; only stops counting as an instance above its threshold.
    CountAboveThreshold(m_AboveThreshold.load(std::memory_order_relaxed), -1);
}

// ------------------------------------------------------------------------------------------------
struct AllocatorAccess
{
    // What the buffers of one request share, worked out once: the checked and completed create
    // info, VMA's create info, the alignment, and the reuse key's fields (SpeedOptimized).
    struct BufferPlan
    {
        VkBufferCreateInfo info{};
        VmaAllocationCreateInfo aci{};
        VkDeviceSize alignment = 1;
        bool cacheable = false; // the request may use the reuse cache (sizes permitting)
        ReuseKey key;           // its fields and baseHash, when cacheable
    };

    // Checks a request (with the largest size it will be used for) and fills `plan`. False with
    // `error` set when it is invalid.
    static bool PlanBuffer(MemoryAllocator& self, VulkanAllocatorData& d,
                           const VkBufferCreateInfo& bufferInfo, const AllocationCreateInfo& createInfo,
                           BufferPlan& plan, std::string& error)
    {
        error = ValidateBufferCreateInfo(d, bufferInfo);
        if (error.empty())
            error = ValidateAllocationCreateInfo(createInfo);
        if (!error.empty())
            return false;
        plan.info = bufferInfo;
        if (d.settings.addTransferUsage)
            plan.info.usage |= VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
        const MemoryAllocator::AllocationStrategy strategy = self.m_Strategy.load(std::memory_order_relaxed);
        plan.aci = ToVma(createInfo, strategy);
        plan.alignment = self.m_BufferAlignment.load(std::memory_order_relaxed);
        plan.cacheable = ReuseKeyFields(d, strategy, plan.info, plan.aci, plan.alignment, plan.key);
        return true;
    }

    // The one allocation path of buffers. Returns null and fills `error` on failure.
    static VmaAllocation CreateBuffer(MemoryAllocator& self, VulkanAllocatorData& d,
                                      const VkBufferCreateInfo& bufferInfo,
                                      const AllocationCreateInfo& createInfo, VkBuffer& outBuffer,
                                      std::source_location where, std::string& error)
    {
        outBuffer = VK_NULL_HANDLE;
        BufferPlan plan;
        if (!PlanBuffer(self, d, bufferInfo, createInfo, plan, error))
            return nullptr;
        return CreatePlanned(self, d, plan, bufferInfo.size, createInfo, outBuffer, where, error);
    }

    // One buffer of a checked plan; `size` within the size the plan was checked with.
    static VmaAllocation CreatePlanned(MemoryAllocator& self, VulkanAllocatorData& d, const BufferPlan& plan,
                                       VkDeviceSize size, const AllocationCreateInfo& createInfo,
                                       VkBuffer& outBuffer, std::source_location where, std::string& error)
    {
        outBuffer = VK_NULL_HANDLE;
        VkBufferCreateInfo info = plan.info;
        info.size = size;
        const VmaAllocationCreateInfo& aci = plan.aci;
        const VkDeviceSize alignment = plan.alignment;

        // SpeedOptimized: hand out a cached buffer of the same key, or make one of the class size so
        // that it can be handed out again once freed.
        std::optional<ReuseKey> reuseKey;
        if (plan.cacheable)
        {
            const VkDeviceSize classSize = ReuseClassSize(size);
            if (classSize != 0 && SizeClassOf((classSize + alignment - 1) & ~(alignment - 1)) >= 0)
            {
                reuseKey = plan.key;
                reuseKey->SetClass(classSize);
            }
        }
        if (reuseKey)
        {
            CachedBuffer cached;
            if (d.reuseCache.Take(*reuseKey, cached, d.settings.bufferReuseCacheBytes))
                return AdoptCached(self, d, info, createInfo, aci, *reuseKey, cached, outBuffer, where);
            info.size = reuseKey->classSize;
        }

        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation allocation = nullptr;
        VmaAllocationInfo allocInfo{};
        VkResult result = VK_ERROR_UNKNOWN;
        std::unique_lock stripe(d.walkGuard.ForThisThread());
        int sizeClass = -1;
        uint32_t memoryType = UINT32_MAX;
        VmaPool usedPool = nullptr;
        const bool poolEligible =
            !(aci.flags & VMA_ALLOCATION_CREATE_DEDICATED_MEMORY_BIT) && info.pNext == nullptr;
        if (poolEligible)
            sizeClass = SizeClassOf((info.size + alignment - 1) & ~(alignment - 1));
        if (sizeClass >= 0 && FindBufferMemoryType(d, info, aci, memoryType) == VK_SUCCESS)
        {
            if (VmaPool pool = GetPool(d, memoryType, sizeClass))
            {
                VmaAllocationCreateInfo poolInfo = aci;
                poolInfo.pool = pool;
                poolInfo.usage = VMA_MEMORY_USAGE_UNKNOWN;
                poolInfo.requiredFlags = 0;
                poolInfo.preferredFlags = 0;
                result = vmaCreateBufferWithAlignment(d.allocator, &info, &poolInfo, alignment, &buffer,
                                                      &allocation, &allocInfo);
                if (result == VK_SUCCESS)
                    usedPool = pool;
                if (result != VK_SUCCESS)
                    SEDX_CORE_TRACE_TAG(
                        kAllocTag,
                        "[{}] size-class {} pool on memory type {} cannot serve {} bytes ({}); "
                        "falling back to the default pools",
                        self.m_Tag, sizeClass, memoryType, info.size, VkResultName(result));
            }
        }
        if (result != VK_SUCCESS)
        {
            // Outside the pools the buffer is never cached (see reusable below): the size asked for.
            sizeClass = -1;
            info.size = size;
            result = vmaCreateBufferWithAlignment(d.allocator, &info, &aci, alignment, &buffer, &allocation,
                                                  &allocInfo);
        }
        if (result != VK_SUCCESS)
        {
            int heap = -1;
            uint32_t type = 0;
            if (FindBufferMemoryType(d, info, aci, type) == VK_SUCCESS)
                heap = static_cast<int>(d.memoryProperties.memoryTypes[type].heapIndex);
            error = fmt::format("{} (size {}, usage {}, {})", VkResultName(result), size,
                                MemoryUsageName(createInfo.usage), BudgetSummary(d, heap));
            return nullptr;
        }

        AllocationRecord record;
        FillBufferRecord(self, d, record, info, size, createInfo, aci,
                         CachedBuffer{buffer, allocation, allocInfo.size, allocInfo.memoryType,
                                      allocInfo.pMappedData != nullptr, sizeClass, usedPool});
        // A buffer outside the size-class pools (a pool failed and the default pools served it) has
        // another placement than its key promises: it is freed, not cached.
        record.reusable = reuseKey && usedPool != nullptr;
        if (record.reusable)
            record.reuseKey = *reuseKey;
        if (d.settings.recordCallSites)
            record.where = where;
        Register(self, d, allocation, std::move(record), buffer, VK_OBJECT_TYPE_BUFFER);
        stripe.unlock();
        self.CheckBudgetAfterChange();
        outBuffer = buffer;
        return allocation;
    }

    // Fills the reuse key's fields other than the class (which depends on each size) and returns
    // true, or returns false when the request is never cached: not SpeedOptimized, the cache is off,
    // a pNext chain, concurrent sharing, or dedicated memory (or a priority, which needs it). Sizes
    // above LARGE_BUFFER_SIZE are not cached either (CreatePlanned).
    static bool ReuseKeyFields(VulkanAllocatorData& d, MemoryAllocator::AllocationStrategy strategy,
                               const VkBufferCreateInfo& info, const VmaAllocationCreateInfo& aci,
                               VkDeviceSize alignment, ReuseKey& key)
    {
        if (strategy != MemoryAllocator::AllocationStrategy::SpeedOptimized ||
            d.settings.bufferReuseCacheBytes == 0 || info.pNext != nullptr ||
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

    // The fields of a buffer's record that a new and a reused buffer share. `info` is the create
    // info the buffer was made with; `placed` says where its memory is.
    static void FillBufferRecord(MemoryAllocator& self, VulkanAllocatorData& d, AllocationRecord& record,
                                 const VkBufferCreateInfo& info, VkDeviceSize requested,
                                 const AllocationCreateInfo& createInfo, const VmaAllocationCreateInfo& aci,
                                 const CachedBuffer& placed)
    {
        record.kind = ResourceKind::Buffer;
        record.counters = self.m_Counters;
        record.buffer = placed.buffer;
        RecordCreateInfo(record, info);
        record.size = placed.size;
        record.requestedSize = requested;
        record.usage = createInfo.usage;
        record.memoryTypeIndex = placed.memoryTypeIndex;
        const VkMemoryPropertyFlags props =
            d.memoryProperties.memoryTypes[placed.memoryTypeIndex].propertyFlags;
        record.hostVisible = (props & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0;
        record.mappable =
            record.hostVisible && (!IsAutoUsage(createInfo.usage) || (aci.flags & kHostAccessMask));
        record.persistentlyMapped = placed.persistentlyMapped;
        record.poolClass = placed.poolClass;
        record.pool = placed.pool;
        record.name = createInfo.name;
    }

    // Registers a buffer taken from the reuse cache as a new allocation of `self`.
    static VmaAllocation AdoptCached(MemoryAllocator& self, VulkanAllocatorData& d, VkBufferCreateInfo info,
                                     const AllocationCreateInfo& createInfo,
                                     const VmaAllocationCreateInfo& aci, const ReuseKey& key,
                                     const CachedBuffer& cached, VkBuffer& outBuffer,
                                     std::source_location where)
    {
        const VkDeviceSize requested = info.size;
        info.size = key.classSize;
        AllocationRecord record;
        FillBufferRecord(self, d, record, info, requested, createInfo, aci, cached);
        record.reusable = true;
        record.reuseKey = key;
        if (d.settings.recordCallSites)
            record.where = where;
        {
            std::lock_guard stripe(d.walkGuard.ForThisThread());
            Register(self, d, cached.allocation, std::move(record), cached.buffer, VK_OBJECT_TYPE_BUFFER,
                     &cached);
        }
        self.CheckBudgetAfterChange();
        outBuffer = cached.buffer;
        return cached.allocation;
    }

    static VmaAllocation CreateImage(MemoryAllocator& self, VulkanAllocatorData& d,
                                     const VkImageCreateInfo& imageInfo,
                                     const AllocationCreateInfo& createInfo, VkImage& outImage,
                                     VkDeviceSize* allocatedSize, std::source_location where,
                                     std::string& error)
    {
        outImage = VK_NULL_HANDLE;
        if (allocatedSize)
            *allocatedSize = 0;
        VkImageUsageFlags usage = 0;
        error = ValidateImageCreateInfo(d, imageInfo, usage);
        if (error.empty())
            error = ValidateAllocationCreateInfo(createInfo);
        if (!error.empty())
            return nullptr;
        VkImageCreateInfo info = imageInfo;
        info.usage = usage;
        const VmaAllocationCreateInfo aci =
            ToVma(createInfo, self.m_Strategy.load(std::memory_order_relaxed));
        VkImage image = VK_NULL_HANDLE;
        VmaAllocation allocation = nullptr;
        VmaAllocationInfo allocInfo{};
        std::unique_lock stripe(d.walkGuard.ForThisThread());
        // Images live in VMA's default pools (see docs/ARCHITECTURE.md).
        const VkResult result = vmaCreateImage(d.allocator, &info, &aci, &image, &allocation, &allocInfo);
        if (result != VK_SUCCESS)
        {
            error = fmt::format("{} ({}x{}x{}, {} mips, format {}, usage {}, {})", VkResultName(result),
                                imageInfo.extent.width, imageInfo.extent.height, imageInfo.extent.depth,
                                imageInfo.mipLevels, static_cast<int>(imageInfo.format),
                                MemoryUsageName(createInfo.usage), BudgetSummary(d, -1));
            return nullptr;
        }
        AllocationRecord record;
        record.kind = ResourceKind::Image;
        record.counters = self.m_Counters;
        record.image = image;
        RecordCreateInfo(record, info);
        record.size = allocInfo.size;
        record.requestedSize = MemoryAllocator::ImageDataSize(imageInfo);
        record.usage = createInfo.usage;
        record.memoryTypeIndex = allocInfo.memoryType;
        const VkMemoryPropertyFlags props =
            d.memoryProperties.memoryTypes[allocInfo.memoryType].propertyFlags;
        record.hostVisible = (props & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0;
        record.mappable =
            record.hostVisible && (!IsAutoUsage(createInfo.usage) || (aci.flags & kHostAccessMask));
        record.persistentlyMapped = allocInfo.pMappedData != nullptr;
        record.layout = imageInfo.initialLayout;
        record.name = createInfo.name;
        if (d.settings.recordCallSites)
            record.where = where;
        if (allocatedSize)
            *allocatedSize = allocInfo.size;
        Register(self, d, allocation, std::move(record), image, VK_OBJECT_TYPE_IMAGE);
        stripe.unlock();
        self.CheckBudgetAfterChange();
        outImage = image;
        return allocation;
    }

    template <class Handle>
    static void Register(MemoryAllocator& self, VulkanAllocatorData& d, VmaAllocation allocation,
                         AllocationRecord&& record, Handle handle, VkObjectType objectType,
                         const CachedBuffer* reused = nullptr)
    {
        if (d.settings.allocationNames)
        {
            if (record.name.empty())
            {
                // The tag alone, as sanitized once per tag. A reused buffer may carry it already;
                // one that carries its last owner's debug-utils name gets the tag there too.
                if (!reused || reused->namedAsTag != self.m_Counters)
                    vmaSetAllocationName(d.allocator, allocation, self.m_Counters->vmaName.c_str());
                if (reused && reused->hasObjectName)
                    d.device->SetObjectName(objectType, reinterpret_cast<uint64_t>(handle),
                                            self.m_Counters->vmaName.c_str());
            }
            else
            {
                const std::string fullName = AllocationName(self.m_Tag, record.name);
                vmaSetAllocationName(d.allocator, allocation, fullName.c_str());
                d.device->SetObjectName(objectType, reinterpret_cast<uint64_t>(handle), fullName.c_str());
                record.objectNamed = true;
            }
        }
        const uint64_t size = record.size;
        const ResourceKind kind = record.kind;
        d.registry.Insert(allocation, std::move(record));
        self.m_Counters->OnAllocate(size, kind);
        RaisePeak(d.peakBytes, NonNegative(d.liveBytes.Add(static_cast<int64_t>(size))));
        RaisePeak(d.peakCount, NonNegative(d.liveCount.Add(1)));
        MarkFragmentationDirty(d);
    }

    // Releases a record taken out of the registry, now or through the retire queue. Runs under the
    // record's shard lock (see Registry::RemoveIfAndRelease); the budget check comes after, unlocked.
    static void ReleaseLocked(MemoryAllocator& self, VulkanAllocatorData& d, VmaAllocation allocation,
                              AllocationRecord& record, bool deferred)
    {
        if (record.mapCount > 0)
        {
            SEDX_CORE_WARN_TAG(kAllocTag, "[{}] {} '{}' destroyed while mapped ({} maps); unmapped it",
                               self.m_Tag, KindName(record.kind), record.name, record.mapCount);
            for (; record.mapCount > 0; --record.mapCount)
                vmaUnmapMemory(d.allocator, allocation);
        }
        record.counters->OnFree(record.size, record.kind);
        d.liveBytes.Add(-static_cast<int64_t>(record.size));
        d.liveCount.Add(-1);
        CachedBuffer cached;
        if (record.reusable)
            cached =
                CachedBuffer{record.buffer,
                             allocation,
                             record.size,
                             record.memoryTypeIndex,
                             record.persistentlyMapped,
                             record.poolClass,
                             record.pool,
                             d.settings.allocationNames && record.name.empty() ? record.counters : nullptr,
                             record.objectNamed};
        const uint32_t frames = d.settings.framesInFlight;
        if (deferred && frames > 0)
        {
            // Still in use by the frames in flight: released (or cached) once they retire.
            std::lock_guard lock(d.retireMutex);
            d.retired.push_back(RetiredResource{d.frameIndex.load(std::memory_order_relaxed) + frames,
                                                record.kind, record.buffer, record.image, allocation,
                                                record.reusable, record.reuseKey, cached});
        }
        else if (record.reusable)
        {
            CacheOrDestroy(d, record.reuseKey, cached);
        }
        else
        {
            DestroyResourceNow(d, record.kind, record.buffer, record.image, allocation);
        }
    }

    static bool Destroy(MemoryAllocator& self, const char* call, ResourceKind kind, uint64_t handle,
                        VmaAllocation allocation, bool deferred)
    {
        VulkanAllocatorData* d = Data();
        if (!d)
        {
            SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] {} called before Init or after Shutdown", self.m_Tag, call);
            return false;
        }
        if (!allocation || handle == 0)
        {
            SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] {}: null {}", self.m_Tag, call,
                                allocation ? "handle" : "allocation");
            return false;
        }
        bool mismatch = false;
        const bool removed = d->registry.RemoveIfAndRelease(
            allocation,
            [&](const AllocationRecord& r)
            {
                const uint64_t bound = kind == ResourceKind::Buffer ? reinterpret_cast<uint64_t>(r.buffer)
                                                                    : reinterpret_cast<uint64_t>(r.image);
                // The handle before the latest move counts too: a caller on another thread may
                // have read it (GetBuffer/GetImage) just before a defragmentation pass moved it.
                mismatch = r.kind != kind || (bound != handle && r.previousHandle != handle);
                return !mismatch;
            },
            [&](AllocationRecord& r) { ReleaseLocked(self, *d, allocation, r, deferred); });
        if (!removed)
        {
            if (mismatch)
                SEDX_CORE_ERROR_TAG(kAllocTag,
                                    "[{}] {}: the {} does not belong to this allocation; nothing destroyed",
                                    self.m_Tag, call, KindName(kind));
            else
                SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] {}: {}", self.m_Tag, call,
                                    NotLiveReason(*d, allocation));
            return false;
        }
        self.CheckBudgetAfterChange();
        return true;
    }
};

// ------------------------------------------------------------------------------------------------
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
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateBuffer called before Init or after Shutdown", m_Tag);
        return nullptr;
    }
    std::string error;
    VmaAllocation allocation =
        AllocatorAccess::CreateBuffer(*this, *d, bufferInfo, createInfo, outBuffer, where, error);
    if (!allocation)
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateBuffer({} bytes, {}) failed: {}", m_Tag, bufferInfo.size,
                            MemoryUsageName(createInfo.usage), error);
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
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateImage called before Init or after Shutdown", m_Tag);
        return nullptr;
    }
    std::string error;
    VmaAllocation allocation =
        AllocatorAccess::CreateImage(*this, *d, imageInfo, createInfo, outImage, allocatedSize, where, error);
    if (!allocation)
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateImage failed: {}", m_Tag, error);
    return allocation;
}

bool MemoryAllocator::DestroyBuffer(VkBuffer buffer, VmaAllocation allocation)
{
    return AllocatorAccess::Destroy(*this, "DestroyBuffer", ResourceKind::Buffer,
                                    reinterpret_cast<uint64_t>(buffer), allocation, false);
}

bool MemoryAllocator::DestroyImage(VkImage image, VmaAllocation allocation)
{
    return AllocatorAccess::Destroy(*this, "DestroyImage", ResourceKind::Image,
                                    reinterpret_cast<uint64_t>(image), allocation, false);
}

bool MemoryAllocator::DestroyBufferDeferred(VkBuffer buffer, VmaAllocation allocation)
{
    return AllocatorAccess::Destroy(*this, "DestroyBufferDeferred", ResourceKind::Buffer,
                                    reinterpret_cast<uint64_t>(buffer), allocation, true);
}

bool MemoryAllocator::DestroyImageDeferred(VkImage image, VmaAllocation allocation)
{
    return AllocatorAccess::Destroy(*this, "DestroyImageDeferred", ResourceKind::Image,
                                    reinterpret_cast<uint64_t>(image), allocation, true);
}

bool MemoryAllocator::Free(VmaAllocation allocation)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] Free called before Init or after Shutdown", m_Tag);
        return false;
    }
    const bool removed =
        allocation &&
        d->registry.RemoveIfAndRelease(
            allocation, [](const AllocationRecord&) { return true; },
            [&](AllocationRecord& r) { AllocatorAccess::ReleaseLocked(*this, *d, allocation, r, false); });
    if (!removed)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] Free: {}", m_Tag, NotLiveReason(*d, allocation));
        return false;
    }
    CheckBudgetAfterChange();
    return true;
}

VkBuffer MemoryAllocator::GetBuffer(VmaAllocation allocation)
{
    VulkanAllocatorData* d = Data();
    VkBuffer buffer = VK_NULL_HANDLE;
    if (!d)
        SEDX_CORE_ERROR_TAG(kAllocTag, "GetBuffer called before Init or after Shutdown");
    else if (allocation)
        d->registry.With(allocation, [&](const AllocationRecord& r) { buffer = r.buffer; });
    return buffer;
}

VkImage MemoryAllocator::GetImage(VmaAllocation allocation)
{
    VulkanAllocatorData* d = Data();
    VkImage image = VK_NULL_HANDLE;
    if (!d)
        SEDX_CORE_ERROR_TAG(kAllocTag, "GetImage called before Init or after Shutdown");
    else if (allocation)
        d->registry.With(allocation, [&](const AllocationRecord& r) { image = r.image; });
    return image;
}

// ------------------------------------------------------------------------------------------------
std::vector<BatchBufferAllocation>
MemoryAllocator::AllocateBufferBatch(const std::vector<VkDeviceSize>& sizes, VkBufferUsageFlags usage,
                                     VmaMemoryUsage memoryUsage, std::source_location where)
{
    std::vector<BatchBufferAllocation> batch;
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateBufferBatch called before Init or after Shutdown",
                            m_Tag);
        return batch;
    }
    if (sizes.empty() || usage == 0)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateBufferBatch: {}", m_Tag,
                            sizes.empty() ? "no sizes given" : "usage is None");
        return batch;
    }
    for (size_t i = 0; i < sizes.size(); ++i)
    {
        if (sizes[i] == 0)
        {
            SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateBufferBatch: size {} of {} is 0; nothing allocated",
                                m_Tag, i, sizes.size());
            return batch;
        }
        // The size limits of ValidateBufferCreateInfo, per buffer, so that the error names it.
        VkDeviceSize limit = 0;
        if (const char* exceeded = ExceededBufferSizeLimit(*d, sizes[i], limit))
        {
            SEDX_CORE_ERROR_TAG(kAllocTag,
                                "[{}] AllocateBufferBatch: buffer {} of {} ({} bytes) is larger than {}; "
                                "nothing allocated",
                                m_Tag, i, sizes.size(), sizes[i], exceeded);
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
    AllocatorAccess::BufferPlan plan;
    std::string planError;
    if (!AllocatorAccess::PlanBuffer(*this, *d, info, createInfo, plan, planError))
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] AllocateBufferBatch: {}; nothing allocated", m_Tag, planError);
        return batch;
    }
    batch.reserve(sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i)
    {
        std::string error;
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation allocation =
            AllocatorAccess::CreatePlanned(*this, *d, plan, sizes[i], createInfo, buffer, where, error);
        if (!allocation)
        {
            // All or nothing: roll back what this batch made.
            for (const BatchBufferAllocation& made : batch)
                d->registry.RemoveIfAndRelease(
                    made.allocation, [](const AllocationRecord&) { return true; },
                    [&](AllocationRecord& r)
                    { AllocatorAccess::ReleaseLocked(*this, *d, made.allocation, r, false); });
            CheckBudgetAfterChange();
            SEDX_CORE_ERROR_TAG(
                kAllocTag, "[{}] AllocateBufferBatch: buffer {} of {} ({} bytes) failed: {}; rolled back",
                m_Tag, i, sizes.size(), sizes[i], error);
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

// ------------------------------------------------------------------------------------------------
void* MemoryAllocator::MapMemoryRaw(VmaAllocation allocation)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] MapMemory called before Init or after Shutdown", m_Tag);
        return nullptr;
    }
    void* mapped = nullptr;
    std::string error;
    const bool live =
        allocation &&
        d->registry.With(
            allocation,
            [&](AllocationRecord& r)
            {
                // An AUTO usage without a host-access flag first: that reason holds on every device
                // (where AUTO lands is VMA's choice), and it names the fix. With a host-access flag
                // VMA only picks host-visible memory, so an AUTO record that is not mappable had none.
                if (IsAutoUsage(r.usage) && !r.mappable)
                {
                    error = "the allocation has an AUTO usage and no host-access flag "
                            "(HostAccessSequentialWrite or "
                            "HostAccessRandom)";
                    return;
                }
                if (!r.hostVisible)
                {
                    error =
                        fmt::format("memory type {} is not host-visible (use UploadToBuffer/ReadbackBuffer)",
                                    r.memoryTypeIndex);
                    return;
                }
                if (VkResult res = vmaMapMemory(d->allocator, allocation, &mapped); res != VK_SUCCESS)
                {
                    mapped = nullptr;
                    error = fmt::format("vmaMapMemory failed: {}", VkResultName(res));
                    return;
                }
                ++r.mapCount;
            });
    if (!live)
        error = NotLiveReason(*d, allocation);
    if (!error.empty())
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] MapMemory: {}", m_Tag, error);
    return mapped;
}

bool MemoryAllocator::UnmapMemory(VmaAllocation allocation)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "UnmapMemory called before Init or after Shutdown");
        return false;
    }
    bool wasMapped = false;
    const bool live = allocation && d->registry.With(allocation,
                                                     [&](AllocationRecord& r)
                                                     {
                                                         if (r.mapCount == 0)
                                                             return;
                                                         wasMapped = true;
                                                         --r.mapCount;
                                                         vmaUnmapMemory(d->allocator, allocation);
                                                     });
    if (!live)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "UnmapMemory: {}", NotLiveReason(*d, allocation));
        return false;
    }
    if (!wasMapped)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "UnmapMemory: the allocation is not mapped");
        return false;
    }
    return true;
}

namespace
{
bool FlushOrInvalidate(VmaAllocation allocation, VkDeviceSize offset, VkDeviceSize size, bool flush)
{
    const char* call = flush ? "FlushAllocation" : "InvalidateAllocation";
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "{} called before Init or after Shutdown", call);
        return false;
    }
    std::string error;
    const bool live =
        allocation &&
        d->registry.With(
            allocation,
            [&](const AllocationRecord& r)
            {
                if (!r.hostVisible)
                {
                    error = "the memory is not host-visible";
                    return;
                }
                if (r.mapCount == 0 && !r.persistentlyMapped)
                {
                    error = "the allocation is not mapped";
                    return;
                }
                if (offset >= r.size && r.size != 0)
                {
                    error = fmt::format("offset {} is past the allocation's {} bytes", offset, r.size);
                    return;
                }
                const VkMemoryPropertyFlags props =
                    d->memoryProperties.memoryTypes[r.memoryTypeIndex].propertyFlags;
                if (props & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)
                    return; // nothing to do on coherent memory
                VmaAllocationInfo2 info{};
                vmaGetAllocationInfo2(d->allocator, allocation, &info);
                const MemoryRange range = RoundToAtoms(info.allocationInfo.offset, info.allocationInfo.size,
                                                       offset, size, d->nonCoherentAtomSize, info.blockSize);
                if (range.size == 0)
                    return;
                VkMappedMemoryRange vkRange{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE};
                vkRange.memory = info.allocationInfo.deviceMemory;
                vkRange.offset = range.offset;
                vkRange.size = range.size;
                const VkResult res = flush ? vkFlushMappedMemoryRanges(d->vkDevice, 1, &vkRange)
                                           : vkInvalidateMappedMemoryRanges(d->vkDevice, 1, &vkRange);
                if (res != VK_SUCCESS)
                    error = VkResultName(res);
            });
    if (!live)
        error = NotLiveReason(*d, allocation);
    if (!error.empty())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "{}: {}", call, error);
        return false;
    }
    return true;
}
} // namespace

bool MemoryAllocator::FlushAllocation(VmaAllocation allocation, VkDeviceSize offset, VkDeviceSize size)
{
    return FlushOrInvalidate(allocation, offset, size, true);
}

bool MemoryAllocator::InvalidateAllocation(VmaAllocation allocation, VkDeviceSize offset, VkDeviceSize size)
{
    return FlushOrInvalidate(allocation, offset, size, false);
}

// ------------------------------------------------------------------------------------------------
void MemoryAllocator::SetAllocationStrategy(AllocationStrategy strategy)
{
    if (strategy != AllocationStrategy::Default && strategy != AllocationStrategy::SpeedOptimized &&
        strategy != AllocationStrategy::MemoryOptimized)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] SetAllocationStrategy: {} is not a strategy", m_Tag,
                            static_cast<int>(strategy));
        return;
    }
    m_Strategy.store(strategy, std::memory_order_relaxed);
}

MemoryAllocator::AllocationStrategy MemoryAllocator::GetAllocationStrategy() const
{
    return m_Strategy.load(std::memory_order_relaxed);
}

bool MemoryAllocator::SetBufferAlignment(VkDeviceSize alignment)
{
    constexpr VkDeviceSize kMaxAlignment = VkDeviceSize(1) << 30;
    if (!std::has_single_bit(alignment) || alignment > kMaxAlignment)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] SetBufferAlignment({}): must be a power of two up to {}", m_Tag,
                            alignment, kMaxAlignment);
        return false;
    }
    m_BufferAlignment.store(alignment, std::memory_order_relaxed);
    return true;
}

VkDeviceSize MemoryAllocator::GetBufferAlignment() const
{
    return m_BufferAlignment.load(std::memory_order_relaxed);
}

bool MemoryAllocator::SetMemoryUsageWarningThreshold(float fraction)
{
    if (!(fraction > 0.0f && fraction <= 1.0f)) // also rejects NaN
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] SetMemoryUsageWarningThreshold({}): must be in (0, 1]", m_Tag,
                            fraction);
        return false;
    }
    m_WarningThreshold.store(fraction, std::memory_order_relaxed);
    // Re-evaluate against the new threshold.
    CountAboveThreshold(m_AboveThreshold.exchange(-1, std::memory_order_acq_rel), -1);
    return true;
}

float MemoryAllocator::GetMemoryUsageWarningThreshold() const
{
    return m_WarningThreshold.load(std::memory_order_relaxed);
}

void MemoryAllocator::SetBudgetCallback(BudgetCallback callback)
{
    std::lock_guard lock(m_CallbackMutex);
    m_BudgetCallback = std::move(callback);
}

bool MemoryAllocator::ContainsAllocation(VmaAllocation allocation)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "ContainsAllocation called before Init or after Shutdown");
        return false;
    }
    return allocation && d->registry.Contains(allocation);
}

bool MemoryAllocator::SetAllocationName(VmaAllocation allocation, const std::string& name)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] SetAllocationName called before Init or after Shutdown", m_Tag);
        return false;
    }
    const bool live =
        allocation && d->registry.With(allocation,
                                       [&](AllocationRecord& r)
                                       {
                                           r.name = name;
                                           r.objectNamed = true;
                                           const std::string fullName = AllocationName(r.counters->tag, name);
                                           vmaSetAllocationName(d->allocator, allocation, fullName.c_str());
                                           if (r.kind == ResourceKind::Buffer)
                                               d->device->SetObjectName(VK_OBJECT_TYPE_BUFFER,
                                                                        reinterpret_cast<uint64_t>(r.buffer),
                                                                        fullName.c_str());
                                           else
                                               d->device->SetObjectName(VK_OBJECT_TYPE_IMAGE,
                                                                        reinterpret_cast<uint64_t>(r.image),
                                                                        fullName.c_str());
                                       });
    if (!live)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] SetAllocationName('{}'): {}", m_Tag, name,
                            NotLiveReason(*d, allocation));
        return false;
    }
    return true;
}

} // namespace SceneryEditorX
