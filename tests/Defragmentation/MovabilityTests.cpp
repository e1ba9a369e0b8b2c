// Which resources move and how holders see a move: no transfer usage or an unknown image layout
// means refused; GpuBuffer/GpuImage follow by themselves; mapped allocations stay mapped.
#include "DefragTestSupport.h"

#include <SceneryEditorX/Memory/GpuResource.h>

#include <cstdlib>
#include <cstring>

namespace SceneryEditorX
{
namespace
{
using namespace DefragTest;

class Movability : public AllocatorTest
{
};

/// Without the system's transfer bits: only what the caller asks for.
class MovabilityWithoutAddedTransferUsage : public AllocatorTest
{
protected:
    void ConfigureSettings(AllocatorSettings& settings) override
    {
        AllocatorTest::ConfigureSettings(settings);
        settings.addTransferUsage = false;
    }
};

constexpr VkBufferUsageFlags kMovableUsage =
    VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;

TEST_P(MovabilityWithoutAddedTransferUsage, BuffersWithoutTransferUsageNeverMove)
{
    // [filler][vertex-only][movable] repeated; the fillers go, so both kinds have room to move down.
    constexpr VkDeviceSize kSize = 32 * 1024;
    std::vector<TrackedBuffer> fillers, vertexOnly, movable;
    for (uint32_t i = 0; i < 12; ++i)
    {
        TrackedBuffer b;
        ASSERT_TRUE(CreateFilledBuffer(Allocator(), kSize, 10 + i, b, kMovableUsage));
        fillers.push_back(b);
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation allocation = Allocator().AllocateBuffer(
            BufferInfo(kSize, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT), VMA_MEMORY_USAGE_GPU_ONLY, buffer);
        ASSERT_TRUE(allocation);
        vertexOnly.push_back({allocation, buffer, kSize, 0});
        ASSERT_TRUE(CreateFilledBuffer(Allocator(), kSize, 100 + i, b, kMovableUsage));
        movable.push_back(b);
    }
    DestroyAll(Allocator(), fillers);
    std::map<VmaAllocation, Placement> placeBefore;
    for (const TrackedBuffer& b : vertexOnly)
        placeBefore[b.allocation] = PlacementOf(b.allocation);

    RelocationRecorder recorder;
    ASSERT_TRUE(Allocator().BeginDefragmentation());
    ExpectMarked(Allocator(), vertexOnly);
    ExpectMarked(Allocator(), movable);
    const DefragmentationStats stats = Allocator().EndDefragmentation();

    EXPECT_GT(stats.allocationsRefused, 0u);
    EXPECT_GT(stats.buffersMoved, 0u) << "the buffers with transfer usage had room to move";
    for (const TrackedBuffer& b : vertexOnly)
    {
        EXPECT_EQ(MemoryAllocator::GetBuffer(b.allocation), b.originalBuffer);
        EXPECT_EQ(PlacementOf(b.allocation), placeBefore[b.allocation]);
    }
    for (const RelocationNotice& n : recorder.Notices())
        for (const TrackedBuffer& b : vertexOnly)
            EXPECT_NE(n.allocation, b.allocation) << "a buffer without transfer usage was reported moved";
    ExpectHoldPatterns(Allocator(), movable);

    DestroyAll(Allocator(), vertexOnly);
    DestroyAll(Allocator(), movable);
}

/// Puts every mip of `image` in GENERAL and clears it to `color`, with the caller's own commands
/// (the system is not told the layout).
void ClearToGeneral(VkImage image, const VkImageCreateInfo& info, const VkClearColorValue& color)
{
    const VkResult result = Test::Device()->RunOneTimeCommands(
        [&](VkCommandBuffer cmd)
        {
            VkImageMemoryBarrier barrier = Test::ColorImageBarrier(
                image, {VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_GENERAL, 0, VK_ACCESS_TRANSFER_WRITE_BIT},
                info.mipLevels);
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
                                 nullptr, 0, nullptr, 1, &barrier);
            vkCmdClearColorImage(cmd, image, VK_IMAGE_LAYOUT_GENERAL, &color, 1, &barrier.subresourceRange);
            barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
            barrier.dstAccessMask = VK_ACCESS_MEMORY_READ_BIT;
            barrier.oldLayout = VK_IMAGE_LAYOUT_GENERAL;
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0,
                                 0, nullptr, 0, nullptr, 1, &barrier);
        });
    ASSERT_EQ(result, VK_SUCCESS);
}

TEST_P(Movability, ImagesOfUnknownLayoutAreRefusedAndImagesMarkedWithTheirLayoutMove)
{
    // [filler][filler][unknown layout][layout given at Mark], 128x128 with mips; the fillers go, so
    // that VMA has a lower place for each of the two, whichever it proposes first.
    const VkImageCreateInfo info = MippedImageInfo(128, 128);
    std::vector<TrackedImage> fillers(2);
    TrackedImage unknown;
    TrackedImage given;
    ASSERT_TRUE(CreateFilledImage(Allocator(), 128, 128, 1, fillers[0]));
    ASSERT_TRUE(CreateFilledImage(Allocator(), 128, 128, 2, fillers[1]));
    unknown.info = info;
    unknown.allocation = Allocator().AllocateImage(info, VMA_MEMORY_USAGE_GPU_ONLY, unknown.originalImage);
    ASSERT_TRUE(unknown.allocation);
    given.info = info;
    given.allocation = Allocator().AllocateImage(info, VMA_MEMORY_USAGE_GPU_ONLY, given.originalImage);
    ASSERT_TRUE(given.allocation);
    const VkClearColorValue color{{51.0f / 255.0f, 102.0f / 255.0f, 153.0f / 255.0f, 1.0f}};
    ClearToGeneral(given.originalImage, info, color);
    ASSERT_EQ(MemoryAllocator::GetImageLayout(given.allocation), VK_IMAGE_LAYOUT_UNDEFINED)
        << "the system was not told the layout";
    for (const TrackedImage& im : fillers)
        Destroy(Allocator(), im);
    const Placement unknownBefore = PlacementOf(unknown.allocation);

    RelocationRecorder recorder;
    ASSERT_TRUE(Allocator().BeginDefragmentation());
    EXPECT_TRUE(Allocator().MarkForDefragmentation(unknown.allocation));
    EXPECT_TRUE(Allocator().MarkForDefragmentation(given.allocation, VK_IMAGE_LAYOUT_GENERAL));
    const DefragmentationStats stats = Allocator().EndDefragmentation();

    EXPECT_GT(stats.allocationsRefused, 0u) << "the image of unknown layout was proposed and refused";
    EXPECT_EQ(stats.imagesMoved, 1u);
    EXPECT_EQ(MemoryAllocator::GetImage(unknown.allocation), unknown.originalImage);
    EXPECT_EQ(PlacementOf(unknown.allocation), unknownBefore);
    const std::vector<RelocationNotice> notices = recorder.Notices();
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_EQ(notices[0].allocation, given.allocation);
    EXPECT_EQ(notices[0].oldImage, given.originalImage);
    EXPECT_EQ(MemoryAllocator::GetImage(given.allocation), notices[0].newImage);
    EXPECT_NE(notices[0].newImage, given.originalImage);

    // The moved image kept its layout and every texel of every mip.
    EXPECT_EQ(MemoryAllocator::GetImageLayout(given.allocation), VK_IMAGE_LAYOUT_GENERAL);
    std::vector<uint8_t> texels;
    ASSERT_TRUE(Allocator().ReadbackImage(given.allocation, texels));
    ASSERT_EQ(texels.size(), MemoryAllocator::ImageDataSize(info));
    const uint8_t expected[4] = {51, 102, 153, 255};
    size_t wrong = 0;
    for (size_t i = 0; i < texels.size(); ++i)
        wrong += texels[i] != expected[i % 4];
    EXPECT_EQ(wrong, 0u) << "bytes that differ from the clear color after the move";

    Destroy(Allocator(), unknown);
    Destroy(Allocator(), given);
}

TEST_P(Movability, GpuBufferAndGpuImageFollowMoves)
{
    const uint32_t framesInFlight = MemoryAllocator::GetSettings().framesInFlight;
    std::vector<Ref<GpuBuffer>> fillerBuffers, buffers;
    std::vector<Ref<GpuImage>> fillerImages, images;
    std::vector<VkBuffer> originalBuffers;
    std::vector<VkImage> originalImages;
    constexpr VkDeviceSize kSize = 40 * 1024;
    for (uint32_t i = 0; i < 8; ++i)
    {
        fillerBuffers.push_back(
            GpuBuffer::Create(m_Allocator, BufferInfo(kSize, kStorageUsage), VMA_MEMORY_USAGE_GPU_ONLY));
        Ref<GpuBuffer> b =
            GpuBuffer::Create(m_Allocator, BufferInfo(kSize, kStorageUsage), VMA_MEMORY_USAGE_GPU_ONLY);
        ASSERT_TRUE(fillerBuffers.back() && b);
        const std::vector<uint8_t> pattern = MakePattern(200 + i, kSize);
        ASSERT_TRUE(b->Upload(pattern.data(), kSize));
        originalBuffers.push_back(b->GetBuffer());
        buffers.push_back(b);
    }
    const VkImageCreateInfo info = MippedImageInfo(64, 64);
    const VkDeviceSize imageBytes = MemoryAllocator::ImageDataSize(info);
    for (uint32_t i = 0; i < 3; ++i)
    {
        fillerImages.push_back(GpuImage::Create(m_Allocator, info, VMA_MEMORY_USAGE_GPU_ONLY));
        Ref<GpuImage> im = GpuImage::Create(m_Allocator, info, VMA_MEMORY_USAGE_GPU_ONLY);
        ASSERT_TRUE(fillerImages.back() && im);
        const std::vector<uint8_t> pattern = MakePattern(300 + i, static_cast<size_t>(imageBytes));
        ASSERT_TRUE(im->Upload(pattern.data(), imageBytes));
        originalImages.push_back(im->GetImage());
        images.push_back(im);
    }
    // Releasing the fillers is deferred: let their frames retire so that their memory is free.
    fillerBuffers.clear();
    fillerImages.clear();
    ASSERT_TRUE(
        MemoryAllocator::SetCurrentFrameIndex(MemoryAllocator::GetCurrentFrameIndex() + framesInFlight));

    ASSERT_TRUE(Allocator().BeginDefragmentation());
    EXPECT_EQ(Allocator().MarkAllForDefragmentation(), buffers.size() + images.size());
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_GT(stats.buffersMoved, 0u);
    EXPECT_GT(stats.imagesMoved, 0u);

    uint32_t movedBuffers = 0;
    for (size_t i = 0; i < buffers.size(); ++i)
    {
        EXPECT_EQ(buffers[i]->GetBuffer(), MemoryAllocator::GetBuffer(buffers[i]->GetAllocation()));
        movedBuffers += buffers[i]->GetBuffer() != originalBuffers[i];
        std::vector<uint8_t> read(kSize);
        ASSERT_TRUE(buffers[i]->Readback(read.data(), kSize));
        EXPECT_EQ(read, MakePattern(200 + static_cast<uint32_t>(i), kSize)) << "buffer " << i;
    }
    uint32_t movedImages = 0;
    for (size_t i = 0; i < images.size(); ++i)
    {
        EXPECT_EQ(images[i]->GetImage(), MemoryAllocator::GetImage(images[i]->GetAllocation()));
        movedImages += images[i]->GetImage() != originalImages[i];
        std::vector<uint8_t> read;
        ASSERT_TRUE(images[i]->Readback(read));
        EXPECT_EQ(read, MakePattern(300 + static_cast<uint32_t>(i), static_cast<size_t>(imageBytes)))
            << "image " << i;
    }
    EXPECT_EQ(movedBuffers, stats.buffersMoved);
    EXPECT_EQ(movedImages, stats.imagesMoved);

    buffers.clear();
    images.clear();
    EXPECT_EQ(Allocator().GetStats().tag.allocationCount, 0u);
}

TEST_P(Movability, MappedAllocationsStayMappedAtTheirNewPlace)
{
    constexpr VkDeviceSize kSize = 24 * 1024;
    // [filler][filler][persistently mapped][mapped with MapMemory]; the fillers go, so that each of
    // the two has a lower place. The fillers share the mapped buffers' usage, hence their memory
    // type and pool (on a discrete GPU CPU_TO_GPU is not where GPU_ONLY lives).
    std::vector<VmaAllocation> fillers(2);
    for (VmaAllocation& filler : fillers)
    {
        VkBuffer fillerBuffer = VK_NULL_HANDLE;
        filler = Allocator().AllocateBuffer(BufferInfo(kSize, kStorageUsage), VMA_MEMORY_USAGE_CPU_TO_GPU,
                                            fillerBuffer);
        ASSERT_TRUE(filler);
    }
    AllocationCreateInfo persistentInfo;
    persistentInfo.usage = VMA_MEMORY_USAGE_CPU_TO_GPU;
    persistentInfo.flags = AllocationFlags::Mapped;
    VkBuffer persistentBuffer = VK_NULL_HANDLE;
    VmaAllocation persistent =
        Allocator().AllocateBuffer(BufferInfo(kSize, kStorageUsage), persistentInfo, persistentBuffer);
    ASSERT_TRUE(persistent);
    VkBuffer explicitBuffer = VK_NULL_HANDLE;
    VmaAllocation explicitlyMapped = Allocator().AllocateBuffer(BufferInfo(kSize, kStorageUsage),
                                                                VMA_MEMORY_USAGE_CPU_TO_GPU, explicitBuffer);
    ASSERT_TRUE(explicitlyMapped);

    void* persistentBefore = MemoryAllocator::GetMappedData(persistent);
    ASSERT_NE(persistentBefore, nullptr);
    void* explicitBefore = Allocator().MapMemory(explicitlyMapped);
    ASSERT_NE(explicitBefore, nullptr);
    ASSERT_EQ(MemoryAllocator::GetMappedData(explicitlyMapped), explicitBefore);
    const std::vector<uint8_t> persistentPattern = MakePattern(77, kSize);
    const std::vector<uint8_t> explicitPattern = MakePattern(78, kSize);
    std::memcpy(persistentBefore, persistentPattern.data(), kSize);
    std::memcpy(explicitBefore, explicitPattern.data(), kSize);
    for (VmaAllocation filler : fillers)
        EXPECT_TRUE(Allocator().Free(filler));

    RelocationRecorder recorder;
    ASSERT_TRUE(Allocator().BeginDefragmentation());
    EXPECT_TRUE(Allocator().MarkForDefragmentation(persistent));
    EXPECT_TRUE(Allocator().MarkForDefragmentation(explicitlyMapped));
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_EQ(stats.buffersMoved, 2u);

    const auto byAllocation = recorder.ByAllocation();
    ASSERT_TRUE(byAllocation.count(persistent) && byAllocation.count(explicitlyMapped));
    const RelocationNotice& persistentNotice = byAllocation.at(persistent).back();
    const RelocationNotice& explicitNotice = byAllocation.at(explicitlyMapped).back();
    ASSERT_NE(persistentNotice.newMappedData, nullptr);
    ASSERT_NE(explicitNotice.newMappedData, nullptr);
    EXPECT_NE(persistentNotice.newMappedData, persistentBefore);
    EXPECT_NE(explicitNotice.newMappedData, explicitBefore);
    EXPECT_EQ(MemoryAllocator::GetMappedData(persistent), persistentNotice.newMappedData);
    EXPECT_EQ(MemoryAllocator::GetMappedData(explicitlyMapped), explicitNotice.newMappedData);
    EXPECT_EQ(std::memcmp(persistentNotice.newMappedData, persistentPattern.data(), kSize), 0);
    EXPECT_EQ(std::memcmp(explicitNotice.newMappedData, explicitPattern.data(), kSize), 0);
    // And the GPU sees the same bytes through the new buffers.
    EXPECT_TRUE(HoldsPattern(Allocator(), TrackedBuffer{persistent, persistentBuffer, kSize, 77}));
    EXPECT_TRUE(HoldsPattern(Allocator(), TrackedBuffer{explicitlyMapped, explicitBuffer, kSize, 78}));

    EXPECT_TRUE(MemoryAllocator::UnmapMemory(explicitlyMapped));
    EXPECT_TRUE(Allocator().DestroyBuffer(MemoryAllocator::GetBuffer(persistent), persistent));
    EXPECT_TRUE(Allocator().DestroyBuffer(MemoryAllocator::GetBuffer(explicitlyMapped), explicitlyMapped));
}

// Buffers above LARGE_BUFFER_SIZE live in VMA's default pools with the caller's memory usage. With
// VMA_MEMORY_USAGE_AUTO and no host-access flag VMA forbids mapping them, so a memcpy move must
// not map them. The scenario runs in a child process, since a VMA_ASSERT aborts.
//
// Regression: the memcpy path used to map such buffers and VMA_ASSERT(IsMappingAllowed()) aborted;
// it now copies only allocations VMA lets us map, and the GPU copies the rest.
TEST_P(Movability, LargeAutoUsageBuffersOutsideThePoolsMoveWithoutMapping)
{
    EXPECT_EXIT(
        {
            constexpr VkDeviceSize kSize = LARGE_BUFFER_SIZE + 1024 * 1024;
            std::vector<TrackedBuffer> all(3);
            bool ok = true;
            for (uint32_t i = 0; i < all.size(); ++i)
            {
                all[i].size = kSize;
                all[i].seed = 40 + i;
                all[i].allocation = Allocator().AllocateBuffer(BufferInfo(kSize, kStorageUsage),
                                                               VMA_MEMORY_USAGE_AUTO, all[i].originalBuffer);
                const std::vector<uint8_t> pattern = MakePattern(all[i].seed, kSize);
                ok = ok && all[i].allocation &&
                     Allocator().UploadToBuffer(all[i].allocation, pattern.data(), kSize);
            }
            ok = ok && Allocator().DestroyBuffer(all[0].originalBuffer, all[0].allocation);
            ok = ok && Allocator().BeginDefragmentation() &&
                 Allocator().MarkForDefragmentation(all[1].allocation) &&
                 Allocator().MarkForDefragmentation(all[2].allocation);
            const DefragmentationStats stats = Allocator().EndDefragmentation();
            std::fprintf(stderr, "buffers moved: %u\n", stats.buffersMoved);
            ok = ok && stats.buffersMoved > 0 && HoldsPattern(Allocator(), all[1]) &&
                 HoldsPattern(Allocator(), all[2]);
            ok =
                ok &&
                Allocator().DestroyBuffer(MemoryAllocator::GetBuffer(all[1].allocation), all[1].allocation) &&
                Allocator().DestroyBuffer(MemoryAllocator::GetBuffer(all[2].allocation), all[2].allocation);
            MemoryAllocator::Shutdown();
            std::fflush(stdout);
            std::fflush(stderr);
            std::_Exit(ok ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
}

INSTANTIATE_TEST_SUITE_P(CopyPaths, Movability, ::testing::ValuesIn(kCopyPaths), CopyPathName);
INSTANTIATE_TEST_SUITE_P(CopyPaths, MovabilityWithoutAddedTransferUsage, ::testing::ValuesIn(kCopyPaths),
                         CopyPathName);

} // namespace
} // namespace SceneryEditorX
