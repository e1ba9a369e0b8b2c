// The one translation unit that defines VMA_IMPLEMENTATION. VMA's assertions and leak log are
// routed to our logger here: a VMA_ASSERT that fires is a bug in this library (users' mistakes are
// caught by our argument checks first), so it logs and aborts in debug and test builds.
// The program's only VMA: cmake/vk_mem_alloc.h refuses VMA_IMPLEMENTATION in any other unit.
#include "VmaImplementation.h"

#include <SceneryEditorX/Core/Assert.h>
#include <SceneryEditorX/Core/Log.h>

#include <cstdio>

namespace SceneryEditorX::detail
{
inline void VmaAssertFailed(const char* expr, const char* file, int line)
{
    ReportCheckFailure("VMA_ASSERT", expr, file, line, "internal error in the memory system",
                       SEDX_ENABLE_ASSERTS != 0);
}
} // namespace SceneryEditorX::detail

#define VMA_ASSERT(expr)                                                                                     \
    do                                                                                                       \
    {                                                                                                        \
        if (!(expr))                                                                                         \
            ::SceneryEditorX::detail::VmaAssertFailed(#expr, __FILE__, __LINE__);                            \
    } while (false)
#define VMA_HEAVY_ASSERT(expr) ((void)0)
// VMA prints leaked allocations at vmaDestroyAllocator through this macro.
#define VMA_LEAK_LOG_FORMAT(format, ...)                                                                     \
    do                                                                                                       \
    {                                                                                                        \
        char sedxVmaBuffer[512];                                                                             \
        std::snprintf(sedxVmaBuffer, sizeof(sedxVmaBuffer), format, __VA_ARGS__);                            \
        ::SceneryEditorX::Log::Write(::SceneryEditorX::LogLevel::Error, "VMA", sedxVmaBuffer);               \
    } while (false)
#define VMA_STATIC_VULKAN_FUNCTIONS 1
#define VMA_DYNAMIC_VULKAN_FUNCTIONS 0
#define SEDX_VMA_LIBRARY_UNIT
#define VMA_IMPLEMENTATION
#include <vk_mem_alloc.h>

namespace SceneryEditorX::detail
{
VkResult CreateLibraryVmaAllocator(const VmaAllocatorCreateInfo& info, VmaAllocator& allocator)
{
    return vmaCreateAllocator(&info, &allocator);
}
} // namespace SceneryEditorX::detail
