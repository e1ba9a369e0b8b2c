#pragma once
// DefragmentationSession: the one defragmentation session of the system. VMA proposes moves per
// pool; a step opens a pass in every pool's context, plans the moves (recreates each marked resource
// at its destination), copies (memcpy where it may, and every pool's GPU copies in one submission;
// all without the registry's locks), and commits (swaps the handle in the registry, retires
// the old one, tells the holders). Owns the session's state and its lock.

#include "LockOrder.h"
#include "Registry.h"

#include <atomic>
#include <chrono>
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

    /// The time bound of a step, read by VMA's break callback while it plans (one per session;
    /// its address goes to VMA as the callback's user data).
    struct StepBound
    {
        std::function<std::chrono::steady_clock::time_point()> clock;
        std::chrono::nanoseconds bound{0};
        std::chrono::steady_clock::time_point start;
        /// Copy time per candidate move, measured by this session's earlier steps (0: not yet).
        std::chrono::nanoseconds copyPerMove{0};
        uint32_t candidates = 0; // break-callback calls in this step: at least the moves planned
        bool stopped = false;
        /// The previous step was stopped before VMA proposed any move: this one plans one move,
        /// without the bound, so that a session always ends.
        bool oneMove = false;
        std::chrono::steady_clock::time_point Now() const
        {
            return clock ? clock() : std::chrono::steady_clock::now();
        }
    };

private:
    using Find = std::function<AllocationRecord*(VmaAllocation)>;
    /// One pool's VMA context (default pools as a null pool).
    struct PoolRun
    {
        VmaPool pool = nullptr;
        VmaDefragmentationContext context = nullptr;
        bool done = false;
        bool oneMove = false; // its context plans one move per pass, without the time bound
    };
    /// One pool's part of a step.
    struct PoolPass
    {
        size_t run = 0;
        VmaDefragmentationPassMoveInfo info{};
        std::vector<PlannedMove> moves;
        std::vector<uint32_t> moveIndex; // the VMA move of each planned move
    };

    // The pools to run, from the marked allocations, each with its VMA context (first step).
    void PrepareOnce();
    // One step: a pass in every pool at once; true while the session has more work. Holds the move
    // gate and the transfer gate; the registry's locks only while it plans and commits.
    bool RunPass();
    // Begins a pool's VMA context (oneMove: one move per pass, no time bound); false (logged, the
    // pool left out) when VMA refuses.
    bool OpenContext(PoolRun& run, bool oneMove);
    // Ends and begins again the contexts that are not of the kind `oneMove` asks for.
    void ReopenContexts(bool oneMove);
    void EndContext(PoolRun& run);
    void EndContexts();
    void ClearMarks();
    // The parts of a step.
    std::vector<PlannedMove> Plan(VmaDefragmentationPassMoveInfo& pass, const Find& find,
                                  std::vector<uint32_t>& moveIndex);
    void Copy(std::vector<PoolPass>& passes);
    void Commit(const Find& find, PoolPass& pass, std::vector<RelocationNotice>& notices);
    static void Notify(const std::vector<RelocationNotice>& notices);

    MemorySystem& m_System;
    OrderedMutex<LockLevel::DefragSession> m_SessionMutex;
    std::atomic<bool> m_Open{false};
    DefragmentationOptions m_Options;
    std::vector<VmaAllocation> m_Marked;
    bool m_Prepared = false;
    std::vector<PoolRun> m_Runs;
    StepBound m_Bound;
    std::vector<VmaAllocation> m_Unregistered; // proposed in the step being planned, not in the registry
    DefragmentationStats m_Stats;
    BlockTally m_Freed; // the blocks this session's VMA calls freed (ScopedBlockTally)
};

} // namespace SceneryEditorX::detail
