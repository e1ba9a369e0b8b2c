#pragma once
// The program's VMA unit, as the rest of the library reaches it: the library's own
// (VmaImplementation.cpp, in SceneryEditorX::Memory) or the application's (SceneryEditorX::MemoryAppVma).

#include <vk_mem_alloc.h>

namespace SceneryEditorX::detail
{
/// vmaCreateAllocator of the program's VMA unit. Init creates its allocator through this, so the
/// library references the unit by a name that carries the version and hash of the VMA header it
/// was built with (SEDX_VMA_UNIT_ENTRY, cmake/vk_mem_alloc.h.in): with SceneryEditorX::Memory the
/// library's VMA unit is always linked (an application that compiles VMA's functions itself then
/// fails to link, "multiple definition of vma..."); with SceneryEditorX::MemoryAppVma a program
/// without the application's unit, or with one from another VMA header, fails to link on this name.
inline VkResult CreateVmaUnitAllocator(const VmaAllocatorCreateInfo& info, VmaAllocator& allocator)
{
    return SEDX_VMA_UNIT_ENTRY(&info, &allocator);
}
} // namespace SceneryEditorX::detail
