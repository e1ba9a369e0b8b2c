#pragma once
// Vocabulary that every part of the memory system shares: the log tag, the kinds of resource, and
// how an allocation is named.

#include <SceneryEditorX/Memory/MemoryAllocator.h>

#include <cstdint>
#include <string>

namespace SceneryEditorX::detail
{

constexpr const char* kAllocTag = "VulkanAllocator";

enum class ResourceKind : uint8_t
{
    Buffer,
    Image
};
const char* KindName(ResourceKind kind);

/// "tag:name" (or "tag"), as VMA, the logs and debug-utils object names get it; control characters
/// become '?' (VMA's JSON writer asserts on them).
std::string AllocationName(const std::string& tag, const std::string& name);

} // namespace SceneryEditorX::detail
