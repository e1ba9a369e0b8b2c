// DefragmentationSession: opening, marking, stepping and ending the one session
// (DefragmentationSession.h). The pass itself is DefragmentationPass.cpp.
#include "DefragmentationSession.h"

#include "Budget.h"
#include "MemorySystem.h"
#include "VulkanFunctions.h"

#include <SceneryEditorX/Core/Log.h>

#include <algorithm>
#include <chrono>

namespace SceneryEditorX::detail
{
namespace
{
struct RelocationCallbacks
{
    OrderedMutex<LockLevel::Callbacks> mutex;
    uint64_t nextId = 1;
    std::vector<std::pair<uint64_t, RelocationCallback>> callbacks;
};
RelocationCallbacks& Relocations()
{
    static RelocationCallbacks callbacks;
    return callbacks;
}

// Adds the time from its construction to its destruction to `total`.
struct Stopwatch
{
    std::chrono::nanoseconds& total;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~Stopwatch() { total += std::chrono::steady_clock::now() - start; }
};
} // namespace

bool DefragmentationSession::Begin(const DefragmentationOptions& options, const std::string& tag)
{
    std::lock_guard lock(m_SessionMutex);
    if (m_Open.load())
    {
        SEDX_CORE_ERROR_TAG(
            kAllocTag, "[{}] BeginDefragmentation: a session is already open; call EndDefragmentation first",
            tag);
        return false;
    }
    m_Options = options; // EXTENSIVE runs as itself: patches/vma/0001 keeps its indices in range
    m_Stats = {};
    m_Runs.clear();
    m_Prepared = false;
    m_Bound = StepBound{};
    m_Bound.clock = options.clock;
    m_Bound.bound = options.maxPassDuration;
    m_Freed = {};
    m_Marked.clear();
    m_Open.store(true);
    m_System.OnDefragmentationBegin();
    return true;
}

bool DefragmentationSession::Mark(VmaAllocation allocation, VkImageLayout currentLayout, std::string& error)
{
    std::lock_guard lock(m_SessionMutex);
    if (!m_Open.load())
    {
        error = "MarkForDefragmentation without BeginDefragmentation";
        return false;
    }
    if (m_Prepared)
    {
        error = "MarkForDefragmentation after the session's first pass; mark before stepping";
        return false;
    }
    bool alreadyMarked = false;
    const bool live = allocation && m_System.registry.With(allocation,
                                                           [&](AllocationRecord& r)
                                                           {
                                                               alreadyMarked = r.marked;
                                                               r.marked = true;
                                                               if (r.kind == ResourceKind::Image &&
                                                                   currentLayout != VK_IMAGE_LAYOUT_MAX_ENUM)
                                                                   r.layout = currentLayout;
                                                           });
    if (!live)
    {
        error = std::string("MarkForDefragmentation: ") +
                (allocation ? "the allocation is not live (freed, or not made by this system)"
                            : "the allocation is null");
        return false;
    }
    if (!alreadyMarked)
        m_Marked.push_back(allocation);
    return true;
}

std::optional<size_t> DefragmentationSession::MarkAll(std::string& error)
{
    std::lock_guard lock(m_SessionMutex);
    if (!m_Open.load() || m_Prepared)
    {
        error = std::string("MarkAllForDefragmentation ") +
                (m_Open.load() ? "after the session's first pass" : "without BeginDefragmentation");
        return std::nullopt;
    }
    size_t count = 0;
    std::vector<VmaAllocation> all;
    m_System.registry.ForEach([&](VmaAllocation a, const AllocationRecord&) { all.push_back(a); });
    for (VmaAllocation a : all)
        m_System.registry.With(a,
                               [&](AllocationRecord& r)
                               {
                                   if (!r.marked)
                                   {
                                       r.marked = true;
                                       m_Marked.push_back(a);
                                       ++count;
                                   }
                               });
    return count;
}

bool DefragmentationSession::Step(std::string& error)
{
    std::lock_guard lock(m_SessionMutex);
    if (!m_Open.load())
    {
        error = "DefragmentStep without BeginDefragmentation";
        return false;
    }
    Stopwatch total{m_Stats.duration};
    ScopedBlockTally tally{m_Freed};
    return RunPass();
}

std::optional<DefragmentationStats> DefragmentationSession::End(const std::string& tag)
{
    std::lock_guard lock(m_SessionMutex);
    if (!m_Open.load())
        return std::nullopt;
    {
        Stopwatch total{m_Stats.duration};
        ScopedBlockTally tally{m_Freed};
        while (RunPass())
        {
        }
        {
            DeferredMemoryFrees emptied; // what VMA's contexts free as they end, outside the gate
            {
                auto gate = m_System.HoldMoveGate();
                EndContexts();
            }
            emptied.Stop();
            Stopwatch releasing{m_Stats.releaseDuration};
            emptied.FreeAll();
        }
        ClearMarks();
        if (m_Options.releaseEmptyBlocks)
        {
            // The blocks the run emptied, which VMA would keep (one per pool), are given back.
            Stopwatch releasing{m_Stats.releaseDuration};
            const ReleasedMemory released = m_System.ReleaseEmptyBlocks();
            m_Stats.emptyBlocksReleased = released.blocks;
            m_Stats.emptyBytesReleased = released.bytes;
        }
    }
    // What this session's VMA calls gave back, counted block by block as VMA frees them (VMA's pass
    // statistics count the block size of the pool's last block, whichever block it deletes).
    m_Stats.blocksFreed = static_cast<uint32_t>(m_Freed.NetBlocksFreed());
    m_Stats.bytesFreed = m_Freed.NetBytesFreed();
    m_Open.store(false);
    m_System.OnDefragmentationEnd();
    const DefragmentationStats& s = m_Stats;
    SEDX_CORE_INFO_TAG(kAllocTag,
                       "[{}] defragmentation: {} allocations moved ({} buffers, {} images, {} bytes), {} "
                       "blocks freed ({} bytes; {} empty blocks released at the end), {} refused, {} failed, "
                       "{} passes, {:.2f} ms (copies {:.2f} ms, "
                       "VMA {:.2f} ms, releasing blocks {:.2f} ms)",
                       tag, s.allocationsMoved, s.buffersMoved, s.imagesMoved, s.bytesMoved, s.blocksFreed,
                       s.bytesFreed, s.emptyBlocksReleased, s.allocationsRefused, s.movesFailed, s.passes,
                       std::chrono::duration<double, std::milli>(s.duration).count(),
                       std::chrono::duration<double, std::milli>(s.copyDuration).count(),
                       std::chrono::duration<double, std::milli>(s.vmaDuration).count(),
                       std::chrono::duration<double, std::milli>(s.releaseDuration).count());
    return m_Stats;
}

void DefragmentationSession::Abort()
{
    std::lock_guard lock(m_SessionMutex);
    if (!m_Open.load())
        return;
    SEDX_CORE_ERROR_TAG(kAllocTag, "Shutdown during an open defragmentation session; the session was ended");
    EndContexts();
    ClearMarks();
    m_Open.store(false);
    m_System.OnDefragmentationEnd();
}

namespace
{
// VMA's break callback: planning stops once the step's time so far, plus the copies of the moves
// planned so far at the measured rate, reaches the bound. It is called before VMA takes each
// candidate, so `candidates` is at least the number of moves planned. The first candidate of a step
// always passes, so that every step makes progress.
VkBool32 VKAPI_PTR BreakStep(void* userData)
{
    auto& b = *static_cast<DefragmentationSession::StepBound*>(userData);
    if (b.stopped)
        return VK_TRUE;
    if (b.candidates++ == 0)
        return VK_FALSE;
    const auto spent = b.Now() - b.start;
    const auto copies = b.copyPerMove * b.candidates;
    b.stopped = spent + copies >= b.bound;
    return b.stopped ? VK_TRUE : VK_FALSE;
}
} // namespace

void DefragmentationSession::PrepareOnce()
{
    if (m_Prepared)
        return;
    m_Prepared = true;
    // One context per pool that holds a marked allocation (default pools share one context).
    std::vector<VmaPool> pools;
    for (VmaAllocation a : m_Marked)
        m_System.registry.With(a,
                               [&](const AllocationRecord& r)
                               {
                                   if (r.marked &&
                                       std::find(pools.begin(), pools.end(), r.pool) == pools.end())
                                       pools.push_back(r.pool);
                               });
    for (VmaPool pool : pools)
    {
        PoolRun run;
        run.pool = pool;
        if (OpenContext(run, false))
            m_Runs.push_back(run);
    }
}

bool DefragmentationSession::OpenContext(PoolRun& run, bool oneMove)
{
    VmaDefragmentationInfo info{};
    info.flags = m_Options.flags;
    info.pool = run.pool;
    info.maxBytesPerPass = m_Options.maxBytesPerPass;
    info.maxAllocationsPerPass = oneMove ? 1 : m_Options.maxAllocationsPerPass;
    if (m_Bound.bound.count() > 0 && !oneMove)
    {
        info.pfnBreakCallback = &BreakStep;
        info.pBreakCallbackUserData = &m_Bound;
    }
    VkResult begun = VK_SUCCESS;
    {
        Stopwatch inVma{m_Stats.vmaDuration};
        begun = vmaBeginDefragmentation(m_System.allocator, &info, &run.context);
    }
    run.oneMove = oneMove;
    if (begun == VK_SUCCESS)
        return true;
    SEDX_CORE_ERROR_TAG(kAllocTag, "vmaBeginDefragmentation failed: {}; skipping that pool",
                        VkResultName(begun));
    run.context = nullptr;
    run.done = true;
    return false;
}

void DefragmentationSession::ReopenContexts(bool oneMove)
{
    for (PoolRun& run : m_Runs)
        if (!run.done && run.oneMove != oneMove)
        {
            EndContext(run);
            run.done = false;
            OpenContext(run, oneMove);
        }
}

void DefragmentationSession::EndContext(PoolRun& run)
{
    run.done = true;
    if (!run.context)
        return;
    VmaDefragmentationStats stats{};
    {
        Stopwatch inVma{m_Stats.vmaDuration};
        vmaEndDefragmentation(m_System.allocator, run.context, &stats);
    }
    run.context = nullptr; // the blocks it freed are counted by the session's ScopedBlockTally
}

void DefragmentationSession::EndContexts()
{
    for (PoolRun& run : m_Runs)
        EndContext(run);
    AfterVmaFree();
}

void DefragmentationSession::ClearMarks()
{
    for (VmaAllocation a : m_Marked)
        m_System.registry.With(a, [](AllocationRecord& r) { r.marked = false; });
    m_Marked.clear();
}

void DefragmentationSession::Notify(const std::vector<RelocationNotice>& notices)
{
    if (notices.empty())
        return;
    std::vector<RelocationCallback> callbacks;
    {
        RelocationCallbacks& reg = Relocations();
        std::lock_guard lock(reg.mutex);
        for (auto& [id, cb] : reg.callbacks)
            callbacks.push_back(cb);
    }
    for (const RelocationNotice& n : notices)
        for (const RelocationCallback& cb : callbacks)
            cb(n);
}

uint64_t DefragmentationSession::AddRelocationCallback(RelocationCallback callback)
{
    RelocationCallbacks& reg = Relocations();
    std::lock_guard lock(reg.mutex);
    const uint64_t id = reg.nextId++;
    reg.callbacks.emplace_back(id, std::move(callback));
    return id;
}

bool DefragmentationSession::RemoveRelocationCallback(uint64_t id)
{
    RelocationCallbacks& reg = Relocations();
    std::lock_guard lock(reg.mutex);
    auto it = std::find_if(reg.callbacks.begin(), reg.callbacks.end(),
                           [&](const auto& e) { return e.first == id; });
    if (it == reg.callbacks.end())
        return false;
    reg.callbacks.erase(it);
    return true;
}

} // namespace SceneryEditorX::detail
