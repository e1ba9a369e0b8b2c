// DefragmentationSession: opening, marking, stepping and ending the one session
// (DefragmentationSession.h). The pass itself is DefragmentationPass.cpp.
#include "DefragmentationSession.h"

#include "Budget.h"
#include "MemorySystem.h"

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
    m_Freed = {};
    m_Pools.clear();
    m_PoolIndex = 0;
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
    if (!m_Pools.empty() || m_Context)
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
    if (!m_Open.load() || !m_Pools.empty() || m_Context)
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
    PrepareOnce();
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
        PrepareOnce();
        while (RunPass())
        {
        }
        {
            auto gate = m_System.HoldMoveGate();
            EndContext();
        }
        ClearMarks();
        if (m_Options.releaseEmptyBlocks)
        {
            // The blocks the run emptied, which VMA would keep (one per pool), are given back.
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
    SEDX_CORE_INFO_TAG(
        kAllocTag,
        "[{}] defragmentation: {} allocations moved ({} buffers, {} images, {} bytes), {} "
        "blocks freed ({} bytes; {} empty blocks released at the end), {} refused, {} failed, {} passes, {:.2f} ms (copies {:.2f} ms, "
        "VMA {:.2f} ms)",
        tag, s.allocationsMoved, s.buffersMoved, s.imagesMoved, s.bytesMoved, s.blocksFreed, s.bytesFreed,
        s.emptyBlocksReleased, s.allocationsRefused, s.movesFailed, s.passes,
        std::chrono::duration<double, std::milli>(s.duration).count(),
        std::chrono::duration<double, std::milli>(s.copyDuration).count(),
        std::chrono::duration<double, std::milli>(s.vmaDuration).count());
    return m_Stats;
}

void DefragmentationSession::Abort()
{
    std::lock_guard lock(m_SessionMutex);
    if (!m_Open.load())
        return;
    SEDX_CORE_ERROR_TAG(kAllocTag, "Shutdown during an open defragmentation session; the session was ended");
    EndContext();
    ClearMarks();
    m_Open.store(false);
    m_System.OnDefragmentationEnd();
}

void DefragmentationSession::PreparePools()
{
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
    m_Pools = std::move(pools);
    m_PoolIndex = 0;
}

bool DefragmentationSession::OpenContext()
{
    while (!m_Context)
    {
        if (m_PoolIndex >= m_Pools.size())
            return false;
        VmaDefragmentationInfo info{};
        info.flags = m_Options.flags;
        info.pool = m_Pools[m_PoolIndex];
        info.maxBytesPerPass = m_Options.maxBytesPerPass;
        info.maxAllocationsPerPass = m_Options.maxAllocationsPerPass;
        VkResult begun = VK_SUCCESS;
        {
            Stopwatch inVma{m_Stats.vmaDuration};
            begun = vmaBeginDefragmentation(m_System.allocator, &info, &m_Context);
        }
        if (begun != VK_SUCCESS)
        {
            SEDX_CORE_ERROR_TAG(kAllocTag, "vmaBeginDefragmentation failed: {}; skipping that pool",
                                VkResultName(begun));
            m_Context = nullptr;
            ++m_PoolIndex;
        }
    }
    return true;
}

void DefragmentationSession::EndContext()
{
    if (!m_Context)
        return;
    VmaDefragmentationStats stats{};
    {
        Stopwatch inVma{m_Stats.vmaDuration};
        vmaEndDefragmentation(m_System.allocator, m_Context, &stats);
    }
    AfterVmaFree();
    m_Context = nullptr;
}

bool DefragmentationSession::FinishPool()
{
    EndContext();
    ++m_PoolIndex;
    return m_PoolIndex < m_Pools.size();
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
