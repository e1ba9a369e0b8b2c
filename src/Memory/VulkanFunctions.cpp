// The Vulkan function table given to VMA. With AllocatorSettings::enableFaultInjection the entry
// points that can fail for lack of memory go through FaultInjection first (tests only).
#include "VulkanFunctions.h"

#include <SceneryEditorX/Vulkan/FaultInjection.h>

namespace SceneryEditorX::detail
{
namespace
{
using FaultInjection::Check;
using FaultInjection::Point;

VKAPI_ATTR VkResult VKAPI_CALL HookedAllocateMemory(VkDevice device, const VkMemoryAllocateInfo* info,
                                                    const VkAllocationCallbacks* callbacks,
                                                    VkDeviceMemory* memory)
{
    if (VkResult r = Check(Point::AllocateMemory); r != VK_SUCCESS)
        return r;
    return vkAllocateMemory(device, info, callbacks, memory);
}

VKAPI_ATTR VkResult VKAPI_CALL HookedCreateBuffer(VkDevice device, const VkBufferCreateInfo* info,
                                                  const VkAllocationCallbacks* callbacks, VkBuffer* buffer)
{
    if (VkResult r = Check(Point::CreateBuffer); r != VK_SUCCESS)
        return r;
    return vkCreateBuffer(device, info, callbacks, buffer);
}

VKAPI_ATTR VkResult VKAPI_CALL HookedCreateImage(VkDevice device, const VkImageCreateInfo* info,
                                                 const VkAllocationCallbacks* callbacks, VkImage* image)
{
    if (VkResult r = Check(Point::CreateImage); r != VK_SUCCESS)
        return r;
    return vkCreateImage(device, info, callbacks, image);
}

VKAPI_ATTR VkResult VKAPI_CALL HookedBindBufferMemory(VkDevice device, VkBuffer buffer, VkDeviceMemory memory,
                                                      VkDeviceSize offset)
{
    if (VkResult r = Check(Point::BindBufferMemory); r != VK_SUCCESS)
        return r;
    return vkBindBufferMemory(device, buffer, memory, offset);
}

VKAPI_ATTR VkResult VKAPI_CALL HookedBindBufferMemory2(VkDevice device, uint32_t count,
                                                       const VkBindBufferMemoryInfo* infos)
{
    if (VkResult r = Check(Point::BindBufferMemory); r != VK_SUCCESS)
        return r;
    return vkBindBufferMemory2(device, count, infos);
}

VKAPI_ATTR VkResult VKAPI_CALL HookedBindImageMemory(VkDevice device, VkImage image, VkDeviceMemory memory,
                                                     VkDeviceSize offset)
{
    if (VkResult r = Check(Point::BindImageMemory); r != VK_SUCCESS)
        return r;
    return vkBindImageMemory(device, image, memory, offset);
}

thread_local DeferredMemoryFrees* t_Deferring = nullptr;

// Always in the table: a block VMA frees inside a defragmentation pass's locks is kept until the
// pass has released them (DeferredMemoryFrees).
VKAPI_ATTR void VKAPI_CALL HookedFreeMemory(VkDevice device, VkDeviceMemory memory,
                                            const VkAllocationCallbacks* callbacks)
{
    if (t_Deferring && callbacks == nullptr)
    {
        DeferMemoryFree(device, memory);
        return;
    }
    vkFreeMemory(device, memory, callbacks);
}

VKAPI_ATTR VkResult VKAPI_CALL HookedBindImageMemory2(VkDevice device, uint32_t count,
                                                      const VkBindImageMemoryInfo* infos)
{
    if (VkResult r = Check(Point::BindImageMemory); r != VK_SUCCESS)
        return r;
    return vkBindImageMemory2(device, count, infos);
}
} // namespace

VmaVulkanFunctions VmaFunctionTable(bool faultInjection)
{
    // Members left null are imported statically by VMA (VMA_STATIC_VULKAN_FUNCTIONS).
    VmaVulkanFunctions f{};
    f.vkFreeMemory = &HookedFreeMemory;
    if (faultInjection)
    {
        f.vkAllocateMemory = &HookedAllocateMemory;
        f.vkCreateBuffer = &HookedCreateBuffer;
        f.vkCreateImage = &HookedCreateImage;
        f.vkBindBufferMemory = &HookedBindBufferMemory;
        f.vkBindImageMemory = &HookedBindImageMemory;
        f.vkBindBufferMemory2KHR = &HookedBindBufferMemory2;
        f.vkBindImageMemory2KHR = &HookedBindImageMemory2;
    }
    return f;
}

VkResult CreateBufferChecked(VkDevice device, const VkBufferCreateInfo& info, VkBuffer& out)
{
    if (VkResult r = Check(Point::CreateBuffer); r != VK_SUCCESS)
        return r;
    return vkCreateBuffer(device, &info, nullptr, &out);
}

VkResult CreateImageChecked(VkDevice device, const VkImageCreateInfo& info, VkImage& out)
{
    if (VkResult r = Check(Point::CreateImage); r != VK_SUCCESS)
        return r;
    return vkCreateImage(device, &info, nullptr, &out);
}

void DeferMemoryFree(VkDevice device, VkDeviceMemory memory)
{
    t_Deferring->m_Kept.emplace_back(device, memory);
}

DeferredMemoryFrees::DeferredMemoryFrees() : m_Previous(t_Deferring), m_Active(true)
{
    t_Deferring = this;
}

DeferredMemoryFrees::~DeferredMemoryFrees()
{
    Stop();
    FreeAll();
}

void DeferredMemoryFrees::Stop()
{
    if (!m_Active)
        return;
    m_Active = false;
    t_Deferring = m_Previous;
}

size_t DeferredMemoryFrees::FreeAll()
{
    const size_t n = m_Kept.size();
    for (const auto& [device, memory] : m_Kept)
        vkFreeMemory(device, memory, nullptr);
    m_Kept.clear();
    return n;
}
} // namespace SceneryEditorX::detail
