#include "FlushRange.h"

#include <algorithm>

namespace SceneryEditorX::detail
{
MemoryRange RoundToAtoms(VkDeviceSize allocationOffset, VkDeviceSize allocationSize, VkDeviceSize offset,
                         VkDeviceSize size, VkDeviceSize atomSize, VkDeviceSize memorySize)
{
    if (offset >= allocationSize || atomSize == 0)
        return {};
    const VkDeviceSize available = allocationSize - offset;
    const VkDeviceSize length = size == VK_WHOLE_SIZE ? available : std::min(size, available);
    if (length == 0)
        return {};
    const VkDeviceSize mask = atomSize - 1;
    const VkDeviceSize begin = (allocationOffset + offset) & ~mask;
    VkDeviceSize end = (allocationOffset + offset + length + mask) & ~mask;
    end = std::min(end, memorySize);
    return {begin, end - begin};
}
} // namespace SceneryEditorX::detail
