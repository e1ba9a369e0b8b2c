// Incremental sessions (DefragmentStep with per-pass limits) and every misuse the issue names: each
// gets false or empty stats and exactly one tagged error, without a crash or a leak.
#include "DefragTestSupport.h"

#include <algorithm>
#include <set>

namespace SceneryEditorX
{
namespace
{
using namespace DefragTest;

class IncrementalDefragmentation : public AllocatorTest
{
};
class DefragmentationMisuse : public AllocatorTest
{
};

bool IsEmpty(const DefragmentationStats& s)
{
    return s.bytesMoved == 0 && s.bytesFreed == 0 && s.allocationsMoved == 0 && s.buffersMoved == 0 &&
           s.imagesMoved == 0 && s.blocksFreed == 0 && s.allocationsRefused == 0 && s.movesFailed == 0 &&
           s.passes == 0 && s.duration.count() == 0;
}

TEST_P(IncrementalDefragmentation, EachStepMovesAtMostTheLimitAndEndReturnsTheTotals)
{
    // 60 buffers of 32 KiB, every other one freed: about 30 moves to make, at most 4 per pass.
    std::vector<TrackedBuffer> buffers = MakeFragmentedBuffers(Allocator(), 60, 32 * 1024, 1, true);
    ASSERT_EQ(buffers.size(), 30u);

    RelocationRecorder recorder;
    DefragmentationOptions options;
    options.maxAllocationsPerPass = 4;
    ASSERT_TRUE(Allocator().BeginDefragmentation(options));
    EXPECT_EQ(Allocator().MarkAllForDefragmentation(), buffers.size());
    uint32_t stepsWithMoreWork = 0;
    size_t seen = 0;
    bool more = true;
    for (int step = 0; more && step < 1000; ++step)
    {
        more = Allocator().DefragmentStep();
        const size_t now = recorder.Count();
        EXPECT_LE(now - seen, 4u) << "step " << step << " moved more than maxAllocationsPerPass";
        seen = now;
        stepsWithMoreWork += more;
        EXPECT_TRUE(MemoryAllocator::IsDefragmenting());
    }
    EXPECT_FALSE(more) << "the session never ran out of work";
    EXPECT_GE(stepsWithMoreWork, 3u) << "DefragmentStep returned true several times";
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_FALSE(MemoryAllocator::IsDefragmenting());
    EXPECT_EQ(recorder.Count(), seen) << "End had nothing left to do";
    EXPECT_EQ(stats.allocationsMoved, recorder.Count());
    EXPECT_EQ(stats.buffersMoved, stats.allocationsMoved);
    EXPECT_GT(stats.allocationsMoved, 4u);
    EXPECT_GT(stats.passes, 1u);
    EXPECT_LE(stats.allocationsMoved, 4u * stats.passes);
    EXPECT_EQ(stats.bytesMoved, VkDeviceSize(32 * 1024) * stats.allocationsMoved);

    ExpectHoldPatterns(Allocator(), buffers);
    DestroyAll(Allocator(), buffers);
}

TEST_P(IncrementalDefragmentation, AByteLimitBoundsEachPass)
{
    std::vector<TrackedBuffer> buffers = MakeFragmentedBuffers(Allocator(), 40, 16 * 1024, 1, true);
    RelocationRecorder recorder;
    DefragmentationOptions options;
    options.maxBytesPerPass = 48 * 1024; // three buffers
    ASSERT_TRUE(Allocator().BeginDefragmentation(options));
    Allocator().MarkAllForDefragmentation();
    size_t seen = 0;
    int steps = 0;
    while (Allocator().DefragmentStep() && steps < 1000)
    {
        EXPECT_LE(recorder.Count() - seen, 3u);
        seen = recorder.Count();
        ++steps;
    }
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_GT(steps, 1);
    EXPECT_GT(stats.passes, 1u);
    EXPECT_LE(stats.bytesMoved, options.maxBytesPerPass * stats.passes);
    EXPECT_GT(stats.allocationsMoved, 3u);
    ExpectHoldPatterns(Allocator(), buffers);
    DestroyAll(Allocator(), buffers);
}

TEST_P(DefragmentationMisuse, MarkWithoutBeginIsOneError)
{
    TrackedBuffer b;
    ASSERT_TRUE(CreateFilledBuffer(Allocator(), 1024, 1, b));
    LogCapture capture;
    EXPECT_FALSE(Allocator().MarkForDefragmentation(b.allocation));
    EXPECT_EQ(Allocator().MarkAllForDefragmentation(), 0u);
    EXPECT_EQ(AllocatorErrors(capture), 2u) << "one error for each call";
    EXPECT_FALSE(MemoryAllocator::IsDefragmenting());
    Destroy(Allocator(), b);
}

TEST_P(DefragmentationMisuse, BeginTwiceIsOneErrorAndKeepsTheFirstSession)
{
    ASSERT_TRUE(Allocator().BeginDefragmentation());
    {
        LogCapture capture;
        EXPECT_FALSE(Allocator().BeginDefragmentation());
        EXPECT_EQ(AllocatorErrors(capture), 1u);
    }
    EXPECT_TRUE(MemoryAllocator::IsDefragmenting());
    LogCapture capture;
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_EQ(AllocatorErrors(capture), 0u);
    EXPECT_EQ(stats.allocationsMoved, 0u);
    EXPECT_FALSE(MemoryAllocator::IsDefragmenting());
}

TEST_P(DefragmentationMisuse, EndWithoutBeginIsOneErrorAndEmptyStats)
{
    LogCapture capture;
    EXPECT_TRUE(IsEmpty(Allocator().EndDefragmentation()));
    EXPECT_EQ(AllocatorErrors(capture), 1u);
    capture.Clear();
    EXPECT_FALSE(Allocator().DefragmentStep());
    EXPECT_EQ(AllocatorErrors(capture), 1u);
}

TEST_P(DefragmentationMisuse, MarkingAFreedAllocationIsOneError)
{
    TrackedBuffer freed;
    ASSERT_TRUE(CreateFilledBuffer(Allocator(), 4096, 1, freed));
    Destroy(Allocator(), freed);
    ASSERT_TRUE(Allocator().BeginDefragmentation());
    LogCapture capture;
    EXPECT_FALSE(Allocator().MarkForDefragmentation(freed.allocation));
    EXPECT_EQ(AllocatorErrors(capture), 1u);
    EXPECT_EQ(Allocator().EndDefragmentation().allocationsMoved, 0u);
    EXPECT_EQ(AllocatorErrors(capture), 1u) << "End itself is no error";
}

TEST_P(DefragmentationMisuse, MarkingAForeignAllocationIsOneErrorAndItNeverMoves)
{
    // [buffer][raw VMA buffer][buffer] in the default pools (our buffers are above the size
    // classes, so they share VMA's default pool with the foreign one; images have pools of their
    // own); the first buffer goes, so VMA proposes to move the buffer made through the raw escape
    // hatch, which the system must leave alone.
    constexpr VkDeviceSize kAboveClasses = LARGE_BUFFER_SIZE + 1024 * 1024;
    TrackedBuffer first, last;
    ASSERT_TRUE(CreateFilledBuffer(Allocator(), kAboveClasses, 1, first));
    VkBufferCreateInfo info =
        BufferInfo(64 * 1024, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    VkBuffer foreignBuffer = VK_NULL_HANDLE;
    VmaAllocation foreign = nullptr;
    ASSERT_EQ(CreateForeignBuffer(info, 0, foreignBuffer, foreign), VK_SUCCESS);
    ASSERT_TRUE(CreateFilledBuffer(Allocator(), kAboveClasses, 2, last));
    Destroy(Allocator(), first);
    const Placement before = PlacementOf(foreign);

    RelocationRecorder recorder;
    ASSERT_TRUE(Allocator().BeginDefragmentation());
    {
        LogCapture capture;
        EXPECT_FALSE(Allocator().MarkForDefragmentation(foreign));
        EXPECT_EQ(AllocatorErrors(capture), 1u);
    }
    EXPECT_EQ(Allocator().MarkAllForDefragmentation(), 1u) << "the registry holds only our buffer";
    LogCapture capture;
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_EQ(AllocatorErrors(capture), 0u);
    EXPECT_EQ(stats.buffersMoved, 1u) << "our buffer had room to move";
    EXPECT_EQ(stats.imagesMoved, 0u);
    for (const RelocationNotice& n : recorder.Notices())
        EXPECT_NE(n.allocation, foreign);
    EXPECT_EQ(PlacementOf(foreign), before);
    EXPECT_TRUE(HoldsPattern(Allocator(), last));
    Destroy(Allocator(), last);
    vmaDestroyBuffer(MemoryAllocator::GetAllocator(), foreignBuffer, foreign);
}

TEST_P(DefragmentationMisuse, MarkingNullIsOneError)
{
    ASSERT_TRUE(Allocator().BeginDefragmentation());
    LogCapture capture;
    EXPECT_FALSE(Allocator().MarkForDefragmentation(nullptr));
    EXPECT_FALSE(Allocator().MarkForDefragmentation(nullptr, VK_IMAGE_LAYOUT_GENERAL));
    EXPECT_EQ(AllocatorErrors(capture), 2u);
    Allocator().EndDefragmentation();
}

TEST_P(DefragmentationMisuse, BadFlagsAreOneErrorAndOpenNoSession)
{
    const std::vector<std::pair<const char*, VmaDefragmentationFlags>> bad = {
        {"FAST|FULL",
         VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FAST_BIT | VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT},
        {"BALANCED|EXTENSIVE",
         VMA_DEFRAGMENTATION_FLAG_ALGORITHM_BALANCED_BIT | VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT},
        // Allocation flags passed as defragmentation flags. (VMA_ALLOCATION_CREATE_MAPPED_BIT is 0x4, the
        // same value as VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT, so no check can tell it apart.)
        {"HOST_ACCESS_SEQUENTIAL_WRITE", VMA_ALLOCATION_CREATE_HOST_ACCESS_SEQUENTIAL_WRITE_BIT},
        {"WITHIN_BUDGET|MAPPED", VMA_ALLOCATION_CREATE_WITHIN_BUDGET_BIT | VMA_ALLOCATION_CREATE_MAPPED_BIT},
        {"STRATEGY_MIN_MEMORY", VMA_ALLOCATION_CREATE_STRATEGY_MIN_MEMORY_BIT},
    };
    for (const auto& [name, flags] : bad)
    {
        SCOPED_TRACE(name);
        LogCapture capture;
        EXPECT_FALSE(Allocator().BeginDefragmentation(flags));
        DefragmentationOptions options;
        options.flags = flags;
        EXPECT_FALSE(Allocator().BeginDefragmentation(options));
        EXPECT_EQ(AllocatorErrors(capture), 2u) << "one error for each call";
        EXPECT_FALSE(MemoryAllocator::IsDefragmenting());
    }
    // Each single algorithm bit, and none (VMA's default), is fine.
    for (VmaDefragmentationFlags flags :
         {VmaDefragmentationFlags(0), VmaDefragmentationFlags(VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FAST_BIT),
          VmaDefragmentationFlags(VMA_DEFRAGMENTATION_FLAG_ALGORITHM_BALANCED_BIT),
          VmaDefragmentationFlags(VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT),
          VmaDefragmentationFlags(VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT)})
    {
        LogCapture capture;
        EXPECT_TRUE(Allocator().BeginDefragmentation(flags)) << flags;
        Allocator().EndDefragmentation();
        EXPECT_EQ(AllocatorErrors(capture), 0u) << flags;
    }
}

TEST_P(DefragmentationMisuse, MarkingAfterTheFirstStepIsOneError)
{
    std::vector<TrackedBuffer> buffers = MakeFragmentedBuffers(Allocator(), 20, 16 * 1024, 1, true);
    TrackedBuffer late;
    ASSERT_TRUE(CreateFilledBuffer(Allocator(), 16 * 1024, 99, late));
    DefragmentationOptions options;
    options.maxAllocationsPerPass = 1;
    ASSERT_TRUE(Allocator().BeginDefragmentation(options));
    for (const TrackedBuffer& b : buffers)
        ASSERT_TRUE(Allocator().MarkForDefragmentation(b.allocation));
    Allocator().DefragmentStep();
    {
        LogCapture capture;
        EXPECT_FALSE(Allocator().MarkForDefragmentation(late.allocation));
        EXPECT_EQ(AllocatorErrors(capture), 1u);
    }
    Allocator().EndDefragmentation();
    buffers.push_back(late);
    ExpectHoldPatterns(Allocator(), buffers);
    DestroyAll(Allocator(), buffers);
}

TEST_P(DefragmentationMisuse, DestroyingAMarkedAllocationBeforeEndIsFine)
{
    std::vector<TrackedBuffer> buffers = MakeFragmentedBuffers(Allocator(), 30, 16 * 1024, 1, true);
    ASSERT_EQ(buffers.size(), 15u);
    RelocationRecorder recorder;
    LogCapture capture;
    ASSERT_TRUE(Allocator().BeginDefragmentation());
    for (const TrackedBuffer& b : buffers)
        ASSERT_TRUE(Allocator().MarkForDefragmentation(b.allocation));
    // The last buffers are the ones VMA would move first; two of them go before End.
    std::set<VmaAllocation> gone;
    for (size_t i = buffers.size() - 2; i < buffers.size(); ++i)
    {
        Destroy(Allocator(), buffers[i]);
        gone.insert(buffers[i].allocation);
    }
    buffers.resize(buffers.size() - 2);
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_EQ(AllocatorErrors(capture), 0u);
    EXPECT_GT(stats.allocationsMoved, 0u);
    EXPECT_EQ(recorder.Count(), stats.allocationsMoved);
    for (const RelocationNotice& n : recorder.Notices())
        EXPECT_FALSE(gone.count(n.allocation)) << "a destroyed allocation was moved";
    ExpectHoldPatterns(Allocator(), buffers);
    DestroyAll(Allocator(), buffers);
    EXPECT_EQ(Allocator().GetStats().tag.allocationCount, 0u);
}

// A thread may read GetBuffer() just before another thread's pass moves the buffer (seen on
// NVIDIA in DefragmentationConcurrency): destroying with that handle must still work, while a
// handle that never belonged to the allocation stays refused.
TEST_P(DefragmentationMisuse, DestroyWithTheHandleFromBeforeAMoveIsAccepted)
{
    std::vector<TrackedBuffer> buffers = MakeFragmentedBuffers(Allocator(), 30, 16 * 1024, 1, true);
    ASSERT_EQ(buffers.size(), 15u);
    RelocationRecorder recorder;
    ASSERT_TRUE(Allocator().BeginDefragmentation());
    EXPECT_EQ(Allocator().MarkAllForDefragmentation(), buffers.size());
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    ASSERT_GT(stats.buffersMoved, 0u);
    const std::vector<RelocationNotice> notices = recorder.Notices();
    ASSERT_FALSE(notices.empty());
    const RelocationNotice moved = notices.front();
    ASSERT_NE(moved.oldBuffer, moved.newBuffer);
    ASSERT_EQ(MemoryAllocator::GetBuffer(moved.allocation), moved.newBuffer);

    // Another allocation's buffer is still a mismatched pair.
    const auto other = std::find_if(buffers.begin(), buffers.end(),
                                    [&](const TrackedBuffer& b) { return b.allocation != moved.allocation; });
    ASSERT_NE(other, buffers.end());
    {
        LogCapture capture;
        EXPECT_FALSE(
            Allocator().DestroyBuffer(MemoryAllocator::GetBuffer(other->allocation), moved.allocation));
        EXPECT_EQ(capture.Count(LogLevel::Error, "does not belong to this allocation"), 1u);
        EXPECT_TRUE(MemoryAllocator::ContainsAllocation(moved.allocation));
    }
    // The handle from before the move destroys the allocation (and its current buffer).
    {
        LogCapture capture;
        EXPECT_TRUE(Allocator().DestroyBuffer(moved.oldBuffer, moved.allocation));
        EXPECT_EQ(AllocatorErrors(capture), 0u);
        EXPECT_FALSE(MemoryAllocator::ContainsAllocation(moved.allocation));
    }
    for (const TrackedBuffer& b : buffers)
        if (b.allocation != moved.allocation)
            Destroy(Allocator(), b);
    EXPECT_EQ(Allocator().GetStats().tag.allocationCount, 0u);
}

// EXTENSIVE runs as itself (VMA's EXTENSIVE read past a block list before patches/vma/0001): no
// substitution, moves, data kept, and no error line.
TEST_P(DefragmentationMisuse, ExtensiveRunsAsItselfAndKeepsTheData)
{
    std::vector<TrackedBuffer> buffers = MakeFragmentedBuffers(Allocator(), 30, 16 * 1024, 1, true);
    ::SceneryEditorX::Test::ScopedLogLevel level(LogLevel::Info);
    LogCapture capture;
    ASSERT_TRUE(Allocator().BeginDefragmentation(VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT));
    EXPECT_EQ(capture.Count(LogLevel::Info, "runs as FULL"), 0u);
    Allocator().MarkAllForDefragmentation();
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_GT(stats.allocationsMoved, 0u);
    EXPECT_EQ(AllocatorErrors(capture), 0u);
    ExpectHoldPatterns(Allocator(), buffers);
    DestroyAll(Allocator(), buffers);
}

TEST_P(DefragmentationMisuse, ShutdownDuringAnOpenSessionEndsItWithOneErrorAndLeaksNothing)
{
    std::vector<TrackedBuffer> buffers = MakeFragmentedBuffers(Allocator(), 30, 16 * 1024, 1, true);
    TrackedImage image;
    ASSERT_TRUE(CreateFilledImage(Allocator(), 64, 64, 7, image));
    DefragmentationOptions options;
    options.maxAllocationsPerPass = 2;
    ASSERT_TRUE(Allocator().BeginDefragmentation(options));
    Allocator().MarkAllForDefragmentation();
    ASSERT_TRUE(Allocator().DefragmentStep()) << "the session is in the middle of a pool";
    DestroyAll(Allocator(), buffers);
    Destroy(Allocator(), image);
    EXPECT_EQ(Allocator().GetStats().tag.allocationCount, 0u);

    LogCapture capture;
    ASSERT_TRUE(MemoryAllocator::Shutdown());
    EXPECT_EQ(AllocatorErrors(capture), 1u);
    EXPECT_EQ(capture.Count(LogLevel::Error, "defragmentation session", "VulkanAllocator"), 1u);
    EXPECT_EQ(capture.Count(LogLevel::Error, "leak"), 0u);
    EXPECT_EQ(capture.Count(LogLevel::Error, {}, "VMA"), 0u) << "VMA reported leaked allocations";
    EXPECT_FALSE(MemoryAllocator::IsDefragmenting());

    // A new Init starts without a session.
    ASSERT_TRUE(MemoryAllocator::Init(::SceneryEditorX::Test::Device(), VK_API_VERSION_1_3));
    EXPECT_FALSE(MemoryAllocator::IsDefragmenting());
    EXPECT_TRUE(Allocator().BeginDefragmentation());
    Allocator().EndDefragmentation();
}

TEST_P(DefragmentationMisuse, ShutdownDuringAnOpenSessionWithLiveAllocationsReleasesThemOnce)
{
    std::vector<TrackedBuffer> buffers = MakeFragmentedBuffers(Allocator(), 10, 16 * 1024, 1, true);
    DefragmentationOptions options;
    options.maxAllocationsPerPass = 1;
    ASSERT_TRUE(Allocator().BeginDefragmentation(options));
    Allocator().MarkAllForDefragmentation();
    Allocator().DefragmentStep();
    LogCapture capture;
    ASSERT_TRUE(MemoryAllocator::Shutdown());
    EXPECT_EQ(capture.Count(LogLevel::Error, "defragmentation session", "VulkanAllocator"), 1u);
    EXPECT_EQ(capture.Count(LogLevel::Error, "leak: tag 'DefragTest'", "VulkanAllocator"), buffers.size())
        << "each live allocation is reported (and released) once";
    EXPECT_EQ(capture.Count(LogLevel::Error, {}, "VMA"), 0u) << "VMA reported leaked allocations";
}

INSTANTIATE_TEST_SUITE_P(CopyPaths, IncrementalDefragmentation, ::testing::ValuesIn(kCopyPaths),
                         CopyPathName);
INSTANTIATE_TEST_SUITE_P(CopyPaths, DefragmentationMisuse, ::testing::ValuesIn(kCopyPaths), CopyPathName);

} // namespace
} // namespace SceneryEditorX
