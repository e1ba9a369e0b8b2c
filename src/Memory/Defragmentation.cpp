// Defragmentation that moves memory: VMA proposes moves per pool; the system recreates each marked
// resource from its recorded create info, binds it at the destination, copies the contents (GPU
// copies through the locked submit, or memcpy for host-visible buffers), swaps the handle in the
// registry, retires the old handle and tells the holders.
//
// Concurrency rule: a pass holds every registry shard lock, so allocations and frees on other
// threads wait for the current pass to end (a pass is bounded by maxBytesPerPass and
// maxAllocationsPerPass); between passes they proceed. VMA's own rule, that an allocation proposed
// in a pass must not be freed before the pass ends, therefore always holds.
#include "AllocatorData.h"

#include <SceneryEditorX/Core/Log.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace SceneryEditorX
{
using namespace detail;

namespace
{
constexpr VmaDefragmentationFlags kAlgorithmBits =
    VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FAST_BIT | VMA_DEFRAGMENTATION_FLAG_ALGORITHM_BALANCED_BIT |
    VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT | VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT;

struct RelocationRegistry
{
    std::mutex mutex;
    uint64_t nextId = 1;
    std::vector<std::pair<uint64_t, RelocationCallback>> callbacks;
};
RelocationRegistry& Relocations()
{
    static RelocationRegistry registry;
    return registry;
}

// One accepted move of a pass.
struct PlannedMove
{
    VmaAllocation allocation = nullptr;
    AllocationRecord* record = nullptr;
    ResourceKind kind = ResourceKind::Buffer;
    VkBuffer oldBuffer = VK_NULL_HANDLE;
    VkBuffer newBuffer = VK_NULL_HANDLE;
    VkImage oldImage = VK_NULL_HANDLE;
    VkImage newImage = VK_NULL_HANDLE;
    VkImageLayout layout = VK_IMAGE_LAYOUT_UNDEFINED;
    bool byMemcpy = false;
    VmaAllocation destination = nullptr;
    VkDeviceSize size = 0;
};

bool Movable(const AllocationRecord& r)
{
    if (r.hadPNext)
        return false;
    if (r.kind == ResourceKind::Buffer)
        return (r.bufferInfo.usage & VK_BUFFER_USAGE_TRANSFER_SRC_BIT) &&
               (r.bufferInfo.usage & VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    const VkImageLayout l = r.layout;
    return (r.imageInfo.usage & VK_IMAGE_USAGE_TRANSFER_SRC_BIT) &&
           (r.imageInfo.usage & VK_IMAGE_USAGE_TRANSFER_DST_BIT) && l != VK_IMAGE_LAYOUT_UNDEFINED &&
           l != VK_IMAGE_LAYOUT_PREINITIALIZED;
}

VkImageAspectFlags AspectOf(VkFormat format)
{
    switch (format)
    {
    case VK_FORMAT_D16_UNORM:
    case VK_FORMAT_D32_SFLOAT:
    case VK_FORMAT_X8_D24_UNORM_PACK32:
        return VK_IMAGE_ASPECT_DEPTH_BIT;
    case VK_FORMAT_S8_UINT:
        return VK_IMAGE_ASPECT_STENCIL_BIT;
    case VK_FORMAT_D16_UNORM_S8_UINT:
    case VK_FORMAT_D24_UNORM_S8_UINT:
    case VK_FORMAT_D32_SFLOAT_S8_UINT:
        return VK_IMAGE_ASPECT_DEPTH_BIT | VK_IMAGE_ASPECT_STENCIL_BIT;
    default:
        return VK_IMAGE_ASPECT_COLOR_BIT;
    }
}

void ImageToLayout(VkCommandBuffer cmd, VkImage image, const VkImageCreateInfo& info, VkImageLayout from,
                   VkImageLayout to)
{
    VkImageMemoryBarrier barrier{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
    barrier.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
    barrier.oldLayout = from;
    barrier.newLayout = to;
    barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.image = image;
    barrier.subresourceRange = {AspectOf(info.format), 0, info.mipLevels, 0, info.arrayLayers};
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 0,
                         nullptr, 0, nullptr, 1, &barrier);
}

// Creates the replacement resource and binds it at the move's destination.
VkResult Recreate(VulkanAllocatorData& d, PlannedMove& m, const AllocationRecord& r)
{
    if (m.kind == ResourceKind::Buffer)
    {
        VkBufferCreateInfo info = r.bufferInfo;
        info.pQueueFamilyIndices = r.queueFamilies.empty() ? nullptr : r.queueFamilies.data();
        VkResult res = CreateBufferChecked(d.vkDevice, info, m.newBuffer);
        if (res != VK_SUCCESS)
            return res;
        res = vmaBindBufferMemory(d.allocator, m.destination, m.newBuffer);
        if (res != VK_SUCCESS)
        {
            vkDestroyBuffer(d.vkDevice, m.newBuffer, nullptr);
            m.newBuffer = VK_NULL_HANDLE;
        }
        return res;
    }
    VkImageCreateInfo info = r.imageInfo;
    info.pQueueFamilyIndices = r.queueFamilies.empty() ? nullptr : r.queueFamilies.data();
    info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    VkResult res = CreateImageChecked(d.vkDevice, info, m.newImage);
    if (res != VK_SUCCESS)
        return res;
    res = vmaBindImageMemory(d.allocator, m.destination, m.newImage);
    if (res != VK_SUCCESS)
    {
        vkDestroyImage(d.vkDevice, m.newImage, nullptr);
        m.newImage = VK_NULL_HANDLE;
    }
    return res;
}

void DestroyNew(VulkanAllocatorData& d, PlannedMove& m)
{
    if (m.newBuffer)
        vkDestroyBuffer(d.vkDevice, m.newBuffer, nullptr);
    if (m.newImage)
        vkDestroyImage(d.vkDevice, m.newImage, nullptr);
    m.newBuffer = VK_NULL_HANDLE;
    m.newImage = VK_NULL_HANDLE;
}

VkResult CopyByMemcpy(VulkanAllocatorData& d, const PlannedMove& m)
{
    void* src = nullptr;
    void* dst = nullptr;
    VkResult res = vmaMapMemory(d.allocator, m.allocation, &src);
    if (res != VK_SUCCESS)
        return res;
    res = vmaMapMemory(d.allocator, m.destination, &dst);
    if (res == VK_SUCCESS)
    {
        vmaInvalidateAllocation(d.allocator, m.allocation, 0, VK_WHOLE_SIZE);
        std::memcpy(dst, src, m.size);
        vmaFlushAllocation(d.allocator, m.destination, 0, VK_WHOLE_SIZE);
        vmaUnmapMemory(d.allocator, m.destination);
    }
    vmaUnmapMemory(d.allocator, m.allocation);
    return res;
}

void RecordGpuCopies(VkCommandBuffer cmd, const std::vector<PlannedMove>& moves,
                     const std::vector<const AllocationRecord*>& records)
{
    for (size_t i = 0; i < moves.size(); ++i)
    {
        const PlannedMove& m = moves[i];
        if (m.byMemcpy)
            continue;
        if (m.kind == ResourceKind::Buffer)
        {
            const VkBufferCopy region{0, 0, records[i]->bufferInfo.size};
            vkCmdCopyBuffer(cmd, m.oldBuffer, m.newBuffer, 1, &region);
            continue;
        }
        const VkImageCreateInfo& info = records[i]->imageInfo;
        ImageToLayout(cmd, m.oldImage, info, m.layout, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
        ImageToLayout(cmd, m.newImage, info, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
        std::vector<VkImageCopy> regions;
        const VkImageAspectFlags aspect = AspectOf(info.format);
        for (uint32_t level = 0; level < info.mipLevels; ++level)
        {
            VkImageCopy region{};
            region.srcSubresource = {aspect, level, 0, info.arrayLayers};
            region.dstSubresource = region.srcSubresource;
            region.extent = {std::max(1u, info.extent.width >> level),
                             std::max(1u, info.extent.height >> level),
                             std::max(1u, info.extent.depth >> level)};
            regions.push_back(region);
        }
        vkCmdCopyImage(cmd, m.oldImage, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, m.newImage,
                       VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, static_cast<uint32_t>(regions.size()),
                       regions.data());
        ImageToLayout(cmd, m.newImage, info, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, m.layout);
    }
    VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    barrier.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1,
                         &barrier, 0, nullptr, 0, nullptr);
}

/// Adds the time from its construction to its destruction to `total`.
class ScopedDuration
{
public:
    explicit ScopedDuration(std::chrono::nanoseconds& total)
        : m_Total(total), m_Start(std::chrono::steady_clock::now())
    {
    }
    ~ScopedDuration() { m_Total += std::chrono::steady_clock::now() - m_Start; }
    ScopedDuration(const ScopedDuration&) = delete;
    ScopedDuration& operator=(const ScopedDuration&) = delete;

private:
    std::chrono::nanoseconds& m_Total;
    std::chrono::steady_clock::time_point m_Start;
};

void EndContext(VulkanAllocatorData& d)
{
    if (!d.defragContext)
        return;
    VmaDefragmentationStats stats{};
    {
        ScopedDuration inVma(d.defragStats.vmaDuration);
        vmaEndDefragmentation(d.allocator, d.defragContext, &stats);
    }
    AfterVmaFree();
    d.defragContext = nullptr;
    d.defragStats.bytesFreed += stats.bytesFreed;
    d.defragStats.blocksFreed += stats.deviceMemoryBlocksFreed;
}

void ClearMarks(VulkanAllocatorData& d)
{
    for (VmaAllocation a : d.defragMarked)
        d.registry.With(a, [](AllocationRecord& r) { r.marked = false; });
    d.defragMarked.clear();
}

// One pass on the current pool. Returns true while the session has more work. Caller holds
// defragSessionMutex.
bool RunPass(VulkanAllocatorData& d)
{
    std::vector<RelocationNotice> notices;
    bool more = true;
    {
        std::lock_guard passLock(d.defragPassMutex);
        while (!d.defragContext)
        {
            if (d.defragPoolIndex >= d.defragPools.size())
                return false;
            VmaDefragmentationInfo info{};
            info.flags = d.defragOptions.flags;
            info.pool = d.defragPools[d.defragPoolIndex];
            info.maxBytesPerPass = d.defragOptions.maxBytesPerPass;
            info.maxAllocationsPerPass = d.defragOptions.maxAllocationsPerPass;
            VkResult begun = VK_SUCCESS;
            {
                ScopedDuration inVma(d.defragStats.vmaDuration);
                begun = vmaBeginDefragmentation(d.allocator, &info, &d.defragContext);
            }
            if (VkResult r = begun; r != VK_SUCCESS)
            {
                SEDX_CORE_ERROR_TAG(kAllocTag, "vmaBeginDefragmentation failed: {}; skipping that pool",
                                    VkResultName(r));
                d.defragContext = nullptr;
                ++d.defragPoolIndex;
            }
        }

        std::unique_lock transferLock(d.transferMutex); // no upload/readback is between lookup and copy
        d.registry.WithAllLocked(
            [&](auto&& find)
            {
                VmaDefragmentationPassMoveInfo pass{};
                VkResult r = VK_SUCCESS;
                {
                    ScopedDuration inVma(d.defragStats.vmaDuration);
                    r = vmaBeginDefragmentationPass(d.allocator, d.defragContext, &pass);
                }
                if (r == VK_SUCCESS)
                {
                    // Nothing (more) to move in this pool.
                    EndContext(d);
                    ++d.defragPoolIndex;
                    more = d.defragPoolIndex < d.defragPools.size();
                    return;
                }
                if (r != VK_INCOMPLETE)
                {
                    SEDX_CORE_ERROR_TAG(kAllocTag, "vmaBeginDefragmentationPass failed: {}", VkResultName(r));
                    EndContext(d);
                    ++d.defragPoolIndex;
                    more = d.defragPoolIndex < d.defragPools.size();
                    return;
                }
                ++d.defragStats.passes;

                std::vector<PlannedMove> moves;
                std::vector<const AllocationRecord*> records;
                std::vector<uint32_t> moveIndex;
                for (uint32_t i = 0; i < pass.moveCount; ++i)
                {
                    VmaDefragmentationMove& move = pass.pMoves[i];
                    AllocationRecord* rec = find(move.srcAllocation);
                    if (!rec || !rec->marked)
                    {
                        move.operation =
                            VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE; // only marked allocations move
                        continue;
                    }
                    if (!Movable(*rec))
                    {
                        move.operation = VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE;
                        ++d.defragStats.allocationsRefused;
                        continue;
                    }
                    PlannedMove m;
                    m.allocation = move.srcAllocation;
                    m.record = rec;
                    m.kind = rec->kind;
                    m.oldBuffer = rec->buffer;
                    m.oldImage = rec->image;
                    m.layout = rec->layout;
                    m.destination = move.dstTmpAllocation;
                    m.size = rec->size;
                    // memcpy only where the CPU reads fast (cached host memory); the GPU copies the rest.
                    const VkMemoryPropertyFlags props =
                        d.memoryProperties.memoryTypes[rec->memoryTypeIndex].propertyFlags;
                    // VMA allows mapping only allocations made mappable (legacy usage or a host-access flag).
                    m.byMemcpy = rec->kind == ResourceKind::Buffer && rec->mappable &&
                                 (props & VK_MEMORY_PROPERTY_HOST_CACHED_BIT) &&
                                 !d.settings.forceGpuDefragmentationCopies;
                    if (VkResult rr = Recreate(d, m, *rec); rr != VK_SUCCESS)
                    {
                        SEDX_CORE_ERROR_TAG(
                            kAllocTag, "defragmentation: recreating {} '{}' failed ({}); it stays in place",
                            KindName(m.kind), rec->name, VkResultName(rr));
                        move.operation = VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE;
                        ++d.defragStats.movesFailed;
                        continue;
                    }
                    if (m.byMemcpy)
                    {
                        ScopedDuration copying(d.defragStats.copyDuration);
                        if (CopyByMemcpy(d, m) != VK_SUCCESS)
                            m.byMemcpy = false; // fall back to the GPU copy
                    }
                    moves.push_back(m);
                    records.push_back(rec);
                    moveIndex.push_back(i);
                }

                const bool anyGpu =
                    std::any_of(moves.begin(), moves.end(), [](const PlannedMove& m) { return !m.byMemcpy; });
                VkResult copyResult = VK_SUCCESS;
                if (anyGpu)
                {
                    ScopedDuration copying(d.defragStats.copyDuration);
                    copyResult = d.device->RunOneTimeCommands([&](VkCommandBuffer cmd)
                                                              { RecordGpuCopies(cmd, moves, records); });
                }
                if (copyResult != VK_SUCCESS)
                {
                    // The copies may not have happened: every resource of this pass stays where it was.
                    SEDX_CORE_ERROR_TAG(kAllocTag, "defragmentation copies failed ({}); {} moves cancelled",
                                        VkResultName(copyResult), moves.size());
                    for (size_t k = 0; k < moves.size(); ++k)
                    {
                        DestroyNew(d, moves[k]);
                        pass.pMoves[moveIndex[k]].operation = VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE;
                    }
                    d.defragStats.movesFailed += static_cast<uint32_t>(moves.size());
                    moves.clear();
                }

                const uint32_t frames = d.settings.framesInFlight;
                const uint64_t releaseFrame = d.frameIndex.load(std::memory_order_relaxed) + frames;
                for (PlannedMove& m : moves)
                {
                    AllocationRecord& rec = *m.record;
                    RelocationNotice notice;
                    notice.allocation = m.allocation;
                    notice.tag = rec.counters->tag;
                    rec.previousHandle = m.kind == ResourceKind::Buffer
                                             ? reinterpret_cast<uint64_t>(m.oldBuffer)
                                             : reinterpret_cast<uint64_t>(m.oldImage);
                    if (m.kind == ResourceKind::Buffer)
                    {
                        rec.buffer = m.newBuffer;
                        notice.oldBuffer = m.oldBuffer;
                        notice.newBuffer = m.newBuffer;
                        if (rec.bufferInfo.usage & VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT)
                        {
                            VkBufferDeviceAddressInfo addressInfo{
                                VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
                            addressInfo.buffer = m.newBuffer;
                            notice.newDeviceAddress = vkGetBufferDeviceAddress(d.vkDevice, &addressInfo);
                        }
                        ++d.defragStats.buffersMoved;
                    }
                    else
                    {
                        rec.image = m.newImage;
                        notice.oldImage = m.oldImage;
                        notice.newImage = m.newImage;
                        ++d.defragStats.imagesMoved;
                    }
                    if (!rec.name.empty())
                        d.device->SetObjectName(
                            m.kind == ResourceKind::Buffer ? VK_OBJECT_TYPE_BUFFER : VK_OBJECT_TYPE_IMAGE,
                            m.kind == ResourceKind::Buffer ? reinterpret_cast<uint64_t>(m.newBuffer)
                                                           : reinterpret_cast<uint64_t>(m.newImage),
                            AllocationName(rec.counters->tag, rec.name).c_str());
                    // The old handle is only a handle now: retire it, or destroy it when no frame is in
                    // flight.
                    if (frames > 0)
                    {
                        std::lock_guard lock(d.retireMutex);
                        d.retired.push_back(
                            RetiredResource{releaseFrame, m.kind, m.oldBuffer, m.oldImage, nullptr});
                    }
                    else if (m.kind == ResourceKind::Buffer)
                        vkDestroyBuffer(d.vkDevice, m.oldBuffer, nullptr);
                    else
                        vkDestroyImage(d.vkDevice, m.oldImage, nullptr);
                    ++d.defragStats.allocationsMoved;
                    d.defragStats.bytesMoved += m.size;
                    notices.push_back(std::move(notice));
                }

                {
                    ScopedDuration inVma(d.defragStats.vmaDuration);
                    r = vmaEndDefragmentationPass(d.allocator, d.defragContext, &pass);
                }
                AfterVmaFree();
                if (r == VK_SUCCESS)
                {
                    EndContext(d);
                    ++d.defragPoolIndex;
                    more = d.defragPoolIndex < d.defragPools.size();
                }
                else if (r != VK_INCOMPLETE)
                {
                    SEDX_CORE_ERROR_TAG(kAllocTag, "vmaEndDefragmentationPass failed: {}", VkResultName(r));
                    EndContext(d);
                    ++d.defragPoolIndex;
                    more = d.defragPoolIndex < d.defragPools.size();
                }
                // Mapped allocations stay mapped at their new place: report the new pointers.
                for (RelocationNotice& n : notices)
                    if (AllocationRecord* rec = find(n.allocation);
                        rec && (rec->mapCount > 0 || rec->persistentlyMapped))
                    {
                        VmaAllocationInfo info{};
                        vmaGetAllocationInfo(d.allocator, n.allocation, &info);
                        n.newMappedData = info.pMappedData;
                    }
            });
        MarkFragmentationDirty(d);
    }

    if (!notices.empty())
    {
        std::vector<RelocationCallback> callbacks;
        {
            RelocationRegistry& reg = Relocations();
            std::lock_guard lock(reg.mutex);
            for (auto& [id, cb] : reg.callbacks)
                callbacks.push_back(cb);
        }
        for (const RelocationNotice& n : notices)
            for (const RelocationCallback& cb : callbacks)
                cb(n);
    }
    return more;
}

void PreparePools(VulkanAllocatorData& d)
{
    // One context per pool that holds a marked allocation (default pools share one context).
    std::vector<VmaPool> pools;
    for (VmaAllocation a : d.defragMarked)
        d.registry.With(a,
                        [&](const AllocationRecord& r)
                        {
                            if (r.marked && std::find(pools.begin(), pools.end(), r.pool) == pools.end())
                                pools.push_back(r.pool);
                        });
    d.defragPools = std::move(pools);
    d.defragPoolIndex = 0;
}
} // namespace

namespace detail
{
void AbortDefragmentation(VulkanAllocatorData& d)
{
    std::lock_guard lock(d.defragSessionMutex);
    if (!d.defragOpen.load())
        return;
    SEDX_CORE_ERROR_TAG(kAllocTag, "Shutdown during an open defragmentation session; the session was ended");
    EndContext(d);
    ClearMarks(d);
    d.defragOpen.store(false);
}
} // namespace detail

bool MemoryAllocator::BeginDefragmentation(VmaDefragmentationFlags flags)
{
    DefragmentationOptions options;
    options.flags = flags;
    return BeginDefragmentation(options);
}

bool MemoryAllocator::BeginDefragmentation(const DefragmentationOptions& options)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] BeginDefragmentation called before Init or after Shutdown",
                            m_Tag);
        return false;
    }
    const VmaDefragmentationFlags algorithm = options.flags & kAlgorithmBits;
    if ((options.flags & ~kAlgorithmBits) || (algorithm & (algorithm - 1)))
    {
        SEDX_CORE_ERROR_TAG(
            kAllocTag, "[{}] BeginDefragmentation: flags {:#x} are not one VMA defragmentation algorithm bit",
            m_Tag, options.flags);
        return false;
    }
    std::lock_guard lock(d->defragSessionMutex);
    if (d->defragOpen.load())
    {
        SEDX_CORE_ERROR_TAG(
            kAllocTag, "[{}] BeginDefragmentation: a session is already open; call EndDefragmentation first",
            m_Tag);
        return false;
    }
    // Cached staging buffers are VMA allocations outside the registry: a pass would have to skip
    // them, which pins their blocks. Drop them; uploads make new ones on demand.
    DestroyStagingCache(*d);
    d->defragOptions = options;
    // VMA 3.4's EXTENSIVE algorithm crashes in vmaEndDefragmentationPass: its per-vector state
    // (StateExtensive::firstFreeBlock) goes past the block list and VmaBlockVector::GetBlock reads
    // out of bounds. Seen on NVIDIA (several memory types) in the model test, with and without frees
    // between passes; VMA #232 reports the same. FULL is the closest safe algorithm.
    if (algorithm == VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT)
    {
        d->defragOptions.flags = VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT;
        SEDX_CORE_INFO_TAG(kAllocTag,
                           "[{}] BeginDefragmentation: EXTENSIVE runs as FULL (VMA 3.4's EXTENSIVE "
                           "reads past a block list in vmaEndDefragmentationPass)",
                           m_Tag);
    }
    d->defragStats = {};
    d->defragPools.clear();
    d->defragPoolIndex = 0;
    d->defragMarked.clear();
    d->defragOpen.store(true);
    // Cached SpeedOptimized buffers are outside the registry too. With the session open, freed
    // buffers are destroyed instead of cached (CacheOrDestroy), so the cache stays empty until End.
    detail::ReleaseReuseCache(*d);
    return true;
}

bool MemoryAllocator::MarkForDefragmentation(VmaAllocation allocation)
{
    return MarkForDefragmentation(allocation, VK_IMAGE_LAYOUT_MAX_ENUM);
}

bool MemoryAllocator::MarkForDefragmentation(VmaAllocation allocation, VkImageLayout currentLayout)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] MarkForDefragmentation called before Init or after Shutdown",
                            m_Tag);
        return false;
    }
    std::lock_guard lock(d->defragSessionMutex);
    if (!d->defragOpen.load())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] MarkForDefragmentation without BeginDefragmentation", m_Tag);
        return false;
    }
    if (!d->defragPools.empty() || d->defragContext)
    {
        SEDX_CORE_ERROR_TAG(
            kAllocTag, "[{}] MarkForDefragmentation after the session's first pass; mark before stepping",
            m_Tag);
        return false;
    }
    bool isImage = false;
    bool alreadyMarked = false;
    const bool live =
        allocation && d->registry.With(allocation,
                                       [&](AllocationRecord& r)
                                       {
                                           isImage = r.kind == ResourceKind::Image;
                                           alreadyMarked = r.marked;
                                           r.marked = true;
                                           if (isImage && currentLayout != VK_IMAGE_LAYOUT_MAX_ENUM)
                                               r.layout = currentLayout;
                                       });
    if (!live)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] MarkForDefragmentation: {}", m_Tag,
                            allocation ? "the allocation is not live (freed, or not made by this system)"
                                       : "the allocation is null");
        return false;
    }
    if (!alreadyMarked)
        d->defragMarked.push_back(allocation);
    return true;
}

size_t MemoryAllocator::MarkAllForDefragmentation()
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] MarkAllForDefragmentation called before Init or after Shutdown",
                            m_Tag);
        return 0;
    }
    std::lock_guard lock(d->defragSessionMutex);
    if (!d->defragOpen.load() || !d->defragPools.empty() || d->defragContext)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] MarkAllForDefragmentation {}", m_Tag,
                            d->defragOpen.load() ? "after the session's first pass"
                                                 : "without BeginDefragmentation");
        return 0;
    }
    size_t count = 0;
    std::vector<VmaAllocation> all;
    d->registry.ForEach([&](VmaAllocation a, const AllocationRecord&) { all.push_back(a); });
    for (VmaAllocation a : all)
        d->registry.With(a,
                         [&](AllocationRecord& r)
                         {
                             if (!r.marked)
                             {
                                 r.marked = true;
                                 d->defragMarked.push_back(a);
                                 ++count;
                             }
                         });
    return count;
}

bool MemoryAllocator::DefragmentStep()
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] DefragmentStep called before Init or after Shutdown", m_Tag);
        return false;
    }
    std::lock_guard lock(d->defragSessionMutex);
    if (!d->defragOpen.load())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] DefragmentStep without BeginDefragmentation", m_Tag);
        return false;
    }
    const auto start = std::chrono::steady_clock::now();
    if (d->defragPools.empty() && !d->defragContext && d->defragPoolIndex == 0)
        PreparePools(*d);
    const bool more = RunPass(*d);
    d->defragStats.duration += std::chrono::steady_clock::now() - start;
    return more;
}

DefragmentationStats MemoryAllocator::EndDefragmentation()
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] EndDefragmentation called before Init or after Shutdown", m_Tag);
        return {};
    }
    std::lock_guard lock(d->defragSessionMutex);
    if (!d->defragOpen.load())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] EndDefragmentation without BeginDefragmentation", m_Tag);
        return {};
    }
    const auto start = std::chrono::steady_clock::now();
    if (d->defragPools.empty() && !d->defragContext && d->defragPoolIndex == 0)
        PreparePools(*d);
    while (RunPass(*d))
    {
    }
    {
        std::lock_guard passLock(d->defragPassMutex);
        EndContext(*d);
    }
    ClearMarks(*d);
    d->defragStats.duration += std::chrono::steady_clock::now() - start;
    d->defragOpen.store(false);
    const DefragmentationStats& s = d->defragStats;
    SEDX_CORE_INFO_TAG(
        kAllocTag,
        "[{}] defragmentation: {} allocations moved ({} buffers, {} images, {} bytes), {} "
        "blocks freed ({} bytes), {} refused, {} failed, {} passes, {:.2f} ms (copies {:.2f} ms, "
        "VMA {:.2f} ms)",
        m_Tag, s.allocationsMoved, s.buffersMoved, s.imagesMoved, s.bytesMoved, s.blocksFreed, s.bytesFreed,
        s.allocationsRefused, s.movesFailed, s.passes,
        std::chrono::duration<double, std::milli>(s.duration).count(),
        std::chrono::duration<double, std::milli>(s.copyDuration).count(),
        std::chrono::duration<double, std::milli>(s.vmaDuration).count());
    return d->defragStats;
}

bool MemoryAllocator::IsDefragmenting()
{
    VulkanAllocatorData* d = Data();
    return d && d->defragOpen.load();
}

uint64_t MemoryAllocator::AddRelocationCallback(RelocationCallback callback)
{
    if (!callback)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "AddRelocationCallback: empty callback");
        return 0;
    }
    RelocationRegistry& reg = Relocations();
    std::lock_guard lock(reg.mutex);
    const uint64_t id = reg.nextId++;
    reg.callbacks.emplace_back(id, std::move(callback));
    return id;
}

bool MemoryAllocator::RemoveRelocationCallback(uint64_t id)
{
    RelocationRegistry& reg = Relocations();
    std::lock_guard lock(reg.mutex);
    auto it = std::find_if(reg.callbacks.begin(), reg.callbacks.end(),
                           [&](const auto& e) { return e.first == id; });
    if (it == reg.callbacks.end())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "RemoveRelocationCallback({}): no such callback", id);
        return false;
    }
    reg.callbacks.erase(it);
    return true;
}

void* MemoryAllocator::GetMappedData(VmaAllocation allocation)
{
    VulkanAllocatorData* d = Data();
    void* mapped = nullptr;
    if (d && allocation)
        d->registry.With(allocation,
                         [&](const AllocationRecord& r)
                         {
                             if (r.mapCount > 0 || r.persistentlyMapped)
                             {
                                 VmaAllocationInfo info{};
                                 vmaGetAllocationInfo(d->allocator, allocation, &info);
                                 mapped = info.pMappedData;
                             }
                         });
    return mapped;
}

} // namespace SceneryEditorX
