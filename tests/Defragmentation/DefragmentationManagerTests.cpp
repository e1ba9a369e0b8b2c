// DefragmentationManager: the spec's policy (fragmentation above a threshold, a minimum interval
// since the last run) with a clock the test controls.
#include "DefragTestSupport.h"

#include <SceneryEditorX/Memory/DefragmentationManager.h>

namespace SceneryEditorX
{
namespace
{
using namespace DefragTest;
using namespace std::chrono_literals;

class DefragmentationManagerPolicy : public AllocatorTest
{
protected:
    /// Holes of 64 KiB between survivors in the small pool: fragmentation well above 0.1.
    void Fragment(uint32_t firstSeed)
    {
        std::vector<TrackedBuffer> survivors =
            MakeFragmentedBuffers(Allocator(), 48, 64 * 1024, firstSeed, true);
        m_Live.insert(m_Live.end(), survivors.begin(), survivors.end());
    }
    void TearDown() override
    {
        for (const TrackedBuffer& b : m_Live)
        {
            EXPECT_TRUE(HoldsPattern(Allocator(), b));
            Destroy(Allocator(), b);
        }
        AllocatorTest::TearDown();
    }
    static DefragmentationPolicy Policy()
    {
        DefragmentationPolicy policy;
        policy.fragmentationThreshold = 0.1f;
        policy.minInterval = 5min;
        policy.useExactFragmentation = true;
        return policy;
    }
    std::vector<TrackedBuffer> m_Live;
};

TEST_P(DefragmentationManagerPolicy, RunsWhenFragmentedAndThenWaitsForTheInterval)
{
    Fragment(1);
    const auto now = std::chrono::steady_clock::now();
    DefragmentationManager manager(m_Allocator, Policy());

    const std::optional<DefragmentationStats> first = manager.Update(now);
    ASSERT_TRUE(first.has_value()) << "fragmentation " << manager.GetLastFragmentation();
    EXPECT_GT(manager.GetLastFragmentation(), 0.1f);
    EXPECT_GT(first->allocationsMoved, 0u);
    EXPECT_EQ(manager.GetRunCount(), 1u);
    EXPECT_LT(Allocator().CalculateStats().fragmentationRatio, 0.1f) << "the run packed the pool";

    // Fragmented again, one minute later: the interval holds it back.
    Fragment(100);
    EXPECT_GT(Allocator().CalculateStats().fragmentationRatio, 0.1f);
    EXPECT_FALSE(manager.ShouldDefragment(now + 1min));
    EXPECT_FALSE(manager.Update(now + 1min).has_value());
    EXPECT_EQ(manager.GetRunCount(), 1u);
    EXPECT_GT(manager.GetLastFragmentation(), 0.1f);

    // Six minutes after the first run it runs again.
    const std::optional<DefragmentationStats> second = manager.Update(now + 6min);
    ASSERT_TRUE(second.has_value());
    EXPECT_GT(second->allocationsMoved, 0u);
    EXPECT_EQ(manager.GetRunCount(), 2u);
    EXPECT_FALSE(MemoryAllocator::IsDefragmenting());
}

// Without useExactFragmentation the manager reads GetStats' ratio, that of the latest walk. A ratio
// walked before a run describes memory the run rearranged: it must not start run after run.
TEST_P(DefragmentationManagerPolicy, RatioFromBeforeTheLastRunStartsNoOther)
{
    Fragment(1);
    DefragmentationPolicy policy = Policy();
    policy.useExactFragmentation = false;
    policy.minInterval = 0s;
    policy.minReclaimableBytes = 0; // the ratio only
    const auto now = std::chrono::steady_clock::now();
    DefragmentationManager manager(m_Allocator, policy);
    ASSERT_GT(Allocator().CalculateStats().fragmentationRatio, 0.1f);
    ASSERT_TRUE(manager.Update(now).has_value());
    ASSERT_EQ(manager.GetRunCount(), 1u);

    // Later frames, no walk since the run: GetStats still gives the walked ratio, with its age.
    for (int i = 1; i <= 3; ++i)
    {
        ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(MemoryAllocator::GetCurrentFrameIndex() + 1));
        EXPECT_GT(Allocator().GetStats().fragmentationRatio, 0.1f);
        EXPECT_GE(Allocator().GetStats().fragmentationAgeFrames, static_cast<uint64_t>(i));
        EXPECT_FALSE(manager.ShouldDefragment(now + i * 1s));
        EXPECT_FALSE(manager.Update(now + i * 1s).has_value()) << "frame " << i << " after the run";
    }
    EXPECT_EQ(manager.GetRunCount(), 1u);

    // Fragmented again and walked after the run: that ratio is current and starts the next run.
    Fragment(100);
    ASSERT_GT(Allocator().CalculateStats().fragmentationRatio, 0.1f);
    ASSERT_TRUE(manager.Update(now + 10s).has_value());
    EXPECT_EQ(manager.GetRunCount(), 2u);
}

// The reclaimable figure starts a run the ratio would not: a whole empty small-pool block (VMA keeps
// one) with the ratio threshold out of reach.
TEST_P(DefragmentationManagerPolicy, ReclaimableBytesTriggerARunTheRatioWouldNot)
{
    std::vector<TrackedBuffer> all(32); // two 4 MiB small-pool blocks of 256 KiB buffers
    for (size_t i = 0; i < all.size(); ++i)
        ASSERT_TRUE(CreateFilledBuffer(Allocator(), 256 * 1024, 500 + static_cast<uint32_t>(i), all[i]));
    for (size_t i = 0; i < all.size(); ++i)
    {
        if (i < 16)
            m_Live.push_back(all[i]);
        else
            Destroy(Allocator(), all[i]);
    }
    const uint64_t reclaimable = Allocator().GetStats().reclaimableBytes;
    ASSERT_GE(reclaimable, 4u * 1024 * 1024);

    DefragmentationPolicy policy = Policy();
    policy.fragmentationThreshold = 2.0f; // the ratio never starts a run here
    policy.minReclaimableBytes = reclaimable + 1;
    const auto now = std::chrono::steady_clock::now();
    {
        DefragmentationManager below(m_Allocator, policy);
        EXPECT_FALSE(below.Update(now).has_value()) << "one byte short of the threshold";
        EXPECT_EQ(below.GetLastReclaimableBytes(), reclaimable);
        EXPECT_EQ(below.GetLastTrigger(), DefragmentationTrigger::None);
    }
    policy.minReclaimableBytes = 0; // off: the ratio only
    {
        DefragmentationManager off(m_Allocator, policy);
        EXPECT_FALSE(off.Update(now).has_value());
    }
    policy.minReclaimableBytes = reclaimable;
    DefragmentationManager manager(m_Allocator, policy);
    EXPECT_TRUE(manager.ShouldDefragment(now));
    const std::optional<DefragmentationStats> run = manager.Update(now);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(manager.GetLastTrigger(), DefragmentationTrigger::Reclaimable);
    EXPECT_STREQ(DefragmentationTriggerName(manager.GetLastTrigger()), "reclaimable");
    EXPECT_GE(run->blocksFreed, 1u);
    EXPECT_EQ(run->bytesFreed, reclaimable);
    EXPECT_EQ(manager.GetLastReclaimableBytes(), 0u) << "after the run: nothing left to win";
    EXPECT_FALSE(manager.ShouldDefragment(now + 6min));
}

TEST_P(DefragmentationManagerPolicy, NeverRunsBelowTheThreshold)
{
    // Packed: 24 buffers one after the other, nothing freed.
    for (uint32_t i = 0; i < 24; ++i)
    {
        TrackedBuffer b;
        ASSERT_TRUE(CreateFilledBuffer(Allocator(), 64 * 1024, i, b));
        m_Live.push_back(b);
    }
    ASSERT_LE(Allocator().CalculateStats().fragmentationRatio, 0.1f);
    DefragmentationManager manager(m_Allocator, Policy());
    const auto now = std::chrono::steady_clock::now();
    for (auto later : {0min, 6min, 60min, 600min})
        EXPECT_FALSE(manager.Update(now + later).has_value());
    EXPECT_EQ(manager.GetRunCount(), 0u);
    EXPECT_FALSE(manager.GetLastStats().has_value());
}

TEST_P(DefragmentationManagerPolicy, ReadsTheCachedFigureUnlessAskedForTheExactOne)
{
    Fragment(1);
    DefragmentationPolicy policy = Policy();
    policy.useExactFragmentation = false;
    DefragmentationManager manager(m_Allocator, policy);
    const auto now = std::chrono::steady_clock::now();
    // No frame has passed and nobody asked for statistics: the cached figure is still Init's.
    ASSERT_EQ(Allocator().GetStats().fragmentationRatio, 0.0f);
    EXPECT_FALSE(manager.Update(now).has_value());
    EXPECT_EQ(manager.GetRunCount(), 0u);
    EXPECT_GT(Allocator().CalculateStats().fragmentationRatio, 0.1f); // refreshes the cache
    EXPECT_TRUE(manager.Update(now).has_value());
    EXPECT_EQ(manager.GetRunCount(), 1u);
}

TEST_P(DefragmentationManagerPolicy, WithPerPassLimitsARunTakesSeveralUpdates)
{
    Fragment(1);
    DefragmentationPolicy policy = Policy();
    policy.options.maxAllocationsPerPass = 3;
    DefragmentationManager manager(m_Allocator, policy);
    RelocationRecorder recorder;
    const auto start = std::chrono::steady_clock::now();
    std::optional<DefragmentationStats> stats;
    int updates = 0;
    size_t seen = 0;
    while (!stats && updates < 1000)
    {
        // One frame each; the run goes on whatever the interval says.
        stats = manager.Update(start + std::chrono::milliseconds(16 * updates));
        ++updates;
        EXPECT_LE(recorder.Count() - seen, 3u) << "update " << updates;
        seen = recorder.Count();
        EXPECT_EQ(MemoryAllocator::IsDefragmenting(), !stats.has_value());
    }
    ASSERT_TRUE(stats.has_value());
    EXPECT_GT(updates, 2);
    EXPECT_GT(stats->passes, 1u);
    EXPECT_EQ(stats->allocationsMoved, recorder.Count());
    EXPECT_GT(stats->allocationsMoved, 3u);
    EXPECT_EQ(manager.GetRunCount(), 1u);
    EXPECT_FALSE(MemoryAllocator::IsDefragmenting());
}

TEST_P(DefragmentationManagerPolicy, DestroyedMidRunItFinishesTheRun)
{
    Fragment(1);
    DefragmentationPolicy policy = Policy();
    policy.options.maxAllocationsPerPass = 3;
    RelocationRecorder recorder;
    {
        DefragmentationManager manager(m_Allocator, policy);
        EXPECT_FALSE(manager.Update(std::chrono::steady_clock::now()).has_value()) << "one pass of several";
        ASSERT_TRUE(MemoryAllocator::IsDefragmenting());
    }
    EXPECT_FALSE(MemoryAllocator::IsDefragmenting()) << "the manager's destructor ended the session";
    EXPECT_GT(recorder.Count(), 3u) << "the remaining passes ran";
}

TEST_P(DefragmentationManagerPolicy, MarksWhatTheCandidateFunctionMarks)
{
    Fragment(1);
    DefragmentationPolicy policy = Policy();
    size_t calls = 0;
    // Only the first half of the survivors.
    policy.markCandidates = [&](MemoryAllocator& allocator)
    {
        ++calls;
        size_t marked = 0;
        for (size_t i = 0; i < m_Live.size() / 2; ++i)
            marked += allocator.MarkForDefragmentation(m_Live[i].allocation);
        return marked;
    };
    DefragmentationManager manager(m_Allocator, policy);
    RelocationRecorder recorder;
    ASSERT_TRUE(manager.Update(std::chrono::steady_clock::now()).has_value());
    EXPECT_EQ(calls, 1u);
    for (const RelocationNotice& n : recorder.Notices())
    {
        bool inFirstHalf = false;
        for (size_t i = 0; i < m_Live.size() / 2; ++i)
            inFirstHalf |= m_Live[i].allocation == n.allocation;
        EXPECT_TRUE(inFirstHalf) << "an allocation the candidate function did not mark moved";
    }
}

INSTANTIATE_TEST_SUITE_P(CopyPaths, DefragmentationManagerPolicy, ::testing::ValuesIn(kCopyPaths),
                         CopyPathName);

} // namespace
} // namespace SceneryEditorX
