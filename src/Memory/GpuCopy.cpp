// The GPU-copy helper (GpuCopy.h).
#include "GpuCopy.h"

#include <algorithm>

namespace SceneryEditorX::detail
{

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

VkImageAspectFlags AspectOf(VkFormat format)
{
    switch (format)
    {
    case VK_FORMAT_D16_UNORM:
    case VK_FORMAT_D32_SFLOAT:
    case VK_FORMAT_X8_D24_UNORM_PACK32:
        return VK_IMAGE_ASPECT_DEPTH_BIT;
    case VK_FORMAT_S8_UINT:
        return VK_IMAGE_ASPECT_STENCIL_BIT;
    case VK_FORMAT_D16_UNORM_S8_UINT:
    case VK_FORMAT_D24_UNORM_S8_UINT:
    case VK_FORMAT_D32_SFLOAT_S8_UINT:
        return VK_IMAGE_ASPECT_DEPTH_BIT | VK_IMAGE_ASPECT_STENCIL_BIT;
    default:
        return VK_IMAGE_ASPECT_COLOR_BIT;
    }
}

VkDeviceSize ImageDataSize(const VkImageCreateInfo& info)
{
    const uint32_t texel = TexelSize(info.format);
    VkDeviceSize total = 0;
    for (uint32_t level = 0; texel != 0 && level < info.mipLevels; ++level)
    {
        const VkExtent3D e = MipExtent(info, level);
        total += VkDeviceSize(texel) * e.width * e.height * e.depth * info.arrayLayers;
    }
    return total;
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
    barrier.subresourceRange = {AspectOf(info.format), 0, info.mipLevels, 0, info.arrayLayers};
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

std::vector<VkBufferImageCopy> BufferImageRegions(const VkImageCreateInfo& info)
{
    std::vector<VkBufferImageCopy> regions;
    VkDeviceSize offset = 0;
    const uint32_t texel = TexelSize(info.format);
    for (uint32_t level = 0; level < info.mipLevels; ++level)
    {
        const VkExtent3D e = MipExtent(info, level);
        VkBufferImageCopy region{};
        region.bufferOffset = offset;
        region.imageSubresource = {AspectOf(info.format), level, 0, info.arrayLayers};
        region.imageExtent = e;
        regions.push_back(region);
        offset += VkDeviceSize(texel) * e.width * e.height * e.depth * info.arrayLayers;
    }
    return regions;
}

void CopyWholeImage(VkCommandBuffer cmd, VkImage source, VkImage destination, const VkImageCreateInfo& info,
                    VkImageLayout layout)
{
    ImageBarrier(cmd, source, info, layout, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
    ImageBarrier(cmd, destination, info, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
    std::vector<VkImageCopy> regions;
    for (uint32_t level = 0; level < info.mipLevels; ++level)
    {
        VkImageCopy region{};
        region.srcSubresource = {AspectOf(info.format), level, 0, info.arrayLayers};
        region.dstSubresource = region.srcSubresource;
        region.extent = MipExtent(info, level);
        regions.push_back(region);
    }
    vkCmdCopyImage(cmd, source, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, destination,
                   VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, static_cast<uint32_t>(regions.size()),
                   regions.data());
    ImageBarrier(cmd, destination, info, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, layout);
}

} // namespace SceneryEditorX::detail
