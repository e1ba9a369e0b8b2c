// Uploads and readbacks through system-owned staging buffers, submitted through the device's locked
// submit. Works on every memory type, including device-local memory that the CPU cannot map.
#include "AllocatorData.h"

#include <SceneryEditorX/Core/Log.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace SceneryEditorX
{
using namespace detail;

namespace detail
{
VkResult AcquireStaging(VulkanAllocatorData& d, VkDeviceSize size, StagingBuffer& out)
{
    {
        std::lock_guard lock(d.stagingMutex);
        auto best = d.stagingFree.end();
        for (auto it = d.stagingFree.begin(); it != d.stagingFree.end(); ++it)
            if (it->size >= size && (best == d.stagingFree.end() || it->size < best->size))
                best = it;
        if (best != d.stagingFree.end())
        {
            out = *best;
            d.stagingFreeBytes -= best->size;
            d.stagingFree.erase(best);
            return VK_SUCCESS;
        }
    }
    VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    info.size = std::max<VkDeviceSize>(std::bit_ceil(size), 256 * 1024);
    info.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VmaAllocationCreateInfo aci{};
    aci.usage = VMA_MEMORY_USAGE_AUTO_PREFER_HOST;
    aci.flags = VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT | VMA_ALLOCATION_CREATE_MAPPED_BIT;
    VmaAllocationInfo allocInfo{};
    std::lock_guard stripe(d.walkGuard.ForThisThread());
    // No log line here: the transfer that asked writes the one error line, naming this result.
    if (VkResult r = vmaCreateBuffer(d.allocator, &info, &aci, &out.buffer, &out.allocation, &allocInfo);
        r != VK_SUCCESS)
        return r;
    if (d.settings.allocationNames)
        vmaSetAllocationName(d.allocator, out.allocation, "sedx:staging");
    out.size = info.size;
    out.mapped = allocInfo.pMappedData;
    return VK_SUCCESS;
}

void ReleaseStaging(VulkanAllocatorData& d, StagingBuffer staging)
{
    {
        std::lock_guard lock(d.stagingMutex);
        if (d.stagingFreeBytes + staging.size <= d.settings.stagingCacheBytes)
        {
            d.stagingFreeBytes += staging.size;
            d.stagingFree.push_back(staging);
            return;
        }
    }
    vmaDestroyBuffer(d.allocator, staging.buffer, staging.allocation);
    AfterVmaFree();
}

void DestroyStagingCache(VulkanAllocatorData& d)
{
    std::lock_guard lock(d.stagingMutex);
    for (const StagingBuffer& s : d.stagingFree)
        vmaDestroyBuffer(d.allocator, s.buffer, s.allocation);
    AfterVmaFree();
    d.stagingFree.clear();
    d.stagingFreeBytes = 0;
}
} // namespace detail

namespace
{
// Bytes per texel of the uncompressed formats the upload path handles; 0 for the others.
uint32_t TexelSize(VkFormat format)
{
    switch (format)
    {
    case VK_FORMAT_R8_UNORM:
    case VK_FORMAT_R8_SNORM:
    case VK_FORMAT_R8_UINT:
    case VK_FORMAT_R8_SINT:
    case VK_FORMAT_R8_SRGB:
        return 1;
    case VK_FORMAT_R8G8_UNORM:
    case VK_FORMAT_R8G8_SNORM:
    case VK_FORMAT_R8G8_UINT:
    case VK_FORMAT_R8G8_SINT:
    case VK_FORMAT_R16_UNORM:
    case VK_FORMAT_R16_SNORM:
    case VK_FORMAT_R16_UINT:
    case VK_FORMAT_R16_SINT:
    case VK_FORMAT_R16_SFLOAT:
    case VK_FORMAT_R5G6B5_UNORM_PACK16:
        return 2;
    case VK_FORMAT_R8G8B8A8_UNORM:
    case VK_FORMAT_R8G8B8A8_SNORM:
    case VK_FORMAT_R8G8B8A8_UINT:
    case VK_FORMAT_R8G8B8A8_SINT:
    case VK_FORMAT_R8G8B8A8_SRGB:
    case VK_FORMAT_B8G8R8A8_UNORM:
    case VK_FORMAT_B8G8R8A8_SRGB:
    case VK_FORMAT_A2B10G10R10_UNORM_PACK32:
    case VK_FORMAT_B10G11R11_UFLOAT_PACK32:
    case VK_FORMAT_R16G16_UNORM:
    case VK_FORMAT_R16G16_SFLOAT:
    case VK_FORMAT_R32_UINT:
    case VK_FORMAT_R32_SINT:
    case VK_FORMAT_R32_SFLOAT:
        return 4;
    case VK_FORMAT_R16G16B16A16_UNORM:
    case VK_FORMAT_R16G16B16A16_SFLOAT:
    case VK_FORMAT_R16G16B16A16_UINT:
    case VK_FORMAT_R32G32_UINT:
    case VK_FORMAT_R32G32_SFLOAT:
        return 8;
    case VK_FORMAT_R32G32B32A32_UINT:
    case VK_FORMAT_R32G32B32A32_SINT:
    case VK_FORMAT_R32G32B32A32_SFLOAT:
        return 16;
    default:
        return 0;
    }
}

VkExtent3D MipExtent(const VkImageCreateInfo& info, uint32_t level)
{
    return {std::max(1u, info.extent.width >> level), std::max(1u, info.extent.height >> level),
            std::max(1u, info.extent.depth >> level)};
}

// May an image with `usage` be put in `layout` by the system?
bool LayoutAllowed(VkImageLayout layout, VkImageUsageFlags usage)
{
    switch (layout)
    {
    case VK_IMAGE_LAYOUT_GENERAL:
    case VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL:
        return true;
    case VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL:
        return (usage & VK_IMAGE_USAGE_TRANSFER_SRC_BIT) != 0;
    case VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL:
        return (usage & (VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT)) != 0;
    case VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL:
        return (usage & VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT) != 0;
    default:
        return false;
    }
}

void ImageBarrier(VkCommandBuffer cmd, VkImage image, const VkImageCreateInfo& info, VkImageLayout from,
                  VkImageLayout to)
{
    VkImageMemoryBarrier barrier{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
    barrier.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
    barrier.oldLayout = from;
    barrier.newLayout = to;
    barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.image = image;
    barrier.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, info.mipLevels, 0, info.arrayLayers};
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 0,
                         nullptr, 0, nullptr, 1, &barrier);
}

void MemoryBarrier(VkCommandBuffer cmd)
{
    VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    barrier.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1,
                         &barrier, 0, nullptr, 0, nullptr);
}

std::vector<VkBufferImageCopy> MipRegions(const VkImageCreateInfo& info)
{
    std::vector<VkBufferImageCopy> regions;
    VkDeviceSize offset = 0;
    const uint32_t texel = TexelSize(info.format);
    for (uint32_t level = 0; level < info.mipLevels; ++level)
    {
        const VkExtent3D e = MipExtent(info, level);
        VkBufferImageCopy region{};
        region.bufferOffset = offset;
        region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, level, 0, info.arrayLayers};
        region.imageExtent = e;
        regions.push_back(region);
        offset += VkDeviceSize(texel) * e.width * e.height * e.depth * info.arrayLayers;
    }
    return regions;
}

// A snapshot of what a transfer needs from a record.
struct TransferTarget
{
    ResourceKind kind = ResourceKind::Buffer;
    VkBuffer buffer = VK_NULL_HANDLE;
    VkImage image = VK_NULL_HANDLE;
    VkDeviceSize bufferSize = 0;
    VkBufferUsageFlags bufferUsage = 0;
    VkImageCreateInfo imageInfo{};
    VkImageLayout layout = VK_IMAGE_LAYOUT_UNDEFINED;
};

bool Lookup(VulkanAllocatorData& d, VmaAllocation allocation, TransferTarget& out)
{
    return allocation && d.registry.With(allocation,
                                         [&](const AllocationRecord& r)
                                         {
                                             out.kind = r.kind;
                                             out.buffer = r.buffer;
                                             out.image = r.image;
                                             // The size asked for: a SpeedOptimized buffer can be
                                             // larger (its reuse class), but the caller owns only this.
                                             out.bufferSize = r.kind == ResourceKind::Buffer
                                                                  ? r.requestedSize
                                                                  : r.bufferInfo.size;
                                             out.bufferUsage = r.bufferInfo.usage;
                                             out.imageInfo = r.imageInfo;
                                             out.layout = r.layout;
                                         });
}
} // namespace

VkDeviceSize MemoryAllocator::ImageDataSize(const VkImageCreateInfo& imageInfo)
{
    const uint32_t texel = TexelSize(imageInfo.format);
    if (texel == 0)
        return 0;
    VkDeviceSize total = 0;
    for (uint32_t level = 0; level < imageInfo.mipLevels; ++level)
    {
        const VkExtent3D e = MipExtent(imageInfo, level);
        total += VkDeviceSize(texel) * e.width * e.height * e.depth * imageInfo.arrayLayers;
    }
    return total;
}

bool MemoryAllocator::UploadToBuffer(VmaAllocation allocation, const void* data, VkDeviceSize size,
                                     VkDeviceSize offset)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] UploadToBuffer called before Init or after Shutdown", m_Tag);
        return false;
    }
    // Held until the copy is done: a defragmentation pass cannot retire the handle meanwhile.
    std::shared_lock transferLock(d->transferMutex);
    TransferTarget t;
    std::string error;
    if (!Lookup(*d, allocation, t) || t.kind != ResourceKind::Buffer)
        error = allocation && d->registry.Contains(allocation) ? "the allocation is an image"
                                                               : "the allocation is not live";
    else if (!data || size == 0)
        error = "no data";
    else if (offset > t.bufferSize || size > t.bufferSize - offset)
        error =
            fmt::format("{} bytes at offset {} do not fit the {}-byte buffer", size, offset, t.bufferSize);
    else if (!(t.bufferUsage & VK_BUFFER_USAGE_TRANSFER_DST_BIT))
        error = "the buffer has no TRANSFER_DST usage";
    StagingBuffer staging;
    if (error.empty())
        if (const VkResult r = AcquireStaging(*d, size, staging); r != VK_SUCCESS)
            error = fmt::format("the staging buffer could not be created: {}", VkResultName(r));
    if (!error.empty())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] UploadToBuffer({} bytes): {}", m_Tag, size, error);
        return false;
    }
    std::memcpy(staging.mapped, data, size);
    vmaFlushAllocation(d->allocator, staging.allocation, 0, size);
    const VkResult r = d->device->RunOneTimeCommands(
        [&](VkCommandBuffer cmd)
        {
            const VkBufferCopy region{0, offset, size};
            vkCmdCopyBuffer(cmd, staging.buffer, t.buffer, 1, &region);
            MemoryBarrier(cmd);
        });
    ReleaseStaging(*d, staging);
    if (r != VK_SUCCESS)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] UploadToBuffer({} bytes): submission failed: {}", m_Tag, size,
                            VkResultName(r));
        return false;
    }
    return true;
}

bool MemoryAllocator::ReadbackBuffer(VmaAllocation allocation, void* out, VkDeviceSize size,
                                     VkDeviceSize offset)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] ReadbackBuffer called before Init or after Shutdown", m_Tag);
        return false;
    }
    // Held until the copy is done: a defragmentation pass cannot retire the handle meanwhile.
    std::shared_lock transferLock(d->transferMutex);
    TransferTarget t;
    std::string error;
    if (!Lookup(*d, allocation, t) || t.kind != ResourceKind::Buffer)
        error = allocation && d->registry.Contains(allocation) ? "the allocation is an image"
                                                               : "the allocation is not live";
    else if (!out || size == 0)
        error = "no output";
    else if (offset > t.bufferSize || size > t.bufferSize - offset)
        error =
            fmt::format("{} bytes at offset {} are outside the {}-byte buffer", size, offset, t.bufferSize);
    else if (!(t.bufferUsage & VK_BUFFER_USAGE_TRANSFER_SRC_BIT))
        error = "the buffer has no TRANSFER_SRC usage";
    StagingBuffer staging;
    if (error.empty())
        if (const VkResult r = AcquireStaging(*d, size, staging); r != VK_SUCCESS)
            error = fmt::format("the staging buffer could not be created: {}", VkResultName(r));
    if (!error.empty())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] ReadbackBuffer({} bytes): {}", m_Tag, size, error);
        return false;
    }
    const VkResult r = d->device->RunOneTimeCommands(
        [&](VkCommandBuffer cmd)
        {
            MemoryBarrier(cmd);
            const VkBufferCopy region{offset, 0, size};
            vkCmdCopyBuffer(cmd, t.buffer, staging.buffer, 1, &region);
            MemoryBarrier(cmd);
        });
    if (r == VK_SUCCESS)
    {
        vmaInvalidateAllocation(d->allocator, staging.allocation, 0, size);
        std::memcpy(out, staging.mapped, size);
    }
    ReleaseStaging(*d, staging);
    if (r != VK_SUCCESS)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] ReadbackBuffer({} bytes): submission failed: {}", m_Tag, size,
                            VkResultName(r));
        return false;
    }
    return true;
}

bool MemoryAllocator::UploadToImage(VmaAllocation allocation, const void* data, VkDeviceSize size,
                                    VkImageLayout finalLayout)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] UploadToImage called before Init or after Shutdown", m_Tag);
        return false;
    }
    // Held until the copy is done: a defragmentation pass cannot retire the handle meanwhile.
    std::shared_lock transferLock(d->transferMutex);
    TransferTarget t;
    std::string error;
    VkDeviceSize expected = 0;
    if (!Lookup(*d, allocation, t) || t.kind != ResourceKind::Image)
        error = allocation && d->registry.Contains(allocation) ? "the allocation is a buffer"
                                                               : "the allocation is not live";
    else if ((expected = ImageDataSize(t.imageInfo)) == 0)
        error = fmt::format("format {} is not supported by the upload path",
                            static_cast<int>(t.imageInfo.format));
    else if (!data || size != expected)
        error = fmt::format("{} bytes given, all mips and layers need {}", data ? size : 0, expected);
    else if (!(t.imageInfo.usage & VK_IMAGE_USAGE_TRANSFER_DST_BIT))
        error = "the image has no TRANSFER_DST usage";
    else if (!LayoutAllowed(finalLayout, t.imageInfo.usage))
        error = fmt::format("final layout {} is not allowed for usage {:#x}", static_cast<int>(finalLayout),
                            t.imageInfo.usage);
    StagingBuffer staging;
    if (error.empty())
        if (const VkResult r = AcquireStaging(*d, size, staging); r != VK_SUCCESS)
            error = fmt::format("the staging buffer could not be created: {}", VkResultName(r));
    if (!error.empty())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] UploadToImage: {}", m_Tag, error);
        return false;
    }
    std::memcpy(staging.mapped, data, size);
    vmaFlushAllocation(d->allocator, staging.allocation, 0, size);
    const std::vector<VkBufferImageCopy> regions = MipRegions(t.imageInfo);
    const VkResult r = d->device->RunOneTimeCommands(
        [&](VkCommandBuffer cmd)
        {
            // Every texel is overwritten, so the old contents may be discarded.
            ImageBarrier(cmd, t.image, t.imageInfo, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
            vkCmdCopyBufferToImage(cmd, staging.buffer, t.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                   static_cast<uint32_t>(regions.size()), regions.data());
            ImageBarrier(cmd, t.image, t.imageInfo, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, finalLayout);
        });
    ReleaseStaging(*d, staging);
    if (r != VK_SUCCESS)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] UploadToImage: submission failed: {}", m_Tag, VkResultName(r));
        return false;
    }
    d->registry.With(allocation, [&](AllocationRecord& rec) { rec.layout = finalLayout; });
    return true;
}

bool MemoryAllocator::ReadbackImage(VmaAllocation allocation, std::vector<uint8_t>& out)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] ReadbackImage called before Init or after Shutdown", m_Tag);
        return false;
    }
    // Held until the copy is done: a defragmentation pass cannot retire the handle meanwhile.
    std::shared_lock transferLock(d->transferMutex);
    TransferTarget t;
    std::string error;
    VkDeviceSize size = 0;
    if (!Lookup(*d, allocation, t) || t.kind != ResourceKind::Image)
        error = allocation && d->registry.Contains(allocation) ? "the allocation is a buffer"
                                                               : "the allocation is not live";
    else if ((size = ImageDataSize(t.imageInfo)) == 0)
        error = fmt::format("format {} is not supported by the readback path",
                            static_cast<int>(t.imageInfo.format));
    else if (t.layout == VK_IMAGE_LAYOUT_UNDEFINED || t.layout == VK_IMAGE_LAYOUT_PREINITIALIZED)
        error = "the image has no defined contents (its recorded layout is UNDEFINED)";
    else if (!(t.imageInfo.usage & VK_IMAGE_USAGE_TRANSFER_SRC_BIT))
        error = "the image has no TRANSFER_SRC usage";
    StagingBuffer staging;
    if (error.empty())
        if (const VkResult r = AcquireStaging(*d, size, staging); r != VK_SUCCESS)
            error = fmt::format("the staging buffer could not be created: {}", VkResultName(r));
    if (!error.empty())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] ReadbackImage: {}", m_Tag, error);
        return false;
    }
    const std::vector<VkBufferImageCopy> regions = MipRegions(t.imageInfo);
    const VkResult r = d->device->RunOneTimeCommands(
        [&](VkCommandBuffer cmd)
        {
            ImageBarrier(cmd, t.image, t.imageInfo, t.layout, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
            vkCmdCopyImageToBuffer(cmd, t.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, staging.buffer,
                                   static_cast<uint32_t>(regions.size()), regions.data());
            ImageBarrier(cmd, t.image, t.imageInfo, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, t.layout);
            MemoryBarrier(cmd);
        });
    if (r == VK_SUCCESS)
    {
        vmaInvalidateAllocation(d->allocator, staging.allocation, 0, size);
        out.resize(size);
        std::memcpy(out.data(), staging.mapped, size);
    }
    ReleaseStaging(*d, staging);
    if (r != VK_SUCCESS)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] ReadbackImage: submission failed: {}", m_Tag, VkResultName(r));
        return false;
    }
    return true;
}

VkImageLayout MemoryAllocator::GetImageLayout(VmaAllocation allocation)
{
    VulkanAllocatorData* d = Data();
    VkImageLayout layout = VK_IMAGE_LAYOUT_UNDEFINED;
    if (!d)
        SEDX_CORE_ERROR_TAG(kAllocTag, "GetImageLayout called before Init or after Shutdown");
    else if (allocation)
        d->registry.With(allocation, [&](const AllocationRecord& r) { layout = r.layout; });
    return layout;
}

bool MemoryAllocator::SetImageLayout(VmaAllocation allocation, VkImageLayout layout)
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "SetImageLayout called before Init or after Shutdown");
        return false;
    }
    bool isImage = false;
    const bool live = allocation && d->registry.With(allocation,
                                                     [&](AllocationRecord& r)
                                                     {
                                                         isImage = r.kind == ResourceKind::Image;
                                                         if (isImage)
                                                             r.layout = layout;
                                                     });
    if (!live || !isImage)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "SetImageLayout: {}",
                            live ? "the allocation is a buffer" : "the allocation is not live");
        return false;
    }
    return true;
}

} // namespace SceneryEditorX
