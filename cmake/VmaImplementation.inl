// VMA's implementation with SceneryEditorX::Memory's configuration: the program's one VMA unit.
// Installed as <SceneryEditorX/vma/VmaImplementation.inl>, beside the VMA header it compiles.
//
// Include it in exactly one .cpp file, which includes nothing else (README, 'VMA in the application'):
// - SceneryEditorX::Memory does, in its own VMA unit (src/Memory/VmaImplementation.cpp);
// - an application that links SceneryEditorX::MemoryAppVma instead does, in one of its own files.
//   The library then has no VMA of its own, and the application's vma* functions and the library's
//   are this unit's.
// VMA is compiled from the header beside this file (a path relative to it, so another vk_mem_alloc.h
// on the include path is never used), with the configuration below, which is the library's in both
// cases. The unit defines SEDX_VMA_UNIT_ENTRY, named after the header's version and hash: a library
// built from another VMA header does not link with it.
#ifdef SEDX_VMA_IMPLEMENTATION_UNIT
#error "<SceneryEditorX/vma/VmaImplementation.inl> is included twice in this unit"
#endif
#ifdef VMA_IMPLEMENTATION
#error                                                                                                       \
    "Do not define VMA_IMPLEMENTATION: <SceneryEditorX/vma/VmaImplementation.inl> compiles VMA's implementation"
#endif
#if defined(AMD_VULKAN_MEMORY_ALLOCATOR_H) && !defined(SEDX_VMA_UNIT_ENTRY)
#error                                                                                                       \
    "Another vk_mem_alloc.h came first in this unit: include <SceneryEditorX/vma/VmaImplementation.inl> in a .cpp file of its own"
#endif
#if defined(VMA_ASSERT) || defined(VMA_HEAVY_ASSERT) || defined(VMA_LEAK_LOG_FORMAT) ||                      \
    defined(VMA_STATIC_VULKAN_FUNCTIONS) || defined(VMA_DYNAMIC_VULKAN_FUNCTIONS)
#error "VMA's configuration macros are SceneryEditorX::Memory's: do not define them in this unit"
#endif

#include <cstdio>

namespace SceneryEditorX::detail
{
// Defined in the library (src/Memory/VmaHooks.cpp), so that both kinds of VMA unit report to the
// library's logger and follow the library's assertion setting. A VMA_ASSERT that fires is a bug in
// the library (users' mistakes are caught by its argument checks first): it logs, and aborts in
// builds of the library with assertions on.
void VmaAssertFailed(const char* expression, const char* file, int line);
// VMA's leak report at vmaDestroyAllocator, one line per call.
void VmaLeakLog(const char* line);
} // namespace SceneryEditorX::detail

#define VMA_ASSERT(expr)                                                                                     \
    do                                                                                                       \
    {                                                                                                        \
        if (!(expr))                                                                                         \
            ::SceneryEditorX::detail::VmaAssertFailed(#expr, __FILE__, __LINE__);                            \
    } while (false)
#define VMA_HEAVY_ASSERT(expr) ((void)0)
#define VMA_LEAK_LOG_FORMAT(format, ...)                                                                     \
    do                                                                                                       \
    {                                                                                                        \
        char sedxVmaBuffer[512];                                                                             \
        std::snprintf(sedxVmaBuffer, sizeof(sedxVmaBuffer), format, __VA_ARGS__);                            \
        ::SceneryEditorX::detail::VmaLeakLog(sedxVmaBuffer);                                                 \
    } while (false)
#define VMA_STATIC_VULKAN_FUNCTIONS 1
#define VMA_DYNAMIC_VULKAN_FUNCTIONS 0
#define SEDX_VMA_IMPLEMENTATION_UNIT
#define VMA_IMPLEMENTATION
#include "vk_mem_alloc.h"

static_assert(
    VMA_VERSION == VK_MAKE_VERSION(SEDX_VMA_VERSION_MAJOR, SEDX_VMA_VERSION_MINOR, SEDX_VMA_VERSION_PATCH),
    "vk_mem_alloc.h and upstream/vk_mem_alloc.h of SceneryEditorX::Memory come from different VMAs");

extern "C" VkResult SEDX_VMA_UNIT_ENTRY(const VmaAllocatorCreateInfo* info, VmaAllocator* allocator)
{
#ifndef SEDX_VMA_LIBRARY_UNIT
    // An application's unit: only SceneryEditorX::MemoryAppVma defines this (see vk_mem_alloc.h).
    if (SEDX_VMA_APP_VARIANT_MARKER != 1)
        return VK_ERROR_INITIALIZATION_FAILED;
#endif
    return vmaCreateAllocator(info, allocator);
}
