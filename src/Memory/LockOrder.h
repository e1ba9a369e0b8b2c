#pragma once
// The lock order of the memory system, written once. Every mutex of a part is an OrderedMutex of
// its level; a thread may take a lock only while it holds no lock of a later (inner) level. Debug
// builds (SEDX_DEBUG) check it on every lock and assert on a violation; release builds compile the
// check away. Levels that are groups of locks (the 1,024 registry shards, the creation stripes, the
// reuse-cache shards) count as one level: holding several locks of one level is allowed.

#include <cstdint>
#include <mutex>
#include <shared_mutex>

namespace SceneryEditorX::detail
{

/// Outer to inner. A pass of defragmentation, for one, takes DefragSession, MoveGate, Transfer and
/// every RegistryShard in that order, and pushes into the RetireQueue while it holds them.
enum class LockLevel : uint8_t
{
    Lifecycle = 1,   // Init / Shutdown against each other
    DefragSession,   // DefragmentationSession: one session's calls against each other
    MoveGate,        // a defragmentation pass; releases of retired and cached resources wait for it
    Transfer,        // uploads and readbacks (shared) against a pass (exclusive)
    CreationStripe,  // VMA creation and naming (one stripe) against VMA's statistics walk (all)
    RegistryShard,   // Registry: the shard of one allocation, or all of them
    PoolCreation,    // PoolSet: creating or replacing a size-class pool
    MemoryTypeCache, // PoolSet: the memory type per request
    RetireQueue,     // RetireQueue
    ReuseShard,      // ReuseCache: one shard
    Staging,         // StagingPool
    Callbacks,       // relocation and budget callback lists (never held while a callback runs)
    PassHold,        // MemorySystem: frees of move sources held until the pass in flight ends
    Count
};

#ifdef SEDX_DEBUG
/// Records that this thread takes / gives back a lock of `level`; asserts when it holds a lock of
/// a later level.
void NoteLockAcquire(LockLevel level);
void NoteLockRelease(LockLevel level);
#else
inline void NoteLockAcquire(LockLevel) {}
inline void NoteLockRelease(LockLevel) {}
#endif

/// A mutex with its place in the lock order. Meets the standard Lockable (and, for a shared
/// mutex, SharedLockable) requirements, so std::lock_guard and friends work unchanged.
template <LockLevel Level, class Mutex = std::mutex>
class OrderedMutex
{
public:
    void lock()
    {
        NoteLockAcquire(Level);
        m_Mutex.lock();
    }
    bool try_lock()
    {
        NoteLockAcquire(Level);
        if (m_Mutex.try_lock())
            return true;
        NoteLockRelease(Level);
        return false;
    }
    void unlock()
    {
        m_Mutex.unlock();
        NoteLockRelease(Level);
    }
    void lock_shared() requires requires(Mutex& m) { m.lock_shared(); }
    {
        NoteLockAcquire(Level);
        m_Mutex.lock_shared();
    }
    void unlock_shared() requires requires(Mutex& m) { m.unlock_shared(); }
    {
        m_Mutex.unlock_shared();
        NoteLockRelease(Level);
    }

private:
    Mutex m_Mutex;
};

} // namespace SceneryEditorX::detail
