#pragma once
// A lock split into per-thread stripes (the creation guard of MemorySystem).

#include "LockOrder.h"
#include "SpinMutex.h"
#include "UsageCounters.h"

#include <array>
#include <mutex>

namespace SceneryEditorX::detail
{

/// A lock split into stripes: each thread takes the stripe of its own (cheap, rarely contended);
/// a walk over VMA's per-allocation data takes them all. VMA writes some per-allocation data
/// (the resource usage at creation, names) without a lock that its statistics walk takes.
class StripedMutex
{
public:
    using Mutex = OrderedMutex<LockLevel::CreationStripe, SpinMutex>;
    static constexpr size_t kStripes = 16;
    static_assert(kStripes == kCounterStripes);
    Mutex& ForThisThread() { return m_Stripes[ThisThreadStripe()].mutex; }
    /// Locks every stripe (in order) until the returned guards are destroyed.
    std::array<std::unique_lock<Mutex>, kStripes> LockAll()
    {
        std::array<std::unique_lock<Mutex>, kStripes> locks;
        for (size_t i = 0; i < kStripes; ++i)
            locks[i] = std::unique_lock(m_Stripes[i].mutex);
        return locks;
    }

private:
    struct alignas(64) Stripe
    {
        Mutex mutex;
    };
    std::array<Stripe, kStripes> m_Stripes;
};

} // namespace SceneryEditorX::detail
