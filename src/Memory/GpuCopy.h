#pragma once
// The one GPU-copy helper: barriers, mip extents and copy regions, shared by uploads, readbacks and
// defragmentation.

#include <vulkan/vulkan.h>

#include <algorithm>
#include <vector>

namespace SceneryEditorX::detail
{

/// Bytes per texel of the uncompressed formats the upload path handles; 0 for the others.
uint32_t TexelSize(VkFormat format);
/// The aspects of a format (depth, stencil or colour).
VkImageAspectFlags AspectOf(VkFormat format);
/// The extent of one mip level.
inline VkExtent3D MipExtent(const VkImageCreateInfo& info, uint32_t level)
{
    return {std::max(1u, info.extent.width >> level), std::max(1u, info.extent.height >> level),
            std::max(1u, info.extent.depth >> level)};
}
/// Tightly packed bytes of all mips and layers (0 for formats TexelSize does not know).
VkDeviceSize ImageDataSize(const VkImageCreateInfo& info);

/// Moves every mip and layer of `image` from `from` to `to` (all prior writes visible after it).
void ImageBarrier(VkCommandBuffer cmd, VkImage image, const VkImageCreateInfo& info, VkImageLayout from,
                  VkImageLayout to);
/// Makes all prior memory writes visible to all later reads and writes.
void MemoryBarrier(VkCommandBuffer cmd);

/// Regions of a buffer <-> image copy of all mips, the levels packed one after the other.
std::vector<VkBufferImageCopy> BufferImageRegions(const VkImageCreateInfo& info);
/// Records an image -> image copy of all mips and layers: `source` goes from `layout` to
/// TRANSFER_SRC_OPTIMAL (and stays there: it is being retired), `destination`'s old contents are
/// discarded and it ends in `layout`.
void CopyWholeImage(VkCommandBuffer cmd, VkImage source, VkImage destination, const VkImageCreateInfo& info,
                    VkImageLayout layout);

} // namespace SceneryEditorX::detail
