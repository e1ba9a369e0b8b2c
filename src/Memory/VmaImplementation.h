#pragma once
// The library's own VMA unit (VmaImplementation.cpp), as the rest of the library reaches it.

#include <vk_mem_alloc.h>

namespace SceneryEditorX::detail
{
/// vmaCreateAllocator of the library's VMA. Init creates its allocator through this, so the
/// library's VMA unit is always linked: an application that compiles VMA's functions itself then
/// fails to link ("multiple definition of vma...") instead of silently replacing the library's VMA.
VkResult CreateLibraryVmaAllocator(const VmaAllocatorCreateInfo& info, VmaAllocator& allocator);
} // namespace SceneryEditorX::detail
