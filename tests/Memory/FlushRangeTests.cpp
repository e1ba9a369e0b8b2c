// detail::RoundToAtoms, the one place where flush/invalidate ranges are rounded to
// nonCoherentAtomSize. Lavapipe's memory is coherent and never exercises it, so it is tested here
// with made-up atom sizes.
#include "Memory/FlushRange.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>

namespace SceneryEditorX
{
namespace
{
using detail::MemoryRange;
using detail::RoundToAtoms;

::testing::AssertionResult RangeIs(const MemoryRange& range, VkDeviceSize offset, VkDeviceSize size)
{
    if (range.offset == offset && range.size == size)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got {offset " << range.offset << ", size " << range.size
                                         << "}, expected {offset " << offset << ", size " << size << "}";
}

TEST(RoundToAtoms, AtomOfOneKeepsTheRangeAsItIs)
{
    // Allocation at 100 (50 bytes) in a 1000-byte memory object.
    EXPECT_TRUE(RangeIs(RoundToAtoms(100, 50, 10, 20, 1, 1000), 110, 20));
    EXPECT_TRUE(RangeIs(RoundToAtoms(100, 50, 0, 50, 1, 1000), 100, 50));
    EXPECT_TRUE(RangeIs(RoundToAtoms(100, 50, 10, VK_WHOLE_SIZE, 1, 1000), 110, 40));
}

TEST(RoundToAtoms, UnalignedRangeIsRoundedOutwardToAtomsOf64)
{
    // [110, 130) -> [64, 192).
    EXPECT_TRUE(RangeIs(RoundToAtoms(100, 300, 10, 20, 64, 4096), 64, 128));
    // The whole allocation [100, 400) -> [64, 448).
    EXPECT_TRUE(RangeIs(RoundToAtoms(100, 300, 0, VK_WHOLE_SIZE, 64, 4096), 64, 384));
    // A range that starts and ends on atom boundaries stays as it is: [128, 192).
    EXPECT_TRUE(RangeIs(RoundToAtoms(64, 300, 64, 64, 64, 4096), 128, 64));
}

TEST(RoundToAtoms, UnalignedRangeIsRoundedOutwardToAtomsOf256)
{
    // [1300, 2300) -> [1280, 2304).
    EXPECT_TRUE(RangeIs(RoundToAtoms(1000, 5000, 300, 1000, 256, 8192), 1280, 1024));
    // The whole allocation [1000, 6000) -> [768, 6144).
    EXPECT_TRUE(RangeIs(RoundToAtoms(1000, 5000, 0, VK_WHOLE_SIZE, 256, 8192), 768, 5376));
    // Aligned allocation, whole size: [256, 512).
    EXPECT_TRUE(RangeIs(RoundToAtoms(256, 256, 0, VK_WHOLE_SIZE, 256, 1024), 256, 256));
}

TEST(RoundToAtoms, RoundedEndIsClampedToTheEndOfTheMemoryObject)
{
    // [4000, 4100) in a 4100-byte object: the end would round up to 4352.
    EXPECT_TRUE(RangeIs(RoundToAtoms(4000, 100, 0, VK_WHOLE_SIZE, 256, 4100), 3840, 260));
    // [960, 1030) in a 1030-byte object, atoms of 64: 960 is aligned, the end stays at 1030.
    EXPECT_TRUE(RangeIs(RoundToAtoms(960, 70, 0, VK_WHOLE_SIZE, 64, 1030), 960, 70));
    // The last atom of an aligned object is not clamped: [768, 1024) in 1024 bytes.
    EXPECT_TRUE(RangeIs(RoundToAtoms(768, 256, 0, VK_WHOLE_SIZE, 256, 1024), 768, 256));
}

TEST(RoundToAtoms, SizeBeyondTheAllocationIsCutAtTheAllocationEnd)
{
    // 1000 bytes asked at offset 50 of a 100-byte allocation: [50, 100) -> [0, 128).
    EXPECT_TRUE(RangeIs(RoundToAtoms(0, 100, 50, 1000, 64, 1024), 0, 128));
    // With atoms of 1 the cut is visible exactly: [50, 100).
    EXPECT_TRUE(RangeIs(RoundToAtoms(0, 100, 50, 1000, 1, 1024), 50, 50));
}

TEST(RoundToAtoms, OffsetAtOrPastTheAllocationGivesAnEmptyRange)
{
    EXPECT_TRUE(RangeIs(RoundToAtoms(100, 50, 50, VK_WHOLE_SIZE, 64, 4096), 0, 0));
    EXPECT_TRUE(RangeIs(RoundToAtoms(100, 50, 51, 10, 64, 4096), 0, 0));
    EXPECT_TRUE(RangeIs(RoundToAtoms(100, 50, 1000000, 1, 256, 4096), 0, 0));
}

TEST(RoundToAtoms, ZeroSizeGivesAnEmptyRange)
{
    EXPECT_TRUE(RangeIs(RoundToAtoms(100, 50, 10, 0, 64, 4096), 0, 0));
}

TEST(RoundToAtoms, RoundedRangeAlwaysCoversTheRequestTightlyAndStaysInsideTheMemory)
{
    constexpr std::array<VkDeviceSize, 3> kAtoms{1, 64, 256};
    constexpr std::array<VkDeviceSize, 7> kAllocationOffsets{0, 1, 63, 64, 100, 1000, 4095};
    constexpr std::array<VkDeviceSize, 5> kAllocationSizes{1, 50, 64, 300, 5000};
    constexpr std::array<VkDeviceSize, 7> kOffsets{0, 1, 10, 63, 64, 299, 4999};
    constexpr std::array<VkDeviceSize, 5> kSizes{1, 20, 64, 1000, VK_WHOLE_SIZE};
    constexpr std::array<VkDeviceSize, 4> kTails{0, 1, 100, 1000}; // memory after the allocation
    size_t checked = 0;
    for (VkDeviceSize atom : kAtoms)
        for (VkDeviceSize allocationOffset : kAllocationOffsets)
            for (VkDeviceSize allocationSize : kAllocationSizes)
                for (VkDeviceSize offset : kOffsets)
                    for (VkDeviceSize size : kSizes)
                        for (VkDeviceSize tail : kTails)
                        {
                            const VkDeviceSize memorySize = allocationOffset + allocationSize + tail;
                            const MemoryRange r = RoundToAtoms(allocationOffset, allocationSize, offset, size,
                                                               atom, memorySize);
                            SCOPED_TRACE(::testing::Message()
                                         << "atom " << atom << ", allocation [" << allocationOffset << ", +"
                                         << allocationSize << "), offset " << offset << ", size " << size
                                         << ", memory " << memorySize);
                            if (offset >= allocationSize)
                            {
                                ASSERT_TRUE(RangeIs(r, 0, 0));
                                continue;
                            }
                            const VkDeviceSize begin = allocationOffset + offset;
                            const VkDeviceSize length = size == VK_WHOLE_SIZE
                                                            ? allocationSize - offset
                                                            : std::min(size, allocationSize - offset);
                            const VkDeviceSize end = begin + length;
                            const VkDeviceSize rEnd = r.offset + r.size;
                            ASSERT_EQ(r.offset % atom, 0u);
                            ASSERT_LE(r.offset, begin);
                            ASSERT_GT(r.offset + atom, begin) << "the start is the nearest atom below";
                            ASSERT_GE(rEnd, end);
                            ASSERT_LE(rEnd, memorySize);
                            ASSERT_TRUE(rEnd % atom == 0 || rEnd == memorySize)
                                << "the end is an atom boundary or the end of the memory";
                            ASSERT_LT(rEnd, end + atom) << "the end is the nearest atom above";
                            ++checked;
                        }
    EXPECT_GT(checked, 1000u);
}

} // namespace
} // namespace SceneryEditorX
