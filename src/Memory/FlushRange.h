#pragma once
// The one place where flush/invalidate ranges are rounded to nonCoherentAtomSize.

#include <vulkan/vulkan.h>

namespace SceneryEditorX::detail
{
/// A range inside one VkDeviceMemory.
struct MemoryRange
{
    VkDeviceSize offset = 0;
    VkDeviceSize size = 0;
};

/// Rounds [offset, offset+size) of an allocation that starts at `allocationOffset` inside a memory
/// object of `memorySize` bytes outward to multiples of `atomSize`, clamped to the memory object.
/// `size` may be VK_WHOLE_SIZE (to the end of the allocation). Returns a zero-size range when
/// `offset` is past the allocation. `atomSize` must be a power of two (the Vulkan limit is).
MemoryRange RoundToAtoms(VkDeviceSize allocationOffset, VkDeviceSize allocationSize, VkDeviceSize offset,
                         VkDeviceSize size, VkDeviceSize atomSize, VkDeviceSize memorySize);
} // namespace SceneryEditorX::detail
