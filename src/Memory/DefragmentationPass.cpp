// One defragmentation step: a pass in every pool's VMA context at once. Plan (under every registry
// shard lock) begins each pool's pass and recreates each marked resource at its destination; Copy,
// with no registry lock held, does the memcpy moves, records every pool's GPU copies in one command
// buffer, submits once and waits on one fence; Commit (under every shard lock again) swaps the
// handles in the registry, retires the old ones and ends each pool's pass; the holders are told,
// and the blocks VMA emptied are freed, after every lock is released.
//
// Concurrency rule: other threads allocate and free while the copies run. A free of a move source
// (AllocationRecord::moving) leaves the registry at once but its release is held
// (MemorySystem::HoldUntilPassEnds): the move is dropped at commit and the allocation released
// after its pool's pass ends, so VMA's rule that an allocation proposed in a pass is not freed
// before the pass ends always holds. Uploads and readbacks wait for the whole step (the transfer
// gate), so nothing writes a resource while it moves.
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
    AllocationRecord* record = nullptr; // valid only under the registry's locks (Plan, Commit)
    // What the copies read, taken while planning: they run without the registry's locks, when a
    // free on another thread may already have taken the record out.
    ResourceKind kind = ResourceKind::Buffer;
    VkBuffer oldBuffer = VK_NULL_HANDLE;
    VkImage oldImage = VK_NULL_HANDLE;
    VkDeviceSize bufferSize = 0;
    VkDeviceSize size = 0;
    VkImageCreateInfo imageInfo{};
    VkImageLayout layout = VK_IMAGE_LAYOUT_UNDEFINED;
    VkBuffer newBuffer = VK_NULL_HANDLE;
    VkImage newImage = VK_NULL_HANDLE;
    bool byMemcpy = false;
    bool cancelled = false; // the step's copies failed: the resource stays where it was
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
        std::memcpy(dst, src, m.size);
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
        if (m.kind == ResourceKind::Buffer)
        {
            const VkBufferCopy region{0, 0, m.bufferSize};
            vkCmdCopyBuffer(cmd, m.oldBuffer, m.newBuffer, 1, &region);
        }
        else
            CopyWholeImage(cmd, m.oldImage, m.newImage, m.imageInfo, m.layout);
    }
}
} // namespace

bool DefragmentationSession::RunPass()
{
    std::vector<RelocationNotice> notices;
    DeferredMemoryFrees emptied; // blocks VMA frees in here: freed after the locks are released
    bool more = false;
    {
        auto gate = m_System.HoldMoveGate();
        PrepareOnce();
        if (std::all_of(m_Runs.begin(), m_Runs.end(), [](const PoolRun& r) { return r.done; }))
        {
            emptied.Stop();
            return false;
        }
        if (m_Bound.bound.count() > 0)
            ReopenContexts(m_Bound.oneMove);
        auto transfers = m_System.HoldTransfersExclusive();
        std::vector<PoolPass> passes;
        // Plan: every pool's pass, under every shard lock (no allocation is freed under VMA).
        m_System.registry.WithAllLocked(
            [&](auto&& findRecord)
            {
                const Find find = findRecord;
                m_Unregistered.clear();
                m_Bound.start = m_Bound.Now();
                m_Bound.candidates = 0;
                m_Bound.stopped = false;
                for (size_t i = 0; i < m_Runs.size(); ++i)
                {
                    PoolRun& run = m_Runs[i];
                    // The time bound is spent (or this one-move step has its move): the next step
                    // goes on.
                    if (run.done || m_Bound.stopped || (m_Bound.oneMove && !passes.empty()))
                        continue;
                    PoolPass pass;
                    pass.run = i;
                    VkResult r = VK_SUCCESS;
                    {
                        Stopwatch inVma{m_Stats.vmaDuration};
                        r = vmaBeginDefragmentationPass(m_System.allocator, run.context, &pass.info);
                    }
                    if (r == VK_SUCCESS && m_Bound.stopped)
                        continue; // no move planned before the time bound was spent: not done
                    if (r != VK_INCOMPLETE)
                    {
                        // VK_SUCCESS: nothing (more) to move in this pool.
                        if (r != VK_SUCCESS)
                            SEDX_CORE_ERROR_TAG(kAllocTag, "vmaBeginDefragmentationPass failed: {}",
                                                VkResultName(r));
                        EndContext(run);
                        continue;
                    }
                    pass.moves = Plan(pass.info, find, pass.moveIndex);
                    passes.push_back(std::move(pass));
                }
                if (!m_Unregistered.empty())
                    m_System.PinForPass(std::move(m_Unregistered));
            });
        size_t planned = 0;
        for (const PoolPass& pass : passes)
            planned += pass.moves.size();
        // A step that the bound stopped before VMA proposed anything is followed by one that plans
        // one move without it (VMA's algorithms scan from the same place each pass, so bounded steps
        // could otherwise stop at the same candidates for ever).
        m_Bound.oneMove = passes.empty() && m_Bound.stopped;
        if (!passes.empty())
            ++m_Stats.passes;
        // Copy: one submission for every pool, waited for without the registry's locks.
        const auto copyStart = m_Bound.Now();
        Copy(passes);
        if (planned > 0)
            m_Bound.copyPerMove =
                std::chrono::duration_cast<std::chrono::nanoseconds>(m_Bound.Now() - copyStart) /
                static_cast<int64_t>(planned);
        // Commit: every shard lock again; then each pool's pass ends.
        m_System.registry.WithAllLocked(
            [&](auto&& findRecord)
            {
                const Find find = findRecord;
                for (PoolPass& pass : passes)
                {
                    Commit(find, pass, notices);
                    PoolRun& run = m_Runs[pass.run];
                    VkResult r = VK_SUCCESS;
                    {
                        Stopwatch inVma{m_Stats.vmaDuration};
                        r = vmaEndDefragmentationPass(m_System.allocator, run.context, &pass.info);
                    }
                    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
                        SEDX_CORE_ERROR_TAG(kAllocTag, "vmaEndDefragmentationPass failed: {}",
                                            VkResultName(r));
                    if (r != VK_INCOMPLETE)
                        EndContext(run);
                }
                m_System.UnpinPass();
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
        emptied.Stop();
        // The frees held while the pass was in flight: every move of theirs was dropped, and their
        // pools' passes have ended.
        for (const RetiredResource& held : m_System.TakePassHeld())
            m_System.ReleaseHeld(held, false);
        more = std::any_of(m_Runs.begin(), m_Runs.end(), [](const PoolRun& r) { return !r.done; });
    }
    {
        Stopwatch releasing{m_Stats.releaseDuration};
        emptied.FreeAll();
    }
    AfterVmaFree();
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
        // Every allocation VMA proposed, moved or not, must outlive the pass (vmaEndDefragmentationPass
        // reads each source): a free of it meanwhile is held until the pass ends. Commit clears it.
        if (rec)
            rec->moving = true;
        else
            m_Unregistered.push_back(move.srcAllocation);
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
        m.kind = rec->kind;
        m.oldBuffer = rec->buffer;
        m.oldImage = rec->image;
        m.bufferSize = rec->bufferInfo.size;
        m.size = rec->size;
        m.imageInfo = rec->imageInfo;
        m.layout = rec->layout;
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
        moves.push_back(m);
        moveIndex.push_back(i);
    }
    return moves;
}

void DefragmentationSession::Copy(std::vector<PoolPass>& passes)
{
    // memcpy moves first, without the registry's locks (a freed source stays until the pass ends).
    {
        Stopwatch copying{m_Stats.copyDuration};
        for (PoolPass& pass : passes)
            for (PlannedMove& m : pass.moves)
                if (m.byMemcpy && CopyByMemcpy(m_System, m) != VK_SUCCESS)
                    m.byMemcpy = false; // falls back to the GPU copy
    }
    const bool anyGpuCopy =
        std::any_of(passes.begin(), passes.end(),
                    [](const PoolPass& p) {
                        return std::any_of(p.moves.begin(), p.moves.end(),
                                           [](const PlannedMove& m) { return !m.byMemcpy; });
                    });
    if (!anyGpuCopy)
    {
        // Every move was a memcpy, done while planning; the hook still sees the step in flight.
        const bool any =
            std::any_of(passes.begin(), passes.end(), [](const PoolPass& p) { return !p.moves.empty(); });
        if (any && m_Options.onCopiesInFlight)
            m_Options.onCopiesInFlight();
        return;
    }
    VkResult copyResult = VK_SUCCESS;
    {
        Stopwatch copying{m_Stats.copyDuration};
        copyResult = m_System.device->RunOneTimeCommands(
            [&](VkCommandBuffer cmd)
            {
                for (const PoolPass& pass : passes)
                    RecordGpuCopies(cmd, pass.moves);
                MemoryBarrier(cmd);
            },
            m_Options.onCopiesInFlight);
    }
    if (copyResult == VK_SUCCESS)
        return;
    // The copies may not have happened: every resource of this step stays where it was.
    size_t cancelled = 0;
    for (PoolPass& pass : passes)
    {
        for (size_t k = 0; k < pass.moves.size(); ++k)
        {
            DestroyNew(m_System, pass.moves[k]);
            pass.info.pMoves[pass.moveIndex[k]].operation = VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE;
            pass.moves[k].cancelled = true;
        }
        cancelled += pass.moves.size();
    }
    SEDX_CORE_ERROR_TAG(kAllocTag, "defragmentation copies failed ({}); {} moves cancelled",
                        VkResultName(copyResult), cancelled);
    m_Stats.movesFailed += static_cast<uint32_t>(cancelled);
}

void DefragmentationSession::Commit(const Find& find, PoolPass& pass, std::vector<RelocationNotice>& notices)
{
    const uint32_t frames = m_System.settings.framesInFlight;
    const uint64_t releaseFrame = m_System.frameIndex.load(std::memory_order_relaxed) + frames;
    for (size_t k = 0; k < pass.moves.size(); ++k)
    {
        PlannedMove& m = pass.moves[k];
        if (m.cancelled)
        {
            if (AllocationRecord* r = find(m.allocation))
                r->moving = false;
            continue;
        }
        // Found again: the record may have been freed (and its map node reused) while the copies ran.
        AllocationRecord* found = find(m.allocation);
        if (!found || !found->moving)
        {
            // Freed during the pass: the move is dropped, the held free releases it afterwards.
            DestroyNew(m_System, m);
            pass.info.pMoves[pass.moveIndex[k]].operation = VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE;
            continue;
        }
        AllocationRecord& rec = *found;
        rec.moving = false;
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
    // The proposed allocations that stayed (ignored, refused, cancelled) are free to go again; those
    // freed meanwhile are gone from the registry, and their held frees run after the pass ends.
    for (uint32_t i = 0; i < pass.info.moveCount; ++i)
        if (AllocationRecord* r = find(pass.info.pMoves[i].srcAllocation))
            r->moving = false;
}

} // namespace SceneryEditorX::detail
