// Buffers and images: allocation, destruction and its misuse, and requests that are rejected (bad
// create infos, impossible sizes, foreign allocations). Memory usages and create-info options are in
// MemoryUsageTests.cpp.
#include "AllocationFixture.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

class AllocationTest : public AllocationFixture
{
};

// ------------------------------------------------------------------ buffers and images

TEST_F(AllocationTest, AllocateBufferReturnsALiveAllocationBoundToItsBuffer)
{
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation =
        Alloc().AllocateBuffer(BufferInfo(64 * KiB), VMA_MEMORY_USAGE_GPU_ONLY, buffer);
    ASSERT_NE(allocation, nullptr);
    ASSERT_NE(buffer, VK_NULL_HANDLE);
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(allocation));
    EXPECT_EQ(MemoryAllocator::GetBuffer(allocation), buffer);
    EXPECT_EQ(MemoryAllocator::GetImage(allocation), VK_NULL_HANDLE);

    VkMemoryRequirements requirements{};
    vkGetBufferMemoryRequirements(GetVkDevice(), buffer, &requirements);
    const VmaAllocationInfo info = InfoOf(allocation);
    EXPECT_EQ(info.size, requirements.size);
    EXPECT_EQ(info.offset % requirements.alignment, 0u);
    EXPECT_NE(requirements.memoryTypeBits & (1u << info.memoryType), 0u);

    const TagStats tag = Alloc().GetStats().tag;
    EXPECT_EQ(tag.usedBytes, info.size);
    EXPECT_EQ(tag.allocationCount, 1u);
    EXPECT_EQ(tag.bufferCount, 1u);
    EXPECT_EQ(tag.imageCount, 0u);

    EXPECT_TRUE(Alloc().DestroyBuffer(buffer, allocation));
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(allocation));
    EXPECT_EQ(MemoryAllocator::GetBuffer(allocation), VK_NULL_HANDLE);
    EXPECT_EQ(Alloc().GetStats().tag.usedBytes, 0u);
    EXPECT_EQ(Alloc().GetStats().tag.allocationCount, 0u);
    EXPECT_EQ(VmaTotals().allocationCount, 0u);
}

TEST_F(AllocationTest, AllocateImageReturnsALiveAllocationAndItsSize)
{
    VkImage image = VK_NULL_HANDLE;
    VkDeviceSize allocatedSize = 0;
    VmaAllocation allocation =
        Alloc().AllocateImage(ImageInfo(256, 256, 9), VMA_MEMORY_USAGE_GPU_ONLY, image, &allocatedSize);
    ASSERT_NE(allocation, nullptr);
    ASSERT_NE(image, VK_NULL_HANDLE);
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(allocation));
    EXPECT_EQ(MemoryAllocator::GetImage(allocation), image);
    EXPECT_EQ(MemoryAllocator::GetBuffer(allocation), VK_NULL_HANDLE);
    EXPECT_EQ(MemoryAllocator::GetImageLayout(allocation), VK_IMAGE_LAYOUT_UNDEFINED);

    VkMemoryRequirements requirements{};
    vkGetImageMemoryRequirements(GetVkDevice(), image, &requirements);
    EXPECT_EQ(allocatedSize, requirements.size);
    EXPECT_EQ(allocatedSize, InfoOf(allocation).size);
    const TagStats tag = Alloc().GetStats().tag;
    EXPECT_EQ(tag.usedBytes, allocatedSize);
    EXPECT_EQ(tag.imageCount, 1u);
    EXPECT_EQ(tag.bufferCount, 0u);

    EXPECT_TRUE(Alloc().DestroyImage(image, allocation));
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(allocation));
    EXPECT_EQ(MemoryAllocator::GetImage(allocation), VK_NULL_HANDLE);
    EXPECT_EQ(Alloc().GetStats().tag.imageCount, 0u);
}

TEST_F(AllocationTest, ContainsAllocationIsTrueExactlyWhileLive)
{
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(nullptr));
    std::vector<Buffer> buffers;
    for (int i = 0; i < 6; ++i)
        buffers.push_back(MakeBuffer(4 * KiB * (i + 1)));
    Image image = MakeImage();
    for (const Buffer& b : buffers)
        EXPECT_TRUE(MemoryAllocator::ContainsAllocation(b.allocation));
    for (size_t i = 0; i < buffers.size(); i += 2)
        ASSERT_TRUE(Alloc().DestroyBuffer(buffers[i].buffer, buffers[i].allocation));
    for (size_t i = 0; i < buffers.size(); ++i)
        EXPECT_EQ(MemoryAllocator::ContainsAllocation(buffers[i].allocation), i % 2 == 1) << i;
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(image.allocation));
    for (size_t i = 1; i < buffers.size(); i += 2)
        ASSERT_TRUE(Alloc().DestroyBuffer(buffers[i].buffer, buffers[i].allocation));
    ASSERT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(image.allocation));
}

TEST_F(AllocationTest, DestroyBufferWithAnotherBuffersAllocationFailsAndChangesNothing)
{
    const Buffer first = MakeBuffer(4 * KiB);
    const Buffer second = MakeBuffer(8 * KiB);
    const CounterSnapshot before = Snapshot(Alloc());
    {
        LogCapture capture;
        EXPECT_FALSE(Alloc().DestroyBuffer(first.buffer, second.allocation));
        EXPECT_TRUE(OneAllocatorError(capture, "does not belong"));
    }
    EXPECT_TRUE(SameCounters(before, Snapshot(Alloc())));
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(first.allocation));
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(second.allocation));
    EXPECT_EQ(MemoryAllocator::GetBuffer(second.allocation), second.buffer);
    EXPECT_TRUE(Alloc().DestroyBuffer(first.buffer, first.allocation));
    EXPECT_TRUE(Alloc().DestroyBuffer(second.buffer, second.allocation));
}

TEST_F(AllocationTest, DestroyingABufferAsAnImageOrAnImageAsABufferFailsAndChangesNothing)
{
    const Buffer buffer = MakeBuffer(4 * KiB);
    const Image image = MakeImage();
    const CounterSnapshot before = Snapshot(Alloc());
    const std::vector<RefusedCall> calls = {
        RefusedCall("DestroyImage(image, buffer's allocation)",
                    [&] { return !Alloc().DestroyImage(image.image, buffer.allocation); }),
        RefusedCall("DestroyBuffer(buffer, image's allocation)",
                    [&] { return !Alloc().DestroyBuffer(buffer.buffer, image.allocation); }),
        // a buffer handle passed as an image with its own allocation
        RefusedCall(
            "DestroyImage(buffer as image, buffer's allocation)", [&]
            { return !Alloc().DestroyImage(reinterpret_cast<VkImage>(buffer.buffer), buffer.allocation); }),
        RefusedCall("DestroyImageDeferred(image, buffer's allocation)",
                    [&] { return !Alloc().DestroyImageDeferred(image.image, buffer.allocation); }),
    };
    ExpectEachRefused(calls, "does not belong", before);
    EXPECT_TRUE(Alloc().DestroyBuffer(buffer.buffer, buffer.allocation));
    EXPECT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
}

TEST_F(AllocationTest, DestroyWithANullHandleOrAllocationFailsWithOneError)
{
    const Buffer buffer = MakeBuffer(4 * KiB);
    const Image image = MakeImage();
    const CounterSnapshot before = Snapshot(Alloc());
    const std::vector<RefusedCall> calls = {
        RefusedCall("DestroyBuffer(null, a)",
                    [&] { return !Alloc().DestroyBuffer(VK_NULL_HANDLE, buffer.allocation); }),
        RefusedCall("DestroyBuffer(b, null)", [&] { return !Alloc().DestroyBuffer(buffer.buffer, nullptr); }),
        RefusedCall("DestroyBuffer(null, null)",
                    [&] { return !Alloc().DestroyBuffer(VK_NULL_HANDLE, nullptr); }),
        RefusedCall("DestroyImage(null, a)",
                    [&] { return !Alloc().DestroyImage(VK_NULL_HANDLE, image.allocation); }),
        RefusedCall("DestroyImage(i, null)", [&] { return !Alloc().DestroyImage(image.image, nullptr); }),
        RefusedCall("DestroyBufferDeferred(null, a)",
                    [&] { return !Alloc().DestroyBufferDeferred(VK_NULL_HANDLE, buffer.allocation); }),
        RefusedCall("DestroyImageDeferred(i, null)",
                    [&] { return !Alloc().DestroyImageDeferred(image.image, nullptr); }),
        RefusedCall("Free(null)", [&] { return !Alloc().Free(nullptr); }),
    };
    ExpectEachRefused(calls, "null", before);
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(buffer.allocation));
    EXPECT_TRUE(MemoryAllocator::ContainsAllocation(image.allocation));
    EXPECT_TRUE(Alloc().DestroyBuffer(buffer.buffer, buffer.allocation));
    EXPECT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
}

TEST_F(AllocationTest, SecondDestroyFailsWithOneErrorAndChangesNothing)
{
    const Buffer buffer = MakeBuffer(4 * KiB);
    const Image image = MakeImage();
    const Buffer freed = MakeBuffer(4 * KiB);
    const Buffer keep =
        MakeBuffer(16 * KiB); // something live, so that "nothing changed" is not trivially zero
    ASSERT_TRUE(Alloc().DestroyBuffer(buffer.buffer, buffer.allocation));
    ASSERT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
    ASSERT_TRUE(Alloc().Free(freed.allocation));
    const CounterSnapshot before = Snapshot(Alloc());
    const std::vector<RefusedCall> calls = {
        RefusedCall("DestroyBuffer",
                    [&] { return !Alloc().DestroyBuffer(buffer.buffer, buffer.allocation); }),
        RefusedCall("DestroyImage", [&] { return !Alloc().DestroyImage(image.image, image.allocation); }),
        RefusedCall("Free", [&] { return !Alloc().Free(freed.allocation); }),
        RefusedCall("DestroyBufferDeferred",
                    [&] { return !Alloc().DestroyBufferDeferred(buffer.buffer, buffer.allocation); }),
    };
    ExpectEachRefused(calls, "not live", before);
    EXPECT_TRUE(Alloc().DestroyBuffer(keep.buffer, keep.allocation));
}

TEST_F(AllocationTest, FreeDestroysTheBufferOrImageBoundToTheAllocation)
{
    const Buffer buffer = MakeBuffer(64 * KiB);
    const Image image = MakeImage(128);
    ASSERT_EQ(VmaTotals().allocationCount, 2u);
    EXPECT_TRUE(Alloc().Free(buffer.allocation));
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(buffer.allocation));
    EXPECT_EQ(VmaTotals().allocationCount, 1u);
    EXPECT_TRUE(Alloc().Free(image.allocation));
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(image.allocation));
    EXPECT_EQ(VmaTotals().allocationCount, 0u);
    EXPECT_EQ(VmaTotals().allocationBytes, 0u);
    const TagStats tag = Alloc().GetStats().tag;
    EXPECT_EQ(tag.allocationCount, 0u);
    EXPECT_EQ(tag.usedBytes, 0u);
    EXPECT_EQ(tag.totalFrees, 2u);
}

// ------------------------------------------------------------------ rejected buffer requests

TEST_F(AllocationTest, ZeroSizeBufferIsRejected)
{
    ExpectBufferRejected(BufferInfo(0), "size is 0");
}

TEST_F(AllocationTest, BufferAboveMaxMemoryAllocationSizeIsRejected)
{
    ExpectBufferRejected(BufferInfo(MaxMemoryAllocationSize() + 1), "maxMemoryAllocationSize");
    ExpectBufferRejected(BufferInfo(std::numeric_limits<VkDeviceSize>::max() - 1), "maxMemoryAllocationSize");
}

class AllocationUnderHeapLimitTest : public AllocationTest
{
protected:
    AllocatorSettings Settings() const override { return {.heapSizeLimits = AllHeapLimits(64 * MiB)}; }
};

TEST_F(AllocationUnderHeapLimitTest, BufferLargerThanEveryHeapIsRejected)
{
    // Below maxMemoryAllocationSize, above the largest (limited) heap: no heap could ever hold it.
    ASSERT_LT(64 * MiB + 1, MaxMemoryAllocationSize());
    ExpectBufferRejected(BufferInfo(64 * MiB + 1), "larger than the largest heap");
    ExpectBufferRejected(BufferInfo(1024 * MiB), "larger than the largest heap");
}

TEST_F(AllocationTest, BufferWithoutUsageIsRejected)
{
    ExpectBufferRejected(BufferInfo(4 * KiB, 0), "usage is 0");
}

TEST_F(AllocationTest, BufferWithAWrongSTypeIsRejected)
{
    VkBufferCreateInfo info = BufferInfo(4 * KiB);
    info.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO;
    ExpectBufferRejected(info, "sType");
}

TEST_F(AllocationTest, BufferWithSparseOrProtectedCreateFlagsIsRejected)
{
    VkBufferCreateInfo info = BufferInfo(4 * KiB);
    info.flags = VK_BUFFER_CREATE_SPARSE_BINDING_BIT;
    ExpectBufferRejected(info, "create flags");
    info.flags = VK_BUFFER_CREATE_PROTECTED_BIT;
    ExpectBufferRejected(info, "create flags");
}

TEST_F(AllocationTest, ConcurrentSharingWithoutTwoQueueFamiliesIsRejected)
{
    VkBufferCreateInfo info = BufferInfo(4 * KiB);
    const uint32_t family = Device()->GetQueueFamilyIndex();
    info.sharingMode = VK_SHARING_MODE_CONCURRENT;
    info.queueFamilyIndexCount = 1;
    info.pQueueFamilyIndices = &family;
    ExpectBufferRejected(info, "at least two queue family indices");
    const uint32_t missing[2] = {family, 1000};
    info.queueFamilyIndexCount = 2;
    info.pQueueFamilyIndices = missing;
    ExpectBufferRejected(info, "does not exist");
}

TEST_F(AllocationTest, BufferUsageBitsTheDeviceDoesNotEnableAreRejected)
{
    ExpectBufferRejected(BufferInfo(4 * KiB, VK_BUFFER_USAGE_TRANSFORM_FEEDBACK_BUFFER_BIT_EXT),
                         "usage bits");
}

TEST_F(AllocationTest, ShaderDeviceAddressBuffersWorkExactlyWhenTheFeatureIsOn)
{
    const VkBufferCreateInfo info =
        BufferInfo(4 * KiB, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT);
    if (!Device()->GetCapabilities().bufferDeviceAddress)
    {
        ExpectBufferRejected(info, "usage bits");
        return;
    }
    // Small enough for the size-class pool: its blocks must carry the device-address allocate flag,
    // or the validation layer complains.
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = Alloc().AllocateBuffer(info, VMA_MEMORY_USAGE_GPU_ONLY, buffer);
    ASSERT_NE(allocation, nullptr);
    VkBufferDeviceAddressInfo address{VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
    address.buffer = buffer;
    EXPECT_NE(vkGetBufferDeviceAddress(GetVkDevice(), &address), 0u);
    EXPECT_TRUE(Alloc().DestroyBuffer(buffer, allocation));
}

TEST_F(AllocationTest, UnknownMemoryUsageIsRejected)
{
    ExpectBufferRejected(BufferInfo(4 * KiB), CreateInfo(static_cast<VmaMemoryUsage>(42)),
                         "not a VmaMemoryUsage");
    // VMA_MEMORY_USAGE_MAX_ENUM is an enumerator but no usage. (-1 would be outside the enum's range
    // of values: creating it is undefined behaviour, which UBSan reports.)
    ExpectImageRejected(ImageInfo(16, 16), "not a VmaMemoryUsage", CreateInfo(VMA_MEMORY_USAGE_MAX_ENUM));
}

TEST_F(AllocationTest, PriorityOutsideZeroToOneOrNaNIsRejected)
{
    for (const float priority : {std::numeric_limits<float>::quiet_NaN(), 2.0f, -0.1f, 1.0001f,
                                 std::numeric_limits<float>::infinity()})
    {
        SCOPED_TRACE(priority);
        AllocationCreateInfo createInfo = CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY);
        createInfo.priority = priority;
        ExpectBufferRejected(BufferInfo(4 * KiB), createInfo, "priority");
        ExpectImageRejected(ImageInfo(16, 16), "priority", createInfo);
    }
}

TEST_F(AllocationTest, MappedWithAnAutoUsageAndNoHostAccessIsRejected)
{
    for (VmaMemoryUsage usage : kAutoUsages)
    {
        SCOPED_TRACE(usage);
        ExpectBufferRejected(BufferInfo(4 * KiB), CreateInfo(usage, AllocationFlags::Mapped), "HostAccess");
    }
}

TEST_F(AllocationTest, UnknownAllocationFlagsAreRejected)
{
    ExpectBufferRejected(BufferInfo(4 * KiB),
                         CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, static_cast<AllocationFlags>(1u << 7)),
                         "unknown allocation flags");
}

TEST_F(AllocationTest, ForeignVmaAllocationsAreRefusedAndLeftAlone)
{
    // Made through the raw VMA escape hatch: not the system's to destroy, map or fill.
    VkBufferCreateInfo info = BufferInfo(4 * KiB, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation foreign = nullptr;
    ASSERT_EQ(CreateForeignBuffer(info, VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT, buffer, foreign),
              VK_SUCCESS);
    const CounterSnapshot before = Snapshot(Alloc());
    std::vector<uint8_t> bytes(64, 1);
    const std::vector<RefusedCall> calls = {
        RefusedCall("DestroyBuffer", [&] { return !Alloc().DestroyBuffer(buffer, foreign); }),
        RefusedCall("DestroyBufferDeferred", [&] { return !Alloc().DestroyBufferDeferred(buffer, foreign); }),
        RefusedCall("Free", [&] { return !Alloc().Free(foreign); }),
        RefusedCall("MapMemory", [&] { return Alloc().MapMemory(foreign) == nullptr; }),
        RefusedCall("UnmapMemory", [&] { return !MemoryAllocator::UnmapMemory(foreign); }),
        RefusedCall("FlushAllocation", [&] { return !MemoryAllocator::FlushAllocation(foreign); }),
        RefusedCall("UploadToBuffer",
                    [&] { return !Alloc().UploadToBuffer(foreign, bytes.data(), bytes.size()); }),
        RefusedCall("SetAllocationName", [&] { return !Alloc().SetAllocationName(foreign, "mine"); }),
    };
    ExpectEachRefused(calls, "not live", before);
    EXPECT_FALSE(MemoryAllocator::ContainsAllocation(foreign));
    EXPECT_EQ(MemoryAllocator::GetBuffer(foreign), VK_NULL_HANDLE);
    EXPECT_EQ(InfoOf(foreign).size, before.vma.allocationBytes) << "still VMA's, untouched";
    vmaDestroyBuffer(MemoryAllocator::GetAllocator(), buffer, foreign);
}

// ------------------------------------------------------------------ rejected image requests

TEST_F(AllocationTest, ImageWithAZeroExtentIsRejected)
{
    ExpectImageRejected(ImageInfo(0, 64), "zero dimension");
    ExpectImageRejected(ImageInfo(64, 0), "zero dimension");
    VkImageCreateInfo info = ImageInfo(64, 64);
    info.extent.depth = 0;
    ExpectImageRejected(info, "zero dimension");
}

TEST_F(AllocationTest, ImageWithMoreMipsThanItsExtentAllowsIsRejected)
{
    ExpectImageRejected(ImageInfo(256, 256, 10), "at most 9");
    ExpectImageRejected(ImageInfo(256, 256, 0), "mipLevels");
}

TEST_F(AllocationTest, ImageWithAFormatAndUsageTheDeviceDoesNotSupportIsRejected)
{
    // A pair the device really rejects, with and without the transfer bits the system would add.
    struct Candidate
    {
        VkFormat format;
        VkImageUsageFlags usage;
    };
    const Candidate candidates[] = {
        {VK_FORMAT_D32_SFLOAT, VK_IMAGE_USAGE_STORAGE_BIT},
        {VK_FORMAT_D16_UNORM, VK_IMAGE_USAGE_STORAGE_BIT},
        {VK_FORMAT_BC1_RGB_UNORM_BLOCK, VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT},
        {VK_FORMAT_R8G8B8A8_SRGB, VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT},
    };
    auto supported = [](VkFormat format, VkImageUsageFlags usage)
    {
        VkImageFormatProperties props{};
        return vkGetPhysicalDeviceImageFormatProperties(Device()->GetPhysicalDevice(), format,
                                                        VK_IMAGE_TYPE_2D, VK_IMAGE_TILING_OPTIMAL, usage, 0,
                                                        &props) == VK_SUCCESS;
    };
    int tested = 0;
    for (const Candidate& c : candidates)
    {
        const VkImageUsageFlags transfer = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
        if (supported(c.format, c.usage) || supported(c.format, c.usage | transfer))
            continue;
        SCOPED_TRACE(::testing::Message() << "format " << c.format << ", usage " << c.usage);
        ExpectImageRejected(ImageInfo(64, 64, 1, 1, c.format, c.usage), "is not supported by the device");
        ++tested;
    }
    if (tested == 0)
        GTEST_SKIP() << "the device supports every candidate format/usage pair";
}

TEST_F(AllocationTest, ImageLargerThanItsFormatAllowsIsRejected)
{
    VkImageFormatProperties props{};
    ASSERT_EQ(
        vkGetPhysicalDeviceImageFormatProperties(
            Device()->GetPhysicalDevice(), VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_TYPE_2D,
            VK_IMAGE_TILING_OPTIMAL,
            VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT, 0,
            &props),
        VK_SUCCESS);
    ExpectImageRejected(ImageInfo(props.maxExtent.width + 1, 1), "exceeds the format's maximum");
    ExpectImageRejected(ImageInfo(16, 16, 1, props.maxArrayLayers + 1), "array layers");
}

TEST_F(AllocationTest, ImageWithAWrongSTypeOrNoUsageIsRejected)
{
    VkImageCreateInfo info = ImageInfo(64, 64);
    info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
    ExpectImageRejected(info, "sType");
    ExpectImageRejected(ImageInfo(64, 64, 1, 1, VK_FORMAT_R8G8B8A8_UNORM, 0), "usage is 0");
    ExpectImageRejected(ImageInfo(64, 64, 1, 1, VK_FORMAT_UNDEFINED), "VK_FORMAT_UNDEFINED");
}

TEST_F(AllocationTest, ImageWithAnInvalidSampleCountOrLayoutIsRejected)
{
    VkImageCreateInfo info = ImageInfo(64, 64);
    info.samples = static_cast<VkSampleCountFlagBits>(3);
    ExpectImageRejected(info, "samples");
    info = ImageInfo(64, 64);
    info.initialLayout = VK_IMAGE_LAYOUT_GENERAL;
    ExpectImageRejected(info, "initialLayout");
    info = ImageInfo(64, 32, 1, 6);
    info.flags = VK_IMAGE_CREATE_CUBE_COMPATIBLE_BIT;
    ExpectImageRejected(info, "cube-compatible");
}

} // namespace
} // namespace SceneryEditorX
