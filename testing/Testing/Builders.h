#pragma once
// Builders of the Vulkan structs that tests and benchmarks fill again and again: buffer and image
// create infos with the defaults most of them want, and the one-image layout barrier. Each returns
// the struct by value; callers change a field afterwards where they need something else.

#include <vk_mem_alloc.h>

#include <cstdint>
#include <string>

namespace SceneryEditorX::Test
{

/// An exclusive buffer of `size` bytes.
VkBufferCreateInfo BufferInfo(VkDeviceSize size,
                              VkBufferUsageFlags usage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT);

/// A 2D, optimal-tiling, single-sample, exclusive image in UNDEFINED layout.
VkImageCreateInfo ImageInfo(uint32_t width, uint32_t height, uint32_t mipLevels = 1, uint32_t arrayLayers = 1,
                            VkFormat format = VK_FORMAT_R8G8B8A8_UNORM,
                            VkImageUsageFlags usage = VK_IMAGE_USAGE_SAMPLED_BIT);

/// The mip count of a full chain down to 1x1.
uint32_t FullMipCount(uint32_t width, uint32_t height);

/// A layout change of a whole colour image (every mip of layer 0), no queue family transfer.
struct LayoutTransition
{
    VkImageLayout oldLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    VkImageLayout newLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    VkAccessFlags srcAccessMask = 0;
    VkAccessFlags dstAccessMask = 0;
};
VkImageMemoryBarrier ColorImageBarrier(VkImage image, const LayoutTransition& transition,
                                       uint32_t mipLevels = 1);

/// VMA's detailed JSON statistics of `allocator` (vmaBuildStatsString with the detailed map), or ""
/// when `allocator` is null.
std::string DetailedStatsString(VmaAllocator allocator);

/// Creates a buffer through the raw VMA escape hatch (MemoryAllocator::GetAllocator(), usage AUTO
/// with `flags`): an allocation the system does not own. On success writes `buffer` and
/// `allocation`; the caller frees them with vmaDestroyBuffer. Needs an initialized allocator.
VkResult CreateForeignBuffer(const VkBufferCreateInfo& info, VmaAllocationCreateFlags flags, VkBuffer& buffer,
                             VmaAllocation& allocation);

} // namespace SceneryEditorX::Test
