#pragma once
// DefragmentationSession: the one defragmentation session of the system. VMA proposes moves per
// pool; a pass plans them (recreates each marked resource at its destination, or copies it by
// memcpy), copies (GPU copies in one submission), and commits (swaps the handle in the registry,
// retires the old one, tells the holders). Owns the session's state and its lock; exclusive access
// to the registry and the transfers comes from MemorySystem::WithMovesExclusive.

#include "LockOrder.h"
#include "Registry.h"

#include <atomic>
#include <functional>
#include <vector>

namespace SceneryEditorX::detail
{
class MemorySystem;

class DefragmentationSession
{
public:
    explicit DefragmentationSession(MemorySystem& system) : m_System(system) {}

    /// Opens the session; `options.flags` already checked. False (logged) when one is open.
    bool Begin(const DefragmentationOptions& options, const std::string& tag);
    /// Marks one live allocation (and records an image's layout when given). False with `error` set.
    bool Mark(VmaAllocation allocation, VkImageLayout currentLayout, std::string& error);
    /// Marks every live allocation; returns how many were newly marked, or nullopt with `error`.
    std::optional<size_t> MarkAll(std::string& error);
    /// One pass; true while work remains. False with `error` set when no session is open.
    bool Step(std::string& error);
    /// Runs the remaining passes, closes the session and returns what it did; nullopt when no
    /// session is open.
    std::optional<DefragmentationStats> End(const std::string& tag);
    /// Ends an open session without more passes (Shutdown).
    void Abort();
    bool IsOpen() const { return m_Open.load(std::memory_order_acquire); }

    /// Relocation callbacks (process-wide).
    static uint64_t AddRelocationCallback(RelocationCallback callback);
    static bool RemoveRelocationCallback(uint64_t id);

    /// One accepted move of a pass (DefragmentationPass.cpp).
    struct PlannedMove;

private:
    using Find = std::function<AllocationRecord*(VmaAllocation)>;

    // The pools to run, from the marked allocations (default pools as null).
    void PreparePools();
    void PrepareOnce()
    {
        if (m_Pools.empty() && !m_Context && m_PoolIndex == 0)
            PreparePools();
    }
    // One pass on the current pool; true while the session has more work. Holds the move gate.
    bool RunPass();
    // Opens a context on the next pool that VMA accepts; false when no pool is left.
    bool OpenContext();
    // Ends the current pool's context and moves to the next pool; returns whether one is left.
    bool FinishPool();
    void EndContext();
    void ClearMarks();
    // The three steps of a pass, all under exclusive access.
    std::vector<PlannedMove> Plan(VmaDefragmentationPassMoveInfo& pass, const Find& find,
                                  std::vector<uint32_t>& moveIndex);
    void Copy(std::vector<PlannedMove>& moves, VmaDefragmentationPassMoveInfo& pass,
              const std::vector<uint32_t>& moveIndex);
    void Commit(std::vector<PlannedMove>& moves, std::vector<RelocationNotice>& notices);
    static void Notify(const std::vector<RelocationNotice>& notices);

    MemorySystem& m_System;
    OrderedMutex<LockLevel::DefragSession> m_SessionMutex;
    std::atomic<bool> m_Open{false};
    DefragmentationOptions m_Options;
    std::vector<VmaAllocation> m_Marked;
    std::vector<VmaPool> m_Pools; // pools still to run, default pools as null
    VmaDefragmentationContext m_Context = nullptr;
    size_t m_PoolIndex = 0;
    DefragmentationStats m_Stats;
    BlockTally m_Freed; // the blocks this session's VMA calls freed (ScopedBlockTally)
};

} // namespace SceneryEditorX::detail
