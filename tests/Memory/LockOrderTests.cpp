// The lock order of the memory system (src/Memory/LockOrder.h) is checked in debug builds: taking an
// outer lock while an inner one is held asserts, and the order the parts really use passes.
#include "Memory/LockOrder.h"

#include <gtest/gtest.h>

#include <csignal>
#include <mutex>
#include <shared_mutex>

namespace SceneryEditorX
{
namespace
{
using detail::LockLevel;
using detail::OrderedMutex;

#ifdef SEDX_DEBUG
TEST(LockOrderDeathTest, TakingAnOuterLockUnderAnInnerOneAsserts)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    // The check logs "lock order violated" (to the log, not stderr) and aborts.
    EXPECT_EXIT(
        {
            OrderedMutex<LockLevel::RegistryShard> shard;
            OrderedMutex<LockLevel::MoveGate> gate;
            std::lock_guard inner(shard);
            std::lock_guard outer(gate);
        },
        ::testing::KilledBySignal(SIGABRT), "");
}

TEST(LockOrderTest, APassOrderAndSeveralLocksOfOneLevelPass)
{
    OrderedMutex<LockLevel::DefragSession> session;
    OrderedMutex<LockLevel::MoveGate> gate;
    OrderedMutex<LockLevel::Transfer, std::shared_mutex> transfer;
    OrderedMutex<LockLevel::RegistryShard> shardA;
    OrderedMutex<LockLevel::RegistryShard> shardB;
    OrderedMutex<LockLevel::RetireQueue> retire;
    std::lock_guard l1(session);
    std::lock_guard l2(gate);
    std::unique_lock l3(transfer);
    std::lock_guard l4(shardA);
    std::lock_guard l5(shardB);
    std::lock_guard l6(retire);
    SUCCEED();
}

TEST(LockOrderTest, ReleasingInnerLocksAllowsOuterOnesAgain)
{
    OrderedMutex<LockLevel::MoveGate> gate;
    OrderedMutex<LockLevel::Staging> staging;
    {
        std::lock_guard inner(staging);
    }
    std::lock_guard outer(gate);
    SUCCEED();
}
#else
TEST(LockOrderTest, CheckedInDebugBuildsOnly)
{
    GTEST_SKIP() << "the lock-order check is compiled in with SEDX_DEBUG (Debug builds) only";
}
#endif

} // namespace
} // namespace SceneryEditorX
