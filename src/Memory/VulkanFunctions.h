#pragma once
// The Vulkan functions VMA gets, and the system's own resource creation, with the fault-injection
// hooks (VulkanFunctions.cpp).

#include "MemoryCommon.h"

namespace SceneryEditorX::detail
{
VmaVulkanFunctions VmaFunctionTable(bool faultInjection);
VkResult CreateBufferChecked(VkDevice device, const VkBufferCreateInfo& info, VkBuffer& out);
VkResult CreateImageChecked(VkDevice device, const VkImageCreateInfo& info, VkImage& out);
} // namespace SceneryEditorX::detail
