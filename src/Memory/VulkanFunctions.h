#pragma once
// The Vulkan functions VMA gets, and the system's own resource creation, with the fault-injection
// hooks (VulkanFunctions.cpp).

#include "MemoryCommon.h"

#include <utility>
#include <vector>

namespace SceneryEditorX::detail
{
VmaVulkanFunctions VmaFunctionTable(bool faultInjection);
VkResult CreateBufferChecked(VkDevice device, const VkBufferCreateInfo& info, VkBuffer& out);
VkResult CreateImageChecked(VkDevice device, const VkImageCreateInfo& info, VkImage& out);

void DeferMemoryFree(VkDevice device, VkDeviceMemory memory);

/// The blocks VMA frees on this thread while one lives are kept, not freed: a defragmentation pass
/// ends VMA's passes under the registry's locks, and frees the emptied blocks (FreeAll) once they
/// are released. VMA has already dropped the blocks from its books; only vkFreeMemory waits.
class DeferredMemoryFrees
{
public:
    DeferredMemoryFrees();
    ~DeferredMemoryFrees(); // stops deferring; frees what is left
    DeferredMemoryFrees(const DeferredMemoryFrees&) = delete;
    DeferredMemoryFrees& operator=(const DeferredMemoryFrees&) = delete;
    /// Stops deferring on this thread (the blocks kept stay kept).
    void Stop();
    /// Frees the blocks kept so far; returns how many.
    size_t FreeAll();

private:
    friend void DeferMemoryFree(VkDevice device, VkDeviceMemory memory);
    std::vector<std::pair<VkDevice, VkDeviceMemory>> m_Kept;
    DeferredMemoryFrees* m_Previous = nullptr;
    bool m_Active = false;
};
} // namespace SceneryEditorX::detail
