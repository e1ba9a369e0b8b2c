// One defragmentation pass: VMA proposes the moves of the current pool; Plan recreates each marked
// resource at its destination (or copies it by memcpy), Copy records the GPU copies in one
// submission, Commit swaps the handles in the registry, retires the old ones and collects the
// notices; the holders are told after every lock is released.
//
// Concurrency rule: a pass holds every registry shard lock (MemorySystem::WithMovesExclusive), so
// allocations and frees on other threads wait for the current pass to end (a pass is bounded by
// maxBytesPerPass and maxAllocationsPerPass); between passes they proceed. VMA's own rule, that an
// allocation proposed in a pass must not be freed before the pass ends, therefore always holds.
#include "Budget.h"
#include "DefragmentationSession.h"
#include "GpuCopy.h"
#include "MemorySystem.h"
#include "VulkanFunctions.h"

#include <SceneryEditorX/Core/Log.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace SceneryEditorX::detail
{

// One accepted move of a pass.
struct DefragmentationSession::PlannedMove
{
    VmaAllocation allocation = nullptr;
    AllocationRecord* record = nullptr;
    VkBuffer newBuffer = VK_NULL_HANDLE;
    VkImage newImage = VK_NULL_HANDLE;
    bool byMemcpy = false;
    VmaAllocation destination = nullptr;
};

namespace
{
using PlannedMove = DefragmentationSession::PlannedMove;

struct Stopwatch
{
    std::chrono::nanoseconds& total;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~Stopwatch() { total += std::chrono::steady_clock::now() - start; }
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

// Creates a resource from `info` and binds it at `destination`; nothing is left behind on failure.
template <class CreateInfo, class Handle, class CreateFn, class BindFn, class DestroyFn>
VkResult CreateAndBind(MemorySystem& system, CreateInfo info, const AllocationRecord& r,
                       VmaAllocation destination, Handle& out, CreateFn create, BindFn bind,
                       DestroyFn destroy)
{
    info.pQueueFamilyIndices = r.queueFamilies.empty() ? nullptr : r.queueFamilies.data();
    VkResult res = create(system.vkDevice, info, out);
    if (res == VK_SUCCESS && (res = bind(system.allocator, destination, out)) != VK_SUCCESS)
    {
        destroy(system.vkDevice, out, nullptr);
        out = VK_NULL_HANDLE;
    }
    return res;
}

// Creates the replacement resource and binds it at the move's destination.
VkResult Recreate(MemorySystem& system, PlannedMove& m)
{
    const AllocationRecord& r = *m.record;
    if (r.kind == ResourceKind::Buffer)
        return CreateAndBind(system, r.bufferInfo, r, m.destination, m.newBuffer, CreateBufferChecked,
                             vmaBindBufferMemory, vkDestroyBuffer);
    VkImageCreateInfo info = r.imageInfo;
    info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    return CreateAndBind(system, info, r, m.destination, m.newImage, CreateImageChecked, vmaBindImageMemory,
                         vkDestroyImage);
}

void DestroyNew(MemorySystem& system, PlannedMove& m)
{
    if (m.newBuffer)
        vkDestroyBuffer(system.vkDevice, m.newBuffer, nullptr);
    if (m.newImage)
        vkDestroyImage(system.vkDevice, m.newImage, nullptr);
    m.newBuffer = VK_NULL_HANDLE;
    m.newImage = VK_NULL_HANDLE;
}

VkResult CopyByMemcpy(MemorySystem& system, const PlannedMove& m)
{
    void* src = nullptr;
    void* dst = nullptr;
    VkResult res = vmaMapMemory(system.allocator, m.allocation, &src);
    if (res != VK_SUCCESS)
        return res;
    res = vmaMapMemory(system.allocator, m.destination, &dst);
    if (res == VK_SUCCESS)
    {
        vmaInvalidateAllocation(system.allocator, m.allocation, 0, VK_WHOLE_SIZE);
        std::memcpy(dst, src, m.record->size);
        vmaFlushAllocation(system.allocator, m.destination, 0, VK_WHOLE_SIZE);
        vmaUnmapMemory(system.allocator, m.destination);
    }
    vmaUnmapMemory(system.allocator, m.allocation);
    return res;
}

void RecordGpuCopies(VkCommandBuffer cmd, const std::vector<PlannedMove>& moves)
{
    for (const PlannedMove& m : moves)
    {
        if (m.byMemcpy)
            continue;
        const AllocationRecord& r = *m.record;
        if (r.kind == ResourceKind::Buffer)
        {
            const VkBufferCopy region{0, 0, r.bufferInfo.size};
            vkCmdCopyBuffer(cmd, r.buffer, m.newBuffer, 1, &region);
        }
        else
            CopyWholeImage(cmd, r.image, m.newImage, r.imageInfo, r.layout);
    }
    MemoryBarrier(cmd);
}
} // namespace

bool DefragmentationSession::RunPass()
{
    std::vector<RelocationNotice> notices;
    bool more = true;
    {
        auto gate = m_System.HoldMoveGate();
        if (!OpenContext())
            return false;
        m_System.WithMovesExclusive(
            [&](auto&& findRecord)
            {
                const Find find = findRecord;
                VmaDefragmentationPassMoveInfo pass{};
                VkResult r = VK_SUCCESS;
                {
                    Stopwatch inVma{m_Stats.vmaDuration};
                    r = vmaBeginDefragmentationPass(m_System.allocator, m_Context, &pass);
                }
                if (r != VK_INCOMPLETE)
                {
                    // VK_SUCCESS: nothing (more) to move in this pool.
                    if (r != VK_SUCCESS)
                        SEDX_CORE_ERROR_TAG(kAllocTag, "vmaBeginDefragmentationPass failed: {}",
                                            VkResultName(r));
                    more = FinishPool();
                    return;
                }
                ++m_Stats.passes;
                std::vector<uint32_t> moveIndex;
                std::vector<PlannedMove> moves = Plan(pass, find, moveIndex);
                Copy(moves, pass, moveIndex);
                Commit(moves, notices);
                {
                    Stopwatch inVma{m_Stats.vmaDuration};
                    r = vmaEndDefragmentationPass(m_System.allocator, m_Context, &pass);
                }
                AfterVmaFree();
                if (r != VK_SUCCESS && r != VK_INCOMPLETE)
                    SEDX_CORE_ERROR_TAG(kAllocTag, "vmaEndDefragmentationPass failed: {}", VkResultName(r));
                if (r != VK_INCOMPLETE)
                    more = FinishPool();
                // Mapped allocations stay mapped at their new place: report the new pointers.
                for (RelocationNotice& n : notices)
                    if (AllocationRecord* rec = find(n.allocation);
                        rec && (rec->mapCount > 0 || rec->persistentlyMapped))
                    {
                        VmaAllocationInfo info{};
                        vmaGetAllocationInfo(m_System.allocator, n.allocation, &info);
                        n.newMappedData = info.pMappedData;
                    }
            });
        m_System.fragmentation.MarkDirty();
    }
    Notify(notices);
    return more;
}

std::vector<PlannedMove> DefragmentationSession::Plan(VmaDefragmentationPassMoveInfo& pass, const Find& find,
                                                      std::vector<uint32_t>& moveIndex)
{
    std::vector<PlannedMove> moves;
    for (uint32_t i = 0; i < pass.moveCount; ++i)
    {
        VmaDefragmentationMove& move = pass.pMoves[i];
        AllocationRecord* rec = find(move.srcAllocation);
        if (!rec || !rec->marked)
        {
            move.operation = VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE; // only marked allocations move
            continue;
        }
        if (!Movable(*rec))
        {
            move.operation = VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE;
            ++m_Stats.allocationsRefused;
            continue;
        }
        PlannedMove m;
        m.allocation = move.srcAllocation;
        m.record = rec;
        m.destination = move.dstTmpAllocation;
        // memcpy only where the CPU reads fast (cached host memory); the GPU copies the rest. VMA
        // allows mapping only allocations made mappable (legacy usage or a host-access flag).
        const VkMemoryPropertyFlags props =
            m_System.memoryProperties.memoryTypes[rec->memoryTypeIndex].propertyFlags;
        m.byMemcpy = rec->kind == ResourceKind::Buffer && rec->mappable &&
                     (props & VK_MEMORY_PROPERTY_HOST_CACHED_BIT) &&
                     !m_System.settings.forceGpuDefragmentationCopies;
        if (VkResult rr = Recreate(m_System, m); rr != VK_SUCCESS)
        {
            SEDX_CORE_ERROR_TAG(kAllocTag,
                                "defragmentation: recreating {} '{}' failed ({}); it stays in place",
                                KindName(rec->kind), rec->name, VkResultName(rr));
            move.operation = VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE;
            ++m_Stats.movesFailed;
            continue;
        }
        if (m.byMemcpy)
        {
            Stopwatch copying{m_Stats.copyDuration};
            if (CopyByMemcpy(m_System, m) != VK_SUCCESS)
                m.byMemcpy = false; // fall back to the GPU copy
        }
        moves.push_back(m);
        moveIndex.push_back(i);
    }
    return moves;
}

void DefragmentationSession::Copy(std::vector<PlannedMove>& moves, VmaDefragmentationPassMoveInfo& pass,
                                  const std::vector<uint32_t>& moveIndex)
{
    if (std::none_of(moves.begin(), moves.end(), [](const PlannedMove& m) { return !m.byMemcpy; }))
        return;
    VkResult copyResult = VK_SUCCESS;
    {
        Stopwatch copying{m_Stats.copyDuration};
        copyResult =
            m_System.device->RunOneTimeCommands([&](VkCommandBuffer cmd) { RecordGpuCopies(cmd, moves); });
    }
    if (copyResult == VK_SUCCESS)
        return;
    // The copies may not have happened: every resource of this pass stays where it was.
    SEDX_CORE_ERROR_TAG(kAllocTag, "defragmentation copies failed ({}); {} moves cancelled",
                        VkResultName(copyResult), moves.size());
    for (size_t k = 0; k < moves.size(); ++k)
    {
        DestroyNew(m_System, moves[k]);
        pass.pMoves[moveIndex[k]].operation = VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE;
    }
    m_Stats.movesFailed += static_cast<uint32_t>(moves.size());
    moves.clear();
}

void DefragmentationSession::Commit(std::vector<PlannedMove>& moves, std::vector<RelocationNotice>& notices)
{
    const uint32_t frames = m_System.settings.framesInFlight;
    const uint64_t releaseFrame = m_System.frameIndex.load(std::memory_order_relaxed) + frames;
    for (PlannedMove& m : moves)
    {
        AllocationRecord& rec = *m.record;
        const bool isBuffer = rec.kind == ResourceKind::Buffer;
        RelocationNotice notice;
        notice.allocation = m.allocation;
        notice.tag = rec.counters->tag;
        const VkBuffer oldBuffer = rec.buffer;
        const VkImage oldImage = rec.image;
        rec.previousHandle =
            isBuffer ? reinterpret_cast<uint64_t>(oldBuffer) : reinterpret_cast<uint64_t>(oldImage);
        if (isBuffer)
        {
            rec.buffer = m.newBuffer;
            notice.oldBuffer = oldBuffer;
            notice.newBuffer = m.newBuffer;
            if (rec.bufferInfo.usage & VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT)
            {
                VkBufferDeviceAddressInfo addressInfo{VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
                addressInfo.buffer = m.newBuffer;
                notice.newDeviceAddress = vkGetBufferDeviceAddress(m_System.vkDevice, &addressInfo);
            }
            ++m_Stats.buffersMoved;
        }
        else
        {
            rec.image = m.newImage;
            notice.oldImage = oldImage;
            notice.newImage = m.newImage;
            ++m_Stats.imagesMoved;
        }
        if (!rec.name.empty())
            m_System.device->SetObjectName(isBuffer ? VK_OBJECT_TYPE_BUFFER : VK_OBJECT_TYPE_IMAGE,
                                           isBuffer ? reinterpret_cast<uint64_t>(m.newBuffer)
                                                    : reinterpret_cast<uint64_t>(m.newImage),
                                           AllocationName(rec.counters->tag, rec.name).c_str());
        // The old handle is only a handle now: retire it, or destroy it when no frame is in flight.
        if (frames > 0)
            m_System.retireQueue.Push(RetiredResource{releaseFrame, rec.kind, oldBuffer, oldImage, nullptr});
        else if (isBuffer)
            vkDestroyBuffer(m_System.vkDevice, oldBuffer, nullptr);
        else
            vkDestroyImage(m_System.vkDevice, oldImage, nullptr);
        ++m_Stats.allocationsMoved;
        m_Stats.bytesMoved += rec.size;
        notices.push_back(std::move(notice));
    }
}

} // namespace SceneryEditorX::detail
