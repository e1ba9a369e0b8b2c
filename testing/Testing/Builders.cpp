#include "Testing/Builders.h"

#include <SceneryEditorX/Memory/MemoryAllocator.h>

#include <algorithm>
#include <bit>

namespace SceneryEditorX::Test
{

VkBufferCreateInfo BufferInfo(VkDeviceSize size, VkBufferUsageFlags usage)
{
    VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    info.size = size;
    info.usage = usage;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    return info;
}

VkImageCreateInfo ImageInfo(uint32_t width, uint32_t height, uint32_t mipLevels, uint32_t arrayLayers,
                            VkFormat format, VkImageUsageFlags usage)
{
    VkImageCreateInfo info{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    info.imageType = VK_IMAGE_TYPE_2D;
    info.format = format;
    info.extent = {width, height, 1};
    info.mipLevels = mipLevels;
    info.arrayLayers = arrayLayers;
    info.samples = VK_SAMPLE_COUNT_1_BIT;
    info.tiling = VK_IMAGE_TILING_OPTIMAL;
    info.usage = usage;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    return info;
}

uint32_t FullMipCount(uint32_t width, uint32_t height)
{
    return static_cast<uint32_t>(std::bit_width(std::max(width, height)));
}

VkImageMemoryBarrier ColorImageBarrier(VkImage image, const LayoutTransition& transition, uint32_t mipLevels)
{
    VkImageMemoryBarrier barrier{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
    barrier.srcAccessMask = transition.srcAccessMask;
    barrier.dstAccessMask = transition.dstAccessMask;
    barrier.oldLayout = transition.oldLayout;
    barrier.newLayout = transition.newLayout;
    barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.image = image;
    barrier.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, mipLevels, 0, 1};
    return barrier;
}

std::string DetailedStatsString(VmaAllocator allocator)
{
    if (!allocator)
        return {};
    char* text = nullptr;
    vmaBuildStatsString(allocator, &text, VK_TRUE);
    std::string out = text ? text : "";
    vmaFreeStatsString(allocator, text);
    return out;
}

VkResult CreateForeignBuffer(const VkBufferCreateInfo& info, VmaAllocationCreateFlags flags, VkBuffer& buffer,
                             VmaAllocation& allocation)
{
    VmaAllocationCreateInfo createInfo{};
    createInfo.usage = VMA_MEMORY_USAGE_AUTO;
    createInfo.flags = flags;
    return vmaCreateBuffer(MemoryAllocator::GetAllocator(), &info, &createInfo, &buffer, &allocation,
                           nullptr);
}

} // namespace SceneryEditorX::Test
