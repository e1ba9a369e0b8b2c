// The acceptance runs of issue 4: fragment the size-class pools and the default pools, defragment
// everything, and check the packing, the contents, the registry and the notices; unmarked
// allocations stay where they are; 200 randomized rounds keep every byte.
#include "DefragTestSupport.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

namespace SceneryEditorX
{
namespace
{
using namespace DefragTest;

class FragmentThenDefragment : public AllocatorTest
{
protected:
    /// Fragments the pools with buffers and images, frees a random half, marks everything and
    /// defragments; then checks contents, handles, notices and block counts, and, when asked, that
    /// every pool ends below 5 % fragmentation.
    void FragmentMarkAllAndDefragment(VmaDefragmentationFlags algorithm, bool requirePacking);
};

/// The handle fields of one kind of resource in a relocation notice, and those of the other kind.
template <typename Handle, typename Other>
struct NoticeFields
{
    Handle RelocationNotice::*oldHandle;
    Handle RelocationNotice::*newHandle;
    Other RelocationNotice::*otherOld;
    Other RelocationNotice::*otherNew;
};
constexpr NoticeFields<VkBuffer, VkImage> kBufferFields{
    &RelocationNotice::oldBuffer, &RelocationNotice::newBuffer, &RelocationNotice::oldImage,
    &RelocationNotice::newImage};
constexpr NoticeFields<VkImage, VkBuffer> kImageFields{
    &RelocationNotice::oldImage, &RelocationNotice::newImage, &RelocationNotice::oldBuffer,
    &RelocationNotice::newBuffer};

/// One resource against its notices: without one it kept its handle (`resource` names it in the
/// message); with some, they chain from its first handle to the newest, which the registry holds.
template <typename Handle, typename Other>
void ExpectHandleChain(const std::map<VmaAllocation, std::vector<RelocationNotice>>& byAllocation,
                       VmaAllocation allocation, Handle original, Handle current,
                       const NoticeFields<Handle, Other>& fields, const char* resource)
{
    const auto it = byAllocation.find(allocation);
    if (it == byAllocation.end())
    {
        EXPECT_EQ(current, original) << resource << " without a notice kept its handle";
        return;
    }
    // A resource may move more than once in a session; the notices chain.
    Handle expectedOld = original;
    for (const RelocationNotice& n : it->second)
    {
        EXPECT_EQ(n.*fields.oldHandle, expectedOld);
        EXPECT_NE(n.*fields.newHandle, VK_NULL_HANDLE);
        EXPECT_NE(n.*fields.newHandle, n.*fields.oldHandle);
        EXPECT_EQ(n.*fields.otherOld, VK_NULL_HANDLE);
        EXPECT_EQ(n.*fields.otherNew, VK_NULL_HANDLE);
        EXPECT_EQ(n.tag, "DefragTest");
        expectedOld = n.*fields.newHandle;
    }
    EXPECT_EQ(current, it->second.back().*fields.newHandle) << "the registry holds the newest handle";
    EXPECT_NE(current, original);
}

/// Checks the notices of one session against its stats, the registry and the resources' first handles.
void ExpectNoticesMatch(const RelocationRecorder& recorder, const DefragmentationStats& stats,
                        const std::vector<TrackedBuffer>& buffers, const std::vector<TrackedImage>& images)
{
    const std::vector<RelocationNotice> notices = recorder.Notices();
    EXPECT_EQ(notices.size(), stats.allocationsMoved) << "one notice per move";
    const auto bufferNotices =
        std::count_if(notices.begin(), notices.end(),
                      [](const RelocationNotice& n) { return n.newBuffer != VK_NULL_HANDLE; });
    const auto imageNotices =
        std::count_if(notices.begin(), notices.end(),
                      [](const RelocationNotice& n) { return n.newImage != VK_NULL_HANDLE; });
    EXPECT_EQ(static_cast<uint32_t>(bufferNotices), stats.buffersMoved);
    EXPECT_EQ(static_cast<uint32_t>(imageNotices), stats.imagesMoved);
    EXPECT_EQ(stats.buffersMoved + stats.imagesMoved, stats.allocationsMoved);

    const auto byAllocation = recorder.ByAllocation();
    std::set<VmaAllocation> known;
    for (const TrackedBuffer& b : buffers)
    {
        known.insert(b.allocation);
        ExpectHandleChain(byAllocation, b.allocation, b.originalBuffer,
                          MemoryAllocator::GetBuffer(b.allocation), kBufferFields, "a buffer");
    }
    for (const TrackedImage& im : images)
    {
        known.insert(im.allocation);
        ExpectHandleChain(byAllocation, im.allocation, im.originalImage,
                          MemoryAllocator::GetImage(im.allocation), kImageFields, "an image");
    }
    for (const auto& [allocation, list] : byAllocation)
        EXPECT_TRUE(known.count(allocation)) << "a notice for an allocation the test did not mark";
}

void FragmentThenDefragment::FragmentMarkAllAndDefragment(VmaDefragmentationFlags algorithm,
                                                          bool requirePacking)
{
    std::mt19937 rng(20240611u);
    constexpr size_t kBuffers = 300;
    constexpr size_t kSmall = 240; // the rest are medium
    std::vector<TrackedBuffer> buffers(kBuffers);
    for (size_t i = 0; i < kBuffers; ++i)
    {
        const VkDeviceSize size =
            i < kSmall ? std::uniform_int_distribution<VkDeviceSize>(1024, 128 * 1024)(rng)
                       : std::uniform_int_distribution<VkDeviceSize>(300 * 1024, 1024 * 1024)(rng);
        ASSERT_TRUE(CreateFilledBuffer(Allocator(), size, 1000 + static_cast<uint32_t>(i), buffers[i]));
    }
    const std::vector<std::pair<uint32_t, uint32_t>> extents = {
        {64, 64},   {128, 128}, {256, 256}, {512, 512}, {64, 256},  {128, 64},
        {256, 512}, {512, 128}, {96, 96},   {200, 120}, {512, 512}, {256, 256}};
    std::vector<TrackedImage> images(extents.size());
    for (size_t i = 0; i < extents.size(); ++i)
        ASSERT_TRUE(CreateFilledImage(Allocator(), extents[i].first, extents[i].second,
                                      5000 + static_cast<uint32_t>(i), images[i]));

    // Free a random half of each.
    std::shuffle(buffers.begin(), buffers.end(), rng);
    std::shuffle(images.begin(), images.end(), rng);
    for (size_t i = 0; i < buffers.size() / 2; ++i)
        Destroy(Allocator(), buffers[i]);
    buffers.erase(buffers.begin(), buffers.begin() + static_cast<std::ptrdiff_t>(buffers.size() / 2));
    for (size_t i = 0; i < images.size() / 2; ++i)
        Destroy(Allocator(), images[i]);
    images.erase(images.begin(), images.begin() + static_cast<std::ptrdiff_t>(images.size() / 2));

    const std::vector<PoolReport> before = PoolReports();
    PrintPools("before defragmentation:", before);
    ASSERT_TRUE(FindPool(before, "sedx:small") && FindPool(before, "sedx:medium") &&
                FindPool(before, "default"));
    EXPECT_TRUE(std::any_of(before.begin(), before.end(),
                            [](const PoolReport& p) { return p.fragmentation >= 0.05f; }))
        << "the setup should leave at least one pool fragmented";

    const AllocationStats statsBefore = Allocator().GetStats();
    EXPECT_GT(statsBefore.reclaimableBytes, 0u)
        << "the fragmented pools hold whole blocks' worth of free space";
    DefragmentationStats stats;
    {
        RelocationRecorder recorder;
        ASSERT_TRUE(Allocator().BeginDefragmentation(algorithm));
        ExpectMarked(Allocator(), buffers, images);
        stats = Allocator().EndDefragmentation();
        EXPECT_FALSE(MemoryAllocator::IsDefragmenting());

        EXPECT_GT(stats.buffersMoved, 0u);
        EXPECT_GT(stats.imagesMoved, 0u);
        EXPECT_GT(stats.bytesMoved, 0u);
        EXPECT_GE(stats.passes, 1u);
        EXPECT_EQ(stats.allocationsRefused, 0u);
        EXPECT_EQ(stats.movesFailed, 0u);
        ExpectNoticesMatch(recorder, stats, buffers, images);
    }

    const std::vector<PoolReport> after = PoolReports();
    PrintPools("after defragmentation:", after);
    for (const PoolReport& p : after)
    {
        SCOPED_TRACE("pool " + p.name);
        if (requirePacking)
        {
            EXPECT_LT(p.fragmentation, 0.05f);
        }
        EXPECT_EQ(p.emptyBlocks, 0u) << "the run ends by releasing the empty blocks VMA keeps";
        const auto packed = static_cast<size_t>((p.liveBytes + p.blockSize - 1) / p.blockSize);
        EXPECT_LE(p.blockCount, packed)
            << p.liveBytes << " live bytes in blocks of " << p.blockSize << " bytes";
    }

    // Every pool uses its fewest blocks (above), so the committed memory fell by exactly what
    // reclaimableBytes promised before the run, and nothing more can be won.
    const AllocationStats statsAfter = Allocator().GetStats();
    EXPECT_EQ(statsBefore.totalBytes - statsAfter.totalBytes, statsBefore.reclaimableBytes);
    EXPECT_EQ(statsAfter.reclaimableBytes, 0u);
    EXPECT_EQ(stats.bytesFreed, statsBefore.reclaimableBytes);
    EXPECT_GT(stats.blocksFreed, 0u);

    ExpectHoldPatterns(Allocator(), buffers, images);

    DestroyAll(Allocator(), buffers, images);
    EXPECT_EQ(Allocator().GetStats().tag.allocationCount, 0u);
}

// The empty block VMA keeps (one per pool) is given back by ReleaseEmptyBlocks, and only that.
TEST_P(FragmentThenDefragment, ReleaseEmptyBlocksGivesBackTheBlockVmaKeeps)
{
    // Two small-pool blocks' worth of 256 KiB buffers, then the second block's buffers destroyed.
    std::vector<TrackedBuffer> buffers(32);
    for (size_t i = 0; i < buffers.size(); ++i)
        ASSERT_TRUE(CreateFilledBuffer(Allocator(), 256 * 1024, 300 + static_cast<uint32_t>(i), buffers[i]));
    const AllocationStats full = Allocator().GetStats();
    for (size_t i = 16; i < buffers.size(); ++i)
        Destroy(Allocator(), buffers[i]);
    buffers.resize(16);
    const AllocationStats kept = Allocator().GetStats();
    EXPECT_EQ(kept.totalBytes, full.totalBytes) << "VMA keeps the emptied block";
    EXPECT_GE(kept.reclaimableBytes, 4u * 1024 * 1024) << "the kept empty block is reclaimable";

    const ReleasedMemory released = MemoryAllocator::ReleaseEmptyBlocks();
    EXPECT_GE(released.blocks, 1u);
    const AllocationStats after = Allocator().GetStats();
    EXPECT_EQ(after.totalBytes, kept.totalBytes - released.bytes);
    EXPECT_EQ(after.blockCount, kept.blockCount - released.blocks);
    EXPECT_EQ(after.usedBytes, kept.usedBytes);
    EXPECT_EQ(MemoryAllocator::ReleaseEmptyBlocks().blocks, 0u) << "nothing left to release";
    ExpectHoldPatterns(Allocator(), buffers, {});
    DestroyAll(Allocator(), buffers, {});
}

// VMA's default pools grow their blocks (an eighth of the preferred size, then doubling), so a run
// frees blocks of different sizes; blocksFreed/bytesFreed count each block VMA gives back, and so
// equal the fall of the committed blocks exactly.
TEST_P(FragmentThenDefragment, BytesFreedIsExactWithBlocksOfDifferentSizes)
{
    // 20 MiB buffers are above the size classes: VMA's default pool, in blocks of growing sizes.
    constexpr VkDeviceSize kSize = 20ull * 1024 * 1024;
    std::vector<TrackedBuffer> all(10);
    for (size_t i = 0; i < all.size(); ++i)
        ASSERT_TRUE(CreateFilledBuffer(Allocator(), kSize, 900 + static_cast<uint32_t>(i), all[i]));
    const AllocationStats full = Allocator().GetStats();
    // Keep every third one, so that each block keeps a survivor or two.
    std::vector<TrackedBuffer> buffers;
    for (size_t i = 0; i < all.size(); ++i)
    {
        if (i % 3 == 0)
            buffers.push_back(all[i]);
        else
            Destroy(Allocator(), all[i]);
    }
    const AllocationStats before = Allocator().GetStats();
    ASSERT_EQ(before.blockCount, full.blockCount)
        << "VMA keeps at most one empty block; the others hold survivors";

    DefragmentationOptions options;
    options.flags = VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT;
    ASSERT_TRUE(Allocator().BeginDefragmentation(options));
    Allocator().MarkAllForDefragmentation();
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    const AllocationStats after = Allocator().GetStats();

    EXPECT_GT(stats.blocksFreed, 0u);
    EXPECT_EQ(stats.bytesFreed, before.totalBytes - after.totalBytes);
    EXPECT_EQ(stats.blocksFreed, before.blockCount - after.blockCount);
    EXPECT_EQ(after.usedBytes, before.usedBytes);
    ExpectHoldPatterns(Allocator(), buffers, {});
    DestroyAll(Allocator(), buffers, {});
}

TEST_P(FragmentThenDefragment, EveryResourceKeepsItsContentsAndEveryPoolUsesTheFewestBlocks)
{
    FragmentMarkAllAndDefragment(VMA_DEFRAGMENTATION_FLAG_ALGORITHM_BALANCED_BIT, false);
}

// Every pool ends below 5 % external fragmentation after a full (EXTENSIVE) session. VMA 3.4 alone
// never compacted the first block of a pool's sorted block list, and could not close a hole below an
// allocation larger than the hole; patches/vma/0002 and 0004 fix both.
TEST_P(FragmentThenDefragment, EveryPoolEndsBelowFivePercentFragmentation)
{
    FragmentMarkAllAndDefragment(VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT, true);
}

TEST_P(FragmentThenDefragment, UnmarkedAllocationsKeepTheirHandlesAndPlaces)
{
    // Buffers in the small pool and images in the image pool, every other one freed; of the
    // survivors every other one is marked.
    std::vector<TrackedBuffer> buffers = MakeFragmentedBuffers(Allocator(), 60, 48 * 1024, 100, true);
    ASSERT_EQ(buffers.size(), 30u);
    std::vector<TrackedImage> allImages(8);
    for (size_t i = 0; i < allImages.size(); ++i)
        ASSERT_TRUE(CreateFilledImage(Allocator(), 128, 128, 700 + static_cast<uint32_t>(i), allImages[i]));
    std::vector<TrackedImage> images;
    for (size_t i = 0; i < allImages.size(); ++i)
    {
        if (i % 2 == 0)
            Destroy(Allocator(), allImages[i]);
        else
            images.push_back(allImages[i]);
    }

    std::set<VmaAllocation> marked;
    std::map<VmaAllocation, Placement> placeBefore;
    for (const TrackedBuffer& b : buffers)
        placeBefore[b.allocation] = PlacementOf(b.allocation);
    for (const TrackedImage& im : images)
        placeBefore[im.allocation] = PlacementOf(im.allocation);

    RelocationRecorder recorder;
    ASSERT_TRUE(Allocator().BeginDefragmentation());
    for (size_t i = 0; i < buffers.size(); i += 2)
    {
        EXPECT_TRUE(Allocator().MarkForDefragmentation(buffers[i].allocation));
        marked.insert(buffers[i].allocation);
    }
    for (size_t i = 0; i < images.size(); i += 2)
    {
        EXPECT_TRUE(Allocator().MarkForDefragmentation(images[i].allocation));
        marked.insert(images[i].allocation);
    }
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_GT(stats.buffersMoved, 0u) << "the marked buffers had room to move";
    EXPECT_GT(stats.imagesMoved, 0u) << "the marked images had room to move";

    for (const RelocationNotice& n : recorder.Notices())
        EXPECT_TRUE(marked.count(n.allocation)) << "a notice for an unmarked allocation";
    for (const TrackedBuffer& b : buffers)
    {
        if (marked.count(b.allocation))
            continue;
        EXPECT_EQ(MemoryAllocator::GetBuffer(b.allocation), b.originalBuffer);
        EXPECT_EQ(PlacementOf(b.allocation), placeBefore[b.allocation]);
    }
    for (const TrackedImage& im : images)
    {
        if (marked.count(im.allocation))
            continue;
        EXPECT_EQ(MemoryAllocator::GetImage(im.allocation), im.originalImage);
        EXPECT_EQ(PlacementOf(im.allocation), placeBefore[im.allocation]);
    }
    ExpectHoldPatterns(Allocator(), buffers, images);

    DestroyAll(Allocator(), buffers, images);
}

TEST_P(FragmentThenDefragment, TwoHundredRandomRoundsCorruptNothing)
{
    constexpr uint32_t kSeed = 0x5EED0004u;
    constexpr int kRounds = 200;
    std::mt19937 rng(kSeed);
    std::vector<TrackedBuffer> buffers;
    std::vector<TrackedImage> images;
    uint32_t nextSeed = 1;
    uint64_t moved = 0;
    RelocationRecorder recorder;
    for (int round = 0; round < kRounds && !HasFailure(); ++round)
    {
        SCOPED_TRACE(::testing::Message() << "seed " << kSeed << ", round " << round);
        // Allocate a few.
        const int newBuffers = std::uniform_int_distribution<int>(1, 4)(rng);
        for (int i = 0; i < newBuffers; ++i)
        {
            // Mostly small, sometimes medium.
            const VkDeviceSize size =
                std::uniform_int_distribution<int>(0, 9)(rng) == 0
                    ? std::uniform_int_distribution<VkDeviceSize>(260 * 1024, 400 * 1024)(rng)
                    : std::uniform_int_distribution<VkDeviceSize>(16, 48 * 1024)(rng);
            TrackedBuffer b;
            ASSERT_TRUE(CreateFilledBuffer(Allocator(), size, nextSeed++, b));
            buffers.push_back(b);
        }
        if (round % 10 == 0)
        {
            TrackedImage im;
            const uint32_t side = 16u << std::uniform_int_distribution<uint32_t>(0, 3)(rng);
            ASSERT_TRUE(CreateFilledImage(Allocator(), side, side, nextSeed++, im));
            images.push_back(im);
        }
        // Free some, keeping about 24 buffers and 4 images alive.
        while (buffers.size() > 8 && std::uniform_int_distribution<size_t>(0, 24)(rng) < buffers.size() - 8)
        {
            const size_t victim = std::uniform_int_distribution<size_t>(0, buffers.size() - 1)(rng);
            Destroy(Allocator(), buffers[victim]);
            buffers.erase(buffers.begin() + static_cast<std::ptrdiff_t>(victim));
        }
        if (images.size() > 4)
        {
            const size_t victim = std::uniform_int_distribution<size_t>(0, images.size() - 1)(rng);
            Destroy(Allocator(), images[victim]);
            images.erase(images.begin() + static_cast<std::ptrdiff_t>(victim));
        }
        // Mark a random subset and defragment.
        recorder.Clear();
        ASSERT_TRUE(Allocator().BeginDefragmentation());
        std::set<VmaAllocation> marked;
        for (const TrackedBuffer& b : buffers)
            if (std::uniform_int_distribution<int>(0, 2)(rng) != 0)
            {
                ASSERT_TRUE(Allocator().MarkForDefragmentation(b.allocation));
                marked.insert(b.allocation);
            }
        for (const TrackedImage& im : images)
            if (std::uniform_int_distribution<int>(0, 1)(rng) != 0)
            {
                ASSERT_TRUE(Allocator().MarkForDefragmentation(im.allocation));
                marked.insert(im.allocation);
            }
        const DefragmentationStats stats = Allocator().EndDefragmentation();
        moved += stats.allocationsMoved;
        EXPECT_EQ(recorder.Count(), stats.allocationsMoved);
        EXPECT_EQ(stats.movesFailed, 0u);
        for (const RelocationNotice& n : recorder.Notices())
            EXPECT_TRUE(marked.count(n.allocation)) << "an unmarked allocation moved";
        // Every live resource still holds its bytes.
        ExpectHoldPatterns(Allocator(), buffers, images);
    }
    EXPECT_GT(moved, 0u);
    std::printf("%llu allocations moved over %d rounds\n", static_cast<unsigned long long>(moved), kRounds);
    DestroyAll(Allocator(), buffers, images);
}

INSTANTIATE_TEST_SUITE_P(CopyPaths, FragmentThenDefragment, ::testing::ValuesIn(kCopyPaths), CopyPathName);

} // namespace
} // namespace SceneryEditorX
