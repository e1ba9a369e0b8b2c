#pragma once
// Argument checks that run before VMA or the driver sees a request. Each returns an empty string
// when the argument is acceptable, or a sentence that says what is wrong.

#include "MemoryCommon.h"

#include <string>

namespace SceneryEditorX::detail
{
class MemorySystem;

std::string ValidateAllocationCreateInfo(const AllocationCreateInfo& info);
std::string ValidateBufferCreateInfo(const MemorySystem& system, const VkBufferCreateInfo& info);
/// The limit a buffer of `size` bytes exceeds ("maxMemoryAllocationSize" or "the largest heap"),
/// with its value in `limit`, or null when the size fits both.
const char* ExceededBufferSizeLimit(const MemorySystem& system, VkDeviceSize size, VkDeviceSize& limit);
/// Also checks format/usage support; `outUsage` receives the usage to create with (the caller's,
/// plus TRANSFER_SRC|DST when the settings ask for it and the format supports it).
std::string ValidateImageCreateInfo(const MemorySystem& system, const VkImageCreateInfo& info,
                                    VkImageUsageFlags& outUsage);
bool IsAutoUsage(VmaMemoryUsage usage);
const char* MemoryUsageName(VmaMemoryUsage usage);
} // namespace SceneryEditorX::detail
