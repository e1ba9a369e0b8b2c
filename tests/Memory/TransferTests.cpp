// Uploads and readbacks through the system's staging buffers: buffers with offsets, images over every
// mip level and layer, wrong sizes and other rejected requests, and the reuse of staging buffers.
#include "MemoryTestSupport.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <string>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

std::vector<uint8_t> Pattern(size_t size, uint8_t seed)
{
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8) * 3);
    return bytes;
}

/// The tightly packed size of one mip level (all layers) of an RGBA8 image.
VkDeviceSize Rgba8LevelSize(const VkImageCreateInfo& info, uint32_t level)
{
    const VkDeviceSize w = std::max(1u, info.extent.width >> level);
    const VkDeviceSize h = std::max(1u, info.extent.height >> level);
    return w * h * 4 * info.arrayLayers;
}

class TransferTest : public AllocatorTest
{
protected:
    Buffer MakeBuffer(VkDeviceSize size, VmaMemoryUsage usage = VMA_MEMORY_USAGE_GPU_ONLY,
                      VkBufferUsageFlags bufferUsage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT)
    {
        return AllocatorTest::MakeBuffer(size, CreateInfo(usage), bufferUsage);
    }
    struct Image
    {
        VkImage image = VK_NULL_HANDLE;
        VmaAllocation allocation = nullptr;
    };
    Image MakeImage(const VkImageCreateInfo& info)
    {
        Image i;
        i.allocation = Alloc().AllocateImage(info, VMA_MEMORY_USAGE_GPU_ONLY, i.image);
        EXPECT_NE(i.allocation, nullptr);
        return i;
    }

    /// Uploads a distinct pattern to every level (and layer) and reads the whole image back.
    void ExpectImageRoundTrip(const VkImageCreateInfo& info)
    {
        const Image image = MakeImage(info);
        const VkDeviceSize size = MemoryAllocator::ImageDataSize(info);
        VkDeviceSize expectedSize = 0;
        for (uint32_t level = 0; level < info.mipLevels; ++level)
            expectedSize += Rgba8LevelSize(info, level);
        ASSERT_EQ(size, expectedSize);
        std::vector<uint8_t> data;
        for (uint32_t level = 0; level < info.mipLevels; ++level)
        {
            const std::vector<uint8_t> levelBytes = Pattern(static_cast<size_t>(Rgba8LevelSize(info, level)),
                                                            static_cast<uint8_t>(level * 31 + 1));
            data.insert(data.end(), levelBytes.begin(), levelBytes.end());
        }
        LogCapture capture;
        ASSERT_TRUE(Alloc().UploadToImage(image.allocation, data.data(), data.size()));
        EXPECT_EQ(MemoryAllocator::GetImageLayout(image.allocation),
                  VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
        std::vector<uint8_t> back;
        ASSERT_TRUE(Alloc().ReadbackImage(image.allocation, back));
        EXPECT_TRUE(NoErrors(capture));
        ASSERT_EQ(back.size(), data.size());
        VkDeviceSize offset = 0;
        for (uint32_t level = 0; level < info.mipLevels; ++level)
        {
            const VkDeviceSize levelSize = Rgba8LevelSize(info, level);
            EXPECT_EQ(std::memcmp(back.data() + offset, data.data() + offset, static_cast<size_t>(levelSize)),
                      0)
                << "mip level " << level << " differs";
            offset += levelSize;
        }
        EXPECT_EQ(MemoryAllocator::GetImageLayout(image.allocation), VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL)
            << "a readback leaves the layout it found";
        EXPECT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
    }
};

TEST_F(TransferTest, BufferUploadAndReadbackRoundTripWithOffsets)
{
    for (VmaMemoryUsage usage :
         {VMA_MEMORY_USAGE_GPU_ONLY, VMA_MEMORY_USAGE_AUTO, VMA_MEMORY_USAGE_CPU_TO_GPU})
    {
        SCOPED_TRACE(::testing::Message() << "usage " << usage);
        const VkDeviceSize size = 64 * KiB;
        const Buffer b = MakeBuffer(size, usage);
        std::vector<uint8_t> expected = Pattern(size, 1);
        ASSERT_TRUE(Alloc().UploadToBuffer(b.allocation, expected.data(), size));
        const std::vector<uint8_t> patch = Pattern(100, 200);
        ASSERT_TRUE(Alloc().UploadToBuffer(b.allocation, patch.data(), patch.size(), 1000));
        std::copy(patch.begin(), patch.end(), expected.begin() + 1000);

        std::vector<uint8_t> back(size, 0);
        ASSERT_TRUE(Alloc().ReadbackBuffer(b.allocation, back.data(), size));
        EXPECT_EQ(back, expected);
        std::vector<uint8_t> part(50, 0);
        ASSERT_TRUE(Alloc().ReadbackBuffer(b.allocation, part.data(), part.size(), 1010));
        EXPECT_EQ(part, std::vector<uint8_t>(patch.begin() + 10, patch.begin() + 60));
        uint8_t last = 0;
        ASSERT_TRUE(Alloc().ReadbackBuffer(b.allocation, &last, 1, size - 1));
        EXPECT_EQ(last, expected.back());
        EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
    }
}

TEST_F(TransferTest, BufferTransfersOutsideTheBufferOrWithoutDataAreRejected)
{
    const VkDeviceSize size = 64 * KiB;
    const Buffer b = MakeBuffer(size);
    const Image image = MakeImage(ImageInfo(16, 16));
    const Buffer freed = MakeBuffer(4 * KiB);
    ASSERT_TRUE(Alloc().DestroyBuffer(freed.buffer, freed.allocation));
    std::vector<uint8_t> bytes(size + 16, 0x77);
    struct Case
    {
        const char* what;
        VmaAllocation allocation;
        const uint8_t* data;
        VkDeviceSize size;
        VkDeviceSize offset;
        const char* needle;
    };
    const Case cases[] = {
        {"one byte past the end", b.allocation, bytes.data(), 1, size, "do not fit"},
        {"one byte too many", b.allocation, bytes.data(), size + 1, 0, "do not fit"},
        {"tail past the end", b.allocation, bytes.data(), 10, size - 6, "do not fit"},
        {"offset overflow", b.allocation, bytes.data(), 16, ~VkDeviceSize(0) - 8, "do not fit"},
        {"zero size", b.allocation, bytes.data(), 0, 0, "no data"},
        {"null data", b.allocation, nullptr, 16, 0, "no data"},
        {"an image", image.allocation, bytes.data(), 16, 0, "is an image"},
        {"freed", freed.allocation, bytes.data(), 16, 0, "not live"},
        {"null allocation", nullptr, bytes.data(), 16, 0, "not live"},
    };
    const std::vector<uint8_t> before = Pattern(size, 9);
    ASSERT_TRUE(Alloc().UploadToBuffer(b.allocation, before.data(), size));
    for (const Case& c : cases)
    {
        SCOPED_TRACE(c.what);
        {
            LogCapture capture;
            EXPECT_FALSE(Alloc().UploadToBuffer(c.allocation, c.data, c.size, c.offset));
            EXPECT_TRUE(OneAllocatorError(capture, c.needle));
        }
        LogCapture capture;
        std::vector<uint8_t> out(size + 16, 0);
        EXPECT_FALSE(Alloc().ReadbackBuffer(c.allocation, c.data ? out.data() : nullptr, c.size, c.offset));
        EXPECT_TRUE(OneAllocatorError(capture, std::string(c.needle) == "do not fit" ? "outside"
                                               : std::string(c.needle) == "no data"  ? "no output"
                                                                                     : c.needle));
    }
    std::vector<uint8_t> back(size);
    ASSERT_TRUE(Alloc().ReadbackBuffer(b.allocation, back.data(), size));
    EXPECT_EQ(back, before) << "no rejected upload wrote anything";
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
    EXPECT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
}

TEST_F(TransferTest, BufferWithoutTransferUsageCannotBeUploadedWhenTheSystemAddsNone)
{
    ASSERT_TRUE(MemoryAllocator::Shutdown());
    ASSERT_TRUE(MemoryAllocator::Init(Device(), VK_API_VERSION_1_3, {.addTransferUsage = false}));
    const Buffer b = MakeBuffer(4 * KiB, VMA_MEMORY_USAGE_GPU_ONLY, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT);
    std::vector<uint8_t> bytes(64, 1);
    {
        LogCapture capture;
        EXPECT_FALSE(Alloc().UploadToBuffer(b.allocation, bytes.data(), bytes.size()));
        EXPECT_TRUE(OneAllocatorError(capture, "TRANSFER_DST"));
    }
    {
        LogCapture capture;
        EXPECT_FALSE(Alloc().ReadbackBuffer(b.allocation, bytes.data(), bytes.size()));
        EXPECT_TRUE(OneAllocatorError(capture, "TRANSFER_SRC"));
    }
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
}

TEST_F(TransferTest, ImageDataSizeCountsEveryMipAndLayerTightlyPacked)
{
    // 256x256 with 9 mips: (65536 + 16384 + 4096 + 1024 + 256 + 64 + 16 + 4 + 1) texels of 4 bytes.
    EXPECT_EQ(MemoryAllocator::ImageDataSize(ImageInfo(256, 256, 9)), 349524u);
    // 64x64, 3 mips, 2 layers: (4096 + 1024 + 256) * 2 * 4.
    EXPECT_EQ(MemoryAllocator::ImageDataSize(ImageInfo(64, 64, 3, 2)), 43008u);
    // 256x64 with 9 mips: the short side stops at 1.
    EXPECT_EQ(MemoryAllocator::ImageDataSize(ImageInfo(256, 64, 9)), 87388u);
    EXPECT_EQ(MemoryAllocator::ImageDataSize(ImageInfo(1, 1)), 4u);
    EXPECT_EQ(MemoryAllocator::ImageDataSize(ImageInfo(16, 16, 1, 1, VK_FORMAT_R16G16B16A16_SFLOAT)), 2048u);
    EXPECT_EQ(MemoryAllocator::ImageDataSize(ImageInfo(16, 16, 1, 1, VK_FORMAT_BC1_RGB_UNORM_BLOCK)), 0u)
        << "compressed formats are not handled by the upload path";
}

TEST_F(TransferTest, ImageUploadAndReadbackCoverEveryMipLevel)
{
    ExpectImageRoundTrip(ImageInfo(256, 256, 9));
}

TEST_F(TransferTest, ArrayImageUploadAndReadbackCoverEveryLayerAndMip)
{
    ExpectImageRoundTrip(ImageInfo(64, 64, 3, 2));
}

TEST_F(TransferTest, NonSquareImageRoundTripsDownToTheLastMip)
{
    ExpectImageRoundTrip(ImageInfo(64, 16, 7));
}

TEST_F(TransferTest, ImageUploadOfTheWrongSizeIsRejected)
{
    const VkImageCreateInfo info = ImageInfo(256, 256, 9);
    const Image image = MakeImage(info);
    const VkDeviceSize size = MemoryAllocator::ImageDataSize(info);
    std::vector<uint8_t> data(size + 1, 0x42);
    for (VkDeviceSize wrong : {size - 1, size + 1, VkDeviceSize(0), Rgba8LevelSize(info, 0)})
    {
        SCOPED_TRACE(wrong);
        LogCapture capture;
        EXPECT_FALSE(Alloc().UploadToImage(image.allocation, data.data(), wrong));
        EXPECT_TRUE(OneAllocatorError(capture, fmt::format("all mips and layers need {}", size)));
    }
    LogCapture capture;
    EXPECT_FALSE(Alloc().UploadToImage(image.allocation, nullptr, size));
    EXPECT_TRUE(OneAllocatorError(capture, "all mips and layers need"));
    EXPECT_EQ(MemoryAllocator::GetImageLayout(image.allocation), VK_IMAGE_LAYOUT_UNDEFINED)
        << "nothing was written";
    EXPECT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
}

TEST_F(TransferTest, ReadbackOfAnImageThatWasNeverWrittenIsRejected)
{
    const Image image = MakeImage(ImageInfo(32, 32));
    LogCapture capture;
    std::vector<uint8_t> out(7, 7);
    EXPECT_FALSE(Alloc().ReadbackImage(image.allocation, out));
    EXPECT_TRUE(OneAllocatorError(capture, "no defined contents"));
    EXPECT_EQ(out.size(), 7u) << "the output is left alone";
    EXPECT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
}

TEST_F(TransferTest, ImageTransfersOnABufferOrAFreedAllocationAreRejected)
{
    const Buffer b = MakeBuffer(4 * KiB);
    std::vector<uint8_t> data(4 * KiB, 1);
    {
        LogCapture capture;
        EXPECT_FALSE(Alloc().UploadToImage(b.allocation, data.data(), data.size()));
        EXPECT_TRUE(OneAllocatorError(capture, "is a buffer"));
    }
    {
        LogCapture capture;
        EXPECT_FALSE(Alloc().ReadbackImage(b.allocation, data));
        EXPECT_TRUE(OneAllocatorError(capture, "is a buffer"));
    }
    {
        LogCapture capture;
        EXPECT_FALSE(MemoryAllocator::SetImageLayout(b.allocation, VK_IMAGE_LAYOUT_GENERAL));
        EXPECT_TRUE(OneAllocatorError(capture, "is a buffer"));
    }
    ASSERT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
    LogCapture capture;
    EXPECT_FALSE(Alloc().ReadbackImage(b.allocation, data));
    EXPECT_TRUE(OneAllocatorError(capture, "not live"));
}

TEST_F(TransferTest, UploadToImageWithALayoutItsUsageForbidsIsRejected)
{
    const VkImageCreateInfo info = ImageInfo(16, 16); // sampled only
    const Image image = MakeImage(info);
    std::vector<uint8_t> data(static_cast<size_t>(MemoryAllocator::ImageDataSize(info)), 3);
    LogCapture capture;
    EXPECT_FALSE(Alloc().UploadToImage(image.allocation, data.data(), data.size(),
                                       VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL));
    EXPECT_TRUE(OneAllocatorError(capture, "final layout"));
    EXPECT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
}

TEST_F(TransferTest, UploadToImageOfAFormatTheUploadPathDoesNotKnowIsRejected)
{
    VkImageFormatProperties props{};
    if (vkGetPhysicalDeviceImageFormatProperties(Device()->GetPhysicalDevice(), VK_FORMAT_D32_SFLOAT,
                                                 VK_IMAGE_TYPE_2D, VK_IMAGE_TILING_OPTIMAL,
                                                 VK_IMAGE_USAGE_SAMPLED_BIT, 0, &props) != VK_SUCCESS)
        GTEST_SKIP() << "D32_SFLOAT cannot be sampled on this device";
    const Image image = MakeImage(ImageInfo(16, 16, 1, 1, VK_FORMAT_D32_SFLOAT));
    std::vector<uint8_t> data(16 * 16 * 4, 0);
    LogCapture capture;
    EXPECT_FALSE(Alloc().UploadToImage(image.allocation, data.data(), data.size()));
    EXPECT_TRUE(OneAllocatorError(capture, "not supported by the upload path"));
    EXPECT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
}

TEST_F(TransferTest, TheRecordedLayoutFollowsUploadsAndSetImageLayout)
{
    const VkImageCreateInfo info = ImageInfo(32, 32, 1, 1, VK_FORMAT_R8G8B8A8_UNORM,
                                             VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_STORAGE_BIT);
    const Image image = MakeImage(info);
    const std::vector<uint8_t> data = Pattern(static_cast<size_t>(MemoryAllocator::ImageDataSize(info)), 5);
    ASSERT_TRUE(Alloc().UploadToImage(image.allocation, data.data(), data.size(), VK_IMAGE_LAYOUT_GENERAL));
    EXPECT_EQ(MemoryAllocator::GetImageLayout(image.allocation), VK_IMAGE_LAYOUT_GENERAL);
    std::vector<uint8_t> back;
    ASSERT_TRUE(Alloc().ReadbackImage(image.allocation, back)); // transitions from GENERAL, validated
    EXPECT_EQ(back, data);
    EXPECT_EQ(MemoryAllocator::GetImageLayout(image.allocation), VK_IMAGE_LAYOUT_GENERAL);

    // The caller moved it (say, by a render pass) and says so.
    ASSERT_TRUE(Device()->RunOneTimeCommands(
                    [&](VkCommandBuffer cmd)
                    {
                        const VkImageMemoryBarrier barrier = ColorImageBarrier(
                            image.image, {VK_IMAGE_LAYOUT_GENERAL, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                                          VK_ACCESS_MEMORY_WRITE_BIT, VK_ACCESS_MEMORY_READ_BIT});
                        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                                             VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 0, nullptr, 0, nullptr, 1,
                                             &barrier);
                    }) == VK_SUCCESS);
    EXPECT_TRUE(MemoryAllocator::SetImageLayout(image.allocation, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL));
    EXPECT_EQ(MemoryAllocator::GetImageLayout(image.allocation), VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
    ASSERT_TRUE(Alloc().ReadbackImage(image.allocation, back));
    EXPECT_EQ(back, data);
    EXPECT_TRUE(Alloc().DestroyImage(image.image, image.allocation));
}

TEST_F(TransferTest, StagingBuffersAreReusedRatherThanPiledUp)
{
    const Buffer b = MakeBuffer(64 * KiB);
    const std::vector<uint8_t> data = Pattern(64 * KiB, 3);
    ASSERT_TRUE(Alloc().UploadToBuffer(b.allocation, data.data(), data.size()));
    const VmaStatistics afterFirst = VmaTotals();
    ASSERT_EQ(afterFirst.allocationCount, 2u) << "the buffer and one cached staging buffer";
    std::vector<uint8_t> back(64 * KiB);
    for (int i = 0; i < 5; ++i)
    {
        ASSERT_TRUE(Alloc().UploadToBuffer(b.allocation, data.data(), data.size()));
        ASSERT_TRUE(Alloc().ReadbackBuffer(b.allocation, back.data(), back.size()));
    }
    EXPECT_EQ(VmaTotals().allocationCount, 2u);
    EXPECT_EQ(VmaTotals().allocationBytes, afterFirst.allocationBytes);
    EXPECT_EQ(Alloc().GetStats().tag.allocationCount, 1u) << "staging is not counted per tag";
    EXPECT_EQ(Alloc().GetStats().allocationCount, 2u) << "but it is in VMA's figures";
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
}

TEST_F(TransferTest, WithoutAStagingCacheEveryStagingBufferIsFreedAfterUse)
{
    ASSERT_TRUE(MemoryAllocator::Shutdown());
    ASSERT_TRUE(MemoryAllocator::Init(Device(), VK_API_VERSION_1_3, {.stagingCacheBytes = 0}));
    const Buffer b = MakeBuffer(64 * KiB);
    const std::vector<uint8_t> data = Pattern(64 * KiB, 3);
    ASSERT_TRUE(Alloc().UploadToBuffer(b.allocation, data.data(), data.size()));
    EXPECT_EQ(VmaTotals().allocationCount, 1u);
    std::vector<uint8_t> back(64 * KiB);
    ASSERT_TRUE(Alloc().ReadbackBuffer(b.allocation, back.data(), back.size()));
    EXPECT_EQ(back, data);
    EXPECT_EQ(VmaTotals().allocationCount, 1u);
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
}

} // namespace
} // namespace SceneryEditorX
