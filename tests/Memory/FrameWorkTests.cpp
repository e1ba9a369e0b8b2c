// No frame call walks the allocations: SetCurrentFrameIndex, GetStats, GetMemoryBudget and
// DefragmentationManager::Update do the same work at 100 and at 10,000 live allocations. The work
// that grows with the allocations is counted (detail::Walks(): VMA's walks, registry scans and
// entries visited; src/Memory/WalkCounters.h), and a frame at either size must add nothing to it.
// A walk put back on a frame path fails here (a source test, sedx_vma_walks_only_in_statistics,
// checks that every call of a VMA walk goes through the counted place).
#include "Memory/WalkCounters.h"
#include "MemoryTestSupport.h"

#include <SceneryEditorX/Memory/DefragmentationManager.h>

#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

struct WorkCount
{
    uint64_t vmaWalks = 0;
    uint64_t registryLockAlls = 0;
    uint64_t registryEntriesVisited = 0;
    bool operator==(const WorkCount&) const = default;
};
WorkCount CountNow()
{
    const detail::WalkCounters& w = detail::Walks();
    return {w.vmaWalks.load(), w.registryLockAlls.load(), w.registryEntriesVisited.load()};
}
WorkCount Since(const WorkCount& before)
{
    const WorkCount now = CountNow();
    return {now.vmaWalks - before.vmaWalks, now.registryLockAlls - before.registryLockAlls,
            now.registryEntriesVisited - before.registryEntriesVisited};
}
std::ostream& operator<<(std::ostream& out, const WorkCount& w)
{
    return out << "{VMA walks " << w.vmaWalks << ", registry lock-alls " << w.registryLockAlls
               << ", registry entries visited " << w.registryEntriesVisited << "}";
}

class FrameWorkTest : public AllocatorTest
{
protected:
    // `live` buffers, then `frames` frames of a fixed number of deferred destroys and as many new
    // buffers (the same sizes: the freed places are reused and no block is released), each frame
    // calling SetCurrentFrameIndex, GetStats, GetMemoryBudget and the manager's Update. Returns
    // the counted work of the frame calls alone.
    WorkCount FrameCallWork(size_t live, uint64_t& frame)
    {
        constexpr int kFrames = 24;
        constexpr size_t kFreesPerFrame = 8;
        std::deque<Buffer> buffers;
        for (size_t i = 0; i < live; ++i)
            buffers.push_back(MakeBuffer(4 * KiB));
        Ref<DefragmentationManager> manager = CreateRef<DefragmentationManager>(m_Allocator);
        WorkCount total;
        for (int f = 0; f < kFrames; ++f)
        {
            for (size_t i = 0; i < kFreesPerFrame; ++i)
            {
                const Buffer b = buffers.front();
                buffers.pop_front();
                EXPECT_TRUE(Alloc().DestroyBufferDeferred(b.buffer, b.allocation));
                buffers.push_back(MakeBuffer(4 * KiB));
            }
            const WorkCount before = CountNow();
            EXPECT_TRUE(MemoryAllocator::SetCurrentFrameIndex(++frame));
            const AllocationStats stats = Alloc().GetStats();
            (void)Alloc().GetMemoryBudget();
            EXPECT_FALSE(manager->Update()) << "nothing to defragment here";
            const WorkCount work = Since(before);
            total.vmaWalks += work.vmaWalks;
            total.registryLockAlls += work.registryLockAlls;
            total.registryEntriesVisited += work.registryEntriesVisited;
            EXPECT_GE(stats.allocationCount, live);
        }
        EXPECT_EQ(Alloc().GetStats().tag.allocationCount, live);
        const uint64_t blocks = Alloc().GetStats().blockCount;
        for (const Buffer& b : buffers)
            Destroy(b);
        EXPECT_GT(blocks, 0u);
        return total;
    }
};

TEST_F(FrameWorkTest, FrameCallsDoTheSameWorkAtOneHundredAndTenThousandAllocations)
{
    uint64_t frame = 0;
    const WorkCount small = FrameCallWork(100, frame);
    const WorkCount large = FrameCallWork(10000, frame);
    EXPECT_EQ(small, large) << "at 100 live: " << small << ", at 10,000: " << large;
    EXPECT_EQ(large, WorkCount{}) << "a frame call walked the allocations";
}

// The counters see what they are meant to see, so the test above can fail: CalculateStats is one
// VMA walk, a detailed report a walk and a scan of the registry under every shard lock.
TEST_F(FrameWorkTest, TheCountersSeeEveryWalk)
{
    const Buffer b = MakeBuffer(4 * KiB);
    WorkCount before = CountNow();
    (void)Alloc().CalculateStats();
    EXPECT_EQ(Since(before), (WorkCount{1, 0, 0}));
    before = CountNow();
    (void)MemoryAllocator::BuildStatsString(true);
    EXPECT_EQ(Since(before), (WorkCount{1, 1, 0}));
    Destroy(b);
}

} // namespace
} // namespace SceneryEditorX
