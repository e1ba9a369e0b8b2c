// Every VmaMemoryUsage, which allocations map, the options of AllocationCreateInfo (persistent
// mapping, names, priority, dedicated memory, required flags) and renaming.
#include "AllocationFixture.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

class MemoryUsageTest : public AllocationFixture
{
};

// ------------------------------------------------------------------ memory usages

TEST_F(MemoryUsageTest, EveryMemoryUsageAllocatesOrFailsCleanly)
{
    // A request succeeds exactly when VMA finds a memory type for it (lazily allocated memory does not
    // exist on lavapipe or the H100; a discrete GPU keeps optimal images out of host memory). A
    // failure is clean: null, one error, no validation message.
    const VkImageUsageFlags transfer = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
    for (VmaMemoryUsage usage : kEveryUsage)
    {
        SCOPED_TRACE(::testing::Message() << "usage " << usage);
        VmaAllocationCreateInfo aci{};
        aci.usage = usage;
        uint32_t type = 0;
        {
            const VkBufferCreateInfo info = BufferInfo(16 * KiB);
            const bool vmaHasAType = VmaMemoryTypeFor(info, usage) != UINT32_MAX;
            if (IsSingleUnifiedHeap())
            {
                EXPECT_EQ(vmaHasAType, usage != VMA_MEMORY_USAGE_GPU_LAZILY_ALLOCATED);
            }
            LogCapture capture;
            VkBuffer buffer = VK_NULL_HANDLE;
            VmaAllocation allocation = Alloc().AllocateBuffer(info, usage, buffer);
            EXPECT_EQ(allocation != nullptr, vmaHasAType);
            if (allocation)
            {
                EXPECT_TRUE(NoErrors(capture));
                EXPECT_TRUE(MemoryAllocator::ContainsAllocation(allocation));
                EXPECT_TRUE(Alloc().DestroyBuffer(buffer, allocation));
            }
            else
            {
                EXPECT_EQ(buffer, VK_NULL_HANDLE);
                EXPECT_TRUE(OneAllocatorError(capture, "VK_ERROR_FEATURE_NOT_PRESENT"));
            }
        }
        {
            const VkImageUsageFlags imageUsage =
                usage == VMA_MEMORY_USAGE_GPU_LAZILY_ALLOCATED
                    ? VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT
                    : VK_IMAGE_USAGE_SAMPLED_BIT;
            const VkImageCreateInfo info = ImageInfo(32, 32, 1, 1, VK_FORMAT_R8G8B8A8_UNORM, imageUsage);
            VkImageCreateInfo asCreated =
                info; // the system adds the transfer bits, except to transient images
            if (!(imageUsage & VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT))
                asCreated.usage |= transfer;
            const bool vmaHasAType =
                vmaFindMemoryTypeIndexForImageInfo(MemoryAllocator::GetAllocator(), &asCreated, &aci,
                                                   &type) == VK_SUCCESS;
            if (IsSingleUnifiedHeap())
            {
                EXPECT_EQ(vmaHasAType, usage != VMA_MEMORY_USAGE_GPU_LAZILY_ALLOCATED);
            }
            LogCapture capture;
            VkImage image = VK_NULL_HANDLE;
            VmaAllocation allocation = Alloc().AllocateImage(info, usage, image);
            EXPECT_EQ(allocation != nullptr, vmaHasAType);
            if (allocation)
            {
                EXPECT_TRUE(NoErrors(capture));
                EXPECT_TRUE(Alloc().DestroyImage(image, allocation));
            }
            else
            {
                EXPECT_EQ(image, VK_NULL_HANDLE);
                EXPECT_TRUE(OneAllocatorError(capture, "VK_ERROR_FEATURE_NOT_PRESENT"));
            }
        }
    }
    EXPECT_EQ(VmaTotals().allocationCount, 0u);
}

TEST_F(MemoryUsageTest, GpuLazilyAllocatedFailsCleanlyWithoutALazilyAllocatedMemoryType)
{
    if (HasLazilyAllocatedMemoryType())
        GTEST_SKIP() << "the device has a lazily allocated memory type";
    ExpectBufferRejected(BufferInfo(16 * KiB), CreateInfo(VMA_MEMORY_USAGE_GPU_LAZILY_ALLOCATED),
                         "VK_ERROR_FEATURE_NOT_PRESENT");
    ExpectImageRejected(
        ImageInfo(32, 32, 1, 1, VK_FORMAT_R8G8B8A8_UNORM,
                  VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT),
        "VK_ERROR_FEATURE_NOT_PRESENT", CreateInfo(VMA_MEMORY_USAGE_GPU_LAZILY_ALLOCATED));
}

TEST_F(MemoryUsageTest, AutoAllocationWithoutAHostAccessFlagCannotBeMapped)
{
    for (VmaMemoryUsage usage : kAutoUsages)
    {
        SCOPED_TRACE(::testing::Message() << "usage " << usage);
        const Buffer b = MakeBuffer(4 * KiB, usage);
        {
            LogCapture capture;
            EXPECT_EQ(Alloc().MapMemory(b.allocation), nullptr);
            // The AUTO reason comes first wherever VMA placed it (host-visible on lavapipe,
            // device-local only on a discrete GPU): it names the fix.
            EXPECT_TRUE(OneAllocatorError(capture, "host-access"));
        }
        LogCapture capture;
        EXPECT_FALSE(MemoryAllocator::UnmapMemory(b.allocation)) << "nothing was mapped";
        EXPECT_TRUE(OneAllocatorError(capture, "not mapped"));
        EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
    }
}

TEST_F(MemoryUsageTest, AutoAllocationWithAHostAccessFlagMaps)
{
    for (AllocationFlags access :
         {AllocationFlags::HostAccessSequentialWrite, AllocationFlags::HostAccessRandom})
        for (VmaMemoryUsage usage : kAutoUsages)
        {
            SCOPED_TRACE(::testing::Message()
                         << "usage " << usage << ", flags " << static_cast<uint32_t>(access));
            const Buffer b = MakeBuffer(4 * KiB, CreateInfo(usage, access));
            EXPECT_NE(MemoryFlagsOf(b.allocation) & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, 0u)
                << "VMA picks host-visible memory for host access";
            LogCapture capture;
            auto* mapped = Alloc().MapMemory<uint32_t>(b.allocation);
            ASSERT_NE(mapped, nullptr);
            for (uint32_t i = 0; i < 1024; ++i)
                mapped[i] = i * 7u;
            EXPECT_TRUE(MemoryAllocator::UnmapMemory(b.allocation));
            EXPECT_TRUE(NoErrors(capture));
            std::vector<uint32_t> back(1024);
            ASSERT_TRUE(Alloc().ReadbackBuffer(b.allocation, back.data(), 4 * KiB));
            EXPECT_EQ(back[1023], 1023u * 7u);
            EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
        }
}

TEST_F(MemoryUsageTest, LegacyUsagesMapExactlyWhenTheirMemoryIsHostVisible)
{
    for (VmaMemoryUsage usage : kLegacyUsages)
    {
        SCOPED_TRACE(::testing::Message() << "usage " << usage);
        const Buffer b = MakeBuffer(4 * KiB, usage);
        const bool hostVisible = (MemoryFlagsOf(b.allocation) & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0;
        if (IsSingleUnifiedHeap())
        {
            EXPECT_TRUE(hostVisible) << "lavapipe's one memory type is host-visible";
        }
        if (usage == VMA_MEMORY_USAGE_CPU_ONLY || usage == VMA_MEMORY_USAGE_CPU_TO_GPU ||
            usage == VMA_MEMORY_USAGE_GPU_TO_CPU)
        {
            EXPECT_TRUE(hostVisible) << "VMA requires host-visible memory for this usage";
        }
        LogCapture capture;
        auto* mapped = Alloc().MapMemory<uint8_t>(b.allocation);
        if (hostVisible)
        {
            ASSERT_NE(mapped, nullptr);
            std::memset(mapped, 0x5A, 4 * KiB);
            EXPECT_EQ(mapped[4 * KiB - 1], 0x5A);
            EXPECT_TRUE(MemoryAllocator::UnmapMemory(b.allocation));
            EXPECT_TRUE(NoErrors(capture));
        }
        else
        {
            EXPECT_EQ(mapped, nullptr);
            EXPECT_TRUE(OneAllocatorError(capture, "not host-visible"));
        }
        EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
    }
}

// ------------------------------------------------------------------ AllocationCreateInfo

TEST_F(MemoryUsageTest, MappedFlagGivesAPersistentlyMappedPointer)
{
    for (const AllocationCreateInfo& createInfo :
         {CreateInfo(VMA_MEMORY_USAGE_AUTO,
                     AllocationFlags::Mapped | AllocationFlags::HostAccessSequentialWrite),
          CreateInfo(VMA_MEMORY_USAGE_CPU_TO_GPU, AllocationFlags::Mapped)})
    {
        SCOPED_TRACE(::testing::Message() << "usage " << createInfo.usage);
        const Buffer b = MakeBuffer(8 * KiB, createInfo);
        auto* persistent = static_cast<uint8_t*>(InfoOf(b.allocation).pMappedData);
        ASSERT_NE(persistent, nullptr);
        for (uint32_t i = 0; i < 8 * KiB; ++i)
            persistent[i] = static_cast<uint8_t>(i * 13);
        EXPECT_TRUE(MemoryAllocator::FlushAllocation(b.allocation)) << "persistently mapped counts as mapped";
        std::vector<uint8_t> back(8 * KiB);
        ASSERT_TRUE(Alloc().ReadbackBuffer(b.allocation, back.data(), back.size()));
        EXPECT_EQ(std::memcmp(back.data(), persistent, back.size()), 0);
        // MapMemory on top of the persistent mapping gives the same pointer and nests.
        EXPECT_EQ(Alloc().MapMemory<uint8_t>(b.allocation), persistent);
        EXPECT_TRUE(MemoryAllocator::UnmapMemory(b.allocation));
        EXPECT_EQ(InfoOf(b.allocation).pMappedData, persistent) << "still mapped";
        EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
    }
}

TEST_F(MemoryUsageTest, NameAppearsInVmaAsTagColonName)
{
    const Buffer named =
        MakeBuffer(4 * KiB, CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::None, "vertices"));
    const Buffer unnamed = MakeBuffer(4 * KiB, CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY));
    const Image image =
        MakeImage(ImageInfo(32, 32), CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::None, "albedo"));
    EXPECT_EQ(VmaNameOf(named.allocation), Tag() + ":vertices");
    EXPECT_EQ(VmaNameOf(unnamed.allocation), Tag());
    EXPECT_EQ(VmaNameOf(image.allocation), Tag() + ":albedo");
    EXPECT_TRUE(Alloc().DestroyBuffer(named.buffer, named.allocation));
    EXPECT_TRUE(Alloc().DestroyBuffer(unnamed.buffer, unnamed.allocation));
    EXPECT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
}

TEST_F(MemoryUsageTest, SetAllocationNameRenamesTheVmaAllocation)
{
    const Buffer buffer =
        MakeBuffer(4 * KiB, CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::None, "before"));
    const Image image = MakeImage();
    EXPECT_TRUE(Alloc().SetAllocationName(buffer.allocation, "after"));
    EXPECT_TRUE(Alloc().SetAllocationName(image.allocation, "texture"));
    EXPECT_EQ(VmaNameOf(buffer.allocation), Tag() + ":after");
    EXPECT_EQ(VmaNameOf(image.allocation), Tag() + ":texture");
    // Another instance renames with the allocation's own tag, not its own.
    MemoryAllocator other(Tag() + ".other");
    EXPECT_TRUE(other.SetAllocationName(buffer.allocation, "third"));
    EXPECT_EQ(VmaNameOf(buffer.allocation), Tag() + ":third");

    ASSERT_TRUE(Alloc().DestroyBuffer(buffer.buffer, buffer.allocation));
    LogCapture capture;
    EXPECT_FALSE(Alloc().SetAllocationName(buffer.allocation, "gone"));
    EXPECT_TRUE(OneAllocatorError(capture, "not live"));
    EXPECT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
}

TEST_F(MemoryUsageTest, AllocationNamesCanBeSwitchedOff)
{
    ASSERT_TRUE(MemoryAllocator::Shutdown());
    ASSERT_TRUE(MemoryAllocator::Init(Device(), VK_API_VERSION_1_3, {.allocationNames = false}));
    const Buffer b =
        MakeBuffer(4 * KiB, CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::None, "vertices"));
    EXPECT_EQ(VmaNameOf(b.allocation), "");
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
}

TEST_F(MemoryUsageTest, DedicatedFlagGivesADedicatedAllocation)
{
    const Buffer pooled = MakeBuffer(4 * KiB);
    const Buffer dedicated =
        MakeBuffer(4 * KiB, CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::Dedicated));
    const Image dedicatedImage =
        MakeImage(ImageInfo(64, 64), CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::Dedicated));
    EXPECT_EQ(Info2Of(pooled.allocation).dedicatedMemory, VK_FALSE);
    const VmaAllocationInfo2 buffer2 = Info2Of(dedicated.allocation);
    EXPECT_EQ(buffer2.dedicatedMemory, VK_TRUE);
    EXPECT_EQ(buffer2.blockSize, buffer2.allocationInfo.size) << "its own VkDeviceMemory, exactly its size";
    EXPECT_EQ(buffer2.allocationInfo.offset, 0u);
    EXPECT_EQ(Info2Of(dedicatedImage.allocation).dedicatedMemory, VK_TRUE);
    EXPECT_NE(InfoOf(dedicated.allocation).deviceMemory, InfoOf(pooled.allocation).deviceMemory);
    EXPECT_TRUE(Alloc().DestroyBuffer(pooled.buffer, pooled.allocation));
    EXPECT_TRUE(Alloc().DestroyBuffer(dedicated.buffer, dedicated.allocation));
    EXPECT_TRUE(Alloc().DestroyImage(dedicatedImage.image, dedicatedImage.allocation));
}

TEST_F(MemoryUsageTest, PriorityOtherThanOneHalfMakesTheAllocationDedicated)
{
    AllocationCreateInfo high = CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY);
    high.priority = 1.0f;
    AllocationCreateInfo normal = CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY);
    normal.priority = 0.5f;
    const Buffer a = MakeBuffer(4 * KiB, high);
    const Buffer b = MakeBuffer(4 * KiB, normal);
    EXPECT_EQ(Info2Of(a.allocation).dedicatedMemory, VK_TRUE);
    EXPECT_EQ(Info2Of(b.allocation).dedicatedMemory, VK_FALSE);
    EXPECT_TRUE(Alloc().DestroyBuffer(a.buffer, a.allocation));
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
}

TEST_F(MemoryUsageTest, RequiredMemoryFlagsAreHonoured)
{
    AllocationCreateInfo createInfo = CreateInfo(VMA_MEMORY_USAGE_UNKNOWN);
    createInfo.requiredFlags = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const Buffer b = MakeBuffer(4 * KiB, createInfo);
    EXPECT_EQ(MemoryFlagsOf(b.allocation) & createInfo.requiredFlags, createInfo.requiredFlags);
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
}

} // namespace
} // namespace SceneryEditorX
